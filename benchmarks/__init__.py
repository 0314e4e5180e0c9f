"""Measured claims: each module is runnable as ``python -m benchmarks.<name>``."""
