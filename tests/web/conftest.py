"""Helpers of the web tests: a client that carries CSRF tokens like a browser, users, pages."""

from __future__ import annotations

import re
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import Parser
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from portal.accounts import services as accounts
from portal.clock import now
from portal.extensions import db
from portal.mail.services import text_of

PASSWORD = "correct horse battery"
# A form's hidden field, or the token htmx sends from <body hx-headers>.
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|"X-CSRFToken": "([^"]+)"')
_VOID = frozenset({"input", "br", "img", "meta", "link", "hr", "col", "area", "base", "source"})


class FormClient:
    """A test client that sends the CSRF token of the page it read, as a browser would.

    CTFd's pattern: CSRF protection stays on in every test, and a test that
    posts a form first GETs the page that carries it.
    """

    def __init__(self, client) -> None:
        self.client = client

    def token(self, page: str) -> str:
        html = self.client.get(page).get_data(as_text=True)
        match = _CSRF.search(html)
        assert match, f"{page} carries no CSRF token"
        return match.group(1) or match.group(2)

    def submit(self, page: str, action: str, data: dict | None = None, **kwargs):
        """GET ``page``, then POST ``data`` and its CSRF token to ``action``."""
        return self.client.post(
            action, data={"csrf_token": self.token(page), **(data or {})}, **kwargs
        )

    def sign_in(self, email: str, password: str = PASSWORD, **kwargs):
        return self.submit("/login", "/login", {"email": email, "password": password}, **kwargs)


@dataclass(frozen=True)
class Account:
    id: int
    email: str
    password: str


@pytest.fixture
def forms(client) -> FormClient:
    """The ``client``, posting forms with the CSRF token of the page it read."""
    return FormClient(client)


@pytest.fixture
def form_client():
    """Wrap another test client: ``form_client(make_app(...).test_client())``."""
    return FormClient


@pytest.fixture
def page():
    """Read a page: ``page(html).value("phone")``, ``page(html).error_beside("phone")``."""
    return Page


@pytest.fixture
def make_user(app):
    """Create an account: ``make_user("olena@example.com", role="staff")``."""

    def make(email: str, role: str = "staff", name: str = "Olena", active: bool = True) -> Account:
        with app.app_context():
            user = accounts.create_user(
                db.session, email=email, name=name, password=PASSWORD, role=role, now=now()
            )
            if not active:
                user.active = False
                db.session.commit()
            return Account(user.id, user.email, PASSWORD)

    return make


@pytest.fixture
def staff(make_user, forms) -> Account:
    """A staff member, signed in on ``client``."""
    account = make_user("staff@example.com", role="staff")
    assert forms.sign_in(account.email).status_code == 303
    return account


def _signed_in_admin(app, make_user, form_client, email: str, name: str):
    account = make_user(email, role="admin", name=name)
    forms = form_client(app.test_client())
    forms.client.set_cookie("lang", "en")
    assert forms.sign_in(account.email).status_code == 303
    return forms


@pytest.fixture
def admin(app, make_user, form_client):
    """An admin (Root) signed in, reading English."""
    return _signed_in_admin(app, make_user, form_client, "root@example.com", "Root")


@pytest.fixture
def second_admin(app, make_user, form_client):
    """Another admin (Anna) in another browser, at the same time."""
    return _signed_in_admin(app, make_user, form_client, "anna@example.com", "Anna")


@pytest.fixture
def acme(make_organization):
    """A client organization, Acme, with its owner."""
    return make_organization("Acme", "owner@acme.example")


@pytest.fixture
def desk(app, make_user, form_client):
    """A second browser, a staff member's (Petro) beside the client's ``forms``."""
    account = make_user("agent@example.com", role="staff", name="Petro")
    forms = form_client(app.test_client())
    assert forms.sign_in(account.email).status_code == 303
    return forms


class Page(HTMLParser):
    """What a test reads on a page: form inputs by name, and the text of elements by id."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.inputs: dict[str, dict[str, str | None]] = {}
        self.selected: dict[str, str | None] = {}
        self.elements: dict[str, dict[str, str | None]] = {}
        self.texts: dict[str, str] = {}
        self._open: list[tuple[str, str | None]] = []
        self._select: str | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag in ("input", "select", "textarea") and "name" in attributes:
            self.inputs.setdefault(attributes["name"], {"tag": tag, **attributes})
        if tag == "select":
            self._select = attributes.get("name")
        if tag == "option" and self._select and "selected" in attributes:
            self.selected[self._select] = attributes.get("value")
        if "id" in attributes:
            self.elements[attributes["id"]] = {"tag": tag, **attributes}
            self.texts.setdefault(attributes["id"], "")
        if tag not in _VOID:
            self._open.append((tag, attributes.get("id")))

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        for index in range(len(self._open) - 1, -1, -1):
            if self._open[index][0] == tag:
                del self._open[index:]
                break

    def handle_data(self, data):
        for _, element_id in self._open:
            if element_id:
                self.texts[element_id] += data

    def value(self, name: str) -> str | None:
        if name in self.selected:
            return self.selected[name]
        return self.inputs[name].get("value")

    def text(self, element_id: str) -> str:
        return " ".join(self.texts[element_id].split())

    def error_beside(self, field: str) -> str:
        """The error shown beside ``field``, which the field names in ``aria-describedby``."""
        error_id = f"{field}-error"
        assert error_id in self.elements, f"no error beside {field}"
        if self.inputs[field].get("type") != "hidden":
            assert error_id in (self.inputs[field].get("aria-describedby") or "").split()
        return self.text(error_id)


# --- organizations and mail ------------------------------------------------------------------

_LINK = re.compile(r"https?://\S+")


def visible_text(html: str) -> str:
    """What a person reads on a page: the body's text, without scripts, styles or tags,
    white space folded."""
    body = re.split(r"<body[^>]*>", html, maxsplit=1)[1]
    body = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", body, flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", body)).split())


@pytest.fixture
def outbox(tmp_path) -> Path:
    """Where the test's app writes its mail (never the project's ``instance/outbox``)."""
    return tmp_path / "outbox"


@pytest.fixture
def app(make_app, outbox):
    return make_app(OUTBOX_DIR=str(outbox))


@pytest.fixture
def mails(outbox):
    """The mail written so far, oldest first, parsed: ``mails()[-1]["Subject"]``."""

    def read() -> list[EmailMessage]:
        if not outbox.is_dir():
            return []
        # As text: a mail to an address outside ASCII has UTF-8 in its headers.
        return [
            Parser(policy=policy.default).parsestr(path.read_text(encoding="utf-8"))
            for path in sorted(outbox.glob("*.eml"))
        ]

    return read


def link_in(message: EmailMessage) -> str:
    """The one link of a mail, as a path on this site (``/confirm/…``)."""
    (link,) = _LINK.findall(text_of(message))
    parts = urlsplit(link)
    return parts.path + (f"?{parts.query}" if parts.query else "")


@dataclass(frozen=True)
class Org:
    id: int
    name: str
    owner: Account
    members: tuple[Account, ...]


@pytest.fixture
def make_organization(app):
    """A client organization with a confirmed owner and members:
    ``make_organization("Acme", "owner@acme.example", members=["m@acme.example"])``.

    It has the tax number and address an invoice needs unless told otherwise
    (``tax_number=None``), as a client who filled in their details."""

    def make(
        name: str,
        owner_email: str,
        members: tuple[str, ...] | list[str] = (),
        language: str = "uk",
        timezone: str = "Europe/Kyiv",
        confirmed: bool = True,
        tax_number: str | None = "38123456",
        address: str | None = "вул. Хрещатик, 1, Київ, 01001",
    ) -> Org:
        with app.app_context():
            registration = accounts.Registration(
                organization=accounts.OrganizationProfile(
                    name=name,
                    language=language,
                    timezone=timezone,
                    tax_number=tax_number,
                    address=address,
                ),
                name=f"Owner of {name}",
                email=owner_email,
                password=PASSWORD,
            )
            owner = accounts.register(db.session, registration, now())
            if confirmed:
                accounts.confirm_email(db.session, owner, now())
            people = []
            for email in members:
                invitation, _token = accounts.invite(db.session, owner, email, now(), max_age=3600)
                member = accounts.accept_invitation(
                    db.session,
                    invitation,
                    name=f"Member {email}",
                    password=PASSWORD,
                    locale=None,
                    now=now(),
                )
                people.append(Account(member.id, member.email, PASSWORD))
            return Org(
                owner.organization_id,
                name,
                Account(owner.id, owner.email, PASSWORD),
                tuple(people),
            )

    return make
