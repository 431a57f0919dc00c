"""The layout rules of docs/architecture.md, checked on the source (``make layout``).

- No production module over 400 lines (``--max-lines``).
- No import cycle between the modules of a package tree (function-level imports count;
  imports under ``if TYPE_CHECKING:`` do not, since they never run).
- The layers: ``booking`` imports neither Flask, paho, ``devices`` nor ``kiosk``; ``devices``
  never imports ``kiosk``; the simulator (``linli_sim``) imports none of ours.
- Nothing assigns ``.status`` (or a device command's ``.state``) outside a method of a class
  in a models module: a state changes only through its model's own methods.
- One way to the database: only the modules in ``DATABASE_DOORS`` make engines or sessions of
  their own, import a database driver or send SQL text past SQLAlchemy's compiler; the rest
  go through ``booking.core.db.Database`` and its units of work.

What the code still breaks is listed in ``tools/layout_baseline.txt`` (``--baseline``): a
ratchet. A problem not listed there fails, and so does a listed one that is gone, so the list
only shrinks and a fix is recorded by deleting its line. Stdlib only: it runs before anything
is installed.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

# Package name -> its folder, relative to the root.
PACKAGES = {
    "booking": "booking",
    "devices": "devices",
    "kiosk": "kiosk",
    "linli_sim": "firmware-sim/linli_sim",
}
# What each layer must never import (a name and everything under it).
FORBIDDEN = {
    "booking": ("flask", "paho", "devices", "kiosk"),
    "devices": ("kiosk", "flask"),
    "linli_sim": ("booking", "devices", "kiosk"),
}
RULES = ("size", "cycles", "layers", "status", "database")
# The only modules that reach the database other than through ``Database``, each for a reason
# its docstring gives.
DATABASE_DOORS = frozenset(
    {
        "booking/core/db.py",  # the Database itself: the engine, its sessions and units of work
        "booking/core/driver_sql.py",  # the ingest path's raw statements, with their benchmark
        "devices/commands/notices.py",  # PostgreSQL LISTEN needs a connection of its own
        "kiosk/migrate.py",  # Alembic runs before there is a Database to ask
        "kiosk/scheduler_lock.py",  # an advisory lock lives on a connection held open for it
    }
)
DATABASE_DRIVERS = ("psycopg", "psycopg2", "sqlite3")
# Names that make a way to the database of their own (an engine, a session over a raw
# connection) or send SQL text without SQLAlchemy's compiler.
DATABASE_MAKERS = frozenset({"create_engine", "sessionmaker", "Session", "exec_driver_sql"})
# The attributes that hold a stateful model's state (a device command's is ``state``).
STATE_ATTRIBUTES = frozenset({"status", "state"})


@dataclass(frozen=True)
class Problem:
    rule: str
    where: str
    what: str

    def __str__(self) -> str:
        return f"{self.where}: [{self.rule}] {self.what}"


@dataclass(frozen=True)
class Module:
    name: str
    path: Path
    tree: ast.Module
    is_package: bool


def modules(root: Path) -> Iterator[Module]:
    for package, folder in PACKAGES.items():
        base = root / folder
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*.py")):
            parts = list(path.relative_to(base).with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            if is_package:
                parts = parts[:-1]
            name = ".".join([package, *parts])
            yield Module(name, path, ast.parse(path.read_text(), str(path)), is_package)


def _type_checking_only(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _type_checking_only(node):
            yield from (n for child in node.orelse for n in _import_nodes_of(child))
            continue
        yield from _import_nodes_of(node)


def _import_nodes_of(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    if isinstance(node, ast.Import | ast.ImportFrom):
        yield node
    else:
        yield from _import_nodes(node)


def imported_names(module: Module, known: set[str]) -> set[str]:
    """The names a module imports, resolved to modules of ours where they are ours."""
    found: set[str] = set()
    package = module.name if module.is_package else module.name.rpartition(".")[0]
    for node in _import_nodes(module.tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
            continue
        if node.level:
            base_parts = package.split(".")
            base_parts = base_parts[: len(base_parts) - (node.level - 1)]
            base = ".".join(base_parts + ([node.module] if node.module else []))
        else:
            base = node.module or ""
        submodules = {f"{base}.{alias.name}" for alias in node.names} & known
        found.update(submodules)  # `from pkg import module` depends on the module...
        if len(submodules) < len(node.names):
            found.add(base)  # ...and on the package only for names defined in it
    return found


def check_size(mods: Iterable[Module], root: Path, max_lines: int) -> Iterator[Problem]:
    for module in mods:
        lines = len(module.path.read_text().splitlines())
        if lines > max_lines:
            yield Problem("size", str(module.path.relative_to(root)),
                          f"{lines} lines (at most {max_lines})")  # fmt: skip


def check_layers(mods: Iterable[Module], root: Path, known: set[str]) -> Iterator[Problem]:
    for module in mods:
        forbidden = FORBIDDEN.get(module.name.split(".")[0], ())
        for name in sorted(imported_names(module, known)):
            top = name.split(".")[0]
            if top in forbidden:
                yield Problem("layers", str(module.path.relative_to(root)),
                              f"imports {name}, which {module.name.split('.')[0]} must not")  # fmt: skip


def _graph(mods: list[Module], known: set[str]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for module in mods:
        targets = set()
        for name in imported_names(module, known):
            # `import a.b.c` runs a, a.b and a.b.c: the deepest module of ours is the edge.
            parts = name.split(".")
            for end in range(len(parts), 0, -1):
                candidate = ".".join(parts[:end])
                if candidate in known:
                    if candidate != module.name:
                        targets.add(candidate)
                    break
        graph[module.name] = targets
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle path for each strongly connected component of more than one module
    (Tarjan's algorithm, iterative so a deep package cannot overflow the stack)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(sorted(component))
    return [_path_through(graph, component) for component in components]


def _path_through(graph: dict[str, set[str]], component: list[str]) -> list[str]:
    """A cycle inside the component, from its first module back to it (breadth first)."""
    members = set(component)
    start = component[0]
    came_from: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for child in sorted(graph[node] & members):
                if child == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(came_from[path[-1]])
                    return [*reversed(path), start]
                if child not in came_from:
                    came_from[child] = node
                    following.append(child)
        frontier = following
    return component


def check_cycles(mods: list[Module], known: set[str]) -> Iterator[Problem]:
    for cycle in _cycles(_graph(mods, known)):
        yield Problem("cycles", cycle[0], "imports in a circle: " + " -> ".join(cycle))


def _is_models_module(module: Module) -> bool:
    return "models" in module.name.split(".")


def check_status(mods: Iterable[Module], root: Path) -> Iterator[Problem]:
    for module in mods:
        allowed: set[int] = set()
        if _is_models_module(module):
            # Inside a class's methods only: the model changes its own state.
            for cls in (n for n in ast.walk(module.tree) if isinstance(n, ast.ClassDef)):
                for method in cls.body:
                    if isinstance(method, ast.FunctionDef | ast.AsyncFunctionDef):
                        allowed.update(id(n) for n in ast.walk(method))
        for node in ast.walk(module.tree):
            targets: list[ast.expr] = []
            if isinstance(node, ast.Assign):
                targets = node.targets
            elif isinstance(node, ast.AugAssign | ast.AnnAssign):
                targets = [node.target]
            for target in targets:
                if (isinstance(target, ast.Attribute) and target.attr in STATE_ATTRIBUTES
                        and id(target) not in allowed):  # fmt: skip
                    yield Problem("status", f"{module.path.relative_to(root)}:{node.lineno}",
                                  f"assigns .{target.attr} outside its model's methods")  # fmt: skip


def check_database(mods: Iterable[Module], root: Path) -> Iterator[Problem]:
    for module in mods:
        where = str(module.path.relative_to(root))
        if where in DATABASE_DOORS or module.name.startswith("linli_sim"):
            continue
        for node in ast.walk(module.tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                         else [node.module or ""])  # fmt: skip
                for name in names:
                    if name.split(".")[0] in DATABASE_DRIVERS:
                        yield Problem("database", f"{where}:{node.lineno}",
                                      f"imports the driver {name}; use the Database")  # fmt: skip
            elif isinstance(node, ast.Call):
                called = node.func
                name = (called.attr if isinstance(called, ast.Attribute)
                        else called.id if isinstance(called, ast.Name) else "")  # fmt: skip
                if name in DATABASE_MAKERS:
                    yield Problem("database", f"{where}:{node.lineno}",
                                  f"calls {name}(): a way to the database beside the Database's")  # fmt: skip


def check(root: Path, *, max_lines: int = 400, skip: Iterable[str] = ()) -> list[Problem]:
    mods = list(modules(root))
    known = {module.name for module in mods}
    skipped = set(skip)
    problems: list[Problem] = []
    if "size" not in skipped:
        problems += check_size(mods, root, max_lines)
    if "cycles" not in skipped:
        problems += check_cycles(mods, known)
    if "layers" not in skipped:
        problems += check_layers(mods, root, known)
    if "status" not in skipped:
        problems += check_status(mods, root)
    if "database" not in skipped:
        problems += check_database(mods, root)
    return problems


def baseline_key(problem: Problem) -> str:
    """A problem as the baseline lists it: without line numbers, which move with any edit."""
    where = problem.where.split(":")[0]
    return f"{problem.rule} {where}" if problem.rule != "cycles" else f"cycles {problem.what}"


def against_baseline(problems: list[Problem], baseline: list[str]) -> list[str]:
    """What to report: problems beyond the baseline, and baseline lines that are fixed."""
    allowed = Counter(baseline)
    seen = Counter(baseline_key(problem) for problem in problems)
    messages = []
    for problem in problems:
        key = baseline_key(problem)
        if seen[key] > allowed[key]:
            messages.append(f"{problem} (not in the baseline)")
    for key in sorted(allowed):
        if seen[key] < allowed[key]:
            messages.append(f"fixed: {key!r} (x{allowed[key] - seen[key]}): "
                            "delete it from the baseline")  # fmt: skip
    return messages


def read_baseline(path: Path) -> list[str]:
    lines = (line.strip() for line in path.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", nargs="?", default=".", type=Path)
    parser.add_argument("--max-lines", type=int, default=400)
    parser.add_argument("--skip", action="append", choices=RULES, default=[])
    parser.add_argument("--baseline", type=Path, help="the known problems still to fix")
    parser.add_argument("--write-baseline", type=Path, help="write today's problems there")
    args = parser.parse_args(argv)
    problems = check(args.root.resolve(), max_lines=args.max_lines, skip=args.skip)
    if args.write_baseline:
        args.write_baseline.write_text(
            "# Layout problems still to fix (tools/layout_check.py). Only ever delete lines.\n"
            + "".join(f"{key}\n" for key in sorted(baseline_key(p) for p in problems))
        )
        return 0
    if args.baseline:
        messages = against_baseline(problems, read_baseline(args.baseline))
    else:
        messages = [str(problem) for problem in problems]
    for message in messages:
        print(message)
    if messages:
        print(f"{len(messages)} layout problem(s)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
