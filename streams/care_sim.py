"""Customer care in the simulated game: questions, complaints, safety issues, praise and sarcasm that is not a
complaint, each with its truth (`Truth.care`). Pure and seeded like streams/scenario.py, on its own random stream
and id sequence, so adding care posts leaves the rest of the broadcast exactly as it was.
"""

from __future__ import annotations

import random

CARE_SHARE = 0.0027  # care posts per base post (rate 150 -> about 0.4 a second, one every game minute at 24x)
CARE_SALT = 7_919
CARE_AUTHORS = range(1000, 1400)  # a few hundred fans, so some write more than once (a case folds them)

# Truth for the broadcast's own brand templates: most are chatter; a few are real care work.
CARE_OF_TEMPLATE = {
    "The Oreo ad was the best one so far #SuperBowlAds": "praise",
    "Oreo + Super Bowl = perfect night {e} #SuperBowl": "praise",
    "Oreo y fútbol, la mejor combinación {e}": "praise",
    "Heard there's an Oreo recall?? anyone know #SuperBowl": "safety",
    "Found something weird in my Oreo pack... not cool @oreo": "complaint",
}

CARE_TEMPLATES: dict[str, list[str]] = {
    "question": [
        "@oreo where can I buy the new flavor in {city}?",
        "where can i find Oreo Double Stuf in {city}? every store is out",
        "does anyone know if Oreos are vegan? asking for the party",
        "@oreo how do I enter the Super Bowl promo?",
        "is the Oreo promo code still working? @oreo",
        "@oreo do you ship the limited edition pack to Canada?",
        "@oreo when does the new flavor come out?",
    ],
    "complaint": [
        "@oreo my pack arrived crushed, every single cookie broken",
        "these Oreos are stale, bought them yesterday @oreo",
        "@oreo half the cookies in my Oreo box are missing the cream",
        "Ordered Oreos for the party, never arrived. @oreo I want a refund",
        "@oreo your promo code doesn't work, this is so frustrating",
        "Oreo pack was open when I got it from the store. not okay @oreo",
        "@oreo the family size pack had like 10 cookies in it. seriously?",
    ],
    "safety": [
        "found something sharp in my Oreo cookies @oreo what is this",
        "my son had an allergic reaction to the new Oreo flavor and the label says nut free @oreo",
        "I think I got food poisoning from Oreos tonight @oreo",
        "@oreo there was a piece of metal in my Oreo, I chipped a tooth",
    ],
    "sarcasm": [
        "I hate how good this Oreo ad is lol",
        "Oreo ruined my diet again 😂 #SuperBowl",
        "worst decision tonight: opening a second pack of Oreos lol",
        "@oreo I'm filing a complaint: the pack is empty because I ate it all 😂",
        "thanks a lot Oreo, now I can't stop eating 🙄",
    ],
    "praise": [
        "@oreo thank you for the fast reply, the new pack arrived perfect",
        "love the new Oreo flavor, best snack of the night",
        "Shoutout to @oreo support, they sorted my order in minutes",
    ],
    "followup": [
        "@oreo still waiting for an answer about this",
        "@oreo hello?? anyone there? still waiting",
    ],
}
WEIGHTS = {"question": 3.0, "complaint": 3.0, "safety": 0.35, "sarcasm": 2.0, "praise": 2.0, "followup": 1.0}
TRUTH = {"sarcasm": "none", "followup": "complaint"}


def care_of(template: str) -> str:
    """The care truth of one of the broadcast's own templates."""
    return CARE_OF_TEMPLATE.get(template, "none")


class CareStream:
    """The care posts of a scenario's wall step i, each with its truth."""

    def __init__(self, scenario):
        self.sc = scenario
        self._seq = 0
        self._last: dict[str, str] = {}  # author handle -> their last care post id (follow-ups reply to it)

    def step(self, i: int, offset: float, mult: float, truth_cls) -> list[tuple[dict, object]]:
        from streams.scenario import STEP_S, _poisson

        rng = random.Random((self.sc.seed * 1_000_003 + i) * CARE_SALT + 1)
        n = _poisson(rng, self.sc.rate * CARE_SHARE * mult * STEP_S)
        return [self._post(rng, offset + rng.random() * STEP_S, truth_cls) for _ in range(n)]

    def _post(self, rng: random.Random, offset: float, truth_cls):
        from streams.scenario import CITIES, GRADES

        self._seq += 1
        pid = f"simulator:{self.sc.seed}-care{self._seq}"
        names, weights = zip(*WEIGHTS.items(), strict=True)
        kind = rng.choices(names, weights)[0]
        author = self.sc.fans[rng.choice(CARE_AUTHORS)]
        if kind == "followup" and author.handle not in self._last:
            kind = "complaint"
        text = rng.choice(CARE_TEMPLATES[kind]).format(city=rng.choice(CITIES))
        if kind != "followup":
            text = self.sc._personal(rng, text)
        post = self.sc._dict(pid, author, text, "en", offset, rng)
        if kind == "followup":
            post["reply_to"] = self._last[author.handle]
        self._last[author.handle] = pid
        if len(self._last) > 2000:
            self._last.pop(next(iter(self._last)))
        care = TRUTH.get(kind, kind)
        grade = {"safety": 3, "complaint": 3, "question": 2, "praise": 1}.get(care, GRADES["brand"] - 1)
        return post, truth_cls(pid, f"care_{kind}", grade, False, offset, care)
