"""A provider's office with a few months of history, written through the portal's own use cases.

``load`` fills an empty database for the active catalog: a staff and an admin account,
client organizations with their people, and, where the catalog sells plans online, their
orders, invoices and periods (one ending in a week, one lapsed, one renewed, one awaiting
payment), as the portal would have written them on the days they happened; and two call-back
requests. Every account shares one password, made for this load.
"""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.accounts import services as accounts
from portal.billing import invoices, orders
from portal.billing.presentation import labels_for
from portal.callbacks.services import CallbackDetails, request_callback
from portal.models import Organization, SubscriptionPeriod, Technician
from portal.plans import Catalog, Term
from portal.plans.subscriptions import is_orderable


class DemoRefused(RuntimeError):
    """The database already holds clients: demo data is for an empty portal only."""


@dataclass(frozen=True)
class DemoAccount:
    email: str
    password: str
    role: str
    organization: str | None = None
    plan: str | None = None
    period: str | None = None  # "2026-11-01 – 2026-12-08"

    def as_dict(self) -> dict:
        return asdict(self)


# Names as clients in each language would have them: organization, owner, a colleague.
PEOPLE = {
    "uk": [
        ("ТОВ «Ромашка»", "Оксана Петренко", "Ігор Бондар"),
        ("ФОП Лагода", "Андрій Лагода", None),
        ("ПП «Світанок»", "Марія Коваль", "Денис Мельник"),
        ("ТОВ «Нова пошта знань»", "Олег Шевчук", None),
    ],
    "ru": [
        ("ООО «Ромашка»", "Оксана Петрова", "Игорь Бондарев"),
        ("ИП Лагодин", "Андрей Лагодин", None),
        ("ООО «Рассвет»", "Мария Ковалёва", "Денис Мельников"),
        ("АО «Новые знания»", "Олег Шевченко", None),
    ],
    "fa": [
        ("شرکت آفتاب", "مریم احمدی", "علی رضایی"),
        ("فروشگاه لاله", "رضا کریمی", None),
        ("رستوران سپیده", "زهرا حسینی", "امیر محمدی"),
        ("شرکت دانش نو", "حسین موسوی", None),
    ],
}
TAX_NUMBERS = {"uk": "38123456", "ru": "5501234560", "fa": "10101234567"}
ADDRESSES = {
    "uk": "вул. Хрещатик, 1, м. Київ, 01001",
    "ru": "г. Омск, ул. Ленина, д. 1, 644024",
    "fa": "تهران، خیابان ولیعصر، پلاک ۱",
}
# What a demo client's licence is worth, for plans priced as a percentage of it (in rials).
DEMO_LICENCE_VALUE = 2_000_000_000
PHONES = {"UA": "+380 67 123 45 67", "RU": "+7 913 123-45-67", "IR": "+98 912 123 4567"}


def load(session: Session, catalog: Catalog, today: date, password: str | None = None):
    """Write the demo office for ``catalog`` as of ``today``; its accounts.

    Raises :class:`DemoRefused` when any client organization exists already.
    """
    if session.scalar(select(func.count()).select_from(Organization)):
        raise DemoRefused(
            "the database already holds client organizations: demo data goes into an empty "
            "portal only (start from a new database, or use the accounts you have)"
        )
    password = password or secrets.token_urlsafe(9)
    office = _Office(session, catalog, today, password)
    return office.load()


class _Office:
    def __init__(self, session: Session, catalog: Catalog, today: date, password: str):
        self.session = session
        self.catalog = catalog
        self.today = today
        self.password = password
        self.zone = ZoneInfo(catalog.timezone)
        self.locale = catalog.locale if catalog.locale in PEOPLE else "ru"
        self.domain = f"{catalog.code}-demo.example"

    def moment(self, day: date, hour: int = 10) -> datetime:
        """``hour`` o'clock on ``day`` in the provider's office."""
        return datetime.combine(day, time(hour), self.zone)

    def load(self) -> list[DemoAccount]:
        first = self.moment(self.today - timedelta(days=400))
        # The provider's people: one staff member (who marks payments) and one admin.
        people = {
            role: accounts.create_user(
                self.session,
                email=f"{role}@{self.domain}",
                name=f"{role.title()} Demo",
                password=self.password,
                role=role,
                now=first,
            )
            for role in ("staff", "admin")
        }
        staff = people["staff"]
        if self.catalog.visits.calendar is not None:
            # Iotex, iiko: the staff member also visits clients, on the office's hours.
            self.session.add(
                Technician(
                    user_id=staff.id, catalog=self.catalog.code, region="area", created_at=first
                )
            )
        result = [DemoAccount(user.email, self.password, role) for role, user in people.items()]
        sale = self._sale()
        stories = ("ends-in-a-week", "lapsed", "renewed", "awaiting-payment")
        for index, story in enumerate(stories):
            name, owner_name, colleague = PEOPLE[self.locale][index]
            slug = f"client{index + 1}"
            owner = self._organization(name, owner_name, colleague, slug, first)
            period = None
            if sale is not None:
                period = self._history(story, owner, staff.id, *sale)
            result.append(
                DemoAccount(
                    owner.email,
                    self.password,
                    "owner",
                    name,
                    period.plan if period else None,
                    f"{period.start.isoformat()} – {period.end.isoformat()}" if period else None,
                )
            )
            if colleague:
                result.append(
                    DemoAccount(f"{slug}.member@{self.domain}", self.password, "member", name)
                )
        self._callbacks()
        return result

    def _organization(self, name, owner_name, colleague, slug, when):
        registration = accounts.Registration(
            organization=accounts.OrganizationProfile(
                name=name,
                language=self.locale,
                timezone=self.catalog.timezone,
                tax_number=TAX_NUMBERS[self.locale],
                address=ADDRESSES[self.locale],
            ),
            name=owner_name,
            email=f"{slug}@{self.domain}",
            password=self.password,
        )
        owner = accounts.register(self.session, registration, when)
        accounts.confirm_email(self.session, owner, when)
        if colleague:
            member = accounts.create_user(
                self.session,
                email=f"{slug}.member@{self.domain}",
                name=colleague,
                password=self.password,
                role="client",
                now=when,
            )
            member.organization_id = owner.organization_id
            self.session.commit()
        return owner

    def _sale(self) -> tuple[str, Term] | None:
        """The plan and term the demo clients bought: the middle one of the plans sold online
        (the tier most clients take), for its shortest term with a loyalty price, so that a
        renewal shows one; else for its default or shortest term open to new clients."""
        plans = [
            plan
            for plan in self.catalog.plans.values()
            if is_orderable(self.catalog, plan.code) and plan.pricing != "on-request"
        ]
        if not plans:
            return None
        plan = plans[len(plans) // 2]
        if plan.loyalty:
            return plan.code, min(plan.loyalty, key=_months)
        if plan.default_term is not None and plan.default_term.kind != "budget":
            return plan.code, plan.default_term
        terms = [
            t for t, offer in plan.terms.items() if not offer.renewal_only and t.kind != "budget"
        ]
        return (plan.code, min(terms, key=_months)) if terms else None

    def _start_for_end(self, term: Term, end: date) -> date:
        """The start whose coverage for ``term`` ends on ``end``."""
        start = end - timedelta(days=(term.months or 12) * 31 + 2)
        while term.coverage(start)[1] < end:
            start += timedelta(days=1)
        return start

    def _history(self, story, owner, staff_id, plan, term) -> SubscriptionPeriod | None:
        if story == "ends-in-a-week":
            start = self._start_for_end(term, self.today + timedelta(days=7))
            return self._bought(owner, staff_id, plan, term, start)
        if story == "lapsed":
            start = self._start_for_end(term, self.today - timedelta(days=20))
            return self._bought(owner, staff_id, plan, term, start)
        if story == "renewed":
            first_end = self.today - timedelta(days=3)
            first = self._bought(owner, staff_id, plan, term, self._start_for_end(term, first_end))
            # Renewed on time, a week before the first period ended, at the renewal price.
            return self._bought(
                owner,
                staff_id,
                plan,
                term,
                None,
                ordered=first_end - timedelta(days=7),
                previous=first,
            )
        # Awaiting payment: ordered yesterday, the invoice open.
        self._ordered(owner, plan, term, self.today, self.today - timedelta(days=1))
        return None

    def _ordered(self, owner, plan, term, start, ordered, previous=None):
        params = {"plan": plan, "term": term.code}
        if self.catalog.plans[plan].pricing == "percent-of-licence":
            params["licence_value"] = str(DEMO_LICENCE_VALUE)
        if previous is None:
            params["start"] = start.isoformat()
        priced = orders.price_order(self.catalog, params, previous, ordered)
        order = orders.place_order(
            self.session,
            priced,
            organization_id=owner.organization_id,
            user_id=owner.id,
            labels=labels_for(self.catalog, None),
            now=self.moment(ordered),
        )
        document, _issued = invoices.issue_invoice(
            self.session, order, today=ordered, due_days=10, now=self.moment(ordered, 11)
        )
        return order, document

    def _bought(self, owner, staff_id, plan, term, start, ordered=None, previous=None):
        ordered = ordered or start - timedelta(days=2)
        order, document = self._ordered(owner, plan, term, start, ordered, previous)
        invoices.mark_invoice_paid(
            self.session,
            document.id,
            staff_user_id=staff_id,
            now=self.moment(ordered + timedelta(days=1), 15),
        )
        return self.session.scalars(
            select(SubscriptionPeriod).where(SubscriptionPeriod.order_id == order.id)
        ).one()

    def _callbacks(self) -> None:
        region = self.catalog.provider.country if self.catalog.provider else None
        phone = PHONES.get(region or "", "+380 67 123 45 67")
        plans = [code for code in self.catalog.plans]
        quoted = self.catalog.plans[plans[-1]]
        # A quote gives the counts its plan asks: enough to qualify, a dozen of the rest.
        rule = quoted.eligibility
        counts = {
            unit: rule.minimum + 20 if rule is not None and unit == rule.unit else 12
            for unit in quoted.quote_questions
        }
        for hours, (name, kind) in (
            (2, ("Prospect One", "callback")),
            (26, ("Prospect Two", "quote")),
        ):
            request_callback(
                self.session,
                self.catalog,
                CallbackDetails(
                    kind=kind,
                    name=name,
                    phone=phone,
                    preferred_time="morning",
                    consent=True,
                    locale=self.locale,
                    plan=plans[-1] if kind == "quote" else None,
                    company=f"{name} Ltd",
                    email=f"buyer@{self.catalog.code}-prospect.example"
                    if kind == "quote"
                    else None,
                    counts=counts if kind == "quote" else {},
                ),
                self.moment(self.today) - timedelta(hours=hours),
            )
            phone = phone[:-1] + str((int(phone[-1]) + 1) % 10)


def _months(term: Term) -> int:
    return term.months or 12 * term.count
