"""The words of the /invite page per language, and choosing the page's locale for a request."""

from __future__ import annotations

# Keys by language ("nl" serves nl-BE and nl-NL alike); a language missing here gets English.
# Placeholders ({platform}, {minimum}, {maximum}, {email}, {minutes}) are filled in by the
# template or by invite.js, never by formatting user data into markup.
WORDS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Accept your invitation",
        "skip": "Skip to the form",
        "language_switch": "Language",
        "noscript": "This page needs JavaScript to check your code and create your account.",
        "intro": "You were invited to join {platform}. Type the code from your letter or mail"
        " to create your account.",
        "code_label": "Invitation code",
        "code_hint": "15 characters, like ABCDE-FGHJK-MNPQR. Capitals, dashes and spaces do"
        " not matter.",
        "code_submit": "Continue",
        "code_empty": "Type the code from your letter or mail.",
        "check_code": "Check the code: it has 15 characters, like ABCDE-FGHJK-MNPQR, and one"
        " seems mistyped.",
        "checking": "Checking your code…",
        "unusable_title": "This invitation cannot be used",
        "unusable": "It may have expired, been used already or been withdrawn. Ask the"
        " administrator who invited you for a new invitation.",
        "unusable_other": "Try another code",
        "rate_limited": "Too many attempts. Wait {minutes} minutes, then try again.",
        "failed": "Something went wrong on our side. Wait a moment and try again.",
        "offline": "The page could not reach the server. Check your connection and try again.",
        "profile_title": "Your profile",
        "profile_intro": "Fill in your details to create your account. Fields marked * are"
        " required.",
        "email_label": "Email address",
        "email_fixed": "This is the address you were invited at; it cannot be changed here.",
        "email_hint": "We will send a code to this address to confirm it.",
        "first_name_label": "First name",
        "last_name_label": "Last name",
        "password_label": "Password",
        "password_rules": "The password rules:",
        "password_rule_min": "at least {minimum} characters",
        "password_rule_max": "at most {maximum} characters",
        "password_rule_common": "not a common or easily guessed password (a few unrelated words"
        " work well)",
        "password_show": "Show the password",
        "weak_password": "This password is too short or too easy to guess: follow the rules above.",
        "language_label": "Language",
        "fields_title": "More about you",
        "choose": "Choose…",
        "profile_submit": "Create my account",
        "submitting": "Creating your account…",
        "errors_summary": "Some fields need your attention: see the messages beside them.",
        "required": "This field is required.",
        "fill_in": "Fill this in.",
        "invalid_email": "Type a valid email address, like name@example.org.",
        "already_registered": "This address already has an account: sign in with it instead,"
        " and ask the administrator for the access this invitation would have given.",
        "done_title": "You're in!",
        "done": "Your account is ready and you are signed in.",
        "done_confirm": "A confirmation mail is on its way to {email}. Open it and confirm your"
        " address with the code it contains.",
        "done_next": "Go to {platform}",
    },
    "nl": {
        "title": "Aanvaard je uitnodiging",
        "skip": "Naar het formulier",
        "language_switch": "Taal",
        "noscript": "Deze pagina heeft JavaScript nodig om je code te controleren en je account"
        " aan te maken.",
        "intro": "Je bent uitgenodigd om deel te nemen aan {platform}. Typ de code uit je brief"
        " of mail om je account aan te maken.",
        "code_label": "Uitnodigingscode",
        "code_hint": "15 tekens, zoals ABCDE-FGHJK-MNPQR. Hoofdletters, streepjes en spaties"
        " maken niet uit.",
        "code_submit": "Verder",
        "code_empty": "Typ de code uit je brief of mail.",
        "check_code": "Controleer de code: ze heeft 15 tekens, zoals ABCDE-FGHJK-MNPQR, en er"
        " lijkt een tikfout in te staan.",
        "checking": "Je code wordt gecontroleerd…",
        "unusable_title": "Deze uitnodiging kan niet gebruikt worden",
        "unusable": "Ze is misschien verlopen, al gebruikt of ingetrokken. Vraag de beheerder"
        " die je uitnodigde om een nieuwe uitnodiging.",
        "unusable_other": "Een andere code proberen",
        "rate_limited": "Te veel pogingen. Wacht {minutes} minuten en probeer het dan opnieuw.",
        "failed": "Er ging bij ons iets mis. Wacht even en probeer het opnieuw.",
        "offline": "De pagina kon de server niet bereiken. Controleer je verbinding en probeer"
        " het opnieuw.",
        "profile_title": "Je profiel",
        "profile_intro": "Vul je gegevens in om je account aan te maken. Velden met * zijn"
        " verplicht.",
        "email_label": "E-mailadres",
        "email_fixed": "Dit is het adres waarop je uitgenodigd werd; je kunt het hier niet"
        " wijzigen.",
        "email_hint": "We sturen een code naar dit adres om het te bevestigen.",
        "first_name_label": "Voornaam",
        "last_name_label": "Achternaam",
        "password_label": "Wachtwoord",
        "password_rules": "De regels voor het wachtwoord:",
        "password_rule_min": "minstens {minimum} tekens",
        "password_rule_max": "hoogstens {maximum} tekens",
        "password_rule_common": "geen veelgebruikt of makkelijk te raden wachtwoord (enkele"
        " losse woorden werken goed)",
        "password_show": "Wachtwoord tonen",
        "weak_password": "Dit wachtwoord is te kort of te makkelijk te raden: volg de regels"
        " hierboven.",
        "language_label": "Taal",
        "fields_title": "Meer over jou",
        "choose": "Kies…",
        "profile_submit": "Mijn account aanmaken",
        "submitting": "Je account wordt aangemaakt…",
        "errors_summary": "Enkele velden vragen je aandacht: zie de berichten ernaast.",
        "required": "Dit veld is verplicht.",
        "fill_in": "Vul dit in.",
        "invalid_email": "Typ een geldig e-mailadres, zoals naam@voorbeeld.be.",
        "already_registered": "Dit adres heeft al een account: log daarmee in en vraag de"
        " beheerder om de toegang die deze uitnodiging je zou geven.",
        "done_title": "Je bent binnen!",
        "done": "Je account is klaar en je bent ingelogd.",
        "done_confirm": "Er is een bevestigingsmail onderweg naar {email}. Open hem en bevestig"
        " je adres met de code die erin staat.",
        "done_next": "Naar {platform}",
    },
    "fr": {
        "title": "Acceptez votre invitation",
        "skip": "Aller au formulaire",
        "language_switch": "Langue",
        "noscript": "Cette page a besoin de JavaScript pour vérifier votre code et créer votre"
        " compte.",
        "intro": "Vous êtes invité à rejoindre {platform}. Saisissez le code de votre lettre ou"
        " de votre e-mail pour créer votre compte.",
        "code_label": "Code d'invitation",
        "code_hint": "15 caractères, comme ABCDE-FGHJK-MNPQR. Majuscules, tirets et espaces"
        " n'ont pas d'importance.",
        "code_submit": "Continuer",
        "code_empty": "Saisissez le code de votre lettre ou de votre e-mail.",
        "check_code": "Vérifiez le code : il compte 15 caractères, comme ABCDE-FGHJK-MNPQR, et"
        " l'un d'eux semble mal saisi.",
        "checking": "Vérification de votre code…",
        "unusable_title": "Cette invitation ne peut pas être utilisée",
        "unusable": "Elle a peut-être expiré, déjà été utilisée ou été retirée. Demandez une"
        " nouvelle invitation à l'administrateur qui vous a invité.",
        "unusable_other": "Essayer un autre code",
        "rate_limited": "Trop de tentatives. Attendez {minutes} minutes, puis réessayez.",
        "failed": "Un problème est survenu de notre côté. Patientez un instant et réessayez.",
        "offline": "La page n'a pas pu joindre le serveur. Vérifiez votre connexion et réessayez.",
        "profile_title": "Votre profil",
        "profile_intro": "Complétez vos informations pour créer votre compte. Les champs marqués"
        " d'un * sont obligatoires.",
        "email_label": "Adresse e-mail",
        "email_fixed": "C'est l'adresse à laquelle vous avez été invité ; elle ne peut pas être"
        " modifiée ici.",
        "email_hint": "Nous enverrons un code à cette adresse pour la confirmer.",
        "first_name_label": "Prénom",
        "last_name_label": "Nom",
        "password_label": "Mot de passe",
        "password_rules": "Les règles du mot de passe :",
        "password_rule_min": "au moins {minimum} caractères",
        "password_rule_max": "au plus {maximum} caractères",
        "password_rule_common": "pas un mot de passe courant ou facile à deviner (quelques mots"
        " sans rapport entre eux conviennent bien)",
        "password_show": "Afficher le mot de passe",
        "weak_password": "Ce mot de passe est trop court ou trop facile à deviner : suivez les"
        " règles ci-dessus.",
        "language_label": "Langue",
        "fields_title": "Un peu plus sur vous",
        "choose": "Choisissez…",
        "profile_submit": "Créer mon compte",
        "submitting": "Création de votre compte…",
        "errors_summary": "Certains champs demandent votre attention : voyez les messages à côté"
        " d'eux.",
        "required": "Ce champ est obligatoire.",
        "fill_in": "Complétez ce champ.",
        "invalid_email": "Saisissez une adresse e-mail valide, comme nom@exemple.be.",
        "already_registered": "Cette adresse a déjà un compte : connectez-vous avec elle et"
        " demandez à l'administrateur l'accès que cette invitation vous aurait donné.",
        "done_title": "C'est fait !",
        "done": "Votre compte est prêt et vous êtes connecté.",
        "done_confirm": "Un e-mail de confirmation est en route vers {email}. Ouvrez-le et"
        " confirmez votre adresse avec le code qu'il contient.",
        "done_next": "Aller sur {platform}",
    },
}

# How each language calls itself in the switch; a region is added when two locales share one.
NAMES = {"en": "English", "nl": "Nederlands", "fr": "Français", "de": "Deutsch"}

# Sent to invite.js in data attributes: the words it shows after the page has loaded.
SCRIPT_KEYS = (
    "code_empty",
    "check_code",
    "checking",
    "rate_limited",
    "failed",
    "offline",
    "errors_summary",
    "required",
    "fill_in",
    "invalid_email",
    "already_registered",
    "weak_password",
    "choose",
    "submitting",
    "done_confirm",
)


def language(locale: str) -> str:
    """'nl-BE' -> 'nl'; a language without its own words gets English."""
    lang = locale.split("-")[0].lower()
    return lang if lang in WORDS else "en"


def words(locale: str) -> dict[str, str]:
    return WORDS[language(locale)]


def locale_names(locales: list[str]) -> dict[str, str]:
    """What the language switch shows for each of the platform's locales."""
    languages = [locale.split("-")[0].lower() for locale in locales]
    names: dict[str, str] = {}
    for locale, lang in zip(locales, languages, strict=True):
        name = NAMES.get(lang, locale)
        names[locale] = f"{name} ({locale})" if languages.count(lang) > 1 else name
    return names


def _accepted_languages(header: str) -> list[str]:
    """The Accept-Language entries, most wanted first (q=0 means "not this one")."""
    weighted: list[tuple[float, int, str]] = []
    for index, item in enumerate(header.split(",")[:32]):
        tag, _, params = item.strip().partition(";")
        tag = tag.strip()
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag and quality > 0:
            weighted.append((-quality, index, tag))
    return [tag for _, _, tag in sorted(weighted)]


def choose_locale(requested: str | None, accept_language: str, locales: list[str]) -> str:
    """The switch's choice if it names a platform locale, else the browser's best match
    (exact tag first, then the same language), else the platform's first locale."""
    by_lower = {locale.lower(): locale for locale in locales}
    if requested and requested.lower() in by_lower:
        return by_lower[requested.lower()]
    for tag in _accepted_languages(accept_language):
        if tag.lower() in by_lower:
            return by_lower[tag.lower()]
        lang = tag.split("-")[0].lower()
        for locale in locales:
            if locale.split("-")[0].lower() == lang:
                return locale
    return locales[0]
