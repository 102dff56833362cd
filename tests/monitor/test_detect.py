"""The detector over many slices and metrics: false alarms of the whole family, and alarms that
report the rate expected for the events' own strata."""

from __future__ import annotations

import math

import numpy as np

from tripwire.monitor import Detector, DetectorConfig, Slice

SLICES = [Slice("v1", "east", f"gpu-{i}", "chat") for i in range(6)]
# two metrics whose rates differ by language, as syntax errors do
RATES = {"a": {"python": 0.04, "shell": 0.10}, "b": {"python": 0.08, "shell": 0.15}}


def _event(rng: np.random.Generator, shell_share: float) -> tuple[Slice, dict, str]:
    stratum = "shell" if rng.random() < shell_share else "python"
    flags = {m: bool(rng.random() < r[stratum]) for m, r in RATES.items()}
    return SLICES[rng.integers(len(SLICES))], flags, stratum


def _fault_free(rng: np.random.Generator) -> tuple[Slice, dict, None, str]:
    sl, flags, stratum = _event(rng, 0.5)  # the mix moves from 20% shell to 50%
    return sl, flags, None, stratum


def test_family_false_alarm_rate_within_target() -> None:
    """``family_arl``: no fault anywhere, six slices x two metrics, and the prompt mix moves
    after warm-up; false alarms anywhere per event stay within 1 / family_arl (Monte Carlo, with
    3 Poisson SE of slack)."""
    family_arl, warmup = 1500.0, 4000
    config = DetectorConfig(family_arl=family_arl, warmup=warmup, metrics=tuple(RATES))
    assert config.stream_arl0 == family_arl * 2
    alarms = exposure = 0
    for rep in range(48):
        warm = np.random.default_rng(rep % 4)  # four warm-ups; their designs are cached
        det = Detector(config)
        for _ in range(warmup):
            sl, flags, stratum = _event(warm, 0.2)
            assert det.observe(sl, flags, stratum=stratum) == []
        rng = np.random.default_rng(1000 + rep)
        horizon = 6 * int(family_arl)
        t = next((t for t in range(1, horizon + 1) if det.observe(*_fault_free(rng))), None)
        alarms += t is not None
        exposure += horizon if t is None else t
    rate = alarms / exposure
    assert alarms > 0  # the simulation is long enough to say something
    assert rate <= 1 / family_arl + 3 * math.sqrt(max(alarms, 1)) / exposure, (rate, alarms)


def test_alarm_reports_the_risk_adjusted_baseline() -> None:
    rng = np.random.default_rng(3)
    det = Detector(DetectorConfig(warmup=3000, arl0=10_000, metrics=("a",)))
    for _ in range(3000):
        stratum = "shell" if rng.random() < 0.1 else "python"
        det.observe(SLICES[0], {"a": bool(rng.random() < RATES["a"][stratum])}, stratum=stratum)
    alarms = []
    for _ in range(5000):  # only shell traffic now, with 6 more errors in every 100 answers
        alarms = det.observe(SLICES[1], {"a": bool(rng.random() < 0.16)}, stratum="shell")
        if alarms:
            break
    assert alarms, "the fault within the shell stratum was not detected"
    a = alarms[0]
    assert abs(a.baseline_rate - 0.10) < 0.03  # shell's own rate, not the pooled ~0.046
    assert a.effect > 0.02
