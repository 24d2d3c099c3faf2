"""Answers to lesson 01's exercises."""
from . import Mutant

MUTANTS = [
    Mutant("1.1", "metadata.version, None when missing", """
def installed_version(name):
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None
""", True),
    Mutant("1.1", "no except: a missing package raises", """
def installed_version(name):
    return metadata.version(name)
""", False, "a missing package is an expected answer"),
    Mutant("1.1", "import the pip name", """
def installed_version(name):
    try:
        return importlib.import_module(name).__version__
    except ModuleNotFoundError:
        return None
""", False, "the name you import can differ"),
    Mutant("1.1", "empty string when missing", """
def installed_version(name):
    try:
        return metadata.version(name)
    except Exception:
        return ""
""", False, "return None"),
    Mutant("1.1", "always pyotp's version", """
def installed_version(name):
    try:
        return metadata.version("pyotp")
    except metadata.PackageNotFoundError:
        return None
""", False, "installed_version('PyQRCode') gave"),

    Mutant("1.2", "the four pip names", """
def packages_to_install():
    return ["Flask", "pyotp", "PyQRCode", "pypng"]
""", True),
    Mutant("1.2", "lower-case pip names", """
def packages_to_install():
    return ["flask", "pyotp", "pyqrcode", "pypng"]
""", True),
    Mutant("1.2", "the pip install line as one string", """
def packages_to_install():
    return "flask pyotp pyqrcode pypng"
""", False, "return a list of pip names"),
    Mutant("1.2", "the guide's list, with qrcode", """
def packages_to_install():
    return ["flask", "pyotp", "qrcode"]
""", False, "qrcode is a different project"),
    Mutant("1.2", "pypng forgotten", """
def packages_to_install():
    return ["flask", "pyotp", "pyqrcode"]
""", False, "pypng is missing"),
    Mutant("1.2", "the import name png", """
def packages_to_install():
    return ["flask", "pyotp", "pyqrcode", "png"]
""", False, "png is the name you import"),
    Mutant("1.2", "names pinned to versions", """
def packages_to_install():
    return ["Flask==3.1.0", "pyotp==2.9.0", "PyQRCode==1.2.1", "pypng==0.20220715.0"]
""", False, "is a requirement with a version, not a pip name"),
    # Issue 22, "hints that point to the wrong fix": a pinned list once got "pyqrcode is missing".
    Mutant("1.2", "lower-case names pinned to versions", """
def packages_to_install():
    return ["flask==3.1.0", "pyotp==2.9.0", "pyqrcode==1.2.1", "pypng==0.20220715.0"]
""", False, "'flask==3.1.0' is a requirement with a version, not a pip name"),
    Mutant("1.2", "names with lower bounds", """
def packages_to_install():
    return ["Flask>=3.0", "pyotp>=2.9", "PyQRCode>=1.2", "pypng"]
""", False, "'Flask>=3.0' is a requirement with a version, not a pip name"),
    Mutant("1.2", "an extra library", """
def packages_to_install():
    return ["flask", "pyotp", "pyqrcode", "pypng", "werkzeug"]
""", False, "only the four libraries"),

    Mutant("1.3", "png into a BytesIO, getvalue", """
def qr_png(text):
    stream = io.BytesIO()
    pyqrcode.create(text).png(stream, scale=5)
    return stream.getvalue()
""", True),
    Mutant("1.3", "returns the stream", """
def qr_png(text):
    stream = io.BytesIO()
    pyqrcode.create(text).png(stream, scale=5)
    return stream
""", False, "return what was written into it"),
    Mutant("1.3", "read() at the end of the stream", """
def qr_png(text):
    stream = io.BytesIO()
    pyqrcode.create(text).png(stream, scale=5)
    return stream.read()
""", False, "stream.read() gives b''"),
    Mutant("1.3", "base64 text instead of PNG bytes", """
def qr_png(text):
    return pyqrcode.create(text).png_as_base64_str(scale=5)
""", False, "return the PNG as bytes, not str"),
    Mutant("1.3", "always the example text", """
def qr_png(text):
    stream = io.BytesIO()
    pyqrcode.create("hello, phone").png(stream, scale=5)
    return stream.getvalue()
""", False, "encode exactly the text you are given"),

    Mutant("1.Q1", 'the right option, D', 'answer_1_q1 = "D"\n', True),
    Mutant("1.Q1", "(a) pip installs every need", 'answer_1_q1 = "a"\n', False,
           "PyQRCode does not declare pypng"),
    Mutant("1.Q1", "(b) the import fails at start", 'answer_1_q1 = "b"\n', False,
           "imports png only inside .png()"),
    Mutant("1.Q1", "(c) pyqrcode draws PNGs alone", 'answer_1_q1 = "c"\n', False,
           "its .png() imports png, the pypng library"),

    # Wrong answers written from the lesson text alone, independently of the checks.
    Mutant("1.1", "a table of the four libraries' versions", """
VERSIONS = {name: metadata.version(name) for name in ("Flask", "pyotp", "PyQRCode", "pypng")}

def installed_version(name):
    return VERSIONS.get(name)
""", False, "not only the four libraries of this lesson"),
    Mutant("1.1", "except Exception: every error passes for not installed", """
def installed_version(name):
    try:
        return metadata.version(name)
    except Exception:
        return None
""", False, "catches more than"),
    Mutant("1.3", "the first picture kept for every text", """
_made = []

def qr_png(text):
    if not _made:
        stream = io.BytesIO()
        pyqrcode.create(text).png(stream, scale=5)
        _made.append(stream.getvalue())
    return _made[0]
""", False, "encode exactly the text you are given"),

    # Issue 22, second catalogue (2026-12-06): written from the lesson text
    Mutant("1.1", "looked up only when an import of the pip name is found", """
import importlib.util

def installed_version(name):
    if importlib.util.find_spec(name) is None:
        return None
    return metadata.version(name)
""", False, "the name you import can differ"),
    Mutant("1.1", "the distributions searched for the exact name", """
def installed_version(name):
    for distribution in metadata.distributions():
        if distribution.metadata["Name"] == name:
            return distribution.version
    return None
""", False, "pip names are not case-sensitive"),
    Mutant("1.1", "a wrong type caught along with a missing package", """
def installed_version(name):
    try:
        return metadata.version(name)
    except (metadata.PackageNotFoundError, TypeError, AttributeError, ValueError):
        return None
""", False, "catches more than"),
    Mutant("1.1", "the name and the version, as the first cell prints them", """
def installed_version(name):
    try:
        return f"{name} {metadata.version(name)}"
    except metadata.PackageNotFoundError:
        return None
""", False, "only the version"),
    Mutant("1.1", "PackageNotFoundError caught without its module", """
def installed_version(name):
    try:
        return metadata.version(name)
    except PackageNotFoundError:
        return None
""", False, "name it as metadata.PackageNotFoundError"),
    Mutant("1.1", "ModuleNotFoundError, which PackageNotFoundError is a kind of", """
def installed_version(name):
    try:
        return metadata.metadata(name)["Version"]
    except ModuleNotFoundError:
        return None
""", True),
    Mutant("1.2", "qrcode and pyqrcode both, to be safe", """
def packages_to_install():
    return ["flask", "pyotp", "qrcode", "pyqrcode", "pypng"]
""", False, "qrcode is a different project"),
    Mutant("1.2", "pillow for the PNG instead of pypng", """
def packages_to_install():
    return ["flask", "pyotp", "pyqrcode", "pillow"]
""", False, "pypng is missing"),
    Mutant("1.2", "the standard library's io listed too", """
def packages_to_install():
    return ["flask", "pyotp", "pyqrcode", "pypng", "io"]
""", False, "only the four libraries"),
    Mutant("1.2", "qrcode with its pil extra", """
def packages_to_install():
    return ["flask", "pyotp", "qrcode[pil]"]
""", False, "qrcode is a different project"),
    Mutant("1.2", "pyotp forgotten", """
def packages_to_install():
    return ["flask", "pyqrcode", "pypng"]
""", False, "pyotp is missing"),
    Mutant("1.2", "a tuple in another order", """
def packages_to_install():
    return ("pypng", "PyQRCode", "pyotp", "Flask")
""", True),
    Mutant("1.3", "an SVG written into the stream", """
def qr_png(text):
    stream = io.BytesIO()
    pyqrcode.create(text).svg(stream, scale=5)
    return stream.getvalue()
""", False, "not a PNG"),
    Mutant("1.3", "one stream kept for every call", """
_stream = io.BytesIO()

def qr_png(text):
    pyqrcode.create(text).png(_stream, scale=5)
    return _stream.getvalue()
""", False, "encode exactly the text you are given"),
    Mutant("1.3", "letters outside ASCII dropped", """
def qr_png(text):
    stream = io.BytesIO()
    pyqrcode.create(text.encode("ascii", "ignore").decode("ascii")).png(stream, scale=5)
    return stream.getvalue()
""", False, "letters outside ASCII too"),
    Mutant("1.3", "the stream's buffer, not its bytes", """
def qr_png(text):
    stream = io.BytesIO()
    pyqrcode.create(text).png(stream, scale=5)
    return stream.getbuffer()
""", False, "return the PNG as bytes, not memoryview"),
    Mutant("1.3", "the first kilobyte read back", """
def qr_png(text):
    stream = io.BytesIO()
    pyqrcode.create(text).png(stream, scale=5)
    stream.seek(0)
    return stream.read(1024)
""", False, "return the whole PNG"),
    Mutant("1.3", "seek to the start, then read, smaller squares", """
def qr_png(text):
    stream = io.BytesIO()
    pyqrcode.create(text, error="M").png(stream, scale=4)
    stream.seek(0)
    return stream.read()
""", True),

    # Issue 22, second catalogue (2026-12-06), questions: answers that are not one letter
    Mutant("1.Q1", "two letters, to be safe", 'answer_1_q1 = "d, b"\n', False, "answer with the letter of one option"),
    Mutant("1.Q1", "the letter in a list", 'answer_1_q1 = ["d"]\n', False, "answer with the letter of one option"),
]
