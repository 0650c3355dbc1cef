"""The house rules of DESIGN.md's layers, enforced rather than hoped for."""

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_importing_core_loads_no_ui_library():
    code = (
        "import sys, pkgutil, importlib, core\n"
        "for m in pkgutil.walk_packages(core.__path__, 'core.'):\n"
        "    importlib.import_module(m.name)\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'textual', 'typer', 'rich'}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", f"core pulled in UI libraries: {out.stdout}"


def _imports(package: str) -> set[str]:
    found = set()
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {(str(path), a.name.split(".")[0]) for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add((str(path), node.module.split(".")[0]))
    return found


def test_core_never_imports_commands_or_tui():
    bad = [(p, m) for p, m in _imports("core") if m in {"commands", "tui", "textual", "typer", "rich"}]
    assert not bad, bad


def test_tui_never_imports_commands():
    bad = [(p, m) for p, m in _imports("tui") if m == "commands"]
    assert not bad, bad
