"""The hand-written object checks (fast: a farm's scene in milliseconds) and the JSON schema's
``_object`` find the same problems at the same paths."""

from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator

from twins import schema

GOOD = {
    "type": "structure",
    "shape": "box",
    "position": [1, 2, 3],
    "rotation": [0, 0.5, 0],
    "scale": [1, 1, 1],
    "dimensions": {"length": 1, "width": 2, "height": 3},
    "material": {"color": "#aabbcc", "opacity": 0.5, "metalness": 0, "roughness": 1},
    "metadata": {"kind": "wall"},
    "generated": False,
}

BAD = [
    {"type": "tree"},
    {"shape": "pyramid"},
    {"position": [1, 2]},
    {"position": [1, "2", 3]},
    {"position": [1, True, 3]},
    {"position": [1e6, 0, 0]},
    {"rotation": [0, 0, 1000]},
    {"scale": [0, 1, 1]},
    {"dimensions": {"length": -1, "width": 2, "height": 3}},
    {"dimensions": {"length": 0, "width": 2, "height": 3}},
    {"dimensions": {"width": 2, "height": 3}},
    {"dimensions": {"length": 1, "width": 2, "height": 3, "depth": 1}},
    {"shape": "cylinder", "dimensions": {"height": 3}},
    {"material": {"color": "red"}},
    {"material": {"opacity": 2}},
    {"material": {"shine": 1}},
    {"metadata": []},
    {"tracked": "yes"},
    {"id": ""},
    {"colour": "#ffffff"},
]


def _schema_paths(obj) -> set[str]:
    problems: dict[str, list[str]] = {}
    for error in Draft202012Validator(schema.twin_data_schema()).iter_errors({"scene": {"objects": [obj]}}):
        schema._add(problems, error, "twin_data")  # noqa: SLF001 -- the jsonschema path mapping under test
    return set(problems)


def test_a_good_object_passes_both():
    assert _schema_paths(GOOD) == set() == set(schema.scene_problems({"scene": {"objects": [GOOD]}}))


@pytest.mark.parametrize("change", BAD, ids=lambda change: str(change)[:40])
def test_both_checks_name_the_same_paths(change):
    obj = {**GOOD, **change}
    expected = _schema_paths(obj)
    assert expected
    assert set(schema.scene_problems({"scene": {"objects": [obj]}})) == expected
