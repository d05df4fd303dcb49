"""Demo twins for ``seed_demo``: the rooftop and the tracker farm get a twin generated from
their registry; the rooftop's roof carries a parapet and a chimney as obstacles (real geometry
for the shadow analysis). Idempotent: a plant that has a twin keeps it."""

from __future__ import annotations

from plants.models import Plant

from .generation import ROOF_MATERIAL, STRUCTURE_MATERIAL, twin_generate
from .models import DigitalTwin
from .services import twin_regenerate, twin_update

ROOFTOP, FARM = "DEMO-ROOF-01", "DEMO-FARM-01"
PARAPET_HEIGHT_M, PARAPET_THICKNESS_M = 1.0, 0.25


def rooftop_obstacles(*, length: float, width: float) -> list[dict]:
    """A parapet around a roof of ``length`` (x) by ``width`` (z) metres, and a chimney in the
    roof's southern margin, in front of the first row."""
    half_x, half_z, t, h = length / 2, width / 2, PARAPET_THICKNESS_M, PARAPET_HEIGHT_M
    walls = [
        ("north", [0.0, h / 2, -half_z + t / 2], length, t),
        ("south", [0.0, h / 2, half_z - t / 2], length, t),
        ("west", [-half_x + t / 2, h / 2, 0.0], t, width - 2 * t),
        ("east", [half_x - t / 2, h / 2, 0.0], t, width - 2 * t),
    ]
    obstacles = [
        {
            "id": f"parapet-{side}",
            "name": f"Parapet ({side})",
            "type": "structure",
            "shape": "box",
            "position": position,
            "dimensions": {"length": round(x, 3), "height": h, "width": round(z, 3)},
            "material": STRUCTURE_MATERIAL,
            "metadata": {"kind": "parapet"},
        }
        for side, position, x, z in walls
    ]
    obstacles.append(
        {
            "id": "chimney",
            "name": "Chimney",
            "type": "structure",
            "shape": "box",
            "position": [round(half_x * 0.3, 3), 1.25, round(half_z - 1.6, 3)],
            "dimensions": {"length": 0.9, "height": 2.5, "width": 0.9},
            "material": {"color": "#8d5b4c", "opacity": 1.0, "metalness": 0.0, "roughness": 0.9},
            "metadata": {"kind": "chimney"},
        }
    )
    return obstacles


def demo_twins_seed(*, by=None) -> list[DigitalTwin]:
    """Twins for the demo rooftop and farm that have none yet."""
    made = []
    for plant in Plant.objects.filter(plant_code__in=[ROOFTOP, FARM]).order_by("id"):
        if DigitalTwin.objects.filter(plant=plant).exists():
            continue
        obstacles = []
        if plant.plant_code == ROOFTOP:
            ground = next(o for o in twin_generate(plant=plant)["scene"]["objects"] if o["type"] == "ground")
            obstacles = rooftop_obstacles(length=ground["dimensions"]["length"], width=ground["dimensions"]["width"])
        twin, _ = twin_regenerate(plant=plant, by=by, obstacles=obstacles, name=f"{plant.name} twin")
        if plant.plant_code == ROOFTOP:  # the ground of a rooftop is its roof
            data = twin.twin_data
            ground = next(o for o in data["scene"]["objects"] if o["type"] == "ground")
            ground["metadata"], ground["material"] = {"surface": "roof"}, ROOF_MATERIAL
            twin = twin_update(twin=twin, by=by, twin_data=data)
        made.append(twin)
    return made
