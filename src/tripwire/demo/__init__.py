"""The incident, reproduced: one module per stage, each proving one bug is caught and fixed."""

from tripwire.demo._stage import StageContext, StageResult

__all__ = ["StageContext", "StageResult"]
