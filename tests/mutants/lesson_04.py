"""Answers to lesson 04's exercises."""
from . import Mutant


def template(heading="<h1>Turn on 2FA for {{ account_name }}</h1>",
             image='<img src="{{ qr_code }}" alt="QR code for your authenticator app">',
             key="<code>{{ manual_key }}</code>",
             form='<form method="post" action="{{ url_for(\'home\') }}">',
             field='<input id="otp" name="otp" inputmode="numeric" autocomplete="one-time-code">',
             label='<label for="otp">Six-digit code from the app</label>'):
    """An enrolment_template answer, with one part changed."""
    page = f"""{heading}
{image}
<p>No camera? Type this key into the app instead: {key}</p>
{form}
  {label}
  {field}
  <button type="submit">Turn on 2FA</button>
</form>"""
    return f'def enrolment_template():\n    return """{page}"""\n'


def enrolment_app(view_name="home", route="/", headers='{"Cache-Control": "no-store"}',
                  account="account_name", key="grouped(secret)"):
    """A create_enrolment_app answer, with one part changed."""
    return f"""
def create_enrolment_app(secret, account_name="student"):
    app = Flask("enrolment_page")

    @app.get("{route}")
    def {view_name}():
        page = render_template_string(
            enrolment_template(),
            account_name={account},
            qr_code=qr_data_uri(provisioning_uri(secret, {account})),
            manual_key={key},
        )
        return page, {headers}

    return app
"""


MUTANTS = [
    Mutant("4.1", "slices of four joined by spaces", """
def grouped(secret):
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
""", True),
    Mutant("4.1", "textwrap", """
import textwrap
def grouped(secret):
    return " ".join(textwrap.wrap(secret, 4))
""", True),
    Mutant("4.1", "a space after every group", """
def grouped(secret):
    return "".join(secret[i:i + 4] + " " for i in range(0, len(secret), 4))
""", False, "no space at the start or the end"),
    Mutant("4.1", "a short last group dropped", """
def grouped(secret):
    return " ".join(secret[i:i + 4] for i in range(0, len(secret) - 3, 4))
""", False, "the last group is just shorter"),
    Mutant("4.1", "groups of five", """
def grouped(secret):
    return " ".join(secret[i:i + 5] for i in range(0, len(secret), 5))
""", False, "cut the secret into slices of four"),

    Mutant("4.2", "escaped values, url_for, the input's hints", template(), True),
    Mutant("4.2", "the account name marked |safe", template(heading="<h1>Turn on 2FA for {{ account_name|safe }}</h1>"),
           False, "never use |safe"),
    Mutant("4.2", "the manual key marked |safe", template(key="<code>{{ manual_key|safe }}</code>"),
           False, "the manual key reached the page as HTML"),
    Mutant("4.2", "the guide's /index.html action", template(form='<form method="post" action="/index.html">'),
           False, "that is a file name, not a route"),
    Mutant("4.2", "a GET form", template(form='<form method="get" action="{{ url_for(\'home\') }}">'),
           False, 'use method="post"'),
    Mutant("4.2", "a hard-coded action", template(form='<form method="post" action="/">'),
           False, "behind Jupyter's proxy"),
    Mutant("4.2", "a number input",
           template(field='<input id="otp" name="otp" type="number" inputmode="numeric" autocomplete="one-time-code">'),
           False, "a code is not a number"),
    Mutant("4.2", "the data URI prefix added again",
           template(image='<img src="data:image/png;base64,{{ qr_code }}" alt="QR code">'),
           False, "nothing added in front"),
    Mutant("4.2", "no alt text", template(image='<img src="{{ qr_code }}">'), False, "non-empty alt text"),

    # Passed the check on the walk of 2026-12-05: the name moved out of the heading, a label with no words.
    Mutant("4.2", "a heading without the account name (the name in a <p>)",
           template(heading="<h1>Turn on 2FA</h1>\n<p>Account: {{ account_name }}</p>"),
           False, "the heading does not name the account"),
    Mutant("4.2", "an empty label", template(label='<label for="otp"></label>'), False, "the label says nothing"),
    Mutant("4.2", "a label with only spaces and a tag", template(label='<label for="otp"> <span></span> </label>'),
           False, "the label says nothing"),

    Mutant("4.3", "view home at /, no-store", enrolment_app(), True),
    Mutant("4.3", "no Cache-Control header", enrolment_app(headers="{}"), False, "Cache-Control: no-store"),
    Mutant("4.3", "no-cache instead of no-store", enrolment_app(headers='{"Cache-Control": "no-cache"}'),
           False, "Cache-Control: no-store"),
    Mutant("4.3", "a view with another name", enrolment_app(view_name="enrol"), False, "name the view function home"),
    Mutant("4.3", "the key not grouped", enrolment_app(key="secret"), False, "manual_key=grouped(secret)"),
    Mutant("4.3", "always the account 'student'", enrolment_app(account='"student"'), False,
           "build the QR code from provisioning_uri(secret, account_name)"),
    Mutant("4.3", "served at /enrol", enrolment_app(route="/enrol"), False, "GET / answered 404"),

    Mutant("4.Q1", 'the right option, b', 'answer_4_q1 = "b"\n', True),
    Mutant("4.Q1", "(a) HttpOnly stops XSS", 'answer_4_q1 = "a"\n', False,
           "HttpOnly does not stop the script from running"),
    Mutant("4.Q1", "(c) the script can only steal the cookie", 'answer_4_q1 = "c"\n', False,
           "reading the cookie is the one thing HttpOnly does stop"),
    Mutant("4.Q1", "(d) forms need a click", 'answer_4_q1 = "d"\n', False,
           "a script can send a form by itself"),

    # Wrong answers written from the lesson text alone, independently of the checks.
    Mutant("4.1", "a table of the examples, 32 characters otherwise", """
KNOWN = {"JBSWY3DPEHPK3PXP": "JBSW Y3DP EHPK 3PXP", "ABCDEFGHIJ": "ABCD EFGH IJ"}

def grouped(secret):
    return KNOWN.get(secret) or " ".join(secret[i:i + 4] for i in range(0, 32, 4))
""", False, "whatever its length"),
    Mutant("4.1", "the secret's length kept from the first call", """
_length = []

def grouped(secret):
    if not _length:
        _length.append(len(secret))
    return " ".join(secret[i:i + 4] for i in range(0, max(_length[0], 32), 4))
""", False, "no space at the start or the end"),

    # Tuned to the check's own inputs (issue 20): the drawn secret and account find them out.
    Mutant("4.3", "the check's account 'ana' kept", enrolment_app(account='"ana"'), False,
           "build the QR code from provisioning_uri(secret, account_name)"),
]

# Issue 22, second catalogue (2026-12-06): written from the lesson text
MUTANTS += [
    Mutant("4.1", "findall of one to four characters", """
import re
def grouped(secret):
    return " ".join(re.findall(".{1,4}", secret))
""", True),
    Mutant("4.1", "zip_longest of four iterators", """
import itertools
def grouped(secret):
    return " ".join("".join(group) for group in itertools.zip_longest(*[iter(secret)] * 4, fillvalue=""))
""", True),
    Mutant("4.1", "spaces inserted while walking the growing string", """
def grouped(secret):
    spaced = secret
    for i in range(4, len(secret), 4):
        spaced = spaced[:i] + " " + spaced[i:]
    return spaced
""", False, "cut the secret into slices of four"),
    Mutant("4.1", "grouped from the end, like thousands", """
def grouped(secret):
    groups = []
    while secret:
        groups.insert(0, secret[-4:])
        secret = secret[:-4]
    return " ".join(groups)
""", False, "the last group is just shorter"),
    Mutant("4.1", "textwrap.fill, one group a line", """
import textwrap
def grouped(secret):
    return textwrap.fill(secret, 4)
""", False, "join them with one space"),
    Mutant("4.1", "findall of exactly four", """
import re
def grouped(secret):
    return " ".join(re.findall(".{4}", secret))
""", False, "the last group is just shorter"),
    Mutant("4.1", "a space in front of every fourth character", """
def grouped(secret):
    return "".join((" " if i % 4 == 0 else "") + c for i, c in enumerate(secret))
""", False, "no space at the start or the end"),
    Mutant("4.1", "the answer kept per length", """
_by_length = {}

def grouped(secret):
    if len(secret) not in _by_length:
        _by_length[len(secret)] = " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
    return _by_length[len(secret)]
""", False, "kept from an earlier call"),

    Mutant("4.2", "an h2, single-quoted attributes, the label after the box",
           template(heading="<h2>Protect {{ account_name }} with 2FA</h2>",
                    form="<form action='{{ url_for(\"home\") }}' method='post'>",
                    field="<input autocomplete='one-time-code' inputmode='numeric' name='otp' id='otp'>",
                    label="<label for='otp'>the code your app shows</label>"), True),
    Mutant("4.2", "autoescaping switched off around the page",
           template(heading="{% autoescape false %}<h1>Turn on 2FA for {{ account_name }}</h1>{% endautoescape %}"),
           False, "never use |safe"),
    Mutant("4.2", "the account name |safe in the alt text",
           template(image='<img src="{{ qr_code }}" alt="QR code for {{ account_name|safe }}">'),
           False, "never use |safe"),
    Mutant("4.2", "a label for another id", template(label='<label for="code">Six-digit code</label>'),
           False, "no label tied to it"),
    Mutant("4.2", "no inputmode",
           template(field='<input id="otp" name="otp" autocomplete="one-time-code">'), False, "asks for a number pad"),
    Mutant("4.2", "autocomplete off, to be safe",
           template(field='<input id="otp" name="otp" inputmode="numeric" autocomplete="off">'),
           False, "names the autocomplete value"),
    Mutant("4.2", "the field named code",
           template(field='<input id="otp" name="code" inputmode="numeric" autocomplete="one-time-code">'),
           False, 'name="otp"'),
    Mutant("4.2", "the manual key's spaces taken out", template(key="<code>{{ manual_key|replace(' ', '') }}</code>"),
           False, "as it was passed in"),
    Mutant("4.2", "the guide's {{ value }} in the heading", template(heading="<h1>Turn on 2FA for {{ value }}</h1>"),
           False, "the heading should name it"),

    Mutant("4.3", "no-store set in an after_request hook", """
def create_enrolment_app(secret, account_name="student"):
    app = Flask(__name__)

    @app.after_request
    def no_store(response):
        response.headers["Cache-Control"] = "no-store"
        return response

    @app.route("/")
    def home():
        uri = provisioning_uri(secret, account_name)
        return render_template_string(enrolment_template(), account_name=account_name,
                                      qr_code=qr_data_uri(uri), manual_key=grouped(secret))

    return app
""", True),
    Mutant("4.3", "a new secret drawn in the view", """
def create_enrolment_app(secret, account_name="student"):
    app = Flask("enrolment_page")

    @app.get("/")
    def home():
        fresh = pyotp.random_base32()
        page = render_template_string(enrolment_template(), account_name=account_name,
                                      qr_code=qr_data_uri(provisioning_uri(fresh, account_name)),
                                      manual_key=grouped(fresh))
        return page, {"Cache-Control": "no-store"}

    return app
""", False, "another secret than the one create_enrolment_app was given"),
    Mutant("4.3", "the QR code of the bare secret", enrolment_app().replace(
        "qr_data_uri(provisioning_uri(secret, account_name))", "qr_data_uri(secret)"),
        False, "the QR code must hold the otpauth:// address"),
    Mutant("4.3", "provisioning_uri's arguments swapped", enrolment_app().replace(
        "provisioning_uri(secret, account_name)", "provisioning_uri(account_name, secret)"),
        False, "Check the order of the arguments"),
    Mutant("4.3", "the account name passed as Markup", "from markupsafe import Markup\n" + enrolment_app(
        account="Markup(account_name)"), False, "never wrap a value a user typed in Markup"),
    Mutant("4.3", "one app kept for every call", """
_apps = []

def create_enrolment_app(secret, account_name="student"):
    if _apps:
        return _apps[0]
    app = Flask("enrolment_page")

    @app.get("/")
    def home():
        page = render_template_string(enrolment_template(), account_name=account_name,
                                      qr_code=qr_data_uri(provisioning_uri(secret, account_name)),
                                      manual_key=grouped(secret))
        return page, {"Cache-Control": "no-store"}

    _apps.append(app)
    return app
""", False, "an app kept from an earlier call"),
]
MUTANTS += [
    # Free input to a question: two letters to be safe, or the letter in a list.
    Mutant("4.Q1", "two letters, to be safe", 'answer_4_q1 = "bc"\n', False, "the letter of one option"),
    Mutant("4.Q1", "the letter in a list", 'answer_4_q1 = ["b"]\n', False, "the letter of one option"),
]
MUTANTS += [
    # More of the second catalogue: a full address from url_for, a header's directive in capitals.
    Mutant("4.2", "url_for with _external=True",
           template(form='<form method="post" action="{{ url_for(\'home\', _external=True) }}">'),
           False, "_external"),
    Mutant("4.3", "Cache-Control written No-Store", enrolment_app(headers='{"Cache-Control": "No-Store"}'), True),
]
MUTANTS += [
    Mutant("4.3", "the account name squeezed to ASCII", enrolment_app(
        account='account_name.encode("ascii", "ignore").decode("ascii")'), False, "Zoë"),
]
