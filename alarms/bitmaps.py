"""Default bit maps of status words, kept as data (domain.md): SunSpec ``Evt1`` for inverters,
seed 003's PCS status words and BESS rack alert words. Engineers edit or add per-model maps in
the admin; a device uses the map of its (type, manufacturer, model), else its type's default."""

from __future__ import annotations

SUNSPEC_EVT1 = [
    ("GROUND_FAULT", "fault"),
    ("DC_OVER_VOLT", "fault"),
    ("AC_DISCONNECT", "warning"),
    ("DC_DISCONNECT", "warning"),
    ("GRID_DISCONNECT", "protection"),
    ("CABINET_OPEN", "warning"),
    ("MANUAL_SHUTDOWN", "warning"),
    ("OVER_TEMP", "protection"),
    ("OVER_FREQUENCY", "protection"),
    ("UNDER_FREQUENCY", "protection"),
    ("AC_OVER_VOLT", "protection"),
    ("AC_UNDER_VOLT", "protection"),
    ("BLOWN_STRING_FUSE", "fault"),
    ("UNDER_TEMP", "warning"),
    ("MEMORY_LOSS", "fault"),
    ("HW_TEST_FAILURE", "fault"),
]

# Seed 003 names the PCS words but not their bits: bits get neutral names until an engineer
# enters the vendor's map; the word's category decides the header group.
PCS_WORDS = {
    "pcs_inverter_status": "status",
    "pcs_inverter_inhibits1_status": "warning",
    "pcs_environment_status": "warning",
    "pcs_warning_status": "warning",
    "pcs_grid_status": "protection",
    "pcs_fault_status1": "fault",
    "pcs_fault_status2": "fault",
}
RACK_WORDS = {"protection": "protection", "alarm": "fault", "warning": "warning"}


def _named(word: str, category: str, bits: int = 16) -> dict:
    stem = word.removeprefix("pcs_").upper()
    return {str(n): {"name": f"{stem}_BIT{n}", "category": category} for n in range(bits)}


def default_bit_maps() -> list[dict]:
    maps = [
        {
            "device_type": "inverter",
            "word": "event_bits",
            "label": "SunSpec Evt1",
            "bits": {str(n): {"name": name, "category": cat} for n, (name, cat) in enumerate(SUNSPEC_EVT1)},
            "source": "SunSpec models 101-103 Evt1",
        }
    ]
    for word, category in PCS_WORDS.items():
        maps.append(
            {
                "device_type": "pcs",
                "word": word,
                "label": word.removeprefix("pcs_").replace("_", " "),
                "bits": _named(word, category),
                "source": "seed 003 PCS status words",
            }
        )
    for kind, category in RACK_WORDS.items():
        maps.append(
            {
                "device_type": "bess_rack",
                "word": f"battery{{n}}_{kind}",
                "label": f"battery {kind}",
                "bits": _named(f"battery_{kind}", category),
                "source": "seed 003 BESS rack alerts",
            }
        )
    maps.append(
        {
            "device_type": "bess_rack",
            "word": "bams_status",
            "label": "BAMS status",
            "bits": _named("bams_status", "fault"),
            "source": "seed 003 BESS rack alerts",
        }
    )
    return maps


def bit_maps_seed(model) -> int:
    """Insert missing default maps into ``model`` (migration: historical model)."""
    added = 0
    for entry in default_bit_maps():
        _, created = model.objects.get_or_create(
            device_type=entry["device_type"],
            manufacturer="",
            model="",
            word=entry["word"],
            defaults={k: entry[k] for k in ("label", "bits", "source")},
        )
        added += created
    return added
