"""The WSGI application that ``bench/pages.py`` serves with gunicorn.

It is the portal exactly as ``create_app()`` builds it from the environment
(``DATABASE_URL``, ``SECRET_KEY``, ``PORTAL_CATALOG``), plus one view on that
same app, ``GET /bench/static-page``: ``render_template`` of a template whose
only content is the HTML of the comparison page, captured once by
``bench/pages.py`` and wrapped in ``{% raw %}`` so that Jinja outputs it
unchanged. The floor thus costs what Flask and Jinja cost to answer a document
as large as the comparison page (routing, the context processors, the session,
the response), without the catalog, the engine or the wording.

Environment, besides the portal's own:

- ``BENCH_TEMPLATE_DIR``: the folder holding ``bench/static-page.html``. The
  file may be written after the workers start; it is read at its first use.
- ``BENCH_READY_DIR`` (optional): each worker touches a file named after its
  pid there once the app is built, so the benchmark knows when both serve.

Run: ``gunicorn --pythonpath bench pages_app:app`` from the repository root.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from flask import Blueprint, render_template  # noqa: E402

from portal import create_app  # noqa: E402

FLOOR_URL = "/bench/static-page"
FLOOR_TEMPLATE = "bench/static-page.html"


def build():
    """The portal from the environment, with the floor view registered on it."""
    app = create_app()
    templates = os.environ.get("BENCH_TEMPLATE_DIR")
    if not templates:
        raise RuntimeError("BENCH_TEMPLATE_DIR is not set (bench/pages.py sets it)")
    # A blueprint's template folder is searched after the app's own, which has no bench/.
    bench = Blueprint("bench", __name__, template_folder=os.path.abspath(templates))

    @bench.get(FLOOR_URL)
    def static_page():
        return render_template(FLOOR_TEMPLATE)

    app.register_blueprint(bench)
    return app


app = build()

if os.environ.get("BENCH_READY_DIR"):
    Path(os.environ["BENCH_READY_DIR"], str(os.getpid())).touch()
