"""Metric catalog, reading store, ingestion (REST, CSV, MQTT), rollups and queries."""
