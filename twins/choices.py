"""Enumerations (TextChoices) of the twins app."""

from django.db import models


class ObjectType(models.TextChoices):
    SOLAR_PANEL = "solar_panel", "Solar panel"
    INVERTER = "inverter", "Inverter"
    STRING_BOX = "string_box", "String box"
    STRUCTURE = "structure", "Structure (obstacle)"
    GROUND = "ground", "Ground"


class Shape(models.TextChoices):
    BOX = "box", "Box"
    CYLINDER = "cylinder", "Cylinder"
    CONE = "cone", "Cone"


class VersionReason(models.TextChoices):
    CREATE = "create", "Created"
    UPDATE = "update", "Updated"
    GENERATE = "generate", "Generated from the registry"


class GltfFormat(models.TextChoices):
    GLB = "glb", "Binary glTF"
    GLTF = "gltf", "glTF JSON (embedded buffers)"
