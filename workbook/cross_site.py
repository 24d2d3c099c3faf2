"""What a browser does, on its own, with a page from another origin: the request it sends to an app.

A page's HTML makes the browser send requests without a click: a form that a script on the page
submits as it loads, an image, a frame, a page refresh. ``what_the_page_sends(html, page_url)`` reads
the page the way a browser would, without running JavaScript: it finds the forms written in the HTML and
the one a script submits (``document.forms[0]``, ``document.forms["name"]``, ``getElementById("id")``,
``querySelector(...)``, or the page's only form; a ``<script>`` runs where the browser meets it, so one that acts
at once finds only the forms above it), and reads every address against the page's own URL (or its
``<base href>``), as a browser does. ``send(browser, request, app_url, page_url)`` then sends that request
with a Flask test client that stands in for the browser, cookies and all, when it goes to the app.

A script counts only where a browser would run it: not in a comment, not with a ``type`` that is not
JavaScript, not inside ``<template>`` or ``<noscript>``, not in a named function that nothing calls; and a
``form.submit()`` finds no method when the form has a control named ``submit``.

What it does not do: run scripts. A request a script builds itself (``fetch()``, ``XMLHttpRequest``) is
reported as such, unsent. Nor does it hold a cookie back for ``SameSite``: in the lab the app and the other
page are both on 127.0.0.1, one site (another port is another origin, not another site), so a browser sends it.
"""
import re
from dataclasses import dataclass, field
from urllib.parse import urlencode, urljoin, urlsplit

from . import pages

# How a page's request was made, from the most to the least an attacker wants.
SUBMITTED_FORM = "a form a script on the page submits"
TOO_EARLY = "a script that runs before the browser has read its form"
LOADED = "a GET the page makes as it loads"
SCRIPT_REQUEST = "a request a script builds (fetch or XMLHttpRequest)"
FORM_TO_PRESS = "a form Alice would have to press"
LINK = "a link Alice would have to click"
NOTHING = "nothing"
UNREAD = object()   # a reference to a form that this reader cannot follow (a selector it does not read)

# Event handlers that run with no action of Alice's (the rest, onclick and the like, wait for her).
HANDLERS_THAT_RUN_BY_THEMSELVES = ("onload", "onerror", "onpageshow", "onfocus", "onanimationstart")
SUBMIT_CALL = re.compile(r"\.\s*(?:requestSubmit|submit)\s*\(")
# A script that waits for the page to be read before it acts (a <script> otherwise runs where the browser meets it).
WAITS_FOR_THE_PAGE = re.compile(r"DOMContentLoaded|[\"']load[\"']|\bonload\b|setTimeout|requestAnimationFrame")
WAITS_FOR_ALICE = re.compile(r"""addEventListener\(\s*["'](?:click|dblclick|submit|mouse\w*|key\w*|pointer\w*|touch\w*)"""
                             r"""|\.on(?:click|submit|mouse\w*|key\w*)\s*=""")
BUILDS_A_REQUEST = re.compile(r"\bfetch\s*\(|XMLHttpRequest|sendBeacon|\$\.(?:ajax|post|get)\s*\(")
STRING = r"""\s*["'`]([^"'`]*)["'`]\s*"""
# What a browser that runs scripts never acts on: a <template>'s content, a <noscript>'s (text to such a browser).
INERT = re.compile(r"<(template|noscript)\b.*?</\1\s*>", re.S | re.I)
# The types a browser runs a <script> of (none given, a module, or a JavaScript MIME type).
JAVASCRIPT_TYPE = re.compile(r"|module|(?:text|application)/(?:x-)?(?:java|ecma)script|text/(?:javascript1\.[0-5]|jscript|livescript)")
# A script's comments, and its strings (kept, so that a // inside "http://..." is not read as one).
STRINGS_AND_COMMENTS = re.compile(r"""("(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'|`(?:\\.|[^`\\])*`)|//[^\n]*|/\*.*?\*/""", re.S)
FUNCTION_DECLARATION = re.compile(r"\bfunction\s+([A-Za-z_$][\w$]*)\s*\([^)]*\)\s*\{")
FORM_REFERENCES = re.compile(
    r"document\s*\.\s*forms\s*(?:\[\s*(?P<index>\d+)\s*\]|\.\s*item\s*\(\s*(?P<item>\d+)\s*\))"
    rf"|document\s*\.\s*forms\s*(?:\[{STRING}\]|\.\s*namedItem\s*\({STRING}\))"
    r"|document\s*\.\s*forms\s*\.\s*(?P<property>[A-Za-z_$][\w$]*)"
    rf"|getElementById\s*\({STRING}\)"
    rf"|querySelector\s*\({STRING}\)"
)
LOCATION = re.compile(rf"location(?:\s*\.\s*href)?\s*={STRING}|location\s*\.\s*(?:assign|replace)\s*\({STRING}\)")
SELF_LOADING = {"img": "src", "iframe": "src", "frame": "src", "script": "src", "embed": "src", "object": "data",
                "audio": "src", "video": "src", "source": "src"}
DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass
class Request:
    """What the page makes the browser send: how, the method, the full URL and the form's fields."""
    how: str
    method: str = "GET"
    url: str = ""
    fields: dict = field(default_factory=dict)


def origin(url):
    """(scheme, host, port) of an absolute URL; the port a browser would use when the URL names none."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    return parts.scheme.lower(), (parts.hostname or "").lower(), port or DEFAULT_PORTS.get(parts.scheme.lower())


def _without_comments(text):
    return STRINGS_AND_COMMENTS.sub(lambda match: match.group(1) or " ", text)


def _without_uncalled_functions(text, everything):
    """``text`` without the bodies of the named functions it declares that nothing in ``everything`` (the page's
    scripts and handlers) names again: a function nobody calls never runs."""
    for declared in reversed(list(FUNCTION_DECLARATION.finditer(text))):
        if text[:declared.start()].rstrip()[-1:] not in ("", ";", "{", "}"):
            continue                      # a function expression ((function go() {...})(), onload = function...)
        if len(re.findall(rf"(?<![\w$]){re.escape(declared.group(1))}(?![\w$])", everything)) > 1:
            continue
        depth, end = 1, declared.end()
        while depth and end < len(text):
            depth += {"{": 1, "}": -1}.get(text[end], 0)
            end += 1
        text = text[:declared.start()] + text[end:]
    return text


def _scripts(page):
    """Each script of the page: (its text, whether it runs with no action of Alice's, where it runs: the place in
    the document of an inline <script> that acts at once, else None, for one that waits until the page is read).
    Comments are left out, and so are scripts of a type a browser does not run and functions nothing calls."""
    places = [place for place, (tag, _) in enumerate(page.tags) if tag == "script"]
    found = [(_without_comments(text), place) for text, place in zip(page.scripts, places, strict=False)
             if JAVASCRIPT_TYPE.fullmatch(page.tags[place][1].get("type", "").strip().lower())]
    handlers = [(_without_comments(value), name) for _tag, attributes in page.tags
                for name, value in attributes.items() if name.startswith("on")]
    everything = "\n".join(text for text, _ in found + handlers)
    found = [(_without_uncalled_functions(text, everything), place) for text, place in found]
    found = [(text, not WAITS_FOR_ALICE.search(text), None if WAITS_FOR_THE_PAGE.search(text) else place)
             for text, place in found]
    found += [(text, name in HANDLERS_THAT_RUN_BY_THEMSELVES, None) for text, name in handlers]
    return found


def _form_named(page, reference):
    """The form a script's reference picks (None when it picks none of the page's forms; UNREAD for a selector
    this reader does not follow)."""
    index = reference.group("index") or reference.group("item")
    if index is not None:
        return page.forms[int(index)] if int(index) < len(page.forms) else None
    name = next((value for value in reference.groups()[2:4] if value is not None), None) or reference.group("property")
    if name is not None:
        return next((form for form in page.forms if name in (form.attributes.get("name"), form.attributes.get("id"))),
                    None)
    element_id, selector = reference.groups()[-2:]
    if element_id is not None:
        return next((form for form in page.forms if form.attributes.get("id") == element_id), None)
    selector = selector.strip()
    if selector == "form":
        return page.forms[0] if page.forms else None
    by_id = re.fullmatch(r"(?:form)?#([\w-]+)", selector)
    by_name = re.fullmatch(r"""(?:form)?\[name=["']?([\w-]+)["']?\]""", selector)
    wanted = ("id", by_id.group(1)) if by_id else ("name", by_name.group(1)) if by_name else None
    if wanted is None:
        return UNREAD
    return next((form for form in page.forms if form.attributes.get(wanted[0]) == wanted[1]), None)


def submitted_form(page):
    """(the form a script submits as the page loads, or None; whether a script submits a form, but only before the
    browser has read it, so that it finds none)."""
    form_places = [place for place, (tag, _) in enumerate(page.tags) if tag == "form"]
    too_early = False
    for text, by_itself, runs_at in _scripts(page):
        if not (by_itself and SUBMIT_CALL.search(text)):
            continue
        picked = [_form_named(page, reference) for reference in FORM_REFERENCES.finditer(text)]
        named = [form for form in picked if form is not None and form is not UNREAD]
        if not named and None not in picked and len(page.forms) == 1:
            named = page.forms[:1]        # a page with one form: the script submits that one, however it names it
        for form in named:
            number = next(i for i, candidate in enumerate(page.forms) if candidate is form)
            read_at = form_places[number]
            if not re.search(r"requestSubmit\s*\(", text) and _has_a_control_named_submit(page, form_places, number):
                continue                  # form.submit is that control, not the method: the script stops there
            if runs_at is None or read_at < runs_at:
                return form, False
            too_early = True
    return None, too_early


def _has_a_control_named_submit(page, form_places, number):
    """Whether the ``number``-th form has a control whose name or id is "submit" (read as pages.parse gives a form
    its fields: the controls after its tag, up to the next form)."""
    end = form_places[number + 1] if number + 1 < len(form_places) else len(page.tags)
    return any(tag in ("input", "button", "select", "textarea", "fieldset", "output", "object")
               and "submit" in (attributes.get("name"), attributes.get("id"))
               for tag, attributes in page.tags[form_places[number] + 1:end])


def _base(page, page_url):
    href = next((attributes.get("href") for tag, attributes in page.tags if tag == "base" and attributes.get("href")),
                None)
    return urljoin(page_url, href) if href else page_url


def _form_request(form, base, how):
    url = urljoin(base, form.action or "")
    if form.method == "post":
        return Request(how, "POST", url, dict(form.fields))
    # A GET form puts its fields in the query, in place of the action's own.
    return Request(how, "GET", url.split("#")[0].split("?")[0] + "?" + urlencode(form.fields), dict(form.fields))


def _loads(page, base):
    """The addresses the page fetches by itself as it loads, in order."""
    found = []
    for tag, attributes in page.tags:
        if tag in SELF_LOADING and attributes.get(SELF_LOADING[tag]):
            found.append(attributes[SELF_LOADING[tag]])
        elif tag == "link" and "stylesheet" in attributes.get("rel", "").lower() and attributes.get("href"):
            found.append(attributes["href"])
        elif tag == "meta" and attributes.get("http-equiv", "").lower() == "refresh":
            target = re.search(r"url\s*=\s*['\"]?([^'\"]+)", attributes.get("content", ""), re.I)
            if target:
                found.append(target.group(1).strip())
    for text, by_itself, _ in _scripts(page):
        if by_itself:
            found += [next(value for value in match.groups() if value is not None) for match in LOCATION.finditer(text)]
    return [urljoin(base, address) for address in found]


def what_the_page_sends(html, page_url, app_url=None):
    """The request a browser sends by itself when it opens ``html`` at ``page_url`` (see the module's notes).

    Of several, the one that matters most: a form a script submits; else a GET the page makes as it loads
    (one to ``app_url``'s origin first); else what the page would need a script or a click for, unsent.
    """
    page = pages.parse(INERT.sub("", html))
    base = _base(page, page_url)
    form, too_early = submitted_form(page)
    if form is not None:
        return _form_request(form, base, SUBMITTED_FORM)
    if too_early:
        return Request(TOO_EARLY)
    loads = _loads(page, base)
    if loads:
        aimed = [url for url in loads if app_url and origin(url) == origin(app_url)]
        return Request(LOADED, "GET", (aimed or loads)[0])
    if any(BUILDS_A_REQUEST.search(text) for text, _, _ in _scripts(page)):
        return Request(SCRIPT_REQUEST)
    if page.forms:
        return _form_request(page.forms[0], base, FORM_TO_PRESS)
    links = [attributes["href"] for tag, attributes in page.tags if tag == "a" and attributes.get("href")]
    if links:
        return Request(LINK, "GET", urljoin(base, links[0]))
    return Request(NOTHING)


def path_in_app(url, app_url):
    """The path (and query) of ``url`` inside the app at ``app_url``; None when ``url`` goes to another origin."""
    if origin(url) != origin(app_url):
        return None
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def send(browser, request, app_url, page_url):
    """Send ``request`` with ``browser`` (a Flask test client holding the cookies of the app at ``app_url``),
    as a browser sends it from a page at ``page_url``; the app's response, or None when it goes elsewhere."""
    path = path_in_app(request.url, app_url) if request.how in (SUBMITTED_FORM, LOADED) else None
    if path is None:
        return None
    return send_to_app(browser, request.method, path, request.fields, page_url)


def send_to_app(browser, method, path, fields, page_url):
    """``method`` ``path`` with ``fields``, sent by ``browser`` with its cookies, from a page at ``page_url``."""
    page_origin = "{}://{}".format(*urlsplit(page_url)[:2])
    if method == "POST":
        return browser.post(path, data=fields, headers={"Origin": page_origin, "Referer": page_url})
    return browser.get(path, headers={"Referer": page_url})
