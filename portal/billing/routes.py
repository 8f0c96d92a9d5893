"""Orders, payment and documents for clients; invoices for staff; Stripe's webhook.

Thin views: read the request, call the use cases (:mod:`portal.billing.orders`,
:mod:`~portal.billing.invoices`, :mod:`~portal.billing.card`), render.
An organization's orders and documents are found through the signed-in
user's own organization, so asking for another's gives 404.
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from flask import (
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import OperationalError

from portal.accounts.access import sign_in_first, staff_required
from portal.audit import Actor
from portal.billing import bp, card, documents, invoices, orders
from portal.billing.gateway import BadSignature, PaymentUnavailable, StripeGateway
from portal.billing.presentation import (
    billing_error_message,
    card_payment_available,
    document_kind,
    document_state,
    gateway,
    invoice_mail,
    labels_for,
    not_a_payer_message,
    order_description,
    order_state,
    order_title,
    portal_link,
    render_document_pdf,
    upgrade_label,
)
from portal.billing.supplier import bank_details_missing, legal_name, payee_lines
from portal.catalog.current import current_catalog
from portal.catalog.services import catalog_version
from portal.catalog.wording import error_message, locale_code
from portal.clock import now, today_in
from portal.extensions import csrf, db, htmx
from portal.listing import ListQuery, page_of
from portal.plans import PlanError, savings

log = logging.getLogger(__name__)


def _private(response):
    response = make_response(response)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _client_organization_id() -> int:
    """The signed-in client's organization; anyone signed out is sent to sign in."""
    if not current_user.is_authenticated:
        abort(sign_in_first())
    if current_user.organization_id is None:
        abort(404)
    return current_user.organization_id


def _viewer_scope() -> int | None:
    """Whose orders the signed-in user may see: their organization's, or all for staff."""
    if not current_user.is_authenticated:
        abort(sign_in_first())
    if current_user.is_staff:
        return None
    if current_user.organization_id is None:
        abort(404)
    return current_user.organization_id


def _order_or_404(order_id: int):
    order = orders.organization_order(db.session, _viewer_scope(), order_id)
    if order is None:
        abort(404)
    return order


def _client_order_or_404(order_id: int):
    order = orders.organization_order(db.session, _client_organization_id(), order_id)
    if order is None:
        abort(404)
    return order


def _payers_only() -> None:
    """Orders, payments and cancellations are the owner's and billing members' (403 for the
    other members, who see the orders and documents)."""
    if not current_user.pays:
        abort(403, not_a_payer_message())


def _payer_order_or_404(order_id: int):
    order = _client_order_or_404(order_id)
    _payers_only()
    return order


# --- the order summary: the quote about to be locked ------------------------------------------


def _order_params() -> dict[str, str]:
    source = request.form if request.method == "POST" else request.args
    return {k: v for k, v in source.items() if k not in ("csrf_token", "seen_total")}


def _summary(priced, params, status=200, notice=None, waiting=None):
    catalog = current_catalog()
    html = render_template(
        "billing/new_order.html",
        catalog=catalog,
        priced=priced,
        saved=savings(catalog, priced.quote) if priced.proration is None else None,
        organization=current_user.organization,
        invoiceable=invoices.can_be_invoiced(current_user.organization),
        renewal_callback_url=_renewal_callback_url(priced, params),
        params=params,
        notice=notice,
        waiting=waiting,
        comparison_url=url_for(
            "catalog.comparison", **{k: v for k, v in params.items() if k not in ("plan", "start")}
        ),
    )
    return _private(make_response(html, status))


def _renewal_callback_url(priced, params: dict[str, str]) -> str | None:
    """For a renewal the client declared: a call-back about it, with what they chose."""
    if priced.declared_end is None:
        return None
    choice = {k: v for k, v in params.items() if k not in ("plan", "declared_end")}
    choice.update(renewal="1", previous_end=priced.declared_end.isoformat())
    return url_for(
        "callbacks.form", plan=priced.quote.code, kind="callback", options=urlencode(choice)
    )


def _refused(error: PlanError, params: dict[str, str]):
    html = render_template(
        "billing/order_refused.html",
        message=error_message(error),
        comparison_url=url_for(
            "catalog.comparison",
            **{
                k: v
                for k, v in params.items()
                if k in ("term", "billing", "licence_value") or k.startswith("qty.")
            },
        ),
    )
    return _private(make_response(html, 400))


def _price(params: dict[str, str], organization_id: int):
    catalog = current_catalog()
    today = today_in(catalog.timezone)
    if params.get("upgrade"):
        period = orders.latest_period(db.session, organization_id, catalog.code)
        if period is None:
            raise PlanError("no_period", "There is no period to upgrade", "plan")
        return orders.price_upgrade(catalog, period, params.get("plan", ""), today)
    previous = orders.latest_period(db.session, organization_id, catalog.code)
    return orders.price_order(catalog, params, previous, today)


@bp.get("/orders/new")
def new_order():
    """The order summary for the plan, term and options chosen on the comparison page."""
    if current_user.is_authenticated and current_user.is_staff:
        abort(403, _("Orders are placed by a client's users; you are signed in as staff."))
    organization_id = _client_organization_id()
    params = _order_params()
    try:
        priced = _price(params, organization_id)
    except PlanError as error:
        return _refused(error, params)
    waiting = orders.pending_order(db.session, organization_id, priced.quote.catalog)
    return _summary(priced, params, waiting=waiting)


@bp.post("/orders")
def place_order():
    """Lock the quote into an order, unless its price changed since the summary was shown."""
    organization_id = _client_organization_id()
    _payers_only()
    params = _order_params()
    try:
        priced = _price(params, organization_id)
    except PlanError as error:
        return _refused(error, params)
    # A new catalog version that leaves this total as it was changes nothing for the client.
    if request.form.get("seen_total", "") != str(priced.quote.total):
        return _summary(
            priced,
            params,
            409,
            notice=_(
                "The prices changed since you opened this page. Check the new total and "
                "confirm again."
            ),
        )
    try:
        order = orders.place_order(
            db.session,
            priced,
            organization_id=organization_id,
            user_id=current_user.id,
            labels=labels_for(current_catalog(), priced.proration),
            now=now(),
        )
    except orders.BillingError as error:
        return _summary(
            priced, params, 409, notice=billing_error_message(error), waiting=error.order
        )
    return redirect(url_for("billing.order", order_id=order.id), 303)


# --- one order: its state, payment and documents ---------------------------------------------


def _order_page(order, status=200):
    its_documents = documents.order_documents(db.session, order)
    order_catalog = _catalog_of(order)
    html = render_template(
        "billing/order.html",
        order=order,
        lines=orders.order_lines(order),
        total=orders.order_total(order),
        proration=orders.order_proration(order),
        documents=its_documents,
        card=card_payment_available(order),
        staff_view=current_user.is_staff,
        catalog=current_catalog(),
        order_catalog=order_catalog,
        invoiceable=invoices.can_be_invoiced(order.organization),
        payment_details_missing=bank_details_missing(order_catalog),
        bank_lines=payee_lines(order_catalog),
        supplier=legal_name(order_catalog),
    )
    return _private(make_response(html, status))


@bp.get("/orders/<id:order_id>")
def order(order_id: int):
    return _order_page(_order_or_404(order_id))


@bp.get("/orders/<id:order_id>/status")
def order_status(order_id: int):
    """The order's state alone: polled by htmx on the page Stripe returns the client to."""
    found = _order_or_404(order_id)
    html = render_template("billing/_order_status.html", order=found)
    return _private(make_response(html))


@bp.post("/orders/<id:order_id>/cancel")
def cancel_order(order_id: int):
    """Cancel an order awaiting payment; one sent to card checkout is closed at Stripe first."""
    found = _payer_order_or_404(order_id)
    try:
        if found.stripe_session_id and found.is_open:
            card.close_checkout(db.session, gateway(), found)
        orders.cancel_order(db.session, found, now())
    except orders.BillingError as error:
        flash(billing_error_message(error))
        return _order_page(found, 409)
    except PaymentUnavailable:
        log.exception("Stripe could not close the checkout of order %s", found.id)
        flash(_("The card payment cannot be closed just now. Try again in a few minutes."))
        return _order_page(found, 503)
    flash(_("The order is cancelled."))
    return redirect(url_for("billing.order", order_id=found.id), 303)


@bp.post("/orders/<id:order_id>/invoice")
def bank_transfer(order_id: int):
    """Pay by bank transfer: issue the invoice and mail it to the person who asked."""
    found = _payer_order_or_404(order_id)
    catalog = current_catalog()
    if "bank-transfer" not in _catalog_of(found).payment_methods:
        abort(404)
    try:
        document, issued = invoices.issue_invoice(
            db.session,
            found,
            today=today_in(catalog.timezone),
            due_days=current_app.config["INVOICE_DUE_DAYS"],
            now=now(),
            mail=lambda document: invoice_mail(document, current_user),
            outbox=current_app.extensions["outbox"],
        )
    except orders.BillingError as error:
        flash(billing_error_message(error))
        return _order_page(found, 409)
    if issued:
        flash(
            _(
                "Invoice %(number)s is issued; it is on its way to %(email)s.",
                number=document.number,
                email=current_user.email,
            )
        )
    # A second click, or a reload: the invoice stands, mailed once already.
    return redirect(url_for("billing.order", order_id=found.id), 303)


@bp.post("/orders/<id:order_id>/card")
def card_payment(order_id: int):
    """Pay by card: to Stripe Checkout, with a session created once for the order."""
    found = _payer_order_or_404(order_id)
    if not card_payment_available(found):
        abort(404)
    params = card.checkout_params(
        found,
        description=order_description(found),
        email=current_user.email,
        success_url=portal_link("billing.card_return", order_id=found.id)
        + "?session_id={CHECKOUT_SESSION_ID}",
        cancel_url=portal_link("billing.card_cancelled", order_id=found.id),
        locale=locale_code(),
    )
    try:
        checkout = card.start_card_payment(db.session, gateway(), found, params)
    except orders.BillingError as error:
        flash(billing_error_message(error))
        return _order_page(found, 409)
    except PaymentUnavailable:
        log.exception("Stripe refused a checkout for order %s", found.id)
        flash(
            _(
                "Card payment is not available just now. Try again in a few minutes, or pay "
                "by bank transfer."
            )
        )
        return _order_page(found, 503)
    if htmx:
        response = make_response("", 200)
        response.headers["HX-Redirect"] = checkout.url
        return response
    return redirect(checkout.url, 303)


@bp.get("/orders/<id:order_id>/paid")
def card_return(order_id: int):
    """Where Stripe sends the client back: the period starts when the webhook confirms."""
    found = _client_order_or_404(order_id)
    return _order_page(found)


@bp.get("/orders/<id:order_id>/checkout-cancelled")
def card_cancelled(order_id: int):
    found = _client_order_or_404(order_id)
    if found.is_open:
        flash(_("The card payment was not completed. You can try again or pay by bank transfer."))
    return redirect(url_for("billing.order", order_id=found.id), 303)


def _catalog_of(found):
    return catalog_version(db.session, found.catalog, found.catalog_version)


# --- documents -------------------------------------------------------------------------------


@bp.get("/documents/<id:document_id>.pdf")
def document_pdf(document_id: int):
    """An invoice or a receipt as PDF, in the language of the person asking: downloaded as
    ``INV-000001.pdf``, or opened in the browser with ``?open=1``."""
    document = documents.organization_document(db.session, _viewer_scope(), document_id)
    if document is None:
        abort(404)
    response = make_response(render_document_pdf(document, locale_code()))
    response.headers["Content-Type"] = "application/pdf"
    disposition = "inline" if request.args.get("open") == "1" else "attachment"
    response.headers["Content-Disposition"] = f'{disposition}; filename="{document.number}.pdf"'
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


# --- staff: invoices awaiting a bank transfer ------------------------------------------------


@bp.get("/staff/invoices")
@staff_required
def staff_invoices():
    """Invoices awaiting a bank transfer (or paid), a page at a time; searched by number,
    payer and tax number."""
    catalog = current_catalog()
    asked = ListQuery.from_args(request.args, {"status": invoices.INVOICE_STATES})
    html = render_template(
        "billing/staff_invoices.html",
        page=page_of(
            db.session, invoices.invoice_list(asked.filters["status"], asked.search), asked
        ),
        today=today_in(catalog.timezone),
        details_missing=catalog.provider is None or catalog.provider.bank is None,
    )
    return _private(make_response(html))


@bp.post("/staff/invoices/<id:document_id>/paid")
@staff_required
def mark_paid(document_id: int):
    current_catalog()
    try:
        document = invoices.mark_invoice_paid(
            db.session,
            document_id,
            staff_user_id=current_user.id,
            now=now(),
            actor=Actor(current_user.id, current_user.email),
        )
    except orders.BillingError as error:
        if error.code == "no_such_invoice":
            abort(404)
        flash(billing_error_message(error))
        return redirect(url_for("billing.staff_invoices"), 303)
    flash(_("Invoice %(number)s is paid; the period starts.", number=document.number))
    return redirect(url_for("billing.staff_invoices"), 303)


@bp.post("/staff/orders/<id:order_id>/refund")
@staff_required
def record_refund(order_id: int):
    found = orders.organization_order(db.session, None, order_id)
    if found is None:
        abort(404)
    try:
        orders.record_refund(
            db.session,
            found,
            today=today_in(current_catalog().timezone),
            now=now(),
            actor=Actor(current_user.id, current_user.email),
        )
    except orders.BillingError as error:
        flash(billing_error_message(error))
        return _order_page(found, 409)
    flash(_("The refund is recorded and the period ended."))
    return redirect(url_for("billing.order", order_id=found.id), 303)


# --- Stripe's webhook ------------------------------------------------------------------------


@bp.post("/billing/stripe/webhook")
@csrf.exempt
def stripe_webhook():
    """Verify the signature on the raw body, record the event once, then act on the session
    as Stripe has it now. 400 for a bad signature; 503 (Stripe retries) if Stripe cannot be
    asked back; 200 otherwise, quickly."""
    secret = current_app.config.get("STRIPE_WEBHOOK_SECRET")
    if not secret or not current_app.config.get("STRIPE_SECRET_KEY"):
        abort(404)
    payload = request.get_data(cache=False)
    try:
        event = StripeGateway.verify_event(payload, request.headers.get("Stripe-Signature"), secret)
    except BadSignature:
        return {"error": {"code": "bad_signature", "message": "Signature verification failed"}}, 400
    try:
        outcome = card.handle_event(db.session, gateway(), event, now())
    except PaymentUnavailable:
        log.exception("Stripe could not be asked about event %s", event.id)
        return {"error": {"code": "stripe_unavailable", "message": "Try again later"}}, 503
    except OperationalError:
        # A deadlock or a lock that waited too long: nothing was recorded, Stripe sends it again.
        log.exception("event %s not recorded: the database was busy", event.id)
        return {"error": {"code": "database_busy", "message": "Try again later"}}, 503
    log.info("Stripe event %s %s: %s", event.id, event.type, outcome)
    return {"received": True, "outcome": outcome}, 200


@bp.app_context_processor
def billing_helpers() -> dict:
    """Words for orders and documents, for billing's pages and the account page."""
    return {
        "order_state": order_state,
        "order_title": order_title,
        "document_state": document_state,
        "document_kind": document_kind,
        "upgrade_label": upgrade_label,
        "not_a_payer_message": not_a_payer_message,
    }
