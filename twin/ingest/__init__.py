"""Ingestion: adapters (Modbus, HTTP push, MQTT) feed one pipeline into state, history and log."""

from twin.ingest.pipeline import Counters, IngestPipeline, IngestResult

__all__ = ["Counters", "IngestPipeline", "IngestResult"]
