"""A PDF file written page by page to disk, its fonts embedded as subsets once at the end.

PDF libraries (reportlab, fpdf2) keep every page of a document in memory until it is saved:
about 14 KiB a letter in reportlab (`bench/README.md`). This writer keeps only
what the end of the file needs: each object's offset, the pages' object numbers and the glyphs
used so far. A page's content is compressed and written as soon as it is finished.

Text is real text: each font is a CIDFontType2 (TrueType outlines) with Identity-H encoding,
a subset of the glyphs used (fontTools, glyph ids kept), their widths, and a ToUnicode map so
that readers can search and copy it. A character the main font lacks (中) is drawn with the
next font of its typeface's fallbacks.
"""

from __future__ import annotations

import hashlib
import io
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import BinaryIO

from fontTools import subset
from fontTools.ttLib import TTFont

from domain.letters.qr import QrCode

MM = 72 / 25.4  # points in a millimetre
A4 = (210 * MM, 297 * MM)

# What a character no font has is drawn as.
_MISSING = "?"


@dataclass(slots=True, eq=False)  # compared and hashed by identity: one per file
class FontFace:
    """One TrueType font file: its glyphs by character, their widths, and the glyphs a document
    used (to embed their subset)."""

    path: Path
    postscript_name: str
    units_per_em: int
    glyphs: dict[str, tuple[int, float]]  # character -> (glyph id, width in 1/1000 em)
    bbox: tuple[float, float, float, float]
    ascent: float
    descent: float
    cap_height: float
    italic_angle: float
    fixed_pitch: bool

    @classmethod
    def load(cls, path: Path) -> FontFace:
        font = TTFont(path, lazy=True)
        try:
            if "glyf" not in font:
                raise ValueError(f"{path} has no TrueType outlines (glyf): use a .ttf font")
            units = font["head"].unitsPerEm
            scale = 1000 / units
            metrics = font["hmtx"].metrics
            order = font.getReverseGlyphMap()
            glyphs = {
                chr(code): (order[name], round(metrics[name][0] * scale, 1))
                for code, name in font.getBestCmap().items()
            }
            head, hhea, post = font["head"], font["hhea"], font["post"]
            cap = getattr(font.get("OS/2"), "sCapHeight", 0)
            name = font["name"].getDebugName(6) or path.stem
            return cls(
                path=path,
                postscript_name="".join(c for c in name if c.isalnum() or c in "-_") or "Font",
                units_per_em=units,
                glyphs=glyphs,
                bbox=(
                    head.xMin * scale,
                    head.yMin * scale,
                    head.xMax * scale,
                    head.yMax * scale,
                ),
                ascent=hhea.ascent * scale,
                descent=hhea.descent * scale,
                cap_height=(cap or hhea.ascent) * scale,
                italic_angle=float(post.italicAngle),
                fixed_pitch=bool(post.isFixedPitch),
            )
        finally:
            font.close()

    def subset(self, glyph_ids: Sequence[int]) -> bytes:
        """The font with only these glyphs (and .notdef), each at its own glyph id."""
        options = subset.Options()
        options.retain_gids = True
        options.notdef_outline = True
        options.hinting = False  # print, not screens: smaller files
        options.layout_features = []
        options.name_IDs = ["*"]
        options.drop_tables += ["GSUB", "GPOS", "GDEF", "kern", "DSIG", "FFTM"]
        font = TTFont(self.path)
        try:
            subsetter = subset.Subsetter(options)
            subsetter.populate(gids=sorted({0, *glyph_ids}))
            subsetter.subset(font)
            buffer = io.BytesIO()
            font.save(buffer)
            return buffer.getvalue()
        finally:
            font.close()


@cache
def font_face(path: Path) -> FontFace:
    """Each font file is read once a process (the CJK fallback has 30,000 glyphs)."""
    return FontFace.load(path)


@dataclass(slots=True, eq=False)  # hashed by identity: a dictionary key
class Typeface:
    """A font and the fonts that draw what it lacks, in order."""

    faces: tuple[FontFace, ...]
    _widths: dict[str, float] = field(default_factory=dict, repr=False)

    def width(self, text: str, size: float) -> float:
        """The width of `text` in points at `size` (glyph widths add up: no kerning)."""
        widths = self._widths
        total = 0.0
        for character in text:
            width = widths.get(character)
            if width is None:
                width = widths[character] = self._width(character)
            total += width
        return total * size / 1000

    def _width(self, character: str) -> float:
        for face in self.faces:
            glyph = face.glyphs.get(character)
            if glyph is not None:
                return glyph[1]
        return self._width(_MISSING) if character != _MISSING else 500.0


@dataclass(slots=True)
class _UsedFont:
    """A face as one document uses it: its resource name and the glyphs drawn with it."""

    face: FontFace
    name: str  # /F1, /F2, ...
    number: int  # the Type0 font's object number
    used: dict[int, tuple[float, str]] = field(default_factory=dict)  # glyph id -> width, text


@dataclass(frozen=True, slots=True)
class Run:
    """Part of a line drawn with one font: its glyphs as hex, its width in 1/1000 em."""

    font: _UsedFont
    hex: str
    width: float


class PdfWriter:
    """Pages go to `file` as they are added; `close` writes the fonts, the page tree and the
    cross-reference table. `file` must be open for binary writing at its start."""

    def __init__(self, file: BinaryIO, *, title: str) -> None:
        self.file = file
        self.position = 0
        self.offsets: list[int] = [0]  # by object number; 0 is the free list's head
        self.page_numbers: list[int] = []
        self.fonts: dict[Path, _UsedFont] = {}
        # By typeface, each character's font, glyph id (hex) and width, looked up once.
        self._glyphs: dict[Typeface, dict[str, tuple[_UsedFont, str, float]]] = {}
        self.title = title
        self._write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
        self.catalog = self._reserve()
        self.pages = self._reserve()
        self.resources = self._reserve()

    @property
    def page_count(self) -> int:
        return len(self.page_numbers)

    # Text

    def runs(self, typeface: Typeface, text: str) -> list[Run]:
        """`text` as runs of glyphs, each run in the first face that has its characters."""
        runs: list[Run] = []
        table = self._table(typeface)
        current: _UsedFont | None = None
        hexes: list[str] = []
        width = 0.0
        for character in text:
            found = table.get(character)
            if found is None:
                found = table[character] = self._glyph(typeface, character)
            font, glyph_hex, glyph_width = found
            if font is not current:
                if current is not None:
                    runs.append(Run(current, "".join(hexes), width))
                current, hexes, width = font, [], 0.0
            hexes.append(glyph_hex)
            width += glyph_width
        if current is not None:
            runs.append(Run(current, "".join(hexes), width))
        return runs

    def width(self, typeface: Typeface, text: str, size: float) -> float:
        """The width of `text` in points at `size`."""
        return typeface.width(text, size)

    def _table(self, typeface: Typeface) -> dict[str, tuple[_UsedFont, str, float]]:
        table = self._glyphs.get(typeface)
        if table is None:
            table = self._glyphs[typeface] = {}
        return table

    def _glyph(self, typeface: Typeface, character: str) -> tuple[_UsedFont, str, float]:
        for face in typeface.faces:
            glyph = face.glyphs.get(character)
            if glyph is not None:
                font = self._font(face)
                glyph_id, glyph_width = glyph
                font.used.setdefault(glyph_id, (glyph_width, character))
                return font, f"{glyph_id:04X}", glyph_width
        if character == _MISSING:  # not even a question mark: the font's empty box
            font = self._font(typeface.faces[0])
            font.used.setdefault(0, (500.0, _MISSING))
            return font, "0000", 500.0
        return self._glyph(typeface, _MISSING)

    def _font(self, face: FontFace) -> _UsedFont:
        font = self.fonts.get(face.path)
        if font is None:
            font = _UsedFont(face, f"F{len(self.fonts) + 1}", self._reserve())
            self.fonts[face.path] = font
        return font

    # Pages

    def add_page(self, content: str, size: tuple[float, float] = A4) -> None:
        stream = self._reserve()
        self._stream(stream, content.encode("latin-1"))
        page = self._reserve()
        self._object(
            page,
            f"<< /Type /Page /Parent {self.pages} 0 R"
            f" /MediaBox [0 0 {size[0]:.2f} {size[1]:.2f}]"
            f" /Resources {self.resources} 0 R /Contents {stream} 0 R >>",
        )
        self.page_numbers.append(page)

    def close(self) -> None:
        """Write what refers to every page and font; the file stays open."""
        fonts = " ".join(f"/{f.name} {f.number} 0 R" for f in self.fonts.values())
        self._object(self.resources, f"<< /Font << {fonts} >> /ProcSet [/PDF /Text] >>")
        for font in self.fonts.values():
            self._embed(font)
        kids = " ".join(f"{number} 0 R" for number in self.page_numbers)
        self._object(
            self.pages, f"<< /Type /Pages /Kids [{kids}] /Count {len(self.page_numbers)} >>"
        )
        self._object(self.catalog, f"<< /Type /Catalog /Pages {self.pages} 0 R >>")
        info = self._reserve()
        self._object(
            info,
            f"<< /Title {_text_string(self.title)} /Producer (invitations service) >>",
        )
        xref = self.position
        lines = [f"xref\n0 {len(self.offsets)}\n", "0000000000 65535 f \n"]
        lines.extend(f"{offset:010d} 00000 n \n" for offset in self.offsets[1:])
        identifier = hashlib.md5(  # noqa: S324 - a file identifier, not a secret
            f"{self.title}:{self.position}:{len(self.offsets)}".encode()
        ).hexdigest()
        lines.append(
            f"trailer\n<< /Size {len(self.offsets)} /Root {self.catalog} 0 R /Info {info} 0 R"
            f" /ID [<{identifier}> <{identifier}>] >>\nstartxref\n{xref}\n%%EOF\n"
        )
        self._write("".join(lines).encode("ascii"))
        self.file.flush()

    # Objects

    def _reserve(self) -> int:
        self.offsets.append(-1)
        return len(self.offsets) - 1

    def _write(self, data: bytes) -> None:
        self.file.write(data)
        self.position += len(data)

    def _object(self, number: int, body: str | bytes) -> None:
        self.offsets[number] = self.position
        data = body.encode("latin-1") if isinstance(body, str) else body
        self._write(b"%d 0 obj\n%s\nendobj\n" % (number, data))

    def _stream(self, number: int, data: bytes, dictionary: str = "") -> None:
        packed = zlib.compress(data, 6)
        self._object(
            number,
            f"<< /Length {len(packed)} /Filter /FlateDecode {dictionary}>>\nstream\n".encode()
            + packed
            + b"\nendstream",
        )

    def _embed(self, font: _UsedFont) -> None:
        face = font.face
        # Subset fonts are named with a tag made of their glyphs (PDF 32000 9.6.4).
        digest = hashlib.sha1(repr(sorted(font.used)).encode()).digest()  # noqa: S324
        tag = "".join(chr(ord("A") + byte % 26) for byte in digest[:6])
        name = f"{tag}+{face.postscript_name}"
        file_number, descriptor, cid_font, to_unicode = (self._reserve() for _ in range(4))
        program = face.subset(list(font.used))
        self._stream(file_number, program, f"/Length1 {len(program)} ")
        flags = 32 | (1 if face.fixed_pitch else 0)  # non-symbolic
        bbox = " ".join(f"{value:.0f}" for value in face.bbox)
        self._object(
            descriptor,
            f"<< /Type /FontDescriptor /FontName /{name} /Flags {flags} /FontBBox [{bbox}]"
            f" /ItalicAngle {face.italic_angle:.1f} /Ascent {face.ascent:.0f}"
            f" /Descent {face.descent:.0f} /CapHeight {face.cap_height:.0f} /StemV 80"
            f" /FontFile2 {file_number} 0 R >>",
        )
        widths = " ".join(f"{gid} [{width:g}]" for gid, (width, _) in sorted(font.used.items()))
        self._object(
            cid_font,
            f"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /{name}"
            " /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >>"
            f" /FontDescriptor {descriptor} 0 R /CIDToGIDMap /Identity /DW 1000"
            f" /W [{widths}] >>",
        )
        self._stream(to_unicode, _to_unicode_cmap(font.used).encode("ascii"))
        self._object(
            font.number,
            f"<< /Type /Font /Subtype /Type0 /BaseFont /{name} /Encoding /Identity-H"
            f" /DescendantFonts [{cid_font} 0 R] /ToUnicode {to_unicode} 0 R >>",
        )


def _to_unicode_cmap(used: dict[int, tuple[float, str]]) -> str:
    entries = [
        f"<{gid:04X}> <{text.encode('utf-16-be').hex().upper()}>"
        for gid, (_, text) in sorted(used.items())
    ]
    blocks = []
    for start in range(0, len(entries), 100):
        chunk = entries[start : start + 100]
        blocks.append(f"{len(chunk)} beginbfchar\n" + "\n".join(chunk) + "\nendbfchar")
    return (
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
        "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
        "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
        + "\n".join(blocks)
        + "\nendcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n"
    )


def _text_string(text: str) -> str:
    """A PDF text string: UTF-16 with its byte order mark, as hex."""
    return "<FEFF" + text.encode("utf-16-be").hex().upper() + ">"


class Canvas:
    """One page's drawing operators, in points from the page's bottom left corner."""

    def __init__(self, writer: PdfWriter, size: tuple[float, float] = A4) -> None:
        self.writer = writer
        self.size = size
        self.ops: list[str] = []

    def text(
        self,
        x: float,
        y: float,
        text: str,
        typeface: Typeface,
        size: float,
        *,
        align: str = "left",
    ) -> float:
        """Draw one line with its baseline at y; returns its width."""
        runs = self.writer.runs(typeface, text)
        width = sum(run.width for run in runs) * size / 1000
        if align == "right":
            x -= width
        elif align == "center":
            x -= width / 2
        parts = [f"BT {x:.2f} {y:.2f} Td"]
        for run in runs:
            parts.append(f"/{run.font.name} {size:g} Tf <{run.hex}> Tj")
        parts.append("ET")
        self.ops.append(" ".join(parts))
        return width

    def line(self, x1: float, y1: float, x2: float, y2: float, width: float = 0.5) -> None:
        self.ops.append(f"{width:g} w {x1:.2f} {y1:.2f} m {x2:.2f} {y2:.2f} l S")

    def rectangle(
        self, x: float, y: float, width: float, height: float, *, line: float = 0.5, grey: float = 0
    ) -> None:
        self.ops.append(f"q {grey:g} G {line:g} w {x:.2f} {y:.2f} {width:.2f} {height:.2f} re S Q")

    def image_mask(self, x: float, top: float, size: float, qr: QrCode) -> None:
        """A QR code `size` points wide, its top left corner at (x, top): a 1-bit image mask
        painted black, one image pixel a module, never smoothed (/I false), so its edges stay
        sharp at any resolution. Inline, as hex: small, and safe in any content stream."""
        self.ops.append(
            f"q 0 g {size:.2f} 0 0 {size:.2f} {x:.2f} {top - size:.2f} cm"
            f" BI /W {qr.modules} /H {qr.modules} /IM true /BPC 1 /I false /F /AHx ID\n"
            f"{qr.mask.hex()}>\nEI Q"
        )

    def finish(self) -> None:
        self.writer.add_page("\n".join(self.ops), self.size)
