"""The Airflow layer (a package, so that its conftest is not a second top-level `conftest` module)."""
