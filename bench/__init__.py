"""Benchmarks against the goals of the performance issue, each beside a baseline of the same run.

Run ``python -m bench`` (all), ``python -m bench NAME`` (one) or add ``--quick`` for small sizes.
Every benchmark gets a fresh world (database, topic prefix, namespace) and removes it afterwards,
so it neither sees nor leaves anyone's data. A figure is only meaningful next to its baseline:
both are measured on this machine, in this run, with the same servers.
"""
