"""Options and fixtures shared by every test.

``--app-dir`` and ``--stage`` aim the behaviour suite in tests/stages at any
app folder, a student's included:

    pytest tests/stages --app-dir my_app --stage 5
"""
import pytest

from workbook.fixed_clock import FixedClock


def pytest_addoption(parser):
    group = parser.getgroup("workbook", "Flask 2FA Workbook")
    group.addoption("--app-dir", help="run the stage behaviour tests against the app in this folder")
    group.addoption("--stage", type=int, help="with --app-dir: the stage (1-7) that app claims to reach")


@pytest.fixture
def clock():
    return FixedClock()
