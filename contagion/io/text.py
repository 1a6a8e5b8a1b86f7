"""Reading TOML, YAML and JSON text safely: every problem a located, one-line error, never a traceback.

Used for scenario files, sweep configurations, ``dataset.toml``, JSON
networks and the JSON metadata stored in Parquet and GraphML files. Beyond
the parsers' own syntax errors (with line and column), it refuses, with the
file and the line or the path of the value:

- nesting deeper than :data:`MAX_NESTING` levels (the parsers would raise
  ``RecursionError`` from about 1,000 levels);
- YAML aliases that expand the document by more than :data:`ALIAS_BUDGET`
  values (a "billion laughs" file of under 1 KB), and recursive aliases;
- a key given twice in one mapping (JSON and YAML parsers keep the last one
  silently; TOML already refuses it);
- numbers too large for a float (JSON/TOML/YAML integers of more than
  :data:`MAX_INT_DIGITS` digits, JSON numbers such as ``1e400``), which would
  otherwise fail later with ``OverflowError`` or be read as infinity;
- YAML 1.1 numbers whose reading differs from how they look: digits separated
  by ``_`` (``1_000``), sexagesimal (``1:30`` = 90) and leading-zero octal
  (``010`` = 8);
- lone surrogates (``"\\ud800"`` in JSON or YAML), which are not characters
  and cannot be written out as UTF-8.

Values echoed in messages are cut to about 80 characters
(:func:`contagion.errors.shown`).

>>> parse_data('{"a": [1, 2]}', ".json")
{'a': [1, 2]}
>>> parse_data('{"a": 1, "a": 2}', ".json", source="x.json")
Traceback (most recent call last):
...
contagion.errors.ContagionError: x.json: a: key appears more than once (JSON would keep the last one)
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Callable

from ..errors import ContagionError, shown

__all__ = ["parse_data", "read_text", "MAX_NESTING", "ALIAS_BUDGET", "MAX_INT_DIGITS", "TextProblem",
           "check_json_value", "json_loads", "BigNumber", "not_utf8"]

#: Deepest nesting of lists/tables accepted in a configuration or metadata document.
MAX_NESTING = 100
#: Values that YAML aliases may add to a document (beyond the values written out).
ALIAS_BUDGET = 10_000
#: Longest integer accepted (a float64 holds at most about 1.8e308: 309 digits).
MAX_INT_DIGITS = 308

_FORMATS = {".toml": "TOML", ".yaml": "YAML", ".yml": "YAML", ".json": "JSON"}


class TextProblem(Exception):
    """One problem of a document: a message and, when known, its line and column (1-based) or value path."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None, path: str = "") -> None:
        self.message, self.line, self.column, self.path = message, line, column, path
        super().__init__(self.located())

    def located(self) -> str:
        where = []
        if self.line is not None:
            where.append(f"line {self.line}" + (f", column {self.column}" if self.column is not None else ""))
        if self.path:
            where.append(self.path)
        return ": ".join([*where, self.message])


class BigNumber(str):
    """The text of a JSON number that no float64 holds (``1e400``, an integer of 400 digits)."""


def not_utf8(data: bytes, exc: UnicodeDecodeError, spreadsheet: bool = True) -> str:
    """The message for bytes that are not UTF-8: where, and what to do (a UTF-16 file, as a spreadsheet's
    "Unicode Text" export writes it, is named as such). ``spreadsheet``: the file is a table a spreadsheet may
    have saved (CSV), and the message says which of its formats to choose.

    >>> data = "Société".encode("latin-1")
    >>> try:
    ...     data.decode("utf-8")
    ... except UnicodeDecodeError as exc:
    ...     print(not_utf8(data, exc))
    ...     print(not_utf8(data, exc, spreadsheet=False))
    not UTF-8 text (invalid continuation byte at byte 4, line 1); save it as UTF-8 (a spreadsheet's "CSV UTF-8")
    not UTF-8 text (invalid continuation byte at byte 4, line 1); save it as UTF-8
    """
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return ('UTF-16 text, not UTF-8 (a spreadsheet\'s "Unicode Text"); save it as UTF-8 ("CSV UTF-8")'
                if spreadsheet else "UTF-16 text, not UTF-8; save it as UTF-8")
    line = data.count(b"\n", 0, exc.start) + 1
    return (f"not UTF-8 text ({exc.reason} at byte {exc.start}, line {line}); save it as UTF-8"
            + (' (a spreadsheet\'s "CSV UTF-8")' if spreadsheet else ""))


def _parse_int(text: str) -> Any:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        return BigNumber(text)
    return int(text)


def _parse_float(text: str) -> Any:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        return BigNumber(text)
    return value


class _Object(dict):
    """A JSON object that remembers the keys it saw more than once."""

    duplicates: tuple[str, ...] = ()


def _pairs(pairs: list[tuple[str, Any]]) -> _Object:
    obj = _Object(pairs)
    if len(obj) != len(pairs):
        keys = [k for k, _ in pairs]
        obj.duplicates = tuple(dict.fromkeys(k for i, k in enumerate(keys) if k in keys[:i]))
    return obj


def json_loads(text: str) -> Any:
    """``json.loads`` that keeps duplicate keys visible (``.duplicates`` of each object) and big numbers as
    :class:`BigNumber`; raises :class:`TextProblem` for syntax errors and nesting the parser cannot follow.
    Call :func:`check_json_value` on the parts whose values matter."""
    try:
        return json.loads(text, object_pairs_hook=_pairs, parse_int=_parse_int, parse_float=_parse_float)
    except json.JSONDecodeError as exc:
        raise TextProblem(exc.msg, exc.lineno, exc.colno) from None
    except RecursionError:
        raise _too_deep(text) from None


def _path(parent: str, key: Any) -> str:
    if isinstance(key, int):
        return f"{parent}[{key}]"
    key = shown(key, 40, quote=False) if isinstance(key, str) else shown(key, 40)
    return f"{parent}.{key}" if parent else key


def _surrogate(text: str) -> bool:
    if text.isascii():
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def check_json_value(value: Any, path: str = "", *, max_depth: int = MAX_NESTING, what: str = "JSON") -> None:
    """Walk parsed data (iteratively) and raise :class:`TextProblem` on the first value that cannot be used:
    nesting deeper than ``max_depth``, a duplicate key, a :class:`BigNumber`, an integer of more than
    :data:`MAX_INT_DIGITS` digits, or text with a lone surrogate."""
    stack: list[tuple[Any, str, int]] = [(value, path, 0)]
    while stack:
        v, p, depth = stack.pop()
        if isinstance(v, dict):
            if depth >= max_depth:
                raise TextProblem(f"nested more than {max_depth} levels deep", path=p)
            for key in getattr(v, "duplicates", ()):
                raise TextProblem(f"key appears more than once ({what} would keep the last one)",
                                  path=_path(p, key))
            for key, x in v.items():
                if isinstance(key, str) and _surrogate(key):
                    raise TextProblem(f"key {shown(key)} contains a lone surrogate (not a character)",
                                      path=p or "top level")
                stack.append((x, _path(p, key), depth + 1))
        elif isinstance(v, list):
            if depth >= max_depth:
                raise TextProblem(f"nested more than {max_depth} levels deep", path=p)
            stack.extend((x, _path(p, k), depth + 1) for k, x in enumerate(v))
        elif isinstance(v, BigNumber):
            raise TextProblem(f"number too large for a float ({_describe_big(v)})", path=p)
        elif isinstance(v, str):
            if _surrogate(v):
                raise TextProblem(f"text contains a lone surrogate, which is not a character (value: {shown(v)})",
                                  path=p)
        elif isinstance(v, int) and not isinstance(v, bool) and v.bit_length() > 1024:
            raise TextProblem(f"number too large for a float (an integer of {len(str(abs(v)))} digits)", path=p)


def _describe_big(text: str) -> str:
    digits = len(text.lstrip("+-"))
    if re.fullmatch(r"[+-]?\d+", text):
        return f"an integer of {digits} digits"
    return f"value: {shown(str(text))}"


# ---------------------------------------------------------------------- locating deep nesting
def _too_deep(text: str, limit: int = MAX_NESTING) -> TextProblem:
    """The line and column where brackets first nest deeper than ``limit`` (strings skipped), if found."""
    depth, line, col, k, n = 0, 1, 0, 0, len(text)
    while k < n:
        ch = text[k]
        col += 1
        if ch == "\n":
            line, col = line + 1, 0
        elif ch in "\"'":
            end = k + 1
            while end < n and text[end] != ch and text[end] != "\n":
                end += 2 if text[end] == "\\" and ch == '"' else 1
            col += end - k
            k = end
        elif ch in "[{":
            depth += 1
            if depth > limit:
                return TextProblem(f"nested more than {limit} levels deep", line, col)
        elif ch in "]}":
            depth -= 1
        k += 1
    return TextProblem(f"nested more than {limit} levels deep (too deep for the parser)")


# ---------------------------------------------------------------------- YAML
def _yaml_loader() -> type:
    import yaml

    class Loader(yaml.SafeLoader):
        """SafeLoader that refuses duplicate keys, runaway aliases and numbers that do not read as they look."""

        def compose_mapping_node(self, anchor: Any) -> Any:
            node = super().compose_mapping_node(anchor)
            seen: dict[tuple[str, str], Any] = {}
            for key, _ in node.value:
                if not isinstance(key, yaml.ScalarNode) or key.tag == "tag:yaml.org,2002:merge":
                    continue
                ident = (key.tag, key.value)
                if ident in seen:
                    first = seen[ident].start_mark.line + 1
                    raise TextProblem(f"key {shown(key.value)} appears more than once (first on line {first}; "
                                      f"YAML would keep the last one)", key.start_mark.line + 1,
                                      key.start_mark.column + 1)
                seen[ident] = key
            return node

        def get_single_data(self) -> Any:
            node = self.get_single_node()
            if node is None:
                return None
            _check_yaml_nodes(node)
            return self.construct_document(node)

        def construct_yaml_int(self, node: Any) -> Any:
            _check_yaml_number(node, "int")
            return super().construct_yaml_int(node)

        def construct_yaml_float(self, node: Any) -> Any:
            _check_yaml_number(node, "float")
            return super().construct_yaml_float(node)

    Loader.add_constructor("tag:yaml.org,2002:int", Loader.construct_yaml_int)
    Loader.add_constructor("tag:yaml.org,2002:float", Loader.construct_yaml_float)
    return Loader


def _mark(node: Any) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _check_yaml_number(node: Any, kind: str) -> None:
    text = str(node.value).strip()
    body = text.lstrip("+-")
    problem = None
    if "_" in text:
        problem = "digits separated by '_'"
    elif ":" in text:
        problem = "a sexagesimal number (YAML 1.1 reads 1:30 as 90)"
    elif kind == "int" and len(body) > 1 and body[0] == "0" and body[1].isdigit():
        problem = "a leading zero (YAML 1.1 reads 010 as the octal number 8)"
    elif kind == "int" and len(body) > MAX_INT_DIGITS and body.isdigit():
        raise TextProblem(f"number too large for a float (an integer of {len(body)} digits)", *_mark(node))
    elif kind == "float" and re.fullmatch(r"[0-9.eE+-]+", body) and float(text) in (float("inf"), float("-inf")):
        raise TextProblem(f"number too large for a float (value: {shown(text)})", *_mark(node))
    if problem:
        raise TextProblem(f"the number {shown(text)} is written with {problem}; write plain digits, "
                          f"or quote it to mean text", *_mark(node))


def _check_yaml_nodes(root: Any) -> None:
    """Depth, recursive aliases and the alias expansion budget of a composed YAML document (iteratively)."""
    import yaml

    size: dict[int, int] = {}
    distinct = 0
    state: dict[int, int] = {}  # 1 = on the path, 2 = done
    stack: list[tuple[Any, int, bool]] = [(root, 0, False)]
    while stack:
        node, depth, leaving = stack.pop()
        key = id(node)
        kids = ([x for pair in node.value for x in pair] if isinstance(node, yaml.MappingNode) else
                list(node.value) if isinstance(node, yaml.SequenceNode) else [])
        if leaving:
            size[key] = 1 + sum(size[id(c)] for c in kids)
            state[key] = 2
            if size[key] - distinct > ALIAS_BUDGET:
                raise TextProblem(f"aliases expand this document to more than {ALIAS_BUDGET:,} extra values "
                                  f"(the limit; write the values out instead)", *_mark(node))
            continue
        if state.get(key) == 2:
            continue
        if state.get(key) == 1:
            raise TextProblem("recursive alias (a value that contains itself)", *_mark(node))
        if depth >= MAX_NESTING and kids:
            raise TextProblem(f"nested more than {MAX_NESTING} levels deep", *_mark(node))
        state[key] = 1
        distinct += 1
        stack.append((node, depth, True))
        for c in kids:
            if state.get(id(c)) == 1:
                raise TextProblem("recursive alias (a value that contains itself)", *_mark(c))
            if state.get(id(c)) != 2:
                stack.append((c, depth + 1, False))


_LOADER: list[type] = []


def _read_yaml(text: str) -> Any:
    import yaml

    if not _LOADER:
        _LOADER.append(_yaml_loader())
    try:
        return yaml.load(text, Loader=_LOADER[0])  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or str(exc)
        if mark is None:
            raise TextProblem(problem) from None
        raise TextProblem(problem, mark.line + 1, mark.column + 1) from None
    except yaml.YAMLError as exc:
        raise TextProblem(" ".join(str(exc).split())) from None
    except RecursionError:
        raise _too_deep(text) from None


def _read_toml(text: str) -> Any:
    import tomllib

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        m = re.search(r"\s*\(at line (\d+), column (\d+)\)$", msg)
        if m:
            problem, line = msg[: m.start()], int(m.group(1))
            if problem == "Cannot overwrite a value":
                lines = text.splitlines()
                key = lines[line - 1].split("=")[0].strip() if 0 < line <= len(lines) else ""
                problem = (f"key {shown(key, 40)} given a second value" if key else "a key given a second value"
                           ) + " (TOML: Cannot overwrite a value)"
            raise TextProblem(problem, line, int(m.group(2))) from None
        raise TextProblem(" ".join(msg.split())) from None
    except RecursionError:
        raise _too_deep(text) from None
    except ValueError as exc:  # an integer longer than Python converts (4,300 digits)
        m = re.search(r"value has (\d+) digits", str(exc))
        if m:
            raise TextProblem(f"number too large for a float (an integer of {m.group(1)} digits)") from None
        raise TextProblem(" ".join(str(exc).split())) from None


_PARSERS: dict[str, Callable[[str], Any]] = {".toml": _read_toml, ".yaml": _read_yaml, ".yml": _read_yaml,
                                             ".json": json_loads}


def parse_data(text: str, suffix: str, *, source: str | None = None,
               error: Callable[[str], Exception] = ContagionError) -> Any:
    """Parse TOML, YAML or JSON text (``suffix`` ``.toml``, ``.yaml``/``.yml``, ``.json``) into plain data.

    Raises ``error(message)`` (default :class:`~contagion.errors.ContagionError`)
    with a one-line message ``"<source>: [invalid FORMAT: ]line L, column C: problem"``
    or ``"<source>: path.to.value: problem"``; syntax errors say ``invalid FORMAT``.
    An empty document gives ``None``.
    """
    fmt = _FORMATS[suffix]
    prefix = f"{source}: " if source else ""
    try:
        data = _PARSERS[suffix](text)
    except TextProblem as exc:
        raise error(f"{prefix}invalid {fmt}: {exc.located()}") from None
    try:
        check_json_value(data, what=fmt)
    except TextProblem as exc:
        if exc.message.startswith("nested"):  # say where in the text, not the path [0][0][0]...
            found = _too_deep(text)
            exc = found if found.line is not None else TextProblem(exc.message, path=shown(exc.path, 60, quote=False))
        raise error(prefix + exc.located()) from None
    return data


def read_text(path: str | Path, what: str, error: Callable[[str], Exception] = ContagionError,
              encoding: str = "utf-8-sig") -> str:
    """The UTF-8 text of a file, or ``error(message)`` naming the file and what is wrong (missing, a directory,
    not UTF-8 with the byte and line, unreadable)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise error(f"{path}: no such {what}") from None
    except IsADirectoryError:
        raise error(f"{path}: is a directory, not a {what}") from None
    except OSError as exc:
        raise error(f"{path}: cannot read the {what} ({exc.strerror or exc})") from None
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise error(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}, line {line}: "
                    f"{data[exc.start:exc.end]!r}); save the {what} as UTF-8") from None
