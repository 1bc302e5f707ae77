"""What Airflow's provider discovery reads of this package (the ``apache_airflow_provider`` entry point)."""

from __future__ import annotations

from typing import Any

__all__ = ["get_provider_info"]


def get_provider_info() -> dict[str, Any]:
    """The provider's description for Airflow: its connection type (``siliconflow``), hook, operator and trigger.

    Airflow calls it through the package's ``apache_airflow_provider`` entry point, so that the ``siliconflow``
    connection type shows in the UI with its fields (the API key as the password, the base URL as the host).
    """
    return {
        "package-name": "siliconflow-batch",
        "name": "SiliconFlow Batch",
        "description": "Run SiliconFlow Batch API jobs from Airflow: a deferrable operator that survives retries.",
        "connection-types": [
            {"connection-type": "siliconflow", "hook-class-name": "siliconflow_batch.airflow.hooks.SiliconFlowHook"}
        ],
        "hook-class-names": ["siliconflow_batch.airflow.hooks.SiliconFlowHook"],
        "operators": [
            {"integration-name": "SiliconFlow Batch", "python-modules": ["siliconflow_batch.airflow.operators"]}
        ],
        "triggers": [
            {"integration-name": "SiliconFlow Batch", "python-modules": ["siliconflow_batch.airflow.triggers"]}
        ],
        "hooks": [{"integration-name": "SiliconFlow Batch", "python-modules": ["siliconflow_batch.airflow.hooks"]}],
        "integrations": [{"integration-name": "SiliconFlow Batch"}],
    }
