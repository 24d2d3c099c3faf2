"""Answers to lesson 07's Exercise 7.A3 (the thief reuses a session cookie copied from a proxy's log), right and
wrong. The wrong ones were written from the lesson's text before the check: each is what a student who misread it
would type, in the thief's place (a name from memory, the attributes kept, an older Werkzeug's call, a password she does not have...)."""
from . import LESSON_SETUP, Mutant

SETUP = LESSON_SETUP[7] + """
from workbook.cookies import read_session_cookie, session_cookie_name
from workbook.visitor import submit_form as submit
"""

RIGHT = '''
def reuse_cookie(browser, set_cookie_header):
    cookie = set_cookie_header.split(";", 1)[0]
    name, value = cookie.split("=", 1)
    browser.set_cookie(name.strip(), value.strip())
'''

# A Set-Cookie header the lesson's stage 6 printed on one run: its key and its user are not the check's.
FROM_THE_LESSON = "eyJ1c2VyX2lkIjoxfQ.axSFNg.vXqsQqyo9XXHwVAmI6OUMgu070I"


def changed(source, old, new):
    assert source.count(old) == 1, old
    return source.replace(old, new)


MUTANTS = [
    Mutant("7.A3", "name and value before the first ';', split once at '='", RIGHT, True),
    Mutant("7.A3", "the standard library's SimpleCookie reads the header", '''
from http.cookies import SimpleCookie

def reuse_cookie(browser, set_cookie_header):
    for name, morsel in SimpleCookie(set_cookie_header).items():
        browser.set_cookie(name, morsel.value)
''', True),
    Mutant("7.A3", "keeps the header's Path as the cookie's path", '''
def reuse_cookie(browser, set_cookie_header):
    first, *attributes = [part.strip() for part in set_cookie_header.split(";")]
    name, _, value = first.partition("=")
    path = next((a.split("=", 1)[1] for a in attributes if a.lower().startswith("path=")), "/")
    browser.set_cookie(name, value, path=path)
''', True),
    # The name from the app rather than the header: the same name (it is the app's cookie), public in every header
    # the app sends, and the lesson's with_cookie (Hint 2) takes it so. Not a mistake the thief's attack turns on.
    Mutant("7.A3", "the value by a regex, the name from the browser's app", '''
def reuse_cookie(browser, set_cookie_header):
    value = re.match(r"[^=]+=([^;]*)", set_cookie_header).group(1)
    browser.set_cookie(session_cookie_name(browser), value)
''', True),
    # A Flask-signed value holds no '=', but a cookie's value may (base64 pads with it): since issue 22's second
    # catalogue (2026-12-06) the check's stage 7 writes its value in padded base64, and this one is refused.
    Mutant("7.A3", "splits at every '=' (a signed Flask value has none)", '''
def reuse_cookie(browser, set_cookie_header):
    name, value = set_cookie_header.split(";")[0].split("=")
    browser.set_cookie(name, value)
''', False, "at the first '=' only"),
    Mutant("7.A3", "opens the dashboard afterwards to see that it worked", RIGHT + '''
    browser.get("/dashboard")
''', True),

    # Wrong: the name
    Mutant("7.A3", "the cookie named session, Flask's default", changed(
        RIGHT, "browser.set_cookie(name.strip(), value.strip())", 'browser.set_cookie("session", value.strip())'),
        False, "only Flask's default"),
    Mutant("7.A3", "the cookie named stage6_session, from the lesson's log line", changed(
        RIGHT, "browser.set_cookie(name.strip(), value.strip())", 'browser.set_cookie("stage6_session", value)'),
        False, "the app's cookie is called"),
    # Wrong: the value
    Mutant("7.A3", "the value keeps the attributes (split at the first '=' only)", '''
def reuse_cookie(browser, set_cookie_header):
    name, value = set_cookie_header.split("=", 1)
    browser.set_cookie(name, value)
''', False, "runs on past the first ';'"),
    Mutant("7.A3", "the value is what follows the last '='", '''
def reuse_cookie(browser, set_cookie_header):
    pieces = set_cookie_header.split("=")
    browser.set_cookie(pieces[0], pieces[-1])
''', False, "comes from the attributes"),
    Mutant("7.A3", "cuts off the attributes stage 6 sent in the lesson ('; HttpOnly; Path=/')", '''
def reuse_cookie(browser, set_cookie_header):
    name, value = set_cookie_header[:-len("; HttpOnly; Path=/")].split("=", 1)
    browser.set_cookie(name, value)
''', False, "up to the first ';'"),
    Mutant("7.A3", "the value the lesson's proxy logged", changed(
        RIGHT, "browser.set_cookie(name.strip(), value.strip())", f'browser.set_cookie(name, "{FROM_THE_LESSON}")'),
        False, "not the header's"),
    # Wrong: the browser
    Mutant("7.A3", "Werkzeug 2's set_cookie(server_name, key, value)", changed(
        RIGHT, "browser.set_cookie(name.strip(), value.strip())", 'browser.set_cookie("localhost", name, value)'),
        False, "Werkzeug 3"),
    Mutant("7.A3", "the address the lesson runs the app at, 127.0.0.1, as the cookie's domain", changed(
        RIGHT, "browser.set_cookie(name.strip(), value.strip())",
        'browser.set_cookie(name, value, domain="127.0.0.1")'), False, "for the domain '127.0.0.1'"),
    Mutant("7.A3", "puts the cookie into a new browser of its own and returns it", '''
def reuse_cookie(browser, set_cookie_header):
    name, value = set_cookie_header.split(";", 1)[0].split("=", 1)
    mallory = browser.application.test_client()
    mallory.set_cookie(name, value)
    return mallory
''', False, "the browser you were given"),
    # From the review (written from the lesson text before reading the check; neither fooled it)
    Mutant("7.A3", "the value put in quotes", changed(RIGHT, "value.strip())", "'\"' + value.strip() + '\"')"),
           False, "not the header's value"),
    Mutant("7.A3", "the cookie sent with one request, in a Cookie header, not kept", '''
def reuse_cookie(browser, set_cookie_header):
    browser.get("/dashboard", headers={"Cookie": set_cookie_header.split(";")[0]})
''', False, "holds no copy of the header's cookie"),
    # Wrong: not the copy at all
    Mutant("7.A3", "logs in with the lesson's password instead", '''
def reuse_cookie(browser, set_cookie_header):
    submit(browser, "/login", username="alice", password=PASSWORD)
''', False, "the thief has no password"),
    Mutant("7.A3", "signs the cookie's data again with session_transaction", '''
def reuse_cookie(browser, set_cookie_header):
    data = read_session_cookie(set_cookie_header.split(";")[0].split("=", 1)[1])
    with browser.session_transaction() as session:
        session.update(data)
''', False, "signed with the app's own key"),
    Mutant("7.A3", "signs the cookie's data again as lesson 02 did, with the app's secret_key", '''
from flask.sessions import SecureCookieSessionInterface

def reuse_cookie(browser, set_cookie_header):
    name, rest = set_cookie_header.split("=", 1)
    data = read_session_cookie(rest.split(";")[0])
    forged = SecureCookieSessionInterface().get_signing_serializer(browser.application).dumps(data)
    browser.set_cookie(name, forged)
''', False, "with the app's own key"),
    # Issue 22, second catalogue (2026-12-06): written from the lesson text
    Mutant("7.A3", "partition at ';' and at '='", """
def reuse_cookie(browser, set_cookie_header):
    name, _, value = set_cookie_header.partition(";")[0].partition("=")
    browser.set_cookie(name.strip(), value.strip())
""", True),
    Mutant("7.A3", "the name by a regex made for the lesson's cookie", """
def reuse_cookie(browser, set_cookie_header):
    value = re.search(r"stage\\d_session=([^;]+)", set_cookie_header).group(1)
    browser.set_cookie(re.search(r"stage\\d_session", set_cookie_header).group(0), value)
""", False, "name their cookie anew on each run"),
    Mutant("7.A3", "the value up to the second '='", """
def reuse_cookie(browser, set_cookie_header):
    name = set_cookie_header.split("=")[0]
    value = set_cookie_header.split("=")[1].split(";")[0]
    browser.set_cookie(name, value)
""", False, "first '='"),
    Mutant("7.A3", "the name lower-cased", changed(RIGHT, "browser.set_cookie(name.strip(),",
                                                    "browser.set_cookie(name.strip().lower(),"),
           False, "the app's cookie is called"),
    Mutant("7.A3", "the '=' left over stripped from the value", changed(RIGHT, "value.strip())", "value.strip('= '))"),
           False, "'='"),
    Mutant("7.A3", "the pair name=value given as the value", changed(
        RIGHT, "browser.set_cookie(name.strip(), value.strip())", "browser.set_cookie(name.strip(), cookie)"),
        False, "not the header's value"),
]
