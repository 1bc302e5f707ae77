"""The Airflow layer: run in .venv-airflow by scripts/test (never skipped there); left out where Airflow is not.

Not tests/airflow: with tests/ on sys.path (pyproject.toml), that folder would pass for Airflow's package.
Airflow reads its home and settings when first imported, so they are set here, before any test imports it: a
metadata database (SQLite) and a DAG folder of this session's own, no examples.
"""

from __future__ import annotations

import importlib.util
import os
import tempfile
from pathlib import Path

import pytest

if importlib.util.find_spec("airflow") is None:
    if os.environ.get("SILICONFLOW_AIRFLOW_TESTS") == "1":  # scripts/test's Airflow step: never a silent skip
        raise RuntimeError("tests/airflow: apache-airflow is not importable in this environment")
    collect_ignore_glob = ["test_*.py"]  # .venv: the Airflow layer runs in .venv-airflow
else:
    HOME = Path(tempfile.mkdtemp(prefix="sfb-airflow-home-"))
    (HOME / "dags").mkdir()
    os.environ.update(
        {
            "AIRFLOW_HOME": str(HOME),
            "AIRFLOW__CORE__DAGS_FOLDER": str(HOME / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{HOME / 'airflow.db'}",
        }
    )


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """A fresh Airflow metadata database for the session; the DAG folder's path."""
    from airflow.utils import db

    db.resetdb()
    return Path(os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
