"""Data walks one way: the store and the model never import the pipeline (streams/)."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def imported(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
    return out


@pytest.mark.parametrize("path", sorted((ROOT / "store").glob("*.py")) + sorted((ROOT / "model").glob("*.py")), ids=str)
def test_store_and_model_do_not_import_the_pipeline(path):
    assert not [m for m in imported(path) if m.split(".")[0] == "streams"]


def test_model_imports_only_itself_at_run_time():
    for path in (ROOT / "model").glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        top = [n for n in tree.body if isinstance(n, ast.ImportFrom) and n.module]
        assert all(n.module.split(".")[0] not in {"analytics", "store", "streams"} for n in top), path
