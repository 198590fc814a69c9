"""The development layout of a rendered project, rendered through pytest-copie's
`copie_session` fixture as template authors expect: the dev dependency group, the
type check, CI jobs whose Python versions agree with requires-python, AGENTS.md, the
README's development section and badges. Each render is shared by the module.

copie always renders with unsafe=True; `test_no_answer_needs_trust` renders every
model kind and extra through copier's API with unsafe=False (conftest's
render_project), which fails if any answer would need --trust.
"""

import re

import pytest
import tomllib
import yaml

from conftest import EXTRAS, MODEL_KINDS

FLOOR = {"markov": "3.10", "http-api": "3.11"}  # llm 0.36's httpx2 needs 3.11
NEWEST = "3.14"
REPO = "https://github.com/octo-cat/llm-acme"


def copy(copie, **answers):
    result = copie.copy(extra_answers=answers)
    assert result.exit_code == 0, result.exception
    return result.project_dir


@pytest.fixture(scope="module", params=MODEL_KINDS)
def kind_project(request, copie_session):
    """A project of each model kind, with a GitHub name (so the README has badges)."""
    answers = {"plugin_name": "llm-acme", "model_id": "acme-1"}
    return request.param, copy(
        copie_session, model_kind=request.param, github_username="octo-cat", **answers
    )


@pytest.fixture(scope="module")
def zh_project(copie_session):
    return copy(
        copie_session,
        plugin_name="llm-acme",
        readme_language="zh",
        github_username="octo-cat",
    )


def test_dev_group_replaces_the_test_extra(kind_project):
    kind, project = kind_project
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert "optional-dependencies" not in pyproject["project"]
    dev = pyproject["dependency-groups"]["dev"]
    names = [re.match(r"[a-z0-9-]+", requirement)[0] for requirement in dev]
    assert {"pytest", "ruff", "ty"} <= set(names)
    assert "ruff>=0.17,<0.18" in dev
    (ty,) = [requirement for requirement in dev if requirement.startswith("ty")]
    assert re.fullmatch(r"ty==0\.0\.\d+", ty)  # 0.0.x changes rules: pinned exactly
    assert pyproject["project"]["requires-python"] == f">={FLOOR[kind]}"


def test_ci_tests_every_python_that_requires_python_allows(kind_project):
    kind, project = kind_project
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    floor = pyproject["project"]["requires-python"].removeprefix(">=")
    workflow = yaml.safe_load((project / ".github/workflows/test.yml").read_text())
    jobs = workflow["jobs"]
    # http-api's live tests run against the real API where its key's secret is.
    live = ["live"] if kind == "http-api" else []
    assert list(jobs) == ["lint", "tests", "lowest", *live, "package"]
    matrix = jobs["tests"]["strategy"]["matrix"]
    first, last = (int(version.split(".")[1]) for version in (floor, NEWEST))
    assert matrix["python-version"] == [
        f"3.{minor}" for minor in range(first, last + 1)
    ]
    # Every Python on Linux; the newest on macOS and Windows too.
    assert matrix["os"] == ["ubuntu-latest"]
    assert matrix["include"] == [
        {"os": "macos-latest", "python-version": NEWEST},
        {"os": "windows-latest", "python-version": NEWEST},
    ]
    assert jobs["tests"]["runs-on"] == "${{ matrix.os }}"
    lowest_setup = [step for step in jobs["lowest"]["steps"] if "with" in step][-1]
    assert lowest_setup["with"]["python-version"] == floor
    assert jobs["lowest"]["env"] == {"UV_RESOLUTION": "lowest-direct"}
    lint = [step["run"] for step in jobs["lint"]["steps"] if "run" in step]
    assert lint[0].startswith("if [ -f uv.lock ]; then\n  uv lock --check\n")
    assert lint[1:] == [
        "uv run ruff check",
        "uv run ruff format --check",
        "uv run ty check",
    ]


def test_agents_md_names_the_commands_and_conventions(kind_project):
    kind, project = kind_project
    agents = (project / "AGENTS.md").read_text(encoding="utf-8")
    for command in ("uv run pytest", "uv run ruff check", "uv run ty check"):
        assert command in agents
    assert "LLM_USER_PATH=$(mktemp -d) " in agents
    assert "uv run llm -m acme-1 " in agents
    assert ("`llm_acme.py`" if kind == "markov" else "`llm_acme/`") in agents
    for convention in ("register_models", "llm.Options", "execute(", "llm.ModelError"):
        assert convention in agents
    assert 'llm.get_model("acme-1")' in agents and "CliRunner" in agents


def assert_development_puts_uv_first_and_pip_second(readme: str) -> None:
    uv_run = readme.index("uv run pytest")
    pip = readme.index("python -m pip install -e . --group dev")
    assert uv_run < pip
    assert "'pip>=25.1'" in readme
    assert "[test]" not in readme


def badges(license_badge="Apache--2.0") -> str:
    return (
        f"[![PyPI](https://img.shields.io/pypi/v/llm-acme.svg)]({REPO}/releases)\n"
        f"[![Tests]({REPO}/actions/workflows/test.yml/badge.svg)]"
        f"({REPO}/actions/workflows/test.yml)\n"
        f"[![License](https://img.shields.io/badge/license-{license_badge}-blue.svg)]"
        "(LICENSE)\n"
    )


def test_readme_development_and_badges(kind_project):
    _, project = kind_project
    readme = (project / "README.md").read_text(encoding="utf-8")
    assert_development_puts_uv_first_and_pip_second(readme)
    assert readme.startswith(f"# llm-acme\n\n{badges()}\n")


def test_chinese_readme_development_and_badges(zh_project):
    readme = (zh_project / "README.md").read_text(encoding="utf-8")
    assert_development_puts_uv_first_and_pip_second(readme)
    assert "## 开发" in readme
    assert readme.startswith(f"# llm-acme\n\n{badges()}\n")


def test_no_badges_without_a_github_name(default_project):
    readme = (default_project / "README.md").read_text(encoding="utf-8")
    assert readme.startswith("# llm-markov\n\nPlugin for LLM adding a Markov chain")
    assert "[![" not in readme


def test_badges_follow_the_answers(copie):
    project = copy(
        copie, github_username="octo-cat", license="Proprietary", github_actions=False
    )
    readme = (project / "README.md").read_text(encoding="utf-8")
    # Nothing to show on PyPI for a private package, and no workflow to show.
    assert "[![PyPI]" not in readme and "[![Tests]" not in readme
    assert "[![License](https://img.shields.io/badge/license-Proprietary-" in readme


# Every extra appears in the render with all of them selected.
EXTRA_SETS = [[], EXTRAS]


@pytest.mark.parametrize("kind", MODEL_KINDS)
@pytest.mark.parametrize(
    "extras", EXTRA_SETS, ids=["no-extras", "all-extras"][: len(EXTRA_SETS)]
)
def test_no_answer_needs_trust(render, kind, extras):
    """copier's API with unsafe=False renders every model kind and extra."""
    project = render(model_kind=kind, extras=extras, github_username="octo-cat")
    assert (project / "pyproject.toml").is_file() and (project / "AGENTS.md").is_file()
