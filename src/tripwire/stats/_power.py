"""How many items a comparison needs to detect a given drop (paired and unpaired designs)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import stats as sps


def _z(q: float) -> float:
    return float(sps.norm.ppf(q))


@dataclass(frozen=True)
class PowerPlan:
    """Items needed for a paired design, next to what an unpaired design would need."""

    paired_items: int
    unpaired_items: int
    """Items per model for an unpaired comparison of the same drop."""

    @property
    def ratio(self) -> float:
        return self.unpaired_items / self.paired_items


def items_for_pass_rate_drop(
    base_rate: float, drop: float, discordance: float, *, alpha: float = 0.05, power: float = 0.8
) -> PowerPlan:
    """Items for a one-sided McNemar test to detect a pass-rate ``drop`` (Connor, 1987).

    ``discordance`` is the share of items on which the two models disagree (at least ``drop``);
    paired designs win because agreeing items cost no variance.
    """
    if not 0 < drop < base_rate <= 1:
        raise ValueError("need 0 < drop < base_rate <= 1")
    if not drop <= discordance <= 1:
        raise ValueError("discordance must lie between drop and 1")
    za, zb = _z(1 - alpha), _z(power)
    paired = (za * math.sqrt(discordance) + zb * math.sqrt(discordance - drop**2)) ** 2 / drop**2
    p1, p2 = base_rate, base_rate - drop
    pbar = (p1 + p2) / 2
    unpaired = (
        za * math.sqrt(2 * pbar * (1 - pbar)) + zb * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))
    ) ** 2 / drop**2
    return PowerPlan(math.ceil(paired), math.ceil(unpaired))


def items_for_mean_shift(
    shift: float, sd_item: float, correlation: float, *, alpha: float = 0.05, power: float = 0.8
) -> PowerPlan:
    """Items to detect a ``shift`` in a continuous per-item score (e.g. bits per byte).

    ``sd_item`` is the spread of the score across items for one model, ``correlation`` how
    strongly the two models' scores on the same item agree (near 1 for two checkpoints of one
    model, which is why pairing needs far fewer items).
    """
    if shift <= 0 or sd_item <= 0 or not -1 < correlation < 1:
        raise ValueError("need shift > 0, sd_item > 0 and -1 < correlation < 1")
    k = (_z(1 - alpha) + _z(power)) ** 2
    sd_diff_sq = 2 * sd_item**2 * (1 - correlation)
    paired = k * sd_diff_sq / shift**2
    unpaired = k * 2 * sd_item**2 / shift**2
    return PowerPlan(math.ceil(paired) + 1, math.ceil(unpaired) + 1)
