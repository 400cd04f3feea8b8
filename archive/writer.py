"""The archiver: once a minute, copy what must outlive the event from Redis into Parquet part files on disk.

Redis keeps per-second volume for 2 hours and hashtags for 1 hour; the archive keeps, per event and for
`archive.retention_days`, the per-minute aggregates of every series (posts, sentiment, the busiest second),
hashtags, trending, storylines, source health and gaps, alerts (with acknowledgements), cards (every status they
went through), and the posts worth keeping (the top of the feed and framed posts).

One process writes (`cli.py archive`, started by `up`); each write is a new immutable file, so any number of
readers (the report, the executive view) read while it runs. A cursor file says which minutes are done: after
a restart the archiver goes on from there, catching up on the minutes Redis still holds.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path

import orjson
import redis

from analytics import outcomes
from archive.tables import SCHEMAS, Archive, write_part
from config.settings import Settings
from store import aggregates, snapshot
from store import alerts as alert_store
from store import cards as card_store
from store import outcomes as outcome_store
from store import publishing as pub_store
from store.keys import TAGS_TTL_S, VOLUME_TTL_S, Keys
from streams.sources.backoff import Backoff
from streams.sources.base import REDIS_ERRORS

logger = logging.getLogger(__name__)

SETTLE_S = 5  # a minute is archived once this long has passed after it ends (late posts still count)
TOP_TAGS = 30  # hashtags kept per minute
ALERTS_READ = 500


def archive_dir(settings: Settings) -> Path:
    return settings.var_dir / "archive" / settings.event.id


class Archiver:
    """`run_once(now)` writes one round; `run(stop)` repeats it every `archive.every_s`."""

    def __init__(self, settings: Settings, r: redis.Redis, keys: Keys, root: Path | None = None):
        self.settings, self.r, self.keys = settings, r, keys
        self.event = settings.event
        self.root = root or archive_dir(settings)
        self.root.mkdir(parents=True, exist_ok=True)
        self.cursor_path = self.root / "cursor.json"
        self.cursor = self._load_cursor()
        self.seen_alerts: dict[str, float | None] = {}  # id -> acked_at as last written
        self.seen_cards: dict[str, float] = {}  # id -> updated_at as last written
        self.seen_responses: dict[str, dict] = {}  # id -> the row as last written
        self.seen_posts: set[str] = set()
        self._write_event()

    def _load_cursor(self) -> int | None:
        try:
            return int(orjson.loads(self.cursor_path.read_bytes())["minute"])
        except (OSError, ValueError, KeyError):
            return None

    def _save_cursor(self, minute: int) -> None:
        tmp = self.cursor_path.with_suffix(".tmp")
        tmp.write_bytes(orjson.dumps({"minute": minute}))
        os.replace(tmp, self.cursor_path)
        self.cursor = minute

    def _write_event(self) -> None:
        ev = self.event
        meta = {
            "id": ev.id,
            "name": ev.name,
            "brand": ev.brand.name,
            "competitors": [w.name for w in ev.competitors],
            "terms": [w.name for w in ev.terms],
            "schedule": [s.model_dump(mode="json") for s in ev.schedule],
        }
        (self.root / "event.json").write_bytes(orjson.dumps(meta, option=orjson.OPT_INDENT_2))

    def run_once(self, now: float | None = None) -> dict[str, int]:
        """One round: finished minutes since the cursor, then a sample of the snapshot, alerts, cards, posts."""
        now = time.time() if now is None else now
        written = self._minutes(now)
        snap = snapshot.read(self.r, self.keys) or {}
        at = snap.get("built_at", now)
        for table, rows in (
            ("trending", self._trending(snap, at)),
            ("storylines", self._storylines(snap, at)),
            ("sources", self._sources(snap, at)),
            ("alerts", self._alerts(now)),
            ("cards", self._cards(now)),
            ("responses", self._responses(now)),
            ("care", self._care(snap, at)),
            ("posts", self._posts(snap, now)),
        ):
            written[table] = write_part(self.root, table, rows, now)
        self._expire(now)
        return written

    def _minutes(self, now: float) -> dict[str, int]:
        last = int(now - SETTLE_S) // 60 * 60 - 60  # the newest minute that has ended and settled
        oldest = int(now) - VOLUME_TTL_S + 120  # Redis still holds every second of it
        first = max(oldest // 60 * 60, (self.cursor + 60) if self.cursor is not None else last)
        volume, tags = [], []
        for m in range(first, last + 1, 60):
            volume += self._volume_rows(m, now)
            if m >= now - TAGS_TTL_S + 60:
                tags += self._tag_rows(m, now)
        out = {
            "volume": write_part(self.root, "volume", volume, now),
            "hashtags": write_part(self.root, "hashtags", tags, now),
        }
        if last >= first:
            self._save_cursor(last)
        return out

    def _volume_rows(self, m: int, now: float) -> list[dict]:
        window = aggregates.volume_window(self.r, self.keys, m, m + 59)
        rows = []
        for name, per_s in window.items():
            if name.endswith("~s"):
                continue
            sums = window.get(f"{name}~s", {})
            rows.append(
                {
                    "minute": m,
                    "series": name,
                    "posts": int(sum(per_s.values())),
                    "sentiment_sum": float(sum(sums.values())),
                    "peak_per_s": int(max(per_s.values(), default=0)),
                    "archived_at": now,
                }
            )
        return rows

    def _tag_rows(self, m: int, now: float) -> list[dict]:
        size = self.event.thresholds.trend_bucket_s
        buckets = sorted({int(s // size) for s in range(m, m + 60)})
        totals: dict[str, int] = {}
        for b, counts in aggregates.tag_counts(self.r, self.keys, buckets).items():
            if b * size < m or b * size >= m + 60:
                continue  # a bucket that straddles the minute counts for the minute it starts in
            for tag, n in counts.items():
                totals[tag] = totals.get(tag, 0) + n
        top = sorted(totals.items(), key=lambda kv: kv[1], reverse=True)[:TOP_TAGS]
        return [{"minute": m, "tag": t, "posts": n, "archived_at": now} for t, n in top]

    def _trending(self, snap: dict, at: float) -> list[dict]:
        return [
            {
                "at": at,
                "rank": i + 1,
                "term": t["term"],
                "rate_per_min": t.get("rate_per_min", 0.0),
                "baseline_per_min": t.get("baseline_per_min", 0.0),
                "significance": t.get("significance", 0.0),
            }
            for i, t in enumerate(snap.get("trending", []))
        ]

    def _storylines(self, snap: dict, at: float) -> list[dict]:
        return [
            {
                "at": at,
                "rank": i + 1,
                "story_id": s["id"],
                "label": " · ".join(s.get("label", [])[:4]),
                "size": int(s.get("size", 0)),
                "growth": float(s.get("growth", 1.0)),
                "example": ((s.get("posts") or [{}])[0].get("text") or "")[:280],
            }
            for i, s in enumerate(snap.get("storylines", []))
        ]

    def _sources(self, snap: dict, at: float) -> list[dict]:
        return [
            {
                "at": at,
                "source": name,
                "state": h.get("state", ""),
                "rate_per_s": float(h.get("rate_per_s", 0) or 0),
                "gaps": orjson.dumps(h.get("gaps", [])).decode(),
                "detail": (h.get("detail") or "")[:200],
            }
            for name, h in sorted((snap.get("sources") or {}).items())
        ]

    def _alerts(self, now: float) -> list[dict]:
        rows = []
        for a in alert_store.recent(self.r, self.keys, ALERTS_READ):
            if a["id"] in self.seen_alerts and self.seen_alerts[a["id"]] == a.get("acked_at"):
                continue
            self.seen_alerts[a["id"]] = a.get("acked_at")
            rows.append(
                {
                    "id": a["id"],
                    "kind": a.get("kind", ""),
                    "severity": a.get("severity", ""),
                    "subject": a.get("subject", "") or "",
                    "title": a.get("title", ""),
                    "detail": (a.get("detail") or "")[:500],
                    "at": float(a["at"]),
                    "moment": float(a.get("moment") or a["at"]),
                    "raised_at": float(a.get("raised_at") or a["at"]),
                    "acked_by": a.get("acked_by") or "",
                    "acked_at": a.get("acked_at"),
                    "archived_at": now,
                }
            )
        return rows

    def _cards(self, now: float) -> list[dict]:
        rows = []
        for c in card_store.all_cards(self.r, self.keys):
            if self.seen_cards.get(c["id"]) == c.get("updated_at"):
                continue
            self.seen_cards[c["id"]] = c.get("updated_at")
            rows.append({col: _card_value(c, col) for col in SCHEMAS["cards"]} | {"archived_at": now})
        return rows

    def _responses(self, now: float) -> list[dict]:
        found = outcome_store.all_outcomes(self.r, self.keys)
        rows = []
        for d in pub_store.published_drafts(self.r, self.keys):
            o = found.get(d["id"]) or outcomes.merged(None, None)
            row = {
                "id": d["id"],
                "card_id": d.get("card_id") or "",
                "network": d["network"],
                "status": "published",
                "text": d.get("text") or "",
                "published_at": float(d["published"]["at"]),
                "url": d["published"].get("url") or "",
                **{k: int(o.get(k, 0)) for k in ("likes", "reposts", "replies", "quotes", "positive", "negative")},
            }
            if self.seen_responses.get(d["id"]) == row:
                continue
            self.seen_responses[d["id"]] = row
            rows.append({**row, "archived_at": now})
        return rows

    def _care(self, snap: dict, at: float) -> list[dict]:
        m = (snap.get("care") or {}).get("metrics")
        if not m:
            return []
        row: dict = {"at": float(at)}
        for col in SCHEMAS["care"]:
            if col != "at":
                v = m.get(col)
                row[col] = None if v is None else float(v) if col.endswith("_s") else int(v)
        return [row]

    def _posts(self, snap: dict, now: float) -> list[dict]:
        keep = [(p, "feed") for p in snap.get("feed", [])[: self.event.archive.posts_per_minute]]
        for c in card_store.all_cards(self.r, self.keys):
            if c.get("post_id") and c.get("post_text"):
                author = {"handle": c.get("post_handle") or ""}
                keep.append(({"id": c["post_id"], "text": c["post_text"], "author": author}, "framed"))
        rows = []
        for p, why in keep:
            key = f"{p['id']}:{why}"
            if key in self.seen_posts:
                continue
            self.seen_posts.add(key)
            author = p.get("author") or {}
            rows.append(
                {
                    "id": str(p["id"]),
                    "kept_for": why,
                    "source": p.get("source", "") or "",
                    "handle": author.get("handle", "") or "",
                    "followers": int(author.get("followers", 0) or 0),
                    "text": (p.get("text") or "")[:1000],
                    "url": p.get("url") or "",
                    "sentiment": float(p.get("sentiment", 0.0) or 0.0),
                    "score": float(p.get("score", 0.0) or 0.0),
                    "received_at": float(p.get("received_at") or now),
                    "archived_at": now,
                }
            )
        return rows

    def _expire(self, now: float) -> int:
        return Archive(self.root).expire(now - self.event.archive.retention_days * 86400)

    def run(self, stop: threading.Event) -> None:
        backoff = Backoff(start=1.0, maximum=60.0)
        every = self.event.archive.every_s
        logger.info("archiver started: every %.0fs into %s", every, self.root)
        while not stop.is_set():
            try:
                written = self.run_once()
                backoff.reset()
                logger.debug("archived %s", written)
            except REDIS_ERRORS as exc:  # also a cluster node down (CLUSTERDOWN)
                delay = backoff.next()
                logger.warning("Redis unavailable (%s); archiving again in %.0fs", type(exc).__name__, delay)
                stop.wait(delay)
                continue
            stop.wait(every)


def _card_value(card: dict, col: str):
    if col in ("created_at", "updated_at", "moment", "approved_at"):
        v = card.get(col)
        return float(v) if v is not None else None
    v = card.get(col)
    return "" if v is None else str(v)
