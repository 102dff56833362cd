"""From a detector alarm to an alert a person can act on: when the change happened, what was
deployed around then, and which version to roll back to."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tripwire.artifacts import KNOWN_GOOD, Registry
from tripwire.errors import BadInputError
from tripwire.monitor._detect import Alarm
from tripwire.monitor._schema import Deploy

log = logging.getLogger("tripwire.monitor")
NEAR_S = 6 * 3600.0
"""Deploys this close to the estimated change time are listed with an alert."""


@dataclass(frozen=True)
class Rollback:
    version: str
    reason: str
    registry_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version, "reason": self.reason, "registry_id": self.registry_id}


def _resolve(registry: Registry, ref: str) -> str | None:
    try:
        return registry.get(ref).id
    except BadInputError:
        return None


def rollback_target(
    alarm: Alarm, deploys: Sequence[Deploy], registry: Registry | None = None
) -> Rollback | None:
    """The last known-good version for the alarm's deployment.

    Versions deployed there before the failing one are tried newest first and the first with a
    ``known-good`` mark in the registry wins; without one, the newest version marked known-good
    anywhere; without a registry, the version deployed before (marked unverified).
    """
    bad = alarm.slice.model_version
    earlier = [
        d.model_version
        for d in sorted(deploys, key=lambda d: d.ts, reverse=True)
        if d.deployment == alarm.slice.deployment and d.model_version != bad
    ]
    earlier = list(dict.fromkeys(earlier))
    if registry is not None:
        bad_id = _resolve(registry, bad)
        good = [m.artifact for m in registry.marks(mark=KNOWN_GOOD) if m.artifact != bad_id]
        good_set = set(good)
        for version in earlier:
            rid = _resolve(registry, version)
            if rid in good_set:
                return Rollback(version, f"deployed on {alarm.slice.deployment} before {bad}; "
                                f"marked {KNOWN_GOOD} in the registry", rid)  # fmt: skip
        if good:
            rid = good[-1]
            name = registry.get(rid).manifest.name
            return Rollback(name, f"newest version marked {KNOWN_GOOD} in the registry", rid)
    if earlier:
        return Rollback(earlier[0], f"deployed on {alarm.slice.deployment} before {bad} "
                        "(not marked known-good: unverified)")  # fmt: skip
    return None


def deploys_near(change_ts: datetime, deploys: Sequence[Deploy]) -> list[dict[str, Any]]:
    near = [
        (abs((d.ts - change_ts).total_seconds()), d)
        for d in deploys
        if abs((d.ts - change_ts).total_seconds()) <= NEAR_S
    ]
    return [
        {**d.model_dump(mode="json", exclude={"type"}), "seconds_from_change": round(
            (d.ts - change_ts).total_seconds(), 1)}
        for _, d in sorted(near, key=lambda t: t[0])
    ]  # fmt: skip


def bare_alert(alarm: Alarm, error: str) -> dict[str, Any]:
    """The alert without its context (deploys, rollback target), for when building that
    failed: the alarm itself is never lost to an error in its decoration."""
    return {
        **alarm.to_dict(),
        "deploys_near_change": [],
        "rollback_target": None,
        "context_error": error,
        "message": (
            f"{alarm.metric} rate on {alarm.slice.label} rose from {alarm.baseline_rate:.4f} to "
            f"{alarm.rate_after_change:.4f} since event {alarm.change_index}"
        ),
    }


def safe_alert(
    alarm: Alarm, deploys: Sequence[Deploy], registry: Registry | None = None
) -> tuple[dict[str, Any], bool]:
    """``build_alert``, or ``bare_alert`` when that raised (logged): ``(alert, complete)``."""
    try:
        return build_alert(alarm, deploys, registry), True
    except Exception as exc:  # a registry or deploy problem must not cost the alert itself
        log.exception("building the context of an alert failed (kept without it, retried)")
        return bare_alert(alarm, f"{type(exc).__name__}: {exc}"[:500]), False


def build_alert(
    alarm: Alarm, deploys: Sequence[Deploy], registry: Registry | None = None
) -> dict[str, Any]:
    """The alert as stored, served and written by ``replay``."""
    target = rollback_target(alarm, deploys, registry)
    near = deploys_near(alarm.change_ts, deploys) if alarm.change_ts else []
    return {
        **alarm.to_dict(),
        "deploys_near_change": near,
        "rollback_target": target.to_dict() if target else None,
        "message": (
            f"{alarm.metric} rate on {alarm.slice.label} rose from {alarm.baseline_rate:.4f} to "
            f"{alarm.rate_after_change:.4f} since event {alarm.change_index}"
            + (f"; roll back to {target.version}" if target else "")
        ),
    }
