"""Small mapping files and 850 builders for the order-path tests."""

from __future__ import annotations

from pathlib import Path

import pytest

ITEMS = """product_id,product_id_qualifier,asin,style,color,size,case_pack_qty,unit_cost,currency
028877454078,UP,B00TEST001,TEE100,BLK,M,12,6.50,USD
028877454085,UP,B00TEST002,TEE100,BLK,L,12,6.50,USD
4006381333931,EN,,TEE100,WHT,S,6,6.25,USD
HOOD-RED-XL,VN,B00TEST004,HOOD200,RED,XL,24,18.00,USD
"""

SHIP_TO = """id_qualifier,id_code,bc_customer,bc_store,bc_warehouse,name
15,1794205,AMAZON,ABE2,NJ01,Amazon ABE2 Allentown
92,ABE2,AMAZON,ABE2,NJ01,Amazon ABE2 Allentown
92,PHX6,AMAZON,PHX6,AZ01,Amazon PHX6 Phoenix
"""


@pytest.fixture
def mappings_dir(tmp_path) -> Path:
    folder = tmp_path / "mappings"
    folder.mkdir()
    (folder / "items.csv").write_text(ITEMS)
    (folder / "ship_to.csv").write_text(SHIP_TO)
    return folder


def make_850(po_number: str = "L8266355", *, lines: list[str] | None = None, ship_to: str = "N1*ST**15*1794205",
             window: tuple[str, str] = ("20261201", "20261210"), control: str = "000012911",
             extra_header: list[str] | None = None) -> bytes:
    """An Amazon-style 850 interchange; ``lines`` are PO1(+PO4) segment strings."""
    lines = lines if lines is not None else ["PO1*1*8*EA*6.5*PE*UP*028877454078"]
    body = [
        f"BEG*00*NE*{po_number}**20261126",
        "REF*CR*AMZN_VENDORCODE",
        "CSH*N",
        f"DTM*064*{window[0]}",
        f"DTM*063*{window[1]}",
        *(extra_header or []),
        ship_to,
        *lines,
        f"CTT*{sum(1 for line in lines if line.startswith('PO1'))}",
    ]
    segments = ["ST*850*0001", *body]
    segments.append(f"SE*{len(segments) + 1}*0001")
    isa = (f"ISA*00*          *00*          *ZZ*AMAZON         *ZZ*VENDOR         *261126*0201*U*00401*"
           f"{control}*0*T*>")
    group = [f"GS*PO*AMAZON*VENDOR*20261126*0201*{int(control)}*X*004010", *segments, f"GE*1*{int(control)}"]
    return ("~".join([isa, *group, f"IEA*1*{control}"]) + "~\n").encode()
