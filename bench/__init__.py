"""Benchmarks for dbt Workbench: each ratio measured against its floor, numbers to bench/results/.

Run with `make bench` (or, in the activated `.venv`, `python -m bench --help`). Never imported
by tests: timings are reported as information, never asserted.
"""
