"""No import cycles inside bot/.

Read from the source with ``ast`` (nothing is imported): an edge A → B for each ``import`` /
``from … import`` in A that names a module B of bot/ (importing ``bot.x.y`` also runs the
package ``bot.x``'s ``__init__``, so that is an edge too; a module's own parent packages are
not). Imports under ``if TYPE_CHECKING:`` are annotations only and are left out.

* Module level: no cycle at all. A cycle there breaks (or silently half-initialises) whichever
  module is imported first.
* With the imports deferred into functions counted too: no cycle except the few listed in
  ``DEFERRED_OK``, each a pair that reads the other only at call time. A new deferred cycle
  usually means a module is in the wrong place (as rooms were in bot/faults/ while schedules
  used them, or task notices importing the /任务 command): move it instead of deferring.
"""
from __future__ import annotations

import ast
from pathlib import Path

BOT = Path(__file__).parents[1] / "bot"

DEFERRED_OK = {
    # write_shipped (a release tool) names holidays as workdays does; workdays reads the shipped file
    frozenset({"bot.timeparse.calendar_data", "bot.timeparse.workdays"}),
    # the escalation ladder's rungs call the flow's helpers; the flow reads the ladder at call time
    frozenset({"bot.faults.flows", "bot.faults.ladder"}),
    # the quarterly review is announced to the schedule's targets; announcements plan the review
    frozenset({"bot.norms.announce", "bot.norms.quarterly"}),
    # the survey adds verbs to /数据; /数据 运营 shows the survey's section
    frozenset({"bot.commands.data", "bot.survey.commands"}),
}


def _modules() -> dict[str, Path]:
    mods = {}
    for path in BOT.rglob("*.py"):
        parts = list(path.relative_to(BOT.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        mods[".".join(parts)] = path
    return mods


def _type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.Module, name: str, is_pkg: bool, deferred: bool) -> list[str]:
    out: list[str] = []

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.Import):
                out.extend(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = name.split(".") if is_pkg else name.split(".")[:-1]
                    base = base[: len(base) - (node.level - 1)]
                    mod = ".".join(base + ([node.module] if node.module else []))
                else:
                    mod = node.module or ""
                out.append(mod)
                out.extend(f"{mod}.{a.name}" for a in node.names)
            elif isinstance(node, ast.If):
                if not _type_checking(node.test):
                    visit(node.body)
                    visit(node.orelse)
            elif isinstance(node, ast.Try):
                visit(node.body)
                visit(node.orelse)
                visit(node.finalbody)
                for handler in node.handlers:
                    visit(handler.body)
            elif isinstance(node, (ast.With, ast.AsyncWith)):
                visit(node.body)
            elif deferred and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef,
                                                ast.For, ast.AsyncFor, ast.While)):
                visit(node.body)
                visit(getattr(node, "orelse", []))

    visit(tree.body)
    return out


def _graph(deferred: bool) -> dict[str, set[str]]:
    mods = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in mods.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        deps = set()
        for imported in _imports(tree, name, path.name == "__init__.py", deferred):
            parts = imported.split(".")
            for i in range(1, len(parts) + 1):
                candidate = ".".join(parts[:i])
                if candidate in mods and candidate != name and not name.startswith(candidate + "."):
                    deps.add(candidate)
        graph[name] = deps
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """Strongly connected components with more than one module (iterative Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(component)
    return found


def test_the_walker_sees_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [{"a", "b", "c"}]
    graph = _graph(deferred=False)
    assert "bot.timers" in graph["bot.faults.flows"] and "bot.schedule.rooms" in graph["bot.schedule.service"]


def test_no_module_level_import_cycle_in_bot():
    assert _cycles(_graph(deferred=False)) == []


def test_deferred_imports_close_no_new_cycle():
    new = [sorted(c) for c in _cycles(_graph(deferred=True)) if frozenset(c) not in DEFERRED_OK]
    assert new == []
