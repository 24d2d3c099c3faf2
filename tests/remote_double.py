"""A test-only double of the grader's remote engine (REMOTE_DESIGN.md), to try checks "both ways".

The real engine runs the student's cells in a child process and hands the checks proxies; this
double keeps the student's objects in this process but gives the checks the same view of them:

* a call, an attribute, an item, ``len``, ``iter``, ``in``, ``with``, ``str``/``repr``/``bool`` on a
  proxy is answered by the student's object; what comes back is a *copy* when it is a plain value
  (``student_side.plain``: a change made to it on one side is not seen on the other) and a new proxy
  otherwise;
* ``==``, ``!=``, ``<`` and friends, ``hash()`` on a proxy raise TypeError, ``isinstance`` sees a
  ``Proxy`` and nothing else, and names starting with ``_`` are not read or set through it;
* an argument that is neither a plain value nor a proxy (a check's own function, lambda, sqlite
  connection or Flask app) is refused with TypeError: such things must be built on the student's
  side with ``student_side.module(...)``;
* what the student's code raised arrives as ``StudentCodeError("TypeName: message")``, except
  ``NotImplementedError``, which arrives as itself (the stub: "not done").

``verdict`` runs an exercise's checks (visible, and hidden ones) on proxies for the answer's
objects, with ``student_side.use(...)`` so that ``student_side.module(name)`` gives module proxies,
and makes the verdict as the grader would: (status, message).
What it does not model: a second interpreter (module state such as ``random``'s is shared with the
checks here), time limits and a process that dies.
"""
import importlib

from workbook.checks import EXERCISES, FAILED, NOT_DONE, PASSED, load_all
from workbook.checks.student_side import is_plain, plain, student_side


class StudentCodeError(Exception):
    """What the student's code raised, as the judge sees it: its type's name leads the message."""


class StudentSide:
    """The student's objects, reached only through proxies and plain values."""

    def to_judge(self, value):
        return plain(value) if is_plain(value) else Proxy(self, value)

    def to_student(self, value):
        if type(value) is Proxy:
            return object.__getattribute__(value, "_target")
        if is_plain(value):
            return plain(value)
        raise TypeError(f"a {type(value).__name__} of the checks' own was handed to the student's side: only plain "
                        "values and proxies cross (build it with student_side.module(...))")

    def run(self, action):
        """``action()`` on the student's side; what it raised as the judge sees it."""
        try:
            return action()
        except NotImplementedError as error:
            raise NotImplementedError(str(error)) from None
        except Exception as error:  # noqa: BLE001 - anything the student's side raised
            raise StudentCodeError(f"{type(error).__name__}: {error}") from None

    def module(self, name):
        return Proxy(self, self.run(lambda: importlib.import_module(name)))

    def stand_in(self, obj):
        """What the judge gets for a name the student defined: a plain copy, or a proxy."""
        return self.to_judge(obj)


def _refused(*_args, **_kwargs):
    raise TypeError("a proxy for the student's object cannot be compared or hashed: compare plain values "
                    "(student_side.plain(...))")


class Proxy:
    """A stand-in for one object of the student's."""

    __slots__ = ("_side", "_target")

    def __init__(self, side, target):
        object.__setattr__(self, "_side", side)
        object.__setattr__(self, "_target", target)

    def _call(self, action):
        side = object.__getattribute__(self, "_side")
        return side.to_judge(side.run(action))

    def _in(self, value):
        return object.__getattribute__(self, "_side").to_student(value)

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(f"{name!r}: names starting with '_' are not read through a proxy")
        target = object.__getattribute__(self, "_target")
        return self._call(lambda: getattr(target, name))

    def __setattr__(self, name, value):
        if name.startswith("_"):
            raise AttributeError(f"{name!r}: names starting with '_' are not set through a proxy")
        target, value = object.__getattribute__(self, "_target"), self._in(value)
        self._call(lambda: setattr(target, name, value))

    def __call__(self, *args, **kwargs):
        target = object.__getattribute__(self, "_target")
        args = [self._in(arg) for arg in args]
        kwargs = {key: self._in(value) for key, value in kwargs.items()}
        return self._call(lambda: target(*args, **kwargs))

    def __getitem__(self, key):
        target, key = object.__getattribute__(self, "_target"), self._in(key)
        return self._call(lambda: target[key])

    def __setitem__(self, key, value):
        target, key, value = object.__getattribute__(self, "_target"), self._in(key), self._in(value)
        self._call(lambda: target.__setitem__(key, value))

    def __delitem__(self, key):
        target, key = object.__getattribute__(self, "_target"), self._in(key)
        self._call(lambda: target.__delitem__(key))

    def __len__(self):
        target = object.__getattribute__(self, "_target")
        return object.__getattribute__(self, "_side").run(lambda: len(target))

    def __iter__(self):
        side, target = object.__getattribute__(self, "_side"), object.__getattribute__(self, "_target")
        items = side.run(lambda: iter(target))
        while True:
            try:
                item = side.run(lambda: next(items))
            except StudentCodeError as error:
                if str(error).startswith("StopIteration"):
                    return
                raise
            yield side.to_judge(item)

    def __contains__(self, item):
        target, item = object.__getattribute__(self, "_target"), self._in(item)
        return object.__getattribute__(self, "_side").run(lambda: item in target) is True

    def __enter__(self):
        target = object.__getattribute__(self, "_target")
        return self._call(lambda: target.__enter__())

    def __exit__(self, *exc):
        target = object.__getattribute__(self, "_target")
        self._call(lambda: target.__exit__(None, None, None))
        return False   # the student's side never swallows the judge's exception

    def __str__(self):
        target = object.__getattribute__(self, "_target")
        return object.__getattribute__(self, "_side").run(lambda: str(target))

    def __repr__(self):
        target = object.__getattribute__(self, "_target")
        return object.__getattribute__(self, "_side").run(lambda: repr(target))

    def __bool__(self):
        target = object.__getattribute__(self, "_target")
        return object.__getattribute__(self, "_side").run(lambda: bool(target)) is True

    __eq__ = __ne__ = __lt__ = __le__ = __gt__ = __ge__ = __hash__ = _refused


def verdict(exercise_id, objects, hidden=True):
    """(status, message) of an exercise whose answer defined ``objects``, its checks run on their stand-ins."""
    load_all()
    entry = EXERCISES[exercise_id]
    side = StudentSide()
    stand_ins = [side.stand_in(obj) for obj in objects]
    student_side.use(side.module)
    try:
        for check in [entry.check] + (entry.hidden if hidden else []):
            try:
                check(*stand_ins)
            except NotImplementedError:
                return NOT_DONE, ""
            except AssertionError as error:
                return FAILED, str(error) or "not right yet."
            except Exception as error:  # noqa: BLE001 - the student's code raised, or a check broke the rules
                return FAILED, f"your code raised {type(error).__name__}: {error}"
    finally:
        student_side.reset()
    return PASSED, ""
