"""Sign in and out; client registration, confirmation, password resets, the account page and
personal API tokens."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from portal.accounts import bp, services, tokens
from portal.accounts.access import client_required, sign_in_first, staff_required
from portal.accounts.client_file import client_file
from portal.accounts.forms import (
    ROLE_NAMES,
    AcceptInvitationForm,
    ApiTokenForm,
    EmailForm,
    InvitationForm,
    LoginForm,
    MemberRoleForm,
    NewPasswordForm,
    OrganizationForm,
    RegistrationForm,
)
from portal.api import auth as api_tokens
from portal.billing.presentation import account_billing
from portal.catalog.current import current_catalog
from portal.catalog.wording import locale_code, speaking, text
from portal.clock import now, today_in
from portal.converters import local_path
from portal.extensions import db, give_back_hit, limiter
from portal.i18n import LANGUAGE_NAMES, LOCALES, chosen_locale
from portal.listing import ListQuery, page_of
from portal.mail.services import FileMailer
from portal.models import Invitation, Organization, User
from portal.tickets.presentation import STAFF_STATUS_LABELS

# Guessing passwords from one address stops after this many tries.
LOGIN_ATTEMPTS = "10 per minute"


def _too_many_attempts() -> str:
    return _("Too many sign-in attempts from your address. Wait a minute and try again.")


def unconfirmed_message() -> str:
    return _(
        "Your e-mail address is not confirmed yet. Open the link in the mail we sent you, "
        "or ask for a new link."
    )


def catalog_country(catalog) -> str | None:
    """The provider's country (``UA``), whose zones the time-zone list offers first."""
    return catalog.provider.country if catalog.provider else None


def home_url() -> str:
    """The comparison page, the portal's front door."""
    return request.script_root + "/"


def landing_url(user) -> str:
    return url_for("callbacks.staff_list") if user.is_staff else home_url()


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(LOGIN_ATTEMPTS, methods=["POST"], error_message=_too_many_attempts)
def login():
    current_catalog()  # the page speaks the catalog's language unless the user chose one
    form = LoginForm()
    next_path = local_path(form.next.data if form.is_submitted() else request.args.get("next"))
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(next_path or landing_url(current_user), 303)
        form.next.data = next_path
        ordering = _ordering(next_path)
        if ordering:
            session.pop("_flashes", None)  # "sign in to see this page": the order notice says more
        return render_template("accounts/login.html", form=form, ordering=ordering)
    if not form.validate():
        return render_template("accounts/login.html", form=form), 422
    user = services.authenticate(db.session, form.email.data, form.password.data)
    if user is None:
        # One message for an unknown address and a wrong password: never say which.
        return render_template(
            "accounts/login.html", form=form, failed=_("Wrong e-mail or password.")
        ), 401
    if services.awaits_confirmation(user):
        # Said only to whoever knows the password: it tells nothing to a guesser.
        return render_template(
            "accounts/login.html",
            form=form,
            failed=unconfirmed_message(),
            resend_email=user.email,
        ), 403
    login_user(user)
    return redirect(next_path or landing_url(user), 303)


def _ordering(next_path: str | None) -> bool:
    """Whether signing in continues an order chosen on the comparison page."""
    return bool(next_path) and urlsplit(next_path).path == url_for("billing.new_order")


@bp.post("/logout")
def logout():
    """Sign out, on the server too: the session, and any copy of its cookie, stops working
    (with the account's sessions in other browsers)."""
    if current_user.is_authenticated:
        services.sign_out_everywhere(db.session, current_user)
    logout_user()
    flash(_("You are signed out."))
    return redirect(home_url(), 303)


# --- client registration and links sent by mail ------------------------------------------------

# Each of these sends mail: a few per hour from one address is plenty for a person. A form
# sent back with a mistake gives its count back; an address already taken keeps it (else
# the form would tell, without limit, which addresses have accounts).
REGISTRATIONS = "10 per hour"
MAIL_REQUESTS = "5 per hour"
INVITATIONS = "30 per hour"


def too_many_requests() -> str:
    """The 429 message of a form that sends mail or takes requests."""
    return _("Too many requests from your address. Wait an hour and try again.")


def mail_url(endpoint: str, **values) -> str:
    """An absolute link for a mail: on ``PORTAL_URL`` when set, else on this request's host."""
    base = current_app.config.get("PORTAL_URL")
    if base:
        return base + url_for(endpoint, **values)
    return url_for(endpoint, _external=True, **values)


def _max_age(purpose: str) -> int:
    return current_app.config["TOKEN_MAX_AGE_SECONDS"][purpose]


def _outbox():
    return current_app.extensions["outbox"]


def _confirmation(next_path: str | None = None):
    """The confirmation mail of a user, its link leading on to ``next_path`` (a path on this
    site: the order the person was choosing when they registered)."""

    def mail(user: User):
        link = mail_url(
            "accounts.confirm_email",
            token=tokens.issue(current_app.secret_key, "confirm", user, now()),
            next=next_path or None,
        )
        return services.confirmation_mail(
            user, link=link, max_age=_max_age("confirm"), fallback_locale=current_catalog().locale
        )

    return mail


def _password_reset(user: User):
    link = mail_url(
        "accounts.reset_password", token=tokens.issue(current_app.secret_key, "reset", user, now())
    )
    return services.password_reset_mail(
        user, link=link, max_age=_max_age("reset"), fallback_locale=current_catalog().locale
    )


def _user_of(purpose: str, token: str) -> User:
    """The account a ``purpose`` link is for; raises :class:`tokens.TokenRejected`."""
    claim = tokens.read(current_app.secret_key, purpose, token, _max_age(purpose), now())
    return tokens.check(claim, db.session.get(User, claim.user_id), purpose)


def _private(response):
    """Pages whose address carries a token: never sent on as a referrer, never cached."""
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


def _link_rejected(purpose: str, rejected: tokens.TokenRejected):
    """A 400 page saying why the link does not work, with the form to get a new one.

    When the link names an account (expired or used), the page speaks that
    account's language unless the address asks for another (``?lang=``).
    """
    user = db.session.get(User, rejected.user_id) if rejected.user_id else None
    locale = None
    if user is not None and request.args.get("lang") not in LOCALES:
        locale = services.mail_locale(user, current_catalog().locale)
    with speaking(locale):
        reasons = {
            "expired": _("This link has expired."),
            "used": _("This link has been used already."),
            "invalid": _("This link does not work: it may have been cut short when copied."),
        }
        html = render_template(
            "accounts/link_rejected.html",
            purpose=purpose,
            reason=rejected.reason,
            message=reasons[rejected.reason],
            form=EmailForm(formdata=None),
        )
    return _private(make_response(html, 400))


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(REGISTRATIONS, methods=["POST"], error_message=too_many_requests)
def register():
    """A new organization and its owner; the owner confirms their address by mail."""
    catalog = current_catalog()
    if current_user.is_authenticated and request.method == "GET":
        return redirect(landing_url(current_user), 303)
    form = RegistrationForm()
    form.setup_choices(catalog.timezone, catalog_country(catalog), [], now())
    if request.method == "GET":
        form.language.data = locale_code()
        form.timezone.data = catalog.timezone
        form.next.data = local_path(request.args.get("next"))
        return _registration_page(form)
    form.next.data = local_path(form.next.data)
    if not form.validate():
        give_back_hit()
        return _registration_page(form), 422
    try:
        user = services.register(
            db.session, form.registration(), now(), _confirmation(form.next.data), _outbox()
        )
    except services.EmailTaken:
        form.email.errors.append(_email_taken())
        return _registration_page(form), 422
    except services.AccountError as error:
        _misc_error(form, error)
        return _registration_page(form), 422
    session["registered"] = {"email": user.email}
    return redirect(url_for("accounts.registered"), 303)


def _registration_page(form) -> str:
    return render_template("accounts/register.html", form=form, ordering=_ordering(form.next.data))


def _email_taken() -> str:
    # The same whether the account is confirmed or not: say only what the person can do.
    return _(
        "This e-mail address already has an account. Sign in, or reset the password "
        "if you forgot it."
    )


def _misc_error(form, error: services.AccountError) -> None:
    """A rule the form's own checks missed (they mirror the service's): beside its field."""
    field = getattr(form, error.field, None) or form.email
    field.errors.append(_("This value cannot be accepted. Check it and send the form again."))


@bp.get("/register/sent")
def registered():
    """Check your inbox: after a registration, in the same browser session."""
    current_catalog()
    registered_ = session.get("registered")
    if not registered_:
        return redirect(url_for("accounts.register"), 303)
    return render_template(
        "accounts/registered.html",
        email=registered_["email"],
        duration=_duration(_max_age("confirm")),
        outbox_only=isinstance(current_app.extensions["mailer"], FileMailer),
    )


def _duration(seconds: int) -> str:
    return services.duration(seconds, locale_code())


@bp.get("/confirm/<token>")
def confirm_email(token: str):
    """Follow the confirmation link: the address is confirmed and the owner signed in."""
    current_catalog()
    try:
        user = _user_of("confirm", token)
    except tokens.TokenRejected as rejected:
        return _link_rejected("confirm", rejected)
    services.confirm_email(db.session, user, now())
    session.pop("registered", None)
    if current_user.is_authenticated and current_user.id != user.id:
        # Someone else's browser (staff opening the mail from the outbox, say): the address
        # is confirmed, and whoever is signed in here stays signed in.
        flash(_("%(email)s is confirmed: its owner can sign in now.", email=user.email))
        return _private(redirect(landing_url(current_user), 303))
    login_user(user)
    flash(_("Your e-mail address is confirmed. Welcome!"))
    return _private(
        redirect(local_path(request.args.get("next")) or url_for("accounts.account"), 303)
    )


@bp.route("/confirm/resend", methods=["GET", "POST"])
@limiter.limit(MAIL_REQUESTS, methods=["POST"], error_message=too_many_requests)
def resend_confirmation():
    """A new confirmation link; the answer is the same whatever the address."""
    current_catalog()
    form = EmailForm()
    if request.method == "GET":
        return render_template("accounts/resend.html", form=form)
    if not form.validate():
        give_back_hit()
        return render_template("accounts/resend.html", form=form), 422
    user = services.unconfirmed_user(db.session, form.email.data)
    if user is not None:
        services.send_mail(db.session, _outbox(), _confirmation()(user), now())
    return render_template("accounts/resend.html", form=form, sent=True)


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(MAIL_REQUESTS, methods=["POST"], error_message=too_many_requests)
def forgot_password():
    """A link to choose a new password; the answer is the same whatever the address."""
    current_catalog()
    form = EmailForm()
    if request.method == "GET":
        return render_template("accounts/forgot.html", form=form)
    if not form.validate():
        give_back_hit()
        return render_template("accounts/forgot.html", form=form), 422
    user = services.active_user_by_email(db.session, form.email.data)
    if user is not None:
        services.send_mail(db.session, _outbox(), _password_reset(user), now())
    return render_template(
        "accounts/forgot.html", form=form, sent=True, duration=_duration(_max_age("reset"))
    )


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    """Choose a new password; the link works once."""
    current_catalog()
    try:
        user = _user_of("reset", token)
    except tokens.TokenRejected as rejected:
        return _link_rejected("reset", rejected)
    form = NewPasswordForm()
    if request.method == "GET":
        return _private(make_response(render_template("accounts/reset.html", form=form)))
    if not form.validate():
        return _private(make_response(render_template("accounts/reset.html", form=form), 422))
    services.reset_password(db.session, user, form.password.data, now())
    # Every session signed in with the old password has ended (User.get_id); this one too.
    logout_user()
    flash(_("Your password is changed. Sign in with it."))
    return _private(redirect(url_for("accounts.login"), 303))


# --- the account: the organization, its members and invitations --------------------------------


def _account_page(status: int = 200, profile_form=None, invitation_form=None):
    organization = current_user.organization
    if profile_form is None:
        profile_form = OrganizationForm(formdata=None, obj=organization)
        catalog = current_catalog()
        profile_form.setup_choices(
            catalog.timezone, catalog_country(catalog), [organization.timezone], now()
        )
    if invitation_form is None:
        invitation_form = InvitationForm(formdata=None)
    owner = current_user.is_owner
    today = today_in(current_catalog().timezone)
    html = render_template(
        "accounts/account.html",
        organization=organization,
        members=services.members(db.session, organization.id),
        invitations=(
            services.pending_invitations(db.session, organization.id, now()) if owner else []
        ),
        owner=owner,
        profile_form=profile_form,
        invitation_form=invitation_form,
        language_label=dict(LANGUAGE_NAMES).get(organization.language, organization.language),
        role_names=ROLE_NAMES,
        role_form=MemberRoleForm(formdata=None) if owner else None,
        billing=account_billing(organization.id, current_catalog(), today, request.args),
        today=today,
    )
    response = make_response(html, status)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/account")
@client_required
def account():
    """The organization's profile (the owner edits it), its members and pending invitations."""
    current_catalog()
    return _account_page()


@bp.get("/account/organization")
@bp.get("/account/invitations")
@client_required
def account_form_again():
    """The address a refused form was sent to, opened again (a reload): the account page."""
    return redirect(url_for("accounts.account"), 303)


@bp.post("/account/organization")
@client_required
def update_organization():
    current_catalog()
    if not current_user.is_owner:
        abort(403, _("Only the organization's owner can change this."))
    organization = current_user.organization
    form = OrganizationForm()
    catalog = current_catalog()
    form.setup_choices(catalog.timezone, catalog_country(catalog), [organization.timezone], now())
    if not form.validate():
        return _account_page(422, profile_form=form)
    try:
        services.update_organization(db.session, organization, form.profile())
    except services.AccountError as error:
        _misc_error(form, error)
        return _account_page(422, profile_form=form)
    flash(_("The organization's details are saved."))
    return redirect(url_for("accounts.account"), 303)


@bp.post("/account/invitations")
@client_required
@limiter.limit(INVITATIONS, error_message=too_many_requests)
def invite():
    """Invite a new address to join as a member: a mail with a link that works once."""
    current_catalog()
    if not current_user.is_owner:
        abort(403, _("Only the organization's owner can change this."))
    form = InvitationForm()
    if not form.validate():
        give_back_hit()
        return _account_page(422, invitation_form=form)
    max_age = _max_age("invitation")

    def mail(invitation: Invitation, token: str):
        link = mail_url("accounts.invitation", token=token)
        return services.invitation_mail(invitation, link=link, max_age=max_age)

    try:
        invitation, _token = services.invite(
            db.session,
            current_user,
            form.email.data,
            now(),
            max_age,
            mail,
            _outbox(),
            role=form.role.data,
        )
    except services.EmailTaken:
        form.email.errors.append(
            _(
                "This address already has an account in the portal. Invitations are for "
                "new accounts: invite another address, or ask us to move the account."
            )
        )
        return _account_page(422, invitation_form=form)
    except services.AccountError as error:
        _misc_error(form, error)
        return _account_page(422, invitation_form=form)
    flash(_("The invitation to %(email)s is on its way.", email=invitation.email))
    return redirect(url_for("accounts.account"), 303)


@bp.post("/account/members/<id:member_id>/remove")
@client_required
def remove_member(member_id: int):
    """The owner removes a member of their organization (not themselves)."""
    current_catalog()
    if not current_user.is_owner:
        abort(403, _("Only the organization's owner can change this."))
    try:
        removed = services.remove_member(db.session, current_user, member_id)
    except services.AccountError:
        abort(400, _("You own the organization: you cannot remove yourself."))
    if removed is None:
        abort(404)
    flash(_("%(name)s no longer belongs to the organization.", name=removed.name))
    return redirect(url_for("accounts.account"), 303)


@bp.post("/account/members/<id:member_id>/role")
@client_required
def member_role(member_id: int):
    """The owner makes a member a billing member, or a plain member again."""
    current_catalog()
    if not current_user.is_owner:
        abort(403, _("Only the organization's owner can change this."))
    form = MemberRoleForm()
    if not form.validate():
        abort(400, _("Choose one of the roles."))
    changed = services.set_member_role(db.session, current_user, member_id, form.role.data)
    if changed is None:
        abort(404)
    # Whole sentences: a role's name inside another sentence takes another case in Russian,
    # Ukrainian and Kazakh.
    if changed.org_role == "billing":
        flash(_("%(name)s can now order, pay and cancel orders.", name=changed.name))
    else:
        flash(
            _(
                "%(name)s no longer orders or pays, and still sees the account, orders and "
                "documents.",
                name=changed.name,
            )
        )
    return redirect(url_for("accounts.account") + "#members-heading", 303)


@bp.route("/invitations/<token>", methods=["GET", "POST"])
def invitation(token: str):
    """Join an organization: the invitee chooses a name and a password, then is signed in."""
    catalog = current_catalog()
    found = services.open_invitation(db.session, token, now())
    if found is None:
        html = render_template("accounts/invitation_rejected.html")
        return _private(make_response(html, 400))
    # The page speaks the language the invitation was mailed in, unless the visitor chose one.
    if found.organization is not None:
        mailed_in = found.organization.language
    else:  # a staff invitation was mailed in its admin's language
        mailed_in = (found.invited_by.locale if found.invited_by else None) or catalog.locale
    with speaking(None if chosen_locale() else mailed_in):
        return _accept_invitation(found)


def _accept_invitation(found: Invitation):
    form = AcceptInvitationForm()
    if request.method == "GET":
        return _private(make_response(_invitation_page(found, form)))
    if not form.validate():
        return _private(make_response(_invitation_page(found, form), 422))
    try:
        member = services.accept_invitation(
            db.session,
            found,
            name=form.name.data,
            password=form.password.data,
            locale=locale_code(),
            now=now(),
        )
    except services.EmailTaken:
        html = _invitation_page(found, form, failed=_email_taken())
        return _private(make_response(html, 409))
    except services.AccountError as error:
        _misc_error(form, error)
        return _private(make_response(_invitation_page(found, form), 422))
    logout_user()
    login_user(member)
    flash(_("Welcome to %(organization)s.", organization=_joined(found)))
    home = "accounts.account" if member.organization_id else "tickets.queue"
    return _private(redirect(url_for(home), 303))


def _joined(found: Invitation) -> str:
    """What the invitation joins: the organization, or the provider's staff (its brand)."""
    if found.organization is not None:
        return found.organization.name
    catalog = current_catalog()
    return text(catalog.brand, catalog)


def _invitation_page(found: Invitation, form, failed: str | None = None) -> str:
    return render_template(
        "accounts/invitation.html",
        invitation=found,
        organization=_joined(found),
        form=form,
        failed=failed,
        inviter=found.invited_by.name if found.invited_by else None,
    )


# --- personal API tokens ---------------------------------------------------------------------


def _token_reader_zone(catalog) -> str:
    """Clients read times in their organization's zone; staff in the provider's."""
    organization = current_user.organization
    return organization.timezone if organization is not None else catalog.timezone


def _tokens_page(form=None, status: int = 200):
    catalog = current_catalog()
    html = render_template(
        "accounts/tokens.html",
        tokens=api_tokens.user_tokens(db.session, current_user.id),
        form=form or ApiTokenForm(formdata=None),
        zone=_token_reader_zone(catalog),
    )
    response = make_response(html, status)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/account/tokens")
def api_token_list():
    """The signed-in user's API tokens (staff's too), and the form to make one."""
    if not current_user.is_authenticated:
        return sign_in_first()
    return _tokens_page()


@bp.post("/account/tokens")
def create_api_token():
    """Make a token and show it, this once: the page is never cached nor kept for a reload."""
    if not current_user.is_authenticated:
        return sign_in_first()
    catalog = current_catalog()
    form = ApiTokenForm()
    if not form.validate():
        return _tokens_page(form, 422)
    try:
        made = api_tokens.create_token(db.session, current_user, form.name.data, now())
    except api_tokens.TokenRefused:
        form.name.errors.append(_("Name the token: what or who will use it."))
        return _tokens_page(form, 422)
    html = render_template(
        "accounts/token_created.html",
        token=made.row,
        secret=made.secret,
        zone=_token_reader_zone(catalog),
        api_url=url_for("api.tickets", _external=True),
    )
    return _private(make_response(html, 201))


@bp.post("/account/tokens/<id:token_id>/revoke")
def revoke_api_token(token_id: int):
    """Revoke one of the user's own tokens; another's is no such token (404)."""
    if not current_user.is_authenticated:
        return sign_in_first()
    current_catalog()
    revoked = api_tokens.revoke_token(db.session, current_user, token_id, now())
    if revoked is None:
        abort(404)
    flash(_("The token %(name)s is revoked: it no longer works.", name=revoked.name))
    return redirect(url_for("accounts.api_token_list"), 303)


# --- staff: the client organizations ------------------------------------------------------------


@bp.get("/staff/organizations")
@staff_required
def staff_organizations():
    """Client organizations, newest first, a page at a time; searched by name, tax number
    and e-mail."""
    catalog = current_catalog()
    asked = ListQuery.from_args(request.args)
    return render_template(
        "accounts/staff_organizations.html",
        page=page_of(db.session, services.organization_list(asked.search), asked),
        timezone=catalog.timezone,
    )


@bp.get("/staff/organizations/<id:organization_id>")
@staff_required
def staff_organization(organization_id: int):
    """One organization as its members see it, read-only, and its client file: the latest
    periods, orders, documents, tickets and visits."""
    catalog = current_catalog()
    organization = db.session.get(Organization, organization_id)
    if organization is None:
        abort(404)
    return render_template(
        "accounts/staff_organization.html",
        organization=organization,
        members=services.members(db.session, organization.id),
        invitations=services.pending_invitations(db.session, organization.id, now()),
        language_label=dict(LANGUAGE_NAMES).get(organization.language, organization.language),
        role_names=ROLE_NAMES,
        timezone=catalog.timezone,
        file=client_file(db.session, organization.id),
        catalog=catalog,
        ticket_statuses=STAFF_STATUS_LABELS,
    )
