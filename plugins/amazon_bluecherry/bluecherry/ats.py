"""Available to sell as columns: the shape stock_to_846 reads, fast enough for 100,000 SKUs.

:class:`AtsTable` holds the same figures as an :class:`~amazon_bluecherry.bluecherry.models.AtsSnapshot`
(one row per SKU and warehouse) in a pandas DataFrame, with where they came from and a
fingerprint: the same snapshot read twice has the same fingerprint, a newer one another.
The flat-file adapter reads an export straight into it (no model per row); other adapters
convert their snapshot (:meth:`AtsTable.from_snapshot`).

Emulator-defined; map to your BlueCherry installation.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from amazon_bluecherry.bluecherry.gateway import GatewayError

if TYPE_CHECKING:
    import pandas as pd

    from amazon_bluecherry.bluecherry.models import AtsSnapshot

__all__ = ["ATS_COUNT_COLUMNS", "ATS_TEXT_COLUMNS", "AtsTable"]

ATS_TEXT_COLUMNS = ("sku", "style", "color", "size", "upc", "warehouse")
ATS_COUNT_COLUMNS = ("on_hand", "allocated", "on_hold", "incoming")
# Counts a blank cell may leave out: nothing on hold, nothing incoming.
_DEFAULT_ZERO = ("on_hold", "incoming")


@dataclass(frozen=True)
class AtsTable:
    """One ATS snapshot: ``frame`` has the text columns :data:`ATS_TEXT_COLUMNS` and int64 counts
    :data:`ATS_COUNT_COLUMNS`, one row per SKU and warehouse.

    :param snapshot_at: when BlueCherry computed the figures
    :param last_cycle_at: when BlueCherry last finished a batch cycle, if known
    :param source: where the figures were read (file and cycle, or the REST endpoint)
    :param fingerprint: SHA-256 of the snapshot time and content
    """

    snapshot_at: datetime
    last_cycle_at: datetime | None
    source: str
    fingerprint: str
    frame: pd.DataFrame

    def __len__(self) -> int:
        return len(self.frame)

    def only(self, warehouses) -> AtsTable:
        """The rows of ``warehouses`` only (all rows when ``warehouses`` is None)."""
        if warehouses is None:
            return self
        keep = self.frame["warehouse"].isin(list(warehouses))
        return AtsTable(self.snapshot_at, self.last_cycle_at, self.source, self.fingerprint,
                        self.frame[keep].reset_index(drop=True))

    @classmethod
    def from_snapshot(cls, snapshot: AtsSnapshot, *, source: str) -> AtsTable:
        import pandas as pd

        rows = snapshot.rows
        frame = pd.DataFrame({
            **{column: [getattr(row, column) for row in rows] for column in ATS_TEXT_COLUMNS},
            **{column: pd.array([getattr(row, column) for row in rows], dtype="int64")
               for column in ATS_COUNT_COLUMNS},
        })
        canonical = json.dumps(
            [[getattr(row, column) for column in (*ATS_TEXT_COLUMNS, *ATS_COUNT_COLUMNS)] for row in rows],
            separators=(",", ":"),
        )
        return cls(
            snapshot_at=snapshot.snapshot_at,
            last_cycle_at=snapshot.last_cycle_at,
            source=source,
            fingerprint=_fingerprint(snapshot.snapshot_at, hashlib.sha256(canonical.encode()).hexdigest()),
            frame=frame,
        )

    @classmethod
    def from_frame(cls, decoded: pd.DataFrame, *, snapshot_at: datetime, last_cycle_at: datetime | None,
                   source: str, content_digest: str) -> AtsTable:
        """Check and shape a decoded export (``Layout.decode_frame``): a row that breaks the ATS
        model raises :class:`GatewayError` naming its line and column.

        ``decoded`` has a ``line`` column (the line in the file) and nullable counts.
        """
        import pandas as pd

        missing = [column for column in ("sku", "style", "color", "size", "warehouse", "on_hand", "allocated")
                   if column not in decoded.columns]
        if missing:
            raise GatewayError(f"{source}: the ATS export has no {missing} column(s)")
        frame = pd.DataFrame({column: decoded[column] if column in decoded.columns else None
                              for column in ATS_TEXT_COLUMNS})
        for column in ("sku", "style", "color", "size", "warehouse"):
            blank = frame[column].isna() | (frame[column] == "")
            if blank.any():
                raise GatewayError(f"{source} line {decoded['line'][blank].iloc[0]}, column {column}: blank")
        frame["upc"] = frame["upc"].where(frame["upc"].notna() & (frame["upc"] != ""), None)
        for column in ATS_COUNT_COLUMNS:
            values = decoded[column] if column in decoded.columns else pd.Series(0, index=decoded.index)
            if values.isna().any():
                if column not in _DEFAULT_ZERO:
                    raise GatewayError(f"{source} line {decoded['line'][values.isna()].iloc[0]}, column {column}: "
                                       "blank; BlueCherry must give a number")
                values = values.fillna(0)
            # Negative figures are BlueCherry's truth (stock shipped before its receipt was
            # posted); the planner publishes them as nothing.
            frame[column] = values.astype("int64")
        if "available" in decoded.columns:
            expected = frame["on_hand"] - frame["allocated"] - frame["on_hold"]
            wrong = decoded["available"].isna() | (decoded["available"] != expected)
            if wrong.any():
                at = wrong.to_numpy().nonzero()[0][0]
                raise GatewayError(
                    f"{source} line {decoded['line'].iloc[at]}: available {decoded['available'].iloc[at]} != "
                    f"on_hand {frame['on_hand'].iloc[at]} - allocated {frame['allocated'].iloc[at]} "
                    f"- on_hold {frame['on_hold'].iloc[at]}")
        duplicated = frame.duplicated(["sku", "warehouse"])
        if duplicated.any():
            at = duplicated.to_numpy().nonzero()[0][0]
            raise GatewayError(f"{source} line {decoded['line'].iloc[at]}: {frame['sku'].iloc[at]} in "
                               f"{frame['warehouse'].iloc[at]} appears twice")
        return cls(snapshot_at=snapshot_at, last_cycle_at=last_cycle_at, source=source,
                   fingerprint=_fingerprint(snapshot_at, content_digest), frame=frame)


def _fingerprint(snapshot_at: datetime, content_digest: str) -> str:
    return hashlib.sha256(f"{snapshot_at.isoformat()}\n{content_digest}".encode()).hexdigest()
