"""Registration tokens: encoding, normalization and the check symbol, as properties."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.invitations import tokens

BODIES = st.text(alphabet=tokens.ALPHABET, min_size=14, max_size=14)


def make(body: str) -> str:
    return body + tokens.check_symbol(body)


def test_generated_tokens_are_15_crockford_symbols_shown_in_three_groups() -> None:
    for _ in range(200):
        token = tokens.generate()
        assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{15}", token)
        assert re.fullmatch(r"[0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5}", tokens.display(token))
        assert tokens.parse(token) == token


def test_generated_tokens_use_the_whole_alphabet_in_every_random_position() -> None:
    seen = [set() for _ in range(tokens.RANDOM_SYMBOLS)]
    for _ in range(3000):
        token = tokens.generate()
        for position, symbol in enumerate(token[: tokens.RANDOM_SYMBOLS]):
            seen[position].add(symbol)
    assert all(len(symbols) == 32 for symbols in seen)


def test_tokens_made_many_at_once_are_as_valid_varied_and_distinct_as_single_ones() -> None:
    made = tokens.generate_many(20_000)
    assert len(made) == len(set(made)) == 20_000
    seen = [set() for _ in range(tokens.RANDOM_SYMBOLS)]
    counts: dict[str, int] = {}
    for token in made:
        assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{15}", token)
        assert tokens.parse(token) == token  # the check symbol holds
        for position, symbol in enumerate(token[: tokens.RANDOM_SYMBOLS]):
            seen[position].add(symbol)
            counts[symbol] = counts.get(symbol, 0) + 1
    assert all(len(symbols) == 32 for symbols in seen)
    # 280,000 symbols over 32: 8,750 each on average; a biased mapping would stand out.
    assert all(8_000 < count < 9_500 for count in counts.values()), counts
    assert tokens.generate_many(0) == []


@given(BODIES)
def test_display_form_and_typing_variants_parse_back(body: str) -> None:
    token = make(body)
    shown = tokens.display(token)
    assert tokens.parse(shown) == token
    assert tokens.parse(shown.lower()) == token
    assert tokens.parse(" " + shown.replace("-", " ") + "\n") == token
    typed = token.lower().replace("0", "o").replace("1", "l")
    assert tokens.parse(typed) == token
    assert tokens.parse(token.replace("1", "I")) == token


@settings(max_examples=300)
@given(BODIES, st.integers(0, 14), st.sampled_from(tokens.ALPHABET))
def test_every_single_substitution_is_caught(body: str, position: int, symbol: str) -> None:
    token = make(body)
    if token[position] == symbol:
        return
    changed = token[:position] + symbol + token[position + 1 :]
    assert tokens.parse(changed) is tokens.TokenProblem.CHECK_FAILED


@settings(max_examples=300)
@given(BODIES, st.integers(0, 13))
def test_every_adjacent_swap_is_caught(body: str, position: int) -> None:
    token = make(body)
    if token[position] == token[position + 1]:
        return
    swapped = token[:position] + token[position + 1] + token[position] + token[position + 2 :]
    assert tokens.parse(swapped) is tokens.TokenProblem.CHECK_FAILED


def test_exhaustively_for_some_tokens_every_substitution_and_swap_is_caught() -> None:
    for _ in range(50):
        token = tokens.generate()
        for position in range(15):
            for symbol in tokens.ALPHABET:
                if symbol != token[position]:
                    changed = token[:position] + symbol + token[position + 1 :]
                    assert tokens.parse(changed) is tokens.TokenProblem.CHECK_FAILED
        for position in range(14):
            if token[position] != token[position + 1]:
                swapped = (
                    token[:position] + token[position + 1] + token[position] + token[position + 2 :]
                )
                assert tokens.parse(swapped) is tokens.TokenProblem.CHECK_FAILED


@given(st.text(max_size=80))
def test_anything_else_is_malformed_or_fails_the_check_never_an_exception(raw: str) -> None:
    result = tokens.parse(raw)
    if isinstance(result, str):
        assert len(result) == 15 and tokens.parse(result) == result


def test_malformed_input() -> None:
    assert tokens.parse("") is tokens.TokenProblem.MALFORMED
    assert tokens.parse("ABCDE-FGHJK-MNPQ") is tokens.TokenProblem.MALFORMED  # 14 symbols
    assert tokens.parse("ABCDE-FGHJK-MNPQU") is tokens.TokenProblem.MALFORMED  # U is not used
    assert tokens.parse("x" * 1000) is tokens.TokenProblem.MALFORMED
