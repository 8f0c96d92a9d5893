"""What the work pages and mails say: durations, titles of orders of time, error messages,
the meter's words, acts as PDF, the report's chart and CSV, and the mails."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import select

from portal import formatting
from portal.billing.pdf import PdfDocument, render_pdf
from portal.billing.presentation import _bill_to_lines, _mail_locale, portal_link
from portal.billing.supplier import amount_in_words, supplier_lines, vat_line
from portal.catalog.services import catalog_version
from portal.catalog.wording import locale_code, number, speaking, term_name, text
from portal.extensions import db
from portal.i18n import LOCALES, RIGHT_TO_LEFT
from portal.mail.services import Mail, render_mail
from portal.models import PAYING_ROLES, Act, Document, Order, Organization, User
from portal.plans import Catalog, Term
from portal.plans.worktime import hours_of
from portal.work import charts
from portal.work.acts import act_document
from portal.work.reports import MonthReport
from portal.work.sessions import BackupPolicy
from portal.work.worklog import WorkError

WORK_ERRORS = {
    "future_day": _l("Work is logged once it is done: the day cannot be in the future."),
    "missing_description": _l("Say what was done."),
    "description_too_long": _l("The text is too long."),
    "settled": _l("This time was charged already; log a correction as a new entry."),
    "consent_required": _l("Tick the box to agree to pay for it."),
    "describe_more": _l("Describe the problem in more detail: at least 30 characters."),
    "missing_phone": _l("Give a phone number the consultant can call."),
    "missing_backup": _l("Attach the backup file."),
    "file_too_large": _l("The file is larger than the %(size)s MB a backup may be."),
    "file_empty": _l("The file is empty: make the backup again and attach it."),
    "backup_not_confirmed": _l("Confirm that you made a fresh backup: the link can drop."),
    "missing_time": _l("Choose a time for the session."),
    "slot_taken": _l("This time was just taken or has passed. Choose one of the free times below."),
    "unknown_service": _l("This session is not offered."),
    "session_closed": _l("This session is closed already."),
    "too_late": _l("It is too late to cancel this session online: call us."),
    "no_time_logged": _l("Log the time spent before closing the session."),
    "recipient_exists": _l("This address gets the report already."),
    "too_many_recipients": _l("The report goes to at most 20 addresses."),
}


def work_error_message(error: WorkError) -> str:
    message = WORK_ERRORS.get(error.code, _l("This cannot be done."))
    if error.code == "file_too_large":
        return str(message) % {"size": number(backup_policy().max_bytes // 2**20)}
    return str(message)


def backup_policy() -> BackupPolicy:
    config = current_app.config
    return BackupPolicy(Path(config["SESSION_FILES_DIR"]), config["SESSION_FILE_MAX_BYTES"])


# --- durations and months --------------------------------------------------------------------


def duration(minutes: int) -> str:
    """``1 h 30 min``, ``20 min``, ``3 h`` in the current language."""
    hours, rest = divmod(int(minutes), 60)
    if hours and rest:
        return _("%(hours)s h %(minutes)s min", hours=number(hours), minutes=number(rest))
    if hours:
        return _("%(hours)s h", hours=number(hours))
    return _("%(minutes)s min", minutes=number(rest))


def hours_number(minutes: int) -> str:
    """Minutes as a number of hours for a meter's words: ``1.5``, ``3``."""
    return number(hours_of(int(minutes)).quantize(Decimal("0.01")).normalize())


def month_name(month: date, locale: str | None = None) -> str:
    """``November 2026`` (``листопад 2026``) in the current language."""
    return formatting.month_year(month, locale or locale_code())


def titles(make) -> dict[str, str]:
    """``make()``'s words in every language, for a title locked into an order."""
    out = {}
    for locale in LOCALES:
        with speaking(locale):
            out[locale] = str(make())
    return out


def extra_time_titles(catalog: Catalog):
    def of_month(month: date) -> dict[str, str]:
        return titles(lambda: _("Extra specialist time, %(month)s", month=month_name(month)))

    return of_month


def hours_titles(hours: int) -> dict[str, str]:
    return titles(
        lambda: ngettext(
            "%(count)s hour bought in advance",
            "%(count)s hours bought in advance",
            hours,
            count=number(hours),
        )
    )


def session_titles(catalog: Catalog, service_code: str, day: date) -> dict[str, str]:
    service = catalog.services[service_code]
    return titles(
        lambda: _(
            "%(service)s, %(day)s",
            service=text(service.name, catalog),
            day=formatting.day(day, locale_code()),
        )
    )


def request_titles(catalog: Catalog, plan_code: str) -> dict[str, str]:
    plan = catalog.plans[plan_code]
    return titles(lambda: _("One-off request: %(plan)s", plan=text(plan.name, catalog)))


# --- mails -----------------------------------------------------------------------------------


def payers(organization_id: int) -> list[User]:
    return list(
        db.session.scalars(
            select(User).where(
                User.organization_id == organization_id,
                User.org_role.in_(PAYING_ROLES),
                User.active.is_(True),
            )
        )
    )


def _payers_by_organization(organization_ids) -> dict[int, list[User]]:
    out: dict[int, list[User]] = {}
    for user in db.session.scalars(
        select(User).where(
            User.organization_id.in_(list(organization_ids)),
            User.org_role.in_(PAYING_ROLES),
            User.active.is_(True),
        )
    ):
        out.setdefault(user.organization_id, []).append(user)
    return out


def order_link(order: Order) -> str:
    return portal_link("billing.order", order_id=order.id)


def extra_time_mails(settled) -> list[Mail]:
    """For the month-end job: a mail to each paying user of the extra time's order."""
    users = _payers_by_organization({s.organization_id for s in settled})
    mails = []
    for result in settled:
        order = result.order
        for user in users.get(result.organization_id, []):
            locale = _mail_locale(user)
            with speaking(locale):
                mails.append(
                    render_mail(
                        "work_extra_time",
                        locale,
                        to=user.email,
                        to_name=user.name,
                        month=month_name(order.coverage_start, locale),
                        hours=duration(result.settlement.extra_minutes),
                        total=formatting.money(order.total, order.currency, locale),
                        invoice=result.invoice.number if result.invoice else None,
                        link=order_link(order),
                    )
                )
    return mails


def session_mails(order: Order, document: Document | None) -> list[Mail]:
    mails = []
    for user in payers(order.organization_id):
        locale = _mail_locale(user)
        with speaking(locale):
            mails.append(
                render_mail(
                    "work_session_done",
                    locale,
                    to=user.email,
                    to_name=user.name,
                    title=order_title_in(order, locale),
                    total=formatting.money(order.total, order.currency, locale),
                    invoice=document.number if document else None,
                    link=order_link(order),
                )
            )
    return mails


def order_title_in(order: Order, locale: str) -> str:
    from portal.billing.orders import time_title

    return time_title(order, locale, order.organization.language) or order.plan


def act_mails(act: Act) -> list[Mail]:
    mails = []
    for user in payers(act.organization_id):
        locale = _mail_locale(user)
        with speaking(locale):
            mails.append(
                render_mail(
                    "work_act",
                    locale,
                    to=user.email,
                    to_name=user.name,
                    attachments=((f"{act.number}.pdf", "application/pdf", act_pdf(act, locale)),),
                    number=act.number,
                    month=month_name(act.month, locale),
                    total=formatting.money(act.total, act.currency, locale),
                    link=portal_link("work.time_page"),
                )
            )
    return mails


def report_mails(report: MonthReport, organization: Organization, addresses: list[str]):
    locale = organization.language or "en"
    catalog = current_catalog_for_mail()
    mails = []
    with speaking(locale):
        attachment = report_csv(report, catalog).encode("utf-8-sig")
        for address in addresses:
            mails.append(
                render_mail(
                    "work_report",
                    locale,
                    to=address,
                    attachments=((f"report-{report.month:%Y-%m}.csv", "text/csv", attachment),),
                    organization=organization.name,
                    month=month_name(report.month, locale),
                    tickets=number(report.figures.tickets),
                    summary=report_summary_lines(report, catalog),
                    link=portal_link("work.report", month=f"{report.month:%Y-%m}"),
                )
            )
    return mails


def current_catalog_for_mail() -> Catalog:
    from portal.catalog.current import current_catalog

    return current_catalog()


# --- the act as PDF --------------------------------------------------------------------------


def act_pdf(act: Act, locale: str) -> bytes:
    return render_pdf(act_pdf_document(act, locale))


def act_rows(act: Act, locale: str, catalog: Catalog) -> list[tuple[str, str]]:
    """The act's services: each order's lines, then the hours worked."""
    document = act_document(act)
    rows = []
    for item in document["orders"]:
        titles_ = item.get("title") or {}
        heading = titles_.get(locale) or titles_.get(catalog.locale)
        if heading is None and item.get("plan") in catalog.plans:
            plan = catalog.plans[item["plan"]]
            heading = text(plan.name, catalog)
            if item.get("term"):
                heading = _(
                    "%(plan)s, %(term)s", plan=heading, term=term_name(Term.parse(item["term"]))
                )
        start, end = (date.fromisoformat(day) for day in item["coverage"])
        period = (
            formatting.day(start, locale)
            if start == end
            else f"{formatting.day(start, locale)} – {formatting.day(end, locale)}"
        )
        for line in item["lines"]:
            if line["kind"] == "vat":
                continue
            label = line["label"].get(locale) or line["label"].get(catalog.locale) or line["code"]
            rows.append(
                (
                    f"{heading} ({period}): {label}" if heading else label,
                    formatting.money(Decimal(line["amount"]), act.currency, locale),
                )
            )
    minutes = document.get("minutes") or {}
    if minutes.get("billable") or minutes.get("not_billed"):
        rows.append(
            (
                _(
                    "Specialist work in %(month)s: %(hours)s",
                    month=month_name(act.month, locale),
                    hours=duration(minutes.get("billable", 0) + minutes.get("not_billed", 0)),
                ),
                "—",
            )
        )
    return rows


def act_pdf_document(act: Act, locale: str) -> PdfDocument:
    catalog = catalog_version(db.session, act.catalog, act.catalog_version)
    with speaking(locale):
        supplier = supplier_lines(catalog)
        issued = act.issued_at.astimezone(ZoneInfo(catalog.timezone)).date()
        return PdfDocument(
            title=_("Act of completed work No. %(number)s", number=act.number),
            direction="rtl" if locale in RIGHT_TO_LEFT else "ltr",
            meta=(
                (_("Date"), formatting.day(issued, locale)),
                (_("Month"), month_name(act.month, locale)),
            ),
            parties=(
                (_("Contractor"), supplier),
                (_("Client"), _bill_to_lines(act)),
            ),
            columns=(_("Services"), _("Amount")),
            rows=tuple(act_rows(act, locale, catalog)),
            total=(_("Total"), formatting.money(act.total, act.currency, locale)),
            after_total=tuple(
                line
                for line in [vat_line(catalog, Decimal(act.total), act.currency, locale)]
                if line is not None
            ),
            in_words=amount_in_words(Decimal(act.total), act.currency, locale),
            notes=(
                _(
                    "The services above were rendered in full and on time; the client has no "
                    "claims as to their scope, quality or timing."
                ),
            ),
            author=supplier[0],
        )


# --- the report ------------------------------------------------------------------------------


def target_label(catalog: Catalog, code: str) -> str:
    target = catalog.sla_targets.get(code)
    return text(target.name, catalog) if target else code


def category_label(catalog: Catalog, code: str) -> str:
    from portal.tickets.presentation import category_label as label

    return label(catalog, code)


def report_summary_lines(report: MonthReport, catalog: Catalog) -> list[str]:
    figures = report.figures
    lines = [
        ngettext(
            "%(count)s ticket", "%(count)s tickets", figures.tickets, count=number(figures.tickets)
        )
    ]
    for target in figures.by_target:
        lines.append(
            _(
                "%(target)s: %(met)s met, %(breached)s breached",
                target=target_label(catalog, target.target),
                met=number(target.met),
                breached=number(target.breached),
            )
        )
    if figures.median_first_response is not None:
        lines.append(
            _(
                "Median first response: %(time)s",
                time=duration(int(figures.median_first_response.total_seconds() // 60)),
            )
        )
    lines.append(
        _(
            "Time: %(used)s of %(included)s included hours used",
            used=hours_number(report.time.included_used),
            included=hours_number(report.time.allowance),
        )
    )
    return lines


def report_csv(report: MonthReport, catalog: Catalog) -> str:
    """The report as CSV: one row per figure (section, item, value)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_("Section"), _("Item"), _("Value")])
    month = f"{report.month:%Y-%m}"
    writer.writerow([_("Month"), "", month])
    writer.writerow([_("Tickets"), _("Opened"), report.figures.tickets])
    for code, count in report.figures.by_category:
        writer.writerow([_("Category"), category_label(catalog, code), count])
    for target in report.figures.by_target:
        name = target_label(catalog, target.target)
        writer.writerow([name, _("Met"), target.met])
        writer.writerow([name, _("Breached"), target.breached])
        writer.writerow([name, _("Running"), target.running])
    median = report.figures.median_first_response
    writer.writerow(
        [
            _("Median first response"),
            _("minutes"),
            "" if median is None else int(median.total_seconds() // 60),
        ]
    )
    writer.writerow([_("Time"), _("Included hours"), hours_of(report.time.allowance)])
    writer.writerow([_("Time"), _("Billable hours"), hours_of(report.time.billable)])
    writer.writerow([_("Time"), _("Beyond the included hours"), hours_of(report.time.beyond)])
    writer.writerow([_("Time"), _("Not billed"), hours_of(report.time.not_billed)])
    return out.getvalue()


def report_chart(report: MonthReport, catalog: Catalog) -> str:
    """Met, breached and running per target as a stacked bar chart, SVG without script."""
    targets = report.figures.by_target
    return charts.stacked_bars(
        [target_label(catalog, t.target) for t in targets],
        [
            (_("Met"), [t.met for t in targets]),
            (_("Breached"), [t.breached for t in targets]),
            (_("Running"), [t.running for t in targets]),
        ],
    )
