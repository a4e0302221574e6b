"""QR codes of invitation links, as the matrix of modules the letters draw."""

from __future__ import annotations

from typing import Any, cast

import zxingcpp

# Level M restores 15% of the symbol: a crease, a coffee ring, a pen mark.
ERROR_CORRECTION = "M"


def qr_matrix(text: str) -> list[bytes]:
    """The rows of the QR code of `text`, 1 for a dark module, without the quiet zone (the
    letter leaves it blank). zxing-cpp encodes in C++: ~0.1 ms a code, against ~4 ms for a
    pure-Python encoder choosing its mask (`bench/README.md`)."""
    barcode = zxingcpp.create_barcode(
        text, zxingcpp.BarcodeFormat.QRCode, ec_level=ERROR_CORRECTION
    )
    image = barcode.to_image(scale=1, add_quiet_zones=False)
    height, width = image.shape
    # The image is a buffer of one byte a module (0 dark, 255 light); its stubs omit that.
    pixels = memoryview(cast(Any, image)).tobytes()
    dark = bytes.maketrans(bytes(range(256)), bytes([1] * 128 + [0] * 128))
    return [pixels[row * width : (row + 1) * width].translate(dark) for row in range(height)]
