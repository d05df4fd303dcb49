"""The layering contract (issue 17), read from the source with ``ast`` (no dependency):

* ``plants`` imports no feature app: the feature apps depend on plants, never the reverse
  (what plants needs from them goes through ``plants.hooks`` and ``plants.live``, which the
  feature apps fill in their ``AppConfig.ready()``);
* ``alarms`` imports no private (``_name``) helper of ``telemetry.api``;
* the project package ``solarhub`` imports no feature app, except its URL and settings modules
  (the demo seeding is the ``demo`` app, above all of them).

Every import counts, at module level or inside a function. Tests (``tests/`` packages and
``test_*.py``) may import anything; ``solarhub/testing`` is held to the rule (it needs no exemption).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CORE_APPS = {"accounts", "plants"}  # what the project package and the plant choke point build on
FEATURE_APPS = {"telemetry", "alarms", "forecasting", "twins", "reports", "storage", "shadow", "demo", "collector"}
SOLARHUB_MAY_IMPORT_FEATURES = ("solarhub/urls.py", "solarhub/settings/")


def imports_of(path: Path) -> list[tuple[int, str, tuple[str, ...]]]:
    """``(line, absolute module, imported names)`` of every import statement in ``path``."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    if path.name != "__init__.py":
        package = package.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name, ()) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, module] if module else base)
            found.append((node.lineno, module, tuple(alias.name for alias in node.names)))
    return found


def product_modules(package: str):
    for path in sorted((ROOT / package).rglob("*.py")):
        rel = path.relative_to(ROOT)
        if "tests" in rel.parts or "migrations" in rel.parts or path.name.startswith("test_"):
            continue
        yield rel.as_posix(), path


def violations(package: str, forbidden, *, exempt=()) -> list[str]:
    found = []
    for rel, path in product_modules(package):
        if rel.startswith(exempt):
            continue
        for line, module, names in imports_of(path):
            problem = forbidden(module, names)
            if problem:
                found.append(f"{rel}:{line}: {problem}")
    return found


def _feature_app(module: str, _names) -> str | None:
    top = module.split(".")[0]
    return f"imports feature app {module}" if top in FEATURE_APPS else None


def _private_telemetry_api(module: str, names) -> str | None:
    if module == "telemetry.api" or module.startswith("telemetry.api."):
        private = [name for name in names if name.startswith("_")]
        if private or any(part.startswith("_") for part in module.split(".")[2:]):
            return f"imports private {', '.join(private) or module} from {module}"
    return None


def test_plants_imports_no_feature_app():
    assert violations("plants", _feature_app) == []


def test_alarms_imports_no_private_helper_of_telemetry_api():
    assert violations("alarms", _private_telemetry_api) == []


def test_the_project_package_imports_feature_apps_only_in_urls_and_settings():
    assert violations("solarhub", _feature_app, exempt=SOLARHUB_MAY_IMPORT_FEATURES) == []


def test_the_core_apps_and_the_feature_apps_are_all_installed_apps():
    """The lists above name real apps (a renamed app would silently drop out of the contract)."""
    from django.apps import apps

    installed = {config.name for config in apps.get_app_configs()}
    assert CORE_APPS | {"telemetry", "alarms", "forecasting", "twins", "reports", "demo"} <= installed


@pytest.mark.parametrize(
    ("package", "source", "forbidden", "expected"),
    [
        ("plants", "from telemetry.live import plant_live\n", _feature_app, "imports feature app telemetry.live"),
        (
            "plants",
            "def f():\n    import forecasting.selectors\n",
            _feature_app,
            "imports feature app forecasting.selectors",
        ),
        ("plants/api", "from ...alarms import services\n", _feature_app, "imports feature app alarms"),
        ("solarhub/api", "from reports.models import Report\n", _feature_app, "imports feature app reports.models"),
        (
            "alarms/api",
            "from telemetry.api.dashboard import _device_types\n",
            _private_telemetry_api,
            "imports private _device_types from telemetry.api.dashboard",
        ),
    ],
)
def test_the_check_catches_a_forbidden_import(tmp_path, monkeypatch, package, source, forbidden, expected):
    """A forbidden import added anywhere (top level, in a function, relative) fails the check."""
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    module = tmp_path / package / "offender.py"
    module.parent.mkdir(parents=True)
    module.write_text(source)
    line = source.count("\n")
    assert violations(package.split("/")[0], forbidden) == [f"{package}/offender.py:{line}: {expected}"]
