"""Which Chromium the browser tests drive, and how (tests/conftest.py's ``browser`` fixture and
tests/test_codespaces.py, which starts one more with its own host resolver rules)."""
import os
import shutil

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def chromium_path():
    """Debian's Chromium, or another one named by $CHROMIUM."""
    return os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
