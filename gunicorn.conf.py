"""gunicorn's settings for the portal: ``gunicorn -c gunicorn.conf.py app:app``.

Read from the environment, like the portal's own settings:

- ``BIND``: where to listen (``127.0.0.1:8000``; a reverse proxy with TLS in front).
- ``WEB_CONCURRENCY``: worker processes (2 per CPU, at least 2).
- ``GUNICORN_THREADS``: threads per worker (1: sync workers; more: gthread).
- ``GUNICORN_TIMEOUT``: seconds a request may take before its worker is replaced (30);
  on SIGTERM, workers finish their requests within the same time.
- ``LOG_FORMAT=json``: the portal logs each request as JSON (with its id), so gunicorn's
  own access log is off and its error log is JSON too; otherwise gunicorn writes an
  access log line per request, naming the request id.
- ``GUNICORN_CONTROL_SOCKET``: a path for gunicorn's control socket (none by default,
  so that two instances on one machine never share one).

With ``JOBS_IN_PROCESS`` (the default without ``REDIS_URL``) each worker also runs the
portal's jobs in its own threads; in production run ``flask --app app worker`` instead.
"""

import multiprocessing
import os

bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY") or max(2, 2 * multiprocessing.cpu_count()))
threads = int(os.environ.get("GUNICORN_THREADS") or 1)
worker_class = "gthread" if threads > 1 else "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT") or 30)
graceful_timeout = timeout
keepalive = 5
# Recycle workers now and then, a little apart, so that no slow leak grows for ever.
max_requests = 10_000
max_requests_jitter = 1_000

# Behind a proxy the portal reads X-Forwarded-* itself, for PROXY_HOPS trusted hops only
# (werkzeug's ProxyFix): gunicorn does not decide the scheme from any header.
secure_scheme_headers = {}
forwarded_allow_ips = "127.0.0.1,::1"

control_socket_disable = not os.environ.get("GUNICORN_CONTROL_SOCKET")
if os.environ.get("GUNICORN_CONTROL_SOCKET"):
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]

errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
if os.environ.get("LOG_FORMAT", "").lower() == "json":
    accesslog = None
    # gunicorn's own records as JSON too; the portal sets the root logger up the same way.
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "portal.logs.JsonFormatter"}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"level": loglevel.upper(), "handlers": ["stderr"]},
        "loggers": {
            "gunicorn.error": {"level": loglevel.upper(), "handlers": [], "propagate": True},
            "gunicorn.access": {"level": loglevel.upper(), "handlers": [], "propagate": True},
        },
    }
else:
    accesslog = "-"
    access_log_format = '%(h)s "%(r)s" %(s)s %(B)s %(M)sms "%(a)s" request_id=%({x-request-id}o)s'


def post_worker_init(worker):
    """A worker that serves also runs the jobs, where JOBS_IN_PROCESS says so."""
    app = worker.wsgi
    if app.config.get("JOBS_IN_PROCESS"):
        app.extensions["jobs"].start_in_process()


def worker_exit(server, worker):
    """Finish the jobs at hand before the worker goes."""
    app = getattr(worker, "wsgi", None)
    if app is not None and hasattr(app, "extensions") and "jobs" in app.extensions:
        app.extensions["jobs"].stop_in_process()
