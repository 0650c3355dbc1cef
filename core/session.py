"""What the app remembers about a workspace between runs: the last screen, the scale spec
being edited, each screen's options and filters.

One small JSON file in the workspace (`.loyalist/app-state.json`), read when the app opens
the workspace and rewritten when something worth remembering changes. It is a convenience:
a file that cannot be read, is not ours or comes from another version is set aside with a
notice and the app starts afresh, never a crash; a write that fails is only a notice too.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.errors import LoyalistError
from core.export.safe import safe_write

STATE_FILE = Path(".loyalist") / "app-state.json"  # inside the workspace folder
VERSION = 1  # bump when the layout changes; an older file is ignored, not misread


def state_path(root: Path) -> Path:
    return Path(root) / STATE_FILE


def load_state(root: Path) -> tuple[dict[str, Any], str | None]:
    """The saved sections (screen name -> its values) and a notice when the file was set aside."""
    path = state_path(root)
    if not path.is_file():
        return {}, None
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return {}, f"{path} could not be read ({type(exc).__name__}), so the app starts afresh."
    if not isinstance(saved, dict) or not isinstance(saved.get("sections"), dict):
        return {}, f"{path} is not an app state file, so the app starts afresh."
    if saved.get("version") != VERSION:
        return {}, f"{path} is from another version of Loyalist, so the app starts afresh."
    return {k: v for k, v in saved["sections"].items() if isinstance(v, dict)}, None


def save_state(root: Path, sections: dict[str, Any]) -> str | None:
    """Write the sections (JSON values only); returns a notice when the file could not be written."""
    path = state_path(root)
    text = json.dumps({"version": VERSION, "sections": sections}, indent=1, ensure_ascii=False)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        safe_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"), force=True)
    except (OSError, LoyalistError) as exc:
        return f"The app could not remember its state in {path}: {exc}"
    return None


KEPT_DIR = Path(".loyalist") / "kept"  # unsaved work the app kept when its terminal went away


def keep_unsaved(root: Path, stem: str, suffix: str, write: Callable[[Path], object], when: str) -> Path:
    """Write unsaved work (a scale spec's TOML, the report being collected) through `write(path)`
    to a new file in the workspace's kept folder, named after it and `when` (a timestamp): never
    over an earlier one."""
    folder = Path(root) / KEPT_DIR
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(1, 1000):
        path = folder / f"{stem}-{when}{'' if n == 1 else f'-{n}'}{suffix}"
        if not path.exists():
            return safe_write(path, write)
    raise LoyalistError(f"{folder} already holds 999 files named {stem}-{when}")


def kept_files(root: Path) -> list[Path]:
    """The files keep_unsaved wrote and the user has not moved or deleted, by name."""
    folder = Path(root) / KEPT_DIR
    try:
        return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    except OSError:
        return []
