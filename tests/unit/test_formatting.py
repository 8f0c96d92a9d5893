"""Numbers, cities and time zones as each language writes them (portal.formatting, Babel)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from portal import formatting

WINTER = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("timezone", "locale", "city"),
    [
        ("Europe/Kyiv", "uk", "Київ"),
        ("Europe/Kyiv", "ru", "Киев"),
        ("Europe/Kyiv", "en", "Kyiv"),
        ("Europe/Kyiv", "fa", "کیف"),
        ("Asia/Tehran", "fa", "تهران"),
        ("Asia/Almaty", "kk", "Алматы"),
        ("Europe/Moscow", "kk", "Мәскеу"),
    ],
)
def test_a_zone_is_named_by_its_city_in_the_readers_language(timezone, locale, city):
    assert formatting.city(timezone, locale) == city


@pytest.mark.parametrize(
    ("timezone", "locale", "label"),
    [
        ("Europe/Kyiv", "uk", "UTC+02:00 Київ"),
        ("Asia/Tehran", "fa", "UTC+۰۳:۳۰ تهران"),
        ("UTC", "en", "UTC"),
    ],
)
def test_a_zone_reads_as_its_offset_and_city(timezone, locale, label):
    assert formatting.zone_label(timezone, locale, WINTER) == label
