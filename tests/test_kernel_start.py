"""A notebook whose kernel dies while starting is started again (workbook/testing/kernel_start_plugin).

Each run here is a pytest of its own, with nbval, on a one-cell notebook whose kernel is a stand-in:
it exits the way a kernel that lost a port race does (a message, exit status 1) on its first starts,
then is a real IPython kernel. The control run, without the plugin, shows that such a kernel fails
every cell of its notebook, as it did in CI.
"""
import json
import os
import subprocess
import sys
import textwrap

import pytest

from workbook import ROOT
from workbook.testing.kernel_start_plugin import ATTEMPTS

pytestmark = pytest.mark.slow

LOST_PORT = "zmq.error.ZMQError: Address already in use (addr='tcp://127.0.0.1:51234')"
NOTEBOOK = {
    "cells": [{"cell_type": "code", "execution_count": 1, "id": "sum", "metadata": {},
               "outputs": [{"name": "stdout", "output_type": "stream", "text": ["4\n"]}], "source": ["print(2 + 2)"]}],
    "metadata": {}, "nbformat": 4, "nbformat_minor": 5,
}


def run_notebook(tmp_path, deaths, plugin=True):
    """pytest with nbval on a one-cell notebook whose kernel dies on its first ``deaths`` starts."""
    starts = tmp_path / "starts"
    kernel = tmp_path / "kernel.py"
    kernel.write_text(textwrap.dedent(f"""\
        import pathlib, sys
        starts = pathlib.Path({str(starts)!r})
        starts.write_text(starts.read_text() + "x" if starts.exists() else "x")
        if len(starts.read_text()) <= {deaths}:
            print({LOST_PORT!r}, file=sys.stderr)
            sys.exit(1)
        from ipykernel import kernelapp
        kernelapp.launch_new_instance()
        """))
    spec = tmp_path / "share" / "jupyter" / "kernels" / "dies-starting"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, str(kernel), "-f", "{connection_file}"], "display_name": "dies starting",
        "language": "python"}))
    (tmp_path / "sum.ipynb").write_text(json.dumps(NOTEBOOK))
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    plugins = ["-p", "workbook.testing.kernel_start_plugin"] if plugin else []
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-c", str(tmp_path / "pytest.ini"), "--rootdir", str(tmp_path),
         "-p", "no:cacheprovider", "-p", "no:randomly", "-n", "0", "-W", "default", *plugins,
         "--nbval", "--nbval-kernel-name", "dies-starting", str(tmp_path / "sum.ipynb")],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
        env={**os.environ, "JUPYTER_PATH": str(tmp_path / "share" / "jupyter"),
             "PYTHONPATH": str(ROOT)})
    return done, len(starts.read_text()) if starts.exists() else 0


def test_without_the_plugin_a_kernel_that_dies_starting_fails_its_notebook(tmp_path):
    done, starts = run_notebook(tmp_path, deaths=1, plugin=False)
    assert done.returncode == 1, done.stdout[-3000:]
    assert "Kernel died before replying to kernel_info" in done.stdout
    assert starts == 1


def test_a_kernel_that_dies_starting_once_is_started_again_and_its_notebook_passes(tmp_path):
    done, starts = run_notebook(tmp_path, deaths=1)
    assert done.returncode == 0, done.stdout[-3000:]
    assert "1 passed" in done.stdout
    assert starts == 2
    # The retry is not silent: the warnings summary says what the kernel printed.
    assert "KernelStartWarning" in done.stdout and f"attempt 2 of {ATTEMPTS}" in done.stdout
    assert LOST_PORT in done.stdout


def test_a_kernel_that_dies_every_time_fails_with_what_it_printed(tmp_path):
    done, starts = run_notebook(tmp_path, deaths=ATTEMPTS)
    assert done.returncode == 1, done.stdout[-3000:]
    assert starts == ATTEMPTS
    assert f"on each of {ATTEMPTS} attempts" in done.stdout
    assert LOST_PORT in done.stdout
