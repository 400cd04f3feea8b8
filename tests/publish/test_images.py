"""A response's image, published through each network's real upload protocol against the local servers: fetched from
its URL at publish time, uploaded with its alt text, carried by the post; an image that is missing, not an image or
too large fails in words and nothing is posted; the dry run shows the image without fetching it; retries never
post twice."""

from __future__ import annotations

import time

import pytest

from publish import errors, media, outbox
from publish.errors import PublishError
from publish.publisher import MEDIA_PENDING, idempotency_key, publisher_for
from store import publishing
from tests.publish.conftest import ENVS, approved_draft

POST_PATH = {"x": "/2/tweets", "bluesky": "/xrpc/com.atproto.repo.createRecord", "mastodon": "/api/v1/statuses"}
UPLOAD_PATH = {"x": "/2/media/upload", "bluesky": "/xrpc/com.atproto.repo.uploadBlob", "mastodon": "/api/v2/media"}
ALT = "An Oreo cookie glowing in a dark stadium"


@pytest.fixture
def servers(x_server, bluesky_server, mastodon_server):
    return {"x": x_server, "bluesky": bluesky_server, "mastodon": mastodon_server}


class Sleeps(list):
    def __call__(self, s):
        self.append(s)


def _draft(network, image_url, alt=ALT, text="Lights out, cookies on", **kw):
    return {
        "id": "d1",
        "network": network,
        "text": text,
        "reply_to": None,
        "quote_of": None,
        "approval": {"revision": 0},
        "image": {"url": image_url, "alt": alt},
        **kw,
    }


def _intent(pub, draft):
    now = time.time()
    key = idempotency_key(draft)
    return {"key": key, "request": pub.render_request(draft, key=key, at=now).as_dict(), "started_at": now}


def _media_of_post(network, server, body):
    """(uploaded media as the server kept it, the alt text the post shows for it) for the one image of a post."""
    if network == "x":
        (mid,) = body["media"]["media_ids"]
        return server.media[mid], server.media[mid]["alt"]
    if network == "bluesky":
        (img,) = body["record"]["embed"]["images"]
        assert body["record"]["embed"]["$type"] == "app.bsky.embed.images"
        blob = img["image"]
        assert blob["$type"] == "blob" and blob["mimeType"] == "image/png"
        uploaded = server.media[blob["ref"]["$link"]]
        assert blob["size"] == len(uploaded["data"])
        return uploaded, img["alt"]
    (mid,) = [body["media_ids[]"]] if isinstance(body["media_ids[]"], str) else body["media_ids[]"]
    status = server.posts[0]["status"]
    assert [a["id"] for a in status["media_attachments"]] == [mid]
    return server.media[mid], status["media_attachments"][0]["description"]


@pytest.mark.parametrize("network", ["x", "bluesky", "mastodon"])
def test_the_post_carries_the_uploaded_image_with_its_alt_text(network, servers, image_server):
    server = servers[network]
    pub = publisher_for(network, ENVS[network](server))
    intent = _intent(pub, _draft(network, image_server.url + "/cookie.png"))
    posted = pub.publish(intent)
    (sent,) = server.writes(POST_PATH[network])
    uploaded, alt = _media_of_post(network, server, sent["body"])
    assert uploaded["data"] == image_server.cookie and uploaded["mime"] == "image/png"
    assert alt == ALT
    assert len(server.writes(UPLOAD_PATH[network])) == 1 and len(server.posts) == 1
    assert posted.id and pub.find(intent).id == posted.id  # reconciliation still finds it


def test_x_upload_is_multipart_oauth1_with_the_media_category_and_alt_text_through_metadata(x_server, image_server):
    pub = publisher_for("x", ENVS["x"](x_server))
    pub.publish(_intent(pub, _draft("x", image_server.url + "/cookie.png")))
    (upload,) = x_server.writes("/2/media/upload")
    assert upload["headers"]["content-type"].startswith("multipart/form-data")
    assert upload["headers"]["authorization"].startswith("OAuth ")
    assert (
        upload["body"] == {"media_category": "tweet_image"} and upload["files"]["media"]["content_type"] == "image/png"
    )
    (meta,) = x_server.writes("/2/media/metadata")
    mid = x_server.writes("/2/tweets")[0]["body"]["media"]["media_ids"][0]
    assert meta["body"] == {"id": mid, "metadata": {"alt_text": {"text": ALT}}}


def test_bluesky_quote_with_an_image_is_record_with_media(bluesky_server, image_server):
    quoted = bluesky_server.add_foreign("did:plc:fanfanfan", "3kq", "Who turned off the lights?")
    pub = publisher_for("bluesky", ENVS["bluesky"](bluesky_server))
    d = _draft("bluesky", image_server.url + "/cookie.png", quote_of=quoted["uri"])
    now = time.time()
    key = idempotency_key(d)
    rendered = pub.render_request(d, key=key, at=now, refs=pub.lookup(d))
    pub.publish({"key": key, "request": rendered.as_dict(), "started_at": now})
    embed = bluesky_server.writes(POST_PATH["bluesky"])[0]["body"]["record"]["embed"]
    assert embed["$type"] == "app.bsky.embed.recordWithMedia"
    assert embed["record"]["$type"] == "app.bsky.embed.record"
    assert (embed["record"]["record"]["uri"], embed["record"]["record"]["cid"]) == (quoted["uri"], quoted["cid"])
    assert embed["media"]["$type"] == "app.bsky.embed.images"
    assert embed["media"]["images"][0]["alt"] == ALT
    assert embed["media"]["images"][0]["image"]["ref"]["$link"] in bluesky_server.media


BAD = {
    "missing": ("/missing.png", "could not be fetched (404"),
    "not an image": ("/page.html", "is text/html, not an image"),
    "oversize": ("/huge.png", "use a smaller one"),
    "lying type": ("/liar.png", "says image/png but is not one"),
}


@pytest.mark.parametrize("case", list(BAD))
@pytest.mark.parametrize("network", ["x", "bluesky", "mastodon"])
def test_a_bad_image_fails_in_words_and_nothing_is_posted(network, case, servers, image_server):
    path, words = BAD[case]
    server = servers[network]
    sleeps = Sleeps()
    pub = publisher_for(network, ENVS[network](server), sleep=sleeps)
    with pytest.raises(PublishError) as exc:
        pub.publish(_intent(pub, _draft(network, image_server.url + path)))
    assert exc.value.kind == errors.IMAGE and words in exc.value.words
    assert errors.NAMES[network] in exc.value.words and path in exc.value.words
    assert server.posts == [] and server.writes(UPLOAD_PATH[network]) == [] and server.media == {}
    assert sleeps == []  # not retried: the image has to change


def test_the_size_limit_is_the_networks(bluesky_server, image_server):
    """Bluesky takes images up to 2 MB: a 3 MB one (fine for X) is refused before upload, naming the limit."""
    image_server.huge = image_server.huge[:3_000_000]
    pub = publisher_for("bluesky", ENVS["bluesky"](bluesky_server))
    with pytest.raises(PublishError) as exc:
        pub.publish(_intent(pub, _draft("bluesky", image_server.url + "/huge.png")))
    assert "is 3 MB, over Bluesky's 2 MB" in exc.value.words and bluesky_server.media == {}


def test_an_unreachable_image_is_said_so(x_server):
    pub = publisher_for("x", ENVS["x"](x_server), sleep=Sleeps())
    with pytest.raises(PublishError) as exc:
        pub.publish(_intent(pub, _draft("x", "http://127.0.0.1:9/cookie.png")))
    assert exc.value.kind == errors.IMAGE and "could not be reached" in exc.value.words and x_server.posts == []


@pytest.mark.parametrize("network", ["x", "bluesky", "mastodon"])
def test_a_failed_post_after_the_upload_is_retried_without_uploading_again(network, servers, image_server):
    server = servers[network]
    server.fail("POST", POST_PATH[network], 503, {"error": "Unavailable"})
    sleeps = Sleeps()
    pub = publisher_for(network, ENVS[network](server), backoff_s=0.25, sleep=sleeps)
    pub.publish(_intent(pub, _draft(network, image_server.url + "/cookie.png")))
    assert sleeps == [0.25] and len(server.posts) == 1
    assert len(server.writes(UPLOAD_PATH[network])) == 1 and len(image_server.requests) == 1


@pytest.mark.parametrize("network", ["x", "bluesky", "mastodon"])
def test_a_failed_upload_is_retried_then_posts_once(network, servers, image_server):
    server = servers[network]
    server.fail("POST", UPLOAD_PATH[network], 502, {"error": "Bad gateway"})
    pub = publisher_for(network, ENVS[network](server), backoff_s=0.1, sleep=Sleeps())
    pub.publish(_intent(pub, _draft(network, image_server.url + "/cookie.png")))
    assert len(server.writes(UPLOAD_PATH[network])) == 2 and len(server.media) == 1 and len(server.posts) == 1


@pytest.mark.parametrize("network", ["x", "bluesky", "mastodon"])
def test_the_dry_run_shows_the_image_and_fetches_nothing(network, servers, image_server):
    server = servers[network]
    url = image_server.url + "/cookie.png"
    for pub in (publisher_for(network, {}), publisher_for(network, ENVS[network](server))):
        req = pub.dry_run(_draft(network, url), time.time()).as_dict()
        (m,) = req["media"]
        assert m["url"] == url and m["alt"] == ALT and m["upload"].endswith(UPLOAD_PATH[network])
        assert MEDIA_PENDING in repr(req["json"])  # where the upload's id goes
    if network == "bluesky":
        assert req["json"]["record"]["embed"]["images"][0]["alt"] == ALT
    assert image_server.requests == [] and server.writes(UPLOAD_PATH[network]) == [] and server.posts == []


def test_outbox_publishes_a_drafted_image_exactly_once(r, keys, x_server, image_server):
    """The drafting form's image, through the approval chain and the durable intent, to the post."""
    url = image_server.url + "/cookie.png"
    d = approved_draft("x", "look", time.time(), image_url=url, image_alt=ALT)
    pub = publisher_for("x", ENVS["x"](x_server), backoff_s=0.01)
    dry = outbox.publish(r, keys, d, pub, by="alice", live=False)
    assert dry["request"]["media"][0]["url"] == url and image_server.requests == []
    out = outbox.publish(r, keys, d, pub, by="alice", live=True)
    assert out["intent"]["state"] == "published" and out["intent"]["request"]["media"][0]["alt"] == ALT
    (mid,) = x_server.writes("/2/tweets")[0]["body"]["media"]["media_ids"]
    assert x_server.media[mid]["alt"] == ALT
    again = outbox.publish(r, keys, d, pub, by="alice", live=True)
    assert again.get("already") and len(x_server.posts) == 1 and len(x_server.media) == 1


def test_outbox_records_a_bad_image_as_the_failure_in_words(r, keys, x_server, image_server):
    d = approved_draft("x", "look", time.time(), image_url=image_server.url + "/missing.png", image_alt=ALT)
    pub = publisher_for("x", ENVS["x"](x_server), backoff_s=0.01)
    with pytest.raises(PublishError, match="could not be fetched"):
        outbox.publish(r, keys, d, pub, by="alice", live=True)
    it = publishing.intent(r, keys, idempotency_key(d))
    assert it["state"] == "failed" and it["error"]["kind"] == errors.IMAGE and x_server.posts == []


def test_the_room_own_network_is_never_fetched_unless_the_operator_allows_it(x_server, image_server):
    env = {k: v for k, v in ENVS["x"](x_server).items() if k != "WARROOM_MEDIA_ALLOW_PRIVATE"}
    pub = publisher_for("x", env, sleep=Sleeps())
    with pytest.raises(PublishError) as exc:
        pub.publish(_intent(pub, _draft("x", image_server.url + "/cookie.png")))
    assert "is on a private address (127.0.0.1)" in exc.value.words
    assert image_server.requests == [] and x_server.posts == []
    assert media.private_host("http://169.254.169.254/latest/meta-data") == "169.254.169.254"
    assert media.private_host("http://10.1.2.3/cookie.png") == "10.1.2.3"
    assert media.private_host("http://[::1]:6379/") == "::1"
    assert media.private_host("https://8.8.8.8/cookie.png") is None


def test_redirects_are_followed_a_few_times_each_checked(x_server, image_server):
    pub = publisher_for("x", ENVS["x"](x_server), sleep=Sleeps())
    pub.publish(_intent(pub, _draft("x", image_server.url + "/moved.png")))
    assert len(x_server.posts) == 1 and [r["path"] for r in image_server.requests] == ["/moved.png", "/cookie.png"]
    with pytest.raises(PublishError) as exc:
        pub.publish(_intent(pub, _draft("x", image_server.url + "/loop.png", text="Another one")))
    assert "redirects more than 3 times" in exc.value.words and len(x_server.posts) == 1
