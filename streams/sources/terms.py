"""Which of the event's series a post is about, for sources whose server does not filter for us."""

from __future__ import annotations

from analytics.matching import Matcher
from config.settings import EventConfig
from model.post import Post

HASHTAGS_TERM = "hashtags"  # the matched term of a post carrying one of the event's hashtags


class TermFilter:
    """Which of the event's series (brand, competitors, terms) or tracked hashtags a post mentions."""

    def __init__(self, event: EventConfig):
        series = [(w.name, list(w.keywords) + list(getattr(w, "handles", []))) for _, w in event.watches()]
        self.matcher = Matcher(series)
        self.hashtags = set(event.hashtags)

    def match(self, post: Post) -> list[str]:
        names = self.matcher.match(post.text)
        if self.hashtags.intersection(post.hashtags):
            names.append(HASHTAGS_TERM)
        return names
