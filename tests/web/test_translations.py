"""Every message of the interface is translated into Russian, Ukrainian, Persian and Kazakh."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from conftest import visible_text

from portal.translate import KEYWORDS

ROOT = Path(__file__).resolve().parents[2]
LANGUAGES = ["ru", "uk", "fa", "kk"]


def source_messages() -> set[str]:
    """The message ids in the code and templates, extracted as `flask translate update` does."""
    keywords = {
        "_": None,
        "gettext": None,
        "ngettext": (1, 2),
        "lazy_gettext": None,
        "_l": None,
        "PlanError": (2,),
    }
    assert {k.split(":")[0] for k in KEYWORDS[1::2]} <= set(keywords)
    method_map = [
        ("portal/**.py", "python"),
        ("portal/templates/**.html", "jinja2"),
        ("portal/templates/**.txt", "jinja2"),  # mail
    ]
    messages = set()
    for _, _, message, _, _ in extract_from_dir(
        str(ROOT), method_map=method_map, keywords=keywords
    ):
        messages.add(message[0] if isinstance(message, tuple) else message)
    return messages


SOURCE = source_messages()


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_of_the_interface_is_translated(language):
    path = ROOT / "translations" / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    missing = []
    for message_id in sorted(SOURCE):
        entry = catalog.get(message_id)
        strings = entry.string if entry is not None else None
        texts = strings if isinstance(strings, tuple) else (strings,)
        if entry is None or entry.fuzzy or not all(texts):
            missing.append(message_id)
    assert missing == [], f"{language}: {len(missing)} messages without a translation"


ENGLISH_SENTENCES = sorted(
    {m for m in SOURCE if len(m.split()) >= 2 and "%" not in m and "{" not in m}
)

PAGES = [
    ("iotex", "fa", "/plans?licence_value=1000000000"),
    ("iotex", "fa", "/plans/premium"),
    ("kbs", "uk", "/plans?term=7m"),
    ("kbs", "uk", "/plans/optima"),
    ("iiko", "ru", "/plans?qty.workstation=2&billing=year"),
    ("iiko", "kk", "/plans"),
    ("crystals", "ru", "/plans/garant"),
    ("kvartplata", "ru", "/plans"),
]


@pytest.mark.parametrize(
    ("catalog", "language", "path"), PAGES, ids=[f"{p[0]}:{p[1]}:{p[2]}" for p in PAGES]
)
def test_no_english_sentence_of_the_interface_is_left_on_a_translated_page(
    make_app, catalog, language, path
):
    client = make_app(PORTAL_CATALOG=catalog).test_client()
    response = client.get(path, headers={"Accept-Language": language})
    assert response.status_code == 200
    text = visible_text(response.get_data(as_text=True))
    left = [sentence for sentence in ENGLISH_SENTENCES if sentence in text]
    assert left == []
