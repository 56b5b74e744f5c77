"""Urban flood: a 2-D local-inertial shallow-water model, design storms, impacts, validation."""

from sim.flood.model import MM_H, FloodModel

__all__ = ["MM_H", "FloodModel"]
