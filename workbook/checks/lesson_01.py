"""Checks for lesson 01: installing the libraries."""
from importlib import metadata

from . import exercise
from .. import qr


@exercise("1.1", "Look up an installed version", uses=["installed_version"])
def check_installed_version(installed_version):
    got = installed_version("pyotp")
    assert got == metadata.version("pyotp"), (
        f"installed_version('pyotp') gave {got!r}, expected {metadata.version('pyotp')!r}: "
        "try importlib.metadata.version()."
    )
    missing = installed_version("surely-not-installed-workbook-package")
    assert missing is None, (
        f"for a package that is not installed, return None (you returned {missing!r}): "
        "catch importlib.metadata.PackageNotFoundError."
    )


@exercise("1.2", "List what the guide really needs", uses=["packages_to_install"])
def check_packages_to_install(packages_to_install):
    names = {name.lower() for name in packages_to_install()}
    assert "qrcode" not in names, "qrcode is a different project: the guide's code imports pyqrcode."
    for needed in ("flask", "pyotp", "pyqrcode", "pypng"):
        assert needed in names, f"{needed} is missing: which module does the code import, and what does .png() need?"
    assert len(names) == 4, f"only the four libraries the code imports are needed, not {sorted(names)}."


@exercise("1.3", "Make a QR code PNG", uses=["qr_png"])
def check_qr_png(qr_png):
    data = qr_png("hello, phone")
    assert isinstance(data, bytes), f"return the PNG as bytes, not {type(data).__name__}."
    assert data.startswith(b"\x89PNG"), "that is not a PNG: use the QR code's .png() with a BytesIO."
    text = qr.decode_png(data)
    assert text == "hello, phone", f"the QR code reads {text!r}, not 'hello, phone'."
