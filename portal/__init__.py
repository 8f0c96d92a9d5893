"""The support portal: ``create_app`` builds the Flask application.

Nothing is imported at module level, so that ``portal.plans`` (the pure engine)
can be imported without loading Flask or SQLAlchemy.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict | None = None):
    """Build the portal. ``test_config`` overrides settings read from the environment."""
    import os

    from flask import Flask

    from portal.clock import utc_now
    from portal.config import load_config
    from portal.converters import RowId
    from portal.extensions import babel, csrf, db, htmx, limiter, login_manager, migrate
    from portal.i18n import compile_translations, select_locale

    # INSTANCE_PATH: where the embedded default keeps its files (tests give each run its own).
    instance = (test_config or {}).get("INSTANCE_PATH") or os.environ.get("INSTANCE_PATH")
    app = Flask(
        __name__,
        instance_relative_config=True,
        instance_path=str(Path(instance).resolve()) if instance else None,
    )
    app.url_map.converters["id"] = RowId
    app.config.from_mapping(load_config(os.environ, Path(app.instance_path)))
    app.config["CLOCK"] = utc_now
    if test_config:
        app.config.update(test_config)
    if (app.debug or app.testing) and "SESSION_COOKIE_SECURE" not in (test_config or {}):
        app.config["SESSION_COOKIE_SECURE"] = False  # plain http while developing and testing

    compiled = Path(app.instance_path) / "translations"
    compile_translations(ROOT / "translations", compiled)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(compiled)

    if app.config["PROXY_HOPS"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # Client address, scheme and port from X-Forwarded-* of that many proxies, no more:
        # so limits count real clients, and nobody else can claim an address. The host is
        # never taken from a header: links are built on PORTAL_URL, which a proxy needs.
        hops = app.config["PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_port=hops)

    from portal import headers, logs

    logs.init_app(app)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    babel.init_app(app, locale_selector=select_locale)
    # Before the CSRF check reads the form: the ticket forms' files may be larger.
    from portal.tickets.routes import allow_uploads
    from portal.work.routes import allow_backups

    app.before_request(allow_uploads)
    app.before_request(allow_backups)
    csrf.init_app(app)
    htmx.init_app(app)
    login_manager.init_app(app)
    limiter.init_app(app)

    from portal import jobs
    from portal.mail.outbox import Outbox, Retry
    from portal.mail.services import mailer_from_config

    app.extensions["mailer"] = mailer_from_config(app.config)
    app.extensions["outbox"] = Outbox(
        sender=app.config["MAIL_FROM"],
        retry=Retry(
            first=timedelta(seconds=app.config["MAIL_RETRY_SECONDS"]),
            give_up_after=timedelta(hours=app.config["MAIL_RETRY_HOURS"]),
        ),
    )

    from portal import errors, models  # noqa: F401  (models register their tables)
    from portal.accounts import bp as accounts_bp
    from portal.accounts.cli import users_cli
    from portal.admin import bp as admin_bp
    from portal.api import bp as api_bp
    from portal.api.cli import quote_command, sla_command
    from portal.billing import bp as billing_bp
    from portal.billing.cli import billing_cli
    from portal.callbacks import bp as callbacks_bp
    from portal.catalog import bp as catalog_bp
    from portal.catalog.cli import catalog_cli
    from portal.catalog.signature import provider_signature
    from portal.demo.cli import demo_cli
    from portal.health import bp as health_bp
    from portal.jobs.cli import jobs_cli, worker_command
    from portal.mail.routes import bp as mail_bp
    from portal.tickets import bp as tickets_bp
    from portal.tickets.cli import close_resolved_command, sweep_command
    from portal.translate import translate_cli
    from portal.views import register_template_helpers
    from portal.visits import bp as visits_bp
    from portal.work import bp as work_bp
    from portal.work.cli import work_cli

    app.register_blueprint(catalog_bp)
    # Every mail ends with the provider's signature, from the catalog in effect.
    app.extensions["mail_signature"] = provider_signature
    app.register_blueprint(api_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(callbacks_bp)
    app.register_blueprint(mail_bp)
    app.register_blueprint(billing_bp)
    app.register_blueprint(health_bp)
    app.register_blueprint(tickets_bp)
    app.register_blueprint(work_bp)
    app.register_blueprint(visits_bp)
    app.register_blueprint(admin_bp)
    csrf.exempt(api_bp)
    app.cli.add_command(quote_command)
    sla_command.add_command(sweep_command)
    sla_command.add_command(close_resolved_command)
    app.cli.add_command(sla_command)
    app.cli.add_command(catalog_cli)
    app.cli.add_command(translate_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(billing_cli)
    app.cli.add_command(jobs_cli)
    app.cli.add_command(worker_command)
    app.cli.add_command(work_cli)
    errors.register(app)
    for command in app.cli.commands.values():
        errors.explain_database_errors(command)
    register_template_helpers(app)
    headers.init_app(app)
    jobs.init_app(app)
    return app
