"""A seeded, deterministic Super Bowl broadcast as a stream of post dicts, with the truth about each.

Pure: `Scenario.step(i)` returns the posts of wall-clock step i (STEP_S long) relative to the start;
the runner in streams/sources/simulator.py maps steps to the real clock and writes them out.
"""

from __future__ import annotations

import logging
import math
import random
from dataclasses import dataclass

from analytics import entities
from streams.care_sim import CareStream, care_of

logger = logging.getLogger(__name__)

STEP_S = 0.1
GAME_MINUTES = 240.0

# (name, start minute, end minute, volume multiplier) of the broadcast, from the start of coverage.
PHASES = [
    ("Pre-game", 0, 60, 0.6),
    ("Q1", 60, 95, 1.0),
    ("Q2", 95, 140, 1.1),
    ("Halftime show", 140, 160, 2.2),
    ("Q3", 160, 200, 1.1),
    ("Q4", 200, 235, 1.3),
    ("Final whistle", 235, 240, 2.5),
]
AD_BREAKS = [(78, 81), (118, 121), (138, 140), (185, 188), (215, 218)]

# People rarely type the same sentence: openers and closers make each fan's post their own.
OPENERS = [
    "omg",
    "ok but",
    "lol",
    "honestly",
    "wow",
    "yo",
    "not gonna lie",
    "wait",
    "bro",
    "ngl",
    "y'all",
    "me rn:",
    "update:",
    "hot take:",
    "can we talk about how",
    "so",
    "meanwhile",
    "breaking:",
]
CLOSERS = [
    "smh",
    "let's go",
    "again??",
    "I'm screaming",
    "no way",
    "what a night",
    "classic",
    "unreal",
    "for real",
    "at my watch party",
    "from the couch",
    "in {city}",
    "#{team}",
    "someone explain",
    "called it",
    "this is wild",
    "best night of the year",
    "can't make this up",
]
CITIES = ["Chicago", "Austin", "Denver", "Miami", "Seattle", "Boston", "Atlanta", "Phoenix", "Detroit", "Tampa"]
EMOJI = ["🏈", "🔥", "😂", "😱", "🙌", "💀", "👀", "🍪", "🥛", "🌑", "😭", "💡", "🎉"]
TEAMS = ["Ravens", "49ers", "Chiefs", "Eagles"]
LINKS = ["https://example.com/live/{n}", "https://news.example.org/superbowl/{n}", "https://youtu.be/x{n}"]

TEMPLATES: dict[str, list[tuple[str, str]]] = {
    "game": [
        ("en", "What a catch!!! {e} #SuperBowl"),
        ("en", "That defense is unreal {e}"),
        ("en", "Refs are blind tonight smh #SuperBowl"),
        ("en", "{team} looking sharp so far {e}"),
        ("en", "Touchdown {team}!!! {e}{e} #SuperBowl"),
        ("en", "Can't believe that call. #SuperBowl #NFL"),
        ("en", "this game is so boring lol"),
        ("en", "3rd and long, here we go {e}"),
        ("es", "¡Qué jugada! {e} #SuperBowl"),
        ("pt", "Que jogo incrível {e} #SuperBowl"),
        ("en", "Nachos ready, game on {e} #SuperBowl"),
        ("en", "My fantasy team is crying {e}"),
    ],
    "brand": [
        ("en", "Just dunked an Oreo in milk during the game {e}"),
        ("en", "Oreo + Super Bowl = perfect night {e} #SuperBowl"),
        ("en", "Who else is eating Oreos right now? #SuperBowl"),
        ("en", "@oreo where is your ad this year??"),
        ("en", "The Oreo ad was the best one so far #SuperBowlAds"),
        ("en", "honestly oreos are overrated"),
        ("en", "My kids ate all the Oreos before kickoff {e}"),
        ("es", "Oreo y fútbol, la mejor combinación {e}"),
        ("en", "Twist, lick, dunk. Game night tradition #oreo {e}"),
    ],
    "competitor": [
        ("en", "That Chips Ahoy ad was hilarious {e} #SuperBowlAds"),
        ("en", "Chips Ahoy > Oreo, fight me"),
        ("en", "Milanos during the game feel fancy {e}"),
        ("en", "Pepperidge Farm remembers the Super Bowl {e}"),
    ],
    "ads": [
        ("en", "That commercial made me cry {e} #SuperBowlAds"),
        ("en", "Worst ad of the night so far #AdBowl"),
        ("en", "Super Bowl ad money could fund a small country {e}"),
        ("en", "The car commercial was actually good #SuperBowlAds"),
    ],
    "halftime": [
        ("en", "This halftime show is {e}{e} #HalftimeShow"),
        ("en", "Halftime show > the game tbh #HalftimeShow"),
        ("es", "El show de medio tiempo {e} #HalftimeShow"),
        ("en", "who approved this halftime setlist {e}"),
    ],
    "blackout": [
        ("en", "The lights just went out at the stadium?! #SuperBowl #blackout"),
        ("en", "POWER OUTAGE at the Super Bowl {e} #blackout"),
        ("en", "lights out in the dome lol {e} #SuperBowl"),
        ("es", "Se fue la luz en el estadio {e} #SuperBowl #blackout"),
        ("pt", "Blackout no Super Bowl! {e} #blackout"),
        ("fr", "Panne de courant au Super Bowl {e} #blackout"),
        ("de", "Stromausfall beim Super Bowl {e} #blackout"),
        ("en", "Someone forgot to pay the electric bill #blackout {e}"),
        ("en", "Still dark. How long is this going to take #blackout"),
        ("en", "Power outage halts the game. Officials say play resumes soon. {link} #SuperBowl"),
        ("en", "Sitting in the dark at the Super Bowl. Anyone got snacks? #blackout"),
    ],
    "brand_blackout": [
        ("en", "You can still dunk in the dark @oreo {e} #blackout"),
        ("en", "Perfect time for an Oreo in the dark #blackout {e}"),
        ("en", "Oreo needs to say something about this blackout, now is the moment"),
        ("en", "Cookies by phone light #blackout #oreo {e}"),
        ("es", "Una Oreo en la oscuridad {e} #blackout"),
    ],
    "threat": [
        ("en", "Heard there's an Oreo recall?? anyone know #SuperBowl"),
        ("en", "Found something weird in my Oreo pack... not cool @oreo"),
        ("en", "Is Oreo facing a lawsuit over the new recipe?"),
    ],
    "spam": [
        ("en", "FREE cookies click here!!! {link} #SuperBowl {hot} #giveaway"),
        ("en", "Win a free TV!!! DM me {link} #SuperBowl #NFL #giveaway #free #win"),
        ("en", "Crypto airdrop live now {link} #SuperBowl {hot}"),
    ],
}
# Truth: how much each topic matters to the brand team (0 noise .. 3 act now).
GRADES = {
    "game": 0,
    "brand": 2,
    "competitor": 1,
    "ads": 1,
    "halftime": 0,
    "blackout": 1,
    "brand_blackout": 3,
    "threat": 3,
    "spam": 0,
}
INFLUENCERS = [
    "bigsportsdesk",
    "nflnation",
    "gridirongossip",
    "sportscenterish",
    "hoopsandhalftime",
    "foodiefeed",
    "snackreviewer",
    "popculturepulse",
    "thedailyplay",
    "breakingsports",
    "celebchef",
    "memequeen",
]


@dataclass(frozen=True)
class Truth:
    id: str
    topic: str
    grade: int
    spam: bool
    at: float  # seconds since the simulation's start
    care: str = "none"  # customer care truth: safety, complaint, question, praise or none (streams/care_sim.py)


@dataclass(frozen=True)
class Author:
    handle: str
    name: str
    followers: int
    verified: bool
    bot: bool


def _make_authors(rng: random.Random) -> tuple[list[Author], list[Author], list[Author]]:
    fans = [Author(f"fan{i:05d}", f"Fan {i}", int(rng.lognormvariate(5.5, 1.6)), False, False) for i in range(5000)]
    stars = [Author(h, h.title(), int(rng.uniform(2e5, 2e7)), True, False) for h in INFLUENCERS]
    bots = [Author(f"deals_4u_{i}", "Deals 4 U", rng.randint(0, 40), False, True) for i in range(200)]
    return fans, stars, bots


class Scenario:
    """The broadcast: volume follows the game's phases; the blackout sets off a burst that fades."""

    def __init__(
        self,
        *,
        rate: float,
        speedup: float,
        seed: int,
        blackout_minute: float,
        blackout_minutes: float,
        start_minute: float = 0.0,
        loop: bool = True,
        start_wall: float = 0.0,
    ):
        self.rate, self.speedup, self.seed = rate, speedup, seed
        self.blackout = (blackout_minute, blackout_minute + blackout_minutes)
        self.start_minute, self.loop, self.start_wall = start_minute, loop, start_wall
        self.fans, self.stars, self.bots = _make_authors(random.Random(seed))
        self._recent: list[tuple[str, str, str, int, str]] = []  # (id, handle, text, grade, topic) worth reposting
        self._seq = 0
        self.care = CareStream(self)  # care posts ride on their own random stream and ids

    # The clock -------------------------------------------------------------------------------------------
    def game_minute(self, offset_s: float) -> float:
        minute = self.start_minute + offset_s * self.speedup / 60.0
        return minute % GAME_MINUTES if self.loop else min(minute, GAME_MINUTES)

    def blackout_offsets(self) -> float | None:
        """Wall seconds after the start when the (first) blackout begins."""
        delta = self.blackout[0] - self.start_minute
        if delta < 0:
            delta += GAME_MINUTES if self.loop else math.nan
        return None if math.isnan(delta) else delta * 60.0 / self.speedup

    def phase(self, minute: float) -> str:
        if self.blackout[0] <= minute < self.blackout[1]:
            return "Blackout"
        if any(a <= minute < b for a, b in AD_BREAKS):
            return "Ad break"
        return next((name for name, a, b, _ in PHASES if a <= minute < b), "Post-game")

    def mix(self, minute: float) -> tuple[float, dict[str, float]]:
        """(volume multiplier, topic weights) at a game minute."""
        mult = next((m for _, a, b, m in PHASES if a <= minute < b), 0.5)
        topics = {
            "game": 6.0,
            "brand": 0.5,
            "competitor": 0.3,
            "ads": 0.3,
            "halftime": 0.1,
            "spam": 0.6,
            "threat": 0.02,
        }
        if any(a <= minute < b for a, b in AD_BREAKS):
            mult *= 1.6
            topics.update(ads=4.0, brand=1.5, competitor=1.2)
        if 140 <= minute < 160:
            topics.update(halftime=6.0)
        b0, b1 = self.blackout
        if b0 <= minute < b1:
            since = minute - b0
            burst = 3.5 * math.exp(-since / max(1.0, (b1 - b0) / 2.5))  # sudden, then fades
            mult *= 1.0 + burst
            topics.update(blackout=6.0 + 8.0 * burst, brand_blackout=0.4 + 0.6 * burst, spam=1.2, game=2.0)
        return mult, topics

    # Posts -----------------------------------------------------------------------------------------------
    def step(self, i: int) -> list[tuple[dict, Truth]]:
        """Posts created during wall step i, each with its truth. Same seed and i, same posts."""
        rng = random.Random(self.seed * 1_000_003 + i)
        offset = i * STEP_S
        minute = self.game_minute(offset)
        mult, topics = self.mix(minute)
        n = _poisson(rng, self.rate * mult * STEP_S)
        names, weights = zip(*topics.items(), strict=True)
        posts = [self._post(rng, offset + rng.random() * STEP_S, rng.choices(names, weights)[0]) for _ in range(n)]
        return posts + self.care.step(i, offset, mult, Truth)  # customer care (issue 12)

    def _post(self, rng: random.Random, offset: float, topic: str) -> tuple[dict, Truth]:
        self._seq += 1
        pid = f"simulator:{self.seed}-{self._seq}"
        if self._recent and topic != "spam" and rng.random() < 0.18:
            return self._repost(rng, pid, offset)
        author = self._author(rng, topic)
        lang, template = rng.choice(TEMPLATES[topic])
        # Spam hijacks whatever tag is hot: the blackout's while the lights are out.
        hot = "#blackout" if self.phase(self.game_minute(offset)) == "Blackout" else "#NFL"
        text = template.format(
            e=rng.choice(EMOJI), team=rng.choice(TEAMS), link=rng.choice(LINKS).format(n=self._seq), hot=hot
        )
        if topic != "spam":
            text = self._personal(rng, text)
        if rng.random() < 0.15 and topic != "spam":
            text += " " + rng.choice(LINKS).format(n=self._seq)
        grade = GRADES[topic]
        if author.followers > 1e5 or grade >= 2:
            self._remember((pid, author.handle, text, grade, topic))
        post = self._dict(pid, author, text, lang, offset, rng)
        if rng.random() < 0.08 and self._recent:
            post["reply_to"] = rng.choice(self._recent)[0]
        return post, Truth(pid, topic, grade, author.bot, offset, care_of(template))

    @staticmethod
    def _personal(rng: random.Random, text: str) -> str:
        if rng.random() < 0.6:
            text = f"{rng.choice(OPENERS)} {text[0].lower()}{text[1:]}"
        if rng.random() < 0.6:
            text = f"{text} {rng.choice(CLOSERS).format(city=rng.choice(CITIES), team=rng.choice(TEAMS))}"
        return text

    def _repost(self, rng: random.Random, pid: str, offset: float) -> tuple[dict, Truth]:
        orig_id, handle, text, grade, topic = rng.choice(self._recent)
        author = rng.choice(self.fans)
        post = self._dict(pid, author, f"RT @{handle}: {text}", "en", offset, rng)
        post["repost_of"] = orig_id
        return post, Truth(pid, topic, max(0, grade - 1), False, offset)

    def _remember(self, item: tuple[str, str, str, int, str]) -> None:
        self._recent.append(item)
        if len(self._recent) > 50:
            del self._recent[:25]

    def _author(self, rng: random.Random, topic: str) -> Author:
        if topic == "spam":
            return rng.choice(self.bots)
        return rng.choice(self.stars) if rng.random() < 0.02 else rng.choice(self.fans)

    def _dict(self, pid: str, a: Author, text: str, lang: str, offset: float, rng: random.Random) -> dict:
        reach = max(a.followers, 10)
        return {
            "id": pid,
            "source": "simulator",
            "url": f"https://sim.example/{a.handle}/{pid.split(':')[1]}",
            "author": {"handle": a.handle, "name": a.name, "followers": a.followers, "verified": a.verified},
            "text": text,
            "created_at": self.start_wall + offset,
            "lang": lang,
            "hashtags": entities.hashtags(text),
            "mentions": entities.mentions(text),
            "links": entities.links(text),
            "engagement": {
                "likes": int(reach * rng.random() * 0.002),
                "reposts": int(reach * rng.random() * 0.0005),
                "replies": int(reach * rng.random() * 0.0002),
                "quotes": 0,
            },
        }


def _poisson(rng: random.Random, lam: float) -> int:
    if lam > 50:  # normal approximation: fast and close enough at high rates
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    threshold, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= threshold:
            return k
        k += 1
