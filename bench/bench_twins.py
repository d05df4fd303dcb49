"""Digital twins: generation from the registry and GLB export for 2,000 and 20,000 panels.

Baselines, in the same run on the same scene:
* generation (``twins.generation.twin_generate``, registry → scene JSON) against
  ``json.dumps`` of the scene it makes — the cost of merely serialising it, which every save
  pays anyway;
* GLB export (``twin_meshes`` + ``twin_gltf``: one node per object with extras, the module mesh
  shared) against trimesh's ``export_glb`` of one merged mesh of the same triangles (no nodes,
  no extras: what trimesh takes to write that geometry at all).
Also the scene validation a save runs (``twin_data_check``). Medians of ``BENCH_ROUNDS``
(default 3). Not a test: asserts nothing. Target: 2,000 panels generate in well under 1 s.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "solarhub.settings.local")

from bench._common import median, scratch_django

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))


def timed(fn, rounds: int = ROUNDS) -> tuple[float, object]:
    times, result = [], None
    for _ in range(rounds):
        began = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - began)
    return median(times), result


def plant_with(panels: int, code: str):
    from accounts.services import user_create
    from plants.choices import Tracking
    from plants.models import Plant
    from twins.tests.helpers import MODULE_540, registry_add

    installer = user_create(email=f"{code}@example.com", password="x-Pass-1234", username=code)  # noqa: S106
    strings = panels // 25  # 25-module strings: exactly 2,000 and 20,000 panels
    plant = Plant.objects.create(
        name=f"Bench {panels}", plant_code=code, latitude=34.7, longitude=-118.3, timezone="America/Los_Angeles",
        total_power_output_kw=panels * 0.54, installer=installer, tracking=Tracking.SINGLE_AXIS, axis_azimuth=180.0,
        axis_tilt=0.0, max_angle=60.0, gcr=0.35, no_of_panels=strings * 25, panel_per_string=25, string_per_row=4,
        string_per_inverter=90, no_of_inverters=-(-strings // 90),
    )  # fmt: skip
    return registry_add(plant, module=MODULE_540, inverters=-(-strings // 90), boxes_per_inverter=6, strings_per_box=15)


def main() -> None:
    with scratch_django("twins"):
        import trimesh

        from twins.export import twin_gltf
        from twins.generation import twin_generate
        from twins.geometry import twin_meshes
        from twins.services import twin_data_check

        print(f"rounds: {ROUNDS}, medians\n")
        for panels in (2000, 20000):
            plant = plant_with(panels, f"BENCH-{panels}")
            generate, data = timed(lambda plant=plant: twin_generate(plant=plant))
            dumps, text = timed(lambda data=data: json.dumps(data))
            check, _ = timed(lambda data=data: twin_data_check(twin_data=data))
            meshes_time, meshes = timed(lambda data=data: twin_meshes(twin_data=data))
            export, glb = timed(lambda data=data: twin_gltf(twin_meshes(twin_data=data)))
            merged, _owner = meshes.world()
            baseline_glb, raw = timed(lambda merged=merged: trimesh.exchange.gltf.export_glb(trimesh.Scene(merged)))
            count = len(data["scene"]["objects"])
            n = sum(1 for o in data["scene"]["objects"] if o["type"] == "solar_panel")
            print(f"{n:,} panels ({count:,} objects, scene {len(text) / 1e6:.1f} MB, GLB {len(glb) / 1e6:.1f} MB):")
            print(f"  baseline json.dumps of the scene:   {dumps * 1000:8.1f} ms")
            print(
                f"  twin_generate:                      {generate * 1000:8.1f} ms = {generate / dumps:5.2f} x baseline"
            )
            print(f"  twin_data_check (a save's check):   {check * 1000:8.1f} ms = {check / dumps:5.2f} x baseline")
            print(f"  baseline export_glb, merged mesh:   {baseline_glb * 1000:8.1f} ms ({len(raw) / 1e6:.1f} MB)")
            print(f"  twin_meshes (geometry alone):       {meshes_time * 1000:8.1f} ms")
            ratio = export / baseline_glb
            print(f"  twin_meshes + twin_gltf (GLB):      {export * 1000:8.1f} ms = {ratio:5.2f} x baseline")
        print("\ntarget: 2,000 panels generate in well under 1 s (issue 18)")


if __name__ == "__main__":
    main()
