"""core.session.keep_unsaved: unsaved work kept when the app's terminal went away never
replaces an earlier kept file, and kept_files lists what the analyst has not removed."""

from __future__ import annotations

from pathlib import Path

from core.session import keep_unsaved, kept_files


def text(value: str):
    return lambda path: path.write_text(value, encoding="utf-8")


def test_two_keeps_in_the_same_second_write_two_files(tmp_path: Path) -> None:
    first = keep_unsaved(tmp_path, "loyalty-index", ".toml", text("a = 1\n"), "20261207-120000")
    second = keep_unsaved(tmp_path, "loyalty-index", ".toml", text("a = 2\n"), "20261207-120000")
    assert first != second
    assert first.read_text(encoding="utf-8") == "a = 1\n"
    assert second.read_text(encoding="utf-8") == "a = 2\n"
    assert set(kept_files(tmp_path)) == {first, second}
    second.unlink()
    assert kept_files(tmp_path) == [first]


def test_no_kept_folder_is_no_kept_files(tmp_path: Path) -> None:
    assert kept_files(tmp_path) == []
