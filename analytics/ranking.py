"""Ranking quality: DCG and NDCG@k of a ranked list of graded relevance judgements."""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence

logger = logging.getLogger(__name__)


def dcg(grades: Sequence[float], k: int = 20) -> float:
    """Discounted cumulative gain of the first k grades, exponential gain (2^g - 1) / log2(rank + 1)."""
    return sum((2.0**g - 1.0) / math.log2(rank + 2) for rank, g in enumerate(grades[:k]))


def ndcg_at_k(ranked_grades: Sequence[float], all_grades: Sequence[float], k: int = 20) -> float:
    """DCG of the ranking over the DCG of the best possible ranking of `all_grades`; 0.0 if nothing is relevant."""
    ideal = dcg(sorted(all_grades, reverse=True), k)
    return dcg(ranked_grades, k) / ideal if ideal > 0 else 0.0
