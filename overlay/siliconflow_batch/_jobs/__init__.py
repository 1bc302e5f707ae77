"""The job subsystem behind ``client.jobs``: a workload of any size, with one result per request, in input order.

- ``ledger``: the job's durable state, the only module with SQL; the shard lifecycle (``ShardState``) and one
  method per transition, each keeping the tallies a status counts; result lines pointed to where the downloaded
  files hold them.
- ``input``: the input read once into the job directory (each line checked, estimated and put in its shard of the
  first cut as it is read), and the later cuts, under the vendor's limits.
- ``settings``: the job's settings, checked once, and the cut's plan; ``tags``: what ties its batches to it (the
  metadata each carries, the idempotency key of its create).
- ``calls``: the options of ``submit``, ``run``, ``wait`` and ``step``, each with its default.
- ``money``: the job's prices, its estimate, what it spent and committed (the cap's arithmetic).
- ``outcomes``: which outcomes are sent again, and the ingest of a shard's result files.
- ``status``: ``JobStatus``, read from the ledger.
- ``_async/``: the engine (one round: send, poll, collect, cut), the handle (``AsyncJob``) and recovery;
  ``_sync/`` is generated from it. The resource (``client.jobs``) is ``siliconflow_batch/_async/jobs.py``,
  beside the client's other resources.
"""
