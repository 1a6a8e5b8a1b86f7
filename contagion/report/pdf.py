"""The report as PDF: the HTML page printed by a headless Chromium (or Chrome) found on this machine.

No PDF library is bundled: the browser that renders the HTML report prints it, so the PDF shows exactly what
the page shows (``@media print`` rules of ``report.css``: no navigation, every table open, no interactive
view; A4, in landscape when many scenarios sit side by side). The browser is found, in order:

1. the ``CONTAGION_CHROMIUM`` environment variable (a path to the executable);
2. on ``PATH``: ``chromium``, ``chromium-browser``, ``google-chrome``, ``google-chrome-stable``, ``chrome``.

It runs headless, offline (every host name resolves to nothing, no background networking), with a throw-away
profile, on a copy of the page in a temporary folder. :func:`html_to_pdf` returns the bytes; writing the file
is the caller's job (the CLI writes it atomically).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..errors import ContagionError

__all__ = ["BROWSER_ENV", "BROWSER_NAMES", "find_browser", "html_to_pdf", "PRINT_TIMEOUT"]

#: environment variable naming the browser executable (checked first)
BROWSER_ENV = "CONTAGION_CHROMIUM"
#: executables looked for on PATH, in order
BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
#: seconds the browser may take to print the report
PRINT_TIMEOUT = 180

#: flags of the headless print: no network (every host resolves to nothing), no first-run or sync chatter
_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
          "--no-default-browser-check", "--disable-background-networking", "--disable-component-update",
          "--disable-sync", "--disable-extensions", "--host-resolver-rules=MAP * ~NOTFOUND",
          "--no-pdf-header-footer", "--run-all-compositor-stages-before-draw")


def find_browser() -> str:
    """Path of the headless browser that prints the PDF.

    Raises
    ------
    ContagionError
        ``CONTAGION_CHROMIUM`` names no executable file, or none of :data:`BROWSER_NAMES` is on ``PATH``.
    """
    named = os.environ.get(BROWSER_ENV, "").strip()
    if named:
        path = shutil.which(named) or (named if Path(named).is_file() and os.access(named, os.X_OK) else None)
        if path is None:
            raise ContagionError(f"{BROWSER_ENV}={named}: no such executable; point it at a Chromium or Chrome "
                                 f"binary, or unset it to search PATH")
        return path
    for name in BROWSER_NAMES:
        path = shutil.which(name)
        if path:
            return path
    raise ContagionError(f"--format pdf needs a headless Chromium or Chrome, and none was found (looked for "
                         f"{', '.join(BROWSER_NAMES)} on PATH and the {BROWSER_ENV} variable); install one "
                         f"(e.g. apt-get install chromium) or write -f html and print it from a browser")


def html_to_pdf(html: str, browser: str | None = None, timeout: float = PRINT_TIMEOUT) -> bytes:
    """Print an HTML page (a report rendered with ``to_html(for_print=True)``) to PDF bytes.

    Parameters
    ----------
    html : str
        The page (self-contained: nothing is fetched).
    browser : str, optional
        The executable; default :func:`find_browser`.
    timeout : float
        Seconds before the browser is stopped and an error raised.

    Raises
    ------
    ContagionError
        No browser, the browser failed or timed out, or what it wrote is not a PDF.
    """
    exe = browser or find_browser()
    with tempfile.TemporaryDirectory(prefix="contagion-pdf-") as tmp:
        page = Path(tmp) / "report.html"
        out = Path(tmp) / "report.pdf"
        page.write_text(html, encoding="utf-8")
        cmd = [exe, *_FLAGS, f"--user-data-dir={Path(tmp) / 'profile'}", f"--print-to-pdf={out}", page.as_uri()]
        try:
            run = subprocess.run(cmd, capture_output=True, timeout=timeout, check=False,
                                 env={**os.environ, "HOME": tmp})
        except subprocess.TimeoutExpired:
            raise ContagionError(f"{exe}: printing the report to PDF took more than {timeout:g} s") from None
        except OSError as exc:
            raise ContagionError(f"{exe}: cannot run it ({exc.strerror or exc})") from None
        data = out.read_bytes() if out.is_file() else b""
        if run.returncode != 0 or not data.startswith(b"%PDF"):
            err = run.stderr.decode("utf-8", "replace").strip().splitlines()
            raise ContagionError(f"{exe}: printing to PDF failed (exit {run.returncode})"
                                 + (f": {err[-1]}" if err else ""))
        return data
