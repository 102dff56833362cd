"""What a finite warm-up can promise: in-control rates that are not optimistic, and the smallest
rise a CUSUM can be tuned to without mistaking the estimate's own error for a change.

A rate estimated from ``x`` defects in ``n`` events is uncertain (Jeffreys posterior
``Beta(x + 1/2, n - x + 1/2)``). A chart designed at an estimate that came out low by chance
drifts up in control and alarms early. Two choices keep the false-alarm rate, averaged over
warm-ups, at or under the target without the threshold growing with ARL0:

- ``robust_rate``: design and calibrate at an upper quantile of the posterior, not at its mean;
- ``smallest_shift``: tune the smallest chart to a rise large enough that the chart still drifts
  down at any rate the posterior finds plausible.

Both grow with ``sqrt(log ARL0)`` in posterior standard deviations, and both shrink as the
warm-up grows. Checked exactly (every warm-up outcome of a binomial, exact lattice ARLs) in
tests/stats/test_sequential.py and at full scale in benchmarks/monitor.py.
"""

from __future__ import annotations

import math

_BOUND_Z = 0.5
"""``robust_rate``'s quantile: ``0.5 sqrt(log ARL0)`` deviates (the 95th percentile at ARL0
1e5, the 98th at 1.2e7)."""
_REFERENCE_Z = 1.2
"""``smallest_shift`` puts a chart's reference value (where it drifts neither up nor down) at
``1.2 sqrt(log ARL0)`` deviates (4.1 at ARL0 1e5, 4.9 at 1.2e7).

Why these two: an estimate that came out low costs false alarms at about ``ARL0^-t`` per event,
where ``t`` falls from 1 at the robust rate to 0 at the reference value. Over a normal posterior
tail that stays under ``1 / ARL0`` with the robust rate at ``z_q`` and the reference at ``z_q +
log(ARL0) / (2 z_q)`` (``1.5 sqrt(log ARL0)`` for this ``z_q``): both grow only with ``sqrt(log
ARL0)``, so nothing explodes at high ARL0. 1.2 is enough in fact: on the exact false-alarm rate
averaged over every warm-up outcome it stays at or under 0.6 / ARL0 for warm-ups of 500 and 2,000
events, rates 0.05% to 30% and ARL0 1e4 to 1e8 (far less for rare events)."""


def robust_rate(defects: int, events: int, arl0: float) -> float:
    """An in-control rate estimated from ``defects`` in ``events`` warm-up events that is not
    optimistic: the Jeffreys posterior's upper quantile at ``0.5 sqrt(log arl0)`` standard
    normal deviates. Zero defects in 500 events gives about 0.4%, not 0.1%: a rare event's rate
    is never taken as near 0."""
    from scipy.special import betaincinv, ndtr

    if not 0 <= defects <= events or events <= 0:
        raise ValueError(f"need 0 <= defects <= events, events > 0 (got {defects}, {events})")
    q = float(ndtr(_BOUND_Z * math.sqrt(math.log(arl0))))
    return float(betaincinv(defects + 0.5, events - defects + 0.5, q))


def _log_mean(p0: float, shift: float) -> float:
    p1 = p0 + (1 - p0) * shift
    return (p1 - p0) / math.log(p1 / p0)


def smallest_shift(
    defects: int, events: int, rate: float, arl0: float, min_shift: float = 0.003
) -> float:
    """The smallest corrupted share (at least ``min_shift``) a chart designed at ``rate`` can be
    tuned to without mistaking the warm-up's own uncertainty for a change: its reference value
    (the log-mean of ``p0`` and ``p1``, below which it drifts down) lies at the Jeffreys
    posterior's quantile ``1.2 sqrt(log arl0)`` deviates up. Large after a short warm-up with
    few defects, ``min_shift`` after a long one."""
    from scipy.optimize import brentq
    from scipy.special import betaincinv, ndtr

    q = float(ndtr(_REFERENCE_Z * math.sqrt(math.log(arl0))))
    ceiling = float(betaincinv(defects + 0.5, events - defects + 0.5, q))
    if _log_mean(rate, min_shift) >= ceiling:
        return min_shift
    top = 0.999
    if _log_mean(rate, top) < ceiling:
        return top
    return float(brentq(lambda f: _log_mean(rate, f) - ceiling, min_shift, top, xtol=1e-7))
