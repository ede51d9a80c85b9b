"""The fulfilment centre's label scanner: which SSCC does a carton's label carry?

Amazon receives a carton by scanning its GS1-128 SSCC label ("license plate receive") and
looking the SSCC up in the 856 (MAN*GM). The label reaches the dock as the vendor's printer
got it:

* ZPL text for a thermal printer: the Code 128 field (``^BC`` ... ``^FD...^FS``) is decoded
  from its subset and FNC1 invocation codes, as the printer would draw it;
* a PDF page: rasterised (pypdfium2) and read by a barcode reader (zxing-cpp), as a camera
  scanner reads the printed symbol.

Only a GS1-128 symbol (FNC1 first) holding application identifier 00 and an SSCC-18 with
a valid check digit counts; anything else (no barcode, another symbology, a bad check
digit) is a carton without a readable carton label.
"""

from __future__ import annotations

import re

from amazon_bluecherry.edi.gs1 import SSCC_AI, is_valid_sscc

__all__ = ["read_sscc", "sscc_from_gs1"]

FNC1 = "\x1d"  # how the decoded text marks FNC1 (GS, as scanners transmit it)
# ZPL Code 128 invocation codes (">" and one character) that are not data.
_ZPL_CODE128_CONTROLS = {">;": "", ">:": "", ">9": "", ">5": "", ">6": "", ">7": "", ">8": FNC1}


def sscc_from_gs1(text: str | None) -> str | None:
    """The SSCC-18 of a GS1-128 symbol's data: ``<FNC1>00...``, or ``]C1`` then ``00...`` / ``(00)...``.

    Without the GS1 marker (FNC1 first, symbology identifier ``]C1``) it is a plain Code 128,
    which Amazon's receiving does not take for an SSCC label.
    """
    if not text:
        return None
    if text.startswith("]C1"):
        text = text[3:]
    elif text.startswith(FNC1):
        text = text[1:]
    else:
        return None
    if text.startswith(f"({SSCC_AI})"):
        digits = text[len(SSCC_AI) + 2:]
    elif text.startswith(SSCC_AI):
        digits = text[len(SSCC_AI):]
    else:
        return None
    digits = digits.split(FNC1, 1)[0]
    return digits if len(digits) == 18 and is_valid_sscc(digits) else None


def _zpl_code128_texts(zpl: str) -> list[str]:
    """The data of every Code 128 field of a ZPL label, invocation codes decoded."""
    texts = []
    for field in re.split(r"\^FS", zpl):
        if "^BC" not in field:
            continue
        match = re.search(r"\^FD(.*)$", field, re.S)
        if not match:
            continue
        data, out, index = match.group(1), [], 0
        while index < len(data):
            pair = data[index:index + 2]
            if pair in _ZPL_CODE128_CONTROLS:
                out.append(_ZPL_CODE128_CONTROLS[pair])
                index += 2
            elif pair == ">>":  # a literal ">"
                out.append(">")
                index += 2
            else:
                out.append(data[index])
                index += 1
        texts.append("".join(out))
    return texts


def _pdf_code128_texts(pdf: bytes) -> list[str]:
    import pypdfium2
    import zxingcpp

    texts = []
    document = pypdfium2.PdfDocument(pdf)
    try:
        for page in document:
            image = page.render(scale=3).to_pil()  # about 216 dpi, a thermal printer's 203
            for barcode in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.Code128):
                prefix = "]C1" if barcode.symbology_identifier == "]C1" else ""
                texts.append(prefix + barcode.text)
    finally:
        document.close()
    return texts


def read_sscc(label: bytes | str | None) -> str | None:
    """The SSCC a label carries, or None when no GS1-128 SSCC can be read from it."""
    if label is None:
        return None
    if isinstance(label, bytes) and label.startswith(b"%PDF"):
        try:
            texts = _pdf_code128_texts(label)
        except Exception:  # noqa: BLE001 - a damaged PDF is an unreadable label, not a crash at the dock
            return None
    else:
        text = label.decode("utf-8", "replace") if isinstance(label, bytes) else label
        texts = _zpl_code128_texts(text) if "^XA" in text else []
    for text in texts:
        sscc = sscc_from_gs1(text)
        if sscc:
            return sscc
    return None
