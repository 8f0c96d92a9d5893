"""The provider on every page and mail: logo, phone and hours in the header, legal name and
contacts in the footer, the terms of service, and the signature under every mail."""

from __future__ import annotations

import pytest

from portal.plans.loading import bundled_catalog_path

LOGO = bundled_catalog_path("kbs").with_name("kbs.svg").read_bytes()


@pytest.mark.parametrize(
    ("language", "says"),
    [
        pytest.param(
            "uk",
            [
                'href="tel:+380441234567"',
                "Пн–Пт 09:00–18:00 (Київ)",
                "ТОВ «СОФТКОМ»",
                "вул. Хрещатик, 12, оф. 4, м. Київ, 01001",
                'href="mailto:support@softcom.example"',
                'href="https://softcom.example"',
                ">Умови обслуговування</a>",
            ],
            id="in Ukrainian: the phone, the hours, the legal name, address and terms",
        ),
        pytest.param(
            "en",
            ["Mon–Fri 09:00–18:00 (Kyiv)", "SOFTCOM LLC", ">Terms of service</a>"],
            id="in English: the provider's English texts",
        ),
    ],
)
def test_every_page_shows_who_the_provider_is_and_how_to_reach_it(client, language, says):
    for path in ("/plans", "/login", "/register"):
        html = client.get(f"{path}?lang={language}").get_data(as_text=True)
        assert 'class="brand-logo" src="/provider/logo?v=1"' in html
        for part in says:
            assert part in html, (path, part)


def test_the_logo_is_served_as_the_catalog_ships_it_and_runs_nothing(client):
    client.get("/plans")  # imports the catalog as version 1
    versioned, plain = client.get("/provider/logo?v=1"), client.get("/provider/logo")
    assert (versioned.data, versioned.mimetype) == (LOGO, "image/svg+xml")
    assert "sandbox" in versioned.headers["Content-Security-Policy"]
    assert "immutable" in versioned.headers["Cache-Control"]
    assert "immutable" not in plain.headers["Cache-Control"]


def test_the_terms_page_states_the_terms_and_the_supplier(client):
    html = client.get("/terms?lang=uk").get_data(as_text=True)
    assert "СОФТКОМ надає супровід програмних продуктів KBS" in html
    assert "Код ЄДРПОУ" in html and "38123450" in html


def test_a_catalog_without_terms_says_where_to_ask_for_them(make_app, tmp_path):
    text = bundled_catalog_path("kbs").read_text(encoding="utf-8")
    start = text.index("terms = { en =")
    end = text.index("[provider.numbers]")
    (tmp_path / "kbs.toml").write_text(text[:start] + text[end:], encoding="utf-8")
    (tmp_path / "kbs.svg").write_bytes(LOGO)
    client = make_app(PORTAL_CATALOG=str(tmp_path / "kbs.toml")).test_client()
    html = client.get("/terms?lang=en").get_data(as_text=True)
    assert "has not published its terms of service on the portal yet" in html
    assert ">Terms of service</a>" not in client.get("/plans?lang=en").get_data(as_text=True)


def test_the_registrations_terms_checkbox_links_to_the_terms(client):
    html = client.get("/register?lang=en").get_data(as_text=True)
    assert '<a class="field-link" href="/terms" target="_blank" rel="noopener">' in html


def test_every_mail_ends_with_the_providers_signature(app):
    from portal.mail.services import render_mail

    with app.test_request_context("/"):
        mail = render_mail(
            "confirm_email",
            "uk",
            to="o@romashka.example",
            name="Оксана",
            organization="Ромашка",
            link="https://portal.example/confirm/x",
            duration="24 години",
        )
    assert mail.text.endswith(
        "\n-- \nТОВ «СОФТКОМ»\n+380 44 123 45 67 · support@softcom.example\n"
        "Пн–Пт 09:00–18:00 (Київ)\nsoftcom.example\n"
    )


def test_the_api_describes_the_provider(client):
    body = client.get("/api/v1/catalog?lang=en").json
    details = body["provider_details"]
    assert body["provider"] == "SOFTCOM"
    assert details["legal_name"] == "SOFTCOM LLC"
    assert details["numbers"] == [
        {"kind": "ua-edrpou", "label": "EDRPOU code", "value": "38123450"}
    ]
    assert details["vat"] == {"payer": False, "rate": None, "prices": None}
    assert details["bank"]["iban"] == "UA223052990000026001234567890"
