"""Storage benchmarks against the targets of BRIEF section 7.

Each benchmark module is runnable (``python -m bench.history``, ``python -m bench.inbox``), seeds a
scratch database, times the real service calls next to a bare-SQL peer in the same run, prints a
table and records the result under ``bench/results/`` (git-ignored). See ``bench/README.md``.
"""
