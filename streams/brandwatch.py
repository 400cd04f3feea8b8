"""A recorded-looking, real-shaped low-rate event (~3 posts/s for 6 minutes) with known moments.

Unlike the simulated Super Bowl (150 posts/s, every author with a follower count, clean text) this is shaped like
what real sources hand over: most authors without follower counts (Bluesky, webhooks), retweets as "RT @x:" text
without ids, X's HTML entities (&amp; &lt; &gt;), hashtags only in the text, several languages per post, Chinese
and Japanese without spaces, app-generated shares that many real fans post verbatim.

Pure and seeded: `posts()` returns the post dicts (raw, as a source's payload: `created_at` in seconds from the
start), `MOMENTS` when each thing happens. `python -m streams.brandwatch` writes data/scenarios/brandwatch.jsonl
(the shipped fixture, checked against this generator by tests/streams/test_brandwatch.py). Replay it with
`WARROOM_EVENT=config/brandwatch.yaml .venv/bin/python cli.py replay data/scenarios/brandwatch.jsonl`.
"""

from __future__ import annotations

import random
import sys

import orjson

DURATION_S = 360
BASE_PER_S = 3.0
START = 1_423_000_000  # 2015-02-03, around Super Bowl XLIX; replay re-stamps every post to now
# seconds from the start -> what happens (the tests assert on these)
MOMENTS = {
    "rival_ad": (120, 180),  # a competitor's ad is talked about: ~25 posts, its own storyline
    "blackout": (200, 230),  # the stadium lights fail: 15+ posts per 5 s on a ~15-per-5-s stream
    "backlash": (250, 330),  # the brand's ad upsets people: negative brand posts
    "app_share": (60, 110),  # 13 real fans post the same app-generated share
    "feed_stops": (345, 360),  # the source goes quiet
}

CHATTER = [
    ("en", "That catch was unbelievable, how did he hold on to the ball"),
    ("en", "Refs missed an obvious holding call on that drive smh"),
    ("en", "We ordered six pizzas and they are gone already"),
    ("en", "This game is so close my nerves cannot take it"),
    ("en", "Who else is here for the commercials more than the football"),
    ("en", "Halftime show better be good this year"),
    ("en", "Mac &amp; cheese bites at the watch party are elite"),
    ("es", "Qué partido tan intenso, no puedo creerlo"),
    ("pt", "Que jogo incrível, estou nervoso demais"),
    ("ja", "スーパーボウル見てる、すごい試合"),
    ("zh", "超级碗的比赛太精彩了"),
    ("en", "Seattle is going to riot if they lose this"),
    ("en", "my dad has been yelling at the TV since kickoff lol"),
]
BRAND = [
    ("en", "Just dunked an Oreo in milk during the game, perfect"),
    ("en", "Oreo cookies and football, name a better duo"),
    ("en", "Who else is eating Oreos right now?"),
    ("zh", "我爱吃奥利奥，看超级碗必备"),
    ("ja", "オレオを食べながらスーパーボウル観戦中"),
    ("en", "the oreo ad &gt; every other ad tonight"),
]
RIVAL = [
    "That Chips Ahoy ad with the cookie robot was {v}",
    "Chips Ahoy cookie robot commercial is {v} #ChipsAhoy",
    "ok the chips ahoy robot ad was {v}",
]
VERDICTS = ["hilarious", "genius", "so weird", "great", "the best one", "adorable"]
BLACKOUT = [
    ("en", "The lights just went out at the stadium?! #blackout"),
    ("en", "Lights out in the dome, power outage at the Super Bowl #SB49"),
    ("es", "Se fue la luz en el estadio #blackout"),
    ("en", "BLACKOUT at the Super Bowl &amp; nobody knows what is happening"),
    ("ja", "スタジアムが停電した！ #blackout"),
    ("en", "still dark in the stadium, this blackout is wild"),
]
BACKLASH = [
    "thanks for the commercial that completely upset my kids #never_a_customer @oreo",
    "That Oreo ad was awful and offensive, I am done with this brand",
    "Oreo why would you make an ad like that, terrible and sad",
    "No more Oreo commercials. Please. That was horrible",
    "My whole family hated the Oreo ad, so disappointing",
    "Worst ad of the night goes to Oreo, truly upsetting #boycott",
]
APP_SHARE = "I've got the @Seahawks winning #SB49! Make your pick: https://nfl.example/pick"
SOURCES = [("bluesky", 0.45), ("x", 0.35), ("webhook", 0.2)]


def _author(rng: random.Random, source: str) -> dict:
    handle = f"fan{rng.randrange(100_000):05d}"
    if source == "bluesky":
        return {"handle": f"did:plc:{handle}"}
    if source == "x" and rng.random() < 0.5:  # X without the user expansion: no follower count either
        return {"handle": handle, "followers": int(rng.lognormvariate(5.0, 1.5))}
    return {"handle": handle}


def _post(rng: random.Random, seq: int, at: float, text: str, lang: str, source: str | None = None) -> dict:
    source = source or rng.choices([s for s, _ in SOURCES], [w for _, w in SOURCES])[0]
    post = {
        "id": f"{source}:bw-{seq}",
        "source": source,
        "author": _author(rng, source),
        "text": text,
        "created_at": START + at,
        "lang": lang,
    }
    if source == "bluesky" and lang != "en" and rng.random() < 0.5:
        post["langs"] = [lang, "en"]  # several languages on one post
    return post


def _rate(t: float) -> float:
    """Posts per second at t: the base, the blackout burst, silence at the end."""
    if MOMENTS["blackout"][0] <= t < MOMENTS["blackout"][1]:
        return BASE_PER_S * 3.0
    if t >= MOMENTS["feed_stops"][0]:
        return 0.0
    return BASE_PER_S


def posts(seed: int = 49) -> list[dict]:
    """Every post of the event, in time order."""
    rng = random.Random(seed)
    out: list[dict] = []
    seq = 0
    recent: list[tuple[str, str]] = []  # (handle, text) worth retweeting
    for sec in range(DURATION_S):
        n = _poisson(rng, _rate(sec))
        for _ in range(n):
            seq += 1
            at = sec + rng.random()
            out.append(_pick(rng, seq, at, recent))
    a0, a1 = MOMENTS["app_share"]
    for i in range(13):
        seq += 1
        out.append(_post(rng, seq, a0 + i * (a1 - a0) / 13, APP_SHARE, "en"))
    r0, r1 = MOMENTS["rival_ad"]
    for i in range(25):
        seq += 1
        text = rng.choice(RIVAL).format(v=rng.choice(VERDICTS))
        out.append(_post(rng, seq, r0 + i * (r1 - r0) / 25, text, "en"))
    out.sort(key=lambda p: p["created_at"])
    return out


def _pick(rng: random.Random, seq: int, at: float, recent: list[tuple[str, str]]) -> dict:
    if MOMENTS["blackout"][0] <= at < MOMENTS["blackout"][1] and rng.random() < 0.75:
        lang, text = rng.choice(BLACKOUT)
    elif MOMENTS["backlash"][0] <= at < MOMENTS["backlash"][1] and rng.random() < 0.3:
        lang, text = "en", rng.choice(BACKLASH)
    elif recent and rng.random() < 0.1:  # a retweet: text only, no id of what it repeats
        handle, original = rng.choice(recent)
        return _post(rng, seq, at, f"RT @{handle}: {original}", "en", "x")
    elif rng.random() < 0.12:
        lang, text = rng.choice(BRAND)
    else:
        lang, text = rng.choice(CHATTER)
    post = _post(rng, seq, at, text, lang)
    if rng.random() < 0.3:
        recent.append((post["author"]["handle"].rsplit(":", 1)[-1], text))
        del recent[:-30]
    return post


def _poisson(rng: random.Random, lam: float) -> int:
    k, p, limit = 0, 1.0, pow(2.718281828459045, -lam)
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def main() -> None:
    for post in posts():
        sys.stdout.buffer.write(orjson.dumps(post) + b"\n")


if __name__ == "__main__":
    main()
