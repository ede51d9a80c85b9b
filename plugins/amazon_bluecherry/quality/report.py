"""The daily data-quality report: one UTC day of every flow, for people who do not read SQL.

Sections: volumes per flow against the trailing average (a drop or a spike is flagged: the
daily order-volume check), Great Expectations results (from ``quality_results``),
exceptions opened and closed by owner team and the age of what is still open, Amazon's
windows (855 within 24 h, ASN within 30 min once that flow runs), and deductions by type
once remittances flow. A flow with no data yet says so instead of failing.

HTML with inline SVG charts: no JavaScript, nothing fetched, readable in any mail client.
"""

from __future__ import annotations

import html
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select

from amazon_bluecherry.settings import Settings
from amazon_bluecherry.store import Store
from amazon_bluecherry.store.models import (
    OWNER_TEAMS,
    Deadline,
    Event,
    ExceptionRecord,
    QualityResult,
    Transaction,
)

# What counts as one flow's daily volume: (flow, label, doc_type, direction). Flows that
# are not built yet simply have no rows.
VOLUMES = [
    ("po_to_so", "850 purchase orders received", "850", "in"),
    ("so_to_poa", "855 acknowledgements sent", "855", "out"),
    ("fulfilment_to_asn", "856 ASNs sent", "856", "out"),
    ("fulfilment_to_asn", "810 invoices sent", "810", "out"),
    ("stock_to_846", "846 inventory feeds sent", "846", "out"),
    ("remit_to_journals", "820 remittances received", "820", "in"),
]
# Amazon's windows, by the deadline kind the flows record per document.
WINDOWS = {"poa_due": "855 within 24 h of the PO", "asn_due": "ASN within 30 min of departure"}
AGE_BUCKETS = [("< 1 day", timedelta(days=1)), ("1-3 days", timedelta(days=3)), ("3-7 days", timedelta(days=7)),
               ("> 7 days", None)]
TEAM_COLOURS = {"finance": "#6a51a3", "warehouse": "#d94801", "wholesale": "#2171b5", "integration": "#238b45"}


@dataclass
class VolumeRow:
    flow: str
    label: str
    today: int
    history: list[tuple[date, int]]       # the trailing days, oldest first
    average: float | None
    flag: str | None                       # "drop" / "spike" / None


@dataclass
class Report:
    day: date
    volumes: list[VolumeRow] = field(default_factory=list)
    quality: list[dict] = field(default_factory=list)
    exceptions: dict = field(default_factory=dict)
    windows: list[dict] = field(default_factory=list)
    deductions: list[dict] | None = None
    flags: list[str] = field(default_factory=list)
    html: str = ""

    def summary(self) -> dict:
        return {
            "day": self.day.isoformat(), "flags": self.flags,
            "volumes": {row.label: {"today": row.today, "average": row.average, "flag": row.flag}
                        for row in self.volumes},
            "quality": self.quality, "exceptions": self.exceptions, "windows": self.windows,
            "deductions": self.deductions,
        }


def _bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), tzinfo=UTC)
    return start, start + timedelta(days=1)


def build_report(store: Store, day: date, settings: Settings, *, now: datetime | None = None) -> Report:
    now = now or datetime.now(UTC)
    report = Report(day=day)
    with store.session() as db:
        report.volumes = _volumes(db, day, settings)
        report.quality = _quality(db, day)
        report.exceptions = _exceptions(db, day)
        report.windows = _windows(db, day, now)
        report.deductions = _deductions(db, day)
    for row in report.volumes:
        if row.flag:
            report.flags.append(f"{row.label}: {row.today} on {day.isoformat()}, a {row.flag} against the "
                                f"{settings.quality_trailing_days}-day average of {row.average:.1f}")
    for suite in report.quality:
        if suite["failed_runs"]:
            report.flags.append(f"quality check {suite['suite']}: {suite['failed_runs']} of {suite['runs']} run(s) "
                                "blocked documents")
    for window in report.windows:
        if window["missed"]:
            report.flags.append(f"{window['label']}: {window['missed']} missed")
    report.html = render_html(report, settings, generated_at=now)
    return report


def _volumes(db, day: date, settings: Settings) -> list[VolumeRow]:
    days = settings.quality_trailing_days
    first, _ = _bounds(day - timedelta(days=days))
    _, last = _bounds(day)
    rows = []
    for flow, label, doc_type, direction in VOLUMES:
        created = list(db.scalars(select(Transaction.created_at).where(
            Transaction.doc_type == doc_type, Transaction.direction == direction,
            Transaction.created_at >= first, Transaction.created_at < last)))
        per_day = Counter(moment.astimezone(UTC).date() for moment in created)
        ever = db.scalar(select(func.min(Transaction.created_at)).where(
            Transaction.doc_type == doc_type, Transaction.direction == direction))
        history = [(day - timedelta(days=offset), per_day.get(day - timedelta(days=offset), 0))
                   for offset in range(days, 0, -1)]
        # Days before the flow's first document are not part of its average.
        if ever is not None:
            started = ever.astimezone(UTC).date()
            counted = [count for moment, count in history if moment >= started]
        else:
            counted = []
        average = sum(counted) / len(counted) if counted else None
        today = per_day.get(day, 0)
        flag = None
        if average is not None and average >= 1:
            tolerance = settings.quality_volume_tolerance
            if today < average * (1 - tolerance):
                flag = "drop"
            elif today > average * (1 + tolerance):
                flag = "spike"
        rows.append(VolumeRow(flow, label, today, history, average, flag))
    return rows


def _quality(db, day: date) -> list[dict]:
    start, end = _bounds(day)
    suites: dict[str, dict] = {}
    for result in db.scalars(select(QualityResult).where(QualityResult.created_at >= start,
                                                         QualityResult.created_at < end).order_by(QualityResult.id)):
        suite = suites.setdefault(result.suite, {"suite": result.suite, "runs": 0, "failed_runs": 0, "rows": 0,
                                                 "evaluated": 0, "failed_expectations": Counter()})
        suite["runs"] += 1
        suite["failed_runs"] += 0 if result.success else 1
        suite["rows"] += int((result.results or {}).get("rows") or 0)
        suite["evaluated"] += result.evaluated
        for failure in (result.results or {}).get("failures", []):
            suite["failed_expectations"][failure.get("description") or failure.get("expectation")] += int(
                failure.get("unexpected_count") or len(failure.get("keys") or []))
    return [{**suite, "failed_expectations": dict(suite["failed_expectations"].most_common(10))}
            for suite in suites.values()]


def _exceptions(db, day: date) -> dict:
    start, end = _bounds(day)
    opened = Counter(db.scalars(select(ExceptionRecord.owner).where(ExceptionRecord.created_at >= start,
                                                                    ExceptionRecord.created_at < end)))
    closed = Counter()
    for event in db.scalars(select(Event).where(Event.kind == "exception.resolved", Event.at >= start,
                                                Event.at < end)):
        record = db.get(ExceptionRecord, int(event.entity_id))
        if record is not None:
            closed[record.owner] += 1
    ages: dict[str, Counter] = defaultdict(Counter)
    by_type: Counter = Counter()
    still_open = db.scalars(select(ExceptionRecord).where(
        ExceptionRecord.created_at < end,
        (ExceptionRecord.resolved_at.is_(None)) | (ExceptionRecord.resolved_at >= end)))
    for record in still_open:
        age = end - record.created_at
        bucket = next(name for name, limit in AGE_BUCKETS if limit is None or age < limit)
        ages[record.owner][bucket] += 1
        by_type[(record.owner, record.type)] += 1
    return {
        "opened": {team: opened.get(team, 0) for team in OWNER_TEAMS},
        "closed": {team: closed.get(team, 0) for team in OWNER_TEAMS},
        "open_by_age": {team: {name: ages[team].get(name, 0) for name, _ in AGE_BUCKETS} for team in OWNER_TEAMS},
        "open_by_type": [{"owner": owner, "type": kind, "count": count}
                         for (owner, kind), count in by_type.most_common(15)],
    }


def _windows(db, day: date, now: datetime) -> list[dict]:
    """Deadlines due this day: met in time, missed (late, or past due with nothing sent: the
    monitor may not have recorded it yet), or still open (not due yet)."""
    start, end = _bounds(day)
    rows = []
    kinds = set(db.scalars(select(Deadline.kind).distinct())) | set(WINDOWS)
    for kind in sorted(kinds, key=lambda k: (k not in WINDOWS, k)):
        due = list(db.scalars(select(Deadline).where(Deadline.kind == kind, Deadline.due_at >= start,
                                                     Deadline.due_at < end)))
        met = sum(1 for d in due if d.met_at is not None and d.met_at <= d.due_at)
        missed = sum(1 for d in due if d.missed_at is not None or (d.met_at is not None and d.met_at > d.due_at)
                     or (d.met_at is None and d.due_at <= now))
        rows.append({"kind": kind, "label": WINDOWS.get(kind, kind), "due": len(due), "met": met, "missed": missed,
                     "open": len(due) - met - missed,
                     "compliance": round(100 * met / (met + missed), 1) if met + missed else None})
    return rows


def _deductions(db, day: date) -> list[dict] | None:
    """Deductions by type in the remittances received this day (remit_to_journals' tables);
    None while no remittance was ever received."""
    from amazon_bluecherry.store.models import Remittance, RemittanceLine

    if db.scalar(select(func.count()).select_from(Remittance)) == 0:
        return None
    start, end = _bounds(day)
    rows = db.execute(
        select(RemittanceLine.deduction_type, func.count(), func.sum(RemittanceLine.amount))
        .join(Remittance, Remittance.id == RemittanceLine.remittance_id)
        .where(Remittance.received_at >= start, Remittance.received_at < end, RemittanceLine.amount < 0)
        .group_by(RemittanceLine.deduction_type).order_by(func.sum(RemittanceLine.amount)))
    return [{"type": str(kind), "count": int(count), "amount": float(-(total or 0))} for kind, count, total in rows]


# --- HTML ----------------------------------------------------------------------------------

def _e(value) -> str:
    return html.escape(str(value))


def _bar_chart(points: list[tuple[str, int]], *, highlight_last: str | None, average: float | None,
               width: int = 320, height: int = 90) -> str:
    """A small bar chart: the trailing days in grey, the report day coloured by its flag."""
    if not points:
        return ""
    top = max([count for _, count in points] + [average or 0, 1])
    bar = width / len(points)
    parts = [f'<svg role="img" width="{width}" height="{height + 16}" viewBox="0 0 {width} {height + 16}" '
             f'xmlns="http://www.w3.org/2000/svg">']
    for index, (label, count) in enumerate(points):
        bar_height = 0 if top == 0 else (count / top) * height
        last = index == len(points) - 1
        colour = {"drop": "#cb181d", "spike": "#fd8d3c"}.get(highlight_last or "", "#2171b5") if last else "#bdbdbd"
        x = index * bar + 2
        parts.append(f'<rect x="{x:.1f}" y="{height - bar_height:.1f}" width="{bar - 4:.1f}" '
                     f'height="{bar_height:.1f}" fill="{colour}"><title>{_e(label)}: {count}</title></rect>')
        if last or index == 0:
            parts.append(f'<text x="{x:.1f}" y="{height + 12}" font-size="9" fill="#555">{_e(label[5:])}</text>')
    if average:
        y = height - (average / top) * height
        parts.append(f'<line x1="0" x2="{width}" y1="{y:.1f}" y2="{y:.1f}" stroke="#000" stroke-dasharray="4 3"/>')
    parts.append("</svg>")
    return "".join(parts)


def _stacked_bars(rows: dict[str, dict[str, int]], *, width: int = 420) -> str:
    """One horizontal bar per team, split into age buckets."""
    bucket_colours = ["#c7e9c0", "#fdd0a2", "#fc9272", "#cb181d"]
    total = max([sum(values.values()) for values in rows.values()] + [1])
    height = 22 * len(rows) + 24
    parts = [f'<svg role="img" width="{width + 120}" height="{height}" xmlns="http://www.w3.org/2000/svg">']
    for index, (team, values) in enumerate(rows.items()):
        y = index * 22 + 4
        parts.append(f'<text x="0" y="{y + 13}" font-size="12">{_e(team)}</text>')
        x = 90.0
        for (bucket, count), colour in zip(values.items(), bucket_colours, strict=False):
            if not count:
                continue
            length = count / total * width
            parts.append(f'<rect x="{x:.1f}" y="{y}" width="{length:.1f}" height="16" fill="{colour}">'
                         f'<title>{_e(team)} {_e(bucket)}: {count}</title></rect>')
            x += length
        parts.append(f'<text x="{x + 4:.1f}" y="{y + 13}" font-size="11">{sum(values.values())}</text>')
    legend_y = len(rows) * 22 + 18
    for index, ((bucket, _), colour) in enumerate(zip(AGE_BUCKETS, bucket_colours, strict=True)):
        parts.append(f'<rect x="{90 + index * 90}" y="{legend_y - 9}" width="10" height="10" fill="{colour}"/>'
                     f'<text x="{104 + index * 90}" y="{legend_y}" font-size="10">{_e(bucket)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _gauge(percent: float | None) -> str:
    if percent is None:
        return '<span class="muted">nothing due</span>'
    colour = "#238b45" if percent >= 99 else "#fd8d3c" if percent >= 95 else "#cb181d"
    return (f'<svg width="160" height="14" xmlns="http://www.w3.org/2000/svg"><rect width="160" height="14" '
            f'fill="#eee"/><rect width="{1.6 * percent:.1f}" height="14" fill="{colour}"/></svg> {percent:.1f} %')


def render_html(report: Report, settings: Settings, *, generated_at: datetime) -> str:
    """The report as one HTML page: what needs a look, then volumes, GX checks, exceptions,
    Amazon's windows and deductions."""
    out = _page_head(report, settings, generated_at)
    out += _flags_section(report)
    out += _volumes_section(report, settings)
    out += _quality_section(report)
    out += _exceptions_section(report)
    out += _windows_section(report)
    out += _deductions_section(report)
    out.append("</body></html>")
    return "\n".join(out)


def _page_head(report: Report, settings: Settings, generated_at: datetime) -> list[str]:
    day = report.day.isoformat()
    return [f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Data-quality report {day}</title>
<style>
body{{font-family:Helvetica,Arial,sans-serif;color:#222;max-width:980px;margin:24px auto;padding:0 12px}}
h1{{font-size:22px}} h2{{font-size:17px;border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:28px}}
table{{border-collapse:collapse;width:100%;font-size:13px}} td,th{{border-bottom:1px solid #eee;padding:5px 6px;
text-align:left;vertical-align:middle}} th{{background:#f6f6f6}} .flag{{color:#cb181d;font-weight:bold}}
.ok{{color:#238b45}} .muted{{color:#888}} .flags li{{color:#cb181d}} .num{{text-align:right}}
</style></head><body>
<h1>Data-quality report: {day} (UTC)</h1>
<p class="muted">Generated {generated_at:%Y-%m-%d %H:%M} UTC by amazon-bluecherry.
Exceptions console: <a href="{_e(settings.console_url)}">{_e(settings.console_url)}</a></p>"""]


def _flags_section(report: Report) -> list[str]:
    if report.flags:
        return ["<h2>Needs a look</h2><ul class='flags'>" + "".join(f"<li>{_e(f)}</li>" for f in report.flags)
                + "</ul>"]
    return ["<h2>Needs a look</h2><p class='ok'>Nothing flagged.</p>"]


def _volumes_section(report: Report, settings: Settings) -> list[str]:
    """Each flow's documents of the day against its trailing average, with a bar chart."""
    day = report.day.isoformat()
    out = [f"<h2>Volumes per flow</h2><p class='muted'>The day against the average of the "
           f"{settings.quality_trailing_days} days before it (dashed line); a day more than "
           f"{settings.quality_volume_tolerance:.0%} off the average is flagged.</p>"
           "<table><tr><th>flow</th><th>documents</th><th class='num'>day</th><th class='num'>average</th>"
           "<th>status</th><th>trend</th></tr>"]
    for row in report.volumes:
        if row.average is None and row.today == 0:
            status = "<span class='muted'>no data yet</span>"
        elif row.flag:
            status = f"<span class='flag'>{_e(row.flag)}</span>"
        else:
            status = "<span class='ok'>normal</span>"
        chart = _bar_chart([(d.isoformat(), n) for d, n in row.history] + [(day, row.today)],
                           highlight_last=row.flag, average=row.average) if row.average is not None or row.today else ""
        average = f"{row.average:.1f}" if row.average is not None else "-"
        out.append(f"<tr><td>{_e(row.flow)}</td><td>{_e(row.label)}</td><td class='num'>{row.today}</td>"
                   f"<td class='num'>{average}</td><td>{status}</td><td>{chart}</td></tr>")
    out.append("</table>")
    return out


def _quality_section(report: Report) -> list[str]:
    """Each GX checkpoint's runs of the day and what it blocked."""
    out = ["<h2>Data-quality checks (Great Expectations)</h2>"]
    if not report.quality:
        out.append("<p class='muted'>No checkpoint ran this day.</p>")
        return out
    out.append("<table><tr><th>check</th><th class='num'>runs</th><th class='num'>runs that blocked</th>"
               "<th class='num'>rows checked</th><th>failed expectations (rows)</th></tr>")
    for suite in report.quality:
        failed = "; ".join(f"{_e(name)} ({count})" for name, count in suite["failed_expectations"].items())
        css = "flag" if suite["failed_runs"] else "ok"
        out.append(f"<tr><td>{_e(suite['suite'])}</td><td class='num'>{suite['runs']}</td>"
                   f"<td class='num {css}'>{suite['failed_runs']}</td><td class='num'>{suite['rows']}</td>"
                   f"<td>{failed or '<span class=ok>all passed</span>'}</td></tr>")
    out.append("</table>")
    return out


def _exceptions_section(report: Report) -> list[str]:
    """Opened, resolved and still open per team; the age and type of what is open."""
    exceptions = report.exceptions
    out = ["<h2>Exceptions by team</h2><table><tr><th>team</th><th class='num'>opened</th>"
           "<th class='num'>resolved</th><th class='num'>open at end of day</th></tr>"]
    for team in OWNER_TEAMS:
        still_open = sum(exceptions["open_by_age"][team].values())
        out.append(f"<tr><td>{_e(team)}</td><td class='num'>{exceptions['opened'][team]}</td>"
                   f"<td class='num'>{exceptions['closed'][team]}</td><td class='num'>{still_open}</td></tr>")
    out.append("</table><p>Age of open exceptions:</p>" + _stacked_bars(exceptions["open_by_age"]))
    if exceptions["open_by_type"]:
        out.append("<table><tr><th>team</th><th>type</th><th class='num'>open</th></tr>" + "".join(
            f"<tr><td>{_e(r['owner'])}</td><td>{_e(r['type'])}</td><td class='num'>{r['count']}</td></tr>"
            for r in exceptions["open_by_type"]) + "</table>")
    return out


def _windows_section(report: Report) -> list[str]:
    """Amazon's windows due this day: met, missed, still open, compliance."""
    out = ["<h2>Amazon's windows</h2><table><tr><th>window</th><th class='num'>due this day</th>"
           "<th class='num'>met</th><th class='num'>missed</th><th class='num'>still open</th>"
           "<th>compliance</th></tr>"]
    for window in report.windows:
        if window["due"] == 0 and window["kind"] not in WINDOWS:
            continue
        note = "" if window["due"] else " <span class='muted'>(no data yet)</span>"
        out.append(f"<tr><td>{_e(window['label'])}{note}</td><td class='num'>{window['due']}</td>"
                   f"<td class='num'>{window['met']}</td><td class='num'>{window['missed']}</td>"
                   f"<td class='num'>{window['open']}</td><td>{_gauge(window['compliance'])}</td></tr>")
    out.append("</table>")
    return out


def _deductions_section(report: Report) -> list[str]:
    out = ["<h2>Deductions by type</h2>"]
    if report.deductions is None:
        out.append("<p class='muted'>No remittance data yet (remit_to_journals has not written any).</p>")
    elif not report.deductions:
        out.append("<p class='muted'>No deductions this day.</p>")
    else:
        out.append("<table><tr><th>type</th><th class='num'>lines</th><th class='num'>amount</th></tr>" + "".join(
            f"<tr><td>{_e(r['type'])}</td><td class='num'>{r['count']}</td><td class='num'>{r['amount']:,.2f}</td></tr>"
            for r in report.deductions) + "</table>")
    return out


def store_report(store: Store, report: Report) -> int:
    """Keep the day's report (a re-run replaces it); returns its id."""
    from amazon_bluecherry.store.models import QualityReport

    with store.session() as db:
        existing = db.scalar(select(QualityReport).where(QualityReport.report_date == report.day.isoformat()))
        if existing is None:
            existing = QualityReport(report_date=report.day.isoformat(), html=report.html, summary=report.summary())
            db.add(existing)
        else:
            existing.html, existing.summary = report.html, report.summary()
        db.flush()
        store.record_event("quality_report.stored", entity_type="quality_report", entity_id=existing.id,
                           payload={"day": report.day.isoformat(), "flags": len(report.flags)}, session=db)
        return existing.id
