"""Where a check builds what it hands the student's code, and the plain values that come back.

When you run a check cell in your notebook, everything happens in your own Python: the check
calls your function and looks at what it returned. When the instructor grades, your cells run in
a process of their own (as another user, with nothing of the grader's readable) and the checks run
in the grader's process: each call to your function sends plain values across and gets a plain
value back (or, for an object such as a Flask app or a database connection, a stand-in whose every
method call is answered by your process). So a check never holds your objects, and nothing your
code does can change a verdict: to get a mark, your function has to return the right values for
inputs the grader picks when it grades.

A check that needs an object for your function (a database connection, a Flask app, a clock)
builds it where your code runs, through ``student_side``:

    sqlite3 = student_side.module("sqlite3")
    db = sqlite3.connect(":memory:")          # here: a real connection; when graded: its stand-in

and only ever compares plain values (``==`` on a stand-in is refused when graded): ``plain_result`` turns what
your function returned into plain values (or a hint), ``type_name`` names the type of anything. What your code
raised reaches a check as itself in a notebook and as the grader's StudentCodeError ("TypeError: ...") when
graded: ``raised(error, "TypeError")`` and ``raised_message(error)`` read it the same way both times.

Plain values: None, bool, int, float, str, bytes, and lists, tuples and dicts of them (dict keys
str or int), of exactly those types: an ``int`` subclass whose ``==`` says yes to everything is not
plain. ``encode``/``decode`` are the one definition of them, used here and by the grader.
"""
import base64
import importlib
import re

PLAIN_SCALARS = (bool, int, float, str)


def encode(value):
    """A plain value as JSON-ready data (bytes, tuples and dicts tagged); anything else is refused."""
    if value is None or type(value) in PLAIN_SCALARS:
        return value
    if type(value) is bytes:
        return {"$bytes": base64.b64encode(value).decode()}
    if type(value) is list:
        return [encode(item) for item in value]
    if type(value) is tuple:
        return {"$tuple": [encode(item) for item in value]}
    if type(value) is dict and all(type(key) in (str, int) for key in value):
        return {"$dict": [[key, encode(item)] for key, item in value.items()]}
    raise TypeError(f"a {type(value).__name__} is not a plain value")


def decode(data):
    """The plain value JSON data stands for: only the types listed above come out."""
    if data is None or type(data) in PLAIN_SCALARS:
        return data
    if type(data) is list:
        return [decode(item) for item in data]
    if type(data) is dict and len(data) == 1:
        (tag, body), = data.items()
        if tag == "$bytes" and type(body) is str:
            return base64.b64decode(body)
        if tag == "$tuple" and type(body) is list:
            return tuple(decode(item) for item in body)
        if tag == "$dict" and type(body) is list:
            pairs = [(key, decode(item)) for key, item in body if type(key) in (str, int)]
            if len(pairs) == len(body):
                return dict(pairs)
    raise ValueError("not a plain value")


def plain(value):
    """A copy of ``value`` made of plain types only (TypeError for anything else), as grading sees it."""
    return decode(encode(value))


def plain_result(value, call):
    """What the student's ``call`` returned, as plain values; an AssertionError with a hint when it is not plain
    (graded, only plain values come back from the student's process, so the check fails alike both ways)."""
    try:
        return plain(value)
    except TypeError:
        kind = type_name(value)
        what = f"a {kind} holding something that is not a plain value" if kind in ("list", "tuple", "dict") else \
            f"a {kind}"
        raise AssertionError(
            f"{call} returned {what}: return plain Python values (str, int, float, bool, bytes, "
            "None, and lists, tuples and dicts of them), which is what the grader reads."
        ) from None


def is_plain(value):
    try:
        encode(value)
    except TypeError:
        return False
    return True


def type_name(value):
    """The name of ``value``'s type, asked where the value lives (a stand-in's is its object's): "BytesIO"."""
    if is_plain(value):
        return type(value).__name__
    described = str(student_side.module("builtins").type(value))        # "<class '_io.BytesIO'>"
    match = re.fullmatch(r"<class '(?:[\w.]*\.)?(\w+)'>", described)
    return match.group(1) if match else described


def _from_the_student_process(error):
    return "StudentCodeError" in {cls.__name__ for cls in type(error).__mro__}


def raised_kind(error):
    """The name of the exception type the student's code raised: "TypeError"."""
    if _from_the_student_process(error):
        return getattr(error, "kind", None) or str(error).split(":", 1)[0].strip()
    return type(error).__name__


def raised(error, *kinds):
    """Whether the student's code raised ``error`` as one of ``kinds``, exception type names ("TypeError").

    In a notebook ``error`` is the exception itself (its type or any base counts); when graded it is the
    grader's StudentCodeError, whose message begins with the name of the type the student's process raised.
    """
    if _from_the_student_process(error):
        return raised_kind(error) in kinds
    if isinstance(error, NotImplementedError) and "NotImplementedError" not in kinds:
        return False  # a stub not yet written (⏳), though Python counts it a RuntimeError
    return bool({cls.__name__ for cls in type(error).__mro__} & set(kinds))


def raised_message(error):
    """What the student's code said when it raised ``error`` (without the type name a StudentCodeError adds)."""
    if _from_the_student_process(error):
        return str(error).split(":", 1)[1].strip() if ":" in str(error) else ""
    return str(error)


class StudentSide:
    """Where the student's code runs. In a notebook: this process. When graded: the grader sets
    ``modules`` to a function that returns a stand-in for a module of the student's process."""

    def __init__(self):
        self._modules = importlib.import_module
        self.remote = False

    def module(self, name):
        """The module ``name`` (``"sqlite3"``, ``"workbook.checks.lesson_06"``) where the student's code runs."""
        return self._modules(name)

    def use(self, modules, remote=True):
        """Grading: modules come from ``modules(name)`` until ``reset()``."""
        self._modules, self.remote = modules, remote

    def reset(self):
        self._modules, self.remote = importlib.import_module, False


student_side = StudentSide()
