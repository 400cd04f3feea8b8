"""Every Redis key name, TTL and trim in one place.

All keys of one event share the hash tag `{evt:<id>}` so a transaction over them runs on Redis Cluster.
"""

from __future__ import annotations

from dataclasses import dataclass

# Trims and lifetimes: what keeps a six-hour event at 10,000 posts/s inside 1 GB.
STREAM_MAXLEN = 200_000  # posts:in backlog (about 20 s at 10k/s); approximate trim
DEAD_MAXLEN = 10_000  # dead letters kept for inspection
VOLUME_TTL_S = 2 * 3600  # per-second volume buckets (the chart shows 15 min)
MINUTE_TTL_S = 24 * 3600  # per-minute volume for the whole event
TAGS_TTL_S = 3600  # per-bucket hashtag counts
SEEN_TTL_S = 180  # dedupe window for repeated post ids (per-minute sets, two looked at)
FOLD_BUCKET_S = 120  # near-duplicate texts are folded within the current and previous bucket
FOLD_TTL_S = 300
INFLUENCE_BUCKET_S = 3600  # reposts/mentions per author, summed over this bucket and the previous one
INFLUENCE_TTL_S = 3 * 3600
STORYLINE_POSTS = 3000  # recent relevant posts kept for storylines
MARKS_MAXLEN = 10_000
SNAPSHOT_TTL_S = 3600
SOURCE_GAPS_MAX = 50
ALERTS_MAX = 500
SIGNALS_MAXLEN = 10_000

GROUP = "processors"


@dataclass(frozen=True)
class Keys:
    """Key names for one event."""

    event_id: str

    @property
    def tag(self) -> str:
        return f"{{evt:{self.event_id}}}"

    def _k(self, name: str) -> str:
        return f"{self.tag}:{name}"

    # Pipeline
    @property
    def stream(self) -> str:
        return self._k("posts:in")

    @property
    def dead(self) -> str:
        return self._k("posts:dead")

    @property
    def stats(self) -> str:
        """Hash of pipeline counters: received, processed, dead, duplicates."""
        return self._k("stats")

    def seen(self, minute: int) -> str:
        return self._k(f"seen:{minute}")

    def workers(self) -> str:
        """Hash worker name -> last heartbeat JSON."""
        return self._k("workers")

    # Aggregates
    def volume(self, minute: int) -> str:
        """Hash "<series>|<second>" -> count (and "<series>~s|<second>" -> sentiment sum)."""
        return self._k(f"vol:{minute}")

    def volume_minutes(self, hour: int) -> str:
        return self._k(f"volm:{hour}")

    def tags(self, bucket: int) -> str:
        """Hash hashtag -> count for one trend bucket (bucket = floor(epoch / bucket_s))."""
        return self._k(f"tags:{bucket}")

    @property
    def feed(self) -> str:
        return self._k("feed:all")

    def feed_source(self, source: str) -> str:
        return self._k(f"feed:src:{source}")

    @property
    def bodies(self) -> str:
        """Hash post id -> enriched post JSON, for posts in a feed."""
        return self._k("bodies")

    def folds(self, bucket: int) -> str:
        """Hash fold key -> posts with that (near-)text in one FOLD_BUCKET_S bucket."""
        return self._k(f"fold:{bucket}")

    def folds_low(self, bucket: int) -> str:
        """Hash fold key -> of those, posts by low-follower authors (copy-paste spam looks like this)."""
        return self._k(f"foldlow:{bucket}")

    @property
    def similar(self) -> str:
        """Hash fold key -> similar posts folded into a feed post ("+N similar"); trimmed with the feed."""
        return self._k("similar")

    def reposted(self, bucket: int) -> str:
        return self._k(f"infl:rp:{bucket}")

    def mentioned(self, bucket: int) -> str:
        return self._k(f"infl:mn:{bucket}")

    @property
    def storyline_posts(self) -> str:
        """List of compact recent relevant posts (newest first), capped at STORYLINE_POSTS."""
        return self._k("story:posts")

    @property
    def storylines(self) -> str:
        return self._k("story:lines")

    # Learning from the room
    @property
    def marks(self) -> str:
        """Stream of strategists' relevance marks: post JSON + label."""
        return self._k("marks")

    @property
    def model(self) -> str:
        return self._k("model")

    @property
    def model_version(self) -> str:
        return self._k("model:ver")

    # Snapshot
    @property
    def snapshot(self) -> str:
        return self._k("snapshot")

    @property
    def snapshot_version(self) -> str:
        """Integer bumped with every snapshot: viewers poll it and fetch the snapshot only when it moves."""
        return self._k("snapshot:ver")

    @property
    def trend_state(self) -> str:
        return self._k("trend:state")

    @property
    def changed(self) -> str:
        """Pub/sub channel: something every open screen should re-read."""
        return self._k("changed")

    # Strategists' work
    @property
    def cards(self) -> str:
        return self._k("cards")

    @property
    def cards_version(self) -> str:
        return self._k("cards:ver")

    @property
    def alerts(self) -> str:
        """Hash alert id -> alert JSON (acknowledged ones carry who and when)."""
        return self._k("alerts")

    @property
    def signals(self) -> str:
        """Stream of per-post signals (watch-words, influencers) the aggregator turns into alerts."""
        return self._k("signals")

    @property
    def alert_state(self) -> str:
        """JSON: the aggregator's last-read signal id and the cool-down clocks."""
        return self._k("alerts:state")

    # Sources
    @property
    def sources(self) -> str:
        """Hash source name -> health JSON."""
        return self._k("sources")

    def cursor(self, source: str) -> str:
        return self._k(f"cursor:{source}")

    # Publishing (issue 10): drafts, publish intents and results, the room-wide pause. Append-only section.
    @property
    def drafts(self) -> str:
        """Hash draft id -> draft JSON (text, network, approval chain state)."""
        return self._k("pub:drafts")

    @property
    def publish_intents(self) -> str:
        """Hash idempotency key -> intent JSON: the exact request, written before the network call; then its result."""
        return self._k("pub:intents")

    @property
    def publish_pending(self) -> str:
        """Zset idempotency key -> started_at, for intents without a result (what `reconcile` looks at)."""
        return self._k("pub:pending")

    @property
    def publish_paused(self) -> str:
        """JSON {reason, by, at} while the room has paused publishing; absent otherwise."""
        return self._k("pub:paused")
