"""The package's layers, read from the source (no import runs): lower layers never import upper
ones, and no two modules import each other, even inside functions."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "motionmag"

# a layer may import from the layers listed after it, never from those before it
UPPER = ("cli", "workflow", "train")
LOWER = ("methods", "models", "flow", "evaluate", "data", "synth", "io", "report", "resources")
# the bottom: what any layer may import (errors, downloads and images, the manifests and their
# verified stores), importing nothing above itself
BOTTOM = ("errors", "io", "resources")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every motionmag module a file imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("motionmag"):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("motionmag"))
    return found


GRAPH = {module_name(path): imports_of(path) for path in PACKAGE.rglob("*.py")}


def subpackage(module: str) -> str:
    return module.split(".")[1] if "." in module else ""


def test_lower_layers_import_nothing_from_training_the_workflow_or_the_cli():
    wrong = sorted((module, target) for module, targets in GRAPH.items() if subpackage(module) in LOWER
                   for target in targets if subpackage(target) in UPPER)
    assert not wrong, wrong


def test_the_bottom_layer_imports_nothing_above_it():
    wrong = sorted((module, target) for module, targets in GRAPH.items() if subpackage(module) in BOTTOM
                   for target in targets if subpackage(target) not in BOTTOM)
    assert not wrong, wrong


def test_the_weights_and_datasets_stores_share_the_resources_module_not_each_other():
    weights, datasets = "motionmag.flow.weights", "motionmag.data.downloads"
    assert "motionmag.resources" in GRAPH[weights] and "motionmag.resources" in GRAPH[datasets]
    assert weights not in GRAPH[datasets] and datasets not in GRAPH[weights]


def test_no_two_modules_import_each_other():
    def reaches(start: str, goal: str) -> bool:
        seen, stack = set(), [start]
        while stack:
            module = stack.pop()
            if module == goal:
                return True
            if module not in seen:
                seen.add(module)
                stack.extend(t for t in GRAPH.get(module, ()) if t in GRAPH)
        return False

    cycles = sorted((module, target) for module, targets in GRAPH.items() for target in targets
                    if target in GRAPH and target != module and not target.startswith(f"{module}.")
                    and not module.startswith(f"{target}.") and reaches(target, module))
    assert not cycles, cycles
