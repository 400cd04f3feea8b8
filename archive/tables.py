"""The archive's tables: their columns, how a part file is written, and how they are read back (DuckDB over Parquet).

Each table is a folder of immutable Parquet part files (`<table>/<unix time>-<pid>.parquet`). Rows that change
(an alert acknowledged, a card moved) are written again; reading keeps the newest row per key, so a reader never
needs a lock and a re-written minute after a restart counts once.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import duckdb
import pandas as pd

logger = logging.getLogger(__name__)

# table -> column -> DuckDB type. `archived_at` is when the row was written.
SCHEMAS: dict[str, dict[str, str]] = {
    "volume": {
        "minute": "BIGINT",
        "series": "VARCHAR",
        "posts": "BIGINT",
        "sentiment_sum": "DOUBLE",
        "peak_per_s": "BIGINT",
        "archived_at": "DOUBLE",
    },
    "hashtags": {"minute": "BIGINT", "tag": "VARCHAR", "posts": "BIGINT", "archived_at": "DOUBLE"},
    "trending": {
        "at": "DOUBLE",
        "rank": "INTEGER",
        "term": "VARCHAR",
        "rate_per_min": "DOUBLE",
        "baseline_per_min": "DOUBLE",
        "significance": "DOUBLE",
    },
    "storylines": {
        "at": "DOUBLE",
        "rank": "INTEGER",
        "story_id": "VARCHAR",
        "label": "VARCHAR",
        "size": "BIGINT",
        "growth": "DOUBLE",
        "example": "VARCHAR",
    },
    "sources": {
        "at": "DOUBLE",
        "source": "VARCHAR",
        "state": "VARCHAR",
        "rate_per_s": "DOUBLE",
        "gaps": "VARCHAR",
        "detail": "VARCHAR",
    },
    "alerts": {
        "id": "VARCHAR",
        "kind": "VARCHAR",
        "severity": "VARCHAR",
        "subject": "VARCHAR",
        "title": "VARCHAR",
        "detail": "VARCHAR",
        "at": "DOUBLE",
        "moment": "DOUBLE",
        "raised_at": "DOUBLE",
        "acked_by": "VARCHAR",
        "acked_at": "DOUBLE",
        "archived_at": "DOUBLE",
    },
    "cards": {
        "id": "VARCHAR",
        "title": "VARCHAR",
        "type": "VARCHAR",
        "priority": "VARCHAR",
        "status": "VARCHAR",
        "owner": "VARCHAR",
        "storyline": "VARCHAR",
        "post_id": "VARCHAR",
        "created_at": "DOUBLE",
        "updated_at": "DOUBLE",
        "approved_at": "DOUBLE",
        "moment": "DOUBLE",
        "archived_at": "DOUBLE",
    },
    # Published responses and what they did, written again whenever their outcome changes.
    "responses": {
        "id": "VARCHAR",
        "card_id": "VARCHAR",
        "network": "VARCHAR",
        "status": "VARCHAR",
        "text": "VARCHAR",
        "published_at": "DOUBLE",
        "url": "VARCHAR",
        "likes": "BIGINT",
        "reposts": "BIGINT",
        "replies": "BIGINT",
        "quotes": "BIGINT",
        "positive": "BIGINT",
        "negative": "BIGINT",
        "archived_at": "DOUBLE",
    },
    # Customer care as the lane measures it, sampled with the snapshot (first response, breaches, backlog).
    "care": {
        "at": "DOUBLE",
        "first_response_p50_s": "DOUBLE",
        "first_response_p95_s": "DOUBLE",
        "responses": "BIGINT",
        "breaches": "BIGINT",
        "backlog": "BIGINT",
        "open": "BIGINT",
        "escalations": "BIGINT",
        "safety_open": "BIGINT",
    },
    "posts": {
        "id": "VARCHAR",
        "kept_for": "VARCHAR",
        "source": "VARCHAR",
        "handle": "VARCHAR",
        "followers": "BIGINT",
        "text": "VARCHAR",
        "url": "VARCHAR",
        "sentiment": "DOUBLE",
        "score": "DOUBLE",
        "received_at": "DOUBLE",
        "archived_at": "DOUBLE",
    },
}
# How a table is read: the key that keeps only its newest row (None: every row), and its time column.
LATEST_BY = {
    "volume": "minute, series",
    "hashtags": "minute, tag",
    "alerts": "id",
    "cards": "id",
    "responses": "id",
    "posts": "id, kept_for",
}
TIME_COLUMN = {
    "volume": "minute",
    "hashtags": "minute",
    "trending": "at",
    "storylines": "at",
    "sources": "at",
    "alerts": "at",
    "cards": "created_at",
    "responses": "published_at",
    "care": "at",
    "posts": "received_at",
}


def write_part(root: Path, table: str, rows: list[dict], now: float) -> int:
    """Write `rows` as one new part file of `table` (nothing when there are none); returns rows written."""
    if not rows:
        return 0
    cols = SCHEMAS[table]
    folder = root / table
    folder.mkdir(parents=True, exist_ok=True)
    frame = pd.DataFrame([{c: row.get(c) for c in cols} for row in rows], columns=list(cols))
    final = folder / f"{int(now * 1000)}-{os.getpid()}.parquet"
    tmp = final.with_suffix(".tmp")
    select = ", ".join(f'CAST("{c}" AS {t}) AS "{c}"' for c, t in cols.items())
    with duckdb.connect() as con:
        con.register("frame", frame)
        con.execute(f"COPY (SELECT {select} FROM frame) TO '{tmp}' (FORMAT parquet)")
    os.replace(tmp, final)  # readers never see a half-written file
    return len(rows)


class Archive:
    """Reads an event's archive folder. `table(name, start, end)` -> DataFrame (newest row per key)."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def parts(self, table: str) -> list[Path]:
        folder = self.root / table
        return sorted(folder.glob("*.parquet")) if folder.exists() else []

    def table(
        self, name: str, start: float | None = None, end: float | None = None, latest: bool = True
    ) -> pd.DataFrame:
        cols = SCHEMAS[name]
        files = self.parts(name)
        if not files:
            return pd.DataFrame({c: pd.Series(dtype=_dtype(t)) for c, t in cols.items()})
        where, params = [], []
        tc = TIME_COLUMN[name]
        if start is not None:
            where.append(f'"{tc}" >= ?')
            params.append(start)
        if end is not None:
            where.append(f'"{tc}" <= ?')
            params.append(end)
        cond = f"WHERE {' AND '.join(where)}" if where else ""
        source = f"read_parquet({[str(f) for f in files]}, union_by_name = true)"
        key = LATEST_BY.get(name) if latest else None
        if key and "archived_at" in cols:
            sql = (
                f"SELECT * EXCLUDE (rn) FROM (SELECT *, row_number() OVER (PARTITION BY {key} ORDER BY archived_at DESC)"
                f' AS rn FROM {source} {cond}) WHERE rn = 1 ORDER BY "{tc}"'
            )
        else:
            sql = f'SELECT * FROM {source} {cond} ORDER BY "{tc}"'
        with duckdb.connect() as con:
            return con.execute(sql, params).df()

    def event(self) -> dict:
        import orjson

        path = self.root / "event.json"
        return orjson.loads(path.read_bytes()) if path.exists() else {}

    def expire(self, before: float) -> int:
        """Delete part files written before `before` (the archive's retention); returns files deleted."""
        gone = 0
        for table in SCHEMAS:
            for f in self.parts(table):
                try:
                    written = int(f.stem.split("-")[0]) / 1000
                except ValueError:
                    continue
                if written < before:
                    f.unlink(missing_ok=True)
                    gone += 1
        return gone


def _dtype(sql_type: str) -> str:
    return {"BIGINT": "int64", "INTEGER": "int64", "DOUBLE": "float64"}.get(sql_type, "object")
