"""Checks for lesson 04: the Jinja template of the enrolment page."""
import base64
import io
import re
import secrets
from html.parser import HTMLParser

import pyotp
import pyqrcode
from flask import Flask, render_template_string

from .. import ISSUER, pages, qr
from ..phone import Phone, PhoneError
from . import exercise, for_all, hidden_check, question
from .student_side import is_plain, plain_result, raised, raised_message, student_side, type_name

SECRET = "HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ"
GROUPED = "HXDM VJEC JJWS RB3H WIZR 4IFU GFTM XBOZ"
PREFIX = "/proxy/5004"          # where the app lives when reached through Jupyter's proxy
ATTACK = "<script>alert(1)</script>"
ATTACK_TAG = "i"                  # a tag in an account name: shown as text when escaped, a real tag when not


# --- 4.1 ------------------------------------------------------------------------------

@exercise("4.1", "Group the manual key in fours", uses=["grouped"])
def check_grouped(grouped):
    got = grouped("JBSWY3DPEHPK3PXP")
    assert type(got) is str, f"return a string, not {type_name(got)}."
    assert got.strip() == got, f"grouped gave {got!r}: no space at the start or the end, only between groups."
    assert got == "JBSW Y3DP EHPK 3PXP", (
        f"grouped('JBSWY3DPEHPK3PXP') gave {got!r}, expected 'JBSW Y3DP EHPK 3PXP': "
        "cut the secret into slices of four (secret[i:i + 4]) and join them with one space."
    )
    got = grouped(SECRET)
    assert got == GROUPED, f"for a 32-character secret you returned {got!r}, expected {GROUPED!r}."
    got = grouped("ABCDEFGHIJ")
    assert got == "ABCD EFGH IJ", (
        f"grouped('ABCDEFGHIJ') gave {got!r}: when the length is not a multiple of four, the last "
        "group is just shorter ('ABCD EFGH IJ'), with no space at the end."
    )


    from hypothesis import strategies as st

    def any_secret(secret):
        got = grouped(secret)
        expected = " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
        assert got == expected, (
            f"grouped({secret!r}) gave {got!r}, expected {expected!r}: groups of four of the secret you are "
            "given, whatever its length (not only the examples above, nor an answer kept from an earlier call)."
        )
    for_all(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", max_size=48), any_secret)


@hidden_check("4.1")
def check_grouped_edges(grouped):
    assert grouped("") == "", "an empty secret should give an empty string."
    secret = pyotp.random_base32()
    got = plain_result(grouped(secret), "grouped(secret)")
    assert type(got) is str and got.replace(" ", "") == secret, "removing the spaces must give back exactly the secret."
    assert all(len(group) == 4 for group in got.split(" ")), "every group of a 32-character secret has 4 characters."


# --- 4.2 ------------------------------------------------------------------------------

def qr_data_uri_for(secret, account_name):
    uri = pyotp.TOTP(secret).provisioning_uri(name=account_name, issuer_name=ISSUER)
    picture = io.BytesIO()
    pyqrcode.create(uri, error="M").png(picture, scale=5)
    return uri, "data:image/png;base64," + base64.b64encode(picture.getvalue()).decode("ascii")


def render_as_flask_would(template, **values):
    """Render ``template`` like the home view of an app served under PREFIX (as behind Jupyter's proxy).

    It runs where the student's code runs (a template is code: the grader never renders one itself)."""
    app = Flask("lesson_04_check")

    @app.route("/", methods=["GET", "POST"])
    def home():
        return ""

    with app.test_request_context("/", base_url=f"http://localhost{PREFIX}/"):
        return render_template_string(template, **values)


def _endpoint_missing(error):
    """The hint for a url_for that found no view (werkzeug's BuildError), else None."""
    if not raised(error, "BuildError"):
        return None
    endpoint = re.search(r"endpoint '([^']*)'", raised_message(error))
    return endpoint.group(1) if endpoint else "home"


def _render(template, **values):
    """The page ``template`` makes, rendered where the student's code runs, a url_for that fails as a hint."""
    lesson = student_side.module("workbook.checks.lesson_04")
    try:
        return plain_result(lesson.render_as_flask_would(template, **values), "rendering your template")
    except Exception as error:
        endpoint = _endpoint_missing(error)
        if endpoint is None:
            raise
        raise AssertionError(
            f"url_for could not find the endpoint {endpoint!r}: the page's route is the view "
            "function home, so write url_for('home')."
        ) from None


def check_rendered_page(html, uri, account_name, manual_key):
    page = pages.parse(html)
    images = page.data_uri_images()
    assert len(images) == 1, (
        f"the page should have exactly one <img> whose src is the QR code's data URI, found {len(images)}: "
        "the qr_code value is that whole data URI (the exercise's second bullet)."
    )
    try:
        decoded = qr.decode_data_uri(images[0])
    except qr.QRDecodeError as error:
        raise AssertionError(
            f"the image does not decode as a QR code ({error}): qr_code is already a whole data URI, "
            "so the src needs nothing added in front."
        ) from None
    assert decoded == uri, "the QR code on the page is not the one passed in as qr_code."
    image = next(img for img in page.images if img.get("src") == images[0])
    assert image.get("alt", "").strip(), (
        "give the <img> a non-empty alt text: it is what a screen reader says, and what shows when "
        "the picture cannot load."
    )
    form = page.form("otp")
    assert form is not None, 'add a <form> with an <input name="otp">: the name is the key the server reads.'
    assert form.method == "post", (
        f'the form\'s method is {form.method!r}: use method="post", so the code is sent in the request '
        "body and not in the address bar."
    )
    assert form.action != "/index.html", (
        'the form posts to "/index.html", like the guide\'s: that is a file name, not a route of this app. '
        "Let Flask write the address of the page's view (the section \"The guide's form posts to a file name\")."
    )
    assert not (form.action or "").startswith(("http:", "https:", "//")), (
        f"the form posts to the full address {form.action!r}: behind a proxy the host and scheme the app sees are "
        "not the browser's, so leave out _external; url_for('home') alone gives the path, which is all a form needs."
    )
    assert form.action in (None, f"{PREFIX}/"), (
        f"the form posts to {form.action!r}, but behind Jupyter's proxy this page lives at {PREFIX}/: "
        "an address typed by hand breaks there; let Flask write it (the section \"The guide's form posts to a "
        "file name\")."
    )
    assert manual_key.replace(" ", "") in page.compact_text(), (
        "the manual-entry key is not on the page: show the manual_key value, for people who cannot scan."
    )
    assert manual_key in page.text, "show the manual key as it was passed in, groups of four with spaces."
    return page


@exercise("4.2", "Write the enrolment template", uses=["enrolment_template"])
def check_enrolment_template(enrolment_template):
    template = enrolment_template()
    assert type(template) is str, f"return the template as a string, not {type_name(template)}."
    assert "{{" in template, "the template should use Jinja placeholders like {{ qr_code }}."
    uri, data_uri = qr_data_uri_for(SECRET, "student")
    html = _render(template, account_name=ATTACK, qr_code=data_uri, manual_key=GROUPED)
    assert "<script>" not in html, (
        "the username <script>alert(1)</script> reached the page as a real <script> tag: never use "
        "|safe (or Markup) on anything a user typed; plain {{ account_name }} is escaped for you."
    )
    page = check_rendered_page(html, uri, ATTACK, GROUPED)
    assert ATTACK in page.text, (
        "the account name is not on the page: the heading should name it (the exercise's first bullet)."
    )
    check_heading_names(html, ATTACK)
    check_otp_input(html)
    html = _render(template, account_name="ana", qr_code=data_uri, manual_key="<b>KEY</b>")
    assert "<b>" not in html, (
        "the manual key reached the page as HTML (<b>KEY</b> became bold): no |safe on any value, "
        "let Jinja escape it."
    )


class _InputFinder(HTMLParser):
    """The page's inputs and labels (their attributes), and the words of each label and heading."""
    HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}

    def __init__(self):
        super().__init__()
        self.inputs, self.labels, self.label_words, self.headings = [], [], [], []
        self._open = []   # the labels and headings the parser is inside: lists their words go into

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input":
            self.inputs.append(attrs)
        elif tag == "label":
            self.labels.append(attrs)
            self.label_words.append([])
            self._open.append(("label", self.label_words[-1]))
        elif tag in self.HEADINGS:
            self.headings.append([])
            self._open.append((tag, self.headings[-1]))

    def handle_endtag(self, tag):
        if self._open and self._open[-1][0] == tag:
            self._open.pop()

    def handle_data(self, data):
        for _, words in self._open:
            words.append(data)


def _words(parts):
    return " ".join("".join(parts).split())


def check_heading_names(html, account_name):
    finder = _InputFinder()
    finder.feed(html)
    headings = [_words(parts) for parts in finder.headings]
    assert headings, "the page has no heading (<h1>...</h1>): the exercise asks for one that names the account."
    assert any(" ".join(account_name.split()) in heading for heading in headings), (
        f"the heading does not name the account: it says {headings[0]!r}. The heading is what a screen reader "
        "announces first and what a user checks before scanning: put the account name in it (the exercise's "
        "first bullet)."
    )


def check_otp_input(html):
    finder = _InputFinder()
    finder.feed(html)
    otp = next((attrs for attrs in finder.inputs if attrs.get("name") == "otp"), None)
    assert otp is not None, 'there is no <input name="otp">.'
    assert otp.get("inputmode") == "numeric", (
        "phones show a full keyboard for the code field: one attribute of the input asks for a number pad "
        "(the exercise's last bullet; MDN's page on inputmode).")
    assert otp.get("autocomplete") == "one-time-code", (
        "browsers and phones do not know the field is for a one-time code, so they cannot offer the code from a "
        "text message: the exercise's last bullet names the autocomplete value (MDN's page on autocomplete)."
    )
    assert otp.get("type", "text") != "number", (
        "a code is not a number (it can start with 0, and a number field may drop it or add arrows): keep the "
        "input a text field and ask for the number pad another way (the exercise's last bullet)."
    )
    assert otp.get("id") and any(label.get("for") == otp["id"] for label in finder.labels), (
        "the code field has no label tied to it: a screen reader cannot say what it is for. Tie a <label> to the "
        "input (MDN's page on <label> shows how its for attribute works)."
    )
    named = [_words(words) for label, words in zip(finder.labels, finder.label_words, strict=True)
             if label.get("for") == otp["id"]]
    assert any(named), (
        "the label says nothing: a <label> with no words gives a screen reader nothing to announce for the "
        "field. Write what the field is for between <label ...> and </label>."
    )


@hidden_check("4.2")
def check_enrolment_template_details(enrolment_template):
    template = plain_result(enrolment_template(), "enrolment_template()")
    assert type(template) is str, f"return the template as a string, not {type_name(template)}."
    uri, data_uri = qr_data_uri_for(SECRET, "O'Brien & \"Bo\"")
    html = _render(template, account_name="O'Brien & \"Bo\"", qr_code=data_uri, manual_key=GROUPED)
    page = check_rendered_page(html, uri, "O'Brien & \"Bo\"", GROUPED)
    assert "O'Brien & \"Bo\"" in page.text, "a name with quotes and & must show on the page exactly as typed."
    # A secret and a name drawn for this run: the page must show what it is given, whatever it is.
    secret, name = pyotp.random_base32(), "<i>" + secrets.token_urlsafe(6) + "</i>"
    uri, data_uri = qr_data_uri_for(secret, name)
    key = " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
    html = _render(template, account_name=name, qr_code=data_uri, manual_key=key)
    assert "<i>" not in html, "a name drawn for this run reached the page as HTML: no |safe, let Jinja escape it."
    page = check_rendered_page(html, uri, name, key)
    assert name in page.text, "show the account name you are given on the page, in the heading."
    check_heading_names(html, name)


# --- 4.3 ------------------------------------------------------------------------------

def _check_enrolment_app(create_enrolment_app, secret, account, earlier_secret=None):
    """Open / of the app create_enrolment_app(secret, account) makes, and look at what it serves.

    ``earlier_secret``: the secret of an earlier call in the same check, to name an app kept between calls."""
    manual_key = " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
    app = create_enrolment_app(secret, account)
    kind = type_name(app)
    assert not is_plain(app), f"return the Flask app, not {kind}."
    try:
        app.config["TESTING"] = True   # let errors in your view reach this check instead of a bare 500
        client = app.test_client()
    except Exception as error:
        if not raised(error, "AttributeError", "TypeError"):
            raise
        raise AssertionError(f"return the Flask app, not {kind}.") from None
    try:
        response = client.get("/")
    except Exception as error:
        endpoint = _endpoint_missing(error)
        if endpoint is not None:
            raise AssertionError(
                f"url_for({endpoint!r}) found no such view: name the view function home "
                "(def home():), the name your template's url_for('home') looks for."
            ) from None
        if "base32" in raised_message(error):
            raise AssertionError(
                f"opening / raised {raised_message(error)!r}: something that is not a base32 secret reached pyotp. "
                "Check the order of the arguments: provisioning_uri(secret, account_name)."
            ) from None
        if raised(error, "TypeError"):
            raise AssertionError(
                f"opening / raised TypeError ({raised_message(error)}): the view must return the page, then a "
                "dict of headers (a view may return a tuple of the two)."
            ) from None
        raise
    status, data = response.status_code, plain_result(response.data, "the page's response.data")
    assert status == 200, f"GET / answered {status}, expected 200."
    try:
        scanned = Phone().scan(data)
    except (PhoneError, qr.QRDecodeError) as error:
        hint = ("" if "otpauth://" not in str(error) else
                ": the QR code must hold the otpauth:// address that provisioning_uri(secret, account_name) makes, "
                "drawn by qr_data_uri")
        raise AssertionError(f"the phone could not scan the page: {error}{hint}") from None
    assert earlier_secret is None or scanned.secret != earlier_secret, (
        "the app shows the secret of an earlier call to create_enrolment_app: an app kept from an earlier call. "
        "Make a new app on every call, for the secret you are given."
    )
    assert scanned.secret == secret, (
        "the QR code holds another secret than the one create_enrolment_app was given."
    )
    assert scanned.issuer == ISSUER and scanned.name == account, (
        f"the phone shows {scanned.issuer!r} ({scanned.name!r}); expected {ISSUER!r} ({account!r}): "
        "build the QR code from provisioning_uri(secret, account_name)."
    )
    assert "<" not in account or account.encode() not in data, (
        "the account name reached the page as HTML (a name with a tag in it became a real tag): never wrap a value "
        "a user typed in Markup, or mark it |safe; pass the plain string and let Jinja escape it."
    )
    page = pages.parse(data)
    assert manual_key in page.text, "the page should show the secret in groups of four: pass manual_key=grouped(secret)."
    assert account in page.text, "the heading should name the account: pass account_name to the template."
    form = page.form("otp")
    assert form is not None and form.method == "post", "the page should hold your template's POST form with an otp field."
    assert form.action in (None, "/"), f"the form posts to {form.action!r}: use url_for('home'), and call the view home."
    cache = plain_result(response.headers.get("Cache-Control", ""), "the response's headers")
    assert "no-store" in str(cache).lower(), (
        "this page shows a secret, so no browser or proxy may keep a copy: answer with the header "
        "Cache-Control: no-store (a view may return the page, then a dict of headers)."
    )


@exercise("4.3", "Serve the page from a route", uses=["create_enrolment_app"])
def check_create_enrolment_app(create_enrolment_app):
    # A secret and an account drawn for this run: the page must show what the app was given. A second call,
    # with another secret and a name holding a tag and a letter outside ASCII, finds an app kept between calls, a
    # name marked safe and a name squeezed to ASCII.
    first = pyotp.random_base32()
    _check_enrolment_app(create_enrolment_app, first, "ana." + secrets.token_hex(3))
    _check_enrolment_app(create_enrolment_app, pyotp.random_base32(),
                         f"<{ATTACK_TAG}>Zoë.{secrets.token_hex(3)}</{ATTACK_TAG}>", earlier_secret=first)


@hidden_check("4.3")
def check_create_enrolment_app_fixed(create_enrolment_app):
    _check_enrolment_app(create_enrolment_app, SECRET, "ana")


# --- questions ----------------------------------------------------------------------

question(
    "4.Q1", "What HttpOnly does against an injected script",
    prompt="An app forgets to escape one username, so an attacker's `<script>` runs in the pages its users "
           "see. Its session cookie is marked `HttpOnly`. What can that script do?",
    options={
        "a": "Nothing harmful: HttpOnly stops cross-site scripting.",
        "b": "Anything the user could do on that page: read it, and send forms as the user, whose browser "
             "adds the cookie.",
        "c": "Only read the cookie and send it to the attacker.",
        "d": "Nothing that changes data: forms are only sent when the user clicks.",
    },
    answer="b",
    why_not={
        "a": "HttpOnly does not stop the script from running. It only hides the cookie from scripts; the script "
             "still acts in the user's logged-in page. Escaping every value is what stops XSS.",
        "c": "reading the cookie is the one thing HttpOnly does stop. The script needs no cookie: the browser "
             "attaches it to every request the page sends.",
        "d": "a script can send a form by itself (form.submit(), fetch()), with no click at all.",
    },
)
