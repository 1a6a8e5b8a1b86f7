"""Jinja2 templates and static assets of the HTML views and reports.

Every ``*.html.j2`` template is rendered with autoescaping on: institution
names, types, edge kinds, attribute values and scenario descriptions are
untrusted input and reach the page only as escaped text. Static assets
(``view.js``, ``view.css``, ``report.css``) are plain files read at render time
and inlined, so that every page is one self-contained file.
"""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Any

__all__ = ["environment", "render", "asset", "csp_hash", "TEMPLATE_DIR"]

#: folder holding the templates and static assets
TEMPLATE_DIR = Path(__file__).resolve().parent


@lru_cache(maxsize=1)
def environment() -> Any:
    """The shared Jinja2 environment (autoescape on for every template, undefined names are errors)."""
    import jinja2

    from .._words import humanize

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["words"] = humanize   # a code in words: ``ai_lab`` -> "AI lab"
    return env


def render(name: str, **context: Any) -> str:
    """Render template ``name`` (autoescaped) with ``context``."""
    return environment().get_template(name).render(**context)


@lru_cache(maxsize=None)
def asset(name: str) -> str:
    """Text of a static asset shipped next to the templates (``view.js``, ``view.css`` ...)."""
    return (TEMPLATE_DIR / name).read_text(encoding="utf-8")


def csp_hash(script: str) -> str:
    """Content-Security-Policy source expression (``'sha256-...'``) allowing exactly this inline script."""
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"
