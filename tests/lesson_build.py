"""What the tests that follow a lesson's Build steps share: the lesson's text and answers, and the edits."""
import re

import nbformat

from workbook import ROOT


def lesson_cells(lesson_file):
    return nbformat.read(ROOT / "solutions" / lesson_file, as_version=4).cells


def build_sections(lesson_file):
    """The markdown of each of the lesson's "## Build" sections, in order (lesson 07 ends each part with one)."""
    return [c.source for c in lesson_cells(lesson_file) if c.cell_type == "markdown" and c.source.startswith("## Build")]


def build_section(lesson_file):
    """The lesson's Build steps, all of them: its "## Build" sections, one after the other."""
    sections = build_sections(lesson_file)
    assert sections, f"{lesson_file} has no '## Build' section"
    return "\n\n".join(sections)


def answer(lesson_file, exercise_id):
    """The solution notebook's answer to an exercise, without its title line and solution markers."""
    source = next(c.source for c in lesson_cells(lesson_file) if c.cell_type == "code"
                  and c.source.startswith(f"# Exercise {exercise_id}:"))
    return "\n".join(line for line in source.splitlines()[1:] if "### " not in line)


def given_cell(lesson_file, marker):
    """The lesson's code cell that holds ``marker`` (one the lesson gives, not an answer), without its
    imports and its print() lines: what a Build step pastes of it."""
    source = next(c.source for c in lesson_cells(lesson_file) if c.cell_type == "code" and marker in c.source)
    return "\n".join(line for line in source.splitlines()
                     if not line.startswith(("import ", "from ", "print("))).strip() + "\n"


def without_imports(source):
    """``source`` without its top-level import lines (the module it goes into has them)."""
    return "\n".join(line for line in source.splitlines() if not line.startswith(("import ", "from "))).strip()


def function(source, name):
    """The function ``name`` of ``source`` (an answer cell that defines several), from its ``def`` to the next
    line indented no deeper than it: a top-level function, or one inside another (a route inside create_app)."""
    start = source.index(f"def {name}(")
    indent = start - (source.rfind("\n", 0, start) + 1)
    end = re.search(rf"\n(?= {{0,{indent}}}\S)", source[start:])
    return source[start:start + end.start()].rstrip() if end else source[start:].rstrip()


def edit(path, old, new, count=1):
    """One step: ``old``, found exactly ``count`` times in ``path``, becomes ``new``."""
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == count, f"{path.name}: the step's anchor {old!r} moved; update the lesson's Build steps"
    path.write_text(text.replace(old, new), encoding="utf-8")


def paste_above(path, anchor, code):
    """Paste ``code`` (a function or two) above the line that starts with ``anchor``."""
    edit(path, anchor, code.strip() + "\n\n\n" + anchor)


def replace_body(path, name, body):
    """The body of the top-level function ``name`` (below its docstring, if any) becomes ``body``."""
    text = path.read_text(encoding="utf-8")
    assert text.count(f"\ndef {name}(") == 1, f"{path.name}: no single function {name}; update the Build steps"
    start = text.index(f"\ndef {name}(") + 1
    header_end = text.index(":\n", start) + 2
    docstring = re.match(r'    """.*?"""\n', text[header_end:], re.S)
    body_start = header_end + (docstring.end() if docstring else 0)
    end = re.search(r"\n(?=\S)", text[body_start:])
    body_end = body_start + end.start() + 1 if end else len(text)
    while text[body_end - 2:body_end] == "\n\n":
        body_end -= 1
    path.write_text(text[:body_start] + body.rstrip("\n") + "\n" + text[body_end:], encoding="utf-8")


def code_blocks(markdown):
    """The ```python blocks of ``markdown``, each without the indentation of the list item it sits in."""
    return ["".join(line[len(indent):] if line.strip() else "\n" for line in block.splitlines(keepends=True))
            for indent, block in re.findall(r"^( *)```python\n(.*?)^\1```", markdown, re.S | re.M)]
