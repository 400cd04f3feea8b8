"""A simulated game, run fast: the real simulator's posts through a real worker, aggregator and archiver into Valkey.

Time is simulated: posts are received at past wall times, the aggregator ticks every 5 simulated seconds and the
archiver writes every simulated minute, so eight minutes of a broadcast (halftime, the blackout) take seconds.
"""

from __future__ import annotations

from pathlib import Path

import orjson

from archive.writer import Archiver
from store import alerts as alert_store
from store import audit
from store import cards as card_store
from store import posts as post_store
from streams.aggregator import Aggregator
from streams.processor import Processor
from streams.scenario import STEP_S
from streams.sources.simulator import make_scenario

TICK_S = 5


def simulate_game(settings, r, keys, archive_root: Path, end: float, minutes: int = 8, rate: float = 30) -> dict:
    """Play `minutes` of the simulated broadcast ending at `end`; the strategists frame, approve and acknowledge
    along the way. Returns what was done (cards, acknowledged alerts) for tests to compare with."""
    post_store.ensure_group(r, keys)
    start = int(end) // 60 * 60 - minutes * 60
    scenario = make_scenario(settings.event.sources.simulator, start_wall=start, rate=rate)
    proc = Processor(settings, r, keys, consumer="game")
    agg = Aggregator(settings, r, keys)
    archiver = Archiver(settings, r, keys, root=archive_root)
    steps_per_tick = round(TICK_S / STEP_S)
    done = {"cards": [], "acked": []}
    t = start
    i = 0
    while t < end:
        for _ in range(steps_per_tick):
            post_store.append_dicts(r, keys, [p for p, _ in scenario.step(i)], now=start + i * STEP_S)
            i += 1
        t = start + i * STEP_S
        while entries := post_store.read_batch(r, keys, "game", 2000, 10):
            proc.handle(entries)
        snap = agg.tick(t)
        _strategists(r, keys, snap, t, done)
        if int(t) % 60 == 0:
            archiver.run_once(t + 6)
    archiver.run_once(end + 66)
    return done


def _strategists(r, keys, snap: dict, t: float, done: dict) -> None:
    """Frame the top post of each new critical or high alert's moment; approve every other card; ack alerts."""
    for alert in snap.get("alerts", []):
        if alert["severity"] in ("critical", "high") and alert["id"] not in done["acked"]:
            acked = alert_store.acknowledge(
                r, keys, alert["id"], "sam", audit.entry("sam", "alert.ack", "alert", alert["id"])
            )
            # On the game's clock: 15 s after it showed (written as is: add() keeps a stored acknowledgement)
            r.hset(keys.alerts, alert["id"], orjson.dumps({**acked, "acked_at": t + 15}))
            done["acked"].append(alert["id"])
            post = (snap.get("feed") or [{}])[0]
            card = card_store.save(
                r,
                keys,
                {
                    "title": f"Answer: {alert['title']}"[:120],
                    "summary": "",
                    "type": "threat" if alert["kind"] in ("dip", "sentiment_drop", "watch_word") else "opportunity",
                    "priority": "P1",
                    "owner": "sam",
                    "status": "new",
                    "post_id": post.get("id"),
                    "post_text": post.get("text"),
                    "post_handle": (post.get("author") or {}).get("handle"),
                    "moment": alert["moment"],
                    "created_at": t,
                },
                audit.entry("sam", "card.create", "card", ""),
            )
            done["cards"].append(card)
    for n, card in enumerate(done["cards"]):
        if n % 2 == 0 and card["status"] == "new" and t - card["created_at"] >= 30:
            card.update(status="approved", approved_at=t)
            card_store.save(r, keys, card, audit.entry("ann", "card.approve", "card", card["id"]))
