"""The ``siliconflow`` connection type and its hook: our client, from an Airflow connection."""

from __future__ import annotations

from typing import Any

from airflow.sdk import BaseHook

from siliconflow_batch import DEFAULT_MAX_RETRIES, AsyncSiliconFlow, SiliconFlow, SiliconFlowError

__all__ = ["SiliconFlowHook"]


class SiliconFlowHook(BaseHook):
    """Clients for the SiliconFlow Batch API from an Airflow connection of type ``siliconflow``.

    The connection's password is the API key; its host is the base URL (``https://api.siliconflow.cn/v1`` when
    empty; a bare host name gets ``https://`` and ``/v1``, its port and its schema as the path when given). The
    extra may set ``timeout`` (seconds) and ``max_retries``. The key is handed to the client only: it is in no
    log line, repr or error message of the hook.
    """

    conn_name_attr = "siliconflow_conn_id"
    default_conn_name = "siliconflow_default"
    conn_type = "siliconflow"
    hook_name = "SiliconFlow"

    def __init__(self, siliconflow_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.siliconflow_conn_id: str = siliconflow_conn_id

    def __repr__(self) -> str:
        return f"SiliconFlowHook(siliconflow_conn_id={self.siliconflow_conn_id!r})"

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """How the connection form shows this type: the key as the password, the base URL as the host."""
        return {
            "hidden_fields": ["login", "port", "schema"],
            "relabeling": {"password": "API Key", "host": "Base URL"},
            "placeholders": {"host": "https://api.siliconflow.cn/v1", "extra": '{"timeout": 120, "max_retries": 2}'},
        }

    def get_conn(self) -> SiliconFlow:
        """A sync client on the connection (close it, or use it as a context manager)."""
        return SiliconFlow(**self._settings(self.get_connection(self.siliconflow_conn_id)))

    async def get_async_conn(self) -> AsyncSiliconFlow:
        """An async client on the connection, the connection read without blocking the event loop."""
        connection = await self.aget_connection(self.siliconflow_conn_id)
        return AsyncSiliconFlow(**self._settings(connection))

    def test_connection(self) -> tuple[bool, str]:
        """Airflow's "Test" button: reads the account (the balance that pays for batches) with the connection."""
        try:
            with self.get_conn() as client:
                account = client.account.retrieve()
        except SiliconFlowError as error:  # its message never quotes the key
            return False, str(error)
        return True, f"connected; recharged balance {account.charge_balance}"

    def _settings(self, connection: Any) -> dict[str, Any]:
        extra = connection.extra_dejson if connection.extra else {}
        settings: dict[str, Any] = {
            "api_key": connection.password or None,  # None: SILICONFLOW_API_KEY, as for the client
            "base_url": _base_url(connection.host, connection.port, connection.schema),
            "max_retries": int(extra.get("max_retries", DEFAULT_MAX_RETRIES)),
        }
        if "timeout" in extra:
            settings["timeout"] = float(extra["timeout"])
        return settings


def _base_url(host: str | None, port: int | None = None, schema: str | None = None) -> str | None:
    """The base URL a connection names: its host when that is a URL, else built from host, port and schema.

    None (the client's default, or ``SILICONFLOW_BASE_URL``) for a connection without a host.
    """
    if not host:
        return None
    if "://" in host:
        return host.rstrip("/")
    netloc = f"{host}:{port}" if port else host
    return f"https://{netloc}/{(schema or 'v1').strip('/')}"
