"""Hashtags, mentions and links pulled out of post text (for sources that do not send them), and link-like text.

The patterns live in model/text.py, where the sources' boundary normalisation uses them too.
"""

from __future__ import annotations

from model.text import HASHTAG, LINK, MENTION, URL_LIKE, hashtags, links, mentions

__all__ = ["HASHTAG", "LINK", "MENTION", "URL_LIKE", "hashtags", "links", "mentions"]
