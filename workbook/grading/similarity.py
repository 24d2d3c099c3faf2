"""Code similarity that survives small edits: for the copy flags (integrity.py).

Two pieces of code are compared as token sequences once the differences that do not
change what the code does are set aside: comments, docstrings, whitespace and layout,
and every name the code chooses (variables, arguments, functions, classes: all
become ``_``; attribute names, which an API fixes, stay). Each sequence becomes the set of its runs of
``K`` tokens, and the similarity of two pieces is the Jaccard index of their sets: 1.0
for the same code however it is commented, named or laid out, less for each token
added, removed or changed (MOSS and JPlag compare programs the same way, with
fingerprints of token runs).

A pair is flagged at ``THRESHOLD`` or more, and only when both have ``MIN_TOKENS`` tokens:
once names are set aside, short answers come out the same for everyone who gets them right
(``return pyotp.TOTP(_).verify(_, for_time=_, valid_window=1)`` is 30 tokens; the right answers in
tests/mutants/ of up to about 40 tokens are mostly the solution's code under other names).
"""
import keyword
import re
from functools import lru_cache
from pathlib import Path

K = 5                 # tokens per run
THRESHOLD = 0.95      # flagged at or above: the same code, give or take a token or two in twenty
MIN_TOKENS = 40       # shorter code is not compared


TOKEN = re.compile(r"""
    (?P<string>[rRbBuUfF]{0,2}(?:\"\"\"[\s\S]*?\"\"\"|'\'\'[\s\S]*?'\'\'|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'))
  | (?P<comment>\#[^\n]*)
  | (?P<name>[^\W\d]\w*)
  | (?P<number>\d[\w.]*)
  | (?P<op>\*\*=?|//=?|->|[-+*/%@&|^<>!=:]=|<<=?|>>=?|\S)
""", re.VERBOSE)


OPENING, CLOSING = set("([{"), set(")]}")


def tokens(source):
    """The normalised tokens of Python ``source`` (IPython's ``%`` and ``!`` lines left out).

    Comments go, and so do docstrings (a string that is a statement of its own); every name the code
    chooses becomes ``_`` (one after a ``.``, an attribute an API fixes, stays); layout never was a token.
    One regular expression, no parser: a class of 30 is read in a fraction of a second, and code
    that does not parse is read the same way.
    """
    text = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!")))
    found, ends, depth = [], [], 0   # the tokens; where each ends; the bracket depth before it
    for match in TOKEN.finditer(text):
        kind, value = match.lastgroup, match.group()
        if kind == "comment":
            continue
        if kind == "string" and depth == 0 and (not found or found[-1] == ":" or (
                "\n" in text[ends[-1]:match.start()] and found[-1] != "\\")):
            following = text[match.end():match.end() + 200].lstrip(" \t")
            if not following or following[0] in "\n#;":   # a statement of its own: a docstring
                continue
        if kind == "name" and (not found or found[-1] != ".") and not keyword.iskeyword(value):
            value = "_"
        depth += (value in OPENING) - (value in CLOSING)
        found.append(value)
        ends.append(match.end())
    return found


@lru_cache(maxsize=8192)
def fingerprint(source):
    """(the set of hashed runs of K tokens, the number of tokens) of Python ``source``."""
    found = tokens(source)
    return frozenset(hash(tuple(found[i:i + K])) for i in range(max(1, len(found) - K + 1))), len(found)


def similarity(first, second):
    """The Jaccard index of two fingerprints' runs (0.0 to 1.0)."""
    (a, _), (b, _) = first, second
    return len(a & b) / len(a | b) if a or b else 1.0


def alike(first, second):
    """The similarity of two fingerprints when both are big enough to compare and it reaches THRESHOLD, else None."""
    if first[1] < MIN_TOKENS or second[1] < MIN_TOKENS:
        return None
    score = similarity(first, second)
    return score if score >= THRESHOLD else None


APP_FILES = ("*.py", "templates/*.html", "templates/**/*.html")


@lru_cache(maxsize=1024)
def _file_fingerprint(suffix, text):
    if suffix == ".py":
        return fingerprint(text)[0]
    words = text.split()  # a template: its words, whatever the layout
    return frozenset(hash(("html", *words[i:i + K])) for i in range(max(1, len(words) - K + 1)))


def app_fingerprint(folder):
    """One fingerprint for an app folder: its Python files and templates (READMEs and data left out)."""
    folder = Path(folder)
    runs, count = set(), 0
    paths = sorted({path for pattern in APP_FILES for path in folder.glob(pattern) if path.is_file()})
    for path in paths:
        if "__pycache__" in path.parts or "instance" in path.relative_to(folder).parts:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        runs |= _file_fingerprint(path.suffix, text)
        count += len(text.split())
    return frozenset(runs), count
