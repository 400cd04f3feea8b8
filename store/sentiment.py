"""The team's sentiment corrections and the sentiment model every worker shares.

A correction is written once, in one MULTI/EXEC with its audit entry (then WAITAOF):
* a corrections-stream entry the aggregator learns from (text, the lexicon's label, the chosen label, by);
* the post's current correction in `sentiment_fixes`, which the aggregator lays over the feed it publishes;
* the post's share of its charted series' sentiment sum moved from the value it had to the corrected one, so the
  brand's sentiment line counts the corrected label (while the post's second is in the chart's window).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import orjson
import redis

from analytics.sentiment import label as lexicon_label
from analytics.sentiment_learning import LABEL_VALUE, SentimentModel
from store import audit, models
from store.keys import SENTIMENT_CORRECTIONS_MAXLEN, VOLUME_TTL_S, Keys

RETRIES = 5


@dataclass
class SentimentInputs:
    """What the aggregator's tick reads for sentiment: corrections not yet learned, and every post's correction."""

    texts: list[str] = field(default_factory=list)
    lexicon: list[str] = field(default_factory=list)  # the label the post had when it was corrected
    labels: list[str] = field(default_factory=list)  # the label the team chose
    cursor: str = "0-0"
    fixes: dict[str, dict] = field(default_factory=dict)  # post id -> {label, value, was, by, at}


def correct(
    r: redis.Redis,
    keys: Keys,
    post: dict,
    chosen: str,
    user: str,
    audit_entry: dict,
    charted: set[str],
    now: float | None = None,
) -> dict:
    """Record `user`'s correction of `post` (a feed post from the snapshot) to `chosen`; returns the fix.

    The post's contribution to each charted series it is in moves from its current value (its last correction's,
    else the compound it was counted with) to LABEL_VALUE[chosen]; WATCH makes two people's corrections of one
    post apply one after the other."""
    if chosen not in LABEL_VALUE:
        raise ValueError(f"sentiment labels are {sorted(LABEL_VALUE)}, not {chosen!r}")
    now = time.time() if now is None else now
    original = float(post.get("sentiment") or 0.0)
    sec = int(post.get("received_at") or now)
    series = [s for s in post.get("series") or () if s in charted]
    for _ in range(RETRIES):
        with r.pipeline(transaction=True) as pipe:
            try:
                pipe.watch(keys.sentiment_fixes)
                raw = pipe.hget(keys.sentiment_fixes, post["id"])
                previous = orjson.loads(raw) if raw else None
                current = previous["value"] if previous else original
                fix = {"label": chosen, "value": LABEL_VALUE[chosen], "was": original, "by": user, "at": now}
                pipe.multi()
                pipe.xadd(
                    keys.sentiment_corrections,
                    {
                        "text": post.get("text") or "",
                        "lexicon": lexicon_label(original),
                        "label": chosen,
                        "post": post["id"],
                        "by": user,
                        "at": now,
                    },
                    maxlen=SENTIMENT_CORRECTIONS_MAXLEN,
                    approximate=True,
                )
                pipe.hset(keys.sentiment_fixes, post["id"], orjson.dumps(fix))
                delta = round(fix["value"] - current, 4)
                # The post's volume bucket is in its partition: in this transaction when that is the event's
                # slot, else right after it (a crash in between loses the chart's adjustment, never the fix).
                part = keys.part_of(post["id"])
                shift = delta and series
                if shift and part.partition_tag == keys.tag:
                    _shift(pipe, part, sec, series, delta)
                audit.append(pipe, keys, {**audit_entry, "before": previous or {"sentiment": original}})
                pipe.execute()
                if shift and part.partition_tag != keys.tag:
                    after = r.pipeline(transaction=False)
                    _shift(after, part, sec, series, delta)
                    after.execute()
                break
            except redis.WatchError:
                continue
    else:
        raise RuntimeError("the post's sentiment kept changing under us; try again")
    audit.durable(r, keys.audit)
    return fix


def _shift(pipe: redis.client.Pipeline, part: Keys, sec: int, series: list[str], delta: float) -> None:
    key = part.volume(sec // 60)
    for name in series:
        pipe.hincrbyfloat(key, f"{name}~s|{sec}", delta)
    pipe.expire(key, VOLUME_TTL_S, nx=True)  # a bucket that had expired goes again


def read_tick(r: redis.Redis, keys: Keys, cursor: str, count: int = 500) -> SentimentInputs:
    """New corrections after `cursor`, and every post's current correction (a human click each: small)."""
    entries = r.xrange(keys.sentiment_corrections, min=f"({cursor}" if cursor != "0-0" else "-", count=count)
    fixes = {k.decode(): orjson.loads(v) for k, v in r.hgetall(keys.sentiment_fixes).items()}
    out = SentimentInputs(cursor=entries[-1][0].decode() if entries else cursor, fixes=fixes)
    for _, f in entries:
        out.texts.append(f[b"text"].decode())
        out.lexicon.append(f[b"lexicon"].decode())
        out.labels.append(f[b"label"].decode())
    return out


def save_model(r: redis.Redis, keys: Keys, model: SentimentModel, cursor: str) -> int:
    return models.save(r, keys.sentiment_model, keys.sentiment_model_version, model.to_bytes(), cursor)


def load_model(r: redis.Redis, keys: Keys) -> SentimentModel | None:
    return models.load(r, keys.sentiment_model, SentimentModel.from_bytes, "sentiment model")


def load_cursor(r: redis.Redis, keys: Keys) -> str:
    return models.cursor(r, keys.sentiment_model)


def model_version(r: redis.Redis, keys: Keys) -> int:
    return models.version(r, keys.sentiment_model_version)
