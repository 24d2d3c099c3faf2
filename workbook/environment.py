"""Is everything the workbook needs installed? One row per library, and never an exception.

Lesson 00 calls ``check_environment()`` first thing, so that a broken setup
shows up as a clear ❌ line with what to do, not as a traceback three lessons later.
"""
import importlib
import importlib.util
import platform
import re
import sys
from dataclasses import dataclass
from importlib import metadata

from . import ROOT

# (pip name, the module you import, what it does here)
LIBRARIES = [
    ("Flask", "flask", "the web app"),
    ("pyotp", "pyotp", "secrets and six-digit codes"),
    ("PyQRCode", "pyqrcode", "draws QR codes"),
    ("pypng", "png", "writes them as PNG"),
    ("zxing-cpp", "zxingcpp", "reads QR codes (the phone stand-in)"),
    ("Flask-WTF", "flask_wtf", "CSRF protection (lesson 07)"),
    ("JupyterLab", "jupyterlab", "runs these notebooks"),
]
# Only looked for: JupyterLab is the server this notebook runs in, and importing it into the kernel
# takes seconds (its whole server comes along) for nothing a student would use there.
FOUND_NOT_IMPORTED = {"jupyterlab"}
FIX = "run `make setup` (or `pip install -r requirements.txt`) in a terminal, then restart the kernel"


@dataclass
class Row:
    name: str                # pip name
    module: str              # import name
    version: str | None      # installed version, None when not installed
    pinned: str | None       # version in requirements.txt, None when not pinned there
    ok: bool                 # installed and importable
    note: str = ""

    @property
    def symbol(self) -> str:
        return "✅" if self.ok else "❌"

    def line(self) -> str:
        # The symbol goes after the name, so these lines are never mistaken for check-cell results.
        version = self.version or "not installed"
        return f"  {self.name:11} {version:15} {self.symbol}  {self.note}".rstrip()


def pinned_versions(requirements=None) -> dict:
    """``{lower-case pip name: version}`` from requirements.txt (empty if it cannot be read)."""
    path = requirements or ROOT / "requirements.txt"
    try:
        text = path.read_text(encoding="utf-8")
    except Exception:
        return {}
    found = {}
    for line in text.splitlines():
        match = re.match(r"\s*([A-Za-z0-9_.\-]+)\s*==\s*([^\s#;]+)", line)
        if match:
            found[match[1].lower()] = match[2]
    return found


def check_library(name, module, pins=None) -> Row:
    """One row: is ``name`` installed, and does ``import module`` work?"""
    pinned = (pins or {}).get(name.lower())
    try:
        version = metadata.version(name)
    except Exception:
        return Row(name, module, None, pinned, False, FIX)
    try:
        if module in FOUND_NOT_IMPORTED:
            if importlib.util.find_spec(module) is None:
                raise ModuleNotFoundError(f"No module named {module!r}")
        else:
            importlib.import_module(module)
    except Exception as error:
        return Row(name, module, version, pinned, False, f"import {module} fails: {type(error).__name__}: {error}")
    note = f"(the workbook was tested with {pinned})" if pinned and pinned != version else ""
    return Row(name, module, version, pinned, True, note)


def check_environment(libraries=None, show=True) -> list:
    """Check every library the workbook uses; print one line each (with ``show``) and return the rows."""
    rows = []
    try:
        pins = pinned_versions()
        for name, module, *_ in libraries or LIBRARIES:
            try:
                rows.append(check_library(name, module, pins))
            except Exception as error:  # belt and braces: this function must never raise
                rows.append(Row(name, module, None, None, False, f"could not check: {error}"))
        if show:
            print(f"Python {platform.python_version()} at {sys.executable}")
            for row in rows:
                print(row.line())
            missing = [row.name for row in rows if not row.ok]
            if missing:
                print(f"Missing or broken: {', '.join(missing)}. To fix: {FIX}.")
            else:
                print("Everything the workbook needs is installed.")
    except Exception as error:
        print(f"The environment check itself failed ({type(error).__name__}: {error}); {FIX}.")
    return rows
