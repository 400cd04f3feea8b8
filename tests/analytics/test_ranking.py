"""NDCG@k: perfect rankings score 1, worse rankings less, the ideal comes from every candidate."""

from __future__ import annotations

import math

import pytest

from analytics.evaluation import dcg, ndcg_at_k


@pytest.mark.parametrize(
    ("grades", "k", "expected"),
    [
        ([3], 20, 7.0),
        ([3, 2], 20, 7.0 + 3.0 / math.log2(3)),
        ([0, 3], 20, 7.0 / math.log2(3)),
        ([3, 2, 1], 1, 7.0),
        ([], 20, 0.0),
    ],
)
def test_dcg_uses_exponential_gain_and_log_discount(grades, k, expected):
    assert dcg(grades, k) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("ranked", "all_grades", "k", "expected"),
    [
        ([3, 2, 1, 0], [0, 1, 2, 3], 20, 1.0),
        ([0, 0, 0], [0, 0, 0], 20, 0.0),
        ([3, 0], [3, 0, 3], 2, 7.0 / (7.0 + 7.0 / math.log2(3))),
    ],
)
def test_ndcg_against_the_ideal_of_all_candidates(ranked, all_grades, k, expected):
    assert ndcg_at_k(ranked, all_grades, k) == pytest.approx(expected)


def test_a_worse_ranking_scores_lower_and_within_zero_one():
    best = ndcg_at_k([3, 2, 1, 0], [0, 1, 2, 3], k=3)
    reversed_ = ndcg_at_k([0, 1, 2, 3], [0, 1, 2, 3], k=3)
    assert 0.0 <= reversed_ < best == pytest.approx(1.0)


def test_relevant_posts_missing_from_the_top_k_lower_the_score():
    assert ndcg_at_k([1, 1], [1, 1, 3, 3], k=2) < 0.5
