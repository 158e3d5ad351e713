"""Use cases: the only writers and the only publishers of events, which go out after commit."""
