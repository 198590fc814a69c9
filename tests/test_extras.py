"""The extras (question `extras`), rendered: every extra with every model kind, and
all extras together, pass lint and the type checker; the README has a section per
extra; `copier update` adds an extra to a project its user has edited.

The extras installed and driven through `llm` are in test_extras_installed.py.
"""

import itertools
import os
import re
from pathlib import Path

import copier
import pytest
import tomllib

from conftest import EXTRAS, MODEL_KINDS, render_project
from plugin_env import PluginEnv, check, repo_env, run
from test_layout import repeated_runs
from test_update import (
    answers_of,
    assert_no_conflicts,
    make_user_edits,
    render_v1,
    template_v1,  # noqa: F401 (the fixture of a git repository of this template)
)

KINDS = MODEL_KINDS
ALL_COMBINATIONS = os.environ.get("TEMPLATE_ALL_COMBINATIONS") == "1"
HOOKS = {
    "embeddings": "register_embedding_models",
    "tools": "register_tools",
    "fragments": "register_fragment_loaders",
    "commands": "register_commands",
    "templates": "register_template_loaders",
}
TY = "ty==0.0.104"
README_SECTIONS = {
    "en": ["Embeddings", "Tools", "Fragments", "Commands", "Templates"],
    "zh": [
        "嵌入（Embeddings）",
        "工具（Tools）",
        "片段（Fragments）",
        "命令（Commands）",
        "模板（Templates）",
    ],
}
# ty's diagnostics without line and column, to compare renders whose lines differ.
TY_LOCATION = re.compile(r":\d+:\d+:")


def subsets(items):
    return [
        list(combination)
        for size in range(len(items) + 1)
        for combination in itertools.combinations(items, size)
    ]


# Helpers ------------------------------------------------------------------------


def render_kind(destination: Path, kind: str, extras: list[str]) -> Path:
    """A render named llm-markov whatever its kind (http-api's default is another)."""
    answers = {"model_kind": kind, "extras": extras, "plugin_name": "llm-markov"}
    return render_project(destination, answers)


def ty_diagnostics(env: PluginEnv, project: Path) -> set[str]:
    result = run(
        env.bin / "ty",
        "check",
        "--output-format",
        "concise",
        "--python",
        env.path,
        cwd=project,
        env=env.env(),
    )
    lines = (result.stdout + result.stderr).splitlines()
    diagnostics = {TY_LOCATION.sub(":", line) for line in lines if "error[" in line}
    assert result.returncode == 0 or diagnostics, result.stdout + result.stderr
    return diagnostics


def assert_lint_clean(env: PluginEnv, project: Path) -> None:
    check(env.bin / "ruff", "check", "--no-cache", ".", cwd=project)
    check(env.bin / "ruff", "format", "--no-cache", "--check", ".", cwd=project)


# Fixtures -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def checker(tmp_path_factory) -> PluginEnv:
    return repo_env(tmp_path_factory.mktemp("llm-user"))


@pytest.fixture(scope="module")
def all_extras(tmp_path_factory) -> dict[str, Path]:
    """A project of each kind with every extra; the http-api one's README is in
    Chinese, so both languages of the extras' README sections are rendered."""
    root = tmp_path_factory.mktemp("all-extras")
    return {
        kind: render_project(
            root / kind / "llm-markov",
            {
                "model_kind": kind,
                "extras": EXTRAS,
                "readme_language": language,
                "plugin_name": "llm-markov",
            },
        )
        for kind, language in [("markov", "en"), ("http-api", "zh")]
    }


# Renders ------------------------------------------------------------------------


def test_no_extras_renders_no_extra_code(default_project):
    module = (default_project / "llm_markov.py").read_text(encoding="utf-8")
    assert module.count("@llm.hookimpl") == 1
    assert "extra" not in module
    assert not (default_project / "llm_markov").exists()
    pyproject = tomllib.loads((default_project / "pyproject.toml").read_text("utf-8"))
    assert pyproject["project"]["dependencies"] == [
        "click>=8.3.1",
        "llm>=0.33",
        "pydantic>=2.4",
    ]
    tests = {path.name for path in (default_project / "tests").iterdir()}
    assert not {f"test_{extra}.py" for extra in EXTRAS} & tests


@pytest.mark.parametrize("extra", EXTRAS)
@pytest.mark.parametrize("kind", KINDS)
def test_each_extra_passes_lint_and_ty(checker, tmp_path, kind, extra):
    project = render_kind(tmp_path / "llm-markov", kind, [extra])
    hooks = (project / "llm_markov" / "__init__.py").read_text(encoding="utf-8")
    assert f"def {HOOKS[extra]}(" in hooks
    assert (project / "llm_markov" / f"{extra}.py").is_file()
    assert (project / "tests" / f"test_{extra}.py").is_file()
    others = set(EXTRAS) - {extra}
    assert not [
        name for name in others if (project / "llm_markov" / f"{name}.py").exists()
    ]
    assert_lint_clean(checker, project)
    assert ty_diagnostics(checker, project) == set()
    assert repeated_runs(project) == []


@pytest.mark.parametrize("kind", KINDS)
def test_all_extras_pass_lint_and_ty(checker, all_extras, kind):
    hooks = (all_extras[kind] / "llm_markov" / "__init__.py").read_text("utf-8")
    assert all(f"def {hook}(" in hooks for hook in HOOKS.values())
    assert_lint_clean(checker, all_extras[kind])
    assert ty_diagnostics(checker, all_extras[kind]) == set()


def test_hooks_come_in_a_fixed_order(all_extras, tmp_path):
    """The hooks follow register_models in one order, whatever the answer's order."""
    backward = render_kind(tmp_path / "llm-markov", "markov", EXTRAS[::-1])
    module = (all_extras["markov"] / "llm_markov" / "__init__.py").read_text("utf-8")
    assert module == (backward / "llm_markov" / "__init__.py").read_text("utf-8")
    hooks = re.findall(r"@llm\.hookimpl\ndef (\w+)", module)
    assert hooks == [
        "register_models",
        *(HOOKS[name] for name in ["embeddings", "tools", "fragments", "templates"]),
        "register_commands",
    ]


README_COMMANDS = [
    "llm embed -m markov-embed",
    "llm similar animals",
    "-T count_occurrences",
    "-f markov:notes",
    "-T Notebook",
    "llm -t markov:",
]


@pytest.mark.parametrize(
    "kind, language, commands",
    [
        ("markov", "en", [*README_COMMANDS, "llm markov stats book.txt"]),
        ("http-api", "zh", [*README_COMMANDS, "llm markov models --refresh"]),
    ],
)
def test_readme_has_a_section_per_extra(all_extras, kind, language, commands):
    readme = (all_extras[kind] / "README.md").read_text(encoding="utf-8")
    for command in commands:
        assert command in readme
    headings = re.findall(r"^## (.+)$", readme, flags=re.MULTILINE)
    sections = README_SECTIONS[language]
    start = headings.index(sections[0])
    assert headings[start : start + len(sections)] == sections


# copier update -------------------------------------------------------------------


def test_update_to_the_package_layout_keeps_the_users_module_and_says_so(
    request, tmp_path, capfd
):
    """`copier update --data extras=...` on a single-module project its user has
    edited: the package arrives. copier cannot follow a file that moves: it removes
    the edited module, so the message after the update says where the user's
    changes are (git keeps them) and where to move them."""
    template = request.getfixturevalue("template_v1")  # test_update's fixture
    project = render_v1(template, tmp_path / "llm-markov")
    make_user_edits(project)
    capfd.readouterr()

    copier.run_update(
        dst_path=str(project),
        defaults=True,
        overwrite=True,
        unsafe=False,
        vcs_ref="v1.0.0",
        data={"extras": ["embeddings", "commands"]},
    )

    message = " ".join(capfd.readouterr().err.split())
    assert_no_conflicts(project)
    assert not (project / "llm_markov.py").exists()
    assert "move your changes into the package's modules" in message
    assert "`git diff HEAD -- llm_markov.py` shows them" in message
    removed = check("git", "diff", "HEAD", "--", "llm_markov.py", cwd=project).stdout
    assert "DEFAULT_LENGTH = 30" in removed  # the user's edit, kept by git
    hooks = (project / "llm_markov" / "__init__.py").read_text(encoding="utf-8")
    assert "def register_embedding_models(" in hooks
    assert "def register_commands(" in hooks
    assert "def register_tools(" not in hooks
    assert (project / "llm_markov" / "markov.py").is_file()
    assert (project / "tests" / "test_embeddings.py").is_file()
    assert (project / "tests" / "test_commands.py").is_file()
    pyproject = tomllib.loads((project / "pyproject.toml").read_text("utf-8"))
    assert "click>=8.3.1" in pyproject["project"]["dependencies"]
    assert pyproject["tool"]["setuptools"]["packages"] == ["llm_markov"]
    assert "## Embeddings" in (project / "README.md").read_text(encoding="utf-8")
    assert answers_of(project)["extras"] == ["embeddings", "commands"]
