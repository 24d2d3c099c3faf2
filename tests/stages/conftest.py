"""The behaviour suite: one set of tests, run against every stage it applies to.

Each test says which stages it applies to with ``@pytest.mark.stages(...)``. From stage 7 on,
a stage keeps every promise of the one before (stage 8 is stage 7 plus passkeys), so a test
marked for stage 7 applies to every later stage too (``applies`` below).
By default the targets are the stage apps in app_steps/; with
``--app-dir DIR --stage N`` the one target is that folder at stage N, and
only the tests that apply to stage N run (``--stages 5,6,7``: several stages of one
app in one run, as the grader does; a test whose outcome depends on the stage asks
for the ``stage`` fixture, the others run once per app when graded).

The tests never hold the app itself: ``app``, its test clients, the ``clock`` and the NOTIFY
recorders are stand-ins (workbook/testing/app_under_test.py) built where the app runs
(workbook/testing/app_side.py), and what comes back is plain data. Here that is this process;
when the grader grades a my_app/, it is a sandboxed process of the student's, and these tests run
in the grader's (workbook/grading/app_judge.py). So a test compares only values it holds (never an
object of the app's), hands the app only what app_side builds, changes the app's environment with
``environment`` (not monkeypatch), reads its log with ``app_log`` (not caplog), and opens the app's
database files with ``connect_database``/``copy_database``.
"""
from pathlib import Path

import pytest

from workbook.lesson_07_start import TESTS_OF_PART
from workbook.stages import STAGES
from workbook.testing.app_under_test import AppLog, Environment, make_app, new_clock

from stage_helpers import AuthActions, Authenticator, app_config, copy_database, enrol_once, is_redirect_to, verify


def _targets(config):
    app_dir = config.getoption("--app-dir")
    if app_dir:
        numbers = config.getoption("--stages") or [config.getoption("--stage")]
        if None in numbers:
            raise pytest.UsageError(f"--app-dir needs --stage N too: the stage (1-{STAGES[-1].number}) that app reaches.")
        return [(Path(app_dir).resolve(), number) for number in numbers]
    return [(s.folder, s.number) for s in STAGES]


# Below this stage a later stage may replace an earlier one's pages (stage 6 moves enrolment behind a
# login), so a test names each stage it holds for; from it on, the stages only add.
CUMULATIVE_FROM = 7


def applies(mark, number):
    """Whether a test with this ``stages`` mark applies to stage ``number``."""
    if mark is None:
        return True
    return number in mark.args or (number > CUMULATIVE_FROM and CUMULATIVE_FROM in mark.args)


def pytest_generate_tests(metafunc):
    """Make only the (test, stage) pairs the test's ``stages`` mark names."""
    if "target" in metafunc.fixturenames:
        targets = _targets(metafunc.config)
        mark = metafunc.definition.get_closest_marker("stages")
        applicable = [t for t in targets if applies(mark, t[1])]
        # None applies (--app-dir at a lower stage): make them all, and let the hook below
        # deselect them, so that they are reported as deselected rather than skipped.
        targets = applicable or targets
        metafunc.parametrize("target", targets, ids=[f"stage{n}-{d.name}" for d, n in targets])


def pytest_collection_modifyitems(config, items):
    """Deselect the tests that apply to none of the stages asked for (see above), and with ``--not-built``
    those of the defences lesson 07's student has not built yet (workbook/lesson_07_start.py)."""
    keep, drop = [], []
    waiting = {name for part in config.getoption("--not-built") for name in TESTS_OF_PART.get(part, ())}
    for item in items:
        if getattr(item, "originalname", item.name) in waiting:
            drop.append(item)
            continue
        mark = item.get_closest_marker("stages")
        callspec = getattr(item, "callspec", None)
        if mark is None or callspec is None or "target" not in callspec.params:
            keep.append(item)
            continue
        _folder, number = callspec.params["target"]
        (keep if applies(mark, number) else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture
def stage(target):
    return target[1]


@pytest.fixture
def clock():
    """A FixedClock where the app runs (this process, or the student's when graded): ``clock()``, ``clock.advance(s)``."""
    return new_clock()


@pytest.fixture
def app(target, tmp_path, clock):
    """The app under test: a stand-in (workbook/testing/app_under_test.py), whose every call the app answers."""
    return make_app(target[0], app_config(tmp_path, clock))


@pytest.fixture
def environment():
    """Environment variables where the app runs (``environment.set(name, value)``, ``.delete(name)``), put back after."""
    changed = Environment()
    yield changed
    changed.undo()


@pytest.fixture
def app_log():
    """What the app logs from now on (``app_log.text``; ``app_log.set_level("DEBUG")``), as caplog would show it."""
    log = AppLog()
    log.start()
    yield log
    log.stop()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def authenticator(clock):
    return Authenticator(clock)


@pytest.fixture
def auth(client, authenticator):
    return AuthActions(client, authenticator)


@pytest.fixture(scope="session")
def enrolment_snapshots():
    """{app folder: EnrolledUser}: each app enrols alice once per test process."""
    return {}


@pytest.fixture
def enrolled(request, target, app, auth, enrolment_snapshots, tmp_path_factory):
    """alice with 2FA on, logged out, the clock still at the second she enrolled (her code of
    that step is used); her recovery codes, if the app gave her any, saved (``enrolled.recovery_codes``).

    A copy of one real enrolment in this app (stage_helpers.enrol_once): the tests about
    enrolling itself use ``auth.enrol()``.
    """
    folder, _number = target
    if folder not in enrolment_snapshots:
        enrolment_snapshots[folder] = enrol_once(folder, tmp_path_factory.mktemp("enrolled"))
    snapshot = enrolment_snapshots[folder]
    mark = request.node.get_closest_marker("stages")
    if mark is not None and min(mark.args) >= 7:  # the stage 7 (and later) tests count on them
        assert len(snapshot.recovery_codes) == 10, (
            f"enrolling should show 10 recovery codes at /recovery-codes, not {len(snapshot.recovery_codes)}")
    copy_database(snapshot.database, app.config["DATABASE"])
    auth.phone.account = snapshot.account
    auth.recovery_codes = list(snapshot.recovery_codes)
    return auth


@pytest.fixture
def signed_in(enrolled, clock):
    """30 s after enrolling, alice logged in with her password and the next code: she is on the dashboard."""
    clock.advance(30)
    assert is_redirect_to(enrolled.login(), "/verify-2fa")
    assert is_redirect_to(verify(enrolled.client, enrolled.phone.code()), "/dashboard")
    return enrolled


@pytest.fixture
def sibling_allowed(monkeypatch):
    """The browser's rule loosened to let evil.localhost use RP ID localhost, which Chromium refuses (one
    label is no parent). With a parent RP ID of two labels a real sibling gets that far (tests/test_relay.py,
    tests/test_passkeys_browser.py); here it stands in for one, so the server's own checks are what is tested."""
    from workbook import passkey as _passkey
    strict = _passkey.check_rp_id

    def loose(origin, rp_id=None):
        host = _passkey._origin_parts(origin)[1]
        if rp_id is not None and host.endswith("." + rp_id.lower()):
            return rp_id.lower()
        return strict(origin, rp_id)
    monkeypatch.setattr(_passkey, "check_rp_id", loose)

