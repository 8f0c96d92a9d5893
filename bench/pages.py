"""Page throughput of the portal: the plan comparison under gunicorn, against a floor.

Run from the repository root (gunicorn comes with the ``bench`` extra)::

    .venv/bin/python bench/pages.py                   # about 50 s: 4 rounds x 3 s per contender
    .venv/bin/python bench/pages.py --quick           # about 15 s: 3 rounds x 0.75 s, a smoke test
    .venv/bin/python bench/pages.py --seconds 5       # steadier figures, a longer run
    .venv/bin/python bench/pages.py --concurrency 8   # more clients at once (default 4)
    .venv/bin/python bench/pages.py --profile         # always profile a page render at the end

Method
------

1. A temporary directory gets an SQLite database, migrated by ``flask --app app
   db upgrade`` with ``DATABASE_URL`` pointing at it. Nothing outside that
   directory changes, except that, as at any start of the app, ``create_app``
   compiles the translations under instance/ if they are stale.
2. gunicorn serves ``bench/pages_app.py`` with 2 sync workers on a free port of
   127.0.0.1, with ``SECRET_KEY`` and ``PORTAL_CATALOG=kbs``. That module is the
   portal as ``create_app()`` builds it, plus one view, ``/bench/static-page``.
   Once each worker has built its app, the comparison page is fetched once and
   its HTML written, inside ``{% raw %}``, as the template that view renders:
   the *floor* answers a document of the same size through Flask and Jinja
   (routing, context processors, session, response) with no catalog look-up,
   no engine and no wording.
3. Three contenders are checked before anything is measured, each must answer
   200:

   - *page*: ``GET /plans?term=7m&lang=en``, a full HTML page with
     ``data-total="40740.00"`` (KBS Optima for 7 months);
   - *fragment*: the same URL with ``HX-Request: true`` and ``HX-Target:
     comparison``, as htmx sends it when the picker changes: it must be the
     fragment (no ``<html``) and hold the comparison and the same total;
   - *floor*: ``GET /bench/static-page``, byte for byte the captured page.
4. Load: C client processes (``--concurrency``, default 4; processes, so the
   clients do not share a GIL) each send requests one after another with
   ``http.client`` for N seconds (``--seconds``) and record every request's
   latency, from sending it to having read the whole body. Each contender is
   warmed up, then the three run in alternating rounds (the order rotates from
   round to round), so a slow-down of the machine hits all alike.

The clients and gunicorn share the machine (2 CPUs on the development machine:
two workers and four clients), so the absolute rates are lower than the server
alone would reach; the clients' work per request is about the same for the
three contenders, which is why the ratios are the figures to watch.

gunicorn's sync workers close the connection after each response (keep-alive
needs another worker class), so every request also opens a TCP connection on
loopback; ``http.client`` reconnects by itself. The clients send no cookies,
like first visitors: the page therefore also makes a new CSRF token and sets
the session and language cookies each time, which is part of its cost.

How to read the results
-----------------------

- **req/s**: completed requests per second of all clients together, from the
  start of a round to the last response of it; the median over the rounds.
- **mean ms**, **p95 ms**: latency of single requests over all rounds
  (p95: 95 % of requests took at most that). With C clients and 2 workers a
  request also waits for a free worker, so latency ~ C / req/s.
- **spread**: (fastest round - slowest round) / median round. Above 10-20 %
  the machine was busy: trust the ratios more than the absolute figures.
- **page/floor**, **fragment/floor**: throughput ratios. The issue requires the
  comparison page to reach at least half the throughput of the floor:
  PASS/FAIL is printed beside page/floor. The exit status is 0 either way
  (1 when the set-up or the checks fail, 130 on Ctrl-C; gunicorn is stopped
  and the temporary directory removed in every case).
- When page/floor fails (except with ``--quick``) or with ``--profile``,
  gunicorn is stopped and the same app is built in this process: the three
  contenders are timed through the Flask test client (no HTTP, so no fixed
  cost of a connection and of gunicorn to share: these ratios come out lower
  than the HTTP ones), then the page is rendered under cProfile and the 15
  functions of portal/ (templates included), babel, flask_babel and jinja2
  with the most cumulative time are listed, in ms per request, with the 10
  functions of any code with the most own time and the own time summed by
  package (which counts nothing twice). cProfile slows Python calls down,
  small ones most, so read the shares, not the milliseconds.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import multiprocessing
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from array import array
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from http.client import HTTPConnection
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
HOST = "127.0.0.1"
WORKERS = 2
CATALOG = "kbs"
PAGE_URL = "/plans?term=7m&lang=en"
FLOOR_URL = "/bench/static-page"  # as bench/pages_app.py registers it
FLOOR_TEMPLATE = "bench/static-page.html"
FRAGMENT_HEADERS = {"HX-Request": "true", "HX-Target": "comparison"}
EXPECTED_TOTAL = b'data-total="40740.00"'
RATIO_LIMIT = 0.5
BOOT_TIMEOUT = 60.0
# A client gives up a round after this many failures in a row (the server is gone).
MAX_FAILURES_IN_A_ROW = 50


@dataclass(frozen=True)
class Contender:
    key: str
    label: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)


# The portal keeps a rendered comparison per catalog version, language, date and choice
# (portal/catalog/rendering.py), so a repeated URL is served from that store. The "new
# choice" contender asks for a different start date every time: every request renders.
NEW_CHOICE_URL = PAGE_URL + "&start={start}"

CONTENDERS = (
    Contender("page", f"GET {PAGE_URL}", PAGE_URL),
    Contender("fragment", f"GET {PAGE_URL} (htmx)", PAGE_URL, FRAGMENT_HEADERS),
    Contender("floor", f"GET {FLOOR_URL}", FLOOR_URL),
    Contender("new-choice", "GET /plans?term=7m&lang=en&start=(new each time)", NEW_CHOICE_URL),
)


def new_start(counter: int) -> str:
    """A start date no earlier request used (a client's own range, day after day)."""
    return (date(2027, 1, 1) + timedelta(days=counter % 30000)).isoformat()


_START = time.perf_counter()


def progress(text: str) -> None:
    print(f"[bench {time.perf_counter() - _START:5.1f} s] {text}", file=sys.stderr, flush=True)


class BenchError(Exception):
    """The set-up or a check failed: the figures would mean nothing."""


# --- the clients (each in its own process) ------------------------------------------------------


def client_main(pipe, port: int) -> None:
    """Serve rounds asked for through ``pipe`` until it sends None.

    A round is (url, headers, start_at, end_at) on the ``time.monotonic`` clock,
    which all processes share on Linux; the answer is the latencies (seconds, as
    array bytes), the count of failed requests, the first failure and the time of
    the last response.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops the clients
    counter_base = os.getpid() * 1000  # each client its own start dates
    while True:
        order = pipe.recv()
        if order is None:
            return
        url, headers, start_at, end_at = order
        latencies = array("d")
        failures, in_a_row, first_failure = 0, 0, None
        counter = counter_base
        connection = HTTPConnection(HOST, port, timeout=30)
        delay = start_at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        finished = time.monotonic()
        while finished < end_at:
            sent = finished
            counter += 1
            try:
                connection.request("GET", url.format(start=new_start(counter)), headers=headers)
                response = connection.getresponse()
                response.read()
                ok = response.status == 200
                problem = None if ok else f"HTTP {response.status}"
            except (OSError, ValueError) as error:  # http.client's errors are one of these
                connection.close()
                ok, problem = False, f"{type(error).__name__}: {error}"
            finished = time.monotonic()
            if ok:
                latencies.append(finished - sent)
                in_a_row = 0
            else:
                failures += 1
                in_a_row += 1
                first_failure = first_failure or problem
                if in_a_row >= MAX_FAILURES_IN_A_ROW:
                    break
        connection.close()
        pipe.send((latencies.tobytes(), failures, first_failure, finished))


class Clients:
    """C client processes, started once and kept for all the rounds."""

    def __init__(self, count: int, port: int):
        context = multiprocessing.get_context("spawn")  # small, clean processes
        self.pipes = []
        self.processes = []
        for _ in range(count):
            parent, child = context.Pipe()
            process = context.Process(target=client_main, args=(child, port), daemon=True)
            process.start()
            child.close()
            self.pipes.append(parent)
            self.processes.append(process)

    def run(self, contender: Contender, seconds: float) -> Round:
        # A short delay, so that every client is waiting when the round starts.
        start_at = time.monotonic() + 0.05
        order = (contender.url, contender.headers, start_at, start_at + seconds)
        for pipe in self.pipes:
            pipe.send(order)
        latencies = array("d")
        failures, first_failure, last = 0, None, start_at
        for pipe in self.pipes:
            data, failed, problem, finished = pipe.recv()
            chunk = array("d")
            chunk.frombytes(data)
            latencies.extend(chunk)
            failures += failed
            first_failure = first_failure or problem
            last = max(last, finished)
        if failures:
            raise BenchError(
                f"{contender.label}: {failures} requests failed during a round "
                f"(first: {first_failure})"
            )
        return Round(latencies, last - start_at)

    def close(self) -> None:
        for pipe in self.pipes:
            with contextlib.suppress(OSError):
                pipe.send(None)
        for process in self.processes:
            process.join(timeout=1)
            if process.is_alive():
                process.terminate()
                process.join(timeout=5)


@dataclass
class Round:
    latencies: array
    seconds: float

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds


@dataclass
class Result:
    contender: Contender
    body_bytes: int
    rounds: list[Round] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return statistics.median(r.rate for r in self.rounds)

    @property
    def spread(self) -> float:
        rates = [r.rate for r in self.rounds]
        return (max(rates) - min(rates)) / statistics.median(rates)

    @property
    def requests(self) -> int:
        return sum(len(r.latencies) for r in self.rounds)

    def latencies(self) -> list[float]:
        return sorted(x for r in self.rounds for x in r.latencies)

    @property
    def mean_ms(self) -> float:
        return statistics.fmean(self.latencies()) * 1e3

    @property
    def p95_ms(self) -> float:
        values = self.latencies()
        return values[max(math.ceil(0.95 * len(values)) - 1, 0)] * 1e3


# --- the server ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def fetch(port: int, url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    connection = HTTPConnection(HOST, port, timeout=30)
    try:
        connection.request("GET", url, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


class Server:
    """The database, the floor's template and gunicorn, all in one temporary directory."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.templates = tmp / "templates"
        self.ready = tmp / "ready"
        self.log = tmp / "gunicorn.log"
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self.env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{tmp / 'portal.sqlite3'}",
            "SECRET_KEY": "bench-pages",
            "PORTAL_CATALOG": CATALOG,
            "BENCH_TEMPLATE_DIR": str(self.templates),
            "BENCH_READY_DIR": str(self.ready),
            "BIND": f"{HOST}:{self.port}",
            "WEB_CONCURRENCY": str(WORKERS),
            "GUNICORN_THREADS": "1",
            # The jobs run in a worker of their own in production, not in the web processes.
            "JOBS_IN_PROCESS": "0",
            "INSTANCE_PATH": str(tmp / "instance"),
        }
        for name in ("FLASK_DEBUG", "LOG_FORMAT", "GUNICORN_CONTROL_SOCKET", "REDIS_URL"):
            self.env.pop(name, None)

    def migrate(self) -> None:
        done = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "app", "db", "upgrade"],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if done.returncode:
            raise BenchError(f"flask db upgrade failed:\n{done.stdout}{done.stderr}")

    def start(self) -> None:
        self.ready.mkdir()
        (self.templates / "bench").mkdir(parents=True)
        # The production settings (gunicorn.conf.py: no control socket, an access log),
        # with 2 sync workers and the logs in this run's folder.
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "--config",
            str(ROOT / "gunicorn.conf.py"),
            "--pythonpath",
            str(BENCH),
            "--error-logfile",
            str(self.log),
            "--access-logfile",
            str(self.tmp / "access.log"),
            "--graceful-timeout",
            "5",
            "pages_app:app",
        ]
        # A session of its own: Ctrl-C reaches this script only, which then stops gunicorn.
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=self.env, stdin=subprocess.DEVNULL, start_new_session=True
        )
        deadline = time.monotonic() + BOOT_TIMEOUT
        while len(list(self.ready.iterdir())) < WORKERS:
            if self.process.poll() is not None:
                raise BenchError(f"gunicorn exited with {self.process.returncode}:\n{self.tail()}")
            if time.monotonic() > deadline:
                raise BenchError(f"gunicorn's workers did not start in time:\n{self.tail()}")
            time.sleep(0.05)

    def write_floor(self, html: bytes) -> None:
        text = html.decode("utf-8")
        if "{% endraw" in text or "{%- endraw" in text:
            raise BenchError("the page contains an endraw tag: it cannot be wrapped in raw")
        # Jinja drops one trailing newline of a template; the raw block keeps the rest exact.
        path = self.templates / FLOOR_TEMPLATE
        path.write_text("{% raw %}" + text + "{% endraw %}", encoding="utf-8")

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no gunicorn log)"

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)  # graceful: workers finish their request
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


def check(port: int, server: Server) -> dict[str, int]:
    """Capture the page for the floor, then check every contender once; their body sizes."""
    status, page = fetch(port, PAGE_URL)
    if status != 200:
        raise BenchError(
            f"GET {PAGE_URL} answered {status}:\n{page[:2000].decode(errors='replace')}"
        )
    server.write_floor(page)
    problems = []
    sizes = {}
    for contender in CONTENDERS:
        status, body = fetch(port, contender.url.format(start=new_start(0)), contender.headers)
        sizes[contender.key] = len(body)
        if status != 200:
            problems.append(f"{contender.label} answered {status}")
            continue
        if contender.key == "page":
            if b"<html" not in body:
                problems.append(f"{contender.label} is not a full page")
            if EXPECTED_TOTAL not in body:
                problems.append(f"{contender.label} lacks {EXPECTED_TOTAL.decode()}")
        elif contender.key == "new-choice":
            if b"<html" not in body or b'data-total="40740.00"' not in body:
                problems.append(f"{contender.label} is not the page with OPTIMA's total")
        elif contender.key == "fragment":
            if b"<html" in body:
                problems.append(f"{contender.label} answered a full page, not the fragment")
            if b'id="comparison"' not in body or EXPECTED_TOTAL not in body:
                problems.append(f"{contender.label} lacks the comparison or its total")
        elif body != page:
            problems.append(f"{contender.label} is not the captured page ({len(body)} B)")
    if problems:
        raise BenchError("checks failed:\n  " + "\n  ".join(problems))
    return sizes


# --- profile ------------------------------------------------------------------------------------


def profile(env: dict[str, str], seconds: float, top: int = 15) -> str:
    """The three contenders timed in process, then cProfile over renders of the page.

    The app is ``bench/pages_app.py``'s, built in this process on the same database and
    floor template, and driven through the Flask test client: no HTTP, no gunicorn.
    """
    import cProfile
    import pstats

    names = ("DATABASE_URL", "SECRET_KEY", "PORTAL_CATALOG", "BENCH_TEMPLATE_DIR", "INSTANCE_PATH")
    os.environ.update({name: env[name] for name in names})
    for name in ("FLASK_DEBUG", "BENCH_READY_DIR"):
        os.environ.pop(name, None)
    sys.path.insert(0, str(BENCH))
    import pages_app

    # No cookies, like the HTTP clients: each request is a first visit.
    client = pages_app.app.test_client(use_cookies=False)
    counter = iter(range(1, 10**9))

    def get(contender: Contender) -> None:
        # The new-choice address asks for a start date no request used before, as over HTTP.
        url = contender.url.format(start=new_start(next(counter)))
        response = client.get(url, headers=contender.headers)
        if response.status_code != 200:
            raise BenchError(f"in process, {contender.label} answered {response.status_code}")

    for contender in CONTENDERS:
        for _ in range(20):  # warm: catalog cached, templates compiled
            get(contender)
    # Without the profiler: alternating rounds of 20 requests, the median round.
    rounds: dict[str, list[float]] = {c.key: [] for c in CONTENDERS}
    for _ in range(3):
        for contender in CONTENDERS:
            clock = time.perf_counter()
            for _ in range(20):
                get(contender)
            rounds[contender.key].append((time.perf_counter() - clock) / 20 * 1e3)
    plain = {key: statistics.median(values) for key, values in rounds.items()}

    page = CONTENDERS[0]
    profiler = cProfile.Profile()
    count = 0
    end = time.perf_counter() + seconds
    profiler.enable()
    while time.perf_counter() < end or count < 20:
        get(page)
        count += 1
    profiler.disable()

    stats = pstats.Stats(profiler).stats  # (file, line, name) -> (cc, nc, tottime, cumtime, ...)
    root = str(ROOT) + os.sep
    stdlib = sysconfig.get_paths()["stdlib"] + os.sep

    def origin(path: str, everything: bool = False) -> str | None:
        if path.startswith(root + "portal" + os.sep):
            return path.removeprefix(root)
        for package in ("babel", "flask_babel", "jinja2"):
            marker = f"{os.sep}site-packages{os.sep}{package}{os.sep}"
            if marker in path:
                return package + "/" + path.split(marker, 1)[1]
        if not everything:
            return None
        if f"{os.sep}site-packages{os.sep}" in path:
            return path.split(f"{os.sep}site-packages{os.sep}", 1)[1]
        return path.removeprefix(stdlib).removeprefix(root)

    def table(rows: list[tuple[float, float, int, str]]) -> list[str]:
        out = [f"  {'cum ms':>7} {'cum %':>6} {'own ms':>7} {'calls':>6}  function (per request)"]
        for cumtime, tottime, calls, name in rows:
            out.append(
                f"  {cumtime / count * 1e3:>7.2f} {cumtime / total * 100:>5.1f}% "
                f"{tottime / count * 1e3:>7.2f} {calls / count:>6.0f}  {name}"
            )
        return out

    total = max(v[3] for v in stats.values())  # the outermost frame: all the requests
    ours, everything = [], []
    for (path, line, name), (_cc, calls, tottime, cumtime, _callers) in stats.items():
        label = f"{origin(path, everything=True)}:{line} {name}"
        everything.append((tottime, cumtime, calls, label))
        if origin(path) is not None:
            ours.append((cumtime, tottime, calls, label))
    ours.sort(reverse=True)
    everything.sort(reverse=True)
    # Own time summed by where the code lives: nesting cannot count anything twice here.
    packages: dict[str, float] = {}
    for (path, _line, _name), (_cc, _calls, tottime, _cumtime, _callers) in stats.items():
        if f"{os.sep}site-packages{os.sep}" in path:  # before the root: .venv lies under it
            package = path.split(f"{os.sep}site-packages{os.sep}", 1)[1].split(os.sep)[0]
        elif path.startswith(root + "portal" + os.sep + "templates" + os.sep):
            package = "portal/templates (compiled Jinja)"
        elif path.startswith(root + "portal" + os.sep):
            package = "portal (Python)"
        elif path.startswith(root):
            package = path.removeprefix(root)
        elif path == "~":
            package = "built-ins (C)"
        else:
            package = "standard library"
        packages[package] = packages.get(package, 0.0) + tottime
    by_package = sorted(packages.items(), key=lambda item: -item[1])
    lines = [
        "In process (Flask test client of the same app, no HTTP, one thread, no profiler):",
        "  "
        + ", ".join(f"{key} {ms:.2f} ms" for key, ms in plain.items())
        + f" per request; page/floor throughput {plain['floor'] / plain['page']:.2f}, "
        f"fragment/floor {plain['floor'] / plain['fragment']:.2f}",
        "",
        f"Where the time of GET {PAGE_URL} goes: cProfile over {count} renders in process",
        f"({total / count * 1e3:.1f} ms each under the profiler). Top {top} functions of portal/",
        "(templates included), babel, flask_babel and jinja2 by cumulative time; the calls of a",
        "template's root or block count each time its generator resumes:",
        *table(ours[:top]),
        "",
        "Top 10 functions of any code by own time:",
        *table([(c, t, n, label) for t, c, n, label in everything[:10]]),
        "",
        "Own time by package (per request, under the profiler):",
        *(
            f"  {spent / count * 1e3:>7.2f} {spent / total * 100:>5.1f}%  {package}"
            for package, spent in by_package[:12]
        ),
    ]
    with pages_app.app.app_context():
        from portal.extensions import db

        db.session.remove()
        db.engine.dispose()
    return "\n".join(lines)


# --- run and report -----------------------------------------------------------------------------


def versions() -> str:
    names = ("gunicorn", "flask", "jinja2", "babel", "sqlalchemy")
    return ", ".join(f"{name} {metadata.version(name)}" for name in names)


def report(args, started: datetime, results: dict[str, Result]) -> str:
    lines = [
        f"Support portal page throughput, {started:%Y-%m-%d %H:%M} UTC, Python "
        f"{platform.python_version()}, {platform.system()} {platform.machine()}, "
        f"{os.cpu_count()} CPUs",
        f"  {versions()}",
        f"  gunicorn: {WORKERS} sync workers (a new connection per request), SQLite, "
        f"catalog {CATALOG}",
        f"  {args.concurrency} client processes; {args.rounds} rounds x {args.seconds:g} s per "
        f"contender, order rotating; warm-up {args.warmup:g} s each",
        "",
        f"  {'':<44} {'req/s':>7} {'mean ms':>8} {'p95 ms':>7} {'spread':>7} {'bytes':>7} "
        f"{'requests':>8}",
    ]
    for key, result in results.items():
        lines.append(
            f"  {key + ': ' + result.contender.label:<44} {result.rate:>7,.0f} "
            f"{result.mean_ms:>8.2f} {result.p95_ms:>7.2f} {result.spread * 100:>6.0f}% "
            f"{result.body_bytes:>7,} {result.requests:>8,}"
        )
    page, fragment, floor = (results[k].rate for k in ("page", "fragment", "floor"))
    verdict = "PASS" if page / floor >= RATIO_LIMIT else "FAIL"
    lines += [
        "",
        f"  page/floor throughput      {page / floor:.2f}  {verdict} (at least {RATIO_LIMIT:g})",
        f"  fragment/floor throughput  {fragment / floor:.2f}",
        f"  page/fragment throughput   {page / fragment:.2f}",
        f"  new-choice/floor throughput {results['new-choice'].rate / floor:.2f}"
        "  (every request renders: a choice nobody made before)",
    ]
    return "\n".join(lines)


def measure(args, server: Server) -> dict[str, Result]:
    sizes = check(server.port, server)
    results = {c.key: Result(c, sizes[c.key]) for c in CONTENDERS}
    clients = Clients(args.concurrency, server.port)
    try:
        progress(f"warm-up, {args.warmup:g} s per contender")
        for contender in CONTENDERS:
            clients.run(contender, args.warmup)
        for number in range(args.rounds):
            progress(f"round {number + 1}/{args.rounds}")
            for i in range(len(CONTENDERS)):
                contender = CONTENDERS[(i + number) % len(CONTENDERS)]
                results[contender.key].rounds.append(clients.run(contender, args.seconds))
    finally:
        clients.close()
    return results


def interrupt(signum, frame) -> None:
    """SIGTERM stops the run and cleans up as Ctrl-C does."""
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--seconds",
        type=float,
        help="seconds per contender per round (default 3, 0.75 with --quick)",
    )
    parser.add_argument(
        "--concurrency", type=int, default=4, help="client processes at once (default 4)"
    )
    parser.add_argument("--rounds", type=int, help="rounds (default 4, 3 with --quick)")
    parser.add_argument("--quick", action="store_true", help="a short run (about 15 s)")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="profile the page in process at the end (by default only when page/floor fails, "
        "and never with --quick)",
    )
    parser.add_argument(
        "--no-profile", action="store_true", help="do not profile, even if page/floor fails"
    )
    args = parser.parse_args(argv)
    if args.seconds is None:
        args.seconds = 0.75 if args.quick else 3.0
    if args.rounds is None:
        args.rounds = 3 if args.quick else 4
    if args.seconds <= 0 or args.rounds < 1 or args.concurrency < 1:
        parser.error("--seconds, --rounds and --concurrency must be positive")
    args.warmup = 0.3 if args.quick else 1.0

    # Ctrl-C and SIGTERM stop the run and clean up (SIGINT even if a shell ignored it).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, interrupt)
    started = datetime.now(UTC)
    clock = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix="portal-pages-"))
    server = Server(tmp)
    profiled = None
    try:
        progress("migrating a fresh SQLite database")
        server.migrate()
        progress(f"starting gunicorn ({WORKERS} sync workers) on {HOST}:{server.port}")
        server.start()
        results = measure(args, server)
        progress("stopping gunicorn")
        server.stop()
        ratio = results["page"].rate / results["floor"].rate
        if args.profile or (ratio < RATIO_LIMIT and not (args.no_profile or args.quick)):
            progress("profiling the page in process")
            profiled = profile(server.env, 0.3 if args.quick else 1.5)
    except BenchError as error:
        print(f"bench/pages.py: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench/pages.py: interrupted", file=sys.stderr)
        return 130
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    progress(f"done in {time.perf_counter() - clock:.1f} s")
    print(report(args, started, results))
    if profiled:
        print()
        print(profiled)
    return 0


if __name__ == "__main__":
    sys.exit(main())
