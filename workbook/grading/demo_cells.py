"""Cells the grader need not run: demonstrations and check cells.

A lesson's demonstration cells show something (an attack, a page, a timing) and
define nothing an exercise needs; the check cells print the student's own ✅/❌
line, which the grader works out again anyway. Skipping both is where most of a
notebook's grading time goes (lessons 06 and 07 hash passwords in their demos).

Demonstration cells carry the tag ``demo`` in solutions/ (and so in notebooks/).
Which cells may carry it is worked out from the code, not chosen by hand: a code
cell is a demonstration unless it is an exercise cell or binds a name that a
cell which is kept reads (functions' bodies included: an exercise may call
something a cell above imported) or binds too. ``python -m workbook release``
(re)writes the tags in solutions/ from that analysis before it makes notebooks/,
so they follow every edit (and a merge that lost them is mended by the next
release). tests/test_grading.py checks the tags and that the solutions score
full marks with those cells skipped.

The grader skips a student's cell only when its source is exactly a tagged cell
of the released notebook (so edited cells always run), and re-runs the notebook
whole when an exercise then fails: a student's answer may read a name a
demonstration defined, and skipping must never change a mark.
"""
import ast
import json
import symtable
from pathlib import Path

from .. import ROOT

TAG = "demo"
EXERCISE_PREFIX = ("# Exercise ", "# Question ")   # the cells that hold a student's answer


def _tree(source):
    try:
        return ast.parse(source)
    except SyntaxError:
        return None  # IPython syntax (magics, !commands): treated as needed


class _ComprehensionNames(ast.NodeVisitor):
    """The names a cell's top-level comprehensions iterate with, and the names it binds or reads elsewhere.

    Python 3.12 inlines comprehensions (PEP 709): their loop variables then show up in the cell's
    own symbol table, as if the cell bound and read them. They do not outlive the comprehension,
    so they are taken out again, and every Python version gets the same answer.
    """

    def __init__(self):
        self.targets, self.bound, self.loaded = set(), set(), set()
        self._in_comprehension = 0

    def _comprehension(self, node):
        for generator in node.generators:
            self.targets |= {n.id for n in ast.walk(generator.target) if isinstance(n, ast.Name)}
        self._in_comprehension += 1
        self.generic_visit(node)
        self._in_comprehension -= 1

    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = _comprehension

    def visit_Name(self, node):
        if self._in_comprehension and node.id in self.targets:
            return
        (self.loaded if isinstance(node.ctx, ast.Load) else self.bound).add(node.id)

    def _scope(self, node):  # a function's or class's body has its own scope: only its name is bound here
        self.bound.add(getattr(node, "name", None))

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = visit_Lambda = _scope


def _comprehension_only(source):
    """(names bound only as comprehension variables, names read only inside comprehensions)."""
    tree = _tree(source)
    if tree is None:
        return set(), set()
    names = _ComprehensionNames()
    names.visit(tree)
    only_bound = names.targets - names.bound
    return only_bound, only_bound - names.loaded


def bound_names(source):
    """The global names a cell binds: assignments, imports, defs and classes, loop and ``except`` targets."""
    try:
        table = symtable.symtable(source, "<cell>", "exec")
    except SyntaxError:
        return set()
    bound = {symbol.get_name() for symbol in table.get_symbols()
             if symbol.is_assigned() or symbol.is_imported() or symbol.is_namespace()}
    return bound - _comprehension_only(source)[0]


def loaded_names(source):
    """The global names a cell reads: at its top level, and inside its functions (not their own locals)."""
    try:
        table = symtable.symtable(source, "<cell>", "exec")
    except SyntaxError:
        return set()
    names = {symbol.get_name() for symbol in table.get_symbols() if symbol.is_referenced()}
    stack = list(table.get_children())
    while stack:
        child = stack.pop()
        stack += child.get_children()
        names |= {symbol.get_name() for symbol in child.get_symbols()
                  if symbol.is_referenced() and symbol.is_global()}
    return names - _comprehension_only(source)[1]


def is_check_cell(source):
    """Only ``from workbook.checks import check`` and ``check(...)`` calls: the grader checks anyway."""
    tree = _tree(source)
    if tree is None or not tree.body:
        return False
    for statement in tree.body:
        if isinstance(statement, ast.ImportFrom) and statement.module == "workbook.checks" \
                and [a.name for a in statement.names] == ["check"] and statement.names[0].asname is None:
            continue
        if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call) \
                and isinstance(statement.value.func, ast.Name) and statement.value.func.id == "check":
            continue
        return False
    return True


def is_exercise_cell(source):
    return source.lstrip().startswith(EXERCISE_PREFIX)


def allowed_demo_cells(sources):
    """Indexes (among the code cells) that may be tagged ``demo``."""
    trees = [_tree(source) for source in sources]
    candidates = {index for index, (source, tree) in enumerate(zip(sources, trees, strict=False))
                  if tree is not None and not is_exercise_cell(source) and not is_check_cell(source)}
    kept = {index for index in range(len(sources)) if index not in candidates and not is_check_cell(sources[index])}
    while True:
        # A demonstration may neither define a name a kept cell reads, nor rebind one a kept cell
        # defines (a student's answer could read it: skipping the cell would change what it sees).
        needed = set().union(*(loaded_names(sources[i]) | bound_names(sources[i]) for i in kept
                               if trees[i] is not None))
        more = {i for i in candidates - kept if bound_names(sources[i]) & needed}
        if not more:
            return sorted(candidates - kept)
        kept |= more


def tagged_sources(notebook_path):
    """The sources of the code cells tagged ``demo`` in a notebook (read without nbformat)."""
    try:
        data = json.loads(Path(notebook_path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return set()
    sources = set()
    for cell in data.get("cells", []):
        if cell.get("cell_type") == "code" and TAG in cell.get("metadata", {}).get("tags", []):
            source = cell.get("source", "")
            sources.add("".join(source) if isinstance(source, list) else source)
    return sources


def lesson_notebooks(folder="solutions"):
    return sorted((ROOT / folder).glob("[0-9][0-9]_*.ipynb"))


def retag(path, check=False):
    """Set the ``demo`` tags of one solution notebook from the analysis; True if they were out of date."""
    import nbformat
    notebook = nbformat.read(path, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    allowed = set(allowed_demo_cells([cell.source for cell in code]))
    changed = False
    for index, cell in enumerate(code):
        tags = [tag for tag in cell.metadata.get("tags", []) if tag != TAG]
        if index in allowed:
            tags.append(TAG)
        if tags != cell.metadata.get("tags", []):
            changed = True
            if tags:
                cell.metadata["tags"] = tags
            else:
                cell.metadata.pop("tags", None)
    if changed and not check:
        nbformat.write(notebook, path)
    return changed


def retag_solutions(check=False):
    """What ``python -m workbook release`` does first: the solutions whose tags it wrote (or found stale)."""
    return [path for path in lesson_notebooks() if retag(path, check=check)]
