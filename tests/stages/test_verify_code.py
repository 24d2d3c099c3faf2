"""Stage 5: POST / checks the code against the secret in the QR code."""
import pytest

from workbook import pages
from workbook.visitor import submit_form

pytestmark = pytest.mark.stages(5)


@pytest.fixture
def scanned(client, authenticator):
    """A browser that has opened the page and a phone that has scanned its QR code (``.page``: the page open)."""
    authenticator.page = client.get("/")
    authenticator.scan(authenticator.page.data)
    return authenticator


def test_right_code_enables_2fa(client, scanned):
    response = submit_form(client, "/", {"otp": scanned.code()}, page=scanned.page, follow_redirects=True)
    assert response.status_code == 200
    assert "enabled" in pages.parse(response.data).text.lower()


def test_code_as_the_app_shows_it_with_a_space(client, scanned):
    code = scanned.code()
    response = submit_form(client, "/", {"otp": f"{code[:3]} {code[3:]}"}, page=scanned.page,
                           follow_redirects=True)
    assert response.status_code == 200


@pytest.mark.parametrize("steps", [-1, 1])
def test_one_step_either_side_is_accepted(client, scanned, steps):
    response = submit_form(client, "/", {"otp": scanned.code(steps)}, page=scanned.page, follow_redirects=True)
    assert response.status_code == 200, "valid_window=1: a phone a little fast or slow still works"


@pytest.mark.parametrize("steps", [-2, 2])
def test_two_steps_away_is_refused(client, scanned, steps):
    if scanned.code(steps) in {scanned.code(s) for s in (-1, 0, 1)}:
        pytest.fail("fixed clock chosen badly: codes collide")
    response = submit_form(client, "/", {"otp": scanned.code(steps)}, page=scanned.page)
    assert 400 <= response.status_code < 500


def test_wrong_code_shows_the_form_again(client, scanned):
    response = submit_form(client, "/", {"otp": scanned.wrong_code()}, page=scanned.page)
    assert 400 <= response.status_code < 500
    page = pages.parse(response.data)
    assert page.form("otp") is not None, "show the form again so the user can retry"
    assert "Traceback" not in page.text


def test_wrong_code_keeps_the_same_secret(client, scanned):
    submit_form(client, "/", {"otp": scanned.wrong_code()}, page=scanned.page)
    assert submit_form(client, "/", {"otp": scanned.code()}, follow_redirects=True).status_code == 200


MALFORMED = {
    "empty": "",
    "five digits": "12345",
    "seven digits": "1234567",
    "letters": "abcdef",
    "fullwidth digits": "１２３４５６",
    "Arabic-Indic digits": "١٢٣٤٥٦",
    "trailing newline": "123456\n",
    "oversized": "1" * 5000,
}


@pytest.mark.parametrize("value", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_code_is_a_400_with_the_form(client, scanned, value):
    response = submit_form(client, "/", {"otp": value}, page=scanned.page)
    assert response.status_code == 400
    assert pages.parse(response.data).form("otp") is not None


def test_missing_field_is_a_400(client, scanned):
    fields = pages.parse(scanned.page.data).form("otp").fields
    fields.pop("otp")
    assert client.post("/", data=fields).status_code == 400


def test_right_digits_in_other_scripts_are_refused(client, scanned):
    # "１２３４５６" passes str.isdigit(); only ASCII digits are a code.
    fullwidth = scanned.code().translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    assert submit_form(client, "/", {"otp": fullwidth}, page=scanned.page).status_code == 400


def test_post_before_any_qr_code_is_a_4xx(app):
    response = app.test_client().post("/", data={"otp": "123456"})
    assert 400 <= response.status_code < 500
