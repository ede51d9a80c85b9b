"""The emulator's seed data: a deterministic apparel catalogue, customers and GL accounts.

Plain data, no database: the backend seeds from it, ``export-mappings`` writes the
product's mapping files from it, and the Amazon simulator draws its purchase orders from
it. The same seed always gives the same catalogue, byte for byte.
"""

from __future__ import annotations

import dataclasses
import hashlib
import random
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache

from amazon_bluecherry.edi.gs1 import gs1_check_digit

__all__ = [
    "AMAZON",
    "Catalogue",
    "CatalogueSku",
    "CatalogueStyle",
    "CustomerSeed",
    "GL_ACCOUNTS",
    "StoreSeed",
    "WAREHOUSES",
    "build_catalogue",
]

DEFAULT_SEED = 20260301
# GS1's example company prefix: UPC-A uses it without the leading zero, SSCC with it.
UPC_COMPANY_PREFIX = "614141"
AMAZON = "AMAZON"

DIVISIONS = {"MEN": "Men's", "WOM": "Women's", "KID": "Kids"}
SEASONS = {"CORE": "Core (never out of stock)", "SP26": "Spring 2026", "FA26": "Fall 2026"}
WAREHOUSES = {"NJ01": "Edison DC, Edison NJ", "CA01": "Ontario DC, Ontario CA"}

SIZE_RANGES = {
    "ALPHA": ["XS", "S", "M", "L", "XL", "XXL"],
    "ALPHA_W": ["XS", "S", "M", "L", "XL"],
    "WAIST": ["28", "30", "32", "34", "36", "38", "40"],
    "MISSES": ["0", "2", "4", "6", "8", "10", "12", "14"],
    "KIDS": ["4", "5", "6", "7", "8", "10", "12", "14"],
    "TODDLER": ["2T", "3T", "4T", "5T"],
    "SOCK": ["S/M", "L/XL"],
    "OS": ["OS"],
}

COLORS = {
    "BLK": "Black",
    "WHT": "White",
    "NVY": "Navy",
    "HGR": "Heather Grey",
    "OLV": "Olive",
    "RED": "Red",
    "ROY": "Royal Blue",
    "CHR": "Charcoal",
    "SND": "Sand",
    "BRG": "Burgundy",
    "FOR": "Forest",
    "PNK": "Pink",
    "LAV": "Lavender",
    "TEA": "Teal",
    "MUS": "Mustard",
    "IND": "Indigo",
    "CRM": "Cream",
    "RST": "Rust",
}

# (division, product, size range, case pack, Amazon cost per each)
PRODUCTS = [
    ("MEN", "Classic Crew Tee", "ALPHA", 24, "6.40"),
    ("MEN", "V-Neck Tee", "ALPHA", 24, "6.60"),
    ("MEN", "Pocket Tee", "ALPHA", 24, "7.10"),
    ("MEN", "Long Sleeve Henley", "ALPHA", 12, "11.25"),
    ("MEN", "Pique Polo", "ALPHA", 12, "13.50"),
    ("MEN", "Oxford Shirt", "ALPHA", 12, "17.80"),
    ("MEN", "Flannel Shirt", "ALPHA", 12, "16.90"),
    ("MEN", "Fleece Hoodie", "ALPHA", 12, "19.75"),
    ("MEN", "Quarter-Zip Pullover", "ALPHA", 12, "21.40"),
    ("MEN", "Crewneck Sweatshirt", "ALPHA", 12, "15.60"),
    ("MEN", "Chino Pant", "WAIST", 12, "18.30"),
    ("MEN", "Slim Denim Jean", "WAIST", 12, "22.50"),
    ("MEN", "Cargo Short", "WAIST", 12, "14.20"),
    ("MEN", "Tech Jogger", "ALPHA", 12, "17.10"),
    ("MEN", "Puffer Jacket", "ALPHA", 6, "42.00"),
    ("MEN", "Rain Shell", "ALPHA", 6, "36.50"),
    ("MEN", "Boxer Brief 3-Pack", "ALPHA", 24, "12.90"),
    ("MEN", "Crew Sock 6-Pack", "SOCK", 24, "8.75"),
    ("MEN", "Ribbed Beanie", "OS", 24, "5.60"),
    ("MEN", "Baseball Cap", "OS", 24, "7.20"),
    ("MEN", "Performance Tee", "ALPHA", 24, "8.90"),
    ("MEN", "Swim Trunk", "ALPHA", 12, "13.80"),
    ("WOM", "Relaxed Tee", "ALPHA_W", 24, "6.80"),
    ("WOM", "Ribbed Tank", "ALPHA_W", 24, "5.90"),
    ("WOM", "Wrap Dress", "MISSES", 6, "24.60"),
    ("WOM", "Midi Skirt", "MISSES", 12, "18.40"),
    ("WOM", "High-Rise Legging", "ALPHA_W", 12, "12.70"),
    ("WOM", "Sports Bra", "ALPHA_W", 24, "9.80"),
    ("WOM", "Cardigan", "ALPHA_W", 6, "23.90"),
    ("WOM", "Cropped Hoodie", "ALPHA_W", 12, "18.90"),
    ("WOM", "Straight Jean", "MISSES", 12, "23.40"),
    ("WOM", "Linen Pant", "MISSES", 12, "20.10"),
    ("WOM", "Button-Down Shirt", "ALPHA_W", 12, "16.30"),
    ("WOM", "Puffer Vest", "ALPHA_W", 6, "29.50"),
    ("WOM", "Trench Coat", "ALPHA_W", 6, "54.00"),
    ("WOM", "Pajama Set", "ALPHA_W", 12, "19.20"),
    ("WOM", "Bike Short", "ALPHA_W", 24, "8.60"),
    ("WOM", "Knit Sweater", "ALPHA_W", 6, "26.70"),
    ("WOM", "Ankle Sock 6-Pack", "SOCK", 24, "7.90"),
    ("WOM", "Knit Scarf", "OS", 24, "9.40"),
    ("WOM", "Swim One-Piece", "MISSES", 12, "21.30"),
    ("WOM", "Bucket Hat", "OS", 24, "8.10"),
    ("KID", "Graphic Tee", "KIDS", 24, "4.60"),
    ("KID", "Toddler Tee", "TODDLER", 24, "4.10"),
    ("KID", "Zip Hoodie", "KIDS", 12, "12.40"),
    ("KID", "Toddler Hoodie", "TODDLER", 12, "10.90"),
    ("KID", "Jogger Pant", "KIDS", 12, "9.70"),
    ("KID", "Denim Jean", "KIDS", 12, "12.80"),
    ("KID", "Puffer Jacket", "KIDS", 6, "27.30"),
    ("KID", "Rain Jacket", "KIDS", 6, "21.60"),
    ("KID", "Twirl Dress", "KIDS", 12, "11.90"),
    ("KID", "Pajama Set", "KIDS", 12, "10.40"),
    ("KID", "Toddler Pajama", "TODDLER", 12, "8.90"),
    ("KID", "Polo Shirt", "KIDS", 12, "8.30"),
    ("KID", "Shorts 2-Pack", "KIDS", 12, "9.10"),
    ("KID", "Swim Set", "KIDS", 12, "11.20"),
    ("KID", "Sock 10-Pack", "SOCK", 24, "7.40"),
    ("KID", "Knit Mittens", "OS", 24, "4.80"),
    ("KID", "Sun Hat", "OS", 24, "5.20"),
    ("KID", "Fleece Pullover", "KIDS", 12, "11.60"),
    ("KID", "Leggings 2-Pack", "KIDS", 24, "8.40"),
    ("KID", "School Cardigan", "KIDS", 12, "13.70"),
]

# Amazon fulfilment centres: FC code (N1*ST qualifier 92), SAN-like id (qualifier 15),
# city, state, zip, shipping warehouse. 1794205 and 8018154 are the ship-to ids of the
# public Amazon 850 samples, so those files map.
AMAZON_FCS = [
    ("ABE2", "1794205", "Breinigsville", "PA", "18031", "NJ01"),
    ("ABE8", "6104387", "Florence", "NJ", "08518", "NJ01"),
    ("AVP1", "4470912", "Hazle Township", "PA", "18202", "NJ01"),
    ("BDL1", "5260178", "Windsor", "CT", "06095", "NJ01"),
    ("BWI2", "3895521", "Baltimore", "MD", "21224", "NJ01"),
    ("CLT2", "7316054", "Charlotte", "NC", "28214", "NJ01"),
    ("EWR4", "2048863", "Robbinsville", "NJ", "08691", "NJ01"),
    ("RIC2", "6632790", "Chester", "VA", "23836", "NJ01"),
    ("TPA1", "9157436", "Ruskin", "FL", "33570", "NJ01"),
    ("MDW2", "4789210", "Joliet", "IL", "60433", "NJ01"),
    ("SDF8", "3320647", "Jeffersonville", "IN", "47130", "NJ01"),
    ("CMH1", "5903318", "Etna", "OH", "43062", "NJ01"),
    ("PHX6", "8018154", "Phoenix", "AZ", "85043", "CA01"),
    ("LGB8", "2675109", "Rialto", "CA", "92376", "CA01"),
    ("ONT8", "7741260", "Moreno Valley", "CA", "92551", "CA01"),
    ("SMF1", "1468832", "Sacramento", "CA", "95837", "CA01"),
    ("BFI4", "9023574", "Kent", "WA", "98032", "CA01"),
    ("DFW7", "6380915", "Fort Worth", "TX", "76177", "CA01"),
    ("SAT1", "2913467", "San Antonio", "TX", "78220", "CA01"),
    ("LAS1", "8546120", "North Las Vegas", "NV", "89081", "CA01"),
]

# (account, name, type)
GL_ACCOUNTS = [
    ("1010", "Cash - Operating Bank", "asset"),
    ("1200", "Accounts Receivable - Trade", "asset"),
    ("1250", "Deductions Receivable", "asset"),
    ("1299", "Suspense - Unidentified Remittance Items", "asset"),
    ("1300", "Inventory - Finished Goods", "asset"),
    ("2100", "Accounts Payable", "liability"),
    ("2150", "Unapplied Cash", "liability"),
    ("3000", "Retained Earnings", "equity"),
    ("4000", "Sales - Wholesale", "revenue"),
    ("4100", "Sales Discounts", "revenue"),
    ("4200", "Sales Returns and Allowances", "revenue"),
    ("4300", "Freight Billed", "revenue"),
    ("5000", "Cost of Goods Sold", "expense"),
    ("6100", "Chargebacks - Compliance", "expense"),
    ("6110", "Shortage Claims", "expense"),
    ("6120", "Co-op and Marketing Allowances", "expense"),
    ("6130", "Price Claims", "expense"),
    ("6140", "Freight Allowances", "expense"),
    ("6150", "Damage Allowances", "expense"),
    ("7000", "Bank Fees", "expense"),
]


@dataclass(frozen=True)
class CatalogueStyle:
    style: str
    description: str
    division: str
    season: str
    size_range: str
    case_pack_qty: int
    unit_cost: Decimal
    active: bool


@dataclass(frozen=True)
class CatalogueSku:
    sku: str
    style: str
    color: str
    color_name: str
    size: str
    size_seq: int
    upc: str
    ean: str
    asin: str | None
    unit_cost: Decimal
    msrp: Decimal
    weight_lb: Decimal
    has_ean_listing: bool


@dataclass(frozen=True)
class StoreSeed:
    bc_store: str
    name: str
    store_type: str
    fc_code: str | None
    san: str | None
    bc_warehouse: str
    city: str
    state: str
    postal_code: str
    address_line: str = ""


@dataclass(frozen=True)
class CustomerSeed:
    bc_customer: str
    name: str
    price_list: str
    terms_code: str
    discount_percent: Decimal
    discount_days: int
    net_days: int
    stores: tuple[StoreSeed, ...]


@dataclass(frozen=True)
class StockSeed:
    sku: str
    warehouse: str
    on_hand: int
    incoming: int
    incoming_in_days: int | None
    on_hold: int = 0


@dataclass(frozen=True)
class Catalogue:
    seed: int
    styles: tuple[CatalogueStyle, ...]
    skus: tuple[CatalogueSku, ...]
    customers: tuple[CustomerSeed, ...]
    stock: tuple[StockSeed, ...]
    styles_by_code: dict[str, CatalogueStyle] = field(repr=False, compare=False, default_factory=dict)

    def style_of(self, sku: CatalogueSku) -> CatalogueStyle:
        return self.styles_by_code[sku.style]


def upc_for(item_reference: int) -> str:
    body = f"{UPC_COMPANY_PREFIX}{item_reference:05d}"
    return body + str(gs1_check_digit(body))


def asin_for(sku: str) -> str:
    """A fake but stable ASIN: ``B0`` and 8 characters from the SKU's hash."""
    alphabet = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"
    number = int.from_bytes(hashlib.sha256(f"asin:{sku}".encode()).digest()[:8], "big")
    chars = []
    for _ in range(8):
        number, digit = divmod(number, len(alphabet))
        chars.append(alphabet[digit])
    return "B0" + "".join(chars)


@lru_cache(maxsize=4)
def build_catalogue(seed: int = DEFAULT_SEED) -> Catalogue:
    """The whole seed, deterministic for a given ``seed``."""
    rng = random.Random(seed)
    styles: list[CatalogueStyle] = []
    skus: list[CatalogueSku] = []
    stock: list[StockSeed] = []
    item_reference = 10000
    color_codes = list(COLORS)
    for index, (division, product, size_range, case_pack, cost) in enumerate(PRODUCTS):
        style_code = f"{division[0]}{index + 1:02d}{rng.randint(10, 99)}"
        season = rng.choice(list(SEASONS))
        active = index not in (7 * 3, 7 * 5)  # two discontinued styles, to exercise rejections
        style = CatalogueStyle(
            style=style_code,
            description=product,
            division=division,
            season=season,
            size_range=size_range,
            case_pack_qty=case_pack,
            unit_cost=Decimal(cost),
            active=active,
        )
        styles.append(style)
        n_colors = rng.randint(5, 8) if size_range not in ("OS", "SOCK") else rng.randint(5, 6)
        colors = rng.sample(color_codes, n_colors)
        has_ean = index % 4 == 0
        for color in colors:
            for size_seq, size in enumerate(SIZE_RANGES[size_range]):
                item_reference += 1
                sku_code = f"{style_code}-{color}-{size}"
                upc = upc_for(item_reference)
                # Bigger sizes cost a little more, as on real apparel price lists.
                upcharge = Decimal("1.00") if size in ("XXL", "38", "40", "14") else Decimal("0.00")
                unit_cost = style.unit_cost + upcharge
                msrp = ((unit_cost * Decimal("2.4")).quantize(Decimal("1")) - Decimal("0.01")).quantize(
                    Decimal("0.01")
                )
                weight = (Decimal("0.20") + unit_cost / Decimal("40")).quantize(Decimal("0.01"))
                asin = None if rng.random() < 0.04 else asin_for(sku_code)
                skus.append(
                    CatalogueSku(
                        sku=sku_code,
                        style=style_code,
                        color=color,
                        color_name=COLORS[color],
                        size=size,
                        size_seq=size_seq,
                        upc=upc,
                        ean="0" + upc,
                        asin=asin,
                        unit_cost=unit_cost,
                        msrp=msrp,
                        weight_lb=weight,
                        has_ean_listing=has_ean,
                    )
                )
                for warehouse in WAREHOUSES:
                    stock.append(_with_hold(seed, _stock_for(rng, sku_code, warehouse, case_pack)))
    return Catalogue(
        seed=seed,
        styles=tuple(styles),
        skus=tuple(skus),
        customers=_customers(),
        stock=tuple(stock),
        styles_by_code={style.style: style for style in styles},
    )


def _stock_for(rng: random.Random, sku: str, warehouse: str, case_pack: int) -> StockSeed:
    roll = rng.random()
    if roll < 0.06:
        on_hand = 0  # out of stock
    elif roll < 0.16:
        on_hand = rng.randint(1, case_pack * 2)  # short
    else:
        on_hand = case_pack * rng.randint(3, 40)
    incoming, days = 0, None
    if rng.random() < 0.3 or on_hand == 0:
        incoming = case_pack * rng.randint(5, 30)
        days = rng.randint(7, 45)
    return StockSeed(sku=sku, warehouse=warehouse, on_hand=on_hand, incoming=incoming, incoming_in_days=days)


def _with_hold(seed: int, stock: StockSeed) -> StockSeed:
    """About one stock row in twelve has units on a quality or damage hold.

    Drawn from a random stream of its own (per SKU and warehouse), so adding holds did not
    shift the main stream that draws the rest of the catalogue (items.csv stays the same).
    """
    rng = random.Random(f"{seed}:{stock.sku}:{stock.warehouse}:hold")
    if stock.on_hand == 0 or rng.random() >= 1 / 12:
        return stock
    return dataclasses.replace(stock, on_hold=rng.randint(1, max(1, stock.on_hand // 4)))


def _customers() -> tuple[CustomerSeed, ...]:
    amazon_stores = tuple(
        StoreSeed(
            bc_store=code,
            name=f"Amazon.com Services LLC {code}",
            store_type="FC",
            fc_code=code,
            san=san,
            bc_warehouse=warehouse,
            city=city,
            state=state,
            postal_code=postal,
        )
        for code, san, city, state, postal, warehouse in AMAZON_FCS
    )
    return (
        CustomerSeed(AMAZON, "Amazon.com Services LLC", "AMAZON", "N60", Decimal("0"), 0, 60, amazon_stores),
        CustomerSeed(
            "NORDSTROM",
            "Nordstrom Inc.",
            "WHOLESALE",
            "2/10N30",
            Decimal("2"),
            10,
            30,
            (
                StoreSeed(
                    "NDC-DUBUQUE", "Nordstrom DC Dubuque", "DC", None, None, "NJ01", "Dubuque", "IA", "52001"
                ),
                StoreSeed(
                    "NDC-ONTARIO", "Nordstrom DC Ontario", "DC", None, None, "CA01", "Ontario", "CA", "91761"
                ),
            ),
        ),
        CustomerSeed(
            "ZAPPOS",
            "Zappos.com LLC",
            "WHOLESALE",
            "N45",
            Decimal("0"),
            0,
            45,
            (
                StoreSeed(
                    "ZDC-SHEPHERDSVILLE",
                    "Zappos DC Shepherdsville",
                    "DC",
                    None,
                    None,
                    "NJ01",
                    "Shepherdsville",
                    "KY",
                    "40165",
                ),
            ),
        ),
    )
