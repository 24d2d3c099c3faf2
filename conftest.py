"""How `make test` spreads the tests over the cores (pytest-xdist with ``--dist loadgroup``).

A file's tests share what their module fixtures start (a server, a browser page, a class to
grade), and a notebook's cells run in order in one kernel: so each file's tests stay together
on one worker, as ``--dist loadfile`` would keep them. A test that names its own
``xdist_group`` keeps it (tests/test_jupyterlab.py splits its lessons between two JupyterLabs).
"""
import pytest


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(config, items):
    if getattr(config.option, "dist", "no") != "loadgroup":
        return
    for item in items:
        if item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(item.path.relative_to(config.rootpath).as_posix()))
