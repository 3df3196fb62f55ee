"""Benchmarks for issue #9: ``python -m bench [--quick] [--db sqlite|postgresql|both]``.

Servers run under uvicorn pinned to core 0, the load (wrk) to core 1; every figure is
printed as a ratio to baselines measured in the same run (a bare Starlette hello-world
under the same server settings, raw sqlite3 and psycopg commit loops). See docs/bench.md.
"""
