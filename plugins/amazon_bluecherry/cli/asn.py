"""``amazon-bluecherry asn ...``: Amazon's ASN rules on an 856 file, by hand or from other tools.

``asn lint FILE.edi --mappings DIR [--json]`` prints, per shipment (BSN02), the findings of
the rules fulfilment_to_asn applies before sending (approved carriers from DIR/carriers.csv):
``{"shipments": [{"shipment_id": ..., "findings": [{"rule": ..., "message": ...}]}]}``.
Rule names (other tools rely on them): sscc_check_digit, sscc_reused, scac_not_approved,
bol_is_date, bol_format, ship_date_out_of_range, carton_quantity_mismatch, missing_tracking.
Exit 0: no findings; 1: findings; 2: the file cannot be read as X12 856s.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from amazon_bluecherry.cli import CommandError


def register(subparsers) -> None:
    asn = subparsers.add_parser("asn", help="856 ship notices: Amazon's rules on a file")
    commands = asn.add_subparsers(dest="asn_command", metavar="ACTION", required=True)
    lint = commands.add_parser("lint", help="check an 856 file against Amazon's ASN rules (no side effects)")
    lint.add_argument("file", type=Path, help="X12 file with 856 ship notices")
    lint.add_argument("--mappings", type=Path, required=True, help="folder with carriers.csv")
    lint.add_argument("--json", action="store_true", help="print the JSON report")
    lint.set_defaults(handler=_lint)


def lint_report(content: bytes, mappings_dir: Path, *, today=None) -> dict:
    """The lint report of an 856 file; raises ValueError when it cannot be read."""
    from amazon_bluecherry.amazon.rules import amazon_rules
    from amazon_bluecherry.edi.documents import ShipNotice
    from amazon_bluecherry.edi.parse import DocumentError, parse_transaction
    from amazon_bluecherry.edi.reader import NotX12Error, X12Error, iter_transaction_sets
    from amazon_bluecherry.flows.fulfilment_mappings import load_carriers
    from amazon_bluecherry.flows.fulfilment_to_asn import LINT_RULES, check_facts, facts_from_notice
    from amazon_bluecherry.settings import get_settings

    content, bad_ssccs = _mend_check_digits(content)
    found: dict[str, int] = {}
    notices = []
    try:
        # Only the 856 sets are read: an 850 or 810 in the same file is not this command's business.
        for interchange, group, transaction_set in iter_transaction_sets(content):
            set_id = transaction_set.set_id.strip()
            found[set_id] = found.get(set_id, 0) + 1
            if set_id == "856":
                notices.append(parse_transaction(transaction_set, interchange, group))
    except (NotX12Error, X12Error, DocumentError) as exc:
        raise ValueError(str(exc)) from exc
    notices = [notice for notice in notices if isinstance(notice, ShipNotice)]
    if not notices:
        held = ", ".join(f"{count} x {set_id}" for set_id, count in sorted(found.items()))
        raise ValueError(f"no 856 ship notice in the file (it holds {held or 'no transaction set'})")
    carriers = load_carriers(mappings_dir / "carriers.csv")
    rules = amazon_rules()["ship_notice"]
    today = today or datetime.now(UTC).date()
    seen: dict[str, str] = {}
    shipments = []
    for notice in notices:
        facts = facts_from_notice(notice)

        def in_other_notice(sscc: str, shipment_id=notice.shipment_id) -> str | None:
            other = seen.get(sscc)
            return f"shipment {other} in this file" if other and other != shipment_id else None

        findings = check_facts(facts, approved_scacs=carriers, vendor_code=get_settings().vendor_code, today=today,
                               rules=rules, sscc_used_elsewhere=in_other_notice)
        for carton in facts.cartons:
            if carton.sscc:
                seen.setdefault(carton.sscc, notice.shipment_id)
        bad = [{"rule": "sscc_check_digit", "message": f"SSCC {sscc} has a wrong GS1 check digit; reprint the carton "
                "label with a valid SSCC-18 and correct the carton in BlueCherry"}
               for sscc in bad_ssccs.get(notice.shipment_id, [])]
        shipments.append({"shipment_id": notice.shipment_id,
                          "findings": bad + [f.to_dict() for f in findings if f.rule in LINT_RULES]})
    return {"shipments": shipments}


def _mend_check_digits(content: bytes) -> tuple[bytes, dict[str, list[str]]]:
    """SSCCs with a wrong check digit, per BSN02, and the file with them corrected so it parses.

    The typed 856 refuses such an SSCC; the lint must still report every other rule.
    """
    from amazon_bluecherry.edi import segments as x
    from amazon_bluecherry.edi.gs1 import is_valid_sscc, sscc_check_digit
    from amazon_bluecherry.edi.reader import iter_segments

    shipment_at, mark_at, qualifier_at = x.BSN.positions["shipment_id"], x.MAN.positions["value"], x.MAN.positions["qualifier"]
    bad: dict[str, list[str]] = {}
    shipment = ""
    try:
        for segment, _ in iter_segments(content):
            if segment[0] == "BSN" and len(segment) > shipment_at:
                shipment = segment[shipment_at]
            elif segment[0] == "MAN" and len(segment) > mark_at and segment[qualifier_at] == "GM":
                value = segment[mark_at][2:] if len(segment[mark_at]) == 20 else segment[mark_at]
                if len(value) == 18 and value.isdigit() and not is_valid_sscc(value):
                    bad.setdefault(shipment, []).append(value)
                    content = content.replace(value.encode(), (value[:17] + str(sscc_check_digit(value[:17]))).encode())
    except Exception:  # noqa: BLE001 - unreadable: parse_file says why
        return content, {}
    return content, bad


def _lint(args) -> int:
    from amazon_bluecherry.flows.mappings import MappingError

    try:
        content = args.file.read_bytes()
    except OSError as exc:
        raise CommandError(f"{args.file}: cannot be read ({exc})", 2) from exc
    try:
        report = lint_report(content, args.mappings)
    except MappingError as exc:
        raise CommandError(str(exc), 2) from exc
    except ValueError as exc:
        raise CommandError(f"{args.file}: not a readable 856 file: {exc}", 2) from exc
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for shipment in report["shipments"]:
            print(f"shipment {shipment['shipment_id']}: {len(shipment['findings'])} finding(s)")
            for finding in shipment["findings"]:
                print(f"  [{finding['rule']}] {finding['message']}")
    return 1 if any(s["findings"] for s in report["shipments"]) else 0
