"""Benchmarks (not tests): `make bench` or `python -m bench`; see bench/__main__.py and
bench/RESULTS.md. Nothing here is collected by pytest (the test command runs tests/)."""
