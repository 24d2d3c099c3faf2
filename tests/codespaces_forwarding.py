"""A stand-in for GitHub Codespaces' port forwarding, for the tests.

In a codespace the browser opens ``https://<codespace>-<port>.<forwarding domain>/``;
GitHub's forwarding service ends the HTTPS there and passes the request on, in
plain HTTP, to ``localhost:<port>`` inside the codespace. GitHub's guide
("Forwarding ports in your codespace") gives the address but not the headers; what
the app receives, as projects that met it report (gdsfactory/gdsfactory#1774,
mastodon/mastodon#26400, ddev/ddev#6102, MicrosoftDocs/vscodespaces#707):

- ``Host: localhost:<port>``: the address the service connects to, not the browser's;
- ``X-Forwarded-Host: <codespace>-<port>.<domain>``, the browser's address;
- ``X-Forwarded-Proto: https`` and ``X-Forwarded-For: <the browser's IP>``;
- ``Origin`` (on a form post) rewritten to ``http://localhost:<port>``;
- redirects, cookies and bodies passed through unchanged.

Reports differ on ``Host``: mastodon#26400 saw the browser's host kept, so
``keep_host = True`` forwards that one instead, and the tests try both.

``CodespacesForwarding`` does the same on loopback: one TLS listener (a throwaway
self-signed certificate) that routes by the port in the host name, as the real
service does. A browser reaches it through Chromium's ``--host-resolver-rules``.
"""
import http.client
import http.server
import re
import ssl
import subprocess
import threading
from pathlib import Path

CODESPACE_NAME = "studious-fiesta-5g4q"
FORWARDING_DOMAIN = "app.github.dev"
HOST_NAME = re.compile(rf"^{re.escape(CODESPACE_NAME)}-(\d+)\.{re.escape(FORWARDING_DOMAIN)}(:443)?$")
# Not passed on: they belong to one connection, and the body is sent whole.
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "upgrade", "proxy-connection", "te", "trailer"}


def environment():
    """The two variables Codespaces sets in every process of the codespace."""
    return {"CODESPACE_NAME": CODESPACE_NAME, "GITHUB_CODESPACES_PORT_FORWARDING_DOMAIN": FORWARDING_DOMAIN}


def forwarded_url(port):
    return f"https://{CODESPACE_NAME}-{port}.{FORWARDING_DOMAIN}/"


def self_signed_certificate(folder):
    """A certificate for *.<forwarding domain>, made with the openssl command (browsers are told to accept it)."""
    folder = Path(folder)
    certificate, key = folder / "forwarding.crt", folder / "forwarding.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(certificate), "-subj", f"/CN=*.{FORWARDING_DOMAIN}",
         "-addext", f"subjectAltName=DNS:*.{FORWARDING_DOMAIN}"],
        check=True, capture_output=True,
    )
    return certificate, key


class _Forwarder(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet: the tests report what matters
        pass

    def _forward(self):
        match = HOST_NAME.match(self.headers.get("Host", ""))
        if not match:
            self.send_error(404, "not a forwarded port of this codespace")
            return
        port = int(match.group(1))
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {name: value for name, value in self.headers.items()
                   if name.lower() not in HOP_BY_HOP | {"host", "origin"}}
        headers.update({
            "Host": match.group(0) if self.server.keep_host else f"localhost:{port}",
            "X-Forwarded-Host": match.group(0).removesuffix(":443"),
            "X-Forwarded-Proto": "https",
            "X-Forwarded-For": self.client_address[0],
        })
        if "Origin" in self.headers:
            headers["Origin"] = f"http://localhost:{port}"
        self.server.seen.append(headers)
        upstream = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            upstream.request(self.command, self.path, body=body, headers=headers)
            response = upstream.getresponse()
            content = response.read()
        except OSError:
            self.send_error(502, f"nothing answers on port {port} in the codespace")
            return
        finally:
            upstream.close()
        self.send_response(response.status, response.reason)
        for name, value in response.getheaders():  # every Set-Cookie, kept apart
            if name.lower() not in HOP_BY_HOP | {"content-length"}:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(content)

    do_GET = do_POST = do_HEAD = do_PUT = do_DELETE = _forward


class CodespacesForwarding:
    """The forwarding service on ``127.0.0.1:<port>``, with TLS; use it as a context manager."""

    def __init__(self, folder):
        certificate, key = self_signed_certificate(folder)
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Forwarder)
        self.server.seen = []  # the headers of every request passed on, for the tests to read
        self.server.keep_host = False
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certificate, key)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def seen(self):
        return self.server.seen

    @property
    def keep_host(self):
        return self.server.keep_host

    @keep_host.setter
    def keep_host(self, keep):
        self.server.keep_host = keep

    def chromium_argument(self):
        """Chromium then sends every request for the forwarding domain to this listener."""
        return f"--host-resolver-rules=MAP *.{FORWARDING_DOMAIN} 127.0.0.1:{self.port}"

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

