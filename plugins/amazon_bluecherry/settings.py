"""The one settings model of the integration layer.

Every setting is an environment variable with the ``AB_`` prefix (``AB_DATABASE_URL``,
``AB_PO_SCHEDULE`` ...). Secrets are never settings: credentials live in Airflow
connections (``AIRFLOW_CONN_<ID>`` or a secrets backend) and are read by the hooks.
"""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[2]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AB_", extra="ignore")

    # --- store -------------------------------------------------------------------------
    home: Path = Field(
        default=REPO_ROOT / "var",
        description="Working folder for the embedded SQLite store and local artefacts.",
    )
    database_url: str = Field(
        default="",
        description="SQLAlchemy URL of the integration store; empty means SQLite under `home`.",
    )

    # --- mappings ----------------------------------------------------------------------
    mappings_dir: Path = Field(default=REPO_ROOT / "include" / "mappings")

    # --- trading partner identity --------------------------------------------------------
    partner_id: str = Field(default="AMAZON", description="Amazon's ISA/GS id.")
    partner_qualifier: str = Field(default="ZZ")
    vendor_id: str = Field(default="VENDOR", description="Our ISA/GS id at Amazon.")
    vendor_qualifier: str = Field(default="ZZ")
    vendor_code: str = Field(default="VENDR", description="Amazon vendor code (REF*CR, file names).")
    usage_indicator: str = Field(default="T", description="ISA15: P production, T test.")

    # --- connections (ids only; the secrets stay in Airflow) ----------------------------
    sftp_download_conn_id: str = "amazon_sftp_download"
    sftp_upload_conn_id: str = "amazon_sftp_upload"
    bluecherry_conn_id: str = "bluecherry_default"
    download_dir: str = "/download"
    upload_dir: str = "/upload"
    max_inbound_file_bytes: int = Field(default=50 * 1024 * 1024, ge=1)
    # --- SFTP mailbox (amazon/mailbox.py, hooks/amazon_sftp.py) ---------------------------
    pickup_max_files: int = Field(default=100, ge=1, description="Files downloaded per pickup run.")
    sftp_quarantine_dir: str = Field(
        default="quarantine",
        description="Remote folder for refused and oversize files, out of Amazon's 500-file folder: relative to "
                    "the download folder or absolute, created when missing. Empty = leave them in place.",
    )
    # --- intake hardening (issue 14): when a remote file is complete (amazon/mailbox.py) --------
    pickup_settle_seconds: float = Field(
        default=10, ge=0,
        description="A file is taken once two listings at least this far apart agree on its size and mtime "
                    "(and its bytes end with a whole interchange).",
    )
    pickup_stale_minutes: float = Field(
        default=60, gt=0,
        description="A file still incomplete, empty or temp-named this long after we first saw it opens one "
                    "exception (incomplete_file, empty_file, stale_temp_file).",
    )
    sftp_conn_timeout: int = Field(default=30, ge=1, description="Seconds; used when the connection sets none.")
    sftp_conn_retry_attempts: int = Field(default=3, ge=1)
    sftp_allow_no_host_key_check: bool = Field(
        default=False, description="Sandbox only: accept connections with no_host_key_check=true."
    )

    # --- order path -----------------------------------------------------------------------
    po_schedule: str = "*/15 * * * *"
    poa_schedule: str = "*/15 * * * *"
    price_tolerance: Decimal = Field(default=Decimal("0"), ge=0, description="Per-each price tolerance.")
    hold_on_price_mismatch: bool = Field(
        default=True,
        description="True: a PO with a price mismatch is held for wholesale; False: loaded at Amazon's price.",
    )
    poa_window_hours: int = 24
    poa_alert_lead_hours: float = 4.0
    ack_timeout_hours: float = Field(default=4.0, description="A sent document with no 997 after this is flagged.")

    # --- remit_to_journals (820 remittances, month-end reconciliation, dispute packets) ----
    remit_schedule: str = Field(default="0 7 * * *", description="Cron of remit_to_journals (daily cash application).")
    remit_bc_customer: str = Field(default="AMAZON", description="BlueCherry customer whose invoices Amazon pays.")
    remit_cash_account: str = Field(default="1010", description="GL account the cash receipts debit.")
    remit_ar_account: str = Field(default="1200", description="Trade AR: the counter account of the deduction journals.")
    remit_unapplied_cash_account: str = Field(default="2150", description="Where cash we cannot match waits.")
    remit_suspense_account: str = Field(
        default="1299", description="Unrecognised remittance lines post here (owner finance) so the remittance balances.")
    remit_journal_source: str = Field(default="AMAZON-820", description="Source code of our journals in BlueCherry.")
    dispute_window_days: int = Field(default=30, ge=1, description="Days Amazon allows to dispute a deduction.")
    dispute_alert_days: list[int] = Field(
        default=[20, 25], description="Days after the remittance on which an open claim raises dispute_window_closing.")
    reports_dir: Path | None = Field(default=None, description="Reconciliation reports; default <AB_HOME>/reports.")
    dispute_packets_dir: Path | None = Field(
        default=None, description="Dispute packets (one folder per claim); default <AB_HOME>/dispute_packets.")

    # --- stock_to_846 (BlueCherry available-to-sell -> Amazon 846 inventory feed) --------
    inventory_schedule: str = Field(
        default="*/5 * * * *",
        description="Cron of stock_to_846: each run publishes only the tiers that are due (below).")
    inventory_max_age_minutes: float = Field(
        default=60, gt=0, description="A snapshot older than this is refused (stale_inventory_snapshot).")
    inventory_include_incoming: bool = Field(
        default=False, description="Count incoming (open PO, in transit) stock as available. Off: on the shelf only.")
    inventory_warehouses: str = Field(
        default="", description="Comma separated BlueCherry warehouses that serve Amazon; "
        "empty = the warehouses of ship_to.csv.")
    inventory_buffer_file: Path | None = Field(
        default=None, description="Buffer policy; default <AB_MAPPINGS_DIR>/inventory_buffer.yaml.")
    inventory_velocity_days: int = Field(
        default=14, ge=1, description="Window of Amazon orders (in the store) that tiers SKUs by velocity.")
    inventory_fast_mover_units: int = Field(
        default=24, ge=1, description="Eaches Amazon ordered in the window that make a SKU a fast mover.")
    inventory_fast_minutes: float = Field(default=15, gt=0, description="How often fast movers are published.")
    inventory_slow_minutes: float = Field(default=60, gt=0, description="How often the other SKUs are published.")
    inventory_peak_season: bool = Field(default=False, description="Q4 peak: the two intervals below apply instead.")
    inventory_peak_fast_minutes: float = Field(default=5, gt=0)
    inventory_peak_slow_minutes: float = Field(default=30, gt=0)
    inventory_full_feed_hours: float = Field(
        default=24, gt=0, description="A full feed (every SKU) at least this often; deltas in between.")
    inventory_max_swing_share: float = Field(
        default=0.5, gt=0, description="Quality gate: a SKU's published quantity may not move by more than this "
        "share since the last feed unless BlueCherry's own figures (or its buffer rule) moved as much.")
    inventory_product_id_qualifiers: str = Field(
        default="UP,EN,UK,VN,IB,UA,VP", description="Which items.csv identifier names an item on the 846, "
        "in order of preference (Amazon's ASIN goes with it when known).")

    # --- fulfilment_to_asn ----------------------------------------------------------------
    # The ASN is due within 30 minutes of departure (amazon/rules.yaml): run often.
    asn_schedule: str = "*/5 * * * *"
    asn_x12_version: Literal["005010", "004010"] = Field(
        default="005010", description="GS08 of the 856 for a partner whose registry entry (edi/guides/registry.yaml "
        "outbound_versions) names none; the registry wins. Amazon retail is 005010.")
    asn_alert_lead_minutes: float = Field(default=10.0, ge=0, description="asn_window_at_risk this long before due.")
    asn_carrier_wait_minutes: float = Field(
        default=60.0, ge=0,
        description="A shipped order whose carrier has not confirmed collection (or tracking) after this is "
                    "asn_waiting_for_carrier.")
    invoice_source: Literal["bluecherry", "asn"] = Field(
        default="bluecherry",
        description="bluecherry: send BlueCherry's invoice of each shipment and PO; asn: build it from the ASN.")
    invoice_number_prefix: str = Field(default="INV", description="Invoices built from the ASN: prefix + sequence.")
    invoice_terms_type: str = Field(default="01", description="ITD01: 01 basic, 02 end of month ...")
    invoice_terms_net_days: int = Field(default=60, ge=0, description="The agreed net days (ITD07).")
    invoice_terms_discount_percent: Decimal = Field(default=Decimal("0"), ge=0)
    invoice_terms_discount_days: int = Field(default=0, ge=0)
    invoice_bill_to_name: str = Field(default="Amazon.com Services LLC", description="N1*BT exactly as agreed.")
    invoice_bill_to_qualifier: str = "92"
    invoice_bill_to_id: str = "AMAZON"
    invoice_remit_to_name: str = Field(default="VENDOR INC", description="N1*RI: who Amazon pays.")

    # --- operations: alerts, console, daily report, timeouts (issue 12) -----------------
    # Alert channels are configured once, in an Airflow connection of type "apprise" (its
    # URLs carry tokens, so they are secrets, never settings): each URL tagged with the
    # owner teams it serves (finance, warehouse, wholesale, integration; "always" = all).
    alert_conn_id: str = Field(default="amazon_bluecherry_alerts",
                               description="Apprise connection with the alert channels; absent = log only.")
    console_url: str = Field(default="http://localhost:8080/exceptions-console/",
                             description="The exceptions console in the Airflow UI, for links in alerts.")
    runbook_base_url: str = Field(default="", description="Where docs/runbooks/ is published; empty = repo path.")
    task_timeout_minutes: int = Field(default=30, ge=1, description="execution_timeout of every task.")
    task_retry_delay_seconds: int = Field(
        default=60, ge=1, description="First retry_delay of every task (doubling up to 15 minutes).")
    alert_max_attempts: int = Field(default=5, ge=1, description="Deliveries of one alert before giving up.")
    quality_report_schedule: str = Field(default="0 6 * * *", description="daily_quality_report (UTC).")
    quality_trailing_days: int = Field(default=7, ge=1, description="Days in the report's trailing average.")
    quality_volume_tolerance: float = Field(
        default=0.5, gt=0, description="A day off its trailing average by more than this share is flagged.")

    @field_validator("home", "mappings_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.home / 'integration.sqlite'}"

    @property
    def posting_policy(self):
        """remit_to_journals: where a remittance's money goes in BlueCherry."""
        from amazon_bluecherry.flows.remit_to_journals import PostingPolicy

        return PostingPolicy(bc_customer=self.remit_bc_customer, ar_account=self.remit_ar_account,
                             unapplied_cash_account=self.remit_unapplied_cash_account,
                             suspense_account=self.remit_suspense_account, journal_source=self.remit_journal_source)

    @property
    def effective_inventory_buffer_file(self) -> Path:
        return (self.inventory_buffer_file or self.mappings_dir / "inventory_buffer.yaml").expanduser().resolve()

    @property
    def effective_reports_dir(self) -> Path:
        return (self.reports_dir or self.home / "reports").expanduser().resolve()

    @property
    def effective_dispute_packets_dir(self) -> Path:
        return (self.dispute_packets_dir or self.home / "dispute_packets").expanduser().resolve()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def reset_settings_cache() -> None:
    """Tests and the CLI change ``AB_*`` variables at run time; forget the cached model."""
    get_settings.cache_clear()
