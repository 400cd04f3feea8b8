"""The JSON API for tools and checks: snapshot, health, cards, and the webhook's ingest."""

from __future__ import annotations

import time

import flask
import orjson
import redis

from auth.web import current_identity
from store import cards, snapshot
from store import health as health_store
from store import posts as post_store
from streams.sources import webhook
from streams.sources.base import over_budget
from web.services import Services

INGEST_MAX_BYTES = 1_000_000


def add_api(server: flask.Flask, s: Services) -> None:
    @server.get("/api/snapshot")
    def api_snapshot():
        _, snap = s.snapshots.get()
        raw = s.snapshots.raw
        if not snap or raw is None:
            return _json({"error": "no snapshot yet: is the aggregator running?"}, 503)
        return flask.Response(raw, mimetype="application/json")

    @server.get("/api/health")
    def api_health():
        body, ok = health(s)
        if current_identity() is None:  # open to anyone: an outsider learns only whether (and what) is down
            body = outsider_health(body, s.settings.event.thresholds.stale_after_s)
        return _json(body, 200 if ok else 503)

    @server.get("/api/cards")
    def api_cards():
        return _json({"cards": cards.all_cards(s.r, s.keys), "version": cards.version(s.r, s.keys)}, 200)

    server.config["MAX_CONTENT_LENGTH"] = INGEST_MAX_BYTES  # a huge body is refused before it is read

    @server.post("/api/ingest")
    def api_ingest():
        return webhook.receive(
            s.ingest,
            flask.request.get_data(cache=False),
            flask.request.headers.get("Authorization"),
            s.settings.get("WARROOM_INGEST_TOKEN"),
            max_bytes=INGEST_MAX_BYTES,
        )

    @server.errorhandler(413)
    def too_large(_exc):
        return _json({"error": f"body too large: at most {INGEST_MAX_BYTES} bytes"}, 413)


WORKER_SILENT_MS = 5000  # a live worker asks for entries every second (XREADGROUP BLOCK 1000)


def health(s: Services) -> tuple[dict, bool]:
    """Redis reachable, pipeline counters, true lag, backlog against its budget, drops, what is down, per-source
    status, snapshot age. "ok" only when nothing is down, nothing was ever dropped and ingest is not held back.
    Never a secret."""
    now = time.time()
    try:
        stats = post_store.stats(s.r, s.keys)
        lag = post_store.lag(s.r, s.keys)
        entries, used = post_store.backlog(s.r, s.keys)
        dropped = post_store.dropped(s.r, s.keys)
        workers = post_store.consumers_active(s.r, s.keys, WORKER_SILENT_MS)
        sources = health_store.read_all(s.r, s.keys)
        snap = snapshot.read(s.r, s.keys)
    except redis.RedisError as exc:
        return {
            "status": "down",
            "down": ["redis"],
            "problems": [f"Redis is unreachable ({type(exc).__name__})"],
            "redis": {"reachable": False, "error": type(exc).__name__},
            "time": now,
        }, False
    snap_age = round(now - snap["built_at"], 3) if snap else None
    stale_after = s.settings.event.thresholds.stale_after_s
    budget = s.settings.event.backlog
    held_back = over_budget(entries, used, budget)
    down, problems = [], []
    if snap_age is None or snap_age > stale_after:
        down.append("aggregator")
        problems.append("no snapshot yet" if snap_age is None else f"the snapshot is {snap_age:.0f} s old")
    if not workers:
        down.append("workers")
        problems.append(f"no worker has read the stream for {WORKER_SILENT_MS / 1000:g} s")
    if held_back:
        problems.append(f"ingest is held back: {held_back}")
    if dropped:
        problems.append(
            f"{sum(dropped.values())} posts were dropped: " + ", ".join(f"{k} {v}" for k, v in dropped.items())
        )
    ok = not problems
    return {
        "status": "ok" if ok else "degraded",
        "down": down,
        "problems": problems,
        "time": now,
        "event": s.settings.event.id,
        "redis": {"reachable": True},
        "pipeline": {
            "received": stats.get("received", 0),
            "processed": stats.get("processed", 0),
            "dead_lettered": stats.get("dead", 0),
            "duplicates": stats.get("duplicates", 0),
            "dropped": sum(dropped.values()),
            "dropped_by_source": dropped,
            "consumer_lag": lag["lag"],
            "pending": lag["pending"],
            "workers_active": workers,
            "backlog": {
                "entries": entries,
                "memory_mb": round(used / 1e6, 1),
                "max_entries": budget.max_entries,
                "max_memory_mb": budget.max_memory_mb,
                "held_back": bool(held_back),
            },
            "last_processed_at": stats.get("last_at"),
        },
        "sources": {
            name: {k: h.get(k) for k in ("state", "detail", "rate_per_s", "last_post_at", "rate_limit", "gaps")}
            for name, h in sources.items()
        },
        "snapshot": {"age_s": snap_age, "version": snap.get("version") if snap else None},
        "web": {"screen_answers_shared": s.cache.hits, "screen_answers_computed": s.cache.misses},
    }, ok


DOWN_STATES = ("failing", "reconnecting")  # "stopped" and "not configured" are choices, not outages


def outsider_health(body: dict, stale_after_s: float) -> dict:
    """What /api/health tells a request with no session or token: the status and which component is down."""
    down = []
    if not body.get("redis", {}).get("reachable"):
        down.append("redis")
    else:
        age = (body.get("snapshot") or {}).get("age_s")
        if age is None or age > stale_after_s:
            down.append("aggregator")
        down += [f"source:{n}" for n, h in (body.get("sources") or {}).items() if h.get("state") in DOWN_STATES]
    return {"status": body["status"], "down": down}


def _json(body: dict, status: int) -> flask.Response:
    return flask.Response(orjson.dumps(body), status=status, mimetype="application/json")
