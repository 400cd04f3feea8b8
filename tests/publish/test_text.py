"""Each network's counting rules and Bluesky facets."""

from __future__ import annotations

from publish import text


def test_x_weighted_length():
    assert text.x_length("hello") == 5
    assert text.x_length("https://example.com/" + "a" * 100) == 23  # every link is 23
    assert text.x_length("日本語") == 6  # CJK weighs 2
    assert text.x_length("😀") == 2 and text.x_length("👍🏽") == 2 and text.x_length("👨‍👩‍👧") == 2  # emoji sequences 2
    assert text.x_length("é") == 1 and text.x_length("\u2019") == 1  # Latin-1 and general punctuation weigh 1
    assert text.over_limit("x", "a" * 280) == 0 and text.over_limit("x", "a" * 281) == 1
    assert text.over_limit("x", "日" * 141) == 2


def test_bluesky_counts_graphemes():
    assert text.bluesky_length("👨‍👩‍👧") == 1 and text.bluesky_length("e\u0301") == 1
    assert text.over_limit("bluesky", "👍🏽" * 300) == 0 and text.over_limit("bluesky", "a" * 301) == 1


def test_mastodon_links_23_and_remote_mentions_local_part():
    assert text.mastodon_length("https://example.com/" + "a" * 100) == 23
    assert text.mastodon_length("@someone@very.long.instance.example hi") == len("@someone hi")
    assert text.mastodon_length("mail me at a@b.com") == len("mail me at a@b.com")
    assert text.over_limit("mastodon", "a" * 500) == 0 and text.over_limit("mastodon", "a" * 501) == 1


def test_urls_leave_trailing_punctuation_out():
    assert [u for _, _, u in text.urls("see https://oreo.com/dark. (https://x.com/a_(b)) ok")] == [
        "https://oreo.com/dark",
        "https://x.com/a_(b)",
    ]


def test_bluesky_facets_use_utf8_byte_offsets():
    t = "Café ☕ @fan.test #SuperBowl https://oreo.com/ünï and @unknown.test #123"
    dids = {"fan.test": "did:plc:fan"}
    facets = text.bluesky_facets(t, resolve=dids.get)
    raw = t.encode()
    got = [(raw[f["index"]["byteStart"] : f["index"]["byteEnd"]].decode(), f["features"][0]) for f in facets]
    assert got == [
        ("@fan.test", {"$type": "app.bsky.richtext.facet#mention", "did": "did:plc:fan"}),
        ("#SuperBowl", {"$type": "app.bsky.richtext.facet#tag", "tag": "SuperBowl"}),
        ("https://oreo.com/ünï", {"$type": "app.bsky.richtext.facet#link", "uri": "https://oreo.com/ünï"}),
    ]  # an unresolved mention and an all-digit tag stay plain text


def test_mentions_and_hashtags_inside_links_are_not_entities():
    t = "https://example.com/@user/#frag"
    assert text.mentions(t) == [] and text.hashtags(t) == []
