import csv
import io
import logging
import time

import orjson

from auth.identity import Identity
from store import audit, users
from store.keys import Keys
from store.server import EmbeddedServer, connect


def _write(r, keys, who, action, obj_id, at=None):
    def build(pipe):
        pipe.multi()
        pipe.hset(keys.cards, obj_id, b"{}")
        audit.append(pipe, keys, audit.entry(who, action, "card", obj_id, before=None, after={"t": obj_id}, at=at))

    audit.write(r, [], build)


def test_entry_has_every_field():
    ident = Identity(name="sam", roles=frozenset({"strategist", "approver"}), address="10.0.0.5")
    e = audit.entry(
        ident, "card.move", "card", "c1", before={"status": "new"}, after={"status": "approved"}, detail="drag"
    )
    assert e["who"] == "sam" and e["roles"] == ["approver", "strategist"] and e["address"] == "10.0.0.5"
    assert set(audit.FIELDS) - {"id"} == set(e)


def test_query_filters_newest_first(r, keys):
    t0 = time.time()
    for i, (who, action) in enumerate(
        [("sam", "card.create"), ("sam", "card.move"), ("ann", "card.approve"), ("sam", "post.mark")]
    ):
        _write(r, keys, who, action, f"c{i % 2}")
    everything = audit.query(r, keys)
    assert [e["action"] for e in everything] == ["post.mark", "card.approve", "card.move", "card.create"]
    assert [e["action"] for e in audit.query(r, keys, who="ann")] == ["card.approve"]
    assert [e["action"] for e in audit.query(r, keys, action="card.")] == ["card.approve", "card.move", "card.create"]
    assert [e["action"] for e in audit.query(r, keys, obj="card:c0")] == ["card.approve", "card.create"]
    assert [e["action"] for e in audit.timeline(r, keys, "card", "c1")] == ["card.move", "post.mark"]
    assert len(audit.query(r, keys, limit=2)) == 2
    assert audit.query(r, keys, since=time.time() + 60) == []
    assert len(audit.query(r, keys, since=t0 - 1, until=time.time() + 1)) == 4
    middle = everything[2]["id"]  # until = an entry's own millisecond includes it
    until = int(middle.split("-")[0]) / 1000
    assert middle in [e["id"] for e in audit.query(r, keys, until=until)]


def test_scan_reads_past_one_batch(r, keys):
    pipe = r.pipeline(transaction=True)
    for i in range(audit._SCAN_BATCH * 2 + 7):
        audit.append(pipe, keys, audit.entry("bot", "post.mark", "post", str(i)))
    pipe.execute()
    items = audit.query(r, keys, limit=None)
    assert len(items) == audit._SCAN_BATCH * 2 + 7 and len({e["id"] for e in items}) == len(items)
    assert items[0]["object_id"] == str(audit._SCAN_BATCH * 2 + 6)


def test_csv_and_jsonl_exports(r, keys):
    _write(r, keys, '=HYPERLINK("http://x")', "card.create", "c1")
    items = audit.query(r, keys)
    lines = b"".join(audit.to_jsonl(items)).splitlines()
    assert orjson.loads(lines[0])["after"] == {"t": "c1"}
    rows = list(csv.DictReader(io.StringIO("".join(audit.to_csv(items)))))
    assert (
        rows[0]["who"].startswith("'=")
        and orjson.loads(rows[0]["after"]) == {"t": "c1"}
        and rows[0]["before"] == "null"
    )


def test_size_warns_from_80_percent(r, keys, caplog):
    _write(r, keys, "sam", "card.create", "c1")
    used = audit.size(r, keys, 10**9)
    assert used["entries"] == 1 and used["bytes"] > 0 and not used["warning"]
    with caplog.at_level(logging.WARNING, logger="store.audit"):
        tight = audit.size(r, keys, int(used["bytes"] / 0.85))
    assert tight["warning"] and 0.8 <= tight["fraction"] < 1 and "budget" in caplog.text


def test_change_and_its_entry_survive_kill_9(tmp_path):
    """The write returns after WAITAOF: kill -9 the server at once, restart it on the same data: both are there."""
    server = EmbeddedServer(tmp_path / "valkey").start()
    keys = Keys("durable")
    try:
        r = connect(server.url)
        users.create(r, keys, "sam", ["strategist"], actor="tester")
        server.process.kill()  # SIGKILL: no shutdown flush
        server.process.wait(10)
        r.close()
        restarted = EmbeddedServer(tmp_path / "valkey", password=server.password).start()
        server = restarted
        r = connect(server.url)
        assert users.get(r, keys, "sam")["roles"] == ["strategist"]
        [entry] = audit.query(r, keys, action="user.create")
        assert entry["object_id"] == "sam" and entry["who"] == "tester"
        r.close()
    finally:
        server.stop()


def test_an_aborted_write_leaves_neither_change_nor_entry(r, keys):
    def build(pipe):
        pipe.multi()
        pipe.hset(keys.cards, "c1", b"{}")
        audit.append(pipe, keys, audit.entry("sam", "card.create", "card", "c1"))
        raise ValueError("guardrail says no")

    try:
        audit.write(r, [], build)
    except ValueError:
        pass
    assert not r.exists(keys.cards) and not r.exists(keys.audit)


def test_a_concurrent_change_retries_and_records_once(r, keys, redis_url):
    other = connect(redis_url)
    r.hset(keys.cards, "c1", b"v1")
    attempts = []

    def build(pipe):
        before = pipe.hget(keys.cards, "c1")
        attempts.append(before)
        if len(attempts) == 1:
            other.hset(keys.cards, "c1", b"v2")  # someone else writes between our read and our EXEC
        pipe.multi()
        pipe.hset(keys.cards, "c1", before + b"+mine")
        audit.append(
            pipe,
            keys,
            audit.entry("sam", "card.edit", "card", "c1", before=before.decode(), after=(before + b"+mine").decode()),
        )

    audit.write(r, [keys.cards], build)
    assert attempts == [b"v1", b"v2"] and r.hget(keys.cards, "c1") == b"v2+mine"
    [entry] = audit.query(r, keys)
    assert entry["before"] == "v2" and entry["after"] == "v2+mine"
    other.close()
