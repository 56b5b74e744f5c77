"""The twin: registry of places and things, live state and history, ingestion, events."""
