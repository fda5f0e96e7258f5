"""The project's size rules for bot/ (README, Layout): a module a newcomer can read in one go, a
function that fits on a screen. Broken, they fail here rather than in a review."""

from __future__ import annotations

import ast

from .conftest import REPO

MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 60


def test_no_module_in_bot_is_over_500_lines() -> None:
    long = {
        str(path.relative_to(REPO)): count
        for path in (REPO / "bot").rglob("*.py")
        if (count := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}


def test_no_function_in_bot_is_over_60_lines() -> None:
    long = {}
    for path in (REPO / "bot").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long[f"{path.relative_to(REPO)}:{node.name}"] = lines
    assert long == {}
