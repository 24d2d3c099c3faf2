"""Answers to lesson 07's attack 7.A1 (replay the code Mallory saw Alice type), right and wrong.

The wrong ones were written from the lesson's text before the check, each as a student who misread it would
write it: the code sent without the password step, in a field the form does not have, the lesson's own
``log_in()`` (always alice's name and the lesson's password), the code from the cell above instead of the one
given, guessing instead of replaying, trying again until it works, Mallory's own account, forms sent by hand
without their hidden fields, a browser of its own. Each must get ❌ with a hint that names that mistake.
"""
from . import LESSON_SETUP, Mutant

SETUP = LESSON_SETUP[7] + """
from workbook import pages
from workbook.visitor import submit_form as submit


def log_in(client):
    return submit(client, "/login", username="alice", password=PASSWORD)


code = "492817"   # what the cell above the exercise printed: the code Alice typed in the lesson's own scene
"""

REPLAY = '''
def replay(browser, username, password, seen_code):
    submit(browser, "/login", username=username, password=password)
    submit(browser, "/verify-2fa", otp=seen_code)
'''

MUTANTS = [
    Mutant("7.A1", "the password step, then the code Mallory saw", REPLAY, True),
    Mutant("7.A1", "reads each form off its page, posts it filled in", '''
def replay(browser, username, password, seen_code):
    for url, typed in (("/login", {"username": username, "password": password}), ("/verify-2fa", {"otp": seen_code})):
        form = pages.parse(browser.get(url).data).post_form(typed)
        browser.post(form.action or url, data=form.data(**typed), follow_redirects=True)
    return browser.get("/dashboard").status_code == 200
''', True),
    Mutant("7.A1", "types the code as the phone shows it, 123 456", '''
def replay(browser, username, password, seen_code):
    response = submit(browser, "/login", username=username, password=password, follow_redirects=True)
    submit(browser, "/verify-2fa", otp=f"{seen_code[:3]} {seen_code[3:]}", page=response)
''', True),

    Mutant("7.A1", "posts the code straight to /verify-2fa", '''
def replay(browser, username, password, seen_code):
    browser.post("/verify-2fa", data={"otp": seen_code})
''', False, "the code step comes after the password step"),
    Mutant("7.A1", "submits the code form without logging in", '''
def replay(browser, username, password, seen_code):
    submit(browser, "/verify-2fa", otp=seen_code)
''', False, "the code step comes after the password step"),
    Mutant("7.A1", "the code in a field called code", REPLAY.replace("otp=seen_code", "code=seen_code"),
           False, "has no such field"),
    Mutant("7.A1", "the code in a field called code, posted by hand", '''
def replay(browser, username, password, seen_code):
    submit(browser, "/login", username=username, password=password)
    browser.post("/verify-2fa", data={"code": seen_code})
''', False, "has no such field"),
    Mutant("7.A1", "logs in with the lesson's log_in()", '''
def replay(browser, username, password, seen_code):
    log_in(browser)
    submit(browser, "/verify-2fa", otp=seen_code)
''', False, "the username you were given"),
    Mutant("7.A1", "the lesson's PASSWORD", REPLAY.replace("password=password", "password=PASSWORD"),
           False, "the password you were given"),
    Mutant("7.A1", "the code from the cell above", REPLAY.replace("otp=seen_code", "otp=code"),
           False, "not the one you were given"),
    Mutant("7.A1", "guesses codes until one works", '''
def replay(browser, username, password, seen_code):
    submit(browser, "/login", username=username, password=password)
    for guess in range(10 ** 6):
        if submit(browser, "/verify-2fa", otp=f"{guess:06d}").status_code == 302:
            return
''', False, "that is guessing"),
    Mutant("7.A1", "tries again until it is in", '''
def replay(browser, username, password, seen_code):
    while browser.get("/dashboard").status_code != 200:
        submit(browser, "/login", username=username, password=password)
        submit(browser, "/verify-2fa", otp=seen_code)
''', False, "one try is the replay"),
    Mutant("7.A1", "Mallory's own account", '''
def replay(browser, username, password, seen_code):
    submit(browser, "/register", username="mallory", password=password)
    submit(browser, "/login", username="mallory", password=password)
''', False, "your password step was for 'mallory'"),
    Mutant("7.A1", "forms posted by hand, without their hidden fields", '''
def replay(browser, username, password, seen_code):
    browser.post("/login", data={"username": username, "password": password})
    browser.post("/verify-2fa", data={"otp": seen_code})
''', False, "csrf_token"),
    # From the review (written from the lesson text before reading the check): the code handled as a number,
    # which loses the 0 in front of one code in ten; the code form posted by hand, after a login done right.
    Mutant("7.A1", "the code as a number", REPLAY.replace("otp=seen_code", "otp=int(seen_code)"),
           False, "in front"),
    Mutant("7.A1", "the code form posted by hand, after submit() for the login", '''
def replay(browser, username, password, seen_code):
    submit(browser, "/login", username=username, password=password)
    browser.post("/verify-2fa", data={"otp": seen_code})
''', False, "your code form got 400"),
    Mutant("7.A1", "a browser of its own", '''
def replay(browser, username, password, seen_code):
    mine = browser.application.test_client()
    submit(mine, "/login", username=username, password=password)
    submit(mine, "/verify-2fa", otp=seen_code)
''', False, "the browser you were given"),
    # Issue 22, second catalogue (2026-12-06): written from the lesson text
    Mutant("7.A1", "the code stripped and padded, the redirects followed", """
def replay(browser, username, password, seen_code):
    submit(browser, "/login", username=username, password=password, follow_redirects=True)
    submit(browser, "/verify-2fa", otp=str(seen_code).strip().zfill(6), follow_redirects=True)
""", True),
    Mutant("7.A1", "the name and the password swapped", REPLAY.replace(
        "username=username, password=password", "username=password, password=username"),
        False, "the username you were given"),
    Mutant("7.A1", "the code typed in the login form too", """
def replay(browser, username, password, seen_code):
    submit(browser, "/login", username=username, password=password, otp=seen_code)
""", False, "never passed the password step"),
    Mutant("7.A1", "the code sent to /verify, the guide's address", """
def replay(browser, username, password, seen_code):
    submit(browser, "/login", username=username, password=password)
    browser.post("/verify", data={"otp": seen_code})
""", False, "/verify-2fa"),
    Mutant("7.A1", "logs out afterwards, to cover her tracks", REPLAY + """
    submit(browser, "/dashboard")
""", False, "logged in"),
    Mutant("7.A1", "the code typed twice, to be sure", REPLAY + """
    submit(browser, "/verify-2fa", otp=seen_code)
""", False, "one try is the replay"),
    Mutant("7.A1", "the code before the password", """
def replay(browser, username, password, seen_code):
    browser.post("/verify-2fa", data={"otp": seen_code})
    submit(browser, "/login", username=username, password=password)
""", False, "the code step comes after the password step"),
    Mutant("7.A1", "the name lower-cased first", REPLAY.replace("username=username", "username=username.lower()"),
           False, "the username you were given"),
]
