"""The page of a view: the model it renders (:class:`NetworkView`), the page itself (:class:`ViewPage`: the HTML
text, shown inline in Jupyter), the inlined vis-network asset, the JSON data block, the Content-Security-Policy,
and the dataset's title and units."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping, Sequence

from ..datasets import dataset_units, described
from ..errors import ContagionError

__all__ = ["NetworkView", "ViewPage", "iframe_html", "vis_network_asset", "script_json", "view_csp_hashes",
           "dataset_title", "dataset_units", "dataset_year"]


@lru_cache(maxsize=1)
def vis_network_asset() -> tuple[str, str]:
    """The vis-network JavaScript shipped inside the installed ``pyvis`` package, and its version.

    Looks for ``pyvis/templates/lib/vis-<version>/vis-network.min.js`` (then
    ``pyvis/lib/...``) and takes the highest version. vis-network is
    dual-licensed Apache-2.0 / MIT (header kept in the file).

    Raises
    ------
    ContagionError
        When pyvis or the file is missing.
    """
    try:
        import pyvis
    except ImportError:  # pragma: no cover - pyvis is a required dependency
        raise ContagionError("the network view needs pyvis (pip install pyvis)") from None
    root = Path(pyvis.__file__).resolve().parent
    found: list[tuple[tuple[int, ...], Path]] = []
    for base in (root / "templates" / "lib", root / "lib"):
        for path in base.glob("vis-*/vis-network.min.js"):
            version = tuple(int(x) for x in re.findall(r"\d+", path.parent.name))
            found.append((version, path))
    if not found:
        raise ContagionError(f"vis-network.min.js not found inside the pyvis package ({root})")
    version, path = max(found)
    js = path.read_text(encoding="utf-8")
    # an inline <script> ends at the first "</script"; the shipped file has none, keep it that way
    js = re.sub(r"</(script)", r"<\\/\1", js, flags=re.IGNORECASE).replace("<!--", "<\\!--")
    return js, ".".join(map(str, version))


def script_json(obj: Any) -> str:
    """JSON that is safe inside ``<script type="application/json">``.

    ``<``, ``>`` and ``&`` are written as ``\\u003c``, ``\\u003e``, ``\\u0026``
    (so neither ``</script>`` nor ``<!--`` can appear), as are U+2028/U+2029.
    Non-finite floats are not allowed (pass ``None``).

    >>> script_json({"name": "</script><!--"})
    '{"name":"\\\\u003c/script\\\\u003e\\\\u003c!--"}'
    """
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def _csp(script_hashes: Sequence[str]) -> str:
    return ("default-src 'none'; script-src " + " ".join(script_hashes)
            + "; style-src 'unsafe-inline'; img-src data:; font-src data:; connect-src 'none'; "
              "base-uri 'none'; form-action 'none'")


def view_csp_hashes() -> list[str]:
    """CSP hashes of the scripts of a view page (a page embedding a view in ``srcdoc`` must allow them)."""
    from ..templates import asset, csp_hash

    return [csp_hash(vis_network_asset()[0]), csp_hash(asset("view.js"))]


@dataclass(frozen=True)
class NetworkView:
    """Everything a view page shows; :meth:`to_html` renders it.

    Attributes
    ----------
    data : dict
        The JSON data block read by the page's script (``nodes``, ``edges``,
        ``scenarios``, ``options`` ...). ``nodes`` / ``edges`` are the
        vis-network items built with pyvis.
    context : dict
        Values for the Jinja2 template (legends, notices, summaries).
    """

    data: dict
    context: dict = field(repr=False)

    @property
    def n_nodes(self) -> int:
        """Number of displayed nodes (institutions shown individually + group nodes)."""
        return len(self.data["nodes"])

    @property
    def n_edges(self) -> int:
        """Number of displayed edges."""
        return len(self.data["edges"])

    def to_html(self) -> "ViewPage":
        """The self-contained page (UTF-8 text; a :class:`ViewPage`, which is a ``str``)."""
        from ..templates import asset, csp_hash, render

        vis_js, _ = vis_network_asset()
        app_js = asset("view.js")
        css = asset("view.css")
        csp = _csp([csp_hash(vis_js), csp_hash(app_js)])
        return ViewPage(render("view.html.j2", vis_js=vis_js, app_js=app_js, css=css, csp=csp,
                               data_json=script_json(self.data), **self.context),
                        title=str(self.context.get("title") or "Network view"))

    def _repr_html_(self) -> str:
        """The page in an ``<iframe srcdoc>`` (Jupyter display), as :meth:`ViewPage._repr_html_`."""
        return self.to_html()._repr_html_()


def iframe_html(page: str, title: str, height: int = 640) -> str:
    """``page`` (a whole HTML document) as an ``<iframe srcdoc>`` element, for a notebook's output.

    The page is escaped into the attribute (``&``, ``<``, ``>``, both quotes), so nothing in it can leave
    the attribute, and the browser parses it as a document of its own. ``sandbox="allow-scripts"`` lets its
    inline scripts run (the view's own Content-Security-Policy still allows only those, by hash) in an
    opaque origin: no access to the notebook page, its cookies or its kernel; no request leaves it.

    >>> iframe_html('<p title="a">x & y</p>', "A <view>")
    '<iframe title="A &lt;view&gt;" srcdoc="&lt;p title=&quot;a&quot;&gt;x &amp; y&lt;/p&gt;" style="width:100%;height:640px;border:1px solid #d5dbe1" sandbox="allow-scripts"></iframe>'
    """
    import html as _html

    return (f'<iframe title="{_html.escape(title, quote=True)}" srcdoc="{_html.escape(page, quote=True)}" '
            f'style="width:100%;height:{int(height)}px;border:1px solid #d5dbe1" sandbox="allow-scripts"></iframe>')


class ViewPage(str):
    """The HTML page of a network view: a ``str`` holding the whole self-contained page, which also shows
    itself inline in Jupyter and writes itself to a file.

    Everything a string does works as before (``page.startswith("<!DOCTYPE html>")``, ``"Oracle" in page``,
    ``page.encode()``, ``open(f, "w").write(page)``, ``str(page)`` gives the plain text of the page). On top:

    - ``_repr_html_``: in a notebook the page displays in an ``<iframe srcdoc>`` (:func:`iframe_html`) with its
      scripts running, offline (the vis-network library is inside the page);
    - :meth:`save`: writes the page to a file atomically;
    - ``repr`` is one line (the size and how to use it) rather than half a megabyte of HTML.

    Attributes
    ----------
    title : str
        The page's title (also the iframe's).

    Examples
    --------
    >>> page = ViewPage("<!DOCTYPE html><title>t</title>", title="t")
    >>> page.startswith("<!DOCTYPE html>"), type(str(page)) is str, str(page) == page
    (True, True, True)
    >>> page
    ViewPage('t', 31 characters: display it in a notebook, str() is the HTML, .save(path) writes it)
    """

    title: str

    def __new__(cls, html: str, title: str = "Network view") -> "ViewPage":
        page = super().__new__(cls, html)
        page.title = str(title)
        return page

    def __getnewargs__(self) -> tuple[str, str]:  # pickling and copying keep the title
        return str(self), self.title

    def _repr_html_(self) -> str:
        """The page in an ``<iframe srcdoc>`` with its scripts running (Jupyter display)."""
        return iframe_html(str(self), self.title)

    def __repr__(self) -> str:
        return (f"ViewPage({self.title!r}, {len(self):,} characters: display it in a notebook, str() is the HTML, "
                ".save(path) writes it)")

    def save(self, path: str | os.PathLike) -> Path:
        """Write the page to ``path`` (UTF-8) atomically: a temporary file in the same folder renamed over the
        target, so a crash never leaves half a page (:mod:`contagion.io.atomic`; missing folders are created,
        as by the library's other writers). Returns ``path``.

        Raises
        ------
        OutputError
            The folder does not exist, is not writable, the disk is full ... (one line, nothing written).
        """
        from ..io.atomic import write_text_atomic

        return write_text_atomic(path, str(self))


def dataset_title(meta: Mapping[str, Any]) -> str:
    """Human title of a network from its metadata: ``title``, else the built-in dataset's ``dataset.toml`` title,
    else the dataset name, else the source folder name, else ``""``."""
    meta = meta or {}
    if meta.get("title"):
        return str(meta["title"])
    name = meta.get("dataset")
    if name:
        try:
            from ..datasets import dataset_config

            return str(dataset_config(str(name)).get("title") or name)
        except ContagionError:
            return str(name)
    if meta.get("source"):
        return Path(str(meta["source"])).name
    return ""


def dataset_year(meta: Mapping[str, Any]) -> str:
    """The one year a network is cleared over, when it says so: metadata ``horizon``/``year``, else the built-in
    dataset's ``dataset.toml`` ``horizon`` (``"2027"`` for ``ai-infrastructure``); ``""`` when it is not one year.

    >>> dataset_year({"dataset": "ai-infrastructure"}), dataset_year({"horizon": "2026:2030"}), dataset_year({})
    ('2027', '', '')
    """
    year = described(meta, ("horizon", "year"), "horizon")
    text = str(year).strip() if year is not None else ""
    return text if re.fullmatch(r"\d{4}", text) else ""
