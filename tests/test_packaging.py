"""The workbook package installs whole, and git keeps every file of it.

A hub image may run a plain ``pip install .`` instead of the editable install
that ``make`` does: the wheel must then hold every subpackage the lessons and
the grader import. And an ignore pattern written for a top-level folder
(``grading/``, ``build/``) must not swallow a package folder of the same name.
"""
import os
import shutil
import subprocess
import sys
import zipfile

import pytest

from workbook import ROOT

PACKAGE = ROOT / "workbook"


def modules_in_source():
    return {path.relative_to(ROOT).as_posix() for path in PACKAGE.rglob("*.py") if "__pycache__" not in path.parts}


@pytest.mark.slow
def test_the_wheel_holds_every_module(tmp_path):
    # Built from a clean copy: setuptools would reuse a stale build/ folder left in the checkout.
    source = tmp_path / "source"
    shutil.copytree(PACKAGE, source / "workbook", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", source)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet",
                    "--wheel-dir", str(tmp_path / "dist"), str(source)], check=True, cwd=tmp_path)
    [wheel] = (tmp_path / "dist").glob("workbook-*.whl")
    in_wheel = {name for name in zipfile.ZipFile(wheel).namelist() if name.endswith(".py")}
    assert any(name.startswith("workbook/checks/") for name in in_wheel)  # the subpackage the check cells need
    assert modules_in_source() - in_wheel == set()


@pytest.mark.parametrize("folder", ["grading", "feedback", "build", "dist", "my_app"])
def test_a_package_folder_named_like_a_top_level_ignore_is_kept(folder):
    """``/grading/`` is ignored at the top (a grading run's output); ``workbook/grading/`` never is."""
    nested = f"workbook/{folder}/module.py"
    top = f"{folder}/module.py"
    check = ["git", "check-ignore", "--quiet", "--no-index"]
    assert subprocess.run([*check, nested], cwd=ROOT).returncode == 1, f"{nested} would not be committed"
    if folder != "dist":
        assert subprocess.run([*check, top], cwd=ROOT).returncode == 0, f"{top} is no longer ignored"


def test_git_tracks_every_module():
    tracked = set(subprocess.run(["git", "ls-files", "workbook"], cwd=ROOT, capture_output=True, text=True,
                                 check=True).stdout.split())
    assert modules_in_source() - tracked == set(), "modules that git does not track (ignored or not added)"


# --- which installer `make setup` uses (scripts/install-requirements) ------------------------------

def _installer(env, base=sys.executable):
    """What the script says it would install with, under pip settings ``env`` alone (none from this machine)."""
    environment = {name: value for name, value in os.environ.items() if not name.startswith("PIP_")}
    environment.update(PIP_CONFIG_FILE=os.devnull, **env)
    done = subprocess.run(["sh", "scripts/install-requirements", base, "unused-venv", "--which"], cwd=ROOT,
                          env=environment, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize("setting", ["PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL"])
def test_setup_uses_uv_unless_pip_is_sent_to_another_index(setting):
    """uv does not read pip's settings: a mirror that replaces PyPI leaves the installing to pip."""
    assert _installer({}).startswith("uv: ")
    assert _installer({"PIP_INDEX_URL": ""}).startswith("uv: ")  # set to nothing: PyPI
    said = _installer({setting: "https://mirror.example.edu/simple"})
    if setting == "PIP_INDEX_URL":
        assert said.startswith("pip: ") and "another package index" in said, said
    else:  # an extra index adds to PyPI, where uv finds every package
        assert said.startswith("uv: "), said


def test_setup_uses_the_new_environments_pip_when_python_has_none(tmp_path):
    no_pip = tmp_path / "python-without-pip"
    no_pip.write_text(f'#!/bin/sh\n[ "$2" = pip ] && exit 1\nexec {sys.executable} "$@"\n')
    no_pip.chmod(0o755)
    said = _installer({}, base=str(no_pip))
    assert said.startswith("pip: ") and "has no pip" in said, said
