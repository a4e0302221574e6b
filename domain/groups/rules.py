"""Smart group rules: which users belong, decided from what is known about them."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from domain.errors import DomainError, ErrorCode, Problem, Reason, ReasonedError
from domain.models import FieldType, RegistrationField, RoleKind
from domain.settings import get_settings

# Dot-separated labels without spaces, commas or '@' (internationalized domains included).
_EMAIL_DOMAIN = re.compile(r"[^\s@.,]+(\.[^\s@.,]+)*")


class Attribute(StrEnum):
    EMAIL_DOMAIN = "email_domain"
    LOCALE = "locale"
    ROLE = "role"
    FIELD = "field"  # a registration field's value, named by field_key


class Operator(StrEnum):
    IS = "is"
    IS_NOT = "is_not"
    IS_ONE_OF = "is_one_of"
    ENDS_WITH = "ends_with"  # email domains: the domain or any subdomain of it
    GREATER_THAN = "greater_than"  # numbers and dates
    LESS_THAN = "less_than"


_OPERATORS: dict[Attribute, set[Operator]] = {
    Attribute.EMAIL_DOMAIN: {Operator.IS, Operator.IS_NOT, Operator.IS_ONE_OF, Operator.ENDS_WITH},
    Attribute.LOCALE: {Operator.IS, Operator.IS_NOT, Operator.IS_ONE_OF},
    Attribute.ROLE: {Operator.IS, Operator.IS_NOT},
}
# A registration field's operators depend on its type.
_FIELD_OPERATORS: dict[FieldType, set[Operator]] = {
    FieldType.TEXT: {Operator.IS, Operator.IS_NOT, Operator.IS_ONE_OF},
    FieldType.SELECT: {Operator.IS, Operator.IS_NOT, Operator.IS_ONE_OF},
    FieldType.CHECKBOX: {Operator.IS},
    FieldType.NUMBER: {Operator.IS, Operator.IS_NOT, Operator.GREATER_THAN, Operator.LESS_THAN},
    FieldType.DATE: {Operator.IS, Operator.IS_NOT, Operator.GREATER_THAN, Operator.LESS_THAN},
}


@dataclass(frozen=True, slots=True)
class Facts:
    """What is known about a (future) user: from their account, or from an invitation."""

    email: str
    locale: str
    roles: frozenset[str] = frozenset()
    fields: Mapping[str, Any] = field(default_factory=dict)

    @property
    def email_domain(self) -> str:
        return self.email.rsplit("@", 1)[1].lower() if "@" in self.email else ""


@dataclass(frozen=True, slots=True)
class Rule:
    attribute: Attribute
    operator: Operator
    value: Any
    field_key: str | None = None

    def describe(self) -> str:
        subject = (
            f"field '{self.field_key}'"
            if self.attribute is Attribute.FIELD
            else self.attribute.value.replace("_", " ")
        )
        values = self.value if isinstance(self.value, list) else [self.value]
        value = ", ".join(_words(item) for item in values)
        return f"{subject} {self.operator.value.replace('_', ' ')} {value}"

    def parts(self) -> tuple[tuple[str, str], ...]:
        """The rule's parts for words in another language: `attribute` and `operator` (as the
        API names them, lower case), `subject` (a field's key) and `values` (as text)."""
        values = self.value if isinstance(self.value, list) else [self.value]
        return (
            ("attribute", self.attribute.value),
            ("operator", self.operator.value),
            ("subject", self.field_key or ""),
            ("values", ", ".join(_words(item) for item in values)),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "attribute": self.attribute.value,
            "operator": self.operator.value,
            "value": self.value,
            "field_key": self.field_key,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Rule:
        return cls(
            attribute=Attribute(data["attribute"]),
            operator=Operator(data["operator"]),
            value=data.get("value"),
            field_key=data.get("field_key"),
        )

    def matches(self, facts: Facts) -> bool:
        actual: Any
        if self.attribute is Attribute.EMAIL_DOMAIN:
            actual = facts.email_domain
            if self.operator is Operator.ENDS_WITH:
                return actual == self.value or actual.endswith("." + str(self.value))
        elif self.attribute is Attribute.LOCALE:
            actual = facts.locale
        elif self.attribute is Attribute.ROLE:
            has = self.value in facts.roles
            return has if self.operator is Operator.IS else not has
        else:
            actual = facts.fields.get(self.field_key or "")
            if actual is None and isinstance(self.value, bool):
                actual = False  # a checkbox nobody ticked is unchecked
        if self.operator is Operator.IS:
            return actual is not None and actual == self.value
        if self.operator is Operator.IS_NOT:
            return actual != self.value
        if self.operator is Operator.IS_ONE_OF:
            return actual in self.value
        if actual is None:
            return False
        try:
            if self.operator is Operator.GREATER_THAN:
                return bool(actual > self.value)
            return bool(actual < self.value)
        except TypeError:
            # A value stored in another form (the field's type changed): not comparable.
            return False


def first_failing_rule(rules: list[Rule], match_all: bool, facts: Facts) -> Rule | None:
    """None when the facts satisfy the group; otherwise a rule that explains why not."""
    if not rules:
        return None
    results = [(rule, rule.matches(facts)) for rule in rules]
    if match_all:
        return next((rule for rule, ok in results if not ok), None)
    return None if any(ok for _, ok in results) else rules[0]


def matches(rules: list[Rule], match_all: bool, facts: Facts) -> bool:
    return first_failing_rule(rules, match_all, facts) is None


def parse_rules(
    raw: list[Mapping[str, Any]], fields: Mapping[str, RegistrationField]
) -> list[Rule]:
    """Check rules as an admin typed them; values are converted to the field's type."""
    problems: list[Problem] = []
    rules: list[Rule] = []
    for position, item in enumerate(raw):
        try:
            rules.append(_parse_rule(item, fields))
        except ValueError as error:
            problems.append(
                Problem(
                    ErrorCode.INVALID_RULE,
                    str(error),
                    "rules",
                    position=position,
                    value=error.value if isinstance(error, ReasonedError) else None,
                    reason=error.reason if isinstance(error, ReasonedError) else None,
                )
            )
    if problems:
        raise DomainError(*problems)
    if not rules:
        raise DomainError.single(
            ErrorCode.INVALID_RULE,
            "A smart group needs at least one rule.",
            "rules",
            reason=Reason.RULES_MISSING,
        )
    return rules


def _parse_rule(item: Mapping[str, Any], fields: Mapping[str, RegistrationField]) -> Rule:
    try:
        attribute = Attribute(str(item.get("attribute")))
    except ValueError:
        raise ReasonedError(
            Reason.UNKNOWN_ATTRIBUTE,
            f"Unknown attribute {item.get('attribute')!r}: use one of "
            + ", ".join(a.value for a in Attribute),
            str(item.get("attribute")),
        ) from None
    try:
        operator = Operator(str(item.get("operator")))
    except ValueError:
        raise ReasonedError(
            Reason.UNKNOWN_OPERATOR,
            f"Unknown operator {item.get('operator')!r}.",
            str(item.get("operator")),
        ) from None
    if attribute is not Attribute.FIELD and operator not in _OPERATORS[attribute]:
        raise ReasonedError(
            Reason.OPERATOR_NOT_ALLOWED,
            f"'{operator.value}' cannot be used with {attribute.value}.",
            operator.value,
        )
    raw_value = item.get("value")
    field_key = None
    convert: Callable[[Any], Any]
    if attribute is Attribute.FIELD:
        field_key = str(item.get("field_key") or "").strip()
        registration_field = fields.get(field_key)
        if registration_field is None:
            raise ReasonedError(
                Reason.RULE_FIELD_UNKNOWN,
                f"There is no registration field {field_key!r}.",
                field_key,
            )
        if operator not in _FIELD_OPERATORS[registration_field.type]:
            raise ReasonedError(
                Reason.OPERATOR_NOT_ALLOWED,
                f"'{operator.value}' cannot be used with a {registration_field.type.value} field.",
                operator.value,
            )

        def convert(v: Any) -> Any:
            return convert_field_value(registration_field, v)

    elif attribute is Attribute.ROLE:
        convert = _role
    elif attribute is Attribute.EMAIL_DOMAIN:
        convert = _email_domain
    else:
        convert = _locale
    if _is_blank(raw_value):
        raise ReasonedError(Reason.VALUE_MISSING, "The rule needs a value.")
    value = _convert_many(raw_value, operator, convert)
    if _is_blank(value):
        raise ReasonedError(Reason.VALUE_MISSING, "The rule needs a value.")
    return Rule(attribute=attribute, operator=operator, value=value, field_key=field_key)


def _is_blank(value: Any) -> bool:
    if isinstance(value, list):
        return all(_is_blank(item) for item in value)
    return value is None or (isinstance(value, str) and not value.strip())


def _convert_many(raw: Any, operator: Operator, convert: Callable[[Any], Any]) -> Any:
    if operator is Operator.IS_ONE_OF:
        items = raw if isinstance(raw, list) else str(raw).split(",")
        return [convert(item) for item in items if not _is_blank(item)]
    if isinstance(raw, list):
        raise ReasonedError(
            Reason.ONE_VALUE, f"'{operator.value}' takes one value.", operator.value
        )
    return convert(raw)


def _role(raw: Any) -> str:
    # Either spelling: the stored one ('admin') or the GraphQL enum's ('ADMIN').
    value = str(raw).strip().lower()
    if value not in (RoleKind.ADMIN.value, RoleKind.PROJECT_MANAGER.value):
        raise ReasonedError(
            Reason.NOT_A_ROLE,
            "A role rule's value is 'admin' or 'project_manager'.",
            str(raw).strip(),
        )
    return value


def _email_domain(raw: Any) -> str:
    # "@example.org" and "*.example.org" are how people write a domain; keep just the domain.
    value = str(raw).strip().lower().lstrip("*").lstrip("@").lstrip(".")
    if not _EMAIL_DOMAIN.fullmatch(value):
        raise ReasonedError(
            Reason.NOT_A_DOMAIN,
            f"{str(raw).strip()!r} is not an email domain like example.org.",
            str(raw).strip(),
        )
    return value


def _locale(raw: Any) -> str:
    locales = get_settings().locales
    wanted = str(raw).strip().replace("_", "-").lower()
    for locale in locales:
        if locale.lower() == wanted:
            return locale
    # A language alone is its first platform locale ('nl' is nl-BE), as titles read it.
    if wanted and "-" not in wanted:
        for locale in locales:
            if locale.lower().split("-", 1)[0] == wanted:
                return locale
    raise ReasonedError(
        Reason.NOT_A_LANGUAGE,
        f"{str(raw).strip()!r} is not one of the platform's languages: {', '.join(locales)}.",
        str(raw).strip(),
    )


def _words(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def convert_field_value(registration_field: RegistrationField, raw: Any) -> Any:
    """A registration field's value in its stored form (str, float, bool, ISO date), or
    ValueError saying what is expected."""
    kind = registration_field.type
    if kind is FieldType.TEXT:
        text = str(raw).strip()
        if len(text) > 1000:
            raise ReasonedError(Reason.TEXT_TOO_LONG, "Use at most 1000 characters.")
        return text
    if kind is FieldType.NUMBER:
        if isinstance(raw, bool):
            raise ReasonedError(Reason.NOT_A_NUMBER, "Expected a number.", str(raw))
        try:
            number = float(str(raw).strip().replace(",", "."))
        except ValueError:
            raise ReasonedError(
                Reason.NOT_A_NUMBER, f"Expected a number, got {raw!r}.", str(raw)
            ) from None
        if number != number or number in (float("inf"), float("-inf")):
            raise ReasonedError(Reason.NOT_A_NUMBER, "Expected a finite number.", str(raw))
        return int(number) if number.is_integer() else number
    if kind is FieldType.CHECKBOX:
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in ("true", "1", "1.0", "yes"):
            return True
        if text in ("false", "0", "0.0", "no"):
            return False
        raise ReasonedError(
            Reason.NOT_TRUE_OR_FALSE, f"Expected true or false, got {raw!r}.", str(raw)
        )
    if kind is FieldType.DATE:
        if isinstance(raw, date):
            return raw.isoformat()[:10]
        try:
            return date.fromisoformat(str(raw).strip()[:10]).isoformat()
        except ValueError:
            raise ReasonedError(
                Reason.NOT_A_DATE, f"Expected a date like 2026-05-31, got {raw!r}.", str(raw)
            ) from None
    # select: the option's key, else its title in the default locale, else its title in
    # another locale, as people see it there (case-insensitive; a title two options share in
    # some locale names neither).
    wanted = str(raw).strip().lower()
    layers: list[Callable[[Mapping[str, Any]], list[str]]] = [
        lambda option: [str(option["key"])],
        lambda option: [str(option.get("title") or "")],
        lambda option: [str(title) for title in (option.get("title_multiloc") or {}).values()],
    ]
    for names in layers:
        found = {
            str(option["key"])
            for option in registration_field.options
            if wanted in (name.strip().lower() for name in names(option))
        }
        if len(found) == 1:
            return found.pop()
        if found:
            break
    choices = ", ".join(
        f"{option['key']} ({option['title']})"
        if option.get("title") and option["title"] != option["key"]
        else str(option["key"])
        for option in registration_field.options
    )
    raise ReasonedError(
        Reason.NOT_AN_OPTION,
        f"{str(raw).strip()!r} is not one of the options: {choices}.",
        str(raw).strip(),
    )
