"""Amazon's retail rules (windows, reject reasons ...) loaded from ``rules.yaml``."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

RULES_FILE = Path(__file__).with_name("rules.yaml")


@lru_cache(maxsize=1)
def amazon_rules() -> dict[str, Any]:
    return yaml.safe_load(RULES_FILE.read_text(encoding="utf-8"))


def reject_reason(cause: str | None) -> str:
    """Amazon's reason for rejecting a line, from our issue type or BlueCherry's cancel reason."""
    acknowledgement = amazon_rules()["acknowledgement"]
    return acknowledgement["reject_reasons"].get(cause or "", acknowledgement["default_reject_reason"])


def line_status(outcome: str) -> str:
    """ACK01 for a line's outcome: ``accepted``, ``backordered`` or ``rejected``."""
    return amazon_rules()["acknowledgement"]["line_status"][outcome]


def cancelled_line() -> dict[str, Any]:
    """How a line Amazon cancelled (PO102 = 0) is acknowledged: ``status`` and ``reason``."""
    return amazon_rules()["acknowledgement"]["cancelled_line"]
