"""The ``siliconflow-batch`` command: validate, upload, submit, wait, fetch results, run jobs and the emulator.

Exit codes: 0 done; 1 an API error, a batch that ended failed, expired or cancelled, a cancelled job,
results asked of a batch or job still running, or with --fail-on-errors a request that ended failed; 2 bad
usage or input (with the validation report), a job directory given another input or holding no job; 130
interrupted, 143 terminated (the batches keep running on the server; a job resumes); 141 stdout closed.
Options such as --base-url go before or after the command.

The package: ``_main`` (the parser and the exit codes), one module per command group (``batches``, ``jobs``,
``emulator``; ``money`` for what ``run`` shows of cost), ``_output`` (text, JSON, the live line),
``_words`` (the command line's words for the library's) and ``_args`` (what the commands share).
"""

from ._main import main, run
from ._output import CLOSED_PIPE, FAILED, INTERRUPTED, OK, TERMINATED, USAGE

__all__ = ["CLOSED_PIPE", "FAILED", "INTERRUPTED", "OK", "TERMINATED", "USAGE", "main", "run"]
