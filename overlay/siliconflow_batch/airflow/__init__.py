"""Run jobs from Apache Airflow 3: a connection type and hook, a deferrable operator and its trigger.

>>> from siliconflow_batch.airflow import SiliconFlowJobOperator
>>> SiliconFlowJobOperator(task_id="nightly", input="s3://bucket/prompts.jsonl", output="s3://bucket/out.jsonl")

Needs the ``airflow`` extra (``pip install 'siliconflow-batch[airflow]'``). The names load on first use, so that
Airflow's provider discovery (``get_provider_info``) imports nothing of Airflow's.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .hooks import SiliconFlowHook
    from .operators import SiliconFlowJobOperator
    from .provider import get_provider_info
    from .triggers import SiliconFlowJobTrigger

__all__ = ["SiliconFlowHook", "SiliconFlowJobOperator", "SiliconFlowJobTrigger", "get_provider_info"]

_SOURCES = {
    "SiliconFlowHook": ".hooks",
    "SiliconFlowJobOperator": ".operators",
    "SiliconFlowJobTrigger": ".triggers",
    "get_provider_info": ".provider",
}


def __getattr__(name: str) -> Any:
    source = _SOURCES.get(name)
    if source is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        value = getattr(import_module(source, __name__), name)
    except ModuleNotFoundError as missing:
        if missing.name is None or missing.name.split(".")[0] != "airflow":
            raise
        raise ImportError(
            f"siliconflow_batch.airflow.{name} needs Apache Airflow 3: pip install 'siliconflow-batch[airflow]'"
        ) from missing
    globals()[name] = value
    return value
