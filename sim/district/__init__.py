"""District builders: the seeded demo district near Dongguan and the import of real OSM data."""
