"""The job's engine, handle and recovery, written once, async; ``_sync/`` is generated from here."""
