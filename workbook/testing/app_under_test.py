"""The app under test as the behaviour tests (tests/stages) hold it: a stand-in, never the app itself.

An ``App`` and its ``Client`` look like Flask's app and test client to the tests (``app.config[...]``,
``app.test_client()``, ``client.get(...)``, ``client.get_cookie(...)``), but each of their
operations is one call to workbook.testing.app_side, reached through
``student_side.module``: in this process for ``make test`` and ``check_my_app``; in the student's
process (as another user) when the grader grades a my_app/, while the tests and their verdicts stay
in the grader's. What comes back is plain data made into werkzeug's own response and a cookie
record here: a test compares only values it holds itself.
"""
from datetime import datetime, timezone
from types import SimpleNamespace

from werkzeug.datastructures import Headers
from werkzeug.test import TestResponse

from ..checks.student_side import student_side

APP_SIDE = "workbook.testing.app_side"


class _Functions:
    """A module's functions, each looked up once (a stand-in's lookup is a request to the app's process)."""

    def __init__(self, module):
        self.module, self.found = module, {}

    def __getattr__(self, name):
        if name not in self.found:
            self.found[name] = getattr(self.module, name)
        return self.found[name]


_side = {}


def app_side():
    """workbook.testing.app_side where the app runs (this process, or a stand-in for the student's module)."""
    module = student_side.module(APP_SIDE)
    functions = _side.get("functions")
    if functions is None or functions.module is not module:   # a new process: its own stand-ins
        functions = _side["functions"] = _Functions(module)
    return functions


def make_app(folder, config=None):
    """The app in ``folder`` with ``config`` (its CLOCK and NOTIFY built by ``new_clock``/``new_recorder``)."""
    config = dict(config) if config is not None else None
    clock = config.pop("CLOCK", None) if config else None
    if isinstance(clock, Clock):
        clock = clock.target
    notify = config.pop("NOTIFY", None) if config else None
    if isinstance(notify, NotifyRecorder):
        notify = notify.target
    try:
        return App(app_side().new_app(str(folder), config, clock, notify), str(folder))
    except Exception as error:
        if type(error).__name__ == "AppExited" or str(error).startswith("AppExited: "):
            raise SystemExit(str(error).removeprefix("AppExited: ")) from None  # the tests say it as a failure
        raise


def new_clock(now=None):
    """A FixedClock where the app runs: ``clock()`` and ``clock.advance(seconds)`` as usual (a ``Clock``)."""
    target = app_side().new_clock(now)
    return Clock(target, target.now)


class Clock:
    """The tests' FixedClock: ``target`` is the one the app reads, where the app runs; the time is kept
    here too. Only the tests move the clock, so ``clock()`` reads this side's copy without asking the app's
    process (a tenth of a graded stage 7 run's requests were the tests reading the time), and the time
    the tests compute codes with is theirs, whatever the app does to its own copy. ``advance`` moves both."""

    def __init__(self, target, now):
        self.target, self.now = target, now
        self._advance = target.advance    # looked up once: a stand-in's lookup is a request

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self._advance(seconds)
        self.now += seconds


class NotifyRecorder:
    """``app.config["NOTIFY"]``: keeps every (user, event) the app reports, as plain data (a row as a dict,
    another object as text). ``recorder.target`` goes into the app's config."""

    def __init__(self):
        self.target = app_side().new_recorder()

    @property
    def calls(self):
        return app_side().recorded(self.target)

    def since(self, count):
        return app_side().recorded(self.target, count)


class Config:
    """``app.config`` read and written one key at a time; a value that is no plain value reads as its repr."""

    def __init__(self, app):
        self._app = app

    def __getitem__(self, key):
        return app_side().config_value(self._app.handle, key)

    def __contains__(self, key):
        return app_side().has_config(self._app.handle, key)

    def get(self, key, default=None):
        return self[key] if key in self else default

    def __setitem__(self, key, value):
        if isinstance(value, (NotifyRecorder, Clock)):
            value = value.target
        app_side().set_config(self._app.handle, key, value)

    def copy(self):
        """The settings, for the same app started again: the plain ones, and its CLOCK and NOTIFY."""
        settings = app_side().plain_config(self._app.handle)
        clock, notify = app_side().config_objects(self._app.handle)
        return {**settings, **({"CLOCK": clock} if clock is not None else {}),
                **({"NOTIFY": notify} if notify is not None else {})}


class App:
    """The app under test. ``app.https = True``: its test clients speak HTTPS from then on."""

    def __init__(self, handle, folder):
        self.handle, self.folder = handle, folder
        self.config = Config(self)
        self.https = False

    def test_client(self, remote_addr=None):
        return Client(self, app_side().new_client(self.handle, self.https, remote_addr))

    def _facts(self):
        return app_side().app_facts(self.handle)

    @property
    def secret_key(self):
        return self._facts()["secret_key"]

    @property
    def instance_path(self):
        return self._facts()["instance_path"]

    @property
    def testing(self):
        return self._facts()["testing"]

    @testing.setter
    def testing(self, value):
        app_side().set_testing(self.handle, value)

    def routes(self):
        """[(rule, methods, endpoint)] of every URL the app answers."""
        return [(rule, set(methods), endpoint) for rule, methods, endpoint in app_side().routes(self.handle)]


class Client:
    """A browser of the app under test (Flask's test client, where the app runs)."""

    def __init__(self, app, handle):
        self.application, self.handle = app, handle

    def open(self, url, method="GET", **options):
        return response_from(app_side().request(self.handle, method.upper(), url, options))

    def get(self, url, **options):
        return self.open(url, "GET", **options)

    def post(self, url, **options):
        return self.open(url, "POST", **options)

    def head(self, url, **options):
        return self.open(url, "HEAD", **options)

    def put(self, url, **options):
        return self.open(url, "PUT", **options)

    def delete(self, url, **options):
        return self.open(url, "DELETE", **options)

    def get_cookie(self, key, domain="localhost", path="/"):
        found = app_side().get_cookie(self.handle, key, domain, path)
        return None if found is None else cookie_from(found)

    def set_cookie(self, key, value="", **options):
        app_side().set_cookie(self.handle, key, value, options)

    def delete_cookie(self, key, **options):
        app_side().delete_cookie(self.handle, key, options)

    def cookies(self):
        """Every cookie the browser holds (key, value, secure, http_only, same_site, expires...)."""
        return [cookie_from(found) for found in app_side().all_cookies(self.handle)]

    def session_items(self):
        """{key: value} of the session the browser's session cookie opens (its plain values)."""
        return app_side().session_texts(self.handle)


def requests_at_once(calls):
    """[(client, method, url, options)] sent at the same moment where the app runs (threads of its own);
    their responses, or an exception (a RuntimeError naming what the request raised)."""
    answers = app_side().requests_at_once([(client.handle, method, url, options) for client, method, url, options
                                           in calls])
    return [RuntimeError(f"{answer[1]}: {answer[2]}") if isinstance(answer, (list, tuple)) else response_from(answer)
            for answer in answers]


def response_from(plain):
    """werkzeug's TestResponse for a response the app side sent as plain data."""
    response = TestResponse([plain["data"]], int(plain["status"]), Headers([tuple(pair) for pair in plain["headers"]]),
                            SimpleNamespace(url=plain["url"]))
    return response


def cookie_from(plain):
    """A cookie record with werkzeug's Cookie's attribute names (``expires``: a datetime in UTC, or None)."""
    fields = dict(plain)
    expires = fields.get("expires")
    fields["expires"] = datetime.fromtimestamp(expires, timezone.utc) if expires is not None else None
    for name in ("key", "value", "decoded_value", "domain", "path", "secure", "http_only", "same_site", "max_age"):
        fields.setdefault(name, None)
    return SimpleNamespace(**fields)


class Environment:
    """Environment variables where the app runs (monkeypatch's setenv/delenv for it), put back by ``undo``."""

    def __init__(self):
        self.saved = []

    def set(self, name, value):
        self.saved.append((name, app_side().set_environment(name, str(value))))

    def delete(self, name):
        self.saved.append((name, app_side().set_environment(name, None)))

    def undo(self):
        while self.saved:
            name, value = self.saved.pop()
            app_side().set_environment(name, value)


# (uid, gid) of the user the app runs as, when that is not this process's (set by workbook.grading.app_judge):
# what this side writes where the app writes must be that user's.
app_owner = {}


def hand_over(*paths):
    """Make files of this side (a database this side opened, and the files SQLite made beside it) the app's user's."""
    owner = app_owner.get("ids")
    if owner is None:
        return
    import os
    for path in paths:
        for suffix in ("", "-wal", "-shm", "-journal"):
            try:
                os.lchown(f"{path}{suffix}", *owner)
            except OSError:
                pass


def connect_database(path, **options):
    """sqlite3.connect to a database file of the app's, to read it as a thief of the file would (or to change
    it as another worker would); any file SQLite makes beside it stays the app's to write."""
    import sqlite3
    db = sqlite3.connect(path, **options)
    try:
        db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()  # opens the write-ahead log, if any
    except sqlite3.Error:
        pass
    hand_over(path)
    return db


def copy_database(source, destination):
    """Copy a SQLite database, its write-ahead log included, over ``destination``, where the app runs."""
    app_side().copy_database(str(source), str(destination))


class serving:  # noqa: N801 - used as a context manager, like contextlib's
    """``with serving(arguments, port, env, cwd, path) as base_url``: ``python ARGUMENTS`` serving on ``port``,
    started where the app runs (as its user), for the duration of the block."""

    def __init__(self, arguments, port, env=None, cwd=None, path="/"):
        self.call = ([str(a) for a in arguments], int(port), dict(env or {}), str(cwd) if cwd else None, path)

    def __enter__(self):
        self.server, base_url = app_side().start_server(*self.call)
        return base_url

    def __exit__(self, *exc):
        app_side().stop_server(self.server)
        return False


class AppLog:
    """What the app logs (``app_log.text``), as pytest's caplog would show it, kept where the app runs."""

    def start(self, level="WARNING"):
        import logging
        app_side().start_log(getattr(logging, level) if isinstance(level, str) else level)

    def set_level(self, level):
        self.start(level)

    @property
    def text(self):
        return app_side().log_text()

    def stop(self):
        app_side().stop_log()
