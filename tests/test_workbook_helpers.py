"""The workbook's helpers do what the lessons and the grader rely on."""
import base64
import io

import pyqrcode
import pytest

from workbook import app_loader, listings, my_app, pages, qr, run_commands, stages
from workbook.cookies import read_session_cookie, session_cookie
from workbook.phone import Phone, PhoneError, parse_otpauth_uri

from totp_reference import totp

URI = "otpauth://totp/Flask%202FA%20Workbook:alice?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Flask%202FA%20Workbook"


def png_of(text):
    stream = io.BytesIO()
    pyqrcode.create(text).png(stream, scale=4)
    return stream.getvalue()


def data_uri_of(text):
    return "data:image/png;base64," + base64.b64encode(png_of(text)).decode()


def test_every_stage_folder_holds_its_app():
    # The test matrix comes from stages.STAGES: a renamed or emptied folder fails here
    # instead of quietly shrinking the suite.
    for stage in stages.STAGES:
        assert (stage.folder / "app.py").is_file(), f"{stage.folder} has no app.py"
        assert (stage.folder / "README.md").is_file(), f"{stage.folder} has no README.md"
    assert sorted(p.name for p in stages.APP_STEPS.iterdir() if p.is_dir()) == [s.folder.name for s in stages.STAGES]


def test_qr_round_trip():
    assert qr.decode_png(png_of(URI)) == URI
    assert qr.decode_data_uri(data_uri_of(URI)) == URI


def _modules(text):
    """The QR code of ``text`` as rows of 0 (dark) and 1 (light), with a quiet zone, 4 pixels a module."""
    code = pyqrcode.create(text)
    size = len(code.code) + 8
    modules = [[1] * size for _ in range(4)] + [[1] * 4 + [1 - m for m in row] + [1] * 4 for row in code.code] + \
        [[1] * size for _ in range(4)]
    return [[m for m in row for _ in range(4)] for row in modules for _ in range(4)]


@pytest.mark.parametrize("kind", ["grey 1-bit", "grey 2-bit", "grey 8-bit", "grey 16-bit", "RGB", "palette",
                                  "grey and alpha", "RGBA", "RGBA, transparent background"])
def test_every_kind_of_png_is_read(kind):
    # Students may make their QR code with another library: each writes PNGs its own way.
    import png

    rows = _modules(URI)
    size = len(rows)
    if kind.startswith("grey") and "alpha" not in kind:
        depth = int(kind.split()[1].split("-")[0])
        writer = png.Writer(size, size, greyscale=True, bitdepth=depth)
        pixels = [[v * ((1 << depth) - 1) for v in row] for row in rows]
    elif kind == "RGB":
        writer = png.Writer(size, size, greyscale=False)
        pixels = [[c for v in row for c in (v * 255, v * 200, v * 255)] for row in rows]
    elif kind == "palette":
        writer = png.Writer(size, size, palette=[(20, 20, 90), (250, 250, 240)])
        pixels = rows
    elif kind == "grey and alpha":
        writer = png.Writer(size, size, greyscale=True, alpha=True)
        pixels = [[c for v in row for c in (v * 255, 255)] for row in rows]
    elif kind == "RGBA":
        writer = png.Writer(size, size, greyscale=False, alpha=True)
        pixels = [[c for v in row for c in (v * 255, v * 255, v * 255, 255)] for row in rows]
    else:  # black modules on a see-through background: a browser shows white behind them
        writer = png.Writer(size, size, greyscale=False, alpha=True)
        pixels = [[c for v in row for c in ((0, 0, 0, 0) if v else (0, 0, 0, 255))] for row in rows]
    stream = io.BytesIO()
    writer.write(stream, pixels)
    assert qr.decode_png(stream.getvalue()) == URI


@pytest.mark.parametrize("bad", ["data:image/jpeg;base64,AAAA", "data:image/png;base64,@@@"])
def test_bad_data_uri_is_a_clear_error(bad):
    with pytest.raises(qr.QRDecodeError):
        qr.decode_data_uri(bad)


def test_png_without_a_qr_code():
    import png

    blank = io.BytesIO()
    png.Writer(40, 40, greyscale=True).write(blank, [[255] * 40] * 40)
    with pytest.raises(qr.QRDecodeError, match="no QR code"):
        qr.decode_png(blank.getvalue())


def test_phone_scans_a_page_and_shows_the_rfc_code():
    html = f"<html><body><h1>Scan</h1><img src='{data_uri_of(URI)}' alt='qr'></body></html>"
    phone = Phone(clock=lambda: 1_700_000_000)
    account = phone.scan(html)
    assert (account.issuer, account.name) == ("Flask 2FA Workbook", "alice")
    assert phone.code() == totp(account.secret, 1_700_000_000)
    assert phone.seconds_left() == 30 - 1_700_000_000 % 30
    assert phone.code()[:3] in phone.show()


def test_account_names_may_hold_a_colon():
    account = parse_otpauth_uri(URI.replace(":alice", ":team%3Ablue"))
    assert (account.issuer, account.name) == ("Flask 2FA Workbook", "team:blue")
    assert parse_otpauth_uri("otpauth://totp/alice?secret=" + URI.split("secret=")[1]).name == "alice"


def test_page_text_keeps_blocks_apart():
    assert pages.parse("<title>T</title><h1>Head</h1><p>a <b>bold</b>word</p>").text == "T Head a boldword"


def test_phone_rescanning_an_account_replaces_it():
    phone = Phone()
    phone.scan(URI)
    phone.scan(URI.replace("JBSWY3DPEHPK3PXP", "KRSXG5CTMVRXEZLU"))
    assert len(phone.accounts) == 1


@pytest.mark.parametrize("uri, problem", [
    ("otpauth://hotp/x?secret=JBSWY3DPEHPK3PXP&counter=1", "TOTP"),
    ("otpauth://totp/x?issuer=y", "no secret"),
    ("otpauth://totp/x?secret=not*base32!", "base32"),
    ("otpauth://totp/x?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&digits=8", "digits"),
    ("otpauth://totp/x?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&algorithm=SHA256", "algorithm"),
])
def test_phone_refuses_what_authenticator_apps_refuse(uri, problem):
    with pytest.raises(PhoneError, match=problem):
        parse_otpauth_uri(uri)


def test_phone_needs_exactly_one_qr_on_a_page():
    with pytest.raises(PhoneError, match="found 0"):
        Phone().scan("<p>no picture</p>")
    image = f"<img src='{data_uri_of(URI)}'>"
    with pytest.raises(PhoneError, match="found 2"):
        Phone().scan(image * 2)
    with pytest.raises(PhoneError, match="Nothing scanned"):
        Phone().code()


def test_pages_reads_forms_with_hidden_fields():
    page = pages.parse(
        "<form method=POST action='/verify'><input type=hidden name=csrf_token value=abc>"
        "<input name=otp><button type=submit>Go</button></form><ul><li>one <b>1</b></li><li>two</li></ul>"
    )
    form = page.form("otp")
    assert (form.method, form.action) == ("post", "/verify")
    assert form.data(otp="123456") == {"csrf_token": "abc", "otp": "123456"}
    assert page.list_items == ["one 1", "two"]


def test_session_cookie_can_be_read_without_the_key():
    from flask import Flask, session

    app = Flask("cookie_test")
    app.secret_key = "a key the reader does not know"

    @app.get("/")
    def index():
        session["user_id"] = 42
        session["note"] = "x" * 500  # long enough for Flask to compress it
        return "ok"

    client = app.test_client()
    client.get("/")
    assert read_session_cookie(session_cookie(client))["user_id"] == 42


def test_listing_extracts_anchors_without_markers():
    text = "a = 1\n    # ANCHOR: piece\n    b = 2\n    # ANCHOR_END: piece\nc = 3\n"
    assert listings.extract(text, "piece") == "b = 2"
    assert "ANCHOR" not in listings.extract(text)
    with pytest.raises(listings.ListingError):
        listings.extract(text, "missing")


def test_every_stage_file_listing_resolves():
    assert "def normalise_code" in listings.listing(5, "app.py", "normalise")
    with pytest.raises(listings.ListingError):
        listings.listing(5, "no_such_file.py")


def test_proxy_url_on_a_hub(monkeypatch):
    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", "/user/ana/")
    assert run_commands.proxy_url(5005) == "/user/ana/proxy/5005/"
    assert run_commands.proxy_url(5005, base_url="/") == "/proxy/5005/"


def test_two_stage_apps_load_side_by_side(tmp_path):
    six = app_loader.make_stage_app(6, {"TESTING": True, "SECRET_KEY": "k", "DATABASE": str(tmp_path / "6.sqlite")})
    five = app_loader.make_stage_app(5, {"TESTING": True, "SECRET_KEY": "k"})
    assert six.test_client().get("/login").status_code == 200
    assert five.test_client().get("/").status_code == 200
    assert "user_management" not in __import__("sys").modules, "a stage's helper module leaked into sys.modules"


@pytest.mark.parametrize("source, problem", [
    (None, "No app.py"),
    ("def broken(:\n", "SyntaxError"),
    ("x = 1\n", "neither create_app"),
])
def test_app_load_errors_say_what_to_fix(tmp_path, source, problem):
    if source is not None:
        (tmp_path / "app.py").write_text(source)
    with pytest.raises(app_loader.AppLoadError, match=problem):
        app_loader.make_app(tmp_path)


def test_module_level_app_is_accepted(tmp_path):
    (tmp_path / "app.py").write_text("from flask import Flask\napp = Flask(__name__)\n@app.get('/')\ndef i():\n    return 'hi'\n")
    app = app_loader.make_app(tmp_path, {"TESTING": True})
    assert app.config["TESTING"] and app.test_client().get("/").text == "hi"


def test_start_from_never_overwrites_work(tmp_path, capsys):
    folder = tmp_path / "my_app"
    my_app.start_from(5, folder)
    assert (folder / "app.py").is_file() and not (folder / "CHANGES.diff").exists()
    (folder / "app.py").write_text("# my own work\n")
    (folder / "instance").mkdir()
    (folder / "instance" / "users.sqlite").write_text("my data")

    my_app.start_from(7, folder)
    backup = tmp_path / "my_app.before_stage_7"
    assert (backup / "app.py").read_text() == "# my own work\n"
    assert (backup / "instance" / "users.sqlite").read_text() == "my data"
    assert (folder / "app.py").read_text() == (stages.stage(7).folder / "app.py").read_text()
    assert not (folder / "instance").exists()
    out = capsys.readouterr().out
    assert str(backup) in out and "Copied stage 7" in out

    # Twice in a row: the first backup stays as it was, the second gets its own name.
    (folder / "app.py").write_text("# my second try\n")
    my_app.start_from(7, folder)
    assert (backup / "app.py").read_text() == "# my own work\n"
    second = tmp_path / "my_app.before_stage_7.2"
    assert (second / "app.py").read_text() == "# my second try\n"
    assert str(second) in capsys.readouterr().out
    assert (folder / "app.py").read_text() == (stages.stage(7).folder / "app.py").read_text()


def test_start_from_says_what_of_your_own_work_it_replaced(tmp_path, capsys):
    """Catching up from a stage names the student's own functions and pages its copy took the place of: those
    the stage has as the stage before had them (theirs go back as they are), those it rewrote, and those only
    the student had. What is a stage's own code, unchanged, is not theirs, and goes unnamed."""
    folder = my_app.start_from(5, tmp_path / "my_app")
    app_py = folder / "app.py"
    text = app_py.read_text(encoding="utf-8")
    # Their own 5.2 (stage 6 keeps stage 5's in two_factor.py), their own page of errors, a function of their own.
    text = text.replace('    code = raw.replace(" ", "")\n', '    code = "".join(raw.split(" "))\n', 1)
    text = text.replace("\ndef create_app(", "\ndef about():\n    return 'mine'\n\n\ndef create_app(", 1)
    app_py.write_text(text, encoding="utf-8")
    error_page = folder / "templates" / "error.html"
    error_page.write_text(error_page.read_text(encoding="utf-8") + "<!-- my footer -->\n", encoding="utf-8")
    (folder / "templates" / "about.html").write_text("<p>mine</p>\n", encoding="utf-8")
    capsys.readouterr()

    my_app.start_from(6, folder)
    out = capsys.readouterr().out
    fits, rewritten, only_yours = (out.split(title)[1].split("\n\n")[0] for title in (
        "so yours fit as they are", "so its own take the place of yours", "Only in your app"))
    assert "app.py: normalise_code (stage 6 has it in two_factor.py)" in fits
    assert "templates/error.html" in rewritten
    assert "app.py: about" in only_yours and "templates/about.html" in only_yours
    assert "my_app.before_stage_6/" in out
    for untouched in ("qr_data_uri", "provisioning_uri", "README.md", "style.css", "home"):
        assert untouched not in out, f"{untouched} is stage 5's own, unchanged, not the student's work"


def test_start_from_7_names_every_function_lesson_07_brings_back(tmp_path):
    """Lesson 07's step 1 asks the student to bring back ten of their functions (the tests' YOURS_KEPT): written
    their own way, start_from(7) names each of them as one that fits stage 7 as it is."""
    import ast
    import shutil

    from test_lesson_07_build import YOURS_KEPT

    def their_own_way(path):
        """Every function of the file (and every route in create_app) with one more line: the student's version."""
        tree = ast.parse(path.read_text(encoding="utf-8"))
        create_app = [node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == "create_app"]
        for function in [node for node in tree.body + [n for f in create_app for n in f.body]
                         if isinstance(node, ast.FunctionDef)]:
            function.body.insert(1 if ast.get_docstring(function) else 0, ast.Pass())
        path.write_text(ast.unparse(tree), encoding="utf-8")

    app = tmp_path / "my_app"
    shutil.copytree(stages.stage(6).folder, app, ignore=shutil.ignore_patterns("instance", "__pycache__"))
    for module in app.glob("*.py"):
        their_own_way(module)
    replaced = my_app.what_start_from_replaced(app, 7)
    fits = {name.split(" (")[0] for line in replaced.fits for name in line.split(": ", 1)[1].split(", ")}
    assert {name for names in YOURS_KEPT.values() for name in names} <= fits, replaced
    assert "register" in str(replaced.rewritten) and "login" in str(replaced.rewritten)


def test_start_from_leaves_an_untouched_copy_alone(tmp_path, capsys):
    folder = my_app.start_from(6, tmp_path / "my_app")
    capsys.readouterr()
    my_app.start_from(6, folder)
    assert "nothing to do" in capsys.readouterr().out
    assert sorted(path.name for path in tmp_path.iterdir()) == ["my_app"]


@pytest.mark.slow  # runs the stage 5 and 6 behaviour tests in two pytest processes
def test_check_my_app_reports_pass_and_fail(tmp_path, capsys, monkeypatch):
    # The student's own pytest options (a plugin the behaviour tests lack, -x) change nothing.
    monkeypatch.setenv("PYTEST_ADDOPTS", "-p no_such_plugin_anywhere -x")
    folder = my_app.start_from(5, tmp_path / "my_app")
    capsys.readouterr()
    my_app.check_my_app(5, folder)
    assert capsys.readouterr().out.startswith("✅")
    my_app.check_my_app(6, folder)
    assert capsys.readouterr().out.startswith("❌")


def test_environment_check_passes_here_and_pins_match(capsys):
    from workbook.environment import check_environment

    rows = check_environment()
    assert rows and all(row.ok for row in rows), [row.line() for row in rows if not row.ok]
    assert all(row.version == row.pinned for row in rows if row.pinned), "installed versions differ from requirements.txt"
    assert "Everything the workbook needs is installed." in capsys.readouterr().out


def test_environment_check_reports_what_is_missing_without_raising(tmp_path, monkeypatch, capsys):
    from workbook.environment import check_environment

    (tmp_path / "broken_workbook_module.py").write_text("raise ImportError('half installed')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    rows = check_environment([("surely-not-installed-package", "nothing"), ("pyotp", "broken_workbook_module")])
    assert [row.ok for row in rows] == [False, False]
    out = capsys.readouterr().out
    assert "❌" in out and "pip install -r requirements.txt" in out and "half installed" in out


def test_environment_check_finds_jupyterlab_without_importing_it(monkeypatch):
    # Importing JupyterLab's server into a kernel takes seconds: the check only looks for the module,
    # and still reports one that is gone (a package whose files were deleted).
    import sys

    from workbook import environment

    monkeypatch.delitem(sys.modules, "jupyterlab", raising=False)
    [row] = environment.check_environment([("JupyterLab", "jupyterlab")], show=False)
    assert row.ok and "jupyterlab" not in sys.modules
    monkeypatch.setattr(environment, "FOUND_NOT_IMPORTED", {"jupyterlab_is_not_here"})
    [row] = environment.check_environment([("JupyterLab", "jupyterlab_is_not_here")], show=False)
    assert not row.ok and "No module named" in row.note


def test_an_app_edited_between_two_loads_is_loaded_as_edited(tmp_path):
    # Loading compiles each file once per process; an edit, even one that keeps the size and
    # lands in the same clock tick, must still be seen (a student fixing their app and checking again).
    (tmp_path / "helper.py").write_text("ANSWER = 1\n")
    (tmp_path / "app.py").write_text("from helper import ANSWER\nVALUE = 1\n")
    first = app_loader.load_module(tmp_path)
    (tmp_path / "helper.py").write_text("ANSWER = 2\n")
    (tmp_path / "app.py").write_text("from helper import ANSWER\nVALUE = 2\n")
    second = app_loader.load_module(tmp_path)
    assert (first.VALUE, first.ANSWER, second.VALUE, second.ANSWER) == (1, 1, 2, 2)


@pytest.mark.slow  # runs the stage 2 behaviour tests in a pytest process
def test_check_my_app_says_why_each_test_failed_and_where_in_my_app(tmp_path, capsys):
    folder = my_app.start_from(2, tmp_path / "my_app")
    app_py = folder / "app.py"
    text = app_py.read_text(encoding="utf-8")
    anchor = "        secret = secret_for_this_session()\n"
    assert text.count(anchor) == 1
    app_py.write_text(text.replace(anchor, anchor + '        {}["kind_nobody_added"]\n'), encoding="utf-8")
    line = text[:text.index(anchor)].count("\n") + 2
    capsys.readouterr()
    my_app.check_my_app(2, folder)
    out = capsys.readouterr().out
    assert out.startswith("❌")
    assert f"why: KeyError: 'kind_nobody_added'  at my_app/app.py:{line}" in out, out
    failed = [row for row in out.splitlines() if row.startswith(("FAILED", "ERROR"))]
    whys = [row for row in out.splitlines() if row.startswith("    why: ")]
    assert failed and len(whys) == len(failed), out


def test_check_my_app_keeps_the_first_failures_and_says_how_many_more():
    reasons = [{"nodeid": f"tests/stages/test_x.py::test_{n}", "when": "call", "reason": "AssertionError: no",
                "where": "test_x.py:3"} for n in range(20)]
    text = my_app.failure_lines(reasons, "")
    assert text.count("why: AssertionError: no  at test_x.py:3") == my_app.SHOWN_FAILURES
    assert text.splitlines()[0] == "FAILED test_0"
    assert text.splitlines()[-1].startswith("... and 5 more")
