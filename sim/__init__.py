"""The simulated world (ground truth), field devices, hazard models and the warning engine."""
