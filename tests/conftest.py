"""Options and fixtures shared by every test.

``--app-dir`` and ``--stage`` aim the behaviour suite in tests/stages at any
app folder, a student's included:

    pytest tests/stages --app-dir my_app --stage 5
"""
import pytest

# A moment in the middle of a 30-second step, so that one step either side
# (t - 30 s, t + 30 s) stays in the neighbouring steps.
FIXED_TIME = 1_700_000_000 - 1_700_000_000 % 30 + 15


def pytest_addoption(parser):
    group = parser.getgroup("workbook", "Flask 2FA Workbook")
    group.addoption("--app-dir", help="run the stage behaviour tests against the app in this folder")
    group.addoption("--stage", type=int, help="with --app-dir: the stage (1-7) that app claims to reach")


class FakeClock:
    """A clock the app reads through app.config["CLOCK"]; tests move it by hand."""

    def __init__(self, now=FIXED_TIME):
        self.now = now

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += seconds


@pytest.fixture
def clock():
    return FakeClock()
