"""Fuzz campaign: mutated X12 files through the reader, the validator, the 997 and translation.

Seeded and re-runnable. Seeds are well-formed files: Amazon-style 850s written by our
writer from the item master (the orders the benchmark sends) and the X12 samples shipped
in include/edi_samples/. Each file is damaged in one of two ways:

- byte-level: flip, insert, delete, duplicate or truncate bytes, swap delimiters;
- structure-aware: read the segments, then drop, duplicate, swap or repeat segments,
  blank, lengthen or replace elements (quantities 0/negative/huge, dates that do not
  exist, unknown qualifiers, non-ASCII), and write the file back with its delimiters.

Every file must get a verdict -- not X12, rejected by the validator, accepted and
unreadable as a document (one exception for that PO), or accepted and translated --
without an unexpected exception, within 1 s of CPU time (process time: wall time on a
shared machine measures the neighbours), and the process's memory must stay flat.
The last line is machine-readable:

    fuzz_files=N crashes=N slowest_seconds=N peak_rss_mib=N rss_growth_mib=N verdicts=...

Usage: python bench/campaign_fuzz.py [--files 10000] [--seed 13] [--show-crashes 5]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing bench/

SLOW_SECONDS = 1.0
ODD_VALUES = ["", "0", "-5", "999999999999", "1.5", "20261399", "ZZ", "\u00e9\u00e8", "*", "~",
              "X" * 300, "00", "CA", "EA", "BX", "UP", "IB", "N", "Y", "ST", "BY"]


def seed_files(count: int, rng: random.Random) -> list[bytes]:
    """Well-formed files: our own 850s of several sizes, and the shipped samples."""
    from amazon_bluecherry.edi.build import write_documents
    from amazon_bluecherry.edi.writer import InMemoryControlNumbers
    from amazon_bluecherry.settings import REPO_ROOT
    from bench.bench_orders import purchase_orders

    files = []
    numbers = InMemoryControlNumbers()
    for size in (1, 2, 5):
        orders = list(purchase_orders(size, rng.choice([1, 3, 12]), date(2026, 11, 30)))
        files.append(write_documents(orders, sender="AMAZON", receiver="VENDOR", control_numbers=numbers))
    files += [path.read_bytes() for path in sorted((REPO_ROOT / "include" / "edi_samples").glob("*"))
              if path.suffix in (".edi", ".txt", ".x12")]
    return files[:count] if count else files


def mutate_bytes(data: bytes, rng: random.Random) -> bytes:
    buffer = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        if not buffer:
            break
        at = rng.randrange(len(buffer))
        kind = rng.choice(["flip", "insert", "delete", "duplicate", "truncate", "delimiter"])
        if kind == "flip":
            buffer[at] = rng.randrange(256)
        elif kind == "insert":
            buffer[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
        elif kind == "delete":
            del buffer[at : at + rng.randint(1, 40)]
        elif kind == "duplicate":
            end = min(len(buffer), at + rng.randint(1, 200))
            buffer[end:end] = buffer[at:end]
        elif kind == "truncate":
            del buffer[at:]
        else:  # one delimiter replaced everywhere by another byte
            old = rng.choice(b"*~>^|\n")
            buffer = bytearray(bytes(buffer).replace(bytes([old]), bytes([rng.choice(b"*~>^|:+\n\r")])))
    return bytes(buffer)


def mutate_structure(data: bytes, rng: random.Random) -> bytes:
    from amazon_bluecherry.edi.reader import NotX12Error, iter_segments

    try:
        pairs = list(iter_segments(data))
    except NotX12Error:
        return mutate_bytes(data, rng)
    if not pairs:
        return mutate_bytes(data, rng)
    delimiters = pairs[0][1]
    segments = [list(segment) for segment, _ in pairs]
    for _ in range(rng.randint(1, 5)):
        kind = rng.choice(["drop", "duplicate", "swap", "repeat", "blank", "value", "extra", "long"])
        at = rng.randrange(len(segments))
        segment = segments[at]
        if kind == "drop" and len(segments) > 1:
            del segments[at]
        elif kind == "duplicate":
            segments.insert(at, list(segment))
        elif kind == "swap":
            other = rng.randrange(len(segments))
            segments[at], segments[other] = segments[other], segments[at]
        elif kind == "repeat":  # a loop many times over (PO1, N1 ...)
            segments[at:at] = [list(segment) for _ in range(rng.randint(2, 300))]
        elif len(segment) > 1 and kind in ("blank", "value", "long"):
            element = rng.randrange(1, len(segment))
            segment[element] = {"blank": "", "value": rng.choice(ODD_VALUES),
                                "long": segment[element] * rng.randint(2, 50)}[kind]
        elif kind == "extra":
            segment.append(rng.choice(ODD_VALUES))
    element = getattr(delimiters, "element", "*")
    terminator = getattr(delimiters, "segment", "~")
    return ("".join(element.join(segment) + terminator for segment in segments)).encode("utf-8", "replace")


@dataclass
class Outcome:
    verdict: str
    seconds: float
    crash: str | None = None


@dataclass
class CampaignResult:
    files: int = 0
    verdicts: Counter = field(default_factory=Counter)
    crashes: list[tuple[int, str, bytes]] = field(default_factory=list)
    slowest: float = 0.0
    slowest_file: str = ""
    slow: int = 0
    peak_rss_mib: float = 0.0
    rss_growth_mib: float = 0.0


def examine(data: bytes, mappings) -> Outcome:
    """Reader, validator, 997 and translation of one file; the verdict, or the crash."""
    from amazon_bluecherry.edi.ack import build_997
    from amazon_bluecherry.edi.parse import DocumentError, parse_transaction
    from amazon_bluecherry.edi.reader import NotX12Error, iter_segments, iter_transaction_sets
    from amazon_bluecherry.edi.validator import validate_file
    from amazon_bluecherry.edi.writer import InMemoryControlNumbers
    from amazon_bluecherry.flows.po_to_so import TranslationPolicy, translate_purchase_order

    started = time.process_time()
    try:
        try:
            for _ in iter_segments(data):
                pass
            report = validate_file(data)
        except NotX12Error:
            return Outcome("not_x12", time.process_time() - started)
        report.to_dict()
        build_997(report, control_numbers=InMemoryControlNumbers())
        accepted = {(i.control_number, g.control_number, v.control_number)
                    for i, g, v in report.sets() if v.status in ("A", "E") and not i.error}
        verdict = "rejected"
        for interchange, group, transaction_set in iter_transaction_sets(data):
            if (interchange.control_number, group.control_number, transaction_set.control_number) not in accepted:
                continue
            try:
                document = parse_transaction(transaction_set, interchange, group)
            except DocumentError:
                verdict = "accepted_unreadable" if verdict == "rejected" else verdict
                continue
            if transaction_set.set_id.strip() == "850":
                translate_purchase_order(document, mappings, TranslationPolicy()).to_dict()
                verdict = "translated"
            elif verdict == "rejected":
                verdict = "accepted"
        return Outcome(verdict, time.process_time() - started)
    except Exception:  # noqa: BLE001 - exactly what the campaign looks for
        return Outcome("crash", time.process_time() - started, crash=traceback.format_exc(limit=6))


def run_campaign(files: int, seed: int) -> CampaignResult:
    from amazon_bluecherry.flows.mappings import load_mappings
    from amazon_bluecherry.settings import REPO_ROOT

    rng = random.Random(seed)
    mappings = load_mappings(REPO_ROOT / "include" / "mappings")
    seeds = seed_files(0, rng)
    result = CampaignResult()
    start_rss = _rss_mib()
    for index in range(files):
        original = rng.choice(seeds)
        data = mutate_structure(original, rng) if index % 2 else mutate_bytes(original, rng)
        outcome = examine(data, mappings)
        result.files += 1
        result.verdicts[outcome.verdict] += 1
        if outcome.seconds > result.slowest:
            result.slowest = outcome.seconds
            result.slowest_file = (f"file {index} ({'structure' if index % 2 else 'bytes'}, {len(data):,} bytes, "
                                   f"{outcome.verdict})")
        result.slow += outcome.seconds > SLOW_SECONDS
        if outcome.crash:
            result.crashes.append((index, outcome.crash, data[:2000]))
    result.peak_rss_mib = _rss_mib()
    result.rss_growth_mib = result.peak_rss_mib - start_rss
    return result


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--show-crashes", type=int, default=5)
    args = parser.parse_args()
    started = time.perf_counter()
    # Warm the guides and the item master first: their one-off load is not a file's time.
    run_campaign(1, args.seed)
    result = run_campaign(args.files, args.seed)
    elapsed = time.perf_counter() - started
    for index, crash, data in result.crashes[: args.show_crashes]:
        print(f"--- crash on file {index}: {data[:200]!r}\n{crash}")
    print(f"{result.files} files in {elapsed:.0f} s: verdicts {dict(result.verdicts)}; crashes {len(result.crashes)}; "
          f"slowest {result.slowest:.3f} s CPU, {result.slowest_file} ({result.slow} over {SLOW_SECONDS:g} s); peak RSS {result.peak_rss_mib:.0f} MiB "
          f"(+{result.rss_growth_mib:.0f} MiB during the campaign)")
    print(f"fuzz_files={result.files} crashes={len(result.crashes)} slowest_seconds={result.slowest:.3f} "
          f"peak_rss_mib={result.peak_rss_mib:.0f} rss_growth_mib={result.rss_growth_mib:.0f} "
          f"verdicts={json.dumps(dict(result.verdicts), separators=(',', ':'))}")
    return 1 if result.crashes or result.slow else 0


if __name__ == "__main__":
    sys.exit(main())
