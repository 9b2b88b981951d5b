"""Decoding untrusted input at failgraph's edges: one policy for the HTTP API, the CLI, batch files and the chat.

**Text** (a JSON string, an argument already decoded by Python) must be Unicode that UTF-8 can encode. Lone
surrogates (U+D800–U+DFFF: JSON's ``\\ud800`` escapes, Python's surrogate-escaped undecodable bytes) are *refused*
with a clear message, never replaced silently: :data:`UnicodeText` applies the check in pydantic models.

**Bytes** (standard input, files, command-line arguments) are decoded as UTF-8 first (a UTF-8, UTF-16 or UTF-32
byte-order mark is honoured), else in the legacy encoding that charset-normalizer recognises (Latin-1/cp1252,
GBK/GB18030, Big5, Shift-JIS, EUC-KR, cp1251: :data:`LEGACY`); binary data and bytes that fit no encoding are refused
(:class:`UndecodableInput`).

>>> check_unicode("KeyError: 'qwen2'")
"KeyError: 'qwen2'"
>>> check_unicode("bad \\ud800 text")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
failgraph.ingest.decode.UndecodableInput: the text contains a lone surrogate (U+D800) at character 4, which is ...
>>> decode_bytes("Größe".encode("utf-8")), decode_bytes("Fehler: Größe überschritten für Modell".encode("latin-1"))
('Größe', 'Fehler: Größe überschritten für Modell')
"""

from __future__ import annotations

import codecs
import os
import re
from typing import IO, Annotated, Any

from pydantic import BeforeValidator


class UndecodableInput(ValueError):
    """Input that is not text failgraph can read (a lone surrogate, binary data, an unknown encoding)."""


_SURROGATE = re.compile("[\ud800-\udfff]")
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
#: The legacy encodings tried when bytes are not UTF-8, most likely first (charset-normalizer's names): Western
#: European Windows/Latin-1, Simplified Chinese, Traditional Chinese, Japanese, Korean, Cyrillic.
LEGACY = ("cp1252", "gb18030", "big5", "shift_jis", "euc_kr", "cp1251", "latin_1")
#: Bytes that text in any legacy encoding failgraph accepts does not contain (NUL and most C0 controls).
_BINARY = re.compile(rb"[\x00-\x08\x0e-\x1a\x1c-\x1f]")


def check_unicode(text: str, what: str = "the text") -> str:
    """``text`` unchanged when UTF-8 can encode it; :class:`UndecodableInput` naming the first bad character else."""
    m = _SURROGATE.search(text)
    if m:
        raise UndecodableInput(f"{what} contains a lone surrogate (U+{ord(m.group(0)):04X}) at character {m.start()}, "
                               "which is not valid Unicode; send UTF-8 text")
    return text


def _validate(value: Any) -> Any:
    return check_unicode(value) if isinstance(value, str) else value


#: The check as a pydantic validator, for fields that are more than ``str`` (``Annotated[str | int, CheckUnicode]``).
CheckUnicode = BeforeValidator(_validate)
#: A ``str`` field that refuses lone surrogates with a clear message (use it for every untrusted text field).
UnicodeText = Annotated[str, CheckUnicode]


def detect_encoding(data: bytes, what: str = "the input") -> str:
    """The encoding to read ``data`` in: a byte-order mark's, else UTF-8 when the bytes are UTF-8, else the
    :data:`LEGACY` encoding charset-normalizer finds least chaotic (ties in :data:`LEGACY`'s order).

    Raises :class:`UndecodableInput` for binary data or bytes no encoding explains.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return encoding
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    if _BINARY.search(data):
        raise UndecodableInput(f"{what} looks like binary data, not text; paste the error output or logs as text")
    from charset_normalizer import from_bytes

    # charset-normalizer alone often reads a short GBK line as Korean or a Latin-1 one as Central European (their
    # bytes decode either way): only the encodings of LLM issue reports compete, least chaos first, ties by LEGACY
    matches = sorted(from_bytes(data, cp_isolation=list(LEGACY)),
                     key=lambda m: (round(m.chaos, 3), -round(m.coherence, 3), LEGACY.index(m.encoding)))
    if not matches:
        raise UndecodableInput(f"{what} is neither UTF-8 nor text in a legacy encoding failgraph recognises; "
                               "convert it to UTF-8 (e.g. iconv -f ENCODING -t UTF-8)")
    return matches[0].encoding


def decode_bytes(data: bytes, what: str = "the input", encoding: str | None = None) -> str:
    """Bytes as text, in ``encoding`` or the one :func:`detect_encoding` finds; :class:`UndecodableInput` for
    binary data, bytes that do not fit the encoding, or text with lone surrogates."""
    encoding = encoding or detect_encoding(data, what)
    if not encoding.startswith("utf") and _BINARY.search(data):
        raise UndecodableInput(f"{what} looks like binary data, not text; paste the error output or logs as text")
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        raise UndecodableInput(f"{what} is not {encoding} text like the rest; convert it to UTF-8") from None
    return check_unicode(text, what)


def decode_argv(arg: str, what: str = "the argument") -> str:
    """A command-line argument as text: Python keeps the bytes it could not decode as surrogates (surrogateescape);
    those arguments are re-read from their bytes with :func:`decode_bytes`.

    >>> decode_argv("caf\\udce9 au lait")  # b"caf\\xe9 au lait": Latin-1
    'café au lait'
    """
    if not _SURROGATE.search(arg):
        return arg
    try:
        raw = os.fsencode(arg)
    except UnicodeEncodeError:  # a surrogate that no byte produced: not from the command line
        return check_unicode(arg, what)
    return decode_bytes(raw, what)


def read_stream(stream: IO[str], what: str = "standard input") -> str:
    """A text stream's content (standard input): its bytes decoded with :func:`decode_bytes` when it has them, else
    its text read like an argument."""
    raw = getattr(stream, "buffer", None)
    return decode_bytes(raw.read(), what) if raw is not None else decode_argv(stream.read(), what)


def byte_lines(data: bytes) -> list[bytes]:
    """The file's lines (``\\n`` or ``\\r\\n``), without their line ends; a file with a byte-order mark is
    read in its encoding first."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):  # UTF-32 LE starts with UTF-16 LE's mark
        data = decode_bytes(data, "the batch file").encode("utf-8")
    lines = [line.removesuffix(b"\r") for line in data.split(b"\n")]
    return lines[:-1] if lines and not lines[-1] else lines


def decode_lines(lines: list[bytes], what: str = "line") -> list[str | UndecodableInput]:
    """Each line as text: UTF-8, else the legacy encoding detected over all the lines that are not UTF-8."""
    out: list[str | UndecodableInput] = []
    legacy: str | UndecodableInput | None = None
    for n, line in enumerate(lines, 1):
        try:
            out.append(line.decode("utf-8"))
            continue
        except UnicodeDecodeError:
            pass
        if legacy is None:
            rest = b"\n".join(x for x in lines if not _is_utf8(x))
            try:
                legacy = detect_encoding(rest, "the lines that are not UTF-8")
            except UndecodableInput as e:
                legacy = e
        if isinstance(legacy, UndecodableInput):
            out.append(UndecodableInput(f"{what} {n} is not UTF-8 text"))
            continue
        try:
            out.append(decode_bytes(line, f"{what} {n}", legacy))
        except UndecodableInput as e:
            out.append(e)
    return out


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


__all__ = [
    "LEGACY",
    "CheckUnicode",
    "UndecodableInput",
    "UnicodeText",
    "byte_lines",
    "check_unicode",
    "decode_argv",
    "decode_bytes",
    "decode_lines",
    "detect_encoding",
    "read_stream",
]
