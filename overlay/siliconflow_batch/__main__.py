"""``python -m siliconflow_batch``: the same as the ``siliconflow-batch`` command."""

from .cli import run

run()
