"""The words of the letters and cards, in each language they are printed in.

Kept in this one module so that they move to the service's translation catalogs in one step.
A locale without words of its own gets those of its language (`nl-NL` reads `nl-BE`), else
English.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True, slots=True)
class Words:
    locale: str
    greeting: str  # {name}
    greeting_unnamed: str
    campaign: str  # {platform}: when the invitation has no personal message
    code_label: str
    how: str  # {url}
    scan: str
    until: str  # {date}
    help: str  # {contact}
    personal: str
    card_label: str
    card_where: str  # {url}
    card_until: str  # {date}
    months: tuple[str, ...]

    def date(self, day: date) -> str:
        month = self.months[day.month - 1]
        if self.locale.startswith("fr"):
            return f"{'1er' if day.day == 1 else day.day} {month} {day.year}"
        return f"{day.day} {month} {day.year}"


WORDS: dict[str, Words] = {
    "en": Words(
        locale="en",
        greeting="Dear {name},",
        greeting_unnamed="Dear resident,",
        campaign=(
            "{platform} is where the residents of our community take part: share ideas, react"
            " to projects and help decide. You are invited to join."
        ),
        code_label="Your personal registration code",
        how="Go to {url} and type the code.",
        scan="Or scan the QR code with your phone's camera.",
        until="The code works until {date}.",
        help="Questions? {contact}",
        personal=(
            "The code is personal: it registers one account. Keep this letter until you have"
            " registered."
        ),
        card_label="Registration code",
        card_where="Type it at {url}",
        card_until="Valid until {date}",
        months=(
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ),
    ),
    "nl-BE": Words(
        locale="nl-BE",
        greeting="Beste {name},",
        greeting_unnamed="Beste bewoner,",
        campaign=(
            "Op {platform} praten de bewoners van onze gemeente mee: ideeën delen, reageren op"
            " projecten en mee beslissen. We nodigen je uit om mee te doen."
        ),
        code_label="Je persoonlijke registratiecode",
        how="Ga naar {url} en typ de code.",
        scan="Of scan de QR-code met de camera van je smartphone.",
        until="De code is geldig tot {date}.",
        help="Vragen? {contact}",
        personal=(
            "De code is persoonlijk: je maakt er één account mee aan. Bewaar deze brief tot je"
            " geregistreerd bent."
        ),
        card_label="Registratiecode",
        card_where="Typ hem in op {url}",
        card_until="Geldig tot {date}",
        months=(
            "januari",
            "februari",
            "maart",
            "april",
            "mei",
            "juni",
            "juli",
            "augustus",
            "september",
            "oktober",
            "november",
            "december",
        ),
    ),
    "fr-BE": Words(
        locale="fr-BE",
        greeting="Bonjour {name},",
        greeting_unnamed="Madame, Monsieur,",
        campaign=(
            "Sur {platform}, les habitants de notre commune participent : partager des idées,"
            " réagir aux projets et décider ensemble. Vous êtes invité(e) à nous rejoindre."
        ),
        code_label="Votre code d'inscription personnel",
        how="Rendez-vous sur {url} et tapez le code.",
        scan="Ou scannez le code QR avec l'appareil photo de votre téléphone.",
        until="Le code est valable jusqu'au {date}.",
        help="Des questions ? {contact}",
        personal=(
            "Ce code est personnel : il permet de créer un seul compte. Conservez cette lettre"
            " jusqu'à votre inscription."
        ),
        card_label="Code d'inscription",
        card_where="À saisir sur {url}",
        card_until="Valable jusqu'au {date}",
        months=(
            "janvier",
            "février",
            "mars",
            "avril",
            "mai",
            "juin",
            "juillet",
            "août",
            "septembre",
            "octobre",
            "novembre",
            "décembre",
        ),
    ),
}


def words_for(locale: str) -> Words:
    found = WORDS.get(locale)
    if found is not None:
        return found
    language = locale.split("-")[0].lower()
    for words in WORDS.values():
        if words.locale.split("-")[0] == language:
            return words
    return WORDS["en"]
