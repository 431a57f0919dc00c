"""Shared code of the benchmarks in ``bench/``; the scripts beside this package are the
benchmarks (``make bench`` runs ``bench/*.py``, not what is in here)."""
