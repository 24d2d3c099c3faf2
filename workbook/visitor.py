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

        The form is the first POST form with one of ``fields``, or the one whose
        action ends with ``action`` (a logout button has no fields to fill).
        """
        page_response = self.get(path)
        page = pages.parse(page_response.text)
        form = next((f for f in page.forms if f.method == "post" and (
            (f.action or "").endswith(action) if action else set(fields) & set(f.fields))), None)
        if form is None:
            raise AssertionError(f"{path} has no POST form with the fields {sorted(fields)} (action {action})")
        target = urljoin(page_response.url, form.action or "")
        return self.http.post(target, data=form.data(**fields), allow_redirects=allow_redirects, timeout=30)


def submit_form(client, url, fields=None, *, follow_redirects=False, **more_fields):
    """With Flask's test client: open ``url`` and send its POST form as a browser would.

    The form is the first POST form on the page that has every field named
    (with no fields named: the first POST form, such as a Log out button);
    its hidden fields, such as csrf_token, go along. Without such a form the
    fields are posted to ``url`` as they are.
    """
    fields = {**(fields or {}), **more_fields}
    page = pages.parse(client.get(url).data)
    form = next((f for f in page.forms if f.method == "post" and set(fields) <= set(f.fields)), None)
    if form is None:
        return client.post(url, data=fields, follow_redirects=follow_redirects)
    return client.post(form.action or url, data=form.data(**fields), follow_redirects=follow_redirects)
