"""A test-only stand-in for the grader's remote engine (REMOTE_DESIGN.md), to run the checks "both ways".

When graded, the student's code runs in a process of its own and a check sees only plain values and
stand-ins (proxies) for everything else. This double keeps the student's objects in this process but
shows the checks nothing more than the real engine would:

* a call returns ``plain(result)`` when the result is plain, otherwise a ``StandIn``;
* what the student's code raised arrives as ``StudentCodeError("TypeName: message")``
  (NotImplementedError stays NotImplementedError: "not done");
* a stand-in forwards calls, attributes (no ``_`` names), items, ``len``, ``iter``, ``in``, ``with``,
  ``str``/``repr`` and ``bool``, and refuses ``==``, ``!=``, ``<``..., ``hash()`` and ``isinstance``
  (``type(x) is ...`` on a plain value is what a check may trust);
* arguments must be plain values or stand-ins: a judge-side function, connection or app handed to the
  student's code is refused (the check must build it with ``student_side.module``);
* ``graded()`` makes ``student_side.module(name)`` give a stand-in for the module, as the grader does.
"""
import contextlib
import importlib

from workbook.checks.student_side import is_plain, plain, student_side


class StudentCodeError(Exception):
    """What the student's code raised, as the judge sees it: "TypeName: message"."""


class JudgeObjectHandedOver(TypeError):
    """A check handed the student's code an object of the judge's own (not plain, not a stand-in)."""


def to_judge(value):
    """What the judge gets for a value of the student's side."""
    return plain(value) if is_plain(value) else StandIn(value)


def to_child(value):
    """What the student's side gets for a value the judge sends."""
    if type(value) is StandIn:
        return _target(value)
    if is_plain(value):
        return plain(value)
    raise JudgeObjectHandedOver(
        f"the check handed the student's code a {type(value).__name__} of the judge's own: build it with "
        "student_side.module(...) or send plain values")


def crossing(function, *args, **kwargs):
    """Run ``function`` (of the student's side) on arguments the judge sends: what it returned or raised, as the
    judge sees them."""
    args = [to_child(arg) for arg in args]
    kwargs = {key: to_child(value) for key, value in kwargs.items()}
    try:
        result = function(*args, **kwargs)
    except NotImplementedError as error:
        raise NotImplementedError(str(error)) from None
    except Exception as error:  # noqa: BLE001 - whatever the student's side raised, as text
        raise StudentCodeError(f"{type(error).__name__}: {error}") from None
    return to_judge(result)


def _target(stand_in):
    return object.__getattribute__(stand_in, "_target")


def _refused(what):
    def refuse(self, *args):
        raise TypeError(f"{what} on a stand-in for the student's object is refused: compare plain values")
    return refuse


class StandIn:
    """The judge's handle on an object of the student's side."""
    __slots__ = ("_target",)

    def __init__(self, target):
        object.__setattr__(self, "_target", target)

    def __getattribute__(self, name):
        if name == "__class__":
            raise TypeError("isinstance() or __class__ on a stand-in is refused: look at plain values")
        if name.startswith("_"):
            raise AttributeError(f"{name}: private and dunder names are not read through a stand-in")
        return crossing(lambda: getattr(_target(self), name))

    def __setattr__(self, name, value):
        if name.startswith("_"):
            raise AttributeError(f"{name}: private and dunder names are not set through a stand-in")
        crossing(lambda value: setattr(_target(self), name, value), value)

    def __call__(self, *args, **kwargs):
        return crossing(_target(self), *args, **kwargs)

    def __getitem__(self, key):
        return crossing(lambda key: _target(self)[key], key)

    def __setitem__(self, key, value):
        def put(key, value):
            _target(self)[key] = value
        crossing(put, key, value)

    def __delitem__(self, key):
        def delete(key):
            del _target(self)[key]
        crossing(delete, key)

    def __len__(self):
        return crossing(lambda: len(_target(self)))

    def __contains__(self, key):
        return crossing(lambda key: key in _target(self), key)

    def __iter__(self):
        iterator, done = crossing(lambda: iter(_target(self))), object()
        while (item := _next(iterator, done)) is not done:
            yield item

    def __enter__(self):
        return crossing(lambda: _target(self).__enter__())

    def __exit__(self, kind, error, trace):
        if kind is None:
            return crossing(lambda: _target(self).__exit__(None, None, None))
        return _target(self).__exit__(kind, error, trace)

    def __str__(self):
        return crossing(lambda: str(_target(self)))

    def __repr__(self):
        return crossing(lambda: repr(_target(self)))

    def __bool__(self):
        return crossing(lambda: bool(_target(self)))

    __eq__ = _refused("==")
    __ne__ = _refused("!=")
    __lt__ = _refused("<")
    __le__ = _refused("<=")
    __gt__ = _refused(">")
    __ge__ = _refused(">=")
    __hash__ = _refused("hash()")


def _next(iterator, done):
    """The next item of a stand-in iterator, or ``done``."""
    marker = "__stand_in_done__"
    item = crossing(lambda: next(_target(iterator), marker))
    return done if type(item) is str and item == marker else item


def module(name):
    """A stand-in for the module ``name`` of the student's side (``student_side.use`` takes this)."""
    return StandIn(importlib.import_module(name))


@contextlib.contextmanager
def graded():
    """While in force, ``student_side.module`` gives stand-ins, as when the grader runs the checks."""
    student_side.use(module)
    try:
        yield
    finally:
        student_side.reset()
