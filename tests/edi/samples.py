"""Valid Amazon-style transaction sets to build test files from, and ways to break them."""

from __future__ import annotations

GOOD_BODIES: dict[str, tuple[str, str, list[str]]] = {
    # set id: (GS01, GS08, body segments between ST and SE)
    "850": (
        "PO",
        "004010",
        [
            "BEG*00*NE*L8266355**20240305",
            "REF*CR*AMZN_VENDORCODE",
            "CSH*N",
            "DTM*064*20240310",
            "DTM*063*20240317",
            "N1*ST**15*1794205",
            "PO1*1*8*EA*39.5*PE*UP*028877454078",
            "PO1*2*12*CA*7*PE*VN*SKU-2*BP*B00TEST123",
            "CTT*2*20",
        ],
    ),
    "855": (
        "PR",
        "004010",
        [
            "BAK*00*AC*L8266355*20240306",
            "PO1*1*8*EA*39.5*PE*UP*028877454078",
            "ACK*IA*6*EA*068*20240312",
            "ACK*IB*2*EA*068*20240320",
            "CTT*1*8",
        ],
    ),
    "856": (
        "SH",
        "005010",
        [
            "BSN*00*SHIP0001*20240311*1405*0001",
            "HL*1**S",
            "TD1*CTN25*2****G*40*LB",
            "TD5*B*2*UPSN*M",
            "REF*BM*VENDR12345678",
            "DTM*011*20240311",
            "DTM*017*20240314",
            "N1*SF*VENDOR INC*92*NJ01",
            "N1*ST**92*ABE2",
            "HL*2*1*O",
            "PRF*L8266355",
            "HL*3*2*P",
            "MAN*GM*00012345678901234560",
            "HL*4*3*I",
            "LIN**UP*028877454078",
            "SN1**8*EA",
            "CTT*4",
        ],
    ),
    "810": (
        "IN",
        "004010",
        [
            "BIG*20240312*INV0001*20240305*L8266355",
            "CUR*BT*USD",
            "N1*RI*VENDOR INC*92*VENDR",
            "ITD*01*3*****30",
            "IT1*1*8*EA*39.5**UP*028877454078",
            "TDS*31600",
            "CTT*1",
        ],
    ),
    "846": (
        "IB",
        "004010",
        [
            "BIA*00*MM*INV20240305*20240305",
            "LIN**UP*028877454078",
            "QTY*33*120",
            "CTT*1",
        ],
    ),
    "820": (
        "RA",
        "004010",
        [
            "BPR*C*316*C*ACH*CTX*01*123456789*DA*12345*1234567890**01*123456789*DA*6789*20240401",
            "TRN*1*12345678",
            "DTM*097*20240401",
            "N1*PE*VENDOR INC*92*VENDR",
            "ENT*1",
            "RMR*IV*INV0001**316*316",
            "ADX*-10*ZZ*CM*INV0001SC",
        ],
    ),
    "997": (
        "FA",
        "004010",
        [
            "AK1*PR*1",
            "AK2*855*0001",
            "AK5*A",
            "AK9*A*1*1*1",
        ],
    ),
}


def isa(control="000000001", version="00401", sender="AMAZON", receiver="VENDOR", ack="0") -> str:
    return f"ISA*00*{' ' * 10}*00*{' ' * 10}*ZZ*{sender:<15}*ZZ*{receiver:<15}*240305*1407*U*{version}*{control}*{ack}*P*>"


def x12(
    sets: list[tuple[str, list[str]]] | None = None,
    *,
    set_id: str = "850",
    body: list[str] | None = None,
    functional_id: str | None = None,
    version: str | None = None,
    isa_version: str = "00401",
    control: str = "000000001",
    group_control: str = "1",
    se_count_delta: int = 0,
    terminator: str = "~\n",
    sender: str = "AMAZON",
    receiver: str = "VENDOR",
) -> bytes:
    """One interchange and group with correct counts, unless told otherwise."""
    if sets is None:
        sets = [(set_id, body if body is not None else GOOD_BODIES[set_id][2])]
    first = sets[0][0]
    functional_id = functional_id or GOOD_BODIES.get(first, ("PO", "004010", []))[0]
    version = version or GOOD_BODIES.get(first, ("PO", "004010", []))[1]
    segments = [
        isa(control, isa_version, sender, receiver),
        f"GS*{functional_id}*{sender}*{receiver}*20240305*1407*{group_control}*X*{version}",
    ]
    for n, (sid, lines) in enumerate(sets, 1):
        st = f"{n:04d}"
        segments.append(f"ST*{sid}*{st}")
        segments.extend(lines)
        segments.append(f"SE*{len(lines) + 2 + se_count_delta}*{st}")
    segments.append(f"GE*{len(sets)}*{group_control}")
    segments.append(f"IEA*1*{control}")
    return "".join(s + terminator for s in segments).encode()


def replace(set_id: str, old: str, new: str | None) -> list[str]:
    """The good body of ``set_id`` with the segment starting with ``old`` replaced (None: removed)."""
    body = list(GOOD_BODIES[set_id][2])
    index = next(i for i, s in enumerate(body) if s.startswith(old))
    if new is None:
        del body[index]
    else:
        body[index] = new
    return body


def insert(set_id: str, before: str, new: str) -> list[str]:
    body = list(GOOD_BODIES[set_id][2])
    index = next(i for i, s in enumerate(body) if s.startswith(before))
    body.insert(index, new)
    return body
