"""Shared pytest fixtures.

Browser fixtures (owned by the views/reports part): one headless Chromium per
test session, the Debian package at ``/usr/bin/chromium`` driven by
Playwright with ``executable_path`` (Playwright never downloads a browser),
and a page loader that blocks every request except the page itself.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pytest

#: the Debian package's binary (override with CONTAGION_CHROMIUM for a local run)
CHROMIUM = os.environ.get("CONTAGION_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    # belt and braces: no host name resolves, so nothing could leave even if a request escaped the router
    "--host-resolver-rules=MAP * ~NOTFOUND",
]
#: the URL the page under test is served at (fulfilled by the router, never fetched)
PAGE_URL = "http://contagion.invalid/page.html"


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


# In CI, hypothesis draws the same examples every run (derandomize): a red CI then means a change broke something,
# not that this run drew a new case. Locally the draws stay random (and failures are kept in .hypothesis/).
if _in_ci():
    from hypothesis import settings as _hypothesis_settings

    _hypothesis_settings.register_profile("ci", derandomize=True, database=None)
    _hypothesis_settings.load_profile("ci")


@pytest.fixture(scope="session")
def browser() -> Any:
    """One headless Chromium for the whole session (skipped without Chromium outside CI; fails in CI)."""
    if not Path(CHROMIUM).exists():
        message = (f"headless Chromium not found at {CHROMIUM} (Debian package 'chromium'; "
                   "`apt-get install chromium`, as .ci/run does)")
        if _in_ci():
            pytest.fail(message + " -- browser tests must run in CI", pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class LoadedPage:
    """A page opened by :func:`open_html`, with everything it tried to do."""

    page: Any
    url: str = PAGE_URL                                    # where the page was served (the only allowed request)
    blocked: list[str] = field(default_factory=list)      # requests aborted by the router
    requests: list[str] = field(default_factory=list)     # every request the page made
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)


@pytest.fixture
def open_html(browser: Any) -> Callable[..., LoadedPage]:
    """``open_html(html, width=1400, height=900, wait_for=None) -> LoadedPage``: serve ``html`` as the only
    reachable resource, optionally waiting for a CSS selector.

    Every request other than the page itself is aborted and recorded; console
    errors, uncaught exceptions and dialogs (``alert``...) are recorded too.
    """
    contexts: list[Any] = []

    def _open(html: str, width: int = 1400, height: int = 900, wait_for: str | None = None) -> LoadedPage:
        context = browser.new_context(viewport={"width": width, "height": height}, java_script_enabled=True,
                                      service_workers="block")
        contexts.append(context)
        loaded = LoadedPage(page=None)
        body = html.encode("utf-8")

        def route(r: Any) -> None:
            if r.request.url == PAGE_URL:
                r.fulfill(status=200, body=body, headers={"content-type": "text/html; charset=utf-8"})
            else:
                loaded.blocked.append(r.request.url)
                r.abort()

        context.route("**/*", route)
        page = context.new_page()
        loaded.page = page
        page.on("request", lambda req: loaded.requests.append(req.url))
        page.on("console", lambda msg: loaded.console_errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: loaded.page_errors.append(str(exc)))

        def dialog(d: Any) -> None:
            loaded.dialogs.append(d.message)
            d.dismiss()

        page.on("dialog", dialog)
        page.goto(PAGE_URL, wait_until="load")
        if wait_for:
            # a selector, not a JS predicate: the pages' Content-Security-Policy forbids eval
            page.wait_for_selector(wait_for, state="attached", timeout=30_000)
        return loaded

    yield _open
    for context in contexts:
        context.close()


@pytest.fixture
def write_net(tmp_path: Path) -> Callable[[str, str, str], Path]:
    """``write_net(nodes_csv, edges_csv, name="net")``: a CSV network folder under ``tmp_path`` holding the two
    texts (``nodes.csv``, ``edges.csv``); returns the folder."""

    def write(nodes: str, edges: str, name: str = "net") -> Path:
        folder = tmp_path / name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "nodes.csv").write_text(nodes, encoding="utf-8")
        (folder / "edges.csv").write_text(edges, encoding="utf-8")
        return folder

    return write
