"""Each publisher against a local server speaking its network's API: the request sent is the one rendered, replies
and quotes, and every error case in words (401, 403, 429 with Retry-After, 5xx retried, duplicates)."""

from __future__ import annotations

import logging
import time

import pytest

from publish import errors
from publish.errors import PublishError
from publish.publisher import idempotency_key, publisher_for
from tests.publish.conftest import ENVS

POST_PATH = {"x": "/2/tweets", "bluesky": "/xrpc/com.atproto.repo.createRecord", "mastodon": "/api/v1/statuses"}


@pytest.fixture
def servers(x_server, bluesky_server, mastodon_server):
    return {"x": x_server, "bluesky": bluesky_server, "mastodon": mastodon_server}


def _draft(network, text="Lights out, cookies on https://oreo.com/dark", **kw):
    return {
        "id": "d1",
        "network": network,
        "text": text,
        "reply_to": None,
        "quote_of": None,
        "approval": {"revision": 0},
        **kw,
    }


def _intent(pub, draft, now=None):
    now = time.time() if now is None else now
    key = idempotency_key(draft)
    req = pub.render_request(draft, key=key, at=now, refs=pub.lookup(draft))
    return {"key": key, "request": req.as_dict(), "started_at": now}


class Sleeps(list):
    def __call__(self, s):
        self.append(s)


@pytest.mark.parametrize("network", ["x", "bluesky", "mastodon"])
def test_the_request_sent_is_exactly_the_rendered_one(network, servers):
    server = servers[network]
    pub = publisher_for(network, ENVS[network](server))
    intent = _intent(pub, _draft(network))
    posted = pub.publish(intent)
    sent = server.writes(POST_PATH[network])
    assert len(sent) == 1
    req = intent["request"]
    assert req["method"] == "POST" and req["url"] == server.url + POST_PATH[network]
    assert sent[0]["body"] == req["json"]
    assert sent[0]["encoding"] == req["encoding"]
    for name, value in req["headers"].items():
        assert sent[0]["headers"][name.lower()] == value
    assert posted.id and posted.network == network
    assert pub.find(intent).id == posted.id


def test_x_reply_and_quote_bodies(x_server):
    pub = publisher_for("x", ENVS["x"](x_server))
    pub.publish(_intent(pub, _draft("x", "a reply", reply_to="111")))
    pub.publish(_intent(pub, _draft("x", "a quote", quote_of="222")))
    bodies = [w["body"] for w in x_server.writes("/2/tweets")]
    assert bodies == [
        {"text": "a reply", "reply": {"in_reply_to_tweet_id": "111"}},
        {"text": "a quote", "quote_tweet_id": "222"},
    ]


def test_bluesky_reply_uses_the_parents_root_and_quote_embeds_a_strong_ref(bluesky_server):
    root = bluesky_server.add_foreign("did:plc:fanfanfan", "3kroot", "Who turned off the lights?")
    ref = {"uri": root["uri"], "cid": root["cid"]}
    parent = bluesky_server.add_foreign(
        "did:plc:fanfanfan", "3kparent", "Still dark", reply={"root": ref, "parent": ref}
    )
    pub = publisher_for("bluesky", ENVS["bluesky"](bluesky_server))
    pub.publish(_intent(pub, _draft("bluesky", "Dunk anyway @fan.test #SuperBowl", reply_to=parent["uri"])))
    record = bluesky_server.writes(POST_PATH["bluesky"])[0]["body"]["record"]
    assert record["reply"]["root"]["uri"] == root["uri"] and record["reply"]["root"]["cid"] == root["cid"]
    assert record["reply"]["parent"]["uri"] == parent["uri"] and record["reply"]["parent"]["cid"] == parent["cid"]
    features = [f["features"][0] for f in record["facets"]]
    assert {"$type": "app.bsky.richtext.facet#mention", "did": "did:plc:fanfanfan"} in features
    assert {"$type": "app.bsky.richtext.facet#tag", "tag": "SuperBowl"} in features

    pub.publish(_intent(pub, _draft("bluesky", "Quoting this one", quote_of=root["uri"])))
    embed = bluesky_server.writes(POST_PATH["bluesky"])[1]["body"]["record"]["embed"]
    assert embed["$type"] == "app.bsky.embed.record"
    assert (embed["record"]["uri"], embed["record"]["cid"]) == (root["uri"], root["cid"])


def test_mastodon_reply_carries_in_reply_to_id_and_instance_limit_is_read(mastodon_server):
    pub = publisher_for("mastodon", ENVS["mastodon"](mastodon_server))
    pub.publish(_intent(pub, _draft("mastodon", "@fan@example.social dunk on", reply_to="555")))
    assert mastodon_server.writes("/api/v1/statuses")[0]["body"]["in_reply_to_id"] == "555"
    mastodon_server.max_characters = 1000
    assert pub.max_characters() == 1000


@pytest.mark.parametrize("network", ["x", "bluesky", "mastodon"])
def test_wrong_credentials_say_which_variable_to_check(network, servers):
    env = ENVS[network](servers[network])
    wrong = {"x": "X_API_KEY", "bluesky": "BLUESKY_APP_PASSWORD", "mastodon": "MASTODON_PUBLISH_TOKEN"}[network]
    env[wrong] = "wrong-value"
    pub = publisher_for(network, env)
    with pytest.raises(PublishError) as exc:
        pub.publish(_intent(pub, _draft(network)) if network != "bluesky" else _bsky_intent_without_login(pub))
    assert exc.value.kind == errors.AUTH and exc.value.status == 401
    assert wrong.split("_")[0] in exc.value.words and "wrong-value" not in exc.value.words
    assert servers[network].posts == []


def _bsky_intent_without_login(pub):
    now = time.time()
    d = _draft("bluesky")
    return {"key": "k", "request": pub.render_request(d, key="k", at=now).as_dict(), "started_at": now}


@pytest.mark.parametrize("network", ["x", "bluesky", "mastodon"])
def test_forbidden_is_explained(network, servers):
    server = servers[network]
    payload = {
        "x": {"detail": "You are not permitted to perform this action.", "title": "Forbidden", "status": 403},
        "bluesky": {"error": "Forbidden", "message": "account is takendown"},
        "mastodon": {"error": "This action is not allowed"},
    }[network]
    server.fail("POST", POST_PATH[network], 403, payload)
    pub = publisher_for(network, ENVS[network](server))
    intent = _intent(pub, _draft(network))
    with pytest.raises(PublishError) as exc:
        pub.publish(intent)
    # Bluesky's atproto reports 401 and 403 alike; the words still say 403 where the status is 403.
    assert exc.value.kind == errors.FORBIDDEN and "403" in exc.value.words
    assert server.posts == []


@pytest.mark.parametrize("network", ["x", "bluesky", "mastodon"])
def test_rate_limit_gives_the_wait_from_retry_after(network, servers):
    server = servers[network]
    headers = {
        "x": {"x-rate-limit-reset": str(int(time.time()) + 90)},
        "bluesky": {"Retry-After": "90"},
        "mastodon": {"Retry-After": "90", "X-RateLimit-Remaining": "0"},
    }[network]
    server.fail("POST", POST_PATH[network], 429, {"error": "RateLimitExceeded", "title": "Too Many Requests"}, headers)
    pub = publisher_for(network, ENVS[network](server))
    with pytest.raises(PublishError) as exc:
        pub.publish(_intent(pub, _draft(network)))
    assert exc.value.kind == errors.RATE_LIMITED
    assert 85 <= exc.value.retry_after <= 91
    assert "try again in 9" in exc.value.words
    assert server.posts == []


@pytest.mark.parametrize("network", ["x", "bluesky", "mastodon"])
def test_server_errors_are_retried_with_back_off_then_post_once(network, servers):
    server = servers[network]
    server.fail("POST", POST_PATH[network], 503, {"error": "Unavailable"}, times=2)
    sleeps = Sleeps()
    pub = publisher_for(network, ENVS[network](server), backoff_s=0.25, sleep=sleeps)
    posted = pub.publish(_intent(pub, _draft(network)))
    assert sleeps == [0.25, 0.5]
    assert len(server.posts) == 1 and posted.id


@pytest.mark.parametrize("network", ["x", "bluesky", "mastodon"])
def test_server_errors_that_persist_give_up_in_words(network, servers):
    server = servers[network]
    server.fail("POST", POST_PATH[network], 500, {"error": "boom"}, times=10)
    sleeps = Sleeps()
    pub = publisher_for(network, ENVS[network](server), retries=2, backoff_s=0.1, sleep=sleeps)
    with pytest.raises(PublishError) as exc:
        pub.publish(_intent(pub, _draft(network)))
    assert exc.value.kind == errors.SERVER and "tried 3 times" in exc.value.words
    assert sleeps == [0.1, 0.2] and server.posts == []


def test_x_a_post_that_went_through_before_a_5xx_is_found_not_reposted(x_server):
    """The first attempt's answer is lost (here: the server stored it, then we pretend the answer was a 503)."""
    pub = publisher_for("x", ENVS["x"](x_server), sleep=Sleeps())
    intent = _intent(pub, _draft("x"))
    first = pub.publish(intent)
    x_server.fail("POST", "/2/tweets", 503, {"title": "Service Unavailable"})
    again = pub.publish(intent)  # a retry of the same intent finds the earlier post before re-sending
    assert again.id == first.id and len(x_server.posts) == 1


def test_x_duplicate_content_is_named(x_server):
    pub = publisher_for("x", ENVS["x"](x_server))
    pub.publish(_intent(pub, _draft("x", "same words")))
    other = _draft("x", "same words", id="d2")
    intent = _intent(pub, other)
    intent["started_at"] = time.time() + 3600  # the earlier post is outside this intent's window: not ours
    with pytest.raises(PublishError) as exc:
        pub.publish(intent)
    assert exc.value.kind == errors.DUPLICATE and "duplicate content" in exc.value.words


def test_mastodon_validation_failure_is_in_the_servers_words(mastodon_server):
    mastodon_server.fail(
        "POST", "/api/v1/statuses", 422, {"error": "Validation failed: Text character limit of 500 exceeded"}
    )
    pub = publisher_for("mastodon", ENVS["mastodon"](mastodon_server))
    with pytest.raises(PublishError) as exc:
        pub.publish(_intent(pub, _draft("mastodon")))
    assert exc.value.kind == errors.INVALID and "character limit of 500" in exc.value.words


def test_mastodon_duplicate_validation_is_a_duplicate(mastodon_server):
    mastodon_server.fail("POST", "/api/v1/statuses", 422, {"error": "Validation failed: Text is a duplicate"})
    pub = publisher_for("mastodon", ENVS["mastodon"](mastodon_server), sleep=Sleeps())
    with pytest.raises(PublishError) as exc:
        pub.publish(_intent(pub, _draft("mastodon")))
    assert exc.value.kind == errors.DUPLICATE


def test_mastodon_retry_reuses_the_idempotency_key(mastodon_server):
    pub = publisher_for("mastodon", ENVS["mastodon"](mastodon_server), sleep=Sleeps())
    intent = _intent(pub, _draft("mastodon"))
    mastodon_server.fail("POST", "/api/v1/statuses", 502, {"error": "Bad gateway"})
    pub.publish(intent)
    keys = [w["headers"]["idempotency-key"] for w in mastodon_server.writes("/api/v1/statuses")]
    assert keys == [intent["key"], intent["key"]] and len(mastodon_server.posts) == 1


@pytest.mark.parametrize("network", ["x", "bluesky", "mastodon"])
def test_unreachable_network_is_a_network_error(network):
    env = ENVS[network](
        type(
            "S",
            (),
            {"url": "http://127.0.0.1:9", "consumer_key": "ck", "handle": "h.test", "password": "p", "token": "t"},
        )()
    )
    pub = publisher_for(network, env, retries=1, sleep=Sleeps())
    with pytest.raises(PublishError) as exc:
        pub.publish(_bsky_intent_without_login(pub) if network == "bluesky" else _intent(pub, _draft(network)))
    assert exc.value.kind == errors.NETWORK


@pytest.mark.parametrize("network", ["x", "bluesky", "mastodon"])
def test_without_credentials_nothing_is_sent_and_the_words_name_the_variables(network):
    pub = publisher_for(network, {})
    assert not pub.configured
    req = pub.dry_run(_draft(network), time.time())
    assert req.method == "POST"
    with pytest.raises(PublishError) as exc:
        pub.publish({"key": "k", "request": req.as_dict(), "started_at": time.time()})
    assert exc.value.kind == errors.NOT_CONFIGURED and pub.env[0] in exc.value.words


@pytest.mark.parametrize("network", ["x", "bluesky", "mastodon"])
def test_secrets_never_reach_the_logs(network, servers, caplog):
    env = ENVS[network](servers[network])
    caplog.set_level(logging.DEBUG)
    pub = publisher_for(network, env)
    intent = _intent(pub, _draft(network))
    pub.publish(intent)
    servers[network].fail("POST", POST_PATH[network], 401, {"error": "nope"})
    with pytest.raises(PublishError):
        pub.publish(_intent(pub, _draft(network, "another")))
    logged = caplog.text
    assert logged  # the libraries do log at DEBUG: the check below looks at something
    for name in pub.secret_env:
        assert env[name] not in logged
