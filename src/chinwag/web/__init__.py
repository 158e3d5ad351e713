"""HTTP transport: parse, authenticate, make one service call, serialize. Nothing else."""
