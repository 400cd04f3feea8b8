"""The archive: per-minute files from the real store, a cursor that survives a restart, readers that never lock."""

from __future__ import annotations

import time

from archive.tables import Archive, write_part
from archive.writer import Archiver
from config.settings import load_settings
from model.enriched import Aggregates
from store import aggregates, audit
from store import alerts as alert_store


def _count(r, keys, second: int, series: str, n: int, sentiment: float = 0.0) -> None:
    agg = Aggregates()
    agg.volume[(second, series)] = n
    agg.sentiment[(second, series)] = sentiment
    agg.minutes[(second // 60 * 60, series)] = n
    aggregates.write_batch(r, keys, entry_ids=[], fresh_ids=[], agg=agg, feed=aggregates.FeedWrite(), now=second)


def test_finished_minutes_are_archived_once_and_a_restart_goes_on_from_the_cursor(r, keys, tmp_path):
    settings = load_settings({})
    now = int(time.time()) // 60 * 60
    for m in (now - 180, now - 120, now - 60):
        _count(r, keys, m + 5, "all", 10, 0)
        _count(r, keys, m + 6, "all", 4, 0)
        _count(r, keys, m + 6, "Oreo", 3, 1.5)
    first = Archiver(settings, r, keys, root=tmp_path)
    first.cursor = None
    first._save_cursor(now - 240)  # it had archived up to 4 minutes ago before it stopped
    assert first.run_once(now + 10)["volume"] == 6  # 3 minutes × (all, Oreo)
    again = Archiver(settings, r, keys, root=tmp_path)  # a restart reads the cursor back
    assert again.cursor == now - 60 and again.run_once(now + 20)["volume"] == 0
    vol = Archive(tmp_path).table("volume")
    assert sorted(vol.loc[vol["series"] == "all", "posts"]) == [14, 14, 14]
    assert set(vol.loc[vol["series"] == "all", "peak_per_s"]) == {10}
    assert vol.loc[vol["series"] == "Oreo", "sentiment_sum"].sum() == 4.5


def test_an_acknowledged_alert_is_written_again_and_read_as_its_newest_row(r, keys, tmp_path):
    settings = load_settings({})
    alert = {"id": "a1", "kind": "spike", "severity": "high", "title": "Spike", "at": 100.0, "moment": 100.0}
    alert_store.add(r, keys, [alert])
    arch = Archiver(settings, r, keys, root=tmp_path)
    assert arch.run_once(200)["alerts"] == 1 and arch.run_once(260)["alerts"] == 0
    alert_store.acknowledge(r, keys, "a1", "sam", audit.entry("sam", "alert.ack", "alert", "a1"))
    assert arch.run_once(320)["alerts"] == 1
    rows = Archive(tmp_path).table("alerts")
    assert len(rows) == 1 and rows.iloc[0]["acked_by"] == "sam"


def test_retention_deletes_old_parts_only(tmp_path):
    write_part(tmp_path, "hashtags", [{"minute": 0, "tag": "old", "posts": 1, "archived_at": 0}], now=1000)
    write_part(tmp_path, "hashtags", [{"minute": 60, "tag": "new", "posts": 2, "archived_at": 1}], now=9000)
    assert Archive(tmp_path).expire(before=5000) == 1
    assert list(Archive(tmp_path).table("hashtags")["tag"]) == ["new"]


def test_an_empty_archive_reads_as_empty_tables_with_their_columns(tmp_path):
    cards = Archive(tmp_path).table("cards")
    assert cards.empty and "approved_at" in cards.columns


def test_a_published_response_is_archived_with_its_outcome_and_again_when_it_grows(r, keys, tmp_path):
    from report.build import card_table, response_table
    from store import outcomes as outcome_store
    from store import publishing

    settings = load_settings({})
    draft = {
        "id": "d1",
        "card_id": "c1",
        "network": "x",
        "text": "You can still dunk in the dark",
        "created_at": 90.0,
        "published": {"network": "x", "id": "1900", "url": "https://x.com/i/web/status/1900", "at": 100.0},
    }
    publishing.save_draft(r, keys, draft)
    publishing.save_draft(r, keys, {**draft, "id": "d2", "published": None})  # not published: not archived
    count = {"d1|replies": 2, "d1|positive": 1}
    aggregates.write_batch(
        r, keys, entry_ids=[], fresh_ids=[], agg=Aggregates(), feed=aggregates.FeedWrite(), outcomes=count, now=100
    )
    arch = Archiver(settings, r, keys, root=tmp_path)
    assert arch.run_once(200)["responses"] == 1 and arch.run_once(260)["responses"] == 0
    outcome_store.save_polled(r, keys, "d1", {"likes": 40, "reposts": 3, "replies": 1}, 270.0)
    assert arch.run_once(320)["responses"] == 1
    rows = Archive(tmp_path).table("responses")
    assert len(rows) == 1
    row = rows.iloc[0]
    assert (row["replies"], row["likes"], row["reposts"], row["positive"]) == (2, 40, 3, 1)
    shown = response_table(rows)
    assert list(shown["text"]) == ["You can still dunk in the dark"] and shown.iloc[0]["likes"] == 40
    cards = Archive(tmp_path).table("cards", latest=False)
    card_store_row = {"id": "c1", "title": "Blackout", "type": "opportunity", "priority": "P1", "status": "posted"}
    cards.loc[0] = {**dict.fromkeys(cards.columns), **card_store_row, "created_at": 50.0, "archived_at": 60.0}
    table = card_table(cards, rows)
    assert table.iloc[0]["responses"] == 1 and table.iloc[0]["engagement"] == 45
