"""Every Redis key name, TTL and trim in one place.

An event's own keys share the hash tag `{evt:<id>}` so a transaction over them runs on Redis Cluster. With
`partitions: K` in the event file, what a worker's batch writes (the stream and the hot counters, `_p` below) is
split over K tags, one per partition, so one event spreads over a cluster's primaries (docs/scaling.md). With K = 1
every key name is what it always was.
"""

from __future__ import annotations

import functools
import zlib
from dataclasses import dataclass

from redis.crc import REDIS_CLUSTER_HASH_SLOTS, key_slot

# Trims and lifetimes: what keeps a six-hour event at 10,000 posts/s inside 1 GB.
# posts:in is never capped at XADD: an entry is trimmed only once every consumer group has acknowledged it
# (posts.trim_acknowledged); its size is bounded by the event file's `backlog` budget, which makes ingest wait.
STREAM_TRIM_LIMIT = 100_000  # entries one XTRIM may free (approximate trim; bounds the server's pause)
DEAD_MAXLEN = 10_000  # dead letters kept for inspection
VOLUME_TTL_S = 2 * 3600  # per-second volume buckets (the chart shows 15 min)
MINUTE_TTL_S = 24 * 3600  # per-minute volume for the whole event
TAGS_TTL_S = 3600  # per-bucket hashtag counts
WORKER_LIVE_S = 3.0  # a worker that has not beaten for this long loses its partitions to the others
SEEN_TTL_S = 180  # dedupe window for repeated post ids (per-minute sets, two looked at)
FOLD_BUCKET_S = 120  # near-duplicate texts are folded within the current and previous bucket
FOLD_TTL_S = 300
INFLUENCE_BUCKET_S = 3600  # reposts/mentions per author, summed over this bucket and the previous one
INFLUENCE_TTL_S = 3 * 3600
STORYLINE_POSTS = 3000  # recent relevant posts kept for storylines
MARKS_MAXLEN = 10_000
SNAPSHOT_TTL_S = 3600
AGGREGATOR_LEASE_S = 2.0  # a dead aggregator's lease lapses this long after its last renewal
ANSWER_TTL_S = 5.0  # a screen answer shared between web processes (its question carries the snapshot version)
ANSWER_LOCK_S = 2.0  # a web process computing an answer holds its lock at most this long
SOURCE_GAPS_MAX = 50
ALERTS_MAX = 500
SIGNALS_MAXLEN = 10_000
CARE_IN_MAXLEN = 10_000  # triaged posts waiting for the aggregator (it reads them every tick)
CARE_CASES_MAX = 5000  # resolved cases beyond this are dropped, oldest first
CARE_RESPONSES = 2000  # first-response times kept for p50/p95
SENTIMENT_CORRECTIONS_MAXLEN = 10_000  # corrections kept for learning (each is one click)
COMMENTS_PER_CARD = 1000  # a card's discussion; the next comment is refused (a discussion is never trimmed)
MENTIONS_KEPT = 100  # the newest mentions of each person, for their list

GROUP = "processors"


@functools.cache
def _aimed_tag(event_id: str, k: int, partitions: int) -> str:
    """Partition k's tag, `{evt:<id>:p<k>}` or `{evt:<id>:p<k>.<n>}` with the smallest n that puts its slot in the
    middle of the k-th of K equal slot ranges. A cluster's primaries hold equal contiguous ranges (what
    `valkey-cli --cluster create` assigns, and tests/cluster.py), so with K = primaries (or a multiple) the
    partitions land evenly on every primary, where a plain tag's hash would put some of them together."""
    width = REDIS_CLUSTER_HASH_SLOTS / partitions
    low, high = (k + 0.25) * width, (k + 0.75) * width
    n = 0
    while True:
        tag = f"evt:{event_id}:p{k}" + (f".{n}" if n else "")
        if low <= key_slot(tag.encode()) < high:
            return f"{{{tag}}}"
        n += 1


@dataclass(frozen=True)
class Keys:
    """Key names for one event; with `partition` set, its partition-local keys are that partition's."""

    event_id: str
    partitions: int = 1
    partition: int = 0

    @classmethod
    def of(cls, event) -> Keys:
        """The keys of an event as its file says (`partitions`): what every reader and writer should use."""
        return cls(event.id, max(1, int(getattr(event, "partitions", 1))))

    @property
    def tag(self) -> str:
        return f"{{evt:{self.event_id}}}"

    @property
    def partition_tag(self) -> str:
        if self.partitions == 1:
            return self.tag
        return _aimed_tag(self.event_id, self.partition, self.partitions)

    def _k(self, name: str) -> str:
        return f"{self.tag}:{name}"

    def _p(self, name: str) -> str:
        return f"{self.partition_tag}:{name}"

    def part(self, k: int) -> Keys:
        return Keys(self.event_id, self.partitions, k)

    def parts(self) -> list[Keys]:
        """Every partition's keys, partition 0 first (a reader of partition-local keys reads all of them)."""
        return [self.part(k) for k in range(self.partitions)]

    def part_of(self, post_id: str) -> Keys:
        """The partition a post belongs to: the same id always lands on the same one, so dedupe stays exact."""
        if self.partitions == 1:
            return self  # partition 0, the only one
        return self.part(zlib.crc32(post_id.encode("utf-8", "surrogatepass")) % self.partitions)

    # Pipeline
    @property
    def stream(self) -> str:
        return self._p("posts:in")

    @property
    def dead(self) -> str:
        return self._p("posts:dead")

    @property
    def stats(self) -> str:
        """Hash of pipeline counters: received, processed, dead, duplicates."""
        return self._p("stats")

    @property
    def dropped(self) -> str:
        """Hash source name -> posts a source had to drop (its bounded buffer was full while ingest was held back)."""
        return self._k("dropped")

    @property
    def workers(self) -> str:
        """Zset worker name -> its last heartbeat (epoch s): how workers share the partitions (K > 1 only)."""
        return self._k("workers")

    def seen(self, minute: int) -> str:
        return self._p(f"seen:{minute}")

    # Aggregates
    def volume(self, minute: int) -> str:
        """Hash "<series>|<second>" -> count (and "<series>~s|<second>" -> sentiment sum)."""
        return self._p(f"vol:{minute}")

    def volume_minutes(self, hour: int) -> str:
        return self._p(f"volm:{hour}")

    def tags(self, bucket: int) -> str:
        """Hash hashtag -> count for one trend bucket (bucket = floor(epoch / bucket_s))."""
        return self._p(f"tags:{bucket}")

    @property
    def feed(self) -> str:
        return self._p("feed:all")

    def feed_source(self, source: str) -> str:
        return self._p(f"feed:src:{source}")

    @property
    def bodies(self) -> str:
        """Hash post id -> enriched post JSON, for posts in a feed."""
        return self._p("bodies")

    def folds(self, bucket: int) -> str:
        """Hash fold key -> posts with that (near-)text in one FOLD_BUCKET_S bucket."""
        return self._p(f"fold:{bucket}")

    def folds_low(self, bucket: int) -> str:
        """Hash fold key -> of those, posts by low-follower authors (copy-paste spam looks like this)."""
        return self._p(f"foldlow:{bucket}")

    @property
    def similar(self) -> str:
        """Hash fold key -> similar posts folded into a feed post ("+N similar"); trimmed with the feed."""
        return self._p("similar")

    def reposted(self, bucket: int) -> str:
        return self._p(f"infl:rp:{bucket}")

    def mentioned(self, bucket: int) -> str:
        return self._p(f"infl:mn:{bucket}")

    @property
    def storyline_posts(self) -> str:
        """List of compact recent relevant posts (newest first), capped at STORYLINE_POSTS."""
        return self._p("story:posts")

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
    def aggregator_lease(self) -> str:
        """Who writes snapshots: one aggregator holds it (renewed each tick, expires AGGREGATOR_LEASE_S after it
        stops); the others stand by and take over."""
        return self._k("aggregator:lease")

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
        return self._p("signals")

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

    # Sources: what the collectors remember between polls, reconnects and restarts (all under cursor:)
    @property
    def bluesky_emitted(self) -> str:
        """Zset of Bluesky post ids emitted, scored by Jetstream time_us: a rewound cursor does not re-emit them."""
        return self.cursor("bluesky:emitted")

    def rss_validators(self, feed: str) -> str:
        """JSON {etag, modified} of one feed's last answer (`feed` is rss.feed_id(url)), for conditional GETs."""
        return self.cursor(f"rss:{feed}")

    def rss_seen(self, feed: str) -> str:
        """Zset of one feed's entry keys already handled, scored by when first seen."""
        return self.cursor(f"rss:{feed}:seen")

    def x_search(self, rule: str) -> str:
        """since_id of one recent-search rule (`rule` is x.rule_hash(value))."""
        return self.cursor(f"x:search:{rule}")

    # Identity: people, sessions, tokens, kiosk links, sign-in limits, audit (see docs/security.md)
    @property
    def users(self) -> str:
        """Hash user name -> user JSON (roles, groups, disabled, argon2 password hash)."""
        return self._k("users")

    @property
    def users_by_subject(self) -> str:
        """Hash "<issuer>|<subject>" -> user name, for people who sign in through OpenID Connect."""
        return self._k("users:oidc")

    def session(self, session_id: str) -> str:
        """JSON of one signed-in browser (user or kiosk), TTL = the session's lifetime."""
        return self._k(f"session:{session_id}")

    def user_sessions(self, name: str) -> str:
        """Set of a user's session ids: disabling or resetting the user deletes them all."""
        return self._k(f"sessions:user:{name}")

    @property
    def session_epoch(self) -> str:
        """Integer bumped when the session secret is rotated: sessions of an older epoch are refused."""
        return self._k("sessions:epoch")

    @property
    def api_tokens(self) -> str:
        """Hash token id -> token JSON (name, scopes, SHA-256 of the secret, revoked_at)."""
        return self._k("tokens")

    @property
    def kiosk_links(self) -> str:
        """Hash link id -> kiosk link JSON (screen name, SHA-256 of the secret, claimed_at, revoked_at)."""
        return self._k("kiosks")

    def signin_link(self, digest: str) -> str:
        """One-time sign-in link (SHA-256 of its secret) -> user name, TTL = the link's lifetime."""
        return self._k(f"signin:{digest}")

    def signin_failures(self, scope: str, value: str) -> str:
        """Counter of failed sign-ins for an account or an address, TTL = the limiter's window."""
        return self._k(f"signin:fail:{scope}:{value}")

    @property
    def audit(self) -> str:
        """Stream of every write: who, roles, action, object, before, after. Never trimmed."""
        return self._k("audit")

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

    @property
    def published(self) -> str:
        """Hash "<network>:<native id>" of each post the room published -> its draft id: how a worker knows that a
        post it reads replies to, quotes or reposts one of ours (written with the publish result)."""
        return self._k("pub:published")

    @property
    def outcomes(self) -> str:
        """Hash "<draft id>|<kind>" -> count: replies, quotes, reposts, positive and negative replies the room's own
        sources saw for each published response (counted by the workers, exactly once with the batch's XACK)."""
        return self._p("pub:outcomes")

    @property
    def outcomes_polled(self) -> str:
        """Hash draft id -> JSON {likes, reposts, replies, quotes, at}: what the network itself says, polled."""
        return self._k("pub:polled")

    @property
    def guardrails_override(self) -> str:
        """JSON {banned_phrases, topics_to_avoid, allowed_domains, competitors, by, at}: an admin's runtime override
        of the event file's guardrails (store/guardrails.py); absent: the event file's apply."""
        return self._k("pub:guardrails")

    # Customer care (issue 12): triaged posts, cases, corrections and the care model. Append-only section.
    @property
    def care_in(self) -> str:
        """Stream of triaged brand posts (and open cases' authors' other posts), written with the batch's XACK."""
        return self._p("care:in")

    @property
    def care_cases(self) -> str:
        """Hash case id -> case JSON (posts, state, owner, timers' inputs, escalation, history)."""
        return self._k("care:cases")

    @property
    def care_open(self) -> str:
        """Zset case id -> opened_at of cases not resolved."""
        return self._k("care:open")

    @property
    def care_authors(self) -> str:
        """Hash author handle (lower-case) -> their open case id: the processor reads it in the batch's context."""
        return self._k("care:authors")

    @property
    def care_version(self) -> str:
        return self._k("care:ver")

    @property
    def care_state(self) -> str:
        """Hash: the aggregator's cursors (care:in, corrections) and counters (breaches, escalations, resolved)."""
        return self._k("care:state")

    @property
    def care_response_times(self) -> str:
        """List of first-response times in seconds, newest first (CARE_RESPONSES)."""
        return self._k("care:frt")

    @property
    def care_corrections(self) -> str:
        """Stream of the team's triage corrections (text, kind, by) the care model learns from."""
        return self._k("care:corrections")

    @property
    def care_model(self) -> str:
        return self._k("care:model")

    @property
    def care_model_version(self) -> str:
        return self._k("care:model:ver")

    # Sentiment corrections (issue 11): the team's one-click corrections and the model learned from them.
    @property
    def sentiment_corrections(self) -> str:
        """Stream of corrections the sentiment model learns from: text, lexicon label, chosen label, by."""
        return self._k("sent:corrections")

    @property
    def sentiment_fixes(self) -> str:
        """Hash post id -> the post's current correction JSON {label, value, was, by, at}: what the feed shows."""
        return self._k("sent:fixes")

    @property
    def sentiment_model(self) -> str:
        """Hash: model (SentimentModel bytes), cursor (the last correction learned)."""
        return self._k("sent:model")

    @property
    def sentiment_model_version(self) -> str:
        return self._k("sent:model:ver")

    # Card comments (issue 10, point 4): the discussion on a card, and whom it mentions. Append-only section.
    def comments(self, card_id: str) -> str:
        """List of one card's comment JSON (id, card_id, author, text, mentions, groups, at), oldest first;
        at most COMMENTS_PER_CARD (a comment beyond is refused, never trimmed)."""
        return self._k(f"cmt:card:{card_id}")

    @property
    def comment_counts(self) -> str:
        """Hash card id -> comments on it (the card's "comments · N", one read for every card)."""
        return self._k("cmt:counts")

    def mentions(self, user: str) -> str:
        """List of the mentions of one person, newest first (card, comment, author, excerpt, at); MENTIONS_KEPT."""
        return self._k(f"cmt:mentions:{user}")

    @property
    def mentions_unread(self) -> str:
        """Hash user name -> mentions not yet opened (the header's "@ N")."""
        return self._k("cmt:unread")

    # Shared screen answers (issue 14): what one web process computed, for the others. Append-only section.
    def answer(self, question: str) -> str:
        """Hash of one computed screen answer (status, mimetype, body, gzipped body), TTL ANSWER_TTL_S; `question`
        is the answer cache's key (build, question hash, snapshot version), so each role set has its own."""
        return self._k(f"answer:{question}")

    def answer_lock(self, question: str) -> str:
        """Set (NX, PX ANSWER_LOCK_S) by the web process computing `question`: the others wait for its answer."""
        return self._k(f"answer:lock:{question}")
