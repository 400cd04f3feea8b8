"""The learning benchmark scores posts through the processor's own enrichment (a signature drift fails here)."""

from bench.learning_bench import scored, simulated


def test_offline_scoring_uses_the_processors_enrichment():
    rows = scored(simulated(seconds=3.0))
    assert rows and all(isinstance(score, int | float) for _, _, score in rows)
    assert any(grade >= 2 for _, grade, _ in rows)
