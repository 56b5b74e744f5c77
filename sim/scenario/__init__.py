"""What-if scenarios: definitions, headless runs, ensembles on Dask and tiled city-wide floods."""
