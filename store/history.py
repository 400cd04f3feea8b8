"""Per-minute volume for the whole event (the `volm:<hour>` hashes, kept 24 h): reads only, for screens and the archive."""

from __future__ import annotations

from collections import defaultdict

import redis

from store.keys import Keys


def minute_counts(r: redis.Redis, keys: Keys, start: int, end: int) -> dict[str, dict[int, int]]:
    """Posts per minute in [start, end] (epoch seconds), summed over partitions: {"<series>": {minute start: posts}}."""
    pipe = r.pipeline(transaction=False)
    hours = range(start // 3600, end // 3600 + 1)
    for part in keys.parts():
        for h in hours:
            pipe.hgetall(part.volume_minutes(h))
    out: dict[str, dict[int, int]] = defaultdict(dict)
    for fields in pipe.execute():
        for f, v in fields.items():
            name, _, minute = f.decode().rpartition("|")
            m = int(minute)
            if start <= m <= end:
                column = out[name]
                column[m] = column.get(m, 0) + int(v)
    return dict(out)
