"""Benchmarks: calibrate and freeze a bench, review and export it, run policies on it, and report with intervals."""
