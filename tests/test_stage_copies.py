"""Stage 8 is stage 7 plus passkeys: every file of stage 7 is in stage 8, the same but for ANCHOR lines (the
lessons' listing marks), except the few that lesson 08 edits.

``make test-fast`` counts on it (``--each-stage-test-once``, tests/conftest.py): there stage 8 runs its own
behaviour tests and not stage 7's again, which would test the same code a second time except where the files
below differ. ``make test`` runs every stage 7 test on stage 8 too. A change to any other file of one stage and
not the other fails here: make it in both, or add the file below and run ``make test``.
"""
from workbook.stages import stage

# The files of stage 7 that stage 8 edits (lesson 08's Build steps: the blueprint, the code step's
# "passkeys only", the pages), and its new ones.
EDITED = {"app.py", "two_factor.py", "templates/base.html", "templates/dashboard.html", "templates/login.html",
          "README.md", "CHANGES.diff"}
ADDED = {"passkeys.py", "passkey_accounts.py", "static/passkeys.js", "static/passkeys.css",
         "templates/passkeys.html", "templates/passkey_login.html"}


def files(folder):
    """{path inside the stage: its bytes without ANCHOR lines}, the instance folder (its data) left out."""
    return {str(path.relative_to(folder)): b"".join(line for line in path.read_bytes().splitlines(keepends=True)
                                                    if b"# ANCHOR" not in line)
            for path in folder.rglob("*") if path.is_file()
            and "instance" not in path.relative_to(folder).parts and "__pycache__" not in path.parts}


def test_stage_8_is_stage_7_with_only_the_listed_files_edited_or_added():
    seven, eight = files(stage(7).folder), files(stage(8).folder)
    assert set(eight) - set(seven) == ADDED, "stage 8's new files are not the passkey files listed here"
    assert not set(seven) - set(eight), f"stage 8 lacks stage 7's {sorted(set(seven) - set(eight))}"
    differ = {name for name in seven if seven[name] != eight[name]}
    assert differ <= EDITED, (f"stage 8's {sorted(differ - EDITED)} differ from stage 7's: the same change in both "
                              "stages, or list the file here (and run make test: make test-fast tests it on stage 7 only)")
    assert differ == EDITED, f"listed here as edited, yet the same in both stages: {sorted(EDITED - differ)}"
