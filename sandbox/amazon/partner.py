"""The Amazon trading partner: sends 850s, judges what the vendor uploads, receives, pays.

:class:`AmazonSimulator` ties the pieces together: the state (``state.py``, one JSON file
in ``state_dir``), the clock (``clock.py``), the catalogue it orders from
(``catalogue.py``), the rules as data (``data/``), and a mailbox to exchange files through
(the running loopback SFTP server, or :class:`~sandbox.amazon.mailbox.FolderMailbox` on
the same folders). Typical use::

    sim = AmazonSimulator(state_dir, mailbox_server, clock=SimulatedClock(start))
    sim.send_purchase_orders(10, defects_rate=0.2, seed=7)
    ...                                   # the vendor picks up, answers with 855/856/810
    result = sim.process_uploads()        # 997s back, findings and chargebacks recorded
    sim.deliver(shipment_id, cartons)     # the truck's cartons: labels as printed, real contents
    sim.run_receiving(shortage_rate=0.05)
    sim.issue_remittance(date(2026, 3, 1), date(2026, 3, 31))
    sim.chargeback_ledger()

Every public action saves the state before it returns.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import random
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from amazon_bluecherry.edi.ack import build_997
from amazon_bluecherry.edi.build import write_documents
from amazon_bluecherry.edi.documents import (
    FunctionalAcknowledgement,
    InventoryAdvice,
    Invoice,
    PurchaseOrder,
    PurchaseOrderAcknowledgement,
    RemittanceAdvice,
    ShipNotice,
)
from amazon_bluecherry.edi.parse import DocumentError, parse_transaction
from amazon_bluecherry.edi.reader import NotX12Error, X12Error, iter_transaction_sets, read_interchanges
from amazon_bluecherry.edi.validator import validate_file
from amazon_bluecherry.edi.writer import Party
from sandbox.amazon import compliance
from sandbox.amazon.books import Books
from sandbox.amazon.catalogue import ItemCatalogue
from sandbox.amazon.clock import Clock, SimulatedClock, WallClock
from sandbox.amazon.mailbox import AmazonMailbox, FolderMailbox
from sandbox.amazon.orders import break_segment_count, plan_orders
from sandbox.amazon.receiving import ReceivingResult, receive
from sandbox.amazon.remittance import plan_remittance
from sandbox.amazon.rulebook import DATA_DIR, Rulebook, load_rulebook
from sandbox.amazon.state import (
    AmazonState,
    Defect,
    ExchangedFile,
    Finding,
    LedgerEntry,
    PendingDelivery,
    PurchaseOrderRecord,
    RemittanceRecord,
    SentVersion,
    StateStore,
    TruckCarton,
)

__all__ = [
    "AmazonSimulator",
    "ArrivingCarton",
    "PartnerIdentity",
    "RemittanceResult",
    "SentPurchaseOrder",
    "UploadResult",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PartnerIdentity:
    """Who is who in the envelopes: Amazon's ISA id, the vendor's, and the vendor code."""

    amazon_id: str = "AMAZON"
    amazon_qualifier: str = "ZZ"
    vendor_id: str = "VENDOR"
    vendor_qualifier: str = "ZZ"
    vendor_code: str = "VENDR"
    usage: str = "T"
    vendor_name: str | None = None

    @classmethod
    def from_settings(cls, settings=None) -> PartnerIdentity:
        """The integration's own view (``AB_PARTNER_ID``, ``AB_VENDOR_ID`` ...), mirrored."""
        from amazon_bluecherry.settings import get_settings

        s = settings or get_settings()
        return cls(
            amazon_id=s.partner_id,
            amazon_qualifier=s.partner_qualifier,
            vendor_id=s.vendor_id,
            vendor_qualifier=s.vendor_qualifier,
            vendor_code=s.vendor_code,
            usage=s.usage_indicator,
        )

    @property
    def amazon(self) -> Party:
        return Party(id=self.amazon_id, qualifier=self.amazon_qualifier)

    @property
    def vendor(self) -> Party:
        return Party(id=self.vendor_id, qualifier=self.vendor_qualifier)


@dataclass(frozen=True)
class ArrivingCarton:
    """One carton off the vendor's truck: its label as printed (ZPL text or PDF bytes; None:
    no label) and what is physically inside, GTIN on the units -> eaches."""

    label: bytes | str | None
    contents: dict[str, int]


@dataclass
class SentPurchaseOrder:
    purchase_order: str
    file_name: str
    document: PurchaseOrder
    defects: list[Defect]
    resend: bool


@dataclass
class UploadResult:
    """What one ``process_uploads`` run read, answered and found."""

    files: list[str] = field(default_factory=list)
    documents: Counter = field(default_factory=Counter)  # set id -> accepted documents
    rejected_sets: list[str] = field(default_factory=list)  # "810 0003 in VENDR810.000000012"
    acks_sent: list[str] = field(default_factory=list)  # our 997 file names
    findings: list[Finding] = field(default_factory=list)


@dataclass
class RemittanceResult:
    trace_number: str
    file_name: str
    payment_amount: Decimal
    document: RemittanceAdvice
    invoices: list[str]
    entries: list[LedgerEntry]
    held: list[str]


class _StateControlNumbers:
    """ISA/GS/ST numbers from the state's counters, so they never repeat across runs."""

    def __init__(self, state: AmazonState):
        self._state = state

    def next(self, kind: str) -> int:
        return self._state.next_number(f"control_{kind}")


class _StateDuplicates:
    """The validator's duplicate check over the vendor's control numbers seen so far."""

    def __init__(self, state: AmazonState):
        self._state = state
        self._seen = set(state.control_numbers_seen)

    def seen(self, kind: str, sender: str, receiver: str, control_number: str) -> bool:
        key = f"{kind}|{sender}|{receiver}|{control_number}"
        if key in self._seen:
            return True
        self._seen.add(key)
        self._state.control_numbers_seen.append(key)
        return False


class AmazonSimulator:
    """Amazon's side, moto-style: state in ``state_dir``, files through ``mailbox``.

    :param state_dir: folder of ``state.json`` and ``archive/`` (every file sent/received).
    :param mailbox: a running ``MailboxServer``, a ``FolderMailbox``, a mailbox root folder, or
        None (receiving and the books need no mailbox; sending and reading do).
    :param clock: default: the saved simulated clock of this state, else the wall clock.
    :param catalogue: default: the BlueCherry emulator's seeded catalogue.
    :param identity: envelope ids; default from the integration's settings.
    :param seed: seed of the simulator's random source (per-call ``seed=`` overrides).
    """

    def __init__(
        self,
        state_dir: str | os.PathLike,
        mailbox: AmazonMailbox | str | os.PathLike | None,
        clock: Clock | None = None,
        catalogue: ItemCatalogue | None = None,
        *,
        identity: PartnerIdentity | None = None,
        rulebook: Rulebook | None = None,
        data_dir: str | os.PathLike = DATA_DIR,
        seed: int | None = None,
    ):
        self.store = StateStore(state_dir)
        self.state = self.store.load()
        self._mailbox = FolderMailbox(mailbox) if isinstance(mailbox, str | os.PathLike) else mailbox
        if clock is None:
            clock = SimulatedClock(self.state.clock) if self.state.clock else WallClock()
        self.clock = clock
        self.catalogue = catalogue or ItemCatalogue.from_bluecherry()
        self.identity = identity or PartnerIdentity.from_settings()
        self.rulebook = rulebook or load_rulebook(Path(data_dir))
        self.rng = random.Random(seed)
        self.autosave = True  # False: the caller saves (a month's loop saves once at the end)
        self._control = _StateControlNumbers(self.state)
        self._duplicates = _StateDuplicates(self.state)
        self.books = Books(self.state, self.rulebook)

    # --- housekeeping ------------------------------------------------------------------
    @property
    def mailbox(self) -> AmazonMailbox:
        if self._mailbox is None:
            raise RuntimeError("this simulator has no mailbox: give one to exchange files")
        return self._mailbox

    def _changed(self) -> None:
        if self.autosave:
            self.save()

    def save(self) -> None:
        """Write the state (and the simulated clock's now) to ``state_dir/state.json``."""
        if isinstance(self.clock, SimulatedClock):
            self.state.clock = self.clock.now()
        self.store.save(self.state)

    def _use_state(self, state: AmazonState) -> None:
        self.state = state
        self._control = _StateControlNumbers(state)
        self._duplicates = _StateDuplicates(state)
        self.books = Books(state, self.rulebook)

    def _file_name(self, set_id: str) -> str:
        return self.rulebook.traffic.file_name.format(
            vendor_code=self.identity.vendor_code, set_id=set_id, number=self.state.next_number("file")
        )

    def _send(self, set_id: str, content: bytes, at: dt.datetime) -> str:
        name = self._file_name(set_id)
        self.mailbox.drop(name, content)
        self.store.archive("sent", name, content)
        interchanges = read_interchanges(content)
        self.state.files.append(
            ExchangedFile(
                name=name,
                direction="sent",
                at=at,
                set_ids=[set_id],
                interchange_control_number=interchanges[0].control_number if interchanges else None,
                group_control_numbers=[g.control_number for i in interchanges for g in i.groups],
            )
        )
        log.debug("sent %s (%s, %d bytes)", name, set_id, len(content))
        return name

    def _write(self, documents: list, at: dt.datetime) -> bytes:
        return write_documents(
            documents,
            sender=self.identity.amazon,
            receiver=self.identity.vendor,
            control_numbers=self._control,
            usage=self.identity.usage,
            when=at,
        )

    # --- 850 ---------------------------------------------------------------------------
    def send_purchase_orders(
        self,
        n: int,
        *,
        defects_rate: float = 0.0,
        defect_kinds: list[str] | None = None,
        seed: int | None = None,
    ) -> list[SentPurchaseOrder]:
        """Send ``n`` 850s, one file each, into the vendor's download folder.

        ``defects_rate`` of them carry one deliberate defect, recorded in ``state.defects`` (and
        on each returned item) with what a correct PO would say. The count is exact and
        carried over between calls: a call makes ``floor(carry + n * rate)`` defective POs and
        keeps the fraction, so 2 POs a day at 0.2 give one defect every two and a half days.
        """
        if not 0 <= defects_rate <= 1:
            raise ValueError(f"defects rate must be between 0 and 1, got {defects_rate}")
        owed = self.state.defect_carry + n * defects_rate if defects_rate else 0.0
        defect_count = min(n, int(owed + 1e-9))
        self.state.defect_carry = owed - defect_count if defect_count < n else 0.0
        rng = random.Random(seed) if seed is not None else self.rng
        now = self.clock.now()
        resendable = [
            (record.to_document(), record.lines, record.fc_code)
            for record in list(self.state.purchase_orders.values())[-20:]
            if not any(line.shipped for line in record.lines)
            and record.number
            not in {d.purchase_order for d in self.state.defects if d.kind == "invalid_file"}
        ]
        planned = plan_orders(
            n,
            catalogue=self.catalogue,
            traffic=self.rulebook.traffic,
            rng=rng,
            vendor_code=self.identity.vendor_code,
            order_date=now.date(),
            next_number=self.state.next_number,
            defect_count=defect_count,
            defect_kinds=defect_kinds,
            resendable=resendable,
        )
        sent = []
        for order in planned:
            content = self._write([order.document], now)
            if order.broken_file:
                content = break_segment_count(content)
            name = self._send("850", content, now)
            number = order.document.purchase_order_number
            quantities = {line.line_number: line.quantity for line in order.lines}
            if order.resend_of:
                record = self.state.purchase_orders[number]
                for line in record.lines:
                    line.quantity = quantities.get(line.line_number, line.quantity)
                record.sent_at = now
                record.versions.append(SentVersion(file_name=name, sent_at=now, quantities=quantities))
            else:
                doc = order.document
                ship_to = doc.ship_to
                self.state.purchase_orders[number] = PurchaseOrderRecord(
                    number=number,
                    order_type=str(doc.order_type),
                    order_date=doc.order_date,
                    vendor_code=doc.vendor_code or self.identity.vendor_code,
                    sent_at=now,
                    versions=[SentVersion(file_name=name, sent_at=now, quantities=quantities)],
                    ship_to_qualifier=ship_to.id_qualifier,
                    ship_to_id=ship_to.id_code,
                    fc_code=order.fc_code,
                    window_start=doc.delivery_window_start,
                    window_end=doc.delivery_window_end,
                    backorder_allowed=bool(doc.backorder_allowed),
                    freight_terms=doc.freight_terms.payment_method if doc.freight_terms else None,
                    lines=order.lines,
                )
            for defect in order.defects:
                defect.file_name = name
                self.state.defects.append(defect)
            sent.append(SentPurchaseOrder(number, name, order.document, order.defects, bool(order.resend_of)))
        self._changed()
        return sent

    # --- what the vendor uploads -------------------------------------------------------
    def process_uploads(self) -> UploadResult:
        """Read every completed upload, return a 997 for it, apply Amazon's rules, then sweep."""
        result = UploadResult()
        for name, content in self.mailbox.take_received().items():
            self._process_file(name, content, result)
        result.findings += compliance.sweep(self.state, self.books, at=self.clock.now())
        self._changed()
        return result

    def _process_file(self, name: str, content: bytes, result: UploadResult) -> None:
        at = self.clock.now()
        result.files.append(name)
        self.store.archive("received", name, content)
        received = ExchangedFile(name=name, direction="received", at=at, set_ids=[])
        self.state.files.append(received)
        try:
            report = validate_file(content, duplicates=self._duplicates)
        except (NotX12Error, X12Error) as exc:
            result.findings.append(
                self.books.finding(
                    "edi_rejected", at=at, document=f"file {name}", file_name=name, detail=f"not X12: {exc}"
                )
            )
            return
        ack = build_997(report, control_numbers=self._control, when=at)
        if ack:
            received.ack_file = self._send("997", ack, at)
            result.acks_sent.append(received.ack_file)
        verdicts: dict[tuple[str, str, str], list] = {}
        for interchange, group, verdict in report.sets():
            verdicts.setdefault(
                (interchange.control_number, group.control_number, verdict.control_number), []
            ).append(verdict)
        for interchange, group, transaction in iter_transaction_sets(content):
            isa = interchange.isa + [""] * 17
            gs = group.gs + [""] * 9
            key = (isa[13].strip(), gs[6].strip(), transaction.control_number.strip())
            found = verdicts.get(key) or []
            verdict = found.pop(0) if found else None
            set_id = transaction.set_id.strip()
            label = f"{set_id} {transaction.control_number}"
            received.set_ids.append(set_id)
            status = verdict.status if verdict else "R"
            received.set_statuses[label] = status
            if status == "R":
                errors = "; ".join(issue.message for issue in (verdict.errors if verdict else []))[:400]
                result.rejected_sets.append(f"{label} in {name}")
                result.findings.append(
                    self.books.finding(
                        "edi_rejected",
                        at=at,
                        document=f"{label} in {name}",
                        file_name=name,
                        detail=f"rejected by validation: {errors or 'envelope error'}",
                    )
                )
                if set_id == "855":
                    result.findings += compliance.check_unpriced_acknowledgement(
                        self.state, self.books, transaction.segments, at=at, file_name=name
                    )
                continue
            try:
                document = parse_transaction(transaction, interchange, group)
            except DocumentError as exc:
                result.rejected_sets.append(f"{label} in {name}")
                result.findings.append(
                    self.books.finding(
                        "edi_rejected",
                        at=at,
                        document=f"{label} in {name}",
                        file_name=name,
                        detail=f"cannot be read: {exc}",
                    )
                )
                continue
            result.documents[set_id] += 1
            result.findings += self._apply(document, at=at, file_name=name, content=content)

    def _apply(self, document, *, at: dt.datetime, file_name: str, content: bytes) -> list[Finding]:
        if isinstance(document, PurchaseOrderAcknowledgement):
            return compliance.check_acknowledgement(
                self.state, self.books, document, at=at, file_name=file_name
            )
        if isinstance(document, ShipNotice):
            return compliance.check_ship_notice(
                self.state,
                self.books,
                document,
                at=at,
                file_name=file_name,
                vendor_code=self.identity.vendor_code,
                catalogue=self.catalogue,
            )
        if isinstance(document, Invoice):
            return compliance.check_invoice(self.state, self.books, document, at=at, file_name=file_name)
        if isinstance(document, InventoryAdvice):
            compliance.apply_inventory_advice(self.state, document)
            return []
        if isinstance(document, FunctionalAcknowledgement):
            self._vendor_acknowledgement(document, at)
            return []
        log.info("ignoring %s in %s: Amazon does not receive this set", document.set_id, file_name)
        return []

    def _vendor_acknowledgement(self, ack: FunctionalAcknowledgement, at: dt.datetime) -> None:
        for sent in self.state.files:
            if (
                sent.direction == "sent"
                and ack.acknowledged_group_control_number in sent.group_control_numbers
                and sent.vendor_ack_status is None
            ):
                sent.vendor_ack_status = str(ack.group_status)
                sent.vendor_ack_at = at
                return
        log.info("997 for group %s matches nothing we sent", ack.acknowledged_group_control_number)

    # --- physical world ----------------------------------------------------------------
    def record_delivery(
        self, purchase_order: str, *, at: dt.datetime | None = None, cartons: int = 1
    ) -> None:
        """A truck with goods for ``purchase_order`` arrived at the FC (ASN or not).

        With an ASN already received and not yet received at the dock, its truck has
        arrived now; without one, receiving will take the goods in with no ASN.
        """
        if purchase_order not in self.state.purchase_orders:
            raise KeyError(f"PO {purchase_order} was never sent")
        at = at or self.clock.now()
        notices = [
            n
            for n in self.state.ship_notices.values()
            if purchase_order in n.purchase_orders and not n.received and n.received_at <= at
        ]
        if notices:
            for notice in notices:
                notice.arrival_at = min(notice.arrival_at, at)
        else:
            self.state.pending_deliveries.append(
                PendingDelivery(purchase_order=purchase_order, at=at, cartons=cartons)
            )
        self._changed()

    def deliver(self, shipment_id: str, cartons: list[ArrivingCarton], *, at: dt.datetime | None = None) -> None:
        """The truck of the 856 ``shipment_id`` arrived with these cartons (now, or ``at``).

        The labels are kept in the state folder (``dock/<shipment>/``) and scanned at
        receiving; the contents are what the dock will count. The shipment arrived at
        ``at``, whatever DTM*017 estimated.
        """
        notice = self.state.ship_notices.get(shipment_id)
        if notice is None:
            raise KeyError(f"no 856 for shipment {shipment_id} was received")
        if notice.received:
            raise ValueError(f"shipment {shipment_id} was already received ({notice.receipt_id})")
        at = at or self.clock.now()
        folder = self.store.state_dir / "dock" / shipment_id
        folder.mkdir(parents=True, exist_ok=True)
        truck = []
        for position, carton in enumerate(cartons, start=1):
            label_file = None
            if carton.label is not None:
                content = carton.label.encode() if isinstance(carton.label, str) else carton.label
                path = folder / f"carton-{position:04d}.{'pdf' if content.startswith(b'%PDF') else 'zpl'}"
                path.write_bytes(content)
                label_file = str(path.relative_to(self.store.state_dir))
            truck.append(TruckCarton(label_file=label_file, contents=dict(carton.contents)))
        notice.truck = truck
        notice.arrival_at = at
        self._changed()

    def _scan(self, label_file: str) -> str | None:
        from sandbox.amazon.scanner import read_sscc

        path = self.store.state_dir / label_file
        return read_sscc(path.read_bytes()) if path.exists() else None

    def run_receiving(
        self,
        shortage_rate: float = 0.0,
        *,
        seed: int | None = None,
        found_later_rate: float | None = None,
    ) -> ReceivingResult:
        """Receive every shipment that has arrived; ``shortage_rate`` = share of short cartons.

        :param found_later_rate: share of open shortage claims reversed (``SCR``) on this
            run; default ``shortage_found_later_percent`` of ``data/remittance.yaml``.
        """
        rng = random.Random(seed) if seed is not None else self.rng
        now = self.clock.now()
        result = receive(
            self.state,
            self.books,
            at=now,
            rng=rng,
            shortage_rate=shortage_rate,
            found_later_rate=found_later_rate,
            scan=self._scan,
            catalogue=self.catalogue,
        )
        result.findings += compliance.sweep(self.state, self.books, at=now)
        self._changed()
        return result

    def reverse_shortage_claim(self, reference: str, *, reason: str = "dispute accepted") -> LedgerEntry:
        """Credit back a shortage claim (``<invoice>SC``) with ``<invoice>SCR``, e.g. after a dispute."""
        entry = self.state.ledger_entry(reference)
        if entry is None or entry.kind != "shortage_claim":
            raise KeyError(f"{reference} is not a shortage claim in the ledger")
        if entry.reversed_by:
            raise ValueError(f"{reference} was already reversed by {entry.reversed_by}")
        reversal = self.books.entry(
            reference=self.books.reference("shortage_claim_reversal", invoice=entry.invoice_number),
            kind="shortage_claim_reversal",
            amount=-entry.amount,
            created_at=self.clock.now(),
            category="Shortage claim reversal",
            cause=f"{reference}: {reason}",
            basis=f"reverses {reference} ({entry.amount})",
            purchase_order=entry.purchase_order,
            invoice_number=entry.invoice_number,
            receipt_ids=list(entry.receipt_ids),
            reverses=reference,
        )
        entry.reversed_by = reversal.reference
        self._changed()
        return reversal

    # --- 820 ---------------------------------------------------------------------------
    def issue_remittance(self, period_start: dt.date, period_end: dt.date) -> RemittanceResult | None:
        """Pay the invoices due by ``period_end`` less every open deduction; None if nothing to pay."""
        now = self.clock.now()
        working = self.state.model_copy(deep=True)
        planned = plan_remittance(
            working,
            Books(working, self.rulebook),
            at=now,
            period_start=period_start,
            period_end=period_end,
            vendor_code=self.identity.vendor_code,
            vendor_name=self.identity.vendor_name,
        )
        if planned is None:
            return None
        self._use_state(working)
        content = self._write([planned.document], now)
        planned.record.file_name = self._send("820", content, now)
        self._changed()
        return RemittanceResult(
            trace_number=planned.record.trace_number,
            file_name=planned.record.file_name,
            payment_amount=planned.record.payment_amount,
            document=planned.document,
            invoices=planned.record.invoices,
            entries=planned.entries,
            held=planned.held,
        )

    # --- reading the books -------------------------------------------------------------
    def chargeback_ledger(self, *, kind: str | None = None, open_only: bool = False) -> list[LedgerEntry]:
        """Every deduction and credit, oldest first, each with its cause and links."""
        return [
            entry
            for entry in self.state.ledger
            if (kind is None or entry.kind == kind) and (not open_only or entry.remitted_in is None)
        ]

    def findings(self, rule: str | None = None) -> list[Finding]:
        return [f for f in self.state.findings if rule is None or f.rule == rule]

    def purchase_order(self, number: str) -> PurchaseOrderRecord:
        return self.state.purchase_orders[number]

    def remittances(self) -> list[RemittanceRecord]:
        return list(self.state.remittances)

    def compliance_summary(self) -> dict:
        """Counts and money: findings per rule, ledger per kind/category, files and invoices."""
        ledger_by_kind: dict[str, Decimal] = {}
        ledger_by_category: dict[str, Decimal] = {}
        for entry in self.state.ledger:
            ledger_by_kind[entry.kind] = ledger_by_kind.get(entry.kind, Decimal(0)) + entry.amount
            ledger_by_category[entry.category] = (
                ledger_by_category.get(entry.category, Decimal(0)) + entry.amount
            )
        sent = [f for f in self.state.files if f.direction == "sent" and "997" not in f.set_ids]
        return {
            "purchase_orders": len(self.state.purchase_orders),
            "defects_sent": dict(Counter(d.kind for d in self.state.defects)),
            "findings": dict(Counter(f.rule for f in self.state.findings)),
            "chargebacks": sum(1 for e in self.state.ledger if e.kind == "chargeback"),
            "ledger_by_kind": {k: str(v) for k, v in sorted(ledger_by_kind.items())},
            "ledger_by_category": {k: str(v) for k, v in sorted(ledger_by_category.items())},
            "open_deductions": str(
                sum((e.amount for e in self.state.ledger if e.remitted_in is None), Decimal(0))
            ),
            "invoices": dict(Counter(inv.status for inv in self.state.invoices.values())),
            "remittances": len(self.state.remittances),
            "paid": str(sum((r.payment_amount for r in self.state.remittances), Decimal(0))),
            "files_sent": len(sent),
            "files_unacknowledged_by_vendor": [f.name for f in sent if f.vendor_ack_status is None],
            "receipts": len(self.state.receipts),
        }
