"""Shared API plumbing: error format, camelCase rendering, pagination, schema, scoping."""
