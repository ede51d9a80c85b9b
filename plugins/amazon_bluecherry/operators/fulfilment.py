"""Operators of fulfilment_to_asn: thin wrappers over ``flows.fulfilment_to_asn_steps`` and
``flows.invoicing``. Hooks and settings are built in ``execute`` (nothing at parse time);
ids, never payloads, go through XCom: the store holds the ASNs, labels and invoices.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from airflow.sdk import BaseOperator

from amazon_bluecherry.operators.xcom import id_list


def _run_key(context: Any) -> str:
    return str(context.get("run_id", "")) if context else ""


class _FulfilmentOperator(BaseOperator):
    template_fields: Sequence[str] = ("ids", "bluecherry_conn_id", "mappings_dir")

    def __init__(self, *, ids: Any = None, bluecherry_conn_id: str | None = None, mappings_dir: str | None = None,
                 database_url: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.ids = ids
        self.bluecherry_conn_id = bluecherry_conn_id
        self.mappings_dir = mappings_dir
        self.database_url = database_url

    def _store_settings(self):
        from amazon_bluecherry.settings import get_settings
        from amazon_bluecherry.store import get_store

        return get_store(self.database_url), get_settings()

    def _mappings(self, store, settings):
        from amazon_bluecherry.flows.exceptions import open_exception
        from amazon_bluecherry.flows.fulfilment_mappings import load_fulfilment_mappings
        from amazon_bluecherry.flows.mappings import MappingError

        try:
            return load_fulfilment_mappings(self.mappings_dir or settings.mappings_dir)
        except MappingError as exc:
            open_exception(store, "mapping_file_invalid", f"{exc}; no ASN was built",
                           dedupe_key=f"mapping_file_invalid:{exc}"[:200])
            raise

    def _hook(self, settings):
        from amazon_bluecherry.hooks.bluecherry import BlueCherryHook

        return BlueCherryHook(bluecherry_conn_id=self.bluecherry_conn_id or settings.bluecherry_conn_id)

    def _ids(self) -> list[int] | None:
        return None if self.ids is None else id_list(self.ids)


class PrepareShipNoticesOperator(_FulfilmentOperator):
    """Read BlueCherry's shipments, check Amazon's rules, draft 856s and labels; returns drafted ids."""

    def execute(self, context: Any) -> list[int]:
        from amazon_bluecherry.flows.fulfilment_to_asn_steps import prepare_ship_notices

        store, settings = self._store_settings()
        mappings = self._mappings(store, settings)
        hook = self._hook(settings)
        try:
            result = prepare_ship_notices(store, hook.get_conn(), settings, mappings, now=datetime.now(UTC))
        finally:
            hook.close()
        self.log.info("ASNs: %s drafted, %s waiting for the carrier, %s held, %s already sent", len(result.drafted),
                      len(result.waiting), len(result.held), len(result.already_sent))
        return result.drafted


class CheckShipNoticesOperator(_FulfilmentOperator):
    """The GX checkpoint over the batch of drafted 856s; returns the ids that may be staged."""

    def execute(self, context: Any) -> list[int]:
        from amazon_bluecherry.flows.fulfilment_to_asn_steps import check_ship_notices

        store, settings = self._store_settings()
        result = check_ship_notices(store, settings, self._mappings(store, settings), now=datetime.now(UTC),
                                    run_key=_run_key(context), notice_ids=self._ids())
        self.log.info("ASN checkpoint: %s passed, %s blocked", len(result.passed), len(result.blocked))
        return result.passed


class StageShipNoticesOperator(_FulfilmentOperator):
    """Store the checked 856s as pending files; returns every pending 856 outbound id."""

    def execute(self, context: Any) -> list[int]:
        from amazon_bluecherry.flows.fulfilment_to_asn_steps import stage_ship_notices

        store, settings = self._store_settings()
        return stage_ship_notices(store, settings, now=datetime.now(UTC), notice_ids=self._ids())


class ConfirmShipmentsOperator(_FulfilmentOperator):
    """Tell BlueCherry which shipments' ASNs went out (idempotent)."""

    def execute(self, context: Any) -> dict:
        from amazon_bluecherry.flows.fulfilment_to_asn_steps import confirm_shipments

        store, settings = self._store_settings()
        hook = self._hook(settings)
        try:
            result = confirm_shipments(store, hook.get_conn())
        finally:
            hook.close()
        self.log.info("shipments confirmed in BlueCherry: %s, refused: %s", len(result.confirmed), len(result.failed))
        return {"confirmed": len(result.confirmed), "failed": len(result.failed)}


class PrepareInvoicesOperator(_FulfilmentOperator):
    """Draft (or hold for finance) one 810 per shipment and PO; returns drafted ids."""

    def execute(self, context: Any) -> list[int]:
        from amazon_bluecherry.flows.invoicing import prepare_invoices

        store, settings = self._store_settings()
        hook = self._hook(settings)
        try:
            batch = prepare_invoices(store, hook.get_conn(), settings, now=datetime.now(UTC))
        finally:
            hook.close()
        self.log.info("810s: %s drafted, %s held, %s waiting for BlueCherry", len(batch.drafted), len(batch.held),
                      len(batch.waiting))
        return batch.drafted


class CheckInvoicesOperator(_FulfilmentOperator):
    """The GX checkpoint over the batch of drafted 810s; returns the ids that may be staged."""

    def execute(self, context: Any) -> list[int]:
        from amazon_bluecherry.flows.invoicing import check_invoices

        store, settings = self._store_settings()
        batch = check_invoices(store, settings, now=datetime.now(UTC), run_key=_run_key(context),
                               invoice_ids=self._ids())
        self.log.info("810 checkpoint: %s passed, %s held", len(batch.passed), len(batch.held))
        return batch.passed


class StageInvoicesOperator(_FulfilmentOperator):
    """Store the checked 810s as one pending file; returns every pending 810 outbound id."""

    def execute(self, context: Any) -> list[int]:
        from amazon_bluecherry.flows.invoicing import mark_sent, stage_invoices

        store, settings = self._store_settings()
        mark_sent(store)
        return stage_invoices(store, settings, invoice_ids=self._ids())


class MonitorAsnWindowsOperator(_FulfilmentOperator):
    """Amazon's 30-minute ASN window per shipment and overdue 997s: exceptions and alerts."""

    def execute(self, context: Any) -> dict:
        from amazon_bluecherry.flows.fulfilment_to_asn_steps import monitor_asn_windows
        from amazon_bluecherry.flows.invoicing import mark_sent

        store, settings = self._store_settings()
        mark_sent(store)
        result = monitor_asn_windows(store, settings, now=datetime.now(UTC))
        summary = {"met": len(result.met), "at_risk": len(result.at_risk), "missed": len(result.missed),
                   "unacknowledged": len(result.unacknowledged)}
        self.log.info("ASN windows: %s", summary)
        return summary
