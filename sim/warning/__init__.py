"""Early warning: thresholds, risk = hazard × exposure, the warning engine and CAP 1.2 export."""

from sim.warning.levels import LEVEL_MAP, WarningLevel

__all__ = ["LEVEL_MAP", "WarningLevel"]
