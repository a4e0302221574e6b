"""Where everything goes on a letter (A4, DIN 5008 form B) and on a sheet of eight cards.

Measures are in millimetres from the page's top left corner, as DIN 5008 and a ruler give them;
`_Page` turns them into PDF points (from the bottom left).

Letter: the address field of DIN 5008 form B, 85 x 45 mm at 20 mm from the left and 45 mm from
the top, is what the window of a DL or C5/6 envelope with a left window shows once the letter
is folded at the fold marks (105 and 210 mm). Its first 17.7 mm hold the return address in
small print, the next 27.3 mm up to six lines of the address. Nothing else is printed there,
and the code and its QR code are printed well outside it: the window shows no code.

Cards: 85 x 55 mm (a business card), two columns of four, 170 x 220 mm centred on the sheet,
with crop marks in the margins at each cut.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from domain.letters.pdf import A4, MM, Canvas, PdfWriter, Typeface
from domain.letters.qr import qr_code
from domain.letters.words import Words, words_for

# The DIN 5008 form B address field (mm from the top left) and the window it must fit.
ADDRESS_FIELD = (20.0, 45.0, 85.0, 45.0)  # left, top, width, height
ADDRESS_LEFT = 25.0  # text starts 5 mm inside the field
ADDRESS_FIRST_BASELINE = 66.5  # the address zone starts at 62.7 mm
ADDRESS_LEADING = 4.2
ADDRESS_MAX_LINES = 6
RETURN_BASELINE = 59.5
TEXT_LEFT, TEXT_RIGHT = 25.0, 185.0
FOLDS = (105.0, 210.0)
HOLE_MARK = 148.5

CARD_WIDTH, CARD_HEIGHT = 85.0, 55.0
CARD_COLUMNS, CARD_ROWS = 2, 4
CARDS_PER_SHEET = CARD_COLUMNS * CARD_ROWS
CARDS_LEFT = (210 - CARD_COLUMNS * CARD_WIDTH) / 2
CARDS_TOP = (297 - CARD_ROWS * CARD_HEIGHT) / 2
CROP_GAP, CROP_LENGTH = 3.0, 6.0


@dataclass(frozen=True, slots=True)
class Fonts:
    regular: Typeface
    bold: Typeface
    code: Typeface  # the code: fixed width, bold


@dataclass(frozen=True, slots=True)
class Sender:
    """What every letter of a platform shares."""

    platform: str
    return_address: str  # one line above the address, in the window
    invite_url: str  # {PUBLIC_URL}/invite
    help_contact: str


@dataclass(frozen=True, slots=True)
class Letter:
    """One invitation as its letter or card prints it."""

    code: str  # XXXXX-XXXXX-XXXXX
    link: str  # {PUBLIC_URL}/invite#token=...
    locale: str
    first_name: str
    last_name: str
    postal_address: str  # lines separated by line breaks; "" when there is none
    message: str  # the personal message as plain text; "" for the platform's words
    expires_on: date


class _Page:
    """A canvas measured in millimetres from the top left."""

    def __init__(self, writer: PdfWriter, fonts: Fonts) -> None:
        self.writer = writer
        self.fonts = fonts
        self.canvas = Canvas(writer, A4)
        self.height = A4[1]

    def text(
        self,
        x: float,
        baseline: float,
        text: str,
        typeface: Typeface,
        size: float,
        *,
        fit: float | None = None,
        align: str = "left",
    ) -> None:
        """One line; with `fit` (mm), made smaller (down to 60%) to fit that width."""
        if fit is not None:
            width = typeface.width(text, size)
            if width > fit * MM:
                size = max(size * fit * MM / width, size * 0.6)
        self.canvas.text(x * MM, self.height - baseline * MM, text, typeface, size, align=align)

    def lines(
        self,
        x: float,
        baseline: float,
        text: str,
        typeface: Typeface,
        size: float,
        *,
        width: float,
        leading: float,
        max_lines: int,
    ) -> float:
        """Wrapped text; returns the baseline after the last line."""
        for line in wrap(typeface, text, size, width * MM)[:max_lines]:
            self.text(x, baseline, line, typeface, size, fit=width)
            baseline += leading
        return baseline

    def line(self, x1: float, y1: float, x2: float, y2: float, width: float = 0.3) -> None:
        self.canvas.line(x1 * MM, self.height - y1 * MM, x2 * MM, self.height - y2 * MM, width)

    def box(self, x: float, top: float, width: float, height: float) -> None:
        self.canvas.rectangle(
            x * MM, self.height - (top + height) * MM, width * MM, height * MM, line=0.8, grey=0.55
        )

    def qr(self, x: float, top: float, size: float, link: str) -> None:
        self.canvas.image_mask(x * MM, self.height - top * MM, size * MM, qr_code(link))


@lru_cache(maxsize=4096)  # the words of each language repeat on every letter
def wrap(typeface: Typeface, text: str, size: float, width: float) -> tuple[str, ...]:
    """Lines of at most `width` points, broken between words (inside a word only when the word
    alone is too wide: a long address, or text without spaces). Line breaks in the text are
    kept."""
    lines: list[str] = []
    space = typeface.width(" ", size)
    for paragraph in text.split("\n"):
        line, line_width = "", 0.0
        for word in paragraph.split(" "):
            word_width = typeface.width(word, size)
            if line and line_width + space + word_width <= width:
                line, line_width = f"{line} {word}", line_width + space + word_width
                continue
            if line:
                lines.append(line)
            line, line_width = word, word_width
            while line_width > width and len(line) > 1:
                cut = len(line) - 1
                while cut > 1 and typeface.width(line[:cut], size) > width:
                    cut -= 1
                lines.append(line[:cut])
                line = line[cut:]
                line_width = typeface.width(line, size)
        lines.append(line)
    return tuple(lines)


def _name(letter: Letter) -> str:
    return " ".join(part for part in (letter.first_name, letter.last_name) if part)


def draw_letter(writer: PdfWriter, fonts: Fonts, sender: Sender, letter: Letter) -> None:
    """One A4 page."""
    words = words_for(letter.locale)
    page = _Page(writer, fonts)
    for fold in FOLDS:
        page.line(4, fold, 9, fold)
    page.line(4, HOLE_MARK, 11, HOLE_MARK)
    page.text(TEXT_LEFT, 27, sender.platform, fonts.bold, 17, fit=TEXT_RIGHT - TEXT_LEFT)

    # The window: return address, then the address.
    page.text(ADDRESS_LEFT, RETURN_BASELINE, sender.return_address, fonts.regular, 7, fit=78)
    address = [line for line in letter.postal_address.split("\n") if line.strip()]
    for index, line in enumerate(address[:ADDRESS_MAX_LINES]):
        page.text(
            ADDRESS_LEFT,
            ADDRESS_FIRST_BASELINE + index * ADDRESS_LEADING,
            line.strip(),
            fonts.regular,
            10,
            fit=78,
        )

    name = _name(letter)
    page.text(
        TEXT_LEFT,
        108,
        words.greeting(name),
        fonts.regular,
        11,
        fit=TEXT_RIGHT - TEXT_LEFT,
    )
    _campaign(page, words, sender, letter)
    _code_box(page, words, sender, letter)

    baseline = 232.0
    page.text(
        TEXT_LEFT,
        baseline,
        words.until(letter.expires_on),
        fonts.bold,
        11,
        fit=TEXT_RIGHT - TEXT_LEFT,
    )
    baseline = page.lines(
        TEXT_LEFT,
        baseline + 7,
        words.help(sender.help_contact),
        fonts.regular,
        10,
        width=TEXT_RIGHT - TEXT_LEFT,
        leading=4.6,
        max_lines=2,
    )
    page.lines(
        TEXT_LEFT,
        baseline + 3,
        words.personal,
        fonts.regular,
        9,
        width=TEXT_RIGHT - TEXT_LEFT,
        leading=4.2,
        max_lines=3,
    )
    page.canvas.finish()


def _campaign(page: _Page, words: Words, sender: Sender, letter: Letter) -> None:
    """The campaign's text between the greeting and the code: 11 pt, or smaller for a long
    personal message; what does not fit even at 8.5 pt ends with an ellipsis."""
    text = letter.message.strip() or words.campaign(sender.platform)
    top, bottom = 116.0, 166.0
    width = (TEXT_RIGHT - TEXT_LEFT) * MM
    for size in (11.0, 10.0, 9.0, 8.5):
        leading = size * 0.47
        lines = list(wrap(page.fonts.regular, text, size, width))
        capacity = int((bottom - top) / leading) + 1
        if len(lines) <= capacity or size == 8.5:
            break
    if len(lines) > capacity:
        lines = [*lines[: capacity - 1], lines[capacity - 1] + " …"]
    baseline = top
    for line in lines[:capacity]:
        page.text(TEXT_LEFT, baseline, line, page.fonts.regular, size, fit=TEXT_RIGHT - TEXT_LEFT)
        baseline += leading


def _code_box(page: _Page, words: Words, sender: Sender, letter: Letter) -> None:
    top, height, qr_size = 172.0, 50.0, 38.0
    page.box(TEXT_LEFT, top, TEXT_RIGHT - TEXT_LEFT, height)
    column = TEXT_RIGHT - 4 - qr_size - 4 - (TEXT_LEFT + 5)
    page.text(TEXT_LEFT + 5, top + 8, words.code_label, page.fonts.regular, 10, fit=column)
    page.text(TEXT_LEFT + 5, top + 20, letter.code, page.fonts.code, 24, fit=column)
    baseline = page.lines(
        TEXT_LEFT + 5,
        top + 29,
        words.how(sender.invite_url),
        page.fonts.regular,
        10,
        width=column,
        leading=4.5,
        max_lines=3,
    )
    page.lines(
        TEXT_LEFT + 5,
        baseline,
        words.scan,
        page.fonts.regular,
        10,
        width=column,
        leading=4.5,
        max_lines=2,
    )
    page.qr(TEXT_RIGHT - 4 - qr_size, top + (height - qr_size) / 2, qr_size, letter.link)


def draw_cards(writer: PdfWriter, fonts: Fonts, sender: Sender, cards: list[Letter]) -> None:
    """One A4 sheet of up to eight cards."""
    page = _Page(writer, fonts)
    _crop_marks(page)
    for index, card in enumerate(cards[:CARDS_PER_SHEET]):
        row, column = divmod(index, CARD_COLUMNS)
        _card(page, sender, card, CARDS_LEFT + column * CARD_WIDTH, CARDS_TOP + row * CARD_HEIGHT)
    page.canvas.finish()


def _crop_marks(page: _Page) -> None:
    right = CARDS_LEFT + CARD_COLUMNS * CARD_WIDTH
    bottom = CARDS_TOP + CARD_ROWS * CARD_HEIGHT
    for column in range(CARD_COLUMNS + 1):
        x = CARDS_LEFT + column * CARD_WIDTH
        page.line(x, CARDS_TOP - CROP_GAP - CROP_LENGTH, x, CARDS_TOP - CROP_GAP, 0.25)
        page.line(x, bottom + CROP_GAP, x, bottom + CROP_GAP + CROP_LENGTH, 0.25)
    for row in range(CARD_ROWS + 1):
        y = CARDS_TOP + row * CARD_HEIGHT
        page.line(CARDS_LEFT - CROP_GAP - CROP_LENGTH, y, CARDS_LEFT - CROP_GAP, y, 0.25)
        page.line(right + CROP_GAP, y, right + CROP_GAP + CROP_LENGTH, y, 0.25)


def _card(page: _Page, sender: Sender, card: Letter, left: float, top: float) -> None:
    words = words_for(card.locale)
    fonts = page.fonts
    pad, qr_size = 5.0, 22.0
    column = CARD_WIDTH - 2 * pad - qr_size - 3
    page.text(left + pad, top + 9, sender.platform, fonts.bold, 9.5, fit=CARD_WIDTH - 2 * pad)
    page.text(left + pad, top + 18, words.card_label, fonts.regular, 7.5, fit=column)
    page.text(left + pad, top + 25, card.code, fonts.code, 12.5, fit=column)
    baseline = page.lines(
        left + pad,
        top + 31.5,
        words.card_where(sender.invite_url),
        fonts.regular,
        7,
        width=column,
        leading=3.3,
        max_lines=3,
    )
    name = _name(card)
    if name:
        page.text(left + pad, max(baseline + 1, top + 43), name, fonts.regular, 7.5, fit=column)
    page.text(
        left + pad,
        top + CARD_HEIGHT - pad,
        words.card_until(card.expires_on),
        fonts.regular,
        7,
        fit=column,
    )
    page.qr(left + CARD_WIDTH - pad - qr_size, top + 14, qr_size, card.link)
