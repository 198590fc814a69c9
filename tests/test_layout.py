"""The generated layout: every file under template/ is rendered by some answers, a
render of each kind with and without every extra has one module per concern, no
file longer than 300 lines, no run of lines written twice, and no word in its code
about how it was made."""

import ast
import re
from pathlib import Path

import pytest
import yaml

from conftest import EXTRAS, MODEL_KINDS, PROTOCOL_EXTRAS, ROOT, render_project

COPIER_YML = yaml.safe_load((ROOT / "copier.yml").read_text(encoding="utf-8"))
# (model kind, extras) of the renders that, together, hold every template file,
# and the other protocol of http-api with the extras it takes.
RENDERS = [(kind, extras) for kind in MODEL_KINDS for extras in ([], EXTRAS)]
ANTHROPIC = ("http-api", PROTOCOL_EXTRAS["anthropic-messages"])
HTTP_API_MODULES = [
    "__init__",
    "client",
    "discovery",
    "headers",
    "model_table",
    "models",
    "protocol",
    "retries",
    "transport",
    "turns",
    "wire",
]
# Words about the making of a project, not about the plugin.
TEMPLATE_WORDING = re.compile(
    r"copier|\bextras?\b|\bquestions?\b|model_kind|\brender(ed|s)?\b|\{\{|\{%|jinja",
    re.IGNORECASE,
)


@pytest.fixture(scope="module")
def renders(tmp_path_factory) -> dict[tuple[str, bool], Path]:
    """The renders, named llm-markov whatever their kind."""
    root = tmp_path_factory.mktemp("layout")
    found = {
        (kind, bool(extras)): render_project(
            root / f"{kind}-{len(extras)}" / "llm-markov",
            {"model_kind": kind, "extras": extras, "plugin_name": "llm-markov"},
        )
        for kind, extras in RENDERS
    }
    found["anthropic-messages", True] = render_project(
        root / "anthropic" / "llm-markov",
        {
            "model_kind": "http-api",
            "api_protocol": "anthropic-messages",
            "extras": ANTHROPIC[1],
            "plugin_name": "llm-markov",
        },
    )
    return found


def files_of(project: Path) -> set[str]:
    return {
        path.relative_to(project).as_posix()
        for path in project.rglob("*")
        if path.is_file() and ".git" not in path.parts
    }


def template_files() -> set[str]:
    """The paths under template/ as a render with module_name llm_markov names them
    (the answers file is named by copier itself)."""
    names = set()
    for path in (ROOT / "template").rglob("*"):
        if path.is_file():
            name = path.relative_to(ROOT / "template").as_posix()
            name = name.replace("{{module_name}}", "llm_markov").removesuffix(".jinja")
            names.add(
                name.replace("{{_copier_conf.answers_file}}", ".copier-answers.yml")
            )
    return names


def test_every_template_file_is_rendered_by_some_answers(renders):
    rendered = set().union(*(files_of(project) for project in renders.values()))
    assert template_files() - rendered == set()


def test_the_extras_in_exclude_are_the_extras_choices():
    """_exclude names each extra's files; a new extra must be added there too."""
    patterns = " ".join(COPIER_YML["_exclude"])
    named = set(re.findall(r"'(\w+)' in \(extras", patterns))
    assert named == set(EXTRAS)


def test_markov_without_extras_is_the_tutorials_single_module(renders):
    files = files_of(renders["markov", False])
    assert "llm_markov.py" in files
    assert not [name for name in files if name.startswith("llm_markov/")]
    assert not (renders["markov", False] / "llm_markov").exists()


@pytest.mark.parametrize(
    "kind, modules",
    [
        ("markov", ["__init__", "markov"]),
        ("http-api", HTTP_API_MODULES),
    ],
)
def test_other_renders_are_a_package_of_one_module_per_concern(renders, kind, modules):
    if kind != "markov":
        files = files_of(renders[kind, False])
        assert {f"llm_markov/{name}.py" for name in modules} == {
            name for name in files if name.startswith("llm_markov")
        }
    files = files_of(renders[kind, True])
    expected = {f"llm_markov/{name}.py" for name in [*modules, *EXTRAS]}
    assert {name for name in files if name.startswith("llm_markov")} == expected
    assert {f"tests/test_{extra}.py" for extra in EXTRAS} <= files


def test_the_other_protocol_has_the_same_modules(renders):
    files = files_of(renders["anthropic-messages", True])
    expected = {f"llm_markov/{name}.py" for name in HTTP_API_MODULES + ANTHROPIC[1]}
    assert {name for name in files if name.startswith("llm_markov")} == expected
    assert files == files_of(renders["http-api", True]) - {
        "llm_markov/embeddings.py",
        "tests/test_embeddings.py",
    }


def test_hooks_live_in_init_and_nowhere_else(renders):
    for (kind, extras), project in renders.items():
        if (kind, extras) == ("markov", False):
            continue
        for path in (project / "llm_markov").glob("*.py"):
            hooks = path.read_text(encoding="utf-8").count("@llm.hookimpl")
            assert bool(hooks) is (path.name == "__init__.py"), path


def test_no_generated_file_is_longer_than_300_lines(renders):
    for project in renders.values():
        for path in project.rglob("*.py"):
            lines = path.read_text(encoding="utf-8").count("\n")
            assert lines <= 300, f"{path.relative_to(project)}: {lines} lines"


# Lines that say little on their own: a run of six others is what counts as repeated.
THIN_LINE = re.compile(r"[\s)\]}:,]*|#.*|(from \S+ )?import .*|@\w+.*|\.\.\.|pass")
REPEATED_RUN = 6


def signature_lines(source: str) -> set[int]:
    """The line numbers of each function's signature: a sync function and its async
    twin take the same parameters (pylint's duplicate-code check leaves signatures
    out for the same reason)."""
    return {
        number
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        for number in range(node.lineno, node.body[0].lineno)
    }


def repeated_runs(project: Path) -> list[str]:
    """Each place where REPEATED_RUN lines of code (blank lines, comments, imports,
    decorators, signatures and closing brackets left out, indentation ignored)
    stand again, word for word, somewhere else in the project's Python."""
    first_seen: dict[tuple[str, ...], str] = {}
    repeats = []
    for path in sorted(project.rglob("*.py")):
        source = path.read_text("utf-8")
        signatures = signature_lines(source)
        numbered = [
            (number, line.strip())
            for number, line in enumerate(source.splitlines(), 1)
            if not THIN_LINE.fullmatch(line.strip()) and number not in signatures
        ]
        for start in range(len(numbered) - REPEATED_RUN + 1):
            window = numbered[start : start + REPEATED_RUN]
            run = tuple(line for _, line in window)
            place = f"{path.relative_to(project)}:{window[0][0]}"
            seen = first_seen.setdefault(run, place)
            if seen != place:
                repeats.append(f"{place} repeats {seen}")
    return repeats


def test_no_run_of_lines_is_written_twice(renders):
    """What a reader would want to be one function is one: the same shape with other
    names is left to review (a tool that tells boilerplate from repetition)."""
    for project in renders.values():
        assert repeated_runs(project) == [], project.name


def test_a_run_written_twice_is_found(tmp_path):
    body = "".join(f"    total += {n}\n" for n in range(REPEATED_RUN))
    for name in ("one", "two"):
        (tmp_path / f"{name}.py").write_text(f"def {name}():\n{body}", "utf-8")
    assert repeated_runs(tmp_path) == ["two.py:2 repeats one.py:2"]


def test_no_code_speaks_of_how_it_was_made(renders):
    for project in renders.values():
        for path in project.rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            found = [match.group(0) for match in TEMPLATE_WORDING.finditer(text)]
            assert not found, f"{path.relative_to(project)}: {found}"


NESTED_IMPORT = re.compile(r"[ \t]+(import \w|from \S+ import |.*importlib)")


def undeferred_imports(source: str) -> list[str]:
    """Imports inside a function without a comment above them that begins
    "# Deferred:", saying why the import waits."""
    lines = source.splitlines()
    found = []
    for number, line in enumerate(lines):
        if not NESTED_IMPORT.match(line):
            continue
        comments = []
        above = number - 1
        while above >= 0 and lines[above].strip().startswith("#"):
            comments.append(lines[above].strip())
            above -= 1
        if not comments or not comments[-1].startswith("# Deferred:"):
            found.append(line.strip())
    return found


def test_no_import_inside_a_function(renders):
    """Imports sit at the top of each module, so a reader sees what it needs; one
    inside a function defers a heavy import, and its comment says so."""
    for project in renders.values():
        for path in project.rglob("*.py"):
            assert undeferred_imports(path.read_text("utf-8")) == [], path


def test_an_import_inside_a_function_needs_its_reason():
    source = (
        "def a():\n    import json\n"
        "def b():\n    # Deferred: slow to import.\n    # More.\n    import csv\n"
        "def c():\n    # Slow.\n    x = importlib.import_module('csv')\n"
    )
    assert undeferred_imports(source) == [
        "import json",
        "x = importlib.import_module('csv')",
    ]


def test_the_readme_table_names_every_module(renders, tmp_path):
    """ "Where things are", in each README language, names every module of the
    plugin: a reader finds each file there."""
    chinese = render_project(
        tmp_path / "zh" / "llm-markov",
        {"model_kind": "http-api", "extras": EXTRAS, "readme_language": "zh"},
    )
    for project in [*renders.values(), chinese]:
        readme = (project / "README.md").read_text(encoding="utf-8")
        package = project / "llm_markov"
        modules = sorted(package.glob("*.py")) if package.is_dir() else []
        names = [path.relative_to(project).as_posix() for path in modules]
        missing = [name for name in names if f"`{name}`" not in readme]
        assert not missing, (project.parent.name, missing)
