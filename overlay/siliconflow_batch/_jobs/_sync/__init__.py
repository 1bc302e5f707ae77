# Generated from _async/__init__.py by scripts/unasync.py: edit that file, not this one.
"""The job's engine, handle and recovery, written once, async; ``_sync/`` is generated from here."""
