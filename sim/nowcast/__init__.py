"""Live nowcasts of flood, rainstorm, fire, crowd and utility hazards on the twin's sensor state."""
