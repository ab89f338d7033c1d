"""The product (loading, receiving, exporting) never imports the development tooling."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "braze_currents"


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _product_modules() -> list[Path]:
    return [p for p in PACKAGE.rglob("*.py") if "devtools" not in p.relative_to(PACKAGE).parts]


def test_product_modules_are_found():
    names = {p.relative_to(PACKAGE).as_posix() for p in _product_modules()}
    assert {"loader.py", "receiver/server.py", "exporter/export.py"} <= names
    assert not any(n.startswith("devtools/") for n in names)


def test_product_code_never_imports_devtools():
    offenders = {
        p.relative_to(PACKAGE).as_posix(): sorted(
            m for m in _imported_modules(p) if m.startswith("braze_currents.devtools")
        )
        for p in _product_modules()
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_check_sees_a_devtools_import(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("from braze_currents.devtools.generator import Record\n")
    assert "braze_currents.devtools.generator" in _imported_modules(module)
