"""X12 code lists with a meaning in our flows (the Amazon values of each element)."""

from __future__ import annotations

from enum import StrEnum


class TransactionPurpose(StrEnum):
    """BEG01 / BAK01 / BSN01 / BIA01 (X12 element 353), the values in use with Amazon."""

    ORIGINAL = "00"
    CANCELLATION = "01"
    CHANGE = "04"
    REPLACE = "05"
    CONFIRMATION = "06"
    DUPLICATE = "07"
    ADVANCE_NOTIFICATION = "14"


class PurchaseOrderType(StrEnum):
    """BEG02; one for one with SP-API ``purchaseOrderType``."""

    NEW_ORDER = "NE"  # RegularOrder
    RUSH_ORDER = "RO"  # RushOrder
    CONSIGNED_ORDER = "CN"  # ConsignedOrder
    NEW_PRODUCT_INTRODUCTION = "NP"  # NewProductIntroduction


class AcknowledgementType(StrEnum):
    """BAK02 on Amazon's retail 855."""

    WITH_DETAIL_AND_CHANGE = "AC"
    WITH_DETAIL_NO_CHANGE = "AD"


class LineAcknowledgementStatus(StrEnum):
    """ACK01; mirrors SP-API ``acknowledgementCode``."""

    ACCEPTED = "IA"
    BACKORDERED = "IB"
    REJECTED = "IR"


class ProductIdQualifier(StrEnum):
    """Product id qualifiers Amazon uses in PO1/IT1/LIN (235). Not enforced: see module doc."""

    BUYER_PART_NUMBER = "BP"  # where Amazon puts the ASIN
    EAN = "EN"
    ISBN = "IB"
    UPC_CASE_CODE = "UA"
    GTIN = "UK"
    UPC = "UP"
    VENDOR_ITEM_NUMBER = "VN"
    VENDOR_PART_NUMBER = "VP"


class UnitOfMeasure(StrEnum):
    """Units Amazon orders in (PO103, ACK03, SN103 ...). Not enforced."""

    EACH = "EA"
    CASE = "CA"


class PriceBasis(StrEnum):
    """PO105 / IT105 on Amazon documents. Not enforced."""

    PRICE_PER_EACH = "PE"
    RETAIL_PRICE_PER_EACH = "RE"


class ReferenceQualifier(StrEnum):
    """REF01 values with a named field on some model."""

    VENDOR_CODE = "CR"  # 850: Amazon vendor code
    DEAL_CODE = "PD"  # 850: promotion / deal
    BILL_OF_LADING = "BM"  # 856
    CARRIER_REFERENCE = "CN"  # 856: PRO / tracking number


class DateQualifier(StrEnum):
    """DTM01 values with a named field on some model."""

    DELIVERY_NOT_BEFORE = "064"
    DELIVERY_NOT_AFTER = "063"
    SHIPPED = "011"
    ESTIMATED_DELIVERY = "017"
    AVAILABLE_INVENTORY = "007"  # effective date


class InventoryQuantityQualifier(StrEnum):
    """QTY01 on the 846."""

    AVAILABLE = "33"  # quantity available for sale (stock quantity)
    ON_HAND = "17"
    ON_ORDER = "02"


class ChargeIndicator(StrEnum):
    """SAC01."""

    ALLOWANCE = "A"
    CHARGE = "C"
    NO_ALLOWANCE_OR_CHARGE = "N"


class SetAcknowledgementCode(StrEnum):
    """AK501."""

    ACCEPTED = "A"
    ACCEPTED_WITH_ERRORS = "E"
    REJECTED_MESSAGE_AUTHENTICATION = "M"
    REJECTED = "R"
    REJECTED_ASSURANCE = "W"
    REJECTED_CONTENT_UNDECRYPTABLE = "X"


class GroupAcknowledgementCode(StrEnum):
    """AK901."""

    ACCEPTED = "A"
    ACCEPTED_WITH_ERRORS = "E"
    REJECTED_MESSAGE_AUTHENTICATION = "M"
    PARTIALLY_ACCEPTED = "P"
    REJECTED = "R"
    REJECTED_ASSURANCE = "W"
    REJECTED_CONTENT_UNDECRYPTABLE = "X"
