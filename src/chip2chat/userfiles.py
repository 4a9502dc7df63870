"""Reading a user's file: the one place that turns I/O, encoding and syntax problems into one-line errors.

Every reader of a file the user names (a YAML spec or scenario, a config.json, a trace, a validation
or calibration CSV) goes through here, so a missing file, a folder, an unreadable file or binary
bytes stop with `<file>: <where>: <problem>; expected <what>` and never a traceback.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

import yaml

from chip2chat.errors import ConfigError

NOT_TEXT = "not a text file (UTF-8)"


def read_text(path: str | Path, what: str) -> str:
    """The whole of `path` as text (UTF-8, a leading byte-order mark dropped). `what` says what the
    file should be ("a Hugging Face config.json"); every problem is a ConfigError naming the file."""
    p = Path(path)
    with _open(p, what) as handle:
        data = _read(handle, p, what)
    return _decode(data, p, what, first_line=1)


def text_lines(path: str | Path, what: str) -> Iterator[str]:
    """The lines of `path` (each with its line ending), decoded one by one as they are read, so a
    trace of millions of lines is never held whole; a bad byte names its line. The file is opened
    here, so a missing file fails at the call, not at the first line."""
    p = Path(path)
    handle = _open(p, what)
    return _decoded_lines(handle, p, what)


def read_mapping(path: str | Path, what: str, allow_empty: bool = False) -> dict:
    """The YAML mapping in `path`; a missing or binary file, bad YAML or a non-mapping is a
    ConfigError naming the file (and, for YAML, the line). With `allow_empty`, an empty file (or one
    of only comments) is {}."""
    p = Path(path)
    text = read_text(p, f"a YAML file describing {what}")
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(str(p), "<file>", f"not valid YAML: {' '.join(str(exc).split())}") from None
    except RecursionError:
        raise ConfigError(str(p), "<file>", "not valid YAML: nested too deeply") from None
    if raw is None:
        if allow_empty:
            return {}
        raise ConfigError(str(p), "<file>", f"empty; expected a YAML mapping describing {what}")
    if not isinstance(raw, dict):
        raise ConfigError(str(p), "<root>", f"expected a mapping describing {what}, got {type(raw).__name__}")
    return raw


RowError = Callable[[str, int | None, str | None], Exception]
"""Builds the error for a CSV problem from (problem, line, column); lets a reader keep its own wording."""


def csv_rows(path: str | Path, what: str, required: Sequence[str], header: Sequence[str] | None = None,
             error: RowError | None = None) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, {column: text}) for each non-blank row of a CSV file with a header line.

    Checked before a row is given: the header has every `required` column (the message shows
    `header`, default `required`, as the expected one); a row has a field for every column of the
    header (a short row names its first missing column) and no extra non-empty field (an unquoted
    comma, as in 1,234, shifts every column after it). Line numbers count the file's lines from 1
    (the header is usually line 1). `error` builds the exception (default: ConfigError naming
    `row N: column X`). The file is opened at the call; rows are read as they are iterated.
    """
    p = Path(path)
    fail = error or _row_error(p)
    return _rows(text_lines(p, what), p, tuple(required), tuple(header or required), fail)


def number_cell(text: str) -> float:
    """A CSV cell as a finite number ('1,234.5' allowed); ValueError saying what is wrong otherwise."""
    try:
        value = float(text.strip().replace(",", ""))
    except ValueError:
        raise ValueError("expected a number") from None
    if not math.isfinite(value):
        raise ValueError("expected a finite number")
    return value


def _rows(lines: Iterator[str], p: Path, required: tuple[str, ...], header: tuple[str, ...],
          fail: RowError) -> Iterator[tuple[int, dict[str, str]]]:
    expected = ",".join(header)
    reader = csv.reader(lines)

    def records():
        try:
            yield from reader
        except csv.Error as exc:
            raise fail(f"not valid CSV ({exc})", reader.line_num, None) from None

    rows = records()
    first = next((row for row in rows if any(cell.strip() for cell in row)), None)
    if first is None:
        raise fail(f"empty file; expected the header {expected}", None, None)
    columns = [column.strip() for column in first]
    missing = [column for column in required if column not in columns]
    if missing:
        label = "column" if len(missing) == 1 else "columns"
        raise fail(f"missing {label} {', '.join(map(repr, missing))}; expected the header {expected} "
                   f"(found {','.join(columns)})", reader.line_num, None)
    for row in rows:
        if not any(cell.strip() for cell in row):
            continue
        if len(row) < len(columns):
            raise fail(f"missing: the row has {_fields(len(row))}, the header {len(columns)}", reader.line_num,
                       columns[len(row)])
        if any(cell.strip() for cell in row[len(columns):]):
            raise fail(f"{len(row)} fields, but the header has {len(columns)} (an unquoted comma, as in 1,234?)",
                       reader.line_num, None)
        yield reader.line_num, dict(zip(columns, row))


def _fields(n: int) -> str:
    return f"{n} field" if n == 1 else f"{n} fields"


def _row_error(p: Path) -> RowError:
    def build(problem: str, line: int | None, column: str | None) -> Exception:
        where = "<file>" if line is None else f"row {line}" + (f": column {column}" if column else "")
        return ConfigError(str(p), where, problem)

    return build


def _open(p: Path, what: str) -> BinaryIO:
    try:
        return p.open("rb")
    except FileNotFoundError:
        raise ConfigError(str(p), "<file>", f"no such file; expected {what}") from None
    except IsADirectoryError:
        raise ConfigError(str(p), "<file>", f"is a folder, not a file; expected {what}") from None
    except PermissionError:
        raise ConfigError(str(p), "<file>", f"cannot be read (permission denied); expected {what}") from None
    except OSError as exc:
        raise ConfigError(str(p), "<file>", f"cannot be read ({exc.strerror or exc}); expected {what}") from None


def _read(handle: BinaryIO, p: Path, what: str) -> bytes:
    try:
        return handle.read()
    except OSError as exc:  # e.g. EISDIR where open() of a folder succeeds
        raise ConfigError(str(p), "<file>", f"cannot be read ({exc.strerror or exc}); expected {what}") from None


def _decoded_lines(handle: BinaryIO, p: Path, what: str) -> Iterator[str]:
    with handle:
        try:
            for number, raw in enumerate(handle, start=1):
                yield _decode(raw, p, what, first_line=number)
        except OSError as exc:
            raise ConfigError(str(p), "<file>", f"cannot be read ({exc.strerror or exc}); expected {what}") from None


def _decode(data: bytes, p: Path, what: str, first_line: int) -> str:
    """UTF-8 text without a leading BOM; undecodable bytes or a NUL (binary data, or UTF-16 text)
    are a ConfigError naming the line."""
    nul = data.find(b"\x00")
    if nul >= 0:
        line = first_line + data.count(b"\n", 0, nul)
        raise ConfigError(str(p), f"line {line}", f"{NOT_TEXT}: it holds NUL bytes (binary data, or UTF-16 "
                          f"text?); expected {what}")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = first_line + data.count(b"\n", 0, exc.start)
        raise ConfigError(str(p), f"line {line}", f"{NOT_TEXT}: byte 0x{data[exc.start]:02x} is not UTF-8; "
                          f"expected {what}") from None
    return text[1:] if first_line == 1 and text.startswith("\ufeff") else text
