"""Aggregates in Redis: one transaction per processed batch (counters, feed, bodies, XACK), and their reads."""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from collections.abc import Iterable

import orjson
import redis

from model.enriched import FEED_ALL, Aggregates, Context, FeedWrite
from store import care as care_store
from store.keys import (
    DEAD_MAXLEN,
    FOLD_BUCKET_S,
    FOLD_TTL_S,
    GROUP,
    INFLUENCE_BUCKET_S,
    INFLUENCE_TTL_S,
    MINUTE_TTL_S,
    SEEN_TTL_S,
    SIGNALS_MAXLEN,
    STORYLINE_POSTS,
    TAGS_TTL_S,
    VOLUME_TTL_S,
    Keys,
)

logger = logging.getLogger(__name__)

SOURCE_FEED_SIZE = 60


def _minute(sec: int) -> int:
    return sec // 60


def prepare(
    r: redis.Redis,
    keys: Keys,
    ids: list[str],
    handles: list[str],
    fold_keys: list[str],
    sources: Iterable[str],
    feed_size: int,
    now: float,
    refs: list[str] = (),
) -> tuple[set[str], Context, dict[str, float]]:
    """One round trip for what a batch must know: unseen ids, author resonance, text folds, feed floors, and which
    of the posts the batch references (`refs`) are our published responses.

    Floors are keyed by feed name (FEED_ALL or a source): the lowest rank of a full feed, -inf while it has room.
    `keys` is the batch's partition. Its counts of authors and folds see 1/K of the posts, so they are scaled by K
    (an unbiased estimate; exact with one partition).
    """
    if not ids:  # every entry was dead-lettered: nothing to look up, nothing will be admitted
        return set(), Context(), {}
    pipe = r.pipeline(transaction=False)
    minute, fb, ib = int(now) // 60, int(now // FOLD_BUCKET_S), int(now // INFLUENCE_BUCKET_S)
    for m in (minute, minute - 1, minute - 2):
        pipe.smismember(keys.seen(m), ids or [""])
    for b in (ib, ib - 1):
        pipe.hmget(keys.reposted(b), handles or [""])
        pipe.hmget(keys.mentioned(b), handles or [""])
    for b in (fb, fb - 1):
        pipe.hmget(keys.folds(b), fold_keys or [""])
        pipe.hmget(keys.folds_low(b), fold_keys or [""])
    pipe.hmget(keys.similar, fold_keys or [""])
    pipe.hmget(keys.care_authors, handles or [""])  # care: authors with an open case
    feeds = _feeds(keys, sources, feed_size)
    for _, key, n in feeds:
        pipe.zrange(key, -n, -n, withscores=True)
    refs = list(dict.fromkeys(refs))
    if refs:
        pipe.hmget(keys.published, refs)
    res = pipe.execute()
    if refs:
        found = res.pop()
        published = {ref: _text(d) for ref, d in zip(refs, found, strict=True) if d is not None}
    else:
        published = {}
    seen = [any(flags) for flags in zip(*res[0:3], strict=True)]
    unseen = {i for i, s in zip(ids, seen, strict=True) if not s}
    scale = keys.partitions
    ctx = Context(
        reposted=_sum_fields(handles, scale, res[3], res[5]),
        mentioned=_sum_fields(handles, scale, res[4], res[6]),
        folds=_sum_fields(fold_keys, scale, res[7], res[9]),
        folds_low=_sum_fields(fold_keys, scale, res[8], res[10]),
        in_feed={k for k, v in zip(fold_keys, res[11], strict=True) if v is not None},
        care_authors={h for h, v in zip(handles, res[12], strict=True) if v is not None},
        published=published,
    )
    return unseen, ctx, _floors([name for name, _, _ in feeds], res[13:])


def _text(v: bytes | str) -> str:
    return v.decode() if isinstance(v, bytes) else v


def _sum_fields(names: list[str], scale: int, *columns: list) -> dict[str, int]:
    out = {}
    for i, name in enumerate(names):
        total = sum(int(col[i]) for col in columns if col[i] is not None)
        if total:
            out[name] = total * scale
    return out


def _feeds(keys: Keys, sources: Iterable[str], size: int) -> list[tuple[str, str, int]]:
    """(feed name, key, size) of the main feed and each source's."""
    return [(FEED_ALL, keys.feed, size)] + [(s, keys.feed_source(s), SOURCE_FEED_SIZE) for s in sources]


def _feed_key(keys: Keys, name: str) -> str:
    return keys.feed if name == FEED_ALL else keys.feed_source(name)


def _floors(names: list[str], replies: list) -> dict[str, float]:
    return {name: res[0][1] if res else -math.inf for name, res in zip(names, replies, strict=True)}


# One command per hash instead of one per field: HINCRBY each (field, increment) pair, then EXPIRE when a TTL
# is given. A script runs atomically inside the batch's MULTI/EXEC like the commands it replaces.
_HINCRBY_MANY = """
for i = 2, #ARGV, 2 do redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1]) end
local ttl = tonumber(ARGV[1])
if ttl > 0 then redis.call('EXPIRE', KEYS[1], ttl) end
return 0
"""
_HSETNX_ZERO_MANY = """
for i = 1, #ARGV do redis.call('HSETNX', KEYS[1], ARGV[i], 0) end
return 0
"""


def _eval(pipe: redis.client.Pipeline, script: str, key: str, *args) -> None:
    """EVAL script over one key in a pipeline. As the command itself: a cluster pipeline has no eval() method (it
    routes EVAL by its key like any other command, and the key's hash tag keeps it in the batch's slot)."""
    pipe.execute_command("EVAL", script, 1, key, *args)


def _hincrby_many(pipe: redis.client.Pipeline, key: str, counts: dict, ttl: int = 0) -> None:
    """HINCRBY key field n for each item (in order), then EXPIRE key ttl if ttl > 0; one command."""
    args: list = [ttl]
    for field, n in counts.items():
        args.append(field)
        args.append(n)
    _eval(pipe, _HINCRBY_MANY, key, *args)


def write_batch(
    r: redis.Redis,
    keys: Keys,
    *,
    entry_ids: list[bytes],
    fresh_ids: list[str],
    agg: Aggregates,
    feed: FeedWrite,
    last_at: float | None = None,
    duplicates: int = 0,
    dead: list[tuple[bytes, str]] = (),
    signals: list[dict] = (),
    care: list[dict] = (),
    outcomes: dict[str, int] | None = None,
    now: float,
) -> int:
    """Apply a batch atomically with its XACK, so a crash before EXEC re-delivers it and counts nothing twice.

    `fresh_ids` are the posts counted (marked seen); `feed` is what the processor admitted; `outcomes` the
    replies, quotes and reposts of our published responses ("<draft id>|<kind>" -> n). Returns posts admitted.
    """
    pipe = r.pipeline(transaction=True)
    _counters(pipe, keys, agg)
    _context(pipe, keys, agg, now)
    _feed(pipe, keys, feed)
    if fresh_ids:
        minute = int(now) // 60
        pipe.sadd(keys.seen(minute), *fresh_ids)
        pipe.expire(keys.seen(minute), SEEN_TTL_S)
    pipe.hincrby(keys.stats, "processed", len(fresh_ids))
    if duplicates:
        pipe.hincrby(keys.stats, "duplicates", duplicates)
    for payload, reason in dead:
        pipe.xadd(
            keys.dead,
            {"reason": reason[:500], "source": "stream", "payload": payload[:20_000], "at": str(now)},
            maxlen=DEAD_MAXLEN,
            approximate=True,
        )
    if dead:
        pipe.hincrby(keys.stats, "dead", len(dead))
    for sig in signals:
        pipe.xadd(keys.signals, {"s": orjson.dumps(sig)}, maxlen=SIGNALS_MAXLEN, approximate=True)
    if care:
        care_store.queue(pipe, keys, care)  # triaged brand posts, exactly once with the XACK
    if outcomes:
        _hincrby_many(pipe, keys.outcomes, outcomes)
    if last_at is not None:
        pipe.hset(keys.stats, "last_at", last_at)
    if entry_ids:
        pipe.xack(keys.stream, GROUP, *entry_ids)
    pipe.execute()
    return len(feed.bodies)


def _counters(pipe: redis.client.Pipeline, keys: Keys, agg: Aggregates) -> None:
    per_key: dict[str, dict[str, int]] = defaultdict(dict)
    for (sec, series), n in agg.volume.items():
        per_key[keys.volume(_minute(sec))][f"{series}|{sec}"] = n
    for key, fields in per_key.items():
        _hincrby_many(pipe, key, fields, VOLUME_TTL_S)
    for (sec, series), total in agg.sentiment.items():
        key = keys.volume(_minute(sec))
        pipe.hincrbyfloat(key, f"{series}~s|{sec}", round(total, 4))
    per_hour: dict[int, dict[str, int]] = defaultdict(dict)
    for (minute, series), n in agg.minutes.items():
        per_hour[minute // 3600][f"{series}|{minute}"] = n
    for h, fields in per_hour.items():
        _hincrby_many(pipe, keys.volume_minutes(h), fields, MINUTE_TTL_S)
    per_bucket: dict[int, dict[str, int]] = defaultdict(dict)
    for (bucket, tag), n in agg.tags.items():
        per_bucket[bucket][tag] = n
    for b, fields in per_bucket.items():
        _hincrby_many(pipe, keys.tags(b), fields, TAGS_TTL_S)


def _context(pipe: redis.client.Pipeline, keys: Keys, agg: Aggregates, now: float) -> None:
    """What later batches read back: folds, author resonance, "+N similar", storyline material."""
    fb, ib = int(now // FOLD_BUCKET_S), int(now // INFLUENCE_BUCKET_S)
    for name, counts, ttl in (
        (keys.folds(fb), agg.folds, FOLD_TTL_S),
        (keys.folds_low(fb), agg.folds_low, FOLD_TTL_S),
        (keys.reposted(ib), agg.reposted, INFLUENCE_TTL_S),
        (keys.mentioned(ib), agg.mentioned, INFLUENCE_TTL_S),
    ):
        counts = {k: n for k, n in counts.items() if n}
        if counts:
            _hincrby_many(pipe, name, counts, ttl)
    if agg.similar:
        _hincrby_many(pipe, keys.similar, agg.similar)
    if agg.storyline:
        pipe.lpush(keys.storyline_posts, *agg.storyline)
        pipe.ltrim(keys.storyline_posts, 0, STORYLINE_POSTS - 1)


def _feed(pipe: redis.client.Pipeline, keys: Keys, feed: FeedWrite) -> None:
    for name, members in feed.ranks.items():
        pipe.zadd(_feed_key(keys, name), members)
    if feed.bodies:
        pipe.hset(keys.bodies, mapping=feed.bodies)
        _eval(pipe, _HSETNX_ZERO_MANY, keys.similar, *feed.folds)


def trim_feeds(r: redis.Redis, keys: Keys, sources: Iterable[str], size: int) -> int:
    """Keep each feed of every partition at its size and drop the bodies no feed holds any more; returns bodies
    dropped."""
    sources = list(sources)
    return sum(_trim_part(r, part, sources, size) for part in keys.parts())


def _trim_part(r: redis.Redis, keys: Keys, sources: list[str], size: int) -> int:
    # A few round trips whatever the number of feeds: the tick runs this first, and at 10,000 posts/s on busy cores
    # each round trip waits its turn for the CPU (see docs/benchmarks.md, "Freshness at 10,000 posts/s").
    names = [(keys.feed, size)] + [(keys.feed_source(s), SOURCE_FEED_SIZE) for s in sources]
    pipe = r.pipeline(transaction=False)
    for name, _ in names:
        pipe.zcard(name)
    over = [(name, card - n) for (name, n), card in zip(names, pipe.execute(), strict=True) if card > n]
    if not over:
        return 0
    pipe = r.pipeline(transaction=True)  # the members read are the members removed, whatever a worker adds meanwhile
    for name, k in over:
        pipe.zrange(name, 0, k - 1)
        pipe.zremrangebyrank(name, 0, k - 1)
    dropped: set[bytes] = set().union(*pipe.execute()[0::2])
    if not dropped:
        return 0
    members = list(dropped)
    pipe = r.pipeline(transaction=False)
    for name, _ in names:
        pipe.zmscore(name, members)
    held = [any(s is not None for s in scores) for scores in zip(*pipe.execute(), strict=True)]
    gone = [m for m, h in zip(members, held, strict=True) if not h]
    if gone:
        folds = [orjson.loads(b).get("fold") for b in r.hmget(keys.bodies, gone) if b]
        r.hdel(keys.bodies, *gone)
        if folds := [f for f in folds if f]:
            r.hdel(keys.similar, *folds)
    return len(gone)


def top_feed(r: redis.Redis, keys: Keys, n: int, source: str | None = None) -> list[dict]:
    """The n best-ranked posts of a feed, over every partition: merged by rank, and a post whose fold key a
    better-ranked one of another partition has is folded into it ("+N similar"), as within one partition."""
    parts = keys.parts()
    if len(parts) == 1:
        return [post for _, post in _top_part(r, keys, n, source)]
    ranked = sorted((rp for part in parts for rp in _top_part(r, part, n, source)), key=lambda rp: -rp[0])
    out: list[dict] = []
    by_fold: dict[str, dict] = {}
    for _, post in ranked:
        fold = post.get("fold")
        if fold and fold in by_fold:
            by_fold[fold]["similar"] += 1 + post["similar"]
            continue
        if fold:
            by_fold[fold] = post
        out.append(post)
    return out[:n]


def _top_part(r: redis.Redis, keys: Keys, n: int, source: str | None) -> list[tuple[float, dict]]:
    """(rank, post) of the n best of one partition's feed, each with its "+N similar"."""
    name = keys.feed_source(source) if source else keys.feed
    ranked = r.zrevrange(name, 0, n - 1, withscores=True)
    if not ranked:
        return []
    bodies = r.hmget(keys.bodies, [i for i, _ in ranked])
    out = [(rank, orjson.loads(b)) for (_, rank), b in zip(ranked, bodies, strict=True) if b]
    if out:
        folds = [p.get("fold") or "" for _, p in out]
        for (_, p), similar in zip(out, r.hmget(keys.similar, folds), strict=True):
            p["similar"] = int(similar or 0)
    return out


def volume_window(r: redis.Redis, keys: Keys, start: int, end: int) -> dict[str, dict[int, float]]:
    """Per-second counts and sentiment sums in [start, end], summed over partitions: {"<series>" or "<series>~s":
    {second: value}}."""
    pipe = r.pipeline(transaction=False)
    minutes = range(_minute(start), _minute(end) + 1)
    for part in keys.parts():
        for m in minutes:
            pipe.hgetall(part.volume(m))
    out: dict[str, dict[int, float]] = defaultdict(dict)
    for fields in pipe.execute():
        for f, v in fields.items():
            name, _, sec = f.decode().rpartition("|")
            s = int(sec)
            if start <= s <= end:
                column = out[name]
                column[s] = column.get(s, 0.0) + float(v)
    return out


def tag_counts(r: redis.Redis, keys: Keys, buckets: list[int]) -> dict[int, dict[str, int]]:
    """Hashtag counts of each bucket, summed over partitions."""
    pipe = r.pipeline(transaction=False)
    for part in keys.parts():
        for b in buckets:
            pipe.hgetall(part.tags(b))
    out: dict[int, dict[str, int]] = {b: {} for b in buckets}
    for i, res in enumerate(pipe.execute()):
        counts = out[buckets[i % len(buckets)]]
        for k, v in res.items():
            tag = k.decode()
            counts[tag] = counts.get(tag, 0) + int(v)
    return out
