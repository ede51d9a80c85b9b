"""Warehouse and shipments: stock and ATS, pick and pack into SSCC-labelled cartons,
shipping, the carrier's pickup, and the shipment confirmation (ASN sent).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from amazon_bluecherry.bluecherry import models as m
from amazon_bluecherry.edi.gs1 import make_sscc
from sandbox.bluecherry import schema as t
from sandbox.bluecherry.core import CENT, ZERO, BackendCore, log
from sandbox.bluecherry.errors import Conflict, NotFound, Rejected
from sandbox.bluecherry.sales_orders import _order_status

__all__ = ["PickResult", "WarehouseBackend"]


@dataclass
class PickResult:
    pick_ticket: str
    order_number: str
    cartons: list[str] = field(default_factory=list)
    eaches: int = 0


class WarehouseBackend(BackendCore):
    """Stock, cartons and shipments."""

    def receive_stock(self, sku: str, warehouse: str, qty: int) -> None:
        """Incoming stock arrives: on hand grows, incoming shrinks (not below zero)."""
        if qty <= 0:
            raise Rejected(f"receive quantity must be positive, got {qty}")
        with self._write() as session:
            if session.get(t.Sku, sku) is None:
                raise NotFound(f"no SKU {sku!r}")
            stock = self._stock(session, sku, warehouse)
            stock.on_hand += qty
            stock.incoming = max(0, stock.incoming - qty)
            if stock.incoming == 0:
                stock.incoming_date = None

    def set_stock(
        self,
        sku: str,
        warehouse: str,
        *,
        on_hand: int | None = None,
        on_hold: int | None = None,
        incoming: int | None = None,
        incoming_date: date | None = None,
    ) -> None:
        """Set stock figures directly (tests and demos); allocations are left as they are.

        Setting ``on_hand`` alone caps an existing hold at the new on-hand figure.
        """
        with self._write() as session:
            if session.get(t.Sku, sku) is None:
                raise NotFound(f"no SKU {sku!r}")
            stock = self._stock(session, sku, warehouse)
            if on_hand is not None:
                stock.on_hand = on_hand
                # No more can be on hold than is on the shelf (a recount to zero clears the hold).
                stock.on_hold = min(stock.on_hold, max(on_hand, 0))
            if on_hold is not None:
                if on_hold < 0:
                    raise Rejected(f"hold quantity must not be negative, got {on_hold}")
                stock.on_hold = on_hold
            if incoming is not None:
                stock.incoming = incoming
                stock.incoming_date = incoming_date

    def get_ats(self, *, warehouse: str | None = None) -> m.AtsSnapshot:
        with self._read() as session:
            snapshot_at = self.clock.now()
            query = (
                select(
                    t.StockRow.sku,
                    t.StockRow.warehouse,
                    t.StockRow.on_hand,
                    t.StockRow.allocated,
                    t.StockRow.on_hold,
                    t.StockRow.incoming,
                    t.StockRow.incoming_date,
                    (t.StockRow.on_hand - t.StockRow.allocated - t.StockRow.on_hold).label("available"),
                    t.Sku.style,
                    t.Sku.color,
                    t.Sku.size,
                    t.Sku.upc,
                )
                .join(t.Sku, t.Sku.sku == t.StockRow.sku)
                .order_by(t.Sku.style, t.Sku.color, t.Sku.size_seq, t.StockRow.warehouse)
            )
            if warehouse is not None:
                query = query.where(t.StockRow.warehouse == warehouse)
            rows = [m.AtsRow.model_validate(r._mapping) for r in session.execute(query)]
            cycle = session.get(t.Setting, "last_cycle_at")
        return m.AtsSnapshot(
            snapshot_at=snapshot_at,
            last_cycle_at=datetime.fromisoformat(cycle.value) if cycle is not None else None,
            warehouse=warehouse,
            rows=rows,
        )

    def record_cycle(self) -> datetime:
        """A batch cycle finished applying its imports (allocations included): remember when."""
        with self._write() as session:
            now = self.clock.now()
            marker = session.get(t.Setting, "last_cycle_at")
            if marker is None:
                session.add(t.Setting(name="last_cycle_at", value=now.isoformat()))
            else:
                marker.value = now.isoformat()
            return now

    def pick_and_pack(self, order_number: str) -> PickResult:
        """Pick everything allocated and not yet picked; full case packs in their own cartons."""
        with self._write() as session:
            order = session.get(t.SalesOrderRow, order_number)
            if order is None:
                raise NotFound(f"no sales order {order_number!r}")
            self._preload(session, [line.sku for line in order.lines if line.sku], order.bc_warehouse)
            to_pick = [(line, line.qty_allocated - line.qty_picked) for line in order.lines]
            to_pick = [(line, qty) for line, qty in to_pick if qty > 0]
            if not to_pick:
                raise Conflict(f"sales order {order_number} has nothing allocated to pick")
            now = self.clock.now()
            ticket = t.PickTicketRow(
                pick_ticket=f"PT{self._next(session, 'pick_ticket'):07d}",
                order_number=order_number,
                created_at=now,
            )
            session.add(ticket)
            session.flush()
            cartons: list[list[tuple[t.SalesOrderLineRow, int]]] = []
            loose: list[tuple[t.SalesOrderLineRow, int]] = []
            for line, qty in to_pick:
                pack = session.get(t.Sku, line.sku).style_row.case_pack_qty
                full, rest = divmod(qty, pack)
                cartons += [[(line, pack)] for _ in range(full)]
                if rest:
                    loose.append((line, rest))
                line.qty_picked += qty
            cartons += _pack_loose(loose, self.config.mixed_carton_max_eaches)
            result = PickResult(pick_ticket=ticket.pick_ticket, order_number=order_number)
            for number, contents in enumerate(cartons, start=1):
                serial = self._next(session, "sscc_serial")
                sscc = make_sscc(self.config.sscc_extension_digit, self.config.sscc_company_prefix, serial)
                weight = self.config.carton_tare_lb
                carton = t.CartonRow(
                    sscc=sscc,
                    carton_number=number,
                    pick_ticket=ticket.pick_ticket,
                    order_number=order_number,
                    shipment_id=None,
                    weight_lb=ZERO,
                    tracking_number=None,
                )
                session.add(carton)
                session.flush()
                for line, qty in contents:
                    weight += session.get(t.Sku, line.sku).weight_lb * qty
                    session.add(
                        t.CartonItemRow(
                            carton_id=carton.id,
                            order_number=order_number,
                            line_number=line.line_number,
                            sku=line.sku,
                            qty=qty,
                        )
                    )
                    result.eaches += qty
                carton.weight_lb = weight.quantize(CENT)
                result.cartons.append(sscc)
            log.info(
                "picked %s for %s: %d cartons, %d eaches",
                ticket.pick_ticket,
                order_number,
                len(cartons),
                result.eaches,
            )
            return result

    def ship(
        self,
        order_numbers: Sequence[str],
        *,
        carrier_scac: str = "UPSN",
        tracking_number: str | None = None,
        bol_number: str | None = None,
        master_bol: str | None = None,
        ship_date: date | None = None,
        departed_at: datetime | None = None,
        small_parcel: bool = False,
        picked_up: bool = True,
        palletize: bool = False,
    ) -> m.Shipment:
        """Ship the packed, unshipped cartons of orders going to one ship-to; the shipment is ready to confirm.

        ``picked_up=False``: the truck is loaded but the carrier has not confirmed collection
        (no departure time, no tracking) until :meth:`carrier_pickup`. ``palletize``: cartons
        travel on pallets (one pallet SSCC per ``cartons_per_pallet`` cartons).
        """
        if not order_numbers:
            raise Rejected("ship needs at least one order number")
        with self._write() as session:
            orders = []
            for number in order_numbers:
                order = session.get(t.SalesOrderRow, number)
                if order is None:
                    raise NotFound(f"no sales order {number!r}")
                orders.append(order)
            destinations = {(o.bc_customer, o.bc_store, o.bc_warehouse) for o in orders}
            if len(destinations) > 1:
                raise Conflict(
                    f"orders {list(order_numbers)} go to different ship-tos {sorted(destinations)}; ship them apart"
                )
            cartons = session.scalars(
                select(t.CartonRow)
                .where(t.CartonRow.order_number.in_(list(order_numbers)), t.CartonRow.shipment_id.is_(None))
                .order_by(t.CartonRow.order_number, t.CartonRow.carton_number)
            ).all()
            if not cartons:
                raise Conflict(f"orders {list(order_numbers)} have no packed cartons waiting to ship")
            now = self.clock.now()
            sequence = self._next(session, "shipment")
            customer, store_code, warehouse = destinations.pop()
            store = session.get(t.StoreRow, (customer, store_code))
            ship_day = ship_date or now.date()
            shipment = t.ShipmentRow(
                shipment_id=f"SH{sequence:08d}",
                status="ready",
                bc_customer=customer,
                bc_store=store_code,
                bc_warehouse=warehouse,
                ship_to_name=store.name if store else store_code,
                carrier_scac=carrier_scac,
                tracking_number=(tracking_number or _tracking(carrier_scac, sequence)) if picked_up else None,
                bol_number=bol_number or f"{self.config.bol_prefix}{sequence:08d}",
                master_bol=master_bol,
                ship_date=ship_day,
                departed_at=(departed_at or now) if picked_up else None,
                estimated_delivery=ship_day + timedelta(days=self.config.transit_days),
                total_weight_lb=sum((c.weight_lb for c in cartons), ZERO),
                asn_reference=None,
                confirmed_at=None,
            )
            session.add(shipment)
            lines = {(o.order_number, line.line_number): (o, line) for o in orders for line in o.lines}
            pallet = None
            for index, carton in enumerate(cartons, start=1):
                carton.shipment_id = shipment.shipment_id
                carton.carton_number = index
                if palletize:
                    if (index - 1) % self.config.cartons_per_pallet == 0:
                        serial = self._next(session, "sscc_serial")
                        pallet = make_sscc(self.config.sscc_extension_digit, self.config.sscc_company_prefix, serial)
                    carton.pallet_sscc = pallet
                if small_parcel and picked_up:
                    carton.tracking_number = f"{shipment.tracking_number}{index:03d}"
                for item in carton.items:
                    order, line = lines[(item.order_number, item.line_number)]
                    line.qty_picked -= item.qty
                    line.qty_allocated -= item.qty
                    line.qty_shipped += item.qty
                    stock = self._stock(session, item.sku, order.bc_warehouse)
                    stock.on_hand -= item.qty
                    stock.allocated -= item.qty
            for order in orders:
                order.status = _order_status(order)
                order.revision += 1
                order.updated_at = now
            session.flush()
            log.info(
                "shipped %s: %d cartons, BOL %s", shipment.shipment_id, len(cartons), shipment.bol_number
            )
            return _shipment(session, shipment)

    def carrier_pickup(
        self, shipment_id: str, *, tracking_number: str | None = None, departed_at: datetime | None = None
    ) -> m.Shipment:
        """The carrier confirms collection: departure time and tracking (``""`` keeps it unknown)."""
        with self._write() as session:
            shipment = session.get(t.ShipmentRow, shipment_id)
            if shipment is None:
                raise NotFound(f"no shipment {shipment_id!r}")
            shipment.departed_at = departed_at or self.clock.now()
            if tracking_number is None:
                tracking_number = _tracking(shipment.carrier_scac, int(shipment_id.lstrip("SH") or 0))
            shipment.tracking_number = tracking_number or None
            session.flush()
            return _shipment(session, shipment)

    def reset_label_serial(self, to: int = 0) -> None:
        """The label printer's SSCC serial restarts (a reinstall): the next cartons repeat old SSCCs."""
        with self._write() as session:
            row = session.get(t.Counter, "sscc_serial")
            if row is not None:
                row.value = to

    def list_shipments(
        self, *, status: str | None = None, confirmed_since: datetime | None = None
    ) -> list[m.Shipment]:
        with self._read() as session:
            query = select(t.ShipmentRow).order_by(t.ShipmentRow.shipment_id)
            if status is not None:
                query = query.where(t.ShipmentRow.status == status)
            rows = session.scalars(query).all()
            if confirmed_since is not None:
                rows = [
                    r
                    for r in rows
                    if r.status == "ready" or (r.confirmed_at and r.confirmed_at >= confirmed_since)
                ]
            return [_shipment(session, row) for row in rows]

    def get_shipment(self, shipment_id: str) -> m.Shipment:
        with self._read() as session:
            row = session.get(t.ShipmentRow, shipment_id)
            if row is None:
                raise NotFound(f"no shipment {shipment_id!r}")
            return _shipment(session, row)

    def confirm_shipment(
        self, confirmation: m.ShipmentConfirmation, *, idempotency_key: str
    ) -> m.WriteResult:
        with self._write() as session:
            return self._idempotent(
                session,
                "shipment_confirmation",
                idempotency_key,
                confirmation.fingerprint(),
                lambda s: self._confirm(s, confirmation, idempotency_key),
            )

    def _confirm(self, session: Session, confirmation: m.ShipmentConfirmation, key: str) -> m.WriteResult:
        shipment = session.get(t.ShipmentRow, confirmation.shipment_id)
        if shipment is None:
            raise NotFound(f"no shipment {confirmation.shipment_id!r}")
        outcome = "created"
        if shipment.status == "confirmed":
            if shipment.asn_reference != confirmation.asn_reference:
                raise Conflict(
                    f"shipment {shipment.shipment_id} was already confirmed with ASN {shipment.asn_reference}"
                )
            outcome = "unchanged"
        else:
            shipment.status = "confirmed"
            shipment.asn_reference = confirmation.asn_reference
            shipment.confirmed_at = self.clock.now()
        return m.WriteResult(
            kind="shipment_confirmation",
            key=shipment.shipment_id,
            idempotency_key=key,
            outcome=outcome,
            document_number=confirmation.asn_reference,
        )


def _tracking(scac: str, sequence: int) -> str:
    """A tracking / PRO number in the carrier's usual shape (include/mappings/carriers.csv)."""
    if scac == "UPSN":
        return f"1Z{sequence:016d}"[:18]
    if scac in ("FDEG", "FDE"):
        return f"{sequence:012d}"
    return f"{sequence:010d}"  # LTL PRO numbers: 10 digits fit every listed carrier


def _pack_loose(
    loose: list[tuple[t.SalesOrderLineRow, int]], limit: int
) -> list[list[tuple[t.SalesOrderLineRow, int]]]:
    """Remainders below a case pack go into mixed cartons of at most ``limit`` eaches."""
    cartons: list[list[tuple[t.SalesOrderLineRow, int]]] = []
    current: list[tuple[t.SalesOrderLineRow, int]] = []
    room = limit
    for line, qty in loose:
        while qty:
            take = min(qty, room)
            current.append((line, take))
            qty -= take
            room -= take
            if room == 0:
                cartons.append(current)
                current, room = [], limit
    if current:
        cartons.append(current)
    return cartons


def _shipment(session: Session, row: t.ShipmentRow) -> m.Shipment:
    orders = {
        o.order_number: o
        for o in session.scalars(
            select(t.SalesOrderRow).where(
                t.SalesOrderRow.order_number.in_({c.order_number for c in row.cartons})
            )
        )
    }
    skus = {
        s.sku: s
        for s in session.scalars(
            select(t.Sku).where(t.Sku.sku.in_({i.sku for c in row.cartons for i in c.items}))
        )
    }
    cartons = []
    for carton in row.cartons:
        items = []
        for item in carton.items:
            sku = skus[item.sku]
            items.append(
                m.CartonItem(
                    order_number=item.order_number,
                    customer_po=orders[item.order_number].customer_po,
                    line_number=item.line_number,
                    sku=item.sku,
                    style=sku.style,
                    color=sku.color,
                    size=sku.size,
                    upc=sku.upc,
                    qty_eaches=item.qty,
                )
            )
        cartons.append(
            m.Carton(
                sscc=carton.sscc,
                carton_number=carton.carton_number,
                weight_lb=carton.weight_lb,
                tracking_number=carton.tracking_number,
                pallet_sscc=carton.pallet_sscc,
                items=items,
            )
        )
    order_numbers = list(dict.fromkeys(c.order_number for c in row.cartons))
    return m.Shipment(
        shipment_id=row.shipment_id,
        status=row.status,
        bc_customer=row.bc_customer,
        bc_store=row.bc_store,
        bc_warehouse=row.bc_warehouse,
        ship_to_name=row.ship_to_name,
        customer_pos=list(dict.fromkeys(orders[n].customer_po for n in order_numbers)),
        order_numbers=order_numbers,
        carrier_scac=row.carrier_scac,
        tracking_number=row.tracking_number,
        bol_number=row.bol_number,
        master_bol=row.master_bol,
        ship_date=row.ship_date,
        departed_at=row.departed_at,
        estimated_delivery=row.estimated_delivery,
        total_weight_lb=row.total_weight_lb,
        asn_reference=row.asn_reference,
        confirmed_at=row.confirmed_at,
        cartons=cartons,
    )
