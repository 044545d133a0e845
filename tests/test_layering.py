"""The architecture's import rules (docs/architecture.md, Layers and ports), checked in fresh
interpreters, and the façade front ends may use."""

from __future__ import annotations

import ast
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import sleepchat

PACKAGE = Path(sleepchat.__file__).parent
# A finder that refuses these imports, as if they were not installed.
BLOCK = """
import sys, importlib.abc
class _Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in BLOCKED:
            raise ImportError(f'{name} is blocked by the layering test')
        return None
sys.meta_path.insert(0, _Block())
"""


def run(code: str, blocked: tuple[str, ...]) -> subprocess.CompletedProcess[str]:
    prelude = f"BLOCKED = {blocked!r}\n{BLOCK}\n"
    return subprocess.run(
        [sys.executable, "-c", prelude + code], capture_output=True, text=True, timeout=60
    )


def core_modules() -> list[str]:
    """Every module of the core, its parts' packages (recall/, reflection/, memory/) included."""
    found = pkgutil.walk_packages([str(PACKAGE / "core")], prefix="sleepchat.core.")
    return [m.name for m in found]


def test_the_core_imports_with_no_ui_store_or_model_client_installed() -> None:
    blocked = ("textual", "prompt_toolkit", "tinydb", "ollama", "llama_cpp", "httpx", "openai")
    modules = core_modules()
    assert "sleepchat.core.assistant" in modules and "sleepchat.core.ports" in modules
    assert {"sleepchat.core.reflection.reflect", "sleepchat.core.recall.verify"} <= set(modules)
    proc = run("import " + ", ".join(modules) + "\nprint('ok')", blocked)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-2000:]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
    return out


def test_the_core_never_imports_a_front_end_the_store_or_llm() -> None:
    # The ports (the model Backend, the store, the embedder) live in core/ports.py: llm/ and
    # store/ implement them and import the core, never the reverse.
    allowed_outside = ("sleepchat.core", "sleepchat.errors", "sleepchat.text")
    for path in sorted((PACKAGE / "core").rglob("*.py")):
        for name in _imports(path):
            if name.startswith("sleepchat"):
                assert name.startswith(allowed_outside), f"{path.name} imports {name}"


def test_llm_implements_the_cores_ports_and_imports_nothing_else_of_it() -> None:
    allowed = ("sleepchat.core.ports", "sleepchat.core.errors")
    for path in sorted((PACKAGE / "llm").glob("*.py")):
        for name in _imports(path):
            if name.startswith("sleepchat.core"):
                assert name.startswith(allowed), f"llm/{path.name} imports {name}"


# sleepchat.text: the shared text helpers, which the core may use too (valid_text).
STORE_MAY_IMPORT = ("sleepchat.store", "sleepchat.core", "sleepchat.errors", "sleepchat.text")


def test_the_store_may_import_the_core_but_not_the_reverse() -> None:
    for path in sorted((PACKAGE / "store").glob("*.py")):
        for name in _imports(path):
            if name.startswith("sleepchat"):
                allowed = STORE_MAY_IMPORT
                assert name.startswith(allowed), f"store/{path.name} imports {name}"


def test_tests_import_their_shared_harnesses_one_way() -> None:
    # ``tests.support.x`` and ``support.x`` are two modules to Python: two copies of each class.
    for path in sorted(Path(__file__).parent.rglob("*.py")):
        wrong = {n for n in _imports(path) if n.startswith("tests.support")}
        assert not wrong, f"{path.name}: import support.x, not {wrong.pop()}"


def _imported_names(path: Path) -> set[str]:
    """``module`` and ``module.name`` for every absolute import in ``path``."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
            out.update(f"{node.module}.{a.name}" for a in node.names)
    return out


def test_only_the_composition_root_picks_concrete_backends_and_stores() -> None:
    concrete = (
        "sleepchat.llm.ollama",
        "sleepchat.llm.llamacpp",
        "sleepchat.llm.openai",
        "sleepchat.store.Store",
        "sleepchat.store.store",
    )
    builders = ("runtime.py", "llm", "store", "devtools")  # the root, and the parts themselves
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.relative_to(PACKAGE).parts[0] in builders:
            continue
        picked = {n for n in _imported_names(path) if n.startswith(concrete)}
        assert not picked, f"{path.relative_to(PACKAGE)} builds {picked}: ask runtime.py"


def test_the_readme_architecture_names_every_part_of_the_core() -> None:
    """The README's tree of parts stays true: a new core module must be placed in it."""
    readme = (PACKAGE.parent / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Architecture") : readme.index("## Development")]
    core = PACKAGE / "core"
    names = [
        f"{p.parent.name}/" if p.stem == "__init__" else f"{p.stem}.py"
        for p in core.rglob("*.py")
        if p.parent != core or p.stem != "__init__"
    ]
    missing = [m for m in sorted(names) if m not in section]
    assert not missing, f"README's Architecture section does not name core/{missing}"
    for part in ("store/", "llm/", "tui/", "config/", "runtime.py", "The flow of a question"):
        assert part in section


# -- the façade: front ends call the Assistant's public methods and read its views -----------

FRONT_ENDS = ("tui", "plain.py", "script.py", "commands.py")
# Properties that hold plain values (records, lists of records, settings): a front end may read
# into them. Every other public member is a method to call; the parts behind the façade (the
# store, the backend, the sleep loop, the open session's state) are not reachable at all.
VALUES = {
    "session",
    "history",
    "settings",
    "configured",
    "notes",
    "predictions",
    "fresh_predictions",
    "reflections",
    "pending_changes",
    "clock",  # the time the core stamps records with (FakeClock in tests): ages shown
}
# 25 when the façade was cut down; attached documents added one (attach, which detaches too).
MAX_METHODS = 26


def _public_api() -> tuple[set[str], set[str]]:
    from sleepchat.core.assistant import Assistant

    members = {n: v for n, v in vars(Assistant).items() if not n.startswith("_")}
    props = {n for n, v in members.items() if isinstance(v, property)}
    return set(members) - props, props


def _is_assistant(node: ast.AST, aliases: set[str]) -> bool:
    if isinstance(node, ast.Name):
        return node.id == "assistant" or node.id in aliases
    return isinstance(node, ast.Attribute) and node.attr == "assistant"


def reach_throughs(source: str, api: set[str]) -> list[str]:
    """What ``source`` reaches on an Assistant beyond its façade: a private name, a name that is
    not public API, or ``assistant.<part>.`` (an attribute of anything but a value)."""
    tree = ast.parse(source)
    aliases: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if _is_assistant(node.value, aliases):
                aliases.update(t.id for t in targets if isinstance(t, ast.Name))
        elif (
            isinstance(node, ast.arg)
            and node.annotation is not None
            and re.search(r"\bAssistant\b", ast.unparse(node.annotation))
        ):
            aliases.add(node.arg)
    found: list[str] = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and _is_assistant(node.value, aliases)
            and (node.attr.startswith("_") or node.attr not in api)
        ):
            found.append(f"line {node.lineno}: assistant.{node.attr}")
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Attribute)
            and _is_assistant(node.value.value, aliases)
            and node.value.attr not in VALUES
        ):
            found.append(f"line {node.lineno}: assistant.{node.value.attr}.{node.attr}")
    return found


def test_the_reach_through_check_sees_a_part_a_private_name_and_an_unknown_one() -> None:
    methods, props = _public_api()
    source = (
        "async def f(assistant: Assistant, app):\n"
        "    await assistant.store.search('x', 5)\n"
        "    a = app.assistant\n"
        "    a._emit(None)\n"
        "    a.profile.configure(model='m')\n"
        "    print(a.session.id, a.ask, assistant.history)\n"
    )
    assert sorted(reach_throughs(source, methods | props)) == [
        "line 2: assistant.store",
        "line 2: assistant.store.search",
        "line 4: assistant._emit",
        "line 5: assistant.profile",
        "line 5: assistant.profile.configure",
    ]


def test_front_ends_use_only_the_assistants_public_methods_and_views() -> None:
    methods, props = _public_api()
    assert len(methods) <= MAX_METHODS, f"Assistant has {len(methods)} public methods: {methods}"
    assert props >= VALUES
    paths = [
        p for p in sorted(PACKAGE.rglob("*.py")) if p.relative_to(PACKAGE).parts[0] in FRONT_ENDS
    ]
    assert len(paths) > 10
    for path in paths:
        found = reach_throughs(path.read_text(encoding="utf-8"), methods | props)
        assert not found, f"{path.relative_to(PACKAGE)} reaches through the façade: {found}"
