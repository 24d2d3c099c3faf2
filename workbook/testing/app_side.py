"""What the behaviour tests (tests/stages) hand an app, built where the app runs.

The tests never hold the app under test: they reach this module through
``student_side.module("workbook.testing.app_side")`` (workbook/checks/student_side.py). In a
``make test`` or ``check_my_app`` run that is this process; when the grader grades a my_app/, it
is the student's own process, and the tests (in the grader's process) get stand-ins for what
these functions return (an app, a test client, a clock) and plain values for everything else.
So every function here takes and returns plain values (None, bool, int, float, str, bytes,
lists, tuples, dicts) or objects of this side that the tests only pass back: an HTTP response
comes back as a dict, a cookie as a dict, a NOTIFY call as plain data.

Nothing here decides whether a test passes: that is the tests' job, where they run.
"""
import copy
import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor

from flask.testing import FlaskClient

from ..app_loader import make_app
from ..checks.student_side import is_plain
from ..fixed_clock import FixedClock

# ----------------------------------------------------------------- the app

class _TemplatesCompiledOnce:
    """Jinja's own cache of compiled templates, kept in memory for one app folder's apps.

    Every test makes a new app, and each app compiled its templates again (a tenth of a stage 7
    run). Jinja checks each template's source against the cached code before it uses it.
    """

    def __init__(self):
        self.compiled = {}

    def load_bytecode(self, bucket):
        if bucket.key in self.compiled:
            bucket.bytecode_from_string(self.compiled[bucket.key])

    def dump_bytecode(self, bucket):
        self.compiled[bucket.key] = bucket.bytecode_to_string()


_template_caches = {}


def _bytecode_cache(folder):
    import jinja2

    class Cache(_TemplatesCompiledOnce, jinja2.BytecodeCache):
        pass
    if folder not in _template_caches:
        _template_caches[folder] = Cache()
    return _template_caches[folder]


def _qr_codes_built_once():
    """pyqrcode.create, remembered: each QR code the apps ask for is built once per process, and copied after.

    pyqrcode.create is a pure function of its arguments, and slow (about 30 ms a code, in pure
    Python): the apps build the same code again on every view of the enrolment page, and that was
    a third of the behaviour tests' time. The app still calls it, and still draws the PNG itself.
    """
    import pyqrcode
    if getattr(pyqrcode.create, "built_once", False):
        return
    built, create = {}, pyqrcode.create

    def create_once(content, *args, **kwargs):
        try:
            key = (content, args, tuple(sorted(kwargs.items())))
            hash(key)
        except TypeError:  # unhashable arguments: nothing to remember them by
            return create(content, *args, **kwargs)
        if key not in built:
            built[key] = create(content, *args, **kwargs)  # an error is raised, never remembered
        return copy.copy(built[key])  # its own object; the code matrix inside is shared, and only read
    create_once.built_once = True
    pyqrcode.create = create_once


class AppExited(Exception):
    """The app called exit() (SystemExit) while it started."""


def new_app(folder, config=None, clock=None, notify=None):
    """The app in ``folder`` (workbook.app_loader.make_app) with ``config``, and ``clock``/``notify`` as
    its CLOCK and NOTIFY when given. Its templates are compiled once per folder, its QR codes built once."""
    _qr_codes_built_once()
    config = dict(config) if config is not None else None
    for key, value in (("CLOCK", clock), ("NOTIFY", notify)):
        if value is not None:
            config = {**(config or {}), key: value}
    try:
        app = make_app(folder, config)
    except SystemExit as exited:  # not an Exception: said as one, so that it crosses as one (the tests fail it)
        raise AppExited(f"SystemExit: {exited}") from None
    app.jinja_env.bytecode_cache = _bytecode_cache(str(folder))
    return app


def config_value(app, key):
    """``app.config[key]`` if it is a plain value; a KeyError if it is missing; else its repr (a str)."""
    value = app.config[key]
    return value if is_plain(value) else repr(value)


def has_config(app, key):
    return key in app.config


def set_config(app, key, value):
    app.config[key] = value


def plain_config(app):
    """The app's settings that are plain values (what a restarted app needs again)."""
    return {key: value for key, value in app.config.items() if is_plain(value)}


def config_objects(app):
    """The app's CLOCK and NOTIFY, for an app started again with the same settings."""
    return app.config.get("CLOCK"), app.config.get("NOTIFY")


def app_facts(app):
    """The app's own plain facts the tests read: its secret key and instance folder."""
    key = app.secret_key
    return {"secret_key": key if is_plain(key) else repr(key), "instance_path": app.instance_path,
            "testing": app.testing}


def set_testing(app, testing):
    app.testing = app.config["TESTING"] = testing


def routes(app):
    """[(rule, [methods], endpoint)] of the app's URL map."""
    return [(rule.rule, sorted(rule.methods or ()), rule.endpoint) for rule in app.url_map.iter_rules()]


# ----------------------------------------------------------------- the browser

class _HttpsClient(FlaskClient):
    """A test client that speaks HTTPS (every request to https://localhost), so Secure cookies travel;
    like a browser, it sends a Referer from the same site (Flask-WTF checks it over HTTPS)."""

    def open(self, *args, **kwargs):
        if not (args and not isinstance(args[0], str)):
            kwargs.setdefault("base_url", "https://localhost")
            kwargs["headers"] = {"Referer": "https://localhost/", **dict(kwargs.get("headers") or {})}
        return super().open(*args, **kwargs)


def new_client(app, https=False, remote_addr=None):
    """A browser of its own for ``app``: plain HTTP, or HTTPS (``https``); from ``remote_addr`` if given."""
    client = _HttpsClient(app, app.response_class, use_cookies=True) if https else app.test_client()
    if remote_addr:
        client.environ_base["REMOTE_ADDR"] = remote_addr
    return client


def _plain_response(response):
    return {"status": response.status_code, "headers": [[key, value] for key, value in response.headers.items()],
            "data": response.get_data(), "url": response.request.url if response.request is not None else None}


def request(client, method, url, options=None):
    """Send one request (``options``: the test client's keywords, plain values); the response as a dict:
    status, headers ([name, value] pairs), data (bytes), url (of the request answered)."""
    response = client.open(url, method=method, **(options or {}))
    try:
        return _plain_response(response)
    finally:
        response.close()


def requests_at_once(calls):
    """[(client, method, url, options)]: the requests sent at the same moment, each from a thread of its own
    (for the tests of races); their responses, or ("raised", type name, message) for each that raised."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait()
        try:
            return request(*call)
        except Exception as error:  # noqa: BLE001 (reported by the test)
            return ("raised", type(error).__name__, str(error))

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


COOKIE_FIELDS = ("key", "value", "decoded_value", "domain", "path", "secure", "http_only", "same_site", "max_age")


def _plain_cookie(cookie):
    found = {field: getattr(cookie, field, None) for field in COOKIE_FIELDS}
    found["expires"] = cookie.expires.timestamp() if getattr(cookie, "expires", None) is not None else None
    return {key: value for key, value in found.items() if is_plain(value)}


def get_cookie(client, key, domain="localhost", path="/"):
    cookie = client.get_cookie(key, domain, path)
    return None if cookie is None else _plain_cookie(cookie)


def all_cookies(client):
    return [_plain_cookie(cookie) for cookie in client._cookies.values()]


def set_cookie(client, key, value="", options=None):
    client.set_cookie(key, value, **(options or {}))


def delete_cookie(client, key, options=None):
    client.delete_cookie(key, **(options or {}))


def session_texts(client):
    """{key: value} of the session the browser's cookie opens, for its values that are plain."""
    with client.session_transaction() as session:
        return {str(key): value for key, value in session.items() if is_plain(value)}


# ----------------------------------------------------------------- what the tests hand the app

def new_clock(now=None):
    return FixedClock() if now is None else FixedClock(now)


def _as_plain(value, depth=0):
    """A value the app passed, as plain data: plain as it is; a row or a mapping as a dict; else as text."""
    if is_plain(value):
        return value
    if depth < 3 and isinstance(value, (list, tuple)):
        return [_as_plain(item, depth + 1) for item in value]
    if depth < 3 and hasattr(value, "keys"):
        try:
            return {str(key): _as_plain(value[key], depth + 1) for key in value.keys()}
        except (TypeError, KeyError, IndexError):
            pass
    if depth < 3 and hasattr(value, "__dict__") and not callable(value):
        return {"$object": repr(value), **{str(k): _as_plain(v, depth + 1) for k, v in vars(value).items()}}
    return f"{value!r} {value}"


class Recorder:
    """``app.config["NOTIFY"]``: keeps every (user, event) the app reports, as plain data."""

    def __init__(self):
        self.calls = []

    def __call__(self, user, event):
        self.calls.append((_as_plain(user), _as_plain(event)))


def new_recorder():
    return Recorder()


def recorded(recorder, start=0):
    """The (user, event) calls a Recorder has kept, from the ``start``-th on."""
    return [tuple(call) for call in recorder.calls[start:]]


# ----------------------------------------------------------------- the process the app runs in

def set_environment(name, value=None):
    """Set (or, with None, remove) an environment variable where the app runs; its value before (or None)."""
    before = os.environ.get(name)
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value
    return before


class _LogCapture(logging.Handler):
    def __init__(self):
        super().__init__(logging.NOTSET)
        self.lines = []

    def emit(self, record):
        try:
            self.lines.append(self.format(record))
        except Exception:  # noqa: BLE001 - a record that cannot be formatted is still a record
            self.lines.append(str(record.msg))


_capture = {}


def start_log(level=logging.WARNING):
    """Keep what is logged from now on (at ``level`` and above) until ``stop_log``."""
    stop_log()
    handler = _LogCapture()
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    _capture.update(handler=handler, level=root.level)
    root.addHandler(handler)
    root.setLevel(min(level, root.level) if root.level else level)


def log_text():
    handler = _capture.get("handler")
    return "\n".join(handler.lines) if handler is not None else ""


def stop_log():
    handler = _capture.pop("handler", None)
    if handler is not None:
        root = logging.getLogger()
        root.removeHandler(handler)
        root.setLevel(_capture.pop("level"))


def copy_database(source, destination):
    """Copy a SQLite database, its write-ahead log included, over ``destination`` (SQLite's backup API)."""
    import sqlite3
    from contextlib import closing
    with closing(sqlite3.connect(source)) as original, closing(sqlite3.connect(destination)) as copied:
        original.backup(copied)


class _Server:
    def __init__(self, running):
        self.running = running
        self.base_url = running.__enter__()

    def stop(self):
        self.running.__exit__(None, None, None)


def start_server(arguments, port, env, cwd, path="/"):
    """Run ``python ARGUMENTS`` (an app serving on ``port``) until ``stop_server``; (server, its base URL)."""
    import sys

    from .servers import running
    server = _Server(running([sys.executable, *arguments], port, env=env, cwd=cwd, path=path))
    return server, server.base_url


def stop_server(server):
    server.stop()


_watched = {}


def watch_the_test_runner():
    """Remember pytest's own code as it is now, before any app runs in this process (the grader asks, first
    thing, in each process it starts for an app: workbook.grading.app_judge)."""
    from . import stage_outcomes
    _watched["saved"] = stage_outcomes._guard_snapshot()


def process_report():
    """What of pytest's own code the apps of this process changed since ``watch_the_test_runner`` (labels
    such as "_pytest.python.Function.runtest"). The tests do not run here, so a change reaches nothing;
    it is said all the same: an app that patches the test runner gets no stage."""
    if "saved" not in _watched:
        return []
    from . import stage_outcomes
    return stage_outcomes.changed_since(_watched["saved"])[:5]
