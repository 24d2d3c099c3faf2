"""Every relative link a reader can follow (README, docs/, the lessons) leads to a file that exists."""
import json
import re

import pytest

from workbook import ROOT

LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HTML_LINK = re.compile(r"""\b(?:href|src)=["']([^"']+)["']""")
CODE = re.compile(r"```.*?```|`[^`\n]*`", re.S)


def _markdown_sources():
    """(where, folder links are relative to, markdown text)."""
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        yield path.relative_to(ROOT), path.parent, path.read_text(encoding="utf-8")
    for path in sorted([*(ROOT / "solutions").glob("*.ipynb"), *(ROOT / "notebooks").glob("*.ipynb")]):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        for number, cell in enumerate(cells):
            if cell["cell_type"] == "markdown":
                yield f"{path.relative_to(ROOT)} cell {number}", path.parent, "".join(cell["source"])


def relative_links(text):
    text = CODE.sub("", text)
    for target in [*LINK.findall(text), *HTML_LINK.findall(text)]:
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I) or target.startswith(("#", "/", "{{")):
            continue   # another site, a mail address, an anchor on the same page, a template value
        yield target.split("#", 1)[0]


SOURCES = list(_markdown_sources())


def test_links_are_found():
    """The link finder sees this file's kind of links (so the test below is not vacuous)."""
    found = list(relative_links('See [the contract](docs/app_contract.md#settings), `[no](code.md)`, '
                                '<img src="docs/a.png"> and [a site](https://example.com).'))
    assert found == ["docs/app_contract.md", "docs/a.png"]
    assert any(list(relative_links(text)) for _, _, text in SOURCES)


FILES = sorted({str(where).split(" cell ")[0] for where, _, _ in SOURCES})


@pytest.mark.parametrize("file", FILES)
def test_relative_links_lead_to_files(file):
    broken = [f"{where}: {target}" for where, folder, text in SOURCES if str(where).split(" cell ")[0] == file
              for target in relative_links(text) if target and not (folder / target).exists()]
    assert not broken, f"links to files that do not exist: {broken}"
