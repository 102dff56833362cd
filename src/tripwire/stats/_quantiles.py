"""Upper quantiles of Student's t that hold at any level a user can ask for.

scipy's ``t.isf`` returns ``-inf`` deep in the tail (below about 1e-238 with 3 degrees of
freedom, 1e-292 with 9, 1e-309 with 1), and a critical value of ``-inf`` turns an interval
inside out: everything "passes". There the incomplete beta function inverts the tail instead,
``P(T > t) = I_{df / (df + t^2)}(df / 2, 1 / 2) / 2``; where even that underflows, the
critical value is infinite, and no finite statistic reaches it.
"""

from __future__ import annotations

import math

from scipy import special
from scipy import stats as sps


def t_isf(q: float, df: float) -> float:
    """The upper ``q`` quantile of t with ``df`` degrees of freedom (the normal one for an
    infinite ``df``); isf, not ppf(1 - q), so tiny levels keep their precision."""
    if not math.isfinite(df):
        return float(sps.norm.isf(q))
    t = float(sps.t.isf(q, df))
    if q < 0.5 and not (math.isfinite(t) and t > 0):
        x = float(special.betaincinv(df / 2, 0.5, 2 * q))
        t = math.sqrt(df * (1 / x - 1)) if x > 0 else math.inf
    return t
