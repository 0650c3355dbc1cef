"""Safe writing: temp file then rename, no silent overwrite, clear errors for bad folders."""

import errno
import os

import pytest

from core.errors import InputError
from core.export import safe_write


def _write(text):
    return lambda p: p.write_text(text, encoding="utf-8")


def test_writes_the_file_and_leaves_no_temporary_behind(tmp_path):
    path = safe_write(tmp_path / "out.txt", _write("hello"))
    assert path.read_text(encoding="utf-8") == "hello"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


def test_the_writer_never_writes_to_the_final_name(tmp_path):
    seen = []
    safe_write(tmp_path / "out.txt", lambda p: (seen.append(p), p.write_text("x")))
    assert seen[0].parent == tmp_path and seen[0].name != "out.txt"
    assert not seen[0].exists()


def test_refuses_to_overwrite_without_force(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("precious")
    with pytest.raises(InputError, match="already exists") as err:
        safe_write(target, _write("new"))
    assert "--force" in str(err.value)
    assert target.read_text() == "precious"


def test_force_replaces(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    safe_write(target, _write("new"), force=True)
    assert target.read_text() == "new"


def test_a_file_that_appears_while_writing_is_not_clobbered(tmp_path):
    target = tmp_path / "out.txt"

    def racing_writer(tmp):
        target.write_text("someone else's")  # another program got there first
        tmp.write_text("ours")

    with pytest.raises(InputError, match="already exists"):
        safe_write(target, racing_writer)
    assert target.read_text() == "someone else's"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


def test_a_failing_writer_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")

    def broken(tmp):
        tmp.write_text("half")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        safe_write(target, broken, force=True)
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


def test_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(InputError, match="folder does not exist") as err:
        safe_write(tmp_path / "nope" / "out.csv", _write("x"))
    assert str(tmp_path / "nope") in str(err.value)


def test_a_file_used_as_folder_is_a_clear_error(tmp_path):
    (tmp_path / "plain").write_text("x")
    with pytest.raises(InputError, match="is a file, not a folder"):
        safe_write(tmp_path / "plain" / "out.csv", _write("x"))


def test_a_folder_as_target_is_a_clear_error(tmp_path):
    with pytest.raises(InputError, match="is a folder"):
        safe_write(tmp_path, _write("x"))


def test_unwritable_folder_is_refused_before_any_work(tmp_path, monkeypatch):
    # Tests may run as root, which ignores permission bits, so the check is simulated.
    monkeypatch.setattr("core.export.safe.os.access", lambda path, mode: False)
    calls = []
    with pytest.raises(InputError, match="cannot be written"):
        safe_write(tmp_path / "out.csv", lambda p: calls.append(p))
    assert calls == []


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root ignores permission bits")
def test_really_unwritable_folder(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(InputError, match="cannot be written"):
            safe_write(locked / "out.csv", _write("x"))
    finally:
        locked.chmod(0o700)


@pytest.mark.parametrize(("code", "words"), [(errno.EACCES, "permission denied"), (errno.ENOSPC, "disk is full"),
                                             (errno.EROFS, "read-only")])
def test_os_errors_while_writing_become_clear_messages(tmp_path, code, words):
    def failing(tmp):
        raise OSError(code, os.strerror(code))

    with pytest.raises(InputError, match=words):
        safe_write(tmp_path / "out.csv", failing)
    assert list(tmp_path.iterdir()) == []
