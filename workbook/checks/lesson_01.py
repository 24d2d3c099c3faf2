"""Checks for lesson 01: installing the libraries."""
import random
import re
import secrets
from importlib import metadata

from .. import qr
from . import RUN_SEED, exercise, hidden_check, question
from .student_side import plain_result, raised, raised_kind, raised_message, type_name

DRAW = random.SystemRandom()   # the checks' own draws: a notebook's random.seed() cannot foresee them
NOT_INSTALLED = "surely-not-installed-workbook-package"
PNG_END = b"IEND\xaeB`\x82"   # the last chunk of every PNG, with its checksum


@exercise("1.1", "Look up an installed version", uses=["installed_version"])
def check_installed_version(installed_version):
    # PyQRCode and pypng are pip names whose import names differ (pyqrcode, png): the lesson's point.
    for pip_name in ("PyQRCode", "pyotp", "Flask", "pypng"):
        try:
            got = installed_version(pip_name)
        except Exception as error:
            if not raised(error, "ImportError", "ModuleNotFoundError", "AttributeError"):
                raise
            raise AssertionError(
                f"installed_version({pip_name!r}) raised {raised_kind(error)} ({raised_message(error)}): {pip_name} is a pip "
                "name, and the name you import can differ (PyQRCode / pyqrcode, pypng / png). Ask pip's "
                "records instead of importing: importlib.metadata knows packages by their pip names."
            ) from None
        expected = metadata.version(pip_name)
        got = plain_result(got, f"installed_version({pip_name!r})")
        recorded_as = metadata.metadata(pip_name)["Name"]
        assert got is not None or recorded_as == pip_name, (
            f"{pip_name} is installed ({expected}), yet installed_version({pip_name!r}) gave None: pip names are "
            f"not case-sensitive (`pip install {pip_name.lower()}` works), and pip's records spell this one "
            f"{recorded_as!r}. A search for the exact spelling misses it: let importlib.metadata find the package "
            "by its name, as the lesson's first cell does."
        )
        assert got is not None, (
            f"{pip_name} is installed ({expected}), yet installed_version({pip_name!r}) gave None: "
            "the name you import can differ from the pip name (PyQRCode / pyqrcode, pypng / png). Ask "
            "pip's records, importlib.metadata, which know packages by their pip names."
        )
        assert not (type(got) is str and got != expected and expected in got), (
            f"installed_version({pip_name!r}) gave {got!r}: return only the version, {expected!r}, with nothing "
            "around it (the lesson's first cell prints the name beside it; your function does not)."
        )
        assert got == expected, (
            f"installed_version({pip_name!r}) gave {got!r}, expected {expected!r}: "
            "return the version pip installed, as importlib.metadata reports it."
        )
    # Any other installed package too, chosen afresh on each run: not only the four above.
    installed = sorted({dist.metadata["Name"] for dist in metadata.distributions() if dist.metadata["Name"]})
    for pip_name in random.Random(RUN_SEED).sample(installed, min(5, len(installed))):
        expected = metadata.version(pip_name)
        got = plain_result(installed_version(pip_name), f"installed_version({pip_name!r})")
        assert got == expected, (
            f"installed_version({pip_name!r}) gave {got!r}, expected {expected!r}: look up any pip name you "
            "are given in pip's records, not only the four libraries of this lesson."
        )
    # A name drawn for this run: no package has it.
    for missing_name in (NOT_INSTALLED, f"{NOT_INSTALLED}-{secrets.token_hex(4)}"):
        try:
            missing = installed_version(missing_name)
        except Exception as error:
            if raised(error, "NameError") and "PackageNotFoundError" in raised_message(error):
                raise AssertionError(
                    f"for a package that is not installed your except line raised NameError "
                    f"({raised_message(error)}): that error class lives in importlib.metadata, so name it as "
                    "metadata.PackageNotFoundError (or import it from there)."
                ) from None
            if not raised(error, "PackageNotFoundError"):
                raise
            raise AssertionError(
                "for a package that is not installed your function let the lookup's PackageNotFoundError out: a "
                "missing package is an expected answer here, not a crash. Catch that error (that one only) and "
                "return None."
            ) from None
        assert missing is None, (
            f"for a package that is not installed, return None (you returned {missing!r}): None is how your "
            "function says \"not installed\" (the exercise's first paragraph)."
        )
    # Not a name at all (a number, drawn for this run): the caller's mistake, which must not pass for "not
    # installed". The library raises TypeError for it; an answer that catches every exception says None.
    not_a_name = DRAW.randrange(2, 10 ** 6)
    try:
        swallowed = plain_result(installed_version(not_a_name), f"installed_version({not_a_name})")
    except (AssertionError, NotImplementedError):
        raise
    except Exception:  # noqa: BLE001 - any error is right here: the mistake is not hidden
        return
    raise AssertionError(
        f"installed_version({not_a_name}) (a number, not a pip name: a mistake of the caller's) gave {swallowed!r} "
        "instead of an error: your function catches more than \"not installed\", so it hides every other "
        "mistake too. Catch only the one error the lookup raises for a missing package (hint 2)."
    )


PIP_NAMES = {"flask", "pyotp", "pyqrcode", "pypng"}


@exercise("1.2", "List what the guide really needs", uses=["packages_to_install"])
def check_packages_to_install(packages_to_install):
    packages = packages_to_install()
    if type_name(packages) in ("set", "frozenset"):   # a set of names is fine too: read it as a list
        packages = sorted(str(name) for name in packages)
    packages = plain_result(packages, "packages_to_install()")
    assert type(packages) is not str, (
        f"you returned one string, {packages!r}: return a list of pip names, one item per library, "
        'like ["Flask", "pyotp", ...].'
    )
    bare_names = {re.split(r"[=<>!~\[;@ ]", str(name).strip(), maxsplit=1)[0].lower() for name in packages}
    assert "qrcode" not in bare_names, (
        "qrcode is a different project (with or without its [pil] extra, which brings Pillow): the guide's "
        "code imports pyqrcode."
    )
    with_extras = [str(name) for name in packages if "[" in str(name)]
    assert not with_extras, (
        f"{with_extras[0]!r} asks for extras: return the pip names alone (like \"pyotp\"); none of the four "
        "needs an extra."
    )
    pinned = [str(name) for name in packages if re.search(r"[=<>!~\[;@ ]", str(name).strip())]
    assert not pinned, (
        f"{pinned[0]!r} is a requirement with a version, not a pip name: return the names alone "
        '(like "pyotp"). Exact versions belong in requirements.txt, which this workbook keeps for you.'
    )
    names = {str(name).strip().lower() for name in packages}
    assert "qrcode" not in names, "qrcode is a different project: the guide's code imports pyqrcode."
    assert "png" not in names, (
        "png is the name you import; pip installs that library under the name pypng."
    )
    assert "pyqrcode" in names, "pyqrcode is missing: the guide's code does `import pyqrcode`."
    assert "pypng" in names, (
        "pypng is missing: pyqrcode's .png() imports it, only when it is called (the trap shown above)."
    )
    for needed in ("flask", "pyotp"):
        assert needed in names, f"{needed} is missing: the guide's code imports it."
    assert names == PIP_NAMES and len(packages) == 4, (
        f"only the four libraries the code needs, each once, not {sorted(packages)}."
    )


@exercise("1.3", "Make a QR code PNG", uses=["qr_png"])
def check_qr_png(qr_png):
    data = qr_png("hello, phone")
    kind = type_name(data)
    assert not (kind.endswith("IO") or kind.startswith(("Buffered", "TextIO"))), (
        "you returned the stream itself: return what was written into it, as bytes (io.BytesIO's documentation "
        "lists the method that gives its whole contents)."
    )
    assert type(data) is bytes, (
        f"return the PNG as bytes, not {kind}: write the PNG into an in-memory stream with the QR code's own PNG "
        "method, then return the stream's bytes (the lesson's cells above make one)."
    )
    assert data, (
        "you returned no bytes at all: after .png(stream) the stream's position is at the end, so "
        "stream.read() gives b''. Ask the stream for its whole contents instead (see io.BytesIO's documentation)."
    )
    assert data.startswith(b"\x89PNG"), (
        f"that is not a PNG (it starts {data[:12]!r}): let the QR code write itself as a PNG into the stream."
    )
    # Every PNG ends with its IEND chunk: a read of a fixed number of bytes cuts a large picture short.
    for text_in_it, picture in (("hello, phone", data), ("x" * 120, qr_png("x" * 120))):
        assert type(picture) is bytes and picture.endswith(PNG_END), (
            f"the PNG for a text of {len(text_in_it)} characters ({len(picture)} bytes) is cut short, with no "
            "IEND chunk at its end: return the whole PNG, everything the stream holds, however long."
        )
    text = qr.decode_png(data)
    assert text == "hello, phone", f"the QR code reads {text!r}, not 'hello, phone': encode the text you are given."
    other = "otpauth://totp/Flask%202FA%20Workbook:ana?secret=JBSWY3DPEHPK3PXP"
    assert qr.decode_png(qr_png(other)) == other, "encode exactly the text you are given."
    # Letters outside ASCII, in a name drawn for this run: they are part of the text too.
    accented = f"Zoë Müller, café n° {DRAW.randrange(10 ** 6)}"
    read_back = qr.decode_png(qr_png(accented))
    assert read_back == accented, (
        f"the QR code of {accented!r} reads {read_back!r}: encode exactly the text you are given, letters "
        "outside ASCII too (pyqrcode takes the str as it is)."
    )


@hidden_check("1.3")
def check_qr_png_long_text(qr_png):
    text = "x" * 300
    assert qr.decode_png(qr_png(text)) == text, "a 300-character text should make a readable QR code too."
    drawn = "otpauth://totp/Drawn:" + secrets.token_urlsafe(12) + "?secret=" + secrets.token_hex(10).upper()
    got = qr_png(drawn)
    assert type(got) is bytes and qr.decode_png(got) == drawn, (
        "for a text drawn for this run the QR code reads something else: encode exactly the text you are given."
    )


# --- questions ----------------------------------------------------------------------

question(
    "1.Q1", "When a missing pypng shows",
    prompt="You run `pip install flask pyotp pyqrcode` (no pypng) and start an app that draws QR codes. "
           "When do you first see that pypng is missing?",
    options={
        "a": "At `pip install`: pip installs whatever a package needs.",
        "b": "At `import pyqrcode`, as the app starts.",
        "c": "Never: pyqrcode draws QR codes on its own.",
        "d": "When the app first calls `.png()`, on the first page that shows a QR code.",
    },
    answer="d",
    why_not={
        "a": "pip installs only what a package declares it needs, and PyQRCode does not declare pypng (it is "
             "optional): the install succeeds without it.",
        "b": "import pyqrcode works without pypng: pyqrcode imports png only inside .png(), when it is called. "
             "That is why the app starts fine.",
        "c": "pyqrcode lays out the squares itself, but to write them as a PNG its .png() imports png, the "
             "pypng library.",
    },
)
