"""What every stage's pages must do, whatever else the stage adds."""
import re

import pytest

from workbook import pages
from workbook.cookies import read_session_cookie, session_cookie
from workbook.testing.app_under_test import make_app

from stage_helpers import secret_on_page

pytestmark = pytest.mark.stages(1, 2, 3, 4, 5, 6, 7)


def test_home_page_answers(client):
    response = client.get("/", follow_redirects=True)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert pages.parse(response.data).text, "the page shows no text at all"


def test_unknown_page_is_a_clear_404(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert b"Traceback" not in response.data


@pytest.mark.stages(1)
def test_install_page_lists_each_library_with_its_version(client):
    from importlib import metadata

    text = pages.parse(client.get("/").data).text
    for name in ("Flask", "pyotp", "PyQRCode", "pypng"):
        version = metadata.version(name)
        assert re.search(rf"{re.escape(name)}\s*:?\s*{re.escape(version)}", text, re.I), (
            f"the page should name {name} and its version {version}"
        )


@pytest.mark.stages(2, 3, 4, 5)
def test_source_has_no_hard_coded_secret_key(target):
    folder, _ = target
    source = (folder / "app.py").read_text(encoding="utf-8")
    assert "my_secret_key" not in source
    assert not re.search(r"secret_key\s*=\s*['\"]", source), "the session key is a string in the source"


@pytest.mark.stages(2, 3, 4, 5)
def test_secret_key_comes_from_the_environment(target, environment, tmp_path):
    environment.set("FLASK_SECRET_KEY", "from the environment")
    app = make_app(target[0], {"TESTING": True, "DATABASE": str(tmp_path / "db.sqlite")})
    assert app.secret_key == "from the environment"


@pytest.mark.stages(2, 3, 4, 5)
def test_without_a_key_each_run_makes_its_own(target, environment, tmp_path, app_log):
    environment.delete("FLASK_SECRET_KEY")
    first = make_app(target[0], {"TESTING": True})
    second = make_app(target[0], {"TESTING": True})
    assert first.secret_key and second.secret_key
    assert first.secret_key != second.secret_key
    assert "FLASK_SECRET_KEY" in app_log.text, "a missing key should be reported, not silently replaced"


@pytest.mark.stages(2, 3, 4, 5)
def test_a_session_keeps_one_secret(client):
    first = secret_on_page(client.get("/").data)
    assert secret_on_page(client.get("/").data) == first, "a second visit showed a different secret"


@pytest.mark.stages(2, 3, 4, 5)
def test_two_browsers_get_two_secrets(app):
    assert secret_on_page(app.test_client().get("/").data) != secret_on_page(app.test_client().get("/").data)


@pytest.mark.stages(2, 3, 4, 5)
def test_session_cookie_holds_no_secret(client):
    secret = secret_on_page(client.get("/").data)
    cookie = session_cookie(client)
    assert cookie is not None, "the app should keep a session to remember this browser's secret"
    assert secret not in cookie
    assert secret not in str(read_session_cookie(cookie))


@pytest.mark.stages(2, 3, 4, 5)
def test_pages_with_a_secret_are_not_cached(client):
    assert "no-store" in client.get("/").headers.get("Cache-Control", "")


ROUTES = {
    1: ["/"], 2: ["/"], 3: ["/"], 4: ["/"], 5: ["/"],
    6: ["/", "/register", "/login", "/enable-2fa", "/verify-2fa", "/dashboard", "/logout"],
    7: ["/", "/register", "/login", "/enable-2fa", "/verify-2fa", "/dashboard", "/logout",
        "/recovery-codes", "/replace-phone", "/change-password"],
}
ROUTES[8] = ROUTES[7] + ["/passkeys", "/passkeys/register/options", "/passkeys/register/verify",
                         "/passkeys/login/options", "/passkeys/login/verify", "/passkeys/1/delete", "/passkeys/only"]
JUNK = {
    "no body": {},
    "empty fields": {"data": {"otp": "", "username": "", "password": "", "recovery_code": ""}},
    "binary": {"data": b"\xff\xfe\x00otp=\x00\x01", "content_type": "application/x-www-form-urlencoded"},
    "json": {"json": {"otp": 123456, "username": ["a"], "password": None}},
    "repeated fields": {"data": {"otp": ["123456", "654321"], "username": ["a", "b"]}},
    "big field": {"data": {"otp": "9" * 100_000, "username": "u" * 100_000, "password": "p" * 100_000}},
}


@pytest.mark.parametrize("junk", JUNK.values(), ids=JUNK.keys())
def test_junk_never_causes_a_500(client, stage, junk):
    for method in ("get", "post"):
        for url in ROUTES[stage]:
            response = getattr(client, method)(url, **junk)
            assert response.status_code < 500, f"{method.upper()} {url} with junk gave {response.status_code}"
            assert b"Traceback" not in response.data
