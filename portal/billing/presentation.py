"""Billing in words: labels of locked lines, error messages, PDF documents and mail.

Everything shown to a person is phrased here in their language, from values
the services and the engine computed; nothing here computes money.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from flask import current_app, has_request_context, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal import formatting
from portal.billing import documents, orders
from portal.billing.gateway import StripeGateway
from portal.billing.pdf import PdfDocument, render_pdf
from portal.billing.price_notices import PriceNotice
from portal.billing.renewals import DueReminder
from portal.billing.supplier import amount_in_words, bank_details_missing, supplier_lines, vat_line
from portal.catalog.detail import plan_quotas
from portal.catalog.services import catalog_version
from portal.catalog.wording import (
    line_label,
    locale_code,
    number,
    number_plain,
    speaking,
    term_name,
    text,
)
from portal.extensions import db
from portal.i18n import LOCALES, RIGHT_TO_LEFT
from portal.listing import ListQuery, page_of
from portal.mail.services import Mail, render_mail
from portal.models import Document, Order, SubscriptionPeriod, User
from portal.plans import Catalog, Plan, PlanError, Quote, Savings, Term, savings
from portal.plans.pricing import Line
from portal.plans.subscriptions import (
    Proration,
    RenewalChoice,
    is_orderable,
    renewal_offers,
    weigh_renewals,
)

# Where the README's first command serves the portal: links in mail from commands run
# without PORTAL_URL point there.
DEFAULT_PORTAL_URL = "http://127.0.0.1:5000"
ORDER_STATES = {
    "pending_payment": _l("Awaiting payment"),
    "paid": _l("Paid"),
    "fulfilled": _l("Paid, period active"),
    "expired": _l("Expired"),
    "cancelled": _l("Cancelled"),
    "refunded": _l("Refunded"),
}
DOCUMENT_STATES = {
    "open": _l("Awaiting payment"),
    "paid": _l("Paid"),
    "expired": _l("Expired"),
    "void": _l("Void"),
}
DOCUMENT_KINDS = {"invoice": _l("Invoice"), "receipt": _l("Receipt")}
PAYMENT_METHODS = {"card": _l("card"), "bank-transfer": _l("bank transfer")}


def order_state(order: Order) -> str:
    return str(ORDER_STATES[order.status])


def document_state(document: Document) -> str:
    return str(DOCUMENT_STATES[document.status])


def document_kind(document: Document) -> str:
    return str(DOCUMENT_KINDS[document.kind])


def billing_error_message(error: orders.BillingError) -> str:
    messages = {
        "order_pending": _(
            "Another order is awaiting payment. Pay or cancel it before placing a new one."
        ),
        "order_closed": _("This order is no longer awaiting payment."),
        "paying_by_card": _("This order is being paid by card; cancel it to pay by bank transfer."),
        "paying_by_invoice": _(
            "An invoice was issued for this order; pay it by bank transfer, or cancel the order."
        ),
        "invoice_closed": _(
            "This invoice has expired or is void, and its order was cancelled. The client places "
            "a new order."
        ),
        "no_such_invoice": _("There is no such invoice."),
        "not_paid": _("Only a paid order can be refunded."),
        "payment_confirming": _(
            "This order is paid by card already; the confirmation is on its way, and the period "
            "starts as soon as it arrives."
        ),
        "order_paid_otherwise": _(
            "This order is paid already, by card: the invoice is not to be paid, and nothing "
            "was recorded."
        ),
        "bill_to_incomplete": _(
            "An invoice names your organization by its tax number and legal address: add them "
            "to your organization's details, then ask for the invoice again."
        ),
    }
    return messages[error.code]


def not_a_payer_message() -> str:
    return _(
        "Orders are placed, paid and cancelled by the organization's owner and its billing "
        "members. Ask your organization's owner to do it, or to make you a billing member."
    )


def gateway() -> StripeGateway:
    config = current_app.config
    return StripeGateway(config["STRIPE_SECRET_KEY"], config.get("STRIPE_API_BASE"))


def card_payment_available(order: Order) -> bool:
    """Cards where Stripe is configured and the order's catalog takes them (not rials)."""
    if not current_app.config.get("STRIPE_SECRET_KEY"):
        return False
    catalog = catalog_version(db.session, order.catalog, order.catalog_version)
    return "card" in catalog.payment_methods


def upgrade_label(proration: Proration, catalog: Catalog) -> str:
    """``Upgrade OPTIMA → PREMIUM: (65 940 − 40 740) × 172 / 212 days``."""
    return _(
        "Upgrade %(old)s → %(new)s, %(term)s: (%(new_price)s − %(old_price)s) × %(days_left)s / "
        "%(days)s days",
        old=text(catalog.plans[proration.old_plan].name, catalog),
        new=text(catalog.plans[proration.new_plan].name, catalog),
        term=term_name(proration.term),
        new_price=number(proration.new_price),
        old_price=number(proration.old_price),
        days_left=number(proration.days_left),
        days=number(proration.days),
    )


def labels_for(catalog: Catalog, proration: Proration | None):
    """A ``labels(line, quote)`` for :func:`orders.place_order`: the line in every language."""

    def labels(line: Line, quote: Quote) -> dict[str, str]:
        out = {}
        for locale in LOCALES:
            with speaking(locale):
                if line.kind == "upgrade" and proration is not None:
                    out[locale] = upgrade_label(proration, catalog)
                else:
                    out[locale] = line_label(line, quote, catalog)
        return out

    return labels


def plan_name(catalog_name: str, version: int, code: str) -> str:
    """A plan's name in the current language, as the catalog version that sold it names it
    (its code, should that version not have it)."""
    catalog = catalog_version(db.session, catalog_name, version)
    plan = catalog.plans.get(code)
    return text(plan.name, catalog) if plan else code


def order_title(order: Order) -> str:
    """``OPTIMA, 7 months`` in the current language; an order of time by its own title."""
    if order.kind in orders.TIME_ORDER_KINDS:
        return orders.time_title(order, locale_code(), order.organization.language) or (order.plan)
    name = plan_name(order.catalog, order.catalog_version, order.plan)
    return _("%(plan)s, %(term)s", plan=name, term=term_name(Term.parse(order.term)))


def order_description(order: Order) -> str:
    """What the card statement and Stripe's page say: ``Order 42: OPTIMA, 7 months``."""
    return _("Order %(number)s: %(title)s", number=number_plain(order.id), title=order_title(order))


# --- PDF -------------------------------------------------------------------------------------


def _bill_to_lines(document: Document) -> tuple[str, ...]:
    lines = [document.bill_to_name]
    if document.bill_to_tax_number:
        lines.append(_("Tax number: %(number)s", number=document.bill_to_tax_number))
    if document.bill_to_address:
        lines.extend(part.strip() for part in document.bill_to_address.splitlines() if part.strip())
    return tuple(lines)


def pdf_document(document: Document, locale: str) -> PdfDocument:
    """The invoice or receipt ``document`` laid out for PDF in ``locale``."""
    order = document.order
    catalog = catalog_version(db.session, order.catalog, order.catalog_version)
    with speaking(locale):
        supplier = supplier_lines(catalog)

        def money(amount) -> str:
            return formatting.money(amount, order.currency, locale)

        def day(value: date) -> str:
            return formatting.day(value, locale)

        issued = document.issued_at.astimezone(_zone(catalog)).date()
        if document.kind == "invoice":
            title = _("Invoice No. %(number)s", number=document.number)
        else:
            title = _("Receipt No. %(number)s", number=document.number)
        meta = [
            (_("Date"), day(issued)),
            (_("Order"), formatting.number(order.id, locale, grouping=False)),
            (_("Coverage"), f"{day(order.coverage_start)} – {day(order.coverage_end)}"),
            (
                _("Price list"),
                _(
                    "%(catalog)s, version %(version)s",
                    catalog=text(catalog.name, catalog),
                    version=formatting.number(order.catalog_version, locale, grouping=False),
                ),
            ),
        ]
        if document.kind == "invoice" and document.due_on:
            meta.append((_("Pay by"), day(document.due_on)))
        notes = []
        missing = bank_details_missing(catalog) if document.kind == "invoice" else None
        if missing:
            notes.append(missing)
        if document.kind == "invoice" and document.status == "open":
            # How to pay, and what happens otherwise: only while there is something to pay
            # (a paid, void or expired invoice carries its stamp instead).
            notes.append(
                _("Please state %(number)s as the payment reference.", number=document.number)
            )
            notes.append(
                _(
                    "Unpaid after %(date)s, this invoice expires and the order is cancelled.",
                    date=day(document.due_on),
                )
            )
        elif document.payment_reference:
            notes.append(
                _("Paid by card, payment %(reference)s.", reference=document.payment_reference)
            )
        stamp = None
        if document.status == "paid" and document.paid_at:
            stamp = _("PAID %(date)s", date=day(document.paid_at.astimezone(_zone(catalog)).date()))
        elif document.status == "void":
            stamp = _("VOID: the order was cancelled")
        elif document.status == "expired":
            stamp = _("EXPIRED: unpaid by %(date)s", date=day(document.due_on))
        return PdfDocument(
            title=title,
            direction="rtl" if locale in RIGHT_TO_LEFT else "ltr",
            meta=tuple(meta),
            parties=(
                (_("Supplier"), supplier),
                (_("Bill to"), _bill_to_lines(document)),
            ),
            columns=(_("Description"), _("Amount")),
            rows=tuple(
                (line.label(locale, catalog.locale), money(line.amount))
                for line in orders.order_lines(order)
            ),
            total=(_("Total"), money(orders.order_total(order))),
            after_total=tuple(
                line
                for line in [vat_line(catalog, orders.order_total(order), order.currency, locale)]
                if line is not None
            ),
            in_words=amount_in_words(orders.order_total(order), order.currency, locale),
            notes=tuple(notes),
            stamp=stamp,
            author=supplier[0],
        )


def _zone(catalog: Catalog) -> ZoneInfo:
    return ZoneInfo(catalog.timezone)


def render_document_pdf(document: Document, locale: str) -> bytes:
    return render_pdf(pdf_document(document, locale))


# --- mail ------------------------------------------------------------------------------------


def _mail_locale(user: User) -> str:
    organization = user.organization
    return user.locale or (organization.language if organization else None) or "en"


def invoice_mail(document: Document, user: User) -> Mail:
    """The mail of the invoice ``document`` to ``user``, with its PDF, in their language."""
    locale = _mail_locale(user)
    order = document.order
    with speaking(locale):
        title = order_title(order)
        total = formatting.money(orders.order_total(order), order.currency, locale)
        due = formatting.day(document.due_on, locale)
    return render_mail(
        "invoice",
        locale,
        to=user.email,
        to_name=user.name,
        attachments=(
            (f"{document.number}.pdf", "application/pdf", render_document_pdf(document, locale)),
        ),
        number=document.number,
        title=title,
        total=total,
        due=due,
        link=_order_link(order),
    )


def _order_link(order: Order) -> str:
    return portal_link("billing.order", order_id=order.id)


def reminder_mails(today: date) -> Callable[[DueReminder], list[Mail]]:
    """The mails of a due reminder, one per reader, for :func:`renewals.send_reminders`.

    A reminder says the same to every reader of one language about the same plan,
    end and days left (it names no person), so each such text is rendered once a run.
    """
    texts: dict[tuple, tuple[str, str]] = {}
    link = _account_link()

    def mails(reminder: DueReminder) -> list[Mail]:
        out = []
        for reader in reminder.recipients:
            key = (
                reader.locale,
                reminder.catalog,
                reminder.catalog_version,
                reminder.plan,
                reminder.last_day,
                reminder.days_left,
            )
            if key not in texts:
                mail = _reminder_mail(reminder, reader.locale, link)
                texts[key] = (mail.subject, mail.text)
            subject, text_ = texts[key]
            out.append(
                Mail(
                    to=reader.email,
                    to_name=reader.name,
                    subject=subject,
                    text=text_,
                    language=reader.locale,
                    template="renewal_reminder",
                )
            )
        return out

    return mails


def _reminder_mail(reminder: DueReminder, locale: str, link: str) -> Mail:
    with speaking(locale):
        plan = plan_name(reminder.catalog, reminder.catalog_version, reminder.plan)
        end = formatting.day(reminder.last_day, locale)
        renew_by = formatting.day(reminder.last_day + timedelta(days=1), locale)
    return render_mail(
        "renewal_reminder",
        locale,
        to="",
        plan=plan,
        end=end,
        renew_by=renew_by,
        days=reminder.days_left,
        link=link,
    )


def price_notice_mails() -> Callable[[PriceNotice], list[Mail]]:
    """The mails of a renewal price notice, one per reader, for
    :func:`price_notices.send_price_notices`."""
    link = _account_link()

    def mails(notice: PriceNotice) -> list[Mail]:
        out = []
        for reader in notice.recipients:
            with speaking(reader.locale):
                plan = plan_name(notice.catalog, notice.version, notice.plan)
                mail = render_mail(
                    "price_change",
                    reader.locale,
                    to=reader.email,
                    to_name=reader.name,
                    plan=plan,
                    end=formatting.day(notice.last_day, reader.locale),
                    renews_on=formatting.day(notice.renews_on, reader.locale),
                    changes_on=formatting.day(notice.changes_on, reader.locale),
                    old=formatting.money(notice.old_total, notice.currency, reader.locale),
                    new=formatting.money(notice.new_total, notice.currency, reader.locale),
                    scheduled=notice.scheduled,
                    link=link,
                )
            out.append(replace(mail, template="price_change"))
        return out

    return mails


def _account_link() -> str:
    return portal_link("accounts.account")


def portal_link(endpoint: str, **values) -> str:
    """An absolute link for mail: on ``PORTAL_URL``, else on the request's host, else (a
    command run without ``PORTAL_URL``) on the address the README serves the portal at."""
    base = current_app.config.get("PORTAL_URL")
    if base is None and has_request_context():
        return url_for(endpoint, _external=True, **values)
    with current_app.test_request_context(base_url=base or DEFAULT_PORTAL_URL):
        return url_for(endpoint, _external=True, **values)


# --- the account page ------------------------------------------------------------------------


@dataclass(frozen=True)
class Upgrade:
    plan: Plan
    quote: Quote
    proration: Proration


@dataclass(frozen=True)
class RenewalOffer:
    choice: RenewalChoice
    savings: Savings | None

    @property
    def quote(self) -> Quote:
        return self.choice.quote


@dataclass(frozen=True)
class Subscription:
    """A period as the account page shows it, with what it can become."""

    period: SubscriptionPeriod
    catalog: Catalog
    plan: Plan | None
    days_left: int
    current: bool
    quotas: tuple
    renewals: tuple[RenewalOffer, ...] = ()
    continuous_until: date | None = None
    upgrades: tuple[Upgrade, ...] = ()
    downgrades: tuple[Plan, ...] = ()


# Orders and documents on the account page, a page at a time: the newest first.
ACCOUNT_PAGE_SIZE = 10


def account_billing(organization_id: int, catalog: Catalog, today: date, args) -> dict:
    """Subscriptions with their renewal and upgrade offers, and a page of the orders and of
    the documents (``?orders=N``, ``?documents=N``): the same few queries however many."""
    rows = orders.periods(db.session, organization_id)
    latest = orders.latest_of(rows, catalog.code)
    subscriptions = []
    for row in rows:
        if row.last_day < today and row is not latest:
            continue  # past periods stay in the orders and documents below
        subscriptions.append(_subscription(row, catalog, latest, today))
    return {
        "subscriptions": subscriptions,
        "orders": page_of(
            db.session,
            orders.order_list(organization_id),
            ListQuery.from_args(args, page_key="orders"),
            ACCOUNT_PAGE_SIZE,
        ),
        "documents": page_of(
            db.session,
            documents.document_list(organization_id),
            ListQuery.from_args(args, page_key="documents"),
            ACCOUNT_PAGE_SIZE,
        ),
    }


def _subscription(row, catalog: Catalog, latest, today: date) -> Subscription:
    bought_from = catalog_version(db.session, row.catalog, row.order.catalog_version)
    plan = bought_from.plans.get(row.plan)
    period = orders.as_period(row)
    view = Subscription(
        period=row,
        catalog=bought_from,
        plan=plan,
        days_left=period.days_left(today),
        current=period.is_current(today),
        quotas=plan_quotas(bought_from, plan) if plan else (),
    )
    if row is not latest or row.catalog != catalog.code or row.plan not in catalog.plans:
        return view
    options = orders.order_request(catalog, row.order, today)
    renewals = tuple(
        RenewalOffer(choice, savings(catalog, choice.quote))
        for choice in weigh_renewals(catalog, renewal_offers(catalog, period, today, options))
    )
    upgrades, downgrades = [], []
    if view.current:
        for code, other in catalog.plans.items():
            if code == row.plan or not is_orderable(catalog, code):
                continue
            try:
                priced = orders.price_upgrade(catalog, row, code, today)
            except PlanError as refused:
                if refused.code == "not_an_upgrade":
                    downgrades.append(other)
                continue
            upgrades.append(Upgrade(other, priced.quote, priced.proration))
    return replace(
        view,
        renewals=renewals,
        continuous_until=period.renewal_start,
        upgrades=tuple(upgrades),
        downgrades=tuple(downgrades),
    )
