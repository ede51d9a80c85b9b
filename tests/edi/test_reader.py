"""Reader: separators from the ISA, whitespace, BOM, encodings, chunk boundaries, streaming."""

from __future__ import annotations

import io
import tracemalloc

import pytest

from amazon_bluecherry.edi.envelope import Delimiters
from amazon_bluecherry.edi.reader import (
    CHUNK_SIZE,
    MAX_SEGMENT_LENGTH,
    NotX12Error,
    X12Error,
    iter_segment_batches,
    iter_segments,
    iter_transaction_sets,
    read_interchanges,
)

from .conftest import corpus_files
from .samples import GOOD_BODIES, x12


def isa(element="*", component=">", version="00401", control="000000001", rep="U") -> str:
    e = element
    return (
        f"ISA{e}00{e}{' ' * 10}{e}00{e}{' ' * 10}{e}ZZ{e}{'AMAZON':<15}{e}ZZ{e}{'VENDOR':<15}"
        f"{e}080901{e}0201{e}{rep}{e}{version}{e}{control}{e}0{e}T{e}{component}"
    )


def interchange(element="*", component=">", term="~", sep="", version="00401", control="000000001") -> str:
    e = element
    body = [
        isa(element, component, version, control),
        f"GS{e}PO{e}AMAZON{e}VENDOR{e}20080901{e}0201{e}12911{e}X{e}004010",
        f"ST{e}850{e}0001",
        f"BEG{e}00{e}NE{e}L8266355{e}{e}20080901",
        f"PO1{e}1{e}8{e}EA{e}39{e}PE{e}UP{e}028877454078",
        f"SE{e}4{e}0001",
        f"GE{e}1{e}12911",
        f"IEA{e}1{e}{control}",
    ]
    return "".join(s + term + sep for s in body)


EXPECTED_IDS = ["ISA", "GS", "ST", "BEG", "PO1", "SE", "GE", "IEA"]


@pytest.mark.parametrize(
    ("element", "component", "term", "sep"),
    [
        ("*", ">", "~", ""),
        ("*", ">", "~", "\r\n"),
        ("*", ">", "~", "\n    "),
        ("*", ">", "\n", ""),
        ("*", ">", "\r\n", ""),
        ("*", ":", "\\", "\r\n  "),
        ("~", ">", "}", "\r\n"),
        ("^", "|", "\n", ""),
        ("*", ":", "\u2026", "\r\n  "),
        ("|", "^", "'", ""),
    ],
)
def test_separators_come_from_the_isa(element, component, term, sep):
    data = interchange(element, component, term, sep).encode("utf-8")
    segments = list(iter_segments(data))
    assert [s[0] for s, _ in segments] == EXPECTED_IDS
    delims = segments[0][1]
    assert delims.element == element
    assert delims.component == component
    assert delims.segment == ("\n" if term in ("\n", "\r\n") else term)
    assert segments[3][0] == ["BEG", "00", "NE", "L8266355", "", "20080901"]
    assert segments[0][0][16] == component
    assert len(segments[0][0]) == 17


@pytest.mark.parametrize("chunk_size", [1, 2, 3, 5, 17, 106, 107, 108, 4096])
def test_chunk_boundaries_split_multibyte_terminators(chunk_size):
    data = ("\ufeff" + interchange("*", ":", "\u2026", "\r\n  ") * 2).encode("utf-8")
    segments = [s for s, _ in iter_segments(data, chunk_size=chunk_size)]
    assert [s[0] for s in segments] == EXPECTED_IDS * 2
    assert segments == [s for s, _ in iter_segments(data)]


def test_bom_leading_whitespace_and_file_objects(tmp_path):
    data = b"\xef\xbb\xbf\r\n  " + interchange(sep="\n").encode()
    path = tmp_path / "po.edi"
    path.write_bytes(data)
    from_path = [s for s, _ in iter_segments(path)]
    from_str_path = [s for s, _ in iter_segments(str(path))]
    from_file = [s for s, _ in iter_segments(io.BytesIO(data))]
    assert from_path == from_str_path == from_file
    assert from_path[0][0] == "ISA"


def test_several_interchanges_with_different_separators():
    data = (
        interchange("*", ">", "~", "\n", version="00305", control="000000001")
        + "\n"
        + interchange("^", "|", "\n", "", version="00400", control="000000002")
        + interchange("*", ":", "\u2026", "\r\n", control="000000003")
    ).encode()
    seen = [(s[0], d.element, d.segment) for s, d in iter_segments(data, chunk_size=50)]
    assert [sid for sid, _, _ in seen] == EXPECTED_IDS * 3
    assert {(e, t) for _, e, t in seen} == {("*", "~"), ("^", "\n"), ("*", "\u2026")}
    interchanges = read_interchanges(data)
    assert [i.control_number for i in interchanges] == ["000000001", "000000002", "000000003"]
    assert [i.isa[12] for i in interchanges] == ["00305", "00400", "00401"]
    assert all(i.groups[0].version == "004010" for i in interchanges)
    assert all(i.iea is not None and i.groups[0].ge is not None for i in interchanges)


def test_latin1_fallback_for_the_whole_file():
    text = interchange().replace("L8266355", "L826\xe9355")
    data = text.encode("latin-1")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    beg = [s for s, _ in iter_segments(data) if s[0] == "BEG"][0]
    assert beg[3] == "L826\xe9355"

    # A non-seekable stream switches when it meets the first invalid byte.
    class Pipe(io.RawIOBase):
        def __init__(self, payload):
            self._inner = io.BytesIO(payload)

        def readable(self):
            return True

        def read(self, n=-1):
            return self._inner.read(n)

    beg = [s for s, _ in iter_segments(Pipe(data), chunk_size=16) if s[0] == "BEG"][0]
    assert beg[3] == "L826\xe9355"


def test_utf8_content_is_decoded_as_utf8():
    data = interchange().replace("L8266355", "L826\u2019355").encode("utf-8")
    beg = [s for s, _ in iter_segments(data) if s[0] == "BEG"][0]
    assert beg[3] == "L826\u2019355"


@pytest.mark.parametrize(
    "data",
    [b"", b"   \n", b"hello world", b"GS*PO*X~", b'{"json": true}', b"ISA", b"ISA*00*", b"ISA1234567"],
)
def test_not_x12_is_refused_clearly(data):
    with pytest.raises(NotX12Error):
        list(iter_segments(data))


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be"])
def test_an_interchange_saved_as_utf16_is_refused_saying_so(encoding):
    # Notepad's or Excel's "Unicode" save: the right characters, the wrong bytes.
    data = interchange().encode(encoding)
    if encoding == "utf-16-be":
        data = b"\xfe\xff" + data
    with pytest.raises(NotX12Error, match="UTF-16 text.*save the file as ANSI/ASCII or UTF-8"):
        list(iter_segments(data))


def test_missing_file_is_not_x12_error(tmp_path):
    with pytest.raises(X12Error, match="cannot read"):
        list(iter_segments(tmp_path / "absent.edi"))


def test_text_mode_file_is_refused(tmp_path):
    path = tmp_path / "po.edi"
    path.write_text(interchange())
    with open(path) as fh, pytest.raises(NotX12Error, match="binary"):
        list(iter_segments(fh))


def test_transaction_sets_stream_with_context():
    data = interchange().replace("SE*4*0001~", "SE*4*0001~ST*850*0002~BEG*00*NE*X**20080901~SE*3*0002~")
    sets = list(iter_transaction_sets(data.encode()))
    assert [(t.set_id, t.control_number) for _, _, t in sets] == [("850", "0001"), ("850", "0002")]
    interchange_, group, first = sets[0]
    assert interchange_.control_number == "000000001" and group.functional_id == "PO"
    assert [s[0] for s in first.segments] == ["ST", "BEG", "PO1", "SE"]
    assert first.start_position == 3


def test_unterminated_last_segment_is_kept():
    data = interchange().rstrip("~").encode()
    assert [s for s, _ in iter_segments(data)][-1] == ["IEA", "1", "000000001"]


def test_batches_share_delimiters():
    batches = list(iter_segment_batches(interchange().encode(), chunk_size=32))
    assert all(isinstance(d, Delimiters) for _, d in batches)
    assert [raw for b, _ in batches for raw in b][2] == "ST*850*0001"


@pytest.mark.parametrize("path", corpus_files(), ids=lambda p: p.name[:40])
def test_every_corpus_file_reads_to_a_complete_envelope(path):
    segments = [s for s, _ in iter_segments(path)]
    ids = [s[0] for s in segments]
    assert ids[0] == "ISA" and ids[-1] == "IEA"
    assert ids.count("ST") == ids.count("SE") >= 1
    assert all(len(sid) in (2, 3) and sid.isalnum() for sid in ids)
    assert segments == [s for s, _ in iter_segments(path, chunk_size=7)]


class _EndlessStream(io.RawIOBase):
    """A seekable source that never ends (like /dev/zero), counting what is read from it."""

    def __init__(self, head: bytes = b"", fill: bytes = b"\x00"):
        self._head, self._fill, self._position, self.bytes_read = head, fill, 0, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = 0) -> int:
        self._position = offset
        return offset

    def readinto(self, buffer) -> int:
        size = len(buffer)
        head = self._head[self._position : self._position + size]
        data = head + self._fill * (size - len(head))
        buffer[:size] = data
        self._position += size
        self.bytes_read += size
        return size


def test_an_endless_input_of_zeros_is_refused_from_its_first_chunk():
    stream = _EndlessStream()
    with pytest.raises(NotX12Error, match="does not start with an ISA"):
        list(iter_segment_batches(stream))
    assert stream.bytes_read <= 2 * CHUNK_SIZE


def test_a_segment_without_terminator_is_refused_in_bounded_memory():
    # A valid header, then an endless segment: never buffered whole, refused past the limit.
    header = (b"ISA*00*          *00*          *ZZ*AMAZON         *ZZ*VENDOR         *261126*1200*U*00401*"
              b"000000001*0*T*>~GS*PO*AMAZON*VENDOR*20261126*1200*1*X*004010~ST*850*0001~BEG*00*NE*")
    stream = _EndlessStream(header, b"A")
    tracemalloc.start()
    try:
        with pytest.raises(NotX12Error, match="without the segment terminator"):
            for _ in iter_segment_batches(stream):
                pass
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert stream.bytes_read <= 4 * MAX_SEGMENT_LENGTH + 3 * CHUNK_SIZE
    assert peak < 32 * MAX_SEGMENT_LENGTH  # a few copies of one segment, not the input


def test_long_but_terminated_segments_are_still_read():
    long_message = "MSG*" + "A" * 200_000
    data = x12(body=[*GOOD_BODIES["850"][2][:-1], long_message, GOOD_BODIES["850"][2][-1]])
    assert any(segment[0] == "MSG" and len(segment[1]) == 200_000 for segment, _ in iter_segments(data))
