"""Smart group rules on their own: how an admin's rule is read, checked and applied to a person."""

from __future__ import annotations

from typing import Any

import pytest

from domain.errors import DomainError, ErrorCode
from domain.groups.rules import (
    Attribute,
    Facts,
    Operator,
    Rule,
    first_failing_rule,
    matches,
    parse_rules,
)
from domain.models import FieldType, RegistrationField

FIELDS = {
    "nickname": RegistrationField(key="nickname", title="Nickname", type=FieldType.TEXT),
    "age": RegistrationField(key="age", title="Age", type=FieldType.NUMBER),
    "newsletter": RegistrationField(key="newsletter", title="Newsletter", type=FieldType.CHECKBOX),
    "born": RegistrationField(key="born", title="Date of birth", type=FieldType.DATE),
    "district": RegistrationField(
        key="district",
        title="District",
        type=FieldType.SELECT,
        options=[{"key": "north", "title": "Noord"}, {"key": "south", "title": "Zuid"}],
    ),
    "wijk": RegistrationField(
        key="wijk",
        title="Neighbourhood",
        type=FieldType.SELECT,
        options=[
            {
                "key": "riverside",
                "title": "Riverside",
                "title_multiloc": {"nl-BE": "Rivierkant", "fr-BE": "Bord de l'eau"},
            },
            {"key": "centre", "title": "Centre", "title_multiloc": {"nl-BE": "Centrum"}},
            # Its French title is another option's English one: the English one wins.
            {"key": "old_town", "title": "Old town", "title_multiloc": {"fr-BE": "Centre"}},
            # Two options with one Dutch title: that title names neither.
            {"key": "park", "title": "Park", "title_multiloc": {"nl-BE": "Groen"}},
            {"key": "forest", "title": "Forest", "title_multiloc": {"nl-BE": "groen"}},
        ],
    ),
}


def rule(attribute: str, operator: str, value: Any, field_key: str | None = None) -> Rule:
    """One rule, read and checked the way createGroup reads it."""
    raw = {"attribute": attribute, "operator": operator, "value": value, "field_key": field_key}
    [parsed] = parse_rules([raw], FIELDS)
    return parsed


def person(email: str = "an@example.org", locale: str = "en", **extra: Any) -> Facts:
    return Facts(
        email=email,
        locale=locale,
        roles=frozenset(extra.pop("roles", ())),
        fields=extra,
    )


def problems_of(raw: list[dict[str, Any]]) -> list[tuple[str, str | None, int | None, str]]:
    with pytest.raises(DomainError) as caught:
        parse_rules(raw, FIELDS)
    return [(p.code.value, p.field, p.position, p.message) for p in caught.value.problems]


# --- email domain -----------------------------------------------------------------------------


def test_email_domain_is_compares_the_whole_domain_case_insensitively() -> None:
    is_city = rule("email_domain", "is", "@City.Example.org")
    assert is_city.value == "city.example.org"
    assert is_city.matches(person("Jan@CITY.example.org"))
    assert not is_city.matches(person("jan@example.org"))
    assert not is_city.matches(person("jan@sub.city.example.org"))


def test_email_domain_ends_with_takes_the_domain_and_its_subdomains_only() -> None:
    ends = rule("email_domain", "ends_with", "example.org")
    assert ends.matches(person("a@example.org"))
    assert ends.matches(person("a@city.example.org"))
    assert ends.matches(person("a@deep.city.example.org"))
    assert not ends.matches(person("a@badexample.org"))
    assert not ends.matches(person("a@example.org.evil.test"))
    # A leading dot, as people write "*.example.org", means the same.
    assert rule("email_domain", "ends_with", ".example.org").value == "example.org"


def test_email_domain_is_not_and_is_one_of() -> None:
    is_not = rule("email_domain", "is_not", "example.org")
    assert is_not.matches(person("a@other.test"))
    assert not is_not.matches(person("a@example.org"))
    one_of = rule("email_domain", "is_one_of", ["example.org", " Other.TEST "])
    assert one_of.value == ["example.org", "other.test"]
    assert one_of.matches(person("a@other.test"))
    assert not one_of.matches(person("a@third.test"))
    # A comma-separated text works as well as a list.
    assert rule("email_domain", "is_one_of", "example.org, other.test").value == one_of.value


# --- locale and role --------------------------------------------------------------------------


def test_locale_rules_use_the_platform_locales_in_their_canonical_spelling() -> None:
    dutch = rule("locale", "is", "nl-be")
    assert dutch.value == "nl-BE"
    assert dutch.matches(person(locale="nl-BE"))
    assert not dutch.matches(person(locale="fr-BE"))
    assert rule("locale", "is_not", "nl-BE").matches(person(locale="fr-BE"))
    belgian = rule("locale", "is_one_of", ["nl-BE", "fr_be"])
    assert belgian.value == ["nl-BE", "fr-BE"]
    assert belgian.matches(person(locale="fr-BE"))
    assert not belgian.matches(person(locale="en"))


def test_locale_rules_take_a_language_alone_as_its_platform_locale() -> None:
    """'nl' is nl-BE, as titles read it; a locale of a language the platform has in another
    region is no platform language."""
    assert rule("locale", "is", "nl").value == "nl-BE"
    assert rule("locale", "is_one_of", "NL, fr").value == ["nl-BE", "fr-BE"]
    assert rule("locale", "is", "EN").value == "en"
    with pytest.raises(DomainError) as refused:
        rule("locale", "is", "nl-NL")
    assert refused.value.problems[0].reason == "NOT_A_LANGUAGE"
    with pytest.raises(DomainError):
        rule("locale", "is", "de")


def test_role_rules_test_whether_the_person_holds_the_role() -> None:
    admins = rule("role", "is", "admin")
    assert admins.matches(person(roles={"admin"}))
    assert not admins.matches(person(roles={"project_manager"}))
    assert rule("role", "is_not", "admin").matches(person())
    # The GraphQL enum spelling is understood too.
    managers = rule("role", "is", "PROJECT_MANAGER")
    assert managers.value == "project_manager"
    assert managers.matches(person(roles={"admin", "project_manager"}))


# --- registration fields ----------------------------------------------------------------------


def test_text_field_rules_compare_the_text() -> None:
    assert rule("field", "is", " Bob ", "nickname").matches(person(nickname="Bob"))
    assert not rule("field", "is", "Bob", "nickname").matches(person(nickname="Rob"))
    assert not rule("field", "is", "Bob", "nickname").matches(person())
    assert rule("field", "is_not", "Bob", "nickname").matches(person())
    assert rule("field", "is_one_of", ["Bob", "Rob"], "nickname").matches(person(nickname="Rob"))
    # Text that looks like another type stays text.
    assert rule("field", "is", "true", "nickname").value == "true"
    assert rule("field", "is", 12, "nickname").value == "12"


def test_number_field_rules_compare_numbers() -> None:
    adult = rule("field", "greater_than", "17", "age")
    assert adult.value == 17
    assert adult.matches(person(age=18))
    assert adult.matches(person(age=17.5))
    assert not adult.matches(person(age=17))
    assert not adult.matches(person())  # no value: not greater than anything
    assert rule("field", "less_than", "2,5", "age").matches(person(age=2))
    assert rule("field", "is", "40.0", "age").matches(person(age=40))
    assert rule("field", "is_not", 40, "age").matches(person(age=41))
    # A value stored in another form never makes the comparison fail with an error.
    assert not adult.matches(person(age="eighteen"))


def test_date_field_rules_compare_dates() -> None:
    after = rule("field", "greater_than", "2000-01-01", "born")
    before = rule("field", "less_than", "2000-01-01", "born")
    assert after.matches(person(born="2004-02-29"))
    assert not after.matches(person(born="2000-01-01"))
    assert before.matches(person(born="1999-12-31"))
    assert not before.matches(person())
    assert rule("field", "is", "2004-02-29", "born").matches(person(born="2004-02-29"))


def test_checkbox_field_rules_take_true_or_false_and_unset_means_unchecked() -> None:
    checked = rule("field", "is", "true", "newsletter")
    unchecked = rule("field", "is", "no", "newsletter")
    assert checked.value is True
    assert unchecked.value is False
    assert checked.matches(person(newsletter=True))
    assert not checked.matches(person(newsletter=False))
    assert not checked.matches(person())
    assert unchecked.matches(person(newsletter=False))
    assert unchecked.matches(person())
    assert rule("field", "is", True, "newsletter").value is True
    assert rule("field", "is", "0", "newsletter").value is False


def test_select_field_rules_take_an_option_by_key_or_by_title() -> None:
    north = rule("field", "is", "NOORD", "district")
    assert north.value == "north"
    assert north.matches(person(district="north"))
    assert not north.matches(person(district="south"))
    either = rule("field", "is_one_of", ["north", "Zuid"], "district")
    assert either.value == ["north", "south"]
    assert either.matches(person(district="south"))
    assert not rule("field", "is_not", "north", "district").matches(person(district="north"))


def test_select_field_rules_take_an_option_by_its_title_in_any_language() -> None:
    """The title the console shows in Dutch or French names the option, as in imports; the
    key and the default title go first, and a title two options share names neither."""
    assert rule("field", "is", "Rivierkant", "wijk").value == "riverside"
    assert rule("field", "is", "bord de l'eau", "wijk").value == "riverside"
    assert rule("field", "is_one_of", "Rivierkant, Centrum", "wijk").value == [
        "riverside",
        "centre",
    ]
    assert rule("field", "is", "Centre", "wijk").value == "centre"
    assert rule("field", "is", "riverside", "wijk").value == "riverside"
    with pytest.raises(DomainError) as refused:
        rule("field", "is", "Groen", "wijk")
    [problem] = refused.value.problems
    assert problem.reason == "NOT_AN_OPTION"
    assert problem.value == "Groen"
    assert problem.message.startswith("'Groen' is not one of the options: riverside (Riverside),")


# --- combining rules --------------------------------------------------------------------------


def test_match_all_needs_every_rule_and_match_any_needs_one() -> None:
    city = rule("email_domain", "ends_with", "city.example.org")
    dutch = rule("locale", "is", "nl-BE")
    both = person("a@city.example.org", "nl-BE")
    only_city = person("a@city.example.org", "fr-BE")
    neither = person("a@elsewhere.test", "en")

    assert matches([city, dutch], True, both)
    assert not matches([city, dutch], True, only_city)
    assert first_failing_rule([city, dutch], True, only_city) is dutch
    assert matches([city, dutch], False, only_city)
    assert not matches([city, dutch], False, neither)
    assert first_failing_rule([city, dutch], False, neither) is city


def test_rules_survive_storage_as_json() -> None:
    for original in [
        rule("email_domain", "is_one_of", ["a.test", "b.test"]),
        rule("field", "greater_than", "3", "age"),
        rule("field", "is", "yes", "newsletter"),
    ]:
        assert Rule.from_dict(original.to_dict()) == original


def test_describe_says_what_a_rule_asks_in_words() -> None:
    assert rule("email_domain", "ends_with", "example.org").describe() == (
        "email domain ends with example.org"
    )
    assert rule("locale", "is_one_of", "nl-BE, fr-BE").describe() == (
        "locale is one of nl-BE, fr-BE"
    )
    assert rule("role", "is_not", "admin").describe() == "role is not admin"
    assert rule("field", "greater_than", "17", "age").describe() == "field 'age' greater than 17"
    assert rule("field", "is", "true", "newsletter").describe() == "field 'newsletter' is true"
    assert rule("field", "is", "Zuid", "district").describe() == "field 'district' is south"


# --- refused rules ----------------------------------------------------------------------------


def test_a_smart_group_needs_at_least_one_rule() -> None:
    assert problems_of([]) == [
        ("INVALID_RULE", "rules", None, "A smart group needs at least one rule.")
    ]


def test_every_wrong_rule_is_reported_with_its_position() -> None:
    raw = [
        {"attribute": "email_domain", "operator": "ends_with", "value": "example.org"},
        {"attribute": "field", "operator": "is", "field_key": "shoe_size", "value": "42"},
        {"attribute": "field", "operator": "greater_than", "field_key": "nickname", "value": "a"},
        {"attribute": "field", "operator": "is", "field_key": "age", "value": "old"},
        {"attribute": "locale", "operator": "ends_with", "value": "BE"},
        {"attribute": "colour", "operator": "is", "value": "blue"},
        {"attribute": "locale", "operator": "is", "value": "de-DE"},
        {"attribute": "email_domain", "operator": "is", "value": "not a domain"},
        {"attribute": "role", "operator": "is", "value": "mayor"},
        {"attribute": "field", "operator": "is", "field_key": "district", "value": "east"},
        {"attribute": "field", "operator": "is", "field_key": "newsletter", "value": "maybe"},
        {"attribute": "field", "operator": "less_than", "field_key": "born", "value": "31/12"},
        {"attribute": "locale", "operator": "is", "value": "nl-BE", "extra": "ignored"},
    ]
    problems = problems_of(raw)
    assert [(code, field, position) for code, field, position, _ in problems] == [
        ("INVALID_RULE", "rules", position) for position in range(1, 12)
    ]
    messages = [message for *_, message in problems]
    assert messages[:6] == [
        "There is no registration field 'shoe_size'.",
        "'greater_than' cannot be used with a text field.",
        "Expected a number, got 'old'.",
        "'ends_with' cannot be used with locale.",
        "Unknown attribute 'colour': use one of email_domain, locale, role, field",
        "'de-DE' is not one of the platform's languages: en, nl-BE, fr-BE.",
    ]
    assert messages[6].startswith("'not a domain' is not an email domain")
    assert messages[7] == "A role rule's value is 'admin' or 'project_manager'."
    assert messages[8] == "'east' is not one of the options: north (Noord), south (Zuid)."
    assert messages[9] == "Expected true or false, got 'maybe'."
    assert messages[10] == "Expected a date like 2026-05-31, got '31/12'."


@pytest.mark.parametrize(
    ("attribute", "operator", "field_key"),
    [
        ("email_domain", "is", None),
        ("locale", "is", None),
        ("role", "is", None),
        ("field", "is", "nickname"),
        ("field", "is", "district"),
        ("field", "is_one_of", "nickname"),
    ],
)
@pytest.mark.parametrize("blank", [None, "", "  ", []])
def test_a_rule_without_a_value_is_refused(
    attribute: str, operator: str, field_key: str | None, blank: Any
) -> None:
    raw = {"attribute": attribute, "operator": operator, "field_key": field_key, "value": blank}
    [(code, field, position, message)] = problems_of([raw])
    assert (code, field, position) == ("INVALID_RULE", "rules", 0)
    assert message == "The rule needs a value."


def test_operators_that_take_one_value_refuse_a_list() -> None:
    raw = {"attribute": "locale", "operator": "is", "value": ["en", "nl-BE"]}
    assert problems_of([raw]) == [("INVALID_RULE", "rules", 0, "'is' takes one value.")]


def test_known_attributes_and_operators() -> None:
    assert {a.value for a in Attribute} == {"email_domain", "locale", "role", "field"}
    assert {o.value for o in Operator} == {
        "is",
        "is_not",
        "is_one_of",
        "ends_with",
        "greater_than",
        "less_than",
    }
    assert ErrorCode.INVALID_RULE.value == "INVALID_RULE"
