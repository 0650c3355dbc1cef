"""How a text file is written: its encoding, delimiter and line ends, judged from samples.

Decoding with the wrong encoding gives no error, only mojibake (Latin-1 `Müller` read as
GB18030 is `M黮ler`), so every reading that decodes is scored for plausibility
(charset-normalizer's mess ratio) and the plausible one is used; when two different
readings are both plausible the file is refused with the `encoding` option that settles
it. Samples are a few blocks spread over the file, so memory stays bounded.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from core.errors import InputError

DELIMITERS = (",", "\t", ";", "|")
BLOCK = 1 << 16
BLOCKS = 8  # head, tail and evenly spaced blocks between
# A header line longer than this is not a header: the file has no usable line breaks.
MAX_LINE = 1 << 20
# Encodings tried when the bytes are not UTF-8, in order of preference on a tie.
FALLBACKS = ("gb18030", "cp1252")
GARBLED_LINE = 0.3  # a line's mess ratio above which it reads as mojibake (M黮ler: 0.8)
PLAUSIBLE = 0.1  # share of garbled lines or words at or below which a reading is real text
BOMS = (  # UTF-32 first: its little-endian mark starts with UTF-16's
    (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
)


@dataclass(frozen=True)
class TextFormat:
    encoding: str
    encoding_how: str  # why this encoding: "byte-order mark", "loyalist.toml", "detected ..."
    delimiter: str
    delimiter_how: str
    eol: str = "\n"

    @property
    def utf8(self) -> bool:
        return codecs.lookup(self.encoding).name in ("utf-8", "utf-8-sig")

    def describe(self) -> str:
        return f"{self.encoding} ({self.encoding_how})"


def sample_blocks(path: Path) -> list[bytes]:
    """The first block, the last and some between; later blocks start on a line boundary."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        head = handle.read(BLOCK)
        if size <= BLOCK:
            return [head]
        blocks = [head]
        for i in range(1, BLOCKS):
            handle.seek(max(BLOCK, (size - BLOCK) * i // (BLOCKS - 1)))
            block = handle.read(BLOCK)
            # Drop the partial first line (\n is never part of a multi-byte character in
            # UTF-8, GB18030 or cp1252) and any character cut at the end.
            cut = block.find(b"\n")
            blocks.append(block[cut + 1:] if cut >= 0 else b"")
    return blocks


def _decodes(blocks: list[bytes], encoding: str) -> str | None:
    parts = []
    for block in blocks:
        try:
            parts.append(codecs.getincrementaldecoder(encoding)().decode(block, final=False))
        except UnicodeDecodeError:
            return None
    return "\n".join(parts)


def _utf16_without_bom(head: bytes) -> str | None:
    """UTF-16 text without a BOM: ASCII characters leave a NUL in every other byte."""
    pairs = len(head) // 2
    if pairs < 2:
        return None
    even_nul = head[0:pairs * 2:2].count(0) / pairs
    odd_nul = head[1:pairs * 2:2].count(0) / pairs
    if odd_nul > 0.3 and even_nul < 0.05:
        return "utf-16-le"
    if even_nul > 0.3 and odd_nul < 0.05:
        return "utf-16-be"
    return None


def _mess(text: str, encoding: str) -> float:
    """How garbled a decoded text looks: the share of its non-ASCII lines (or words) that are."""
    from charset_normalizer.md import mess_ratio

    lines = [line for line in text.splitlines() if not line.isascii()]
    if not lines:
        return 0.0
    lines = lines[:400]
    sample = "\n".join(lines)
    # Line by line: the detector judges a whole text by its worst stretch, and an honest
    # `¥1,000` a few lines from `Köln` is such a stretch.
    mess = sum(mess_ratio(line, maximum_threshold=1.0) > GARBLED_LINE for line in lines) / len(lines)
    if encoding == "cp1252":
        mess = max(mess, _foreign_words(sample))
    if encoding == "gb18030":
        mess = max(mess, _glued_words(sample))
    return mess


def _non_ascii_words(text: str) -> list[str]:
    return [w for w in re.split(r"[\s,;|\d\-_/.:()\"']+", text) if w and not w.isascii()]


def _glued_words(text: str) -> float:
    """Share of non-ASCII words with a Chinese character run into lowercase Latin letters.

    A cp1252 accent read as GB18030 swallows the next letter into one character in the
    middle of a word (Müller -> M黮ler, Köln -> K鰈n); Chinese text seldom does that.
    """
    words = _non_ascii_words(text)
    odd = sum(1 for w in words if re.search(r"[\u3400-\u9fff\uf900-\ufaff][a-z]", w))
    return odd / len(words) if words else 0.0


def _foreign_words(text: str) -> float:
    """Share of non-ASCII words that no Latin-script language writes: GB18030 read as cp1252.

    Latin words carry their accents among plain letters (Müller, Crème, à); a GB18030
    character read as cp1252 is two accented letters in a row (男 -> ÄÐ, 你好 -> ÄãºÃ),
    or a symbol inside a word (GB18030's ü -> ¨¹).
    """
    words = _non_ascii_words(text)
    if not words:
        return 0.0
    odd = sum(1 for w in words if re.search(r"[^\x00-\x7f]{3}", w)
              or (len(w) >= 2 and not re.search(r"[A-Za-z]", w))
              or (re.search(r"[A-Za-z]", w) and any(_stray_symbol(ch) for ch in w)))
    return odd / len(words)


# Symbols Latin text does write next to letters (°C, 5€, ™); others (¨ ¹ ± ¤) glued to
# letters are GB18030 bytes read as cp1252 (Müller -> M¨¹ller).
WORD_SYMBOLS = set("°€£¥§©®™«»·–—‘’“”•…\u00a0")


def _stray_symbol(ch: str) -> bool:
    return not ch.isascii() and not unicodedata.category(ch).startswith("L") and ch not in WORD_SYMBOLS


def detect_encoding(path: Path, blocks: list[bytes] | None = None) -> tuple[str, str]:
    """The encoding a file is written in and why, or an InputError with the fix."""
    blocks = blocks if blocks is not None else sample_blocks(path)
    head = blocks[0]
    for bom, encoding in BOMS:
        if head.startswith(bom):
            return encoding, "byte-order mark"
    utf16 = _utf16_without_bom(head)
    if utf16:
        return utf16, "detected: NUL in every other byte (UTF-16 without a byte-order mark)"
    if b"\x00" in head:
        raise InputError(
            "the file holds NUL bytes: it is binary, or text in an encoding that cannot be told",
            file=str(path),
            fix='export it again as CSV (UTF-8), or set encoding = "utf-16" (or the real encoding) '
            "for this table in loyalist.toml",
        )
    text = _decodes(blocks, "utf-8")
    if text is not None:
        return "utf-8", "detected"
    readings = {enc: text for enc in FALLBACKS if (text := _decodes(blocks, enc)) is not None}
    scored = {enc: _mess(text, enc) for enc, text in readings.items()}
    plausible = [enc for enc in readings if scored[enc] <= PLAUSIBLE]
    if len(plausible) == 1:
        others = [f"{enc} reads garbled" for enc in readings if enc not in plausible]
        return plausible[0], "detected: not UTF-8" + (f"; {', '.join(others)}" if others else "")
    if plausible:
        a, b = plausible[:2]
        raise InputError(
            f"the text reads plausibly both as {a} ({_example(readings[a])}) and as {b} "
            f"({_example(readings[b])})",
            file=str(path),
            fix=f'set encoding = "{a}" or encoding = "{b}" (whichever shows your text right) '
            "for this table in loyalist.toml",
        )
    tried = ", ".join(["utf-8", *FALLBACKS])
    raise InputError(
        f"the text is not in any encoding tried ({tried}): every reading is garbled or fails",
        file=str(path),
        fix='set encoding = "..." for this table in loyalist.toml to the file\'s real encoding '
        '(for example "latin-1", "big5" or "shift_jis")',
    )


def _example(text: str) -> str:
    """The first word with non-ASCII characters, as this reading shows it."""
    for word in text.replace(",", " ").replace(";", " ").replace("\t", " ").split():
        if not word.isascii():
            return repr(word[:20])
    return "no non-ASCII text"


def detect_delimiter(first_line: str, path: Path) -> str:
    counts = {d: first_line.count(d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    if counts[best] == 0:
        return "\t" if path.suffix.lower() == ".tsv" else ","
    return best


def check_delimiter(delimiter: str, path: Path) -> None:
    """Polars splits fields on one byte: `;;` or a full-width `，` cannot be a delimiter."""
    if len(delimiter) != 1 or len(delimiter.encode("utf-8")) != 1:
        raise InputError(
            f"delimiter {delimiter!r} is not one character (fields are split on a single "
            "character such as , ; | or a tab)",
            file=str(path),
            fix='set delimiter = ";" (or ",", "|", "\\t") for this table in loyalist.toml, or remove it '
            "to have it detected",
        )


def first_line(head: bytes, encoding: str, path: Path, size: int) -> tuple[str, str]:
    """The header line and the line end, refusing a file with no line breaks early."""
    text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(head, final=False).lstrip("\ufeff")
    newline = text.find("\n")
    if newline < 0 and "\r" in text:
        return text.split("\r", 1)[0], "\r"  # classic Mac line ends
    if newline < 0 and size > len(head):
        raise InputError(
            f"no line breaks in the first {len(head) // 1024} KB of a {size / 1e6:.0f} MB file",
            file=str(path),
            fix="export the table again as CSV with one row per line (the file may be cut, "
            "or joined into one line by a tool)",
        )
    return text[:newline].rstrip("\r") if newline >= 0 else text, "\n"


def sniff_text(path: Path, encoding: str | None, delimiter: str | None) -> TextFormat:
    """Encoding, delimiter and line end of a delimited text file (options win when set)."""
    if encoding:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise InputError(f"unknown encoding {encoding!r}", file=str(path),
                             fix='set encoding to one Python knows, such as "utf-8", "gb18030", '
                             '"cp1252" or "latin-1"') from None
        enc, enc_how = encoding, "loyalist.toml"
    else:
        enc, enc_how = detect_encoding(path)  # samples blocks only when it must judge
    size = path.stat().st_size
    with path.open("rb") as handle:
        head = handle.read(MAX_LINE)
    header, eol = first_line(head, enc, path, size)
    if not header.strip():
        raise InputError("the file has no header row", file=str(path), fix="the first line must name the columns")
    if delimiter is not None:
        check_delimiter(delimiter, path)
        return TextFormat(enc, enc_how, delimiter, "loyalist.toml", eol)
    return TextFormat(enc, enc_how, detect_delimiter(header, path), "detected", eol)
