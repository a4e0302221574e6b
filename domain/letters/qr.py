"""QR codes of invitation links, as the 1-bit image a letter draws."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import zxingcpp

# Level M restores 15% of the symbol: a crease, a coffee ring, a pen mark.
ERROR_CORRECTION = "M"
# zxing-cpp's pixels (0 dark, 255 light) as the bits of a PDF image mask (0 paints).
_BITS = bytes.maketrans(bytes(range(256)), b"0" * 128 + b"1" * 128)


@dataclass(frozen=True, slots=True)
class QrCode:
    modules: int  # a side, in modules, without the quiet zone (the letter leaves it blank)
    mask: bytes  # rows of 1 bit a module, 0 for a dark one, each row padded to whole bytes

    def is_dark(self, row: int, column: int) -> bool:
        width = (self.modules + 7) // 8
        byte = self.mask[row * width + column // 8]
        return not byte & (0x80 >> (column % 8))


def qr_code(text: str) -> QrCode:
    """The QR code of `text`. zxing-cpp encodes in C++: ~0.1 ms a code, against ~4 ms for a
    pure-Python encoder choosing its mask (`bench/README.md`)."""
    barcode = zxingcpp.create_barcode(
        text, zxingcpp.BarcodeFormat.QRCode, ec_level=ERROR_CORRECTION
    )
    image = barcode.to_image(scale=1, add_quiet_zones=False)
    height, width = image.shape
    # The image is a buffer of one byte a module; its type stubs do not say so.
    pixels = memoryview(cast(Any, image)).tobytes().translate(_BITS)
    padding = b"1" * (-width % 8)
    row_bytes = (width + 7) // 8
    mask = b"".join(
        int(pixels[row * width : (row + 1) * width] + padding, 2).to_bytes(row_bytes, "big")
        for row in range(height)
    )
    return QrCode(modules=width, mask=mask)
