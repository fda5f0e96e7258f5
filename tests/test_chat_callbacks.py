"""Every kind of button: its data reads back as written, matches its own handler's pattern and no
other, and stays within Telegram's 64 bytes at the largest numbers its pattern allows."""

from __future__ import annotations

import re

import pytest

from bot.chat import callbacks


def largest(kind: callbacks.Kind) -> tuple[int, int]:
    return 10**kind.first_digits - 1, (10**kind.second_digits - 1 if kind.second_digits else 0)


@pytest.mark.parametrize("kind", callbacks.KINDS, ids=lambda k: k.prefix)
def test_every_kind_round_trips_within_64_bytes(kind: callbacks.Kind) -> None:
    for numbers in [(0, 0), (1, 0 if not kind.second_digits else 3), largest(kind)]:
        data = kind.data(*numbers)
        assert len(data.encode()) <= callbacks.MAX_CALLBACK_DATA
        assert data.isascii()
        assert re.fullmatch(kind.pattern, data)
        assert kind.matches(data)
        assert kind.parse(data) == numbers
        others = [other for other in callbacks.KINDS if other is not kind]
        assert not any(other.matches(data) for other in others)


def test_kinds_have_distinct_prefixes() -> None:
    prefixes = [kind.prefix for kind in callbacks.KINDS]
    assert len(set(prefixes)) == len(prefixes)


@pytest.mark.parametrize("kind", callbacks.KINDS, ids=lambda k: k.prefix)
def test_data_beyond_the_pattern_is_not_this_kind(kind: callbacks.Kind) -> None:
    first, second = largest(kind)
    assert not kind.matches(kind.data(first + 1, second))
    assert not kind.matches(kind.data(first, second + 1))
    assert not kind.matches(f"{kind.prefix}:1")
    assert not kind.matches(f"{kind.prefix}:x:0")
    with pytest.raises(ValueError):
        kind.parse("zz:1:2")


def test_start_link_round_trips() -> None:
    link = callbacks.start_read_link("newsbot", 10**18 - 1)
    assert link == f"https://t.me/newsbot?start=read_{10**18 - 1}"
    assert callbacks.start_read_id(link.rpartition("=")[2]) == 10**18 - 1
    assert callbacks.start_read_id("read_x") is None
    assert callbacks.start_read_id("") is None
