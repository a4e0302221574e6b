"""The words of every mail, per platform locale. A locale missing here falls back to English."""

from __future__ import annotations

from datetime import date

MONTHS = {
    "en": "January February March April May June July August September October November December",
    "nl": "januari februari maart april mei juni juli augustus september oktober november december",
    "fr": "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
}

CATALOG: dict[str, dict[str, str]] = {
    "en": {
        "greeting": "Hello {name},",
        "greeting_anonymous": "Hello,",
        "signature": "The {platform} team",
        "footer": "You receive this mail because an administrator of {platform} invited you.",
        "footer_account": "You receive this mail because this address was used on {platform}.",
        # Confirmation code
        "confirm_subject": "Your confirmation code for {platform}",
        "confirm_intro": "Use this code to confirm your email address:",
        "confirm_expiry": "The code works for {minutes} minutes.",
        "confirm_ignore": "Did not sign up? Then you can ignore this mail.",
        "confirm_link_text": "Or confirm in one click:",
        "confirm_button": "Confirm my address",
        # Someone registered (or used a letter's code) with an address that has an account
        "exists_code_body": "Someone, maybe you, tried to register on {platform} with this "
        "email address, which already has an account. If it was you, use this code to sign in "
        "to your account; your password stays the one you had:",
        "exists_reset": "Forgot your password? Choose a new one: {reset_url}",
        # A signed-in person changes their address
        "change_subject": "Confirm your new address for {platform}",
        "change_intro": "Use this code to confirm this address as your new address on {platform}:",
        "change_ignore": "Did not ask for it? Then you can ignore this mail; nothing changes.",
        "changed_subject": "Your address on {platform} was changed",
        "changed_body": "The address of your account on {platform} is now {new_email}. "
        "Mails go there from now on.",
        "changed_not_you": "Was it not you? Then someone has your password: choose a new one "
        "at {reset_url} with your new address, or contact the platform's administrators.",
        # Password reset
        "reset_subject": "Choose a new password for {platform}",
        "reset_intro": "Someone, maybe you, asked to choose a new password for your account on "
        "{platform}. Open this link to choose it:",
        "reset_button": "Choose a new password",
        "reset_expiry": "The link works for {minutes} minutes, once.",
        "reset_new_account": "This address has no confirmed account yet: choosing a password "
        "creates it, and any unconfirmed registration with this address is dropped.",
        "reset_ignore": "Did not ask for it? Then you can ignore this mail; your password "
        "stays as it is.",
        # Someone signed up with an address that already has an account
        "exists_subject": "You already have an account on {platform}",
        "exists_body": "Someone tried to create an account on {platform} with this email "
        "address, but it already has one. You can sign in with it, or reset your password "
        "if you forgot it.",
        "exists_ignore": "Was it not you? Then you can ignore this mail; nothing has changed.",
        # Invitation
        "invite_subject": "{inviter} invites you to {platform}",
        "invite_subject_anonymous": "You are invited to {platform}",
        "invite_intro": "{inviter} invites you to join {platform}.",
        "invite_intro_anonymous": "You are invited to join {platform}.",
        "invite_message_from": "{inviter} wrote:",
        "invite_message": "Personal message:",
        "invite_button": "Accept the invitation",
        "invite_link_text": "Open this link to accept the invitation:",
        "invite_code_text": "Or go to {invite_url} and type your code:",
        "invite_expiry": "This invitation is valid until {date}.",
        "invite_no_verification": "You will not need to verify your email address again.",
        # Reminder
        "remind_subject": "Reminder: your invitation to {platform}",
        "remind_intro": "A few days ago you were invited to join {platform}. "
        "Your invitation is still waiting for you.",
    },
    "nl": {
        "greeting": "Hallo {name},",
        "greeting_anonymous": "Hallo,",
        "signature": "Het team van {platform}",
        "footer": "Je ontvangt deze mail omdat een beheerder van {platform} je heeft uitgenodigd.",
        "footer_account": "Je ontvangt deze mail omdat dit adres gebruikt werd op {platform}.",
        "confirm_subject": "Je bevestigingscode voor {platform}",
        "confirm_intro": "Gebruik deze code om je e-mailadres te bevestigen:",
        "confirm_expiry": "De code is {minutes} minuten geldig.",
        "confirm_ignore": "Heb je je niet geregistreerd? Dan mag je deze mail negeren.",
        "confirm_link_text": "Of bevestig met één klik:",
        "confirm_button": "Mijn adres bevestigen",
        "exists_code_body": "Iemand, misschien jij, probeerde zich te registreren op {platform} "
        "met dit e-mailadres, dat al een account heeft. Was jij het, gebruik dan deze code om "
        "in te loggen op je account; je wachtwoord blijft hetzelfde:",
        "exists_reset": "Wachtwoord vergeten? Kies een nieuw: {reset_url}",
        "change_subject": "Bevestig je nieuwe adres voor {platform}",
        "change_intro": "Gebruik deze code om dit adres te bevestigen als je nieuwe adres op "
        "{platform}:",
        "change_ignore": "Heb je dit niet gevraagd? Dan mag je deze mail negeren; er verandert "
        "niets.",
        "changed_subject": "Je adres op {platform} werd gewijzigd",
        "changed_body": "Het adres van je account op {platform} is nu {new_email}. Mails gaan "
        "voortaan daarheen.",
        "changed_not_you": "Was jij het niet? Dan kent iemand je wachtwoord: kies een nieuw op "
        "{reset_url} met je nieuwe adres, of neem contact op met de beheerders van het platform.",
        "reset_subject": "Kies een nieuw wachtwoord voor {platform}",
        "reset_intro": "Iemand, misschien jij, vroeg om een nieuw wachtwoord te kiezen voor je "
        "account op {platform}. Open deze link om het te kiezen:",
        "reset_button": "Een nieuw wachtwoord kiezen",
        "reset_expiry": "De link werkt {minutes} minuten lang, één keer.",
        "reset_new_account": "Dit adres heeft nog geen bevestigd account: door een wachtwoord "
        "te kiezen maak je het aan, en elke onbevestigde registratie met dit adres vervalt.",
        "reset_ignore": "Heb je dit niet gevraagd? Dan mag je deze mail negeren; je wachtwoord "
        "blijft zoals het is.",
        "exists_subject": "Je hebt al een account op {platform}",
        "exists_body": "Iemand probeerde een account aan te maken op {platform} met dit "
        "e-mailadres, maar er bestaat er al een. Je kunt ermee inloggen, of je wachtwoord "
        "opnieuw instellen als je het vergeten bent.",
        "exists_ignore": "Was jij het niet? Dan mag je deze mail negeren; er is niets veranderd.",
        "invite_subject": "{inviter} nodigt je uit op {platform}",
        "invite_subject_anonymous": "Je bent uitgenodigd op {platform}",
        "invite_intro": "{inviter} nodigt je uit om deel te nemen aan {platform}.",
        "invite_intro_anonymous": "Je bent uitgenodigd om deel te nemen aan {platform}.",
        "invite_message_from": "{inviter} schreef:",
        "invite_message": "Persoonlijk bericht:",
        "invite_button": "Uitnodiging aanvaarden",
        "invite_link_text": "Open deze link om de uitnodiging te aanvaarden:",
        "invite_code_text": "Of ga naar {invite_url} en typ je code:",
        "invite_expiry": "Deze uitnodiging is geldig tot {date}.",
        "invite_no_verification": "Je hoeft je e-mailadres niet opnieuw te bevestigen.",
        "remind_subject": "Herinnering: je uitnodiging voor {platform}",
        "remind_intro": "Enkele dagen geleden werd je uitgenodigd om deel te nemen aan "
        "{platform}. Je uitnodiging wacht nog op je.",
    },
    "fr": {
        "greeting": "Bonjour {name},",
        "greeting_anonymous": "Bonjour,",
        "signature": "L'équipe de {platform}",
        "footer": "Vous recevez ce message parce qu'un administrateur de {platform} vous a invité.",
        "footer_account": "Vous recevez ce message parce que cette adresse a été utilisée sur "
        "{platform}.",
        "confirm_subject": "Votre code de confirmation pour {platform}",
        "confirm_intro": "Utilisez ce code pour confirmer votre adresse e-mail :",
        "confirm_expiry": "Le code est valable {minutes} minutes.",
        "confirm_ignore": "Vous ne vous êtes pas inscrit ? Vous pouvez ignorer ce message.",
        "confirm_link_text": "Ou confirmez en un clic :",
        "confirm_button": "Confirmer mon adresse",
        "exists_code_body": "Quelqu'un, peut-être vous, a essayé de s'inscrire sur {platform} "
        "avec cette adresse e-mail, qui a déjà un compte. Si c'était vous, utilisez ce code "
        "pour vous connecter à votre compte ; votre mot de passe reste celui que vous aviez :",
        "exists_reset": "Mot de passe oublié ? Choisissez-en un nouveau : {reset_url}",
        "change_subject": "Confirmez votre nouvelle adresse pour {platform}",
        "change_intro": "Utilisez ce code pour confirmer cette adresse comme votre nouvelle "
        "adresse sur {platform} :",
        "change_ignore": "Vous ne l'avez pas demandé ? Vous pouvez ignorer ce message ; rien ne "
        "change.",
        "changed_subject": "Votre adresse sur {platform} a été modifiée",
        "changed_body": "L'adresse de votre compte sur {platform} est désormais {new_email}. Les "
        "messages y seront envoyés.",
        "changed_not_you": "Ce n'était pas vous ? Quelqu'un connaît alors votre mot de passe : "
        "choisissez-en un nouveau sur {reset_url} avec votre nouvelle adresse, ou contactez les "
        "administrateurs de la plateforme.",
        "reset_subject": "Choisissez un nouveau mot de passe pour {platform}",
        "reset_intro": "Quelqu'un, peut-être vous, a demandé à choisir un nouveau mot de passe "
        "pour votre compte sur {platform}. Ouvrez ce lien pour le choisir :",
        "reset_button": "Choisir un nouveau mot de passe",
        "reset_expiry": "Le lien est valable {minutes} minutes, une seule fois.",
        "reset_new_account": "Cette adresse n'a pas encore de compte confirmé : choisir un mot "
        "de passe le crée, et toute inscription non confirmée avec cette adresse est abandonnée.",
        "reset_ignore": "Vous ne l'avez pas demandé ? Vous pouvez ignorer ce message ; votre mot "
        "de passe reste inchangé.",
        "exists_subject": "Vous avez déjà un compte sur {platform}",
        "exists_body": "Quelqu'un a essayé de créer un compte sur {platform} avec cette adresse "
        "e-mail, mais elle en a déjà un. Vous pouvez vous connecter avec elle, ou "
        "réinitialiser votre mot de passe si vous l'avez oublié.",
        "exists_ignore": "Ce n'était pas vous ? Vous pouvez ignorer ce message ; rien n'a changé.",
        "invite_subject": "{inviter} vous invite sur {platform}",
        "invite_subject_anonymous": "Vous êtes invité sur {platform}",
        "invite_intro": "{inviter} vous invite à rejoindre {platform}.",
        "invite_intro_anonymous": "Vous êtes invité à rejoindre {platform}.",
        "invite_message_from": "{inviter} a écrit :",
        "invite_message": "Message personnel :",
        "invite_button": "Accepter l'invitation",
        "invite_link_text": "Ouvrez ce lien pour accepter l'invitation :",
        "invite_code_text": "Ou rendez-vous sur {invite_url} et saisissez votre code :",
        "invite_expiry": "Cette invitation est valable jusqu'au {date}.",
        "invite_no_verification": "Vous n'aurez pas à confirmer à nouveau votre adresse e-mail.",
        "remind_subject": "Rappel : votre invitation sur {platform}",
        "remind_intro": "Il y a quelques jours, vous avez été invité à rejoindre {platform}. "
        "Votre invitation vous attend toujours.",
    },
}


def language(locale: str) -> str:
    """'nl-BE' -> 'nl'; a language without its own words gets English."""
    lang = locale.split("-")[0].lower()
    return lang if lang in CATALOG else "en"


def words(locale: str) -> dict[str, str]:
    return CATALOG[language(locale)]


def format_date(value: date, locale: str) -> str:
    lang = language(locale)
    month = MONTHS[lang].split()[value.month - 1]
    day = "1er" if lang == "fr" and value.day == 1 else str(value.day)
    return f"{day} {month} {value.year}"
