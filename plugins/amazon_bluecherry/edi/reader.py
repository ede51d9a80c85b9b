"""Streaming X12 reader: separators from the ISA, constant memory, any number of interchanges.

The file is read in chunks (never whole). Separators are taken from each ISA: the element
separator is the character after ``ISA``, the component separator is ISA16 and the segment
terminator is whatever follows ISA16 (``~``, a bare newline, ``\\``, ``}``, U+2026 ...).
CR/LF and indentation between segments are skipped. A UTF-8 BOM is tolerated; the file is
decoded as UTF-8, or as latin-1 when it is not valid UTF-8.

Three levels of API, from fastest to most convenient:

* :func:`iter_segment_batches` -- lists of raw segment strings (the validator's fast path);
* :func:`iter_segments` -- one ``(segment, delimiters)`` at a time, elements split;
* :func:`iter_transaction_sets` -- one transaction set at a time with its interchange and
  group context, and :func:`read_interchanges` for small files.
"""

from __future__ import annotations

import codecs
import io
import os
import re
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from amazon_bluecherry.edi.envelope import (
    Delimiters,
    FunctionalGroup,
    Interchange,
    Segment,
    TransactionSet,
)

__all__ = [
    "X12Error",
    "NotX12Error",
    "Source",
    "iter_segment_batches",
    "iter_segments",
    "iter_transaction_sets",
    "read_interchanges",
    "sniff_delimiters",
]

Source = str | os.PathLike | bytes | bytearray | memoryview | BinaryIO

CHUNK_SIZE = 1 << 20
# The longest segment the reader holds: anything longer without a terminator is not X12
# (binary data, a file cut before its terminators) and is refused instead of buffered.
MAX_SEGMENT_LENGTH = 1 << 20
_BOM = b"\xef\xbb\xbf"
# The ISA is 106 characters when well formed; ids padded wrongly make it a little shorter
# or longer, so the header is found by counting separators, never by fixed offsets.
_HEADER_LOOKAHEAD = 512
_WHITESPACE = " \t\r\n\x0b\x0c"


class X12Error(Exception):
    """Anything wrong with X12 input that stops it from being read."""


class NotX12Error(X12Error):
    """The input does not start with an ISA segment, or cannot be read at all."""


@dataclass(frozen=True)
class _Header:
    delimiters: Delimiters
    length: int  # characters from "ISA" through the segment terminator


def sniff_delimiters(text: str) -> _Header:
    """Read the separators from an ISA at the start of ``text``.

    Raises NotX12Error when ``text`` does not begin with a readable ISA header.
    """
    if text[:2] in ("\xff\xfe", "\xfe\xff"):  # a UTF-16 byte-order mark, read as 8-bit text
        raise NotX12Error("input is UTF-16 text (it starts with a UTF-16 byte-order mark); X12 is 8-bit text: "
                          "save the file as ANSI/ASCII or UTF-8")
    if not text.startswith("ISA"):
        raise NotX12Error(f"input does not start with an ISA segment (starts with {text[:20]!r})")
    if len(text) < 4:
        raise NotX12Error("ISA segment is truncated")
    element = text[3]
    if element.isalnum() or element in _WHITESPACE:
        raise NotX12Error(f"ISA element separator {element!r} is not a valid separator")
    pos = 3
    for _ in range(15):
        pos = text.find(element, pos + 1)
        if pos < 0 or pos > _HEADER_LOOKAHEAD:
            raise NotX12Error("ISA segment does not have 16 elements")
    # pos: the separator before ISA16; ISA16 is the component separator.
    if len(text) < pos + 3:
        raise NotX12Error("ISA segment is truncated before its segment terminator")
    component = text[pos + 1]
    terminator = text[pos + 2]
    if terminator in "\r\n":
        terminator = "\n"  # a bare newline (CR, LF or CRLF): CRs are stripped as whitespace
    elif "\xc0" <= terminator <= "\xf4" and len(text) > pos + 3:
        # Latin-1 fallback: a multi-byte UTF-8 terminator (e.g. U+2026) arrives as 2-4 chars.
        width = 2 if terminator < "\xe0" else 3 if terminator < "\xf0" else 4
        candidate = text[pos + 2 : pos + 2 + width]
        try:
            candidate.encode("latin-1").decode("utf-8")
            terminator = candidate
        except UnicodeError:
            pass
    if terminator.isalnum() or terminator == element or component == element:
        raise NotX12Error(
            f"ISA separators are not usable: element {element!r}, component {component!r}, "
            f"segment terminator {terminator!r}"
        )
    fields = text[: pos + 2].split(element)
    repetition = None
    if len(fields) == 17 and fields[12] >= "00402" and not fields[11].isalnum() and fields[11] != " ":
        repetition = fields[11]
    return _Header(Delimiters(element, component, terminator, repetition), pos + 2 + len(terminator))


def _terminator_bytes(header: _Header) -> bytes:
    """The segment terminator as it appears in the raw bytes (U+2026 is three bytes in UTF-8)."""
    term = header.delimiters.segment
    try:
        return term.encode("latin-1") if len(term) == 1 else term.encode("utf-8")
    except UnicodeEncodeError:
        return term.encode("utf-8")


class _TextStream:
    """Decoded text of a binary source, chunk by chunk (UTF-8, else latin-1 for the file)."""

    def __init__(self, source: Source, chunk_size: int):
        self._chunk_size = chunk_size
        self._close = False
        if isinstance(source, bytes | bytearray | memoryview):
            self._fh: BinaryIO = io.BytesIO(bytes(source))
        elif isinstance(source, str | os.PathLike):
            try:
                self._fh = open(source, "rb")  # noqa: SIM115 - closed in close()
            except OSError as exc:
                raise NotX12Error(f"cannot read {os.fspath(source)}: {exc.strerror or exc}") from exc
            self._close = True
        elif hasattr(source, "read"):
            self._fh = source
        else:
            raise NotX12Error(f"cannot read X12 from a {type(source).__name__}")
        self.encoding = "utf-8"
        self._first = True
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self._eof = False
        self._decide_encoding()

    def _read(self) -> bytes:
        try:
            data = self._fh.read(self._chunk_size)
        except OSError as exc:
            raise NotX12Error(f"cannot read input: {exc}") from exc
        if isinstance(data, str):
            raise NotX12Error("X12 input must be opened in binary mode")
        return data or b""

    def _decide_encoding(self) -> None:
        # A seekable source is checked once up front so the whole file gets one encoding,
        # but only when it starts like X12: anything else (/dev/zero, a binary) is refused
        # from its first chunk by the header check, never read to the end first.
        try:
            seekable = self._fh.seekable()
        except (AttributeError, ValueError):
            seekable = False
        if not seekable:
            return
        start = self._fh.tell()
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            chunk = self._read()
            head = chunk[len(_BOM):] if chunk.startswith(_BOM) else chunk
            head = head.lstrip(_WHITESPACE.encode("ascii"))
            try:
                terminator = _terminator_bytes(sniff_delimiters(head[:_HEADER_LOOKAHEAD].decode("latin-1")))
            except NotX12Error:
                return  # the header check refuses it without reading further
            # A run longer than any segment can be (in bytes, up to 4 per character) ends
            # the scan: the reader will refuse the input there anyway.
            since_terminator = 0
            while chunk:
                decoder.decode(chunk)
                last = chunk.rfind(terminator)
                since_terminator = (len(chunk) - last - len(terminator) if last >= 0
                                    else since_terminator + len(chunk))
                if since_terminator > 4 * MAX_SEGMENT_LENGTH:
                    return
                chunk = self._read()
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            self.encoding = "latin-1"
        finally:
            self._fh.seek(start)

    def read(self) -> str | None:
        """Next piece of text, or None at the end."""
        if self._eof:
            return None
        data = self._read()
        if self._first:
            self._first = False
            while len(data) < len(_BOM) and (more := self._read()):
                data += more
            if data.startswith(_BOM):
                data = data[len(_BOM) :] or self._read()
        if not data:
            self._eof = True
            if self.encoding == "utf-8":
                try:
                    tail = self._decoder.decode(b"", final=True)
                except UnicodeDecodeError:
                    tail = self._decoder.getstate()[0].decode("latin-1")
                return tail or None
            return None
        if self.encoding == "latin-1":
            return data.decode("latin-1")
        try:
            return self._decoder.decode(data)
        except UnicodeDecodeError:
            # Not seekable and not UTF-8 after all: the rest of the file is latin-1.
            pending = self._decoder.getstate()[0]
            self.encoding = "latin-1"
            return (pending + data).decode("latin-1")

    def close(self) -> None:
        if self._close:
            self._fh.close()


def iter_segment_batches(
    source: Source, *, chunk_size: int = CHUNK_SIZE
) -> Iterator[tuple[list[str], Delimiters]]:
    """Yield lists of raw segment strings (terminator and surrounding whitespace removed).

    All segments of one batch share the delimiters yielded with it; a new ISA with other
    separators starts a new batch. Empty segments are dropped. Raises NotX12Error when the
    input does not start with an ISA (after a BOM and whitespace) or cannot be read.
    """
    stream = _TextStream(source, chunk_size)
    try:
        yield from _Batches(stream)
    finally:
        stream.close()


Batch = tuple[list[str], Delimiters]


class _Segmenter:
    """Splits text into clean segments for one interchange's delimiters.

    Layout between segments (CR/LF, indentation) is removed in one C-level pass per chunk,
    so splitting leaves clean segments with no per-segment Python work.
    """

    def __init__(self, delimiters: Delimiters):
        term = self.term = delimiters.segment
        self.strip_cr = term == "\n"
        self.iea_marker = "IEA" + delimiters.element
        if self.strip_cr:
            self.layout = re.compile("\r?\n[ \t\r\n\x0b\x0c]*")
        else:
            self.layout = re.compile(re.escape(term) + "[ \t\r\n\x0b\x0c]+")
        self.replacement = term.replace("\\", "\\\\")  # re.sub reads backslashes as escapes
        # An IEA segment: at the start of the text or after a terminator and layout.
        self.iea_at = re.compile(f"(?:^|{re.escape(term)})[ \t\r\n\x0b\x0c]*({re.escape(self.iea_marker)})")

    def split(self, text: str) -> list[str]:
        return self.layout.sub(self.replacement, text).split(self.term)

    def iea_end(self, text: str) -> int:
        """Where the terminator of the first IEA in ``text`` stands (-1: no complete IEA)."""
        iea = self.iea_at.search(text) if self.iea_marker in text else None
        return text.find(self.term, iea.start(1)) if iea is not None else -1


def _non_empty(parts: list[str]) -> list[str]:
    return [p for p in parts if p] if "" in parts else parts


class _Batches:
    """The batches of a stream: interchange after interchange, each with its own delimiters."""

    def __init__(self, stream: _TextStream):
        self.stream = stream
        self.text = ""  # read but not yet yielded
        self.eof = False

    def read(self) -> bool:
        piece = self.stream.read()
        if piece is None:
            self.eof = True
            return False
        self.text += piece
        return True

    def fill(self, minimum: int) -> bool:
        while len(self.text) < minimum and not self.eof:
            self.read()
        return len(self.text) >= minimum

    def __iter__(self) -> Iterator[Batch]:
        self.fill(_HEADER_LOOKAHEAD)
        self.text = self.text.lstrip(_WHITESPACE + "\ufeff")
        if not self.text:
            raise NotX12Error("input is empty")
        header = sniff_delimiters(self.text[:_HEADER_LOOKAHEAD])
        while True:
            delims = header.delimiters
            ended_by_iea = yield from self._interchange(header)
            if not ended_by_iea:
                # End of input: whatever is left had no terminator.
                tail = self.text.strip(_WHITESPACE)
                if tail:
                    yield [tail], delims
                return
            # After an IEA: another ISA (perhaps with other separators), or trailing data.
            self.fill(_HEADER_LOOKAHEAD)
            self.text = self.text.lstrip(_WHITESPACE)
            if not self.text:
                return
            next_header = self._readable_isa()
            if next_header is None:
                yield from self._stray(delims)
                return
            header = next_header

    def _readable_isa(self) -> _Header | None:
        if self.text.startswith("ISA"):
            try:
                return sniff_delimiters(self.text[:_HEADER_LOOKAHEAD])
            except NotX12Error:
                pass
        return None

    def _interchange(self, header: _Header) -> Generator[Batch, None, bool]:
        """Batches of the interchange ``self.text`` starts with; True when an IEA ended it."""
        delims = header.delimiters
        cut = _Segmenter(delims)
        isa = self.text[: header.length - len(cut.term)]
        batch = [isa.rstrip("\r") if cut.strip_cr else isa]
        self.text = self.text[header.length :]
        at_segment_start = True
        while True:
            if at_segment_start:
                self.text = self.text.lstrip(_WHITESPACE)
            iea_end = cut.iea_end(self.text)
            if iea_end >= 0:
                # Clean and split only up to the IEA: what follows may be an interchange
                # with other separators (its ISA padding must not be taken for layout).
                parts = cut.split(self.text[:iea_end])
                if cut.strip_cr:
                    parts[-1] = parts[-1].rstrip("\r")
                batch.extend(_non_empty(parts))
                self.text = self.text[iea_end + len(cut.term) :]
                if batch:
                    yield batch, delims
                return True
            parts = cut.split(self.text)
            self.text = parts.pop()
            if len(self.text) > MAX_SEGMENT_LENGTH:
                raise _runaway(cut.term)
            batch.extend(_non_empty(parts))
            at_segment_start = self.text == ""
            if batch:
                yield batch, delims
                batch = []
            if self.eof or not self.read():
                return False

    def _stray(self, delims: Delimiters) -> Iterator[Batch]:
        """Not a readable ISA: keep reading with the old separators so the validator can
        report the stray segments instead of the reader giving up."""
        term = delims.segment
        strip_cr = term == "\n"
        parts = self.text.split(term)
        rest = parts.pop()
        stray = [s for p in parts if (s := _clean(p, strip_cr))]
        while not self.eof:
            piece = self.stream.read()
            if piece is None:
                self.eof = True
                break
            parts = (rest + piece).split(term)
            rest = parts.pop()
            if len(rest) > MAX_SEGMENT_LENGTH:
                raise _runaway(term)
            stray.extend(s for p in parts if (s := _clean(p, strip_cr)))
            if stray:
                yield stray, delims
                stray = []
        rest = rest.strip(_WHITESPACE)
        if rest:
            stray.append(rest)
        if stray:
            yield stray, delims


def _runaway(term: str) -> NotX12Error:
    return NotX12Error(
        f"a segment runs past {MAX_SEGMENT_LENGTH} characters without the segment terminator {term!r}: "
        "not X12 (binary data, or a file without terminators)"
    )


def _clean(raw: str, strip_cr: bool) -> str:
    # Whitespace before a segment is layout; with a newline terminator a CR before it is too.
    seg = raw.lstrip(_WHITESPACE)
    return seg.rstrip("\r") if strip_cr else seg


def iter_segments(source: Source, *, chunk_size: int = CHUNK_SIZE) -> Iterator[tuple[Segment, Delimiters]]:
    """Yield ``(segment, delimiters)`` one segment at a time; ``segment[0]`` is the id."""
    for batch, delims in iter_segment_batches(source, chunk_size=chunk_size):
        element = delims.element
        for raw in batch:
            yield raw.split(element), delims


def iter_transaction_sets(
    source: Source, *, chunk_size: int = CHUNK_SIZE
) -> Iterator[tuple[Interchange, FunctionalGroup, TransactionSet]]:
    """Yield each transaction set (ST..SE inclusive) with its interchange and group, streaming.

    To keep memory flat the yielded ``Interchange.groups`` and ``FunctionalGroup.transactions``
    stay empty and ``iea``/``ge`` are None at the time a set is yielded. A set whose SE is
    missing is yielded when the next ST, GE, IEA or the end of input closes it. Segments
    outside ST/SE are not yielded (the validator reports them).
    """
    interchange: Interchange | None = None
    group: FunctionalGroup | None = None
    current: TransactionSet | None = None
    position = 0
    for segment, delims in iter_segments(source, chunk_size=chunk_size):
        position += 1
        sid = segment[0]
        if sid == "ISA":
            if current is not None and interchange is not None:
                yield interchange, group or FunctionalGroup(gs=["GS"], ge=None), current
                current = None
            interchange = Interchange(isa=segment, iea=None, delimiters=delims)
            group = None
            position = 1
            continue
        if interchange is None:
            interchange = Interchange(isa=["ISA"], iea=None, delimiters=delims)
        if sid == "ST":
            if current is not None:
                yield interchange, group or FunctionalGroup(gs=["GS"], ge=None), current
            current = TransactionSet(
                set_id=segment[1] if len(segment) > 1 else "",
                control_number=segment[2] if len(segment) > 2 else "",
                segments=[segment],
                start_position=position,
            )
            continue
        if current is not None:
            if sid in ("GE", "IEA", "GS"):
                yield interchange, group or FunctionalGroup(gs=["GS"], ge=None), current
                current = None
            else:
                current.segments.append(segment)
                if sid == "SE":
                    yield interchange, group or FunctionalGroup(gs=["GS"], ge=None), current
                    current = None
                continue
        if sid == "GS":
            group = FunctionalGroup(gs=segment, ge=None)
    if current is not None and interchange is not None:
        yield interchange, group or FunctionalGroup(gs=["GS"], ge=None), current


def read_interchanges(source: Source, *, chunk_size: int = CHUNK_SIZE) -> list[Interchange]:
    """Read a whole (small) file into interchanges, groups and sets, with IEA/GE filled in.

    Segments outside any ST/SE are dropped; use the validator to find them.
    """
    interchanges: list[Interchange] = []
    interchange: Interchange | None = None
    group: FunctionalGroup | None = None
    current: TransactionSet | None = None
    position = 0
    for segment, delims in iter_segments(source, chunk_size=chunk_size):
        position += 1
        sid = segment[0]
        if sid == "ISA":
            interchange = Interchange(isa=segment, iea=None, delimiters=delims)
            interchanges.append(interchange)
            group, current, position = None, None, 1
            continue
        if interchange is None:
            interchange = Interchange(isa=["ISA"], iea=None, delimiters=delims)
            interchanges.append(interchange)
        if sid == "GS":
            group = FunctionalGroup(gs=segment, ge=None)
            interchange.groups.append(group)
            current = None
        elif sid == "ST":
            if group is None:
                group = FunctionalGroup(gs=["GS"], ge=None)
                interchange.groups.append(group)
            current = TransactionSet(
                set_id=segment[1] if len(segment) > 1 else "",
                control_number=segment[2] if len(segment) > 2 else "",
                segments=[segment],
                start_position=position,
            )
            group.transactions.append(current)
        elif sid == "GE":
            if group is not None:
                group.ge = segment
            group, current = None, None
        elif sid == "IEA":
            interchange.iea = segment
            interchange, group, current = None, None, None
        elif current is not None:
            current.segments.append(segment)
            if sid == "SE":
                current = None
    return interchanges
