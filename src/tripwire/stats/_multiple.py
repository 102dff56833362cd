"""Adjusting p-values across slices (family-wise or false-discovery control).

Holm is done here in numpy and Benjamini-Hochberg by scipy: statsmodels' ``multipletests`` gives
the same numbers (the tests' expected values match it) but costs ~100 ms a call, which
calibration runs and the monitor's per-event detectors cannot afford.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
from scipy import stats as sps

Correction = Literal["holm", "bh", "none"]


def _holm(p: np.ndarray) -> np.ndarray:
    m = len(p)
    order = np.argsort(p)
    stepped = np.maximum.accumulate((m - np.arange(m)) * p[order])
    out = np.empty(m)
    out[order] = np.minimum(stepped, 1.0)
    return out


def adjust_p_values(
    p_values: Sequence[float], method: Correction = "holm", family: int | None = None
) -> list[float]:
    """Holm (family-wise error) or Benjamini-Hochberg (false discovery rate) adjusted p-values.

    ``family``: how many hypotheses the correction is over, when some of them have no p-value
    yet (a sequential look that has not reached every slice): they count as p = 1."""
    given = len(p_values)
    if method not in ("holm", "bh", "none"):
        raise ValueError(f"unknown correction {method!r} (holm, bh, none)")
    p = np.asarray(p_values, dtype=np.float64)
    if family is not None and family > given:
        p = np.concatenate([p, np.ones(family - given)])
    if method == "none" or len(p) <= 1:
        return [float(x) for x in p[:given]]
    if method == "holm":
        return [float(x) for x in _holm(p)[:given]]
    return [float(x) for x in sps.false_discovery_control(p, method="bh")[:given]]
