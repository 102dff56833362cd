"""Statistics for comparing two models: paired tests, multiple testing, power. Pure functions."""

from tripwire.stats._mixture import RiskAdjustedMixture, msprt_p_value, msprt_p_values
from tripwire.stats._multiple import Correction, adjust_p_values
from tripwire.stats._noninferiority import (
    MIN_UNITS,
    Margin,
    SliceComparison,
    adjust_slices,
    compare_slice,
    overall_outcome,
)
from tripwire.stats._paired import PairedDiff, mcnemar_exact, paired_bootstrap, paired_diff
from tripwire.stats._power import (
    CLAIMS,
    Claim,
    ClaimPlan,
    PowerPlan,
    Scenario,
    chances_at,
    detectable_drop,
    plan,
    regression_level,
)
from tripwire.stats._proportions import (
    design_effect,
    paired_difference_interval,
    paired_difference_p_value,
)
from tripwire.stats._rule_power import (
    Thresholds,
    VerdictChances,
    binary_thresholds,
    binary_verdict_chances,
    score_verdict_chances,
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
    siegmund_delay,
)
from tripwire.stats._spending import Spending, crossing_chance, family_levels, look_levels
from tripwire.stats._warmup import robust_rate, smallest_shift

__all__ = [
    "CLAIMS",
    "MIN_UNITS",
    "BernoulliCusum",
    "Chart",
    "Claim",
    "ClaimPlan",
    "Correction",
    "CusumAlarm",
    "CusumBank",
    "CusumRun",
    "Margin",
    "PairedDiff",
    "PowerPlan",
    "RiskAdjustedMixture",
    "Scenario",
    "SliceComparison",
    "Spending",
    "Thresholds",
    "VerdictChances",
    "adjust_p_values",
    "adjust_slices",
    "bernoulli_cusum",
    "binary_thresholds",
    "binary_verdict_chances",
    "chances_at",
    "compare_slice",
    "crossing_chance",
    "cusum_bank",
    "cusum_first_alarm",
    "design_effect",
    "detectable_drop",
    "family_levels",
    "kl_bernoulli",
    "lattice_arl",
    "look_levels",
    "mcnemar_exact",
    "msprt_p_value",
    "msprt_p_values",
    "overall_outcome",
    "paired_bootstrap",
    "paired_diff",
    "paired_difference_interval",
    "paired_difference_p_value",
    "plan",
    "regression_level",
    "robust_rate",
    "score_verdict_chances",
    "siegmund_delay",
    "smallest_shift",
]
