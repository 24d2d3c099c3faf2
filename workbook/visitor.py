"""A visitor that uses a running app over real HTTP the way a browser does.

It keeps cookies, fills in forms (hidden fields such as csrf_token included)
and follows the form's action, so the same script drives every stage.
"""
from urllib.parse import urljoin

import requests

from . import pages


class Visitor:
    def __init__(self, base_url):
        self.base_url = base_url.rstrip("/") + "/"
        self.http = requests.Session()

    def url(self, path):
        return urljoin(self.base_url, path.lstrip("/"))

    def get(self, path, **kwargs):
        return self.http.get(self.url(path), timeout=30, **kwargs)

    def submit(self, path, fields, allow_redirects=False, action=None):
        """Open the page at ``path``, fill its POST form with ``fields`` and send it.

        Which form: see ``pages.Page.post_form``.
        """
        page_response = self.get(path)
        form = pages.parse(page_response.text).post_form(fields, action)
        if form is None:
            raise AssertionError(f"{path} has no POST form with the fields {sorted(fields)} (action {action})")
        target = urljoin(page_response.url, form.action or "")
        return self.http.post(target, data=form.data(**fields), allow_redirects=allow_redirects, timeout=30)


def submit_form(client, url, fields=None, *, follow_redirects=False, action=None, page=None, **more_fields):
    """With Flask's test client: open ``url`` and send its POST form as a browser would.

    The form is chosen by ``pages.Page.post_form``; its hidden fields, such as
    csrf_token, go along. A page without such a form is an AssertionError: a person
    could not send it either. ``page``: the response the browser already shows for ``url``
    (a person fills in the page they have open; opening it again would cost a new QR code).
    """
    fields = {**(fields or {}), **more_fields}
    form = pages.parse((page if page is not None else client.get(url)).data).post_form(fields, action)
    if form is None:
        raise AssertionError(f"{url} has no POST form with the fields {sorted(fields)} (action {action})")
    return client.post(form.action or url, data=form.data(**fields), follow_redirects=follow_redirects)
