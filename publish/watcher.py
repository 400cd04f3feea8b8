"""After the Publish button: a supervised child (`cli.py watch`, started by `up` while publishing is live) that

- reconciles publish intents left without a result (the web process died between the network call and its
  answer): it asks the network whether the post exists and records published or failed, never posting again;
- polls each network for what our published responses did (likes, reposts, replies, quotes), so the card, the
  executive view and the report show the network's own counts next to what the room's sources saw.

A network that answers 429 is left alone until its Retry-After has passed; one that fails does not stop the others.
"""

from __future__ import annotations

import logging
import threading
import time

import redis

from config.settings import NETWORKS, Settings
from publish import errors
from publish.errors import PublishError
from publish.publisher import Publisher, publisher_for
from store import outcomes as outcome_store
from store import publishing as store
from store.keys import Keys
from streams.sources.base import REDIS_ERRORS, redis_backoff

logger = logging.getLogger(__name__)

RECONCILE_EVERY_S = 10.0
POLL_EVERY_S = 30.0
FOLLOW_FOR_S = 6 * 3600  # a response's outcome is polled for this long after it went out


class Watcher:
    def __init__(self, r: redis.Redis, keys: Keys, publishers: dict[str, Publisher]):
        self.r, self.keys, self.publishers = r, keys, publishers
        self.quiet_until: dict[str, float] = {}  # network -> when its rate limit allows asking again

    def reconcile(self, now: float | None = None) -> list[dict]:
        done = store.reconcile(self.r, self.keys, self.publishers, now=now)
        for it in done:
            if it.get("how") == "reconciled":
                logger.info("reconciled publish intent %s: %s", it["key"], it["state"])
        return done

    def poll(self, now: float | None = None) -> int:
        """Ask each network for its counts of our responses published in the last FOLLOW_FOR_S; returns how many
        were updated."""
        now = time.time() if now is None else now
        by_network: dict[str, list[dict]] = {}
        for d in store.published_drafts(self.r, self.keys, since=now - FOLLOW_FOR_S):
            by_network.setdefault(d["network"], []).append(d)
        updated = 0
        for network, drafts in by_network.items():
            pub = self.publishers.get(network)
            if pub is None or not pub.configured or self.quiet_until.get(network, 0.0) > now:
                continue
            try:
                counts = pub.metrics([d["published"]["id"] for d in drafts])
            except PublishError as exc:
                if exc.kind == errors.RATE_LIMITED:
                    self.quiet_until[network] = now + (exc.retry_after or POLL_EVERY_S)
                logger.warning("%s: could not read our posts' counts (%s)", network, exc.kind)
                continue
            for d in drafts:
                if (m := counts.get(d["published"]["id"])) is not None:
                    outcome_store.save_polled(self.r, self.keys, d["id"], m, now)
                    updated += 1
        return updated

    def run(self, stop: threading.Event) -> None:
        last_reconcile = last_poll = 0.0
        backoff = redis_backoff()
        logger.info("watching published responses on %s", ", ".join(sorted(self.publishers)) or "no network")
        while not stop.is_set():
            try:
                if time.monotonic() - last_reconcile >= RECONCILE_EVERY_S:
                    last_reconcile = time.monotonic()
                    self.reconcile()
                if time.monotonic() - last_poll >= POLL_EVERY_S:
                    last_poll = time.monotonic()
                    self.poll()
                backoff.reset()
                stop.wait(1.0)
            except REDIS_ERRORS as exc:
                delay = backoff.next()
                logger.warning("Redis unavailable (%s); retrying in %.1fs", type(exc).__name__, delay)
                stop.wait(delay)


def configured_publishers() -> dict[str, Publisher]:
    """The networks whose credentials are in the environment."""
    pubs = {n: publisher_for(n) for n in NETWORKS}
    return {n: p for n, p in pubs.items() if p.configured}


def run(settings: Settings, r: redis.Redis, keys: Keys, stop: threading.Event) -> None:
    pubs = configured_publishers()
    if not pubs:
        logger.info("no network has publishing credentials: nothing to watch")
        return
    Watcher(r, keys, pubs).run(stop)
