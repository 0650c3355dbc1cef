"""The bench records which commit it measured, also from a worktree (a bench of another
commit runs in one), so a published figure can be traced to its code."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from bench.summary import commit

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")


def git(cwd, *args) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def test_the_commit_is_read_in_the_checkout_and_in_its_worktrees(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "a.txt").write_text("a\n")
    git(repo, "add", "a.txt")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "first")
    first = git(repo, "rev-parse", "HEAD")
    (repo / "a.txt").write_text("b\n")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "second")
    second = git(repo, "rev-parse", "HEAD")
    git(repo, "worktree", "add", "-q", "--detach", str(tmp_path / "detached"), first)
    git(repo, "worktree", "add", "-q", "-b", "side", str(tmp_path / "branch"), first)

    assert commit(repo) == second
    assert commit(tmp_path / "detached") == first  # .git is a file there
    assert commit(tmp_path / "branch") == first  # its branch's ref is in the common directory
    git(repo, "pack-refs", "--all")
    assert commit(repo) == second and commit(tmp_path / "branch") == first  # packed refs
    assert commit(tmp_path) is None  # no checkout
