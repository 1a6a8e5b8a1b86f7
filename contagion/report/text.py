"""Text helpers of the report: Markdown escaping, CSV cells, provenance of the dataset files."""

from __future__ import annotations

import csv
import hashlib
import html as _html
import io
import math
import re
from pathlib import Path
from typing import Any, Sequence

import pandas as pd

from ..datasets import read_readme
from ..errors import ContagionError
from ..formatting import fmt_amount
from ..network import AMOUNTS_FROM_INTEREST


def _unique_labels(names: Sequence[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        label = name
        if label in seen:
            seen[name] += 1
            label = f"{name} ({seen[name]})"
        else:
            seen[name] = 1
        out.append(label)
    return out


def _slugs(names: Sequence[str]) -> list[str]:
    """File-name-safe, unique slugs (``[a-z0-9-]``; never a path)."""
    out: list[str] = []
    for k, name in enumerate(names):
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:60] or f"scenario-{k + 1}"
        base, n = slug, 2
        while slug in out:
            slug, n = f"{base}-{n}", n + 1
        out.append(slug)
    return out


def _fmt_ratio(x: float) -> str:
    return "n/a" if x is None or not math.isfinite(x) else f"{x:.2f}\u00d7"


def _fmt_measure(measure: str, v: float) -> str:
    if measure == "Loss amplification":
        return _fmt_ratio(v)
    if measure in ("Institutions", "Defaults", "Fundamental defaults (wave 0)") or measure.startswith("In default by"):
        return f"{int(v):,}"
    if measure == "Last wave":
        return "\u2013" if v is None or not math.isfinite(v) else str(int(v))
    return fmt_amount(v)


_MD_INLINE = re.compile(r"([\\`*_\[\]|~^$@])")
_MD_LINE_START = re.compile(r"^(\s*)([-+#>=]|\d+(?=[.)]))")


def _md(text: Any) -> str:
    r"""Escape untrusted text for Markdown (CommonMark and pandoc).

    ``<`` and ``>`` become entities (no raw HTML), ``&`` too when it would
    start an entity; the characters that make emphasis, code, links, images,
    table cells, sub/superscripts, math or citations get a backslash; a
    leading list, heading or quote marker is escaped; newlines become spaces.

    >>> _md('<img src=x onerror=alert(1)> | [a](b) *c* - 1. @d')
    '&lt;img src=x onerror=alert(1)&gt; \\| \\[a\\](b) \\*c\\* - 1. \\@d'
    >>> print(_md("- item"))
    \- item
    """
    s = re.sub(r"&(?=#?\w+;)", "&amp;", str(text)).replace("<", "&lt;").replace(">", "&gt;")
    s = re.sub(r"[\r\n\t]+", " ", s)
    s = _MD_INLINE.sub(r"\\\1", s)
    return _MD_LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), s, count=1)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_bytes(frame: pd.DataFrame) -> bytes:
    """CSV (UTF-8, ``\\n``); text cells that a spreadsheet would run as a formula get a leading apostrophe."""
    frame = frame.copy()
    for col in frame.columns:
        if frame[col].dtype == object or pd.api.types.is_string_dtype(frame[col]):
            frame[col] = frame[col].map(lambda v: "'" + v if isinstance(v, str) and v.startswith(_FORMULA_START)
                                        else v)
    buf = io.StringIO()
    frame.to_csv(buf, index=False, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    return buf.getvalue().encode("utf-8")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


_ABS_PATH = re.compile(r"(?<![^\s\"'(=,;\[])(?:[A-Za-z]:)?[/\\](?:[^\s/\\'\"<>|]+[/\\])*([^\s/\\'\"<>|]+)")


def _no_abs_path(text: str) -> str:
    """``text`` with every absolute path reduced to its last part (the report names no folder of the machine
    that made it).

    >>> _no_abs_path("read from /home/ana/data/edges.csv and C:\\\\x\\\\n.csv; see https://a.org/b")
    'read from edges.csv and n.csv; see https://a.org/b'
    """
    return _ABS_PATH.sub(lambda m: m.group(1), str(text))


def _readme_summary(text: str) -> dict[str, str]:
    """The README's title (its first heading) and first paragraph, as Markdown, with its size."""
    title, para, lines = "", [], text.splitlines()
    in_code = False
    for line in lines:
        stripped = line.strip()
        if stripped.startswith(("```", "~~~")):
            in_code = not in_code
            if para:
                break
            continue
        if in_code:
            continue
        if stripped.startswith("#"):
            if para:
                break
            if not title:
                title = stripped.lstrip("#").strip()
            continue
        if not stripped:
            if para:
                break
            continue
        para.append(stripped)
    return {"title": _no_abs_path(title), "paragraph": _no_abs_path(" ".join(para)),
            "bytes": f"{len(text.encode('utf-8')):,}", "lines": f"{len(lines):,}"}


def _provenance(net: Any) -> dict[str, Any]:
    """Where the data came from: dataset, source folder (by name, never an absolute path), input files by
    file name with size and SHA-256, and a summary of the README (title, first paragraph, size)."""
    meta = dict(net.metadata or {})
    folder: Path | None = None
    if meta.get("dataset"):
        try:
            from ..datasets import dataset_path

            folder = dataset_path(str(meta["dataset"]))
        except ContagionError:
            folder = None
    if folder is None and meta.get("source"):
        src = Path(str(meta["source"]))
        folder = src if src.is_dir() else src.parent
    files = []
    readme = None
    if folder is not None and folder.is_dir():
        for p in sorted(folder.iterdir()):
            if p.is_file() and p.suffix.lower() in (".csv", ".json", ".graphml", ".parquet", ".toml", ".md"):
                files.append({"name": p.name, "bytes": f"{p.stat().st_size:,}", "sha256": _sha256(p)})
        path = folder / "README.md"
        if path.is_file():
            readme = _readme_summary(read_readme(path))  # not UTF-8: a located error, never a guess
    elif meta.get("source") and Path(str(meta["source"])).is_file():
        p = Path(str(meta["source"]))
        files.append({"name": p.name, "bytes": f"{p.stat().st_size:,}", "sha256": _sha256(p)})
    if meta.get("dataset"):
        source = f"shipped dataset {meta['dataset']}"
    elif folder is not None and meta.get("source"):
        source = Path(str(meta["source"])).name + ("/" if Path(str(meta["source"])).is_dir() else "")
    else:
        source = "built in memory"
    shown_meta = [[str(k), _no_abs_path(str(v))] if k != AMOUNTS_FROM_INTEREST else
                  ["debt rows without an amount", f"{v}: their one-year figure is a year's interest on the principal "
                                                  f"(principal \u00d7 rate); over several years (--horizon) interest "
                                                  f"and principal fall due as scheduled"]
                  for k, v in meta.items() if k not in ("scenarios", "source")]
    return {
        "dataset": str(meta.get("dataset") or ""),
        "source": source,
        "files": files,
        "metadata": shown_meta,
        "readme": readme,
        "readme_html": _markdown_html(readme["paragraph"]) if readme and readme["paragraph"] else "",
    }


def _markdown_html(text: str) -> Any:
    """README Markdown as HTML with raw HTML escaped and links / images reduced to text (no URL is loaded or
    linked: the URL is shown in brackets after the link text)."""
    from markupsafe import Markup

    try:
        from markdown_it import MarkdownIt
    except ImportError:  # pragma: no cover - markdown-it-py comes with rich
        return Markup("<pre>") + text + Markup("</pre>")
    md = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
    pending: list[str] = []

    def link_open(self, tokens, idx, options, env):
        pending.append(tokens[idx].attrGet("href") or "")
        return '<span class="link">'

    def link_close(self, tokens, idx, options, env):
        href = pending.pop() if pending else ""
        return "</span>" + (f' <span class="url">[{_html.escape(href)}]</span>' if href else "")

    def image(self, tokens, idx, options, env):
        tok = tokens[idx]
        alt = "".join(child.content for child in (tok.children or []))
        return f'<span class="image">[image: {_html.escape(alt)}]</span>'

    md.add_render_rule("link_open", link_open)
    md.add_render_rule("link_close", link_close)
    md.add_render_rule("image", image)
    return Markup(md.render(text))
