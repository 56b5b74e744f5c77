"""The world: ground truth of a district evolving in simulated time (rain, water, crowds, meters).

Field devices take their values from :meth:`World.sensor_values`; scoring reads
:meth:`World.truth` and :meth:`World.events`. The twin never sees this package's state.
"""

from sim.world.world import COMPONENTS, DT_S, World

__all__ = ["COMPONENTS", "DT_S", "World"]
