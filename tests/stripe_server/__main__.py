"""Run localstripe with Checkout Sessions for the tests: on 127.0.0.1 only, its state in a folder.

    python -m tests.stripe_server --port 0 --state-dir DIR [--webhook-secret whsec_...]

localstripe alone listens on every interface and pickles its state to a fixed
file in /tmp, which concurrent test runs would share; this launcher binds the
loopback address and keeps the pickle in DIR. Once it accepts connections it
prints ``ready http://127.0.0.1:PORT`` (PORT is the one chosen when --port is 0).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import pickle
import signal
import socket
import sys
import warnings
from pathlib import Path

HOST = "127.0.0.1"
STATE_FILE = "localstripe.pickle"


def keep_state_in(state_dir: Path) -> Path:
    """Point localstripe's store at ``state_dir`` instead of /tmp/localstripe.pickle."""
    from localstripe.resources import Store

    path = state_dir / STATE_FILE

    def try_load_from_disk(store: Store) -> None:
        with contextlib.suppress(FileNotFoundError), path.open("rb") as file:
            saved = pickle.load(file)
            store.clear()
            store.update(saved)

    def dump_to_disk(store: Store) -> None:
        # Written aside then renamed, so a server stopped mid-write leaves the last good state.
        partial = path.with_name(path.name + ".partial")
        with partial.open("wb") as file:
            pickle.dump(store, file, protocol=pickle.HIGHEST_PROTOCOL)
        partial.replace(path)

    Store.try_load_from_disk = try_load_from_disk
    Store.dump_to_disk = dump_to_disk
    return path


def record_writes(log_path: Path) -> None:
    """Append every path this process opens for writing (or creates, moves, deletes) to a log.

    Lets a test prove the server writes nowhere but its state folder.
    """
    log = log_path.open("a", buffering=1)  # opened before the hook, so not recorded itself
    write_flags = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC

    def hook(event: str, args: tuple) -> None:
        if event == "open":
            path, mode, flags = args
            writes = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                isinstance(flags, int) and flags & write_flags
            )
            if not writes or isinstance(path, int):
                return
            paths = [path]
        elif event in ("os.mkdir", "os.remove", "os.rmdir"):
            paths = [args[0]]
        elif event == "os.rename":
            paths = [args[0], args[1]]
        else:
            return
        for item in paths:
            log.write(os.path.abspath(os.fsdecode(item)) + "\n")

    sys.addaudithook(hook)


async def serve(app, port: int) -> None:
    """Serve ``app`` on 127.0.0.1:``port`` until SIGTERM or SIGINT."""
    from aiohttp import web

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, port))
    runner = web.AppRunner(app, access_log=logging.getLogger("aiohttp.access"))
    await runner.setup()
    try:
        await web.SockSite(runner, sock).start()
        print(f"ready http://{HOST}:{sock.getsockname()[1]}", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        await stop.wait()
    finally:
        await runner.cleanup()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m tests.stripe_server",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--port", type=int, default=8420, help="0 lets the system choose")
    parser.add_argument("--state-dir", type=Path, required=True)
    parser.add_argument("--from-scratch", action="store_true", help="ignore any saved state")
    parser.add_argument("--webhook-secret", help="whsec_... to sign events with")
    parser.add_argument("--record-writes", type=Path, help="log the paths the server writes")
    args = parser.parse_args(argv)

    state_dir = args.state_dir.resolve()
    state_dir.mkdir(parents=True, exist_ok=True)
    if args.record_writes:
        record_writes(args.record_writes)
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s %(message)s"
    )
    # localstripe registers plain (non-async) handlers, which aiohttp now frowns upon.
    warnings.filterwarnings("ignore", "Bare functions are deprecated", DeprecationWarning)
    state_file = keep_state_in(state_dir)

    from localstripe import server
    from localstripe.resources import store

    from .checkout import install

    if not args.from_scratch:
        store.try_load_from_disk()
    install(server.app, webhook_secret=args.webhook_secret)
    logging.getLogger("tests.stripe_server").info("state in %s", state_file)
    asyncio.run(serve(server.app, args.port))


if __name__ == "__main__":
    main()
