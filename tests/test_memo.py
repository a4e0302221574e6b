"""Work done once per distinct value: equal values of different types are told apart, values
that cannot be remembered are still computed."""

from __future__ import annotations

from typing import Any

from domain.memo import OncePerValue


def test_each_value_is_computed_once_and_equal_values_of_other_types_apart() -> None:
    calls: list[Any] = []

    def describe(value: Any) -> str:
        calls.append(value)
        return f"{type(value).__name__}:{value}"

    once = OncePerValue(describe)
    assert [once(v) for v in ("north", "north", True, 1, 1.0, True)] == [
        "str:north",
        "str:north",
        "bool:True",
        "int:1",
        "float:1.0",
        "bool:True",
    ]
    assert calls == ["north", True, 1, 1.0]


def test_unhashable_values_are_computed_every_time_and_the_memory_is_bounded() -> None:
    calls: list[Any] = []
    once = OncePerValue(lambda value: calls.append(value) or len(calls), limit=2)
    assert (once([1]), once([1])) == (1, 2)
    assert [once(v) for v in ("a", "b", "c", "c")] == [3, 4, 5, 6]  # "c" is past the limit
    assert once("a") == 3
