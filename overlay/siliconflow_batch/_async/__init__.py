"""Every I/O loop of the package, written once: the async source of ``_sync/``.

``_sync/`` is generated from this folder by ``scripts/unasync.py`` (``--check`` runs in ``scripts/test``):
edit here only.
"""
