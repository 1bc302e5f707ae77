"""A local emulator of the SiliconFlow Batch API, for tests and demos.

>>> from siliconflow_batch import SiliconFlow
>>> from siliconflow_batch.testing import Emulator
>>> emulator = Emulator(stage_seconds=0.01)
>>> client = SiliconFlow(api_key=emulator.api_key, base_url="http://emulator/v1",
...                      http_client=httpx.Client(transport=emulator.transport()))

or, over a real socket: ``with emulator.serve() as server: SiliconFlow(base_url=server.url, ...)``.
:class:`VirtualClock` makes the client's waits (and the emulator's batches) run on virtual time.
It speaks the vendor's wire format (envelopes, ``createdAt``, plain-text 404s, ``in_queue``), needs the
``emulator`` extra (``pip install 'siliconflow-batch[emulator]'``), and can inject faults (:class:`Faults`).
It is as strict as the vendor by default (input files not served back, result files as signed URLs on another
origin, ``""`` for no file, 402 on a create without balance); :class:`Emulator` lists the lenient options.
"""

try:  # the emulator extra: h11 (HTTP parsing) and python-multipart (streamed uploads)
    import h11  # noqa: F401
    import python_multipart  # noqa: F401
except ImportError as missing:  # pragma: no cover - exercised by the wheel test
    raise ImportError(
        f"siliconflow_batch.testing needs {missing.name}: pip install 'siliconflow-batch[emulator]'"
    ) from missing

from ._answer import EmulatedResponse
from ._app import FAULT_KINDS, Emulator, Faults
from ._clock import VirtualClock
from ._engine import DEFAULT_MODELS
from ._server import RunningServer

__all__ = ["DEFAULT_MODELS", "FAULT_KINDS", "EmulatedResponse", "Emulator", "Faults", "RunningServer", "VirtualClock"]
