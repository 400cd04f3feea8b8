"""War Room's one entry point: up, collect, process, aggregate, serve, record, replay, simulate, bench, detect,
sentiment.

Only this module turns errors into exit codes.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import signal
import sys
import threading
from pathlib import Path

import orjson

from config.settings import ConfigError, Settings, load_settings, redact
from store.errors import StoreError
from store.keys import Keys
from supervisor import SOURCE_MODULES

logger = logging.getLogger("warroom")

ROOT = Path(__file__).resolve().parent


class RedactSecrets(logging.Filter):
    """Last line of defence: no secret value reaches a log line, whoever logged it."""

    def __init__(self, settings: Settings):
        super().__init__()
        self.settings = settings

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message, self.settings)
        if clean != message:
            record.msg, record.args = clean, ()
        return True


def setup_logging(settings: Settings, role: str) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter(f"%(asctime)s {role:<10} %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S"))
    handler.addFilter(RedactSecrets(settings))
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"), handlers=[handler], force=True)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)


def redis_url(settings: Settings) -> str:
    """REDIS_URL, else the embedded server `up` started in var/."""
    from store.server import running_embedded_url

    url = settings.get("REDIS_URL") or running_embedded_url(settings.var_dir / "redis")
    if not url:
        raise StoreError("no Redis: set REDIS_URL, or start everything with `make run` (which starts the embedded one)")
    return url


def client(settings: Settings, blocking: bool = False):
    from store.server import check, connect

    r = connect(redis_url(settings), blocking=blocking)
    check(r)
    return r


def stop_event() -> threading.Event:
    """Set on SIGTERM or Ctrl-C, so loops finish their batch and exit cleanly."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    return stop


# Commands ---------------------------------------------------------------------------------------------------


def cmd_collect(settings: Settings, args) -> None:
    module = importlib.import_module(SOURCE_MODULES[args.source])
    module.run(settings, client(settings), Keys.of(settings.event), stop_event())


def cmd_process(settings: Settings, args) -> None:
    from streams import idle_gc
    from streams.processor import Processor

    proc = Processor(settings, client(settings, blocking=True), Keys.of(settings.event))
    idle_gc.freeze()
    proc.run(stop_event())


def cmd_aggregate(settings: Settings, args) -> None:
    from streams import idle_gc
    from streams.aggregator import lead

    idle_gc.freeze()
    lead(settings, client(settings), Keys.of(settings.event), stop_event())


def cmd_archive(settings: Settings, args) -> None:
    from archive.writer import Archiver

    Archiver(settings, client(settings), Keys.of(settings.event)).run(stop_event())


def cmd_watch(settings: Settings, args) -> None:
    from publish import watcher

    watcher.run(settings, client(settings), Keys.of(settings.event), stop_event())


def cmd_report(settings: Settings, args) -> None:
    from report.build import write_report

    out = write_report(settings, args.out, start=args.start, end=args.end, pdf=not args.no_pdf)
    sys.stdout.write(f"report written to {out}\n")


def cmd_serve(settings: Settings, args) -> None:
    from app import create_app
    from streams import idle_gc
    from webserver import Limits, serve

    app = create_app(settings, client(settings))
    idle_gc.freeze()  # the app, its layouts and the models live as long as the process
    host, port = settings.get("HOST"), settings.port
    logger.info("dashboard on http://%s:%s", host, port)
    # One connection per open screen (or a few): the limits are per process; see docs/reliability.md.
    limits = Limits(
        connections=args.connections,
        per_address=args.connections_per_address,
        header_timeout=args.header_timeout,
        idle_timeout=args.idle_timeout,
    )
    serve(app.server, host=host, port=port, threads=args.threads, limits=limits, reuse_port=args.reuse_port)


def cmd_push(settings: Settings, args) -> None:
    from web.push import run

    if not settings.push_port:
        sys.stderr.write("warroom: screen push is off (WARROOM_PUSH_PORT=0)\n")
        raise SystemExit(2)
    from streams import idle_gc

    idle_gc.freeze()
    run(settings, client(settings), stop_event())


def cmd_simulate(settings: Settings, args) -> None:
    from streams.sources import simulator

    simulator.run(
        settings,
        client(settings),
        Keys.of(settings.event),
        stop_event(),
        rate=args.rate,
        speedup=args.speedup,
        truth_path=args.truth,
        duration_s=args.duration,
    )


def cmd_record(settings: Settings, args) -> None:
    from streams.sources import replay

    replay.record(
        client(settings, blocking=True),
        Keys.of(settings.event),
        args.path,
        stop_event(),
        source=args.source,
        limit=args.limit,
    )


def cmd_replay(settings: Settings, args) -> None:
    from streams.sources import replay

    replay.replay(
        client(settings), Keys.of(settings.event), args.path, args.speed, stop_event(), backlog=settings.event.backlog
    )


def cmd_detect(settings: Settings | None, args) -> None:
    from analytics.spikes import detect_csv

    for alert in detect_csv(args.csv):
        sys.stdout.write(orjson.dumps(alert).decode() + "\n")


def cmd_sentiment(settings: Settings | None, args) -> None:
    """One text per line on stdin -> one JSON line per text: {"label": positive|neutral|negative, "score"}."""
    from analytics.sentiment import Sentiment, label

    scorer = Sentiment()
    for line in sys.stdin:
        text = line.rstrip("\n")
        score = scorer.compound(text)
        sys.stdout.write(orjson.dumps({"label": label(score), "score": score}).decode() + "\n")
        sys.stdout.flush()


def cmd_bench(settings: Settings, args) -> None:
    from bench.runner import main as bench_main

    bench_main(settings, args.only)


def cmd_up(settings: Settings, args) -> None:
    from supervisor import Supervisor

    if code := Supervisor(settings, ROOT).run():
        raise SystemExit(code)  # a child's configuration error (its message is already printed)


def _identity_command(run) -> None:
    """A users/tokens/kiosk command: a bad name, role or password is a usage error (exit 2), not a crash."""
    try:
        run()
    except ValueError as exc:
        sys.stderr.write(f"warroom: {exc}\n")
        raise SystemExit(2) from None


def cmd_users(settings: Settings, args) -> None:
    from auth import admin
    from auth.web import base_url

    r, keys = client(settings), Keys.of(settings.event)
    _identity_command(lambda: admin.run_users(r, keys, base_url(settings), args, settings.var_dir))


def cmd_tokens(settings: Settings, args) -> None:
    from auth import admin

    r, keys = client(settings), Keys.of(settings.event)
    _identity_command(lambda: admin.run_tokens(r, keys, args))


def cmd_kiosk(settings: Settings, args) -> None:
    from auth import admin
    from auth.web import base_url

    r, keys = client(settings), Keys.of(settings.event)
    _identity_command(lambda: admin.run_kiosk(r, keys, base_url(settings), args))


def cmd_publishing(settings: Settings, args) -> None:
    from auth import admin

    r, keys = client(settings), Keys.of(settings.event)
    _identity_command(lambda: admin.run_publishing(r, keys, args))


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="warroom", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("up", help="start the embedded server (unless REDIS_URL), sources, workers, aggregator, web")
    c = sub.add_parser("collect", help="run one source")
    c.add_argument("source", choices=sorted(SOURCE_MODULES))
    sub.add_parser("process", help="run one processor worker")
    sub.add_parser("aggregate", help="run the snapshot aggregator")
    sub.add_parser("archive", help="write what outlives the event to var/archive/ once a minute")
    sub.add_parser("watch", help="reconcile interrupted publishes and poll our published posts' counts")
    rp = sub.add_parser("report", help="the report after the event: HTML, PDF, CSV and JSON from the archive")
    rp.add_argument("--from", dest="start", help="start (ISO time or unix seconds; default: the archive's first)")
    rp.add_argument("--to", dest="end", help="end (ISO time or unix seconds; default: the archive's last)")
    rp.add_argument("--out", type=Path, help="folder to write into (default var/reports/<event>-<time>)")
    rp.add_argument("--no-pdf", action="store_true", help="skip the PDF")
    s = sub.add_parser("serve", help="run the dashboard and the JSON API")
    s.add_argument("--threads", type=int, default=16)
    s.add_argument("--connections", type=int, default=2000, help="open connections in total")
    s.add_argument("--connections-per-address", type=int, default=500, help="from one client address")
    s.add_argument("--header-timeout", type=float, default=10.0, help="seconds to send a request's head")
    s.add_argument("--idle-timeout", type=float, default=30.0, help="seconds a kept-alive connection may idle")
    s.add_argument("--reuse-port", action="store_true", help="share the port with other web processes (SO_REUSEPORT)")
    sub.add_parser("push", help="push each new snapshot's answer to the open screens (WebSocket, web/push.py)")
    sim = sub.add_parser("simulate", help="run the simulated event, optionally writing its truth")
    sim.add_argument("--rate", type=float)
    sim.add_argument("--speedup", type=float)
    sim.add_argument("--truth", type=Path, help="write the truth (relevance, blackout start) as JSONL")
    sim.add_argument("--duration", type=float, help="stop after this many seconds")
    rec = sub.add_parser("record", help="record posts from the stream to JSONL")
    rec.add_argument("path", type=Path)
    rec.add_argument("--source")
    rec.add_argument("--limit", type=int)
    rep = sub.add_parser("replay", help="replay a JSONL recording into the stream")
    rep.add_argument("path", type=Path)
    rep.add_argument("--speed", type=float, default=1.0, help="N x real time; 0 = as fast as possible")
    d = sub.add_parser("detect", help="spike/dip detector over a timestamp,value CSV; one JSON line per alert")
    d.add_argument("csv", type=Path)
    sub.add_parser("sentiment", help="one text per line on stdin; one JSON line (label, score) per text")
    b = sub.add_parser("bench", help="benchmarks, one JSON line per figure")
    b.add_argument("--only", nargs="*", help="run only these benchmark groups")
    from auth.admin import add_parsers

    add_parsers(sub)  # users, tokens, kiosk, publishing
    return p


COMMANDS = {
    "up": cmd_up,
    "collect": cmd_collect,
    "process": cmd_process,
    "aggregate": cmd_aggregate,
    "archive": cmd_archive,
    "watch": cmd_watch,
    "report": cmd_report,
    "serve": cmd_serve,
    "push": cmd_push,
    "simulate": cmd_simulate,
    "record": cmd_record,
    "replay": cmd_replay,
    "detect": cmd_detect,
    "sentiment": cmd_sentiment,
    "bench": cmd_bench,
    "users": cmd_users,
    "tokens": cmd_tokens,
    "kiosk": cmd_kiosk,
    "publishing": cmd_publishing,
}


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "sentiment":  # pure, like detect
        logging.basicConfig(level=logging.WARNING)
        cmd_sentiment(None, args)
        return 0
    if args.command == "detect":  # pure: needs no event file and no Redis
        logging.basicConfig(level=logging.WARNING)
        try:
            cmd_detect(None, args)
        except OSError as exc:  # a CSV that does not exist or cannot be read
            sys.stderr.write(f"warroom: cannot read {args.csv}: {exc.strerror or exc}\n")
            return 2
        except (KeyError, ValueError) as exc:  # not a timestamp,value CSV
            sys.stderr.write(f"warroom: {args.csv} is not a timestamp,value CSV ({type(exc).__name__}: {exc})\n")
            return 2
        return 0
    try:
        settings = load_settings()
    except ConfigError as exc:
        sys.stderr.write(f"warroom: {exc}\n")
        return 2
    setup_logging(settings, getattr(args, "source", None) or args.command)
    try:
        COMMANDS[args.command](settings, args)
    except (StoreError, ConfigError) as exc:
        logger.error("%s", exc)
        return 1
    except OSError as exc:  # e.g. a recording that does not exist
        logger.error("%s", exc)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
