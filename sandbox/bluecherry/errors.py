"""The BlueCherry emulator's own errors; the HTTP face maps each to its status code.

The emulator is the other party: it does not raise the product's gateway exceptions. The
product's REST gateway turns the status codes back into its own (404 NotFound, 409
Conflict, 422 Rejected), as it would with a real ERP.
"""

from __future__ import annotations

__all__ = ["Conflict", "EmulatorError", "NotFound", "Rejected"]


class EmulatorError(Exception):
    """A refused request; ``status_code`` is what the HTTP face answers."""

    status_code = 400


class NotFound(EmulatorError):
    """No such document."""

    status_code = 404


class Conflict(EmulatorError):
    """The write contradicts the ERP's state (key reused with other content, order in fulfilment)."""

    status_code = 409


class Rejected(EmulatorError):
    """The ERP refuses the content (unbalanced journal, unknown account, over-applied cash ...)."""

    status_code = 422
