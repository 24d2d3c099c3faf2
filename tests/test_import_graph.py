"""The import graph of workbook/: no circle, and no student-facing module reaching into the grader.

Read from the source with ast, every import counted: at the top of a module and inside functions
(an import in a function is still a dependency, only a later one). Student-facing: every module
outside grading/ (the instructor's), authoring/ (the workbook's authors') and testing/ (the
project's own tests) — what the lessons and a student's check import.
"""
import ast

from workbook import ROOT

PACKAGE = ROOT / "workbook"
NOT_STUDENT_FACING = ("workbook.grading", "workbook.authoring", "workbook.testing")
# `python -m workbook COMMAND`, the command line of every audience (grade, autograder, check, diffs,
# release): it hands each command to its room. Nothing imports it (checked below).
ENTRY_POINT = "workbook.__main__"


def module_name(path):
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in PACKAGE.rglob("*.py") if "__pycache__" not in path.parts}


def imported_modules(name, path):
    """The workbook modules that ``name`` imports, anywhere in its source."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package if node.level else ""
            source = ".".join(part for part in (base, node.module) if part)
            for alias in node.names:  # `from . import integrity` imports a module; `from .model import X` a name
                found.add(f"{source}.{alias.name}" if f"{source}.{alias.name}" in MODULES else source)
    return {module for module in found if module in MODULES and module != name}


GRAPH = {name: imported_modules(name, path) for name, path in MODULES.items()}


def circles(graph):
    """Every strongly connected group of more than one module (Tarjan's algorithm), each sorted."""
    index, low, stack, on_stack, groups = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while not group or group[-1] != node:
                group.append(stack.pop())
                on_stack.discard(group[-1])
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def test_the_graph_is_read_from_every_kind_of_import():
    # Each kind the reader must see, from a module known to have it (if one moves, pick another).
    assert "workbook.stages" in GRAPH["workbook.listings"]                   # from .stages import ... (top)
    assert "workbook.checks" in GRAPH["workbook.grading.grader"]             # from .. import checks (in a function)
    assert "workbook.grading.integrity" in GRAPH["workbook.grading.grader"]  # from . import integrity
    assert "workbook.my_app" in GRAPH["workbook.grading.worker"]             # import workbook.my_app (in a function)
    assert "workbook" in GRAPH["workbook.stages"]                            # from . import ROOT: the package


def test_circles_are_found():
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert circles({"a": {"b"}, "b": set()}) == []


def test_workbook_has_no_import_circle():
    found = circles(GRAPH)
    assert not found, "import circles in workbook/ (module-level and in-function imports both):\n" + "\n".join(
        " <-> ".join(group) for group in found)


def test_no_student_facing_module_imports_the_grader():
    student_facing = [name for name in GRAPH if not name.startswith(NOT_STUDENT_FACING) and name != ENTRY_POINT]
    assert "workbook.my_app" in student_facing and "workbook.checks.lesson_05" in student_facing
    reaching = {name: sorted(target for target in GRAPH[name] if target.startswith("workbook.grading"))
                for name in student_facing}
    reaching = {name: targets for name, targets in reaching.items() if targets}
    assert not reaching, f"student-facing modules importing workbook.grading: {reaching}"


def test_nothing_imports_the_command_line_entry_point():
    assert not [name for name, targets in GRAPH.items() if ENTRY_POINT in targets]
