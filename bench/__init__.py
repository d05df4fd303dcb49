"""Benchmarks (not tests). A package only so gunicorn can import ``bench.settings_bench``."""
