"""Benchmarks for langlearn: ``python -m bench`` (or ``python -m bench --quick``).

Starts what it measures on this machine (a throw-away database on the embedded
PostgreSQL, gunicorn, the Procrastinate worker), prints one JSON object of
figures and removes everything it started. docs/benchmarks.md explains how to
read the figures.
"""
