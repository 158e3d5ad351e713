"""Pure rules of Chinwag: no I/O, no SQL, no asyncio, no web framework. Tested with tables."""
