"""Write docs/letters-sample.pdf (three letters and a sheet of cards) and a PNG of its first
page, from made-up invitations: `uv run python scripts/letters_sample.py` (needs the fonts of
scripts/debian-packages.txt and poppler's pdftoppm)."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from domain.invitations import tokens  # noqa: E402
from domain.letters.layout import Letter, Sender, draw_cards, draw_letter  # noqa: E402
from domain.letters.pdf import PdfWriter  # noqa: E402
from domain.letters.service import fonts_of  # noqa: E402
from domain.settings import load_settings  # noqa: E402

SENDER = Sender(
    platform="Gent Participates",
    return_address="Stad Gent · Botermarkt 1 · 9000 Gent",
    invite_url="https://participate.example.org/invite",
    help_contact="Call 09 210 10 10 or mail help@participate.example.org.",
)
PEOPLE = [
    ("nl-BE", "Léa", "Łukasiewicz", "Léa Łukasiewicz\nKerkstraat 12 bus 3\n9000 Gent"),
    ("fr-BE", "Ayşe", "Doğan", "Ayşe Doğan\nRue de la Loi 16\n1000 Bruxelles"),
    ("en", "伟", "王", "王伟 (Wang Wei)\nNieuwstraat 1\n1000 Brussel"),
]
MESSAGE = (  # the personal message of the first letter's invitation (Dutch, as the letter)
    "De stad vraagt alle bewoners van de Noorderlaan wat het nieuwe park moet worden. Deel je"
    " ideeën op Gent Participates tot eind juni: registreren duurt twee minuten."
)


def letters() -> list[Letter]:
    made = []
    for index, (locale, first, last, address) in enumerate(PEOPLE * 3):
        code = tokens.display(tokens.generate())
        made.append(
            Letter(
                code=code,
                link=f"{SENDER.invite_url}#token={code}",
                locale=locale,
                first_name=first if index < 3 else "",
                last_name=last if index < 3 else "",
                postal_address=address if index < 3 else "",
                message=MESSAGE if index == 0 else "",
                expires_on=date(2027, 1, 31),
            )
        )
    return made


def main() -> None:
    fonts = fonts_of(load_settings(env="test", secret_key="x" * 32))
    pdf = ROOT / "docs" / "letters-sample.pdf"
    sample = letters()
    with pdf.open("wb") as file:
        writer = PdfWriter(file, title="Invitation letters (sample)")
        for letter in sample[:3]:
            draw_letter(writer, fonts, SENDER, letter)
        draw_cards(writer, fonts, SENDER, sample[:8])
        writer.close()
    png = ROOT / "docs" / "letters-sample"
    pdftoppm = ["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile"]
    subprocess.run([*pdftoppm, pdf, png], check=True)  # noqa: S603 - our own arguments
    print(f"wrote {pdf} and {png}.png")


if __name__ == "__main__":
    main()
