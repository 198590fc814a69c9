"""Fixtures shared by the template's tests: isolated renders and installed plugins."""

import atexit
import functools
import shutil
import tempfile
from pathlib import Path

import copier
import pytest
import yaml

from plugin_env import PluginEnv

ROOT = Path(__file__).resolve().parent.parent
COPIER_YML = yaml.safe_load((ROOT / "copier.yml").read_text(encoding="utf-8"))
QUESTIONS = {key for key in COPIER_YML if not key.startswith("_")}
MODEL_KINDS = list(COPIER_YML["model_kind"]["choices"].values())
EXTRAS = list(COPIER_YML["extras"]["choices"].values())
PROTOCOLS = list(COPIER_YML["api_protocol"]["choices"].values())
# The extras each protocol of the http-api kind takes (Anthropic has no embeddings).
PROTOCOL_EXTRAS = {
    "openai-chat": EXTRAS,
    "anthropic-messages": [extra for extra in EXTRAS if extra != "embeddings"],
}


@pytest.fixture(scope="session", autouse=True)
def isolated_environment(tmp_path_factory):
    """Keep the user's copier settings, git identity and llm folder out of the tests."""
    home = tmp_path_factory.mktemp("home")
    settings = home / "copier-settings.yml"
    settings.write_text("{}\n", encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COPIER_SETTINGS_PATH", str(settings))
        patch.setenv("LLM_USER_PATH", str(home / "llm"))
        for role in ("AUTHOR", "COMMITTER"):
            patch.setenv(f"GIT_{role}_NAME", "Template Tests")
            patch.setenv(f"GIT_{role}_EMAIL", "tests@example.com")
        yield


@functools.cache
def working_tree() -> Path:
    """This template's working tree (uncommitted changes included) copied once per
    test process into a folder without git: copier renders it without cloning the
    repository first, a third faster than rendering HEAD."""
    folder = Path(tempfile.mkdtemp(prefix="template-")) / "template"
    shutil.copytree(ROOT / "template", folder / "template")
    shutil.copytree(ROOT / "includes", folder / "includes")
    shutil.copy2(ROOT / "copier.yml", folder / "copier.yml")
    atexit.register(shutil.rmtree, folder.parent, ignore_errors=True)
    return folder


def render_project(
    destination: Path, answers: dict, template=ROOT, vcs_ref="HEAD", **options
) -> Path:
    """Render the template into `destination` with copier's API, as `copier copy
    --defaults --data ...` does; without --trust.

    This template at `vcs_ref="HEAD"` is its working tree, uncommitted changes
    included (see working_tree()); another template or ref is rendered from git.
    """
    unknown = set(answers) - QUESTIONS
    # copier ignores unknown keys silently, which would make a test check nothing.
    assert not unknown, f"not questions of copier.yml: {sorted(unknown)}"
    if template == ROOT and vcs_ref == "HEAD":
        template, vcs_ref = working_tree(), None
    copier.run_copy(
        str(template),
        str(destination),
        data=answers,
        defaults=True,
        unsafe=False,
        quiet=True,
        vcs_ref=vcs_ref,
        **options,
    )
    return destination


@pytest.fixture
def render(tmp_path):
    """render(**answers) renders into a fresh folder and returns its path."""
    count = 0

    def _render(**answers) -> Path:
        nonlocal count
        count += 1
        return render_project(tmp_path / f"project{count}", answers)

    return _render


@pytest.fixture(scope="session")
def default_project(tmp_path_factory) -> Path:
    """The project `copier copy --defaults` gives (rendered once per session)."""
    return render_project(tmp_path_factory.mktemp("default") / "llm-markov", {})


def install_editable(project: Path, venv: Path) -> PluginEnv:
    """The project installed editable with its `dev` dependency group (pytest, ruff,
    ty), as `pip install -e . --group dev` does."""
    env = PluginEnv.create(venv)
    env.pip_install("-e", ".", "--group", "dev", cwd=project)
    return env


@pytest.fixture(scope="session")
def default_env(default_project, tmp_path_factory) -> PluginEnv:
    """The default plugin installed editable, with the real llm, in its own venv."""
    return install_editable(default_project, tmp_path_factory.mktemp("venv") / ".venv")


def pytest_configure(config):
    """pytest-copie's `copie` fixture renders the folder of its --template option,
    by default the current one: make that this repository wherever pytest runs."""
    if getattr(config.option, "template", None) == ".":
        config.option.template = str(ROOT)


# Longest first (measured wall seconds on 2 cores, 3 workers), so that
# pytest-xdist (--dist loadfile) hands out the long modules while the short ones
# fill the gaps at the end instead of one long module running alone.
SLOW_MODULES = [
    "test_http_api.py",  # 44 (three renders, the Anthropic one's own tests)
    "test_update.py",  # 39
    "test_answers_ci_jobs.py",  # 37: the generated CI's jobs on the longest answers
    "test_markov_through_llm.py",  # 32
    "test_ci_lowest.py",  # 32
    "test_readme_commands.py",  # 31
    "test_update_from_releases.py",  # 30
    "test_answers.py",  # 29
    "test_extras_installed.py",  # 28
    "test_ci_jobs.py",  # 28
    "test_http_client.py",  # 27
    "test_distribution.py",  # 25
    "test_update_from_releases_api.py",  # 22 (one case: the whole render's checks)
    "test_readme_flow_test_first.py",  # 22
    "test_extras.py",  # 21
    "test_readme_flow.py",  # 16
    "test_questions.py",  # 15
    "test_variants.py",  # 14
    "test_http_api_reference.py",  # 13
    "test_workflows.py",  # 10
    "test_development_setup.py",  # 10
    "test_rendering.py",  # 9
    "test_troubleshooting.py",  # 8
]


def pytest_collection_modifyitems(items):
    def rank(item):
        name = item.path.name
        return SLOW_MODULES.index(name) if name in SLOW_MODULES else len(SLOW_MODULES)

    items.sort(key=rank)  # stable: the order within a module is kept
