"""Statistics for comparing two models: paired tests, multiple testing, power. Pure functions."""

from tripwire.stats._multiple import Correction, adjust_p_values
from tripwire.stats._noninferiority import (
    Margin,
    SliceComparison,
    adjust_slices,
    compare_slice,
    overall_verdict,
)
from tripwire.stats._paired import PairedDiff, mcnemar_exact, paired_bootstrap, paired_diff
from tripwire.stats._power import PowerPlan, items_for_mean_shift, items_for_pass_rate_drop

__all__ = [
    "Correction",
    "Margin",
    "PairedDiff",
    "PowerPlan",
    "SliceComparison",
    "adjust_p_values",
    "adjust_slices",
    "compare_slice",
    "items_for_mean_shift",
    "items_for_pass_rate_drop",
    "mcnemar_exact",
    "overall_verdict",
    "paired_bootstrap",
    "paired_diff",
]
