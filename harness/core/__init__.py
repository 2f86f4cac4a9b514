"""The bottom layer: errors, hashing, file I/O, protocols, statistics, the task registry and the DAG engine.

Nothing here imports another statbench package (``lint-imports`` enforces it).
"""
