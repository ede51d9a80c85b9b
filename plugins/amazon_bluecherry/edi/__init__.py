"""X12 engine: streaming reader, implementation guides as data, validator, writer, 997.

Public entry points (other tools rely on these names)::

    from amazon_bluecherry.edi import validate_file, parse_file
"""

from __future__ import annotations

from typing import Any

__all__ = ["validate_file", "parse_file"]


def __getattr__(name: str) -> Any:
    # Lazy so that importing the package (e.g. at DAG parse time) stays cheap.
    if name == "validate_file":
        from amazon_bluecherry.edi.validator import validate_file

        return validate_file
    if name == "parse_file":
        from amazon_bluecherry.edi.parse import parse_file

        return parse_file
    raise AttributeError(name)
