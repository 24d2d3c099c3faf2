"""Read what a browser would see in an HTML page: images, forms and text.

Uses only the standard library's HTML parser, so it works on any page a
student's app returns, however the markup is laid out.
"""
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Form:
    action: str | None
    method: str
    fields: dict = field(default_factory=dict)  # name -> value, hidden fields included
    attributes: dict = field(default_factory=dict)  # every attribute of the <form> tag (id, name...)

    def data(self, **values):
        """The form as a browser would send it, with ``values`` typed in."""
        filled = dict(self.fields)
        filled.update(values)
        return filled


# Tags that start a new line in a browser: their text is kept apart from the next.
BLOCK_TAGS = {"html", "head", "title", "body", "header", "main", "nav", "footer", "section", "div", "p",
              "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "table", "tr", "td", "th", "form",
              "label", "button", "br", "pre", "option", "select", "textarea"}


class _PageParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.images = []
        self.forms = []
        self.text_parts = []
        self.list_items = []
        self.tags = []      # (tag, attributes) of every start tag, in order
        self.scripts = []   # the text of each inline <script>
        self._skip = 0  # inside <script> or <style>
        self._script = None
        self._li = None

    def handle_starttag(self, tag, attrs):
        attrs = {name: (value or "") for name, value in attrs}
        self.tags.append((tag, attrs))
        if tag in BLOCK_TAGS:
            self.text_parts.append(" ")
        if tag in ("script", "style"):
            self._skip += 1
            if tag == "script":
                self._script = []
        elif tag == "img":
            self.images.append(attrs)
        elif tag == "form":
            self.forms.append(Form(attrs.get("action"), attrs.get("method", "get").lower(), attributes=attrs))
        elif tag in ("input", "textarea", "select", "button") and self.forms:
            name = attrs.get("name")
            kind = attrs.get("type", "text").lower()
            if name and kind not in ("submit", "button", "image", "reset") and tag != "button":
                self.forms[-1].fields.setdefault(name, attrs.get("value", ""))
        elif tag == "li":
            self._li = []

    def handle_endtag(self, tag):
        if tag in BLOCK_TAGS:
            self.text_parts.append(" ")
        if tag in ("script", "style") and self._skip:
            self._skip -= 1
            if tag == "script" and self._script is not None:
                self.scripts.append("".join(self._script))
                self._script = None
        elif tag == "li" and self._li is not None:
            self.list_items.append(" ".join("".join(self._li).split()))
            self._li = None

    def handle_data(self, data):
        if self._script is not None:
            self._script.append(data)
        if not self._skip:
            self.text_parts.append(data)
            if self._li is not None:
                self._li.append(data)


@dataclass
class Page:
    html: str
    images: list
    forms: list
    text: str
    list_items: list
    tags: list = field(default_factory=list)     # (tag, attributes) of every start tag, in order
    scripts: list = field(default_factory=list)  # the text of each inline <script>

    def data_uri_images(self):
        """``src`` of every ``<img>`` whose picture is inline PNG data."""
        return [img.get("src", "") for img in self.images if img.get("src", "").startswith("data:image/png;base64,")]

    def form(self, containing=None):
        """The first form (or the first with a field named ``containing``)."""
        for candidate in self.forms:
            if containing is None or containing in candidate.fields:
                return candidate
        return None

    def post_form(self, fields=(), action=None):
        """The form a person would fill in to send ``fields``: the first POST form that has
        every one of them (with none named, the first POST form, such as a Log out
        button), or the POST form whose action ends with ``action``. None if there is none."""
        for candidate in self.forms:
            if candidate.method != "post":
                continue
            if (candidate.action or "").endswith(action) if action else set(fields) <= set(candidate.fields):
                return candidate
        return None

    def compact_text(self):
        """The visible text with all white space removed, for finding grouped keys."""
        return re.sub(r"\s+", "", self.text)


def parse(html) -> Page:
    """Parse an HTML page (``str`` or ``bytes``)."""
    if isinstance(html, bytes):
        html = html.decode("utf-8", errors="replace")
    parser = _PageParser()
    parser.feed(html)
    parser.close()
    text = " ".join("".join(parser.text_parts).split())
    return Page(html, parser.images, parser.forms, text, parser.list_items, parser.tags, parser.scripts)
