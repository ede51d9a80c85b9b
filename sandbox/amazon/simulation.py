"""A month of traffic on the simulated clock, Amazon and a stand-in vendor taking turns.

Each simulated hour: on business days at 06:00 Amazon sends the day's purchase orders;
the vendor picks up and does what is due (855, 856, 810, 997s); Amazon reads the uploads;
at noon the fulfilment centres receive what has arrived; on the remittance weekday at
16:00 Amazon pays the period since the last remittance. The state is saved once at the
end (and the files are in the mailbox folders and the state's archive throughout).
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field

from sandbox.amazon.clock import SimulatedClock
from sandbox.amazon.partner import AmazonSimulator, RemittanceResult
from sandbox.amazon.standin_vendor import StandInVendor

__all__ = ["MonthReport", "simulate_month"]


@dataclass
class MonthReport:
    start: dt.datetime
    end: dt.datetime
    purchase_orders_sent: int = 0
    uploads_processed: int = 0
    receipts: int = 0
    remittances: list[RemittanceResult] = field(default_factory=list)
    summary: dict = field(default_factory=dict)
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "purchase_orders_sent": self.purchase_orders_sent,
            "uploads_processed": self.uploads_processed,
            "receipts": self.receipts,
            "remittances": [
                {
                    "trace_number": r.trace_number,
                    "file": r.file_name,
                    "amount": str(r.payment_amount),
                    "invoices": len(r.invoices),
                    "deductions": len(r.entries),
                }
                for r in self.remittances
            ],
            "summary": self.summary,
            "seconds": round(self.seconds, 2),
        }


def simulate_month(
    simulator: AmazonSimulator,
    vendor: StandInVendor | None,
    *,
    days: int = 30,
    orders_per_day: int = 3,
    defects_rate: float = 0.0,
    defect_kinds: list[str] | None = None,
    shortage_rate: float = 0.0,
    remittance_weekday: int = 4,
    step: dt.timedelta = dt.timedelta(hours=1),
    seed: int = 0,
) -> MonthReport:
    """Run ``days`` simulated days; ``vendor=None`` runs Amazon's periodic actions only.

    The simulator needs a :class:`SimulatedClock`. ``remittance_weekday``: 0 Monday ... 4 Friday.
    """
    clock = simulator.clock
    if not isinstance(clock, SimulatedClock):
        raise TypeError("simulate_month needs the simulator on a SimulatedClock")
    began = time.perf_counter()
    start = clock.now()
    end = start + dt.timedelta(days=days)
    report = MonthReport(start=start, end=end)
    period_start = start.date()
    autosave, simulator.autosave = simulator.autosave, False
    batch = 0
    try:
        while clock.now() < end:
            now = clock.now()
            if now.weekday() < 5 and now.hour == 6 and orders_per_day:
                batch += 1
                sent = simulator.send_purchase_orders(
                    orders_per_day,
                    defects_rate=defects_rate,
                    defect_kinds=defect_kinds,
                    seed=seed * 1000 + batch,
                )
                report.purchase_orders_sent += len(sent)
            if vendor is not None:
                vendor.tick(now)
            report.uploads_processed += len(simulator.process_uploads().files)
            if now.hour == 12:
                report.receipts += len(
                    simulator.run_receiving(shortage_rate, seed=seed * 1000 + now.toordinal()).receipts
                )
            if now.weekday() == remittance_weekday and now.hour == 16:
                result = simulator.issue_remittance(period_start, now.date())
                if result is not None:
                    report.remittances.append(result)
                    period_start = now.date() + dt.timedelta(days=1)
            clock.advance(step)
    finally:
        simulator.autosave = autosave
        simulator.save()
    report.summary = simulator.compliance_summary()
    report.seconds = time.perf_counter() - began
    return report
