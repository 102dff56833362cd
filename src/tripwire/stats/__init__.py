"""Statistics for comparing two models: paired tests, multiple testing, power. Pure functions."""

from tripwire.stats._multiple import Correction, adjust_p_values
from tripwire.stats._noninferiority import (
    MIN_UNITS,
    Margin,
    SliceComparison,
    adjust_slices,
    compare_slice,
    overall_verdict,
)
from tripwire.stats._paired import PairedDiff, mcnemar_exact, paired_bootstrap, paired_diff
from tripwire.stats._power import PowerPlan, items_for_mean_shift, items_for_pass_rate_drop
from tripwire.stats._proportions import (
    design_effect,
    paired_difference_interval,
    paired_difference_p_value,
)
from tripwire.stats._sequential import (
    BernoulliCusum,
    Chart,
    CusumAlarm,
    CusumBank,
    CusumRun,
    bernoulli_cusum,
    cusum_bank,
    cusum_first_alarm,
    kl_bernoulli,
    lattice_arl,
    msprt_excess_p_value,
    msprt_p_value,
    msprt_p_values,
    siegmund_delay,
)
from tripwire.stats._warmup import robust_rate, smallest_shift

__all__ = [
    "MIN_UNITS",
    "BernoulliCusum",
    "Chart",
    "Correction",
    "CusumAlarm",
    "CusumBank",
    "CusumRun",
    "Margin",
    "PairedDiff",
    "PowerPlan",
    "SliceComparison",
    "adjust_p_values",
    "adjust_slices",
    "bernoulli_cusum",
    "compare_slice",
    "cusum_bank",
    "cusum_first_alarm",
    "design_effect",
    "items_for_mean_shift",
    "items_for_pass_rate_drop",
    "kl_bernoulli",
    "lattice_arl",
    "mcnemar_exact",
    "msprt_excess_p_value",
    "msprt_p_value",
    "msprt_p_values",
    "overall_verdict",
    "paired_bootstrap",
    "paired_diff",
    "paired_difference_interval",
    "paired_difference_p_value",
    "robust_rate",
    "siegmund_delay",
    "smallest_shift",
]
