"""The request builders and parsers the resources use, loaded on first use (PEP 562).

They bring the generated operations and models; building a client loads none of them, so a
program pays for them with its first request. After the first use each name is a plain module attribute.
The imports below are for type checkers: through them mypy sees every signature, so the seam stays typed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._lazy import declared_names, lazy_names

if TYPE_CHECKING:  # Each name once: what type checkers see, and (read by declared_names) what is loaded.
    from ._parse import parse_account as parse_account
    from ._parse import parse_batch as parse_batch
    from ._parse import parse_batch_page as parse_batch_page
    from ._parse import parse_file_list as parse_file_list
    from ._parse import parse_uploaded_file as parse_uploaded_file
    from ._requests import account_request as account_request
    from ._requests import cancel_request as cancel_request
    from ._requests import checked_file as checked_file
    from ._requests import content_request as content_request
    from ._requests import create_request as create_request
    from ._requests import list_files_request as list_files_request
    from ._requests import list_request as list_request
    from ._requests import retrieve_request as retrieve_request
    from ._requests import upload_request as upload_request

__getattr__ = lazy_names(globals(), declared_names(__file__))
