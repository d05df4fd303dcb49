"""Digital-twin scenes, glTF/R3F export and shadow-analysis jobs."""
