"""Benchmarks: not timed tests. Run with ``.venv/bin/python -m tests.benchmarks.run``.

The normal test run ignores this package (pytest ``--ignore=tests/benchmarks``); the
always-run ``tests/unit/test_benchmark_smoke.py`` drives the harness at a tiny size so it
cannot rot.
"""
