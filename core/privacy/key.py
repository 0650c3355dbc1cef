"""The workspace's pseudonym key: made once, kept in the workspace, never printed.

Customer ids in a pseudonymised export are HMAC-SHA256(key, id). The same key gives the
same pseudonym in every export of the workspace (two exports join on it); without the key
a pseudonym cannot be traced back to the id (not even by hashing every possible id).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

import polars as pl

from core.errors import InputError

KEY_FILE = Path(".loyalist") / "pseudonym.key"  # inside the workspace folder
KEY_ENV = "LOYALIST_PSEUDONYM_KEY"  # a key file elsewhere (shared by several workspaces)
KEY_BYTES = 32
PSEUDONYM_CHARS = 16  # hex characters kept (64 bits): no collision among millions of customers


def key_path(root: Path) -> Path:
    """Where the key of the workspace at `root` is (or will be) kept."""
    override = os.environ.get(KEY_ENV)
    return Path(override).expanduser() if override else root / KEY_FILE


def load_or_create_key(root: Path) -> bytes:
    """The workspace's key; the first pseudonymised export creates it (readable by its owner only)."""
    path = key_path(root)
    if not path.exists():
        _create(path)
    try:
        text = path.read_text(encoding="ascii").strip()
        key = bytes.fromhex(text)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"the pseudonym key cannot be read ({getattr(exc, 'strerror', None) or exc})",
                         file=str(path), fix="restore the key file from a backup (a new key makes pseudonyms "
                         "that do not join with earlier exports), or delete it to start a new one") from None
    if len(key) < 16:
        raise InputError("the pseudonym key is too short", file=str(path),
                         fix=f"restore it from a backup, or delete it to start a new {KEY_BYTES}-byte key")
    return key


def _create(path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # O_EXCL: two exports starting at once make one key, and the loser reads the winner's.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    except OSError as exc:
        raise InputError(f"cannot create the pseudonym key ({exc.strerror or exc})", file=str(path),
                         fix=f"make the workspace folder writable, or set {KEY_ENV} to a key file "
                         "you can write") from None
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(secrets.token_hex(KEY_BYTES) + "\n")


def key_id(key: bytes) -> str:
    """A short fingerprint naming the key in an export's params (it reveals nothing of the key)."""
    return hashlib.sha256(b"loyalist key id\0" + key).hexdigest()[:8]


def pseudonyms(ids: pl.Series, key: bytes) -> pl.Series:
    """HMAC-SHA256 of each id (as UTF-8 text), first PSEUDONYM_CHARS hex characters; nulls stay null.

    The hash runs once per distinct id, in hashlib's C code: Polars has no keyed
    cryptographic hash, and its own hash is neither keyed nor stable across versions.
    """
    text = ids.cast(pl.String)
    distinct = text.drop_nulls().unique()
    hashed = [hmac.digest(key, value.encode("utf-8"), "sha256").hex()[:PSEUDONYM_CHARS]
              for value in distinct.to_list()]
    return text.replace_strict(distinct, pl.Series(hashed, dtype=pl.String), default=None,
                               return_dtype=pl.String).alias(ids.name)
