"""The two commands at the top of README.md, run verbatim in a fresh clone with bash,
the way a newcomer pastes them, and a `copier update` of the plugin they render.

Where this machine has a Python that refuses `pip install` outside a venv (PEP 668,
as stock Debian and Ubuntu do), that Python runs them; otherwise the first python3
on PATH does.
"""

import glob
import os
import re
from pathlib import Path

import pytest
import yaml

from conftest import ROOT
from plugin_env import check
from test_update import GIT, commit_all, copy_working_tree, git

README = (ROOT / "README.md").read_text(encoding="utf-8")
RENDER_COMMAND, TEST_COMMAND = re.findall(r"```bash\n(.*?)\n```", README, re.DOTALL)[:2]
EXTERNALLY_MANAGED = glob.glob("/usr/lib/python3*/EXTERNALLY-MANAGED")
SYSTEM_PATH = "/usr/bin:/bin" if EXTERNALLY_MANAGED else os.environ["PATH"]


def bash(command: str, cwd: Path, **extra_env: str):
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("VIRTUAL_ENV", "UV_", "PYTHON", "PYTEST_", "PIP_"))
    }
    env.update(PATH=SYSTEM_PATH, **extra_env)
    return check("bash", "-c", command, cwd=cwd, env=env)


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> Path:
    """A fresh clone of this repository's working tree, tagged v0.1.0 as a release
    is; it sits in its own folder, so the render lands in ../llm-markov beside it."""
    source = tmp_path_factory.mktemp("source") / "repo"
    copy_working_tree(source)
    git(source, "init", "--quiet")
    commit_all(source, "the template")
    git(source, "tag", "v0.1.0")
    clone = tmp_path_factory.mktemp("work") / "llm-plugin-template"
    check(*GIT, "clone", "--quiet", source, clone)
    return clone


def test_readme_commands_are_the_ones_ci_runs():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert TEST_COMMAND in ci.splitlines()
    assert RENDER_COMMAND.endswith('--vcs-ref=HEAD "$PWD" ../llm-markov')


def test_render_command_then_copier_update(clone):
    bash(RENDER_COMMAND, cwd=clone)
    project = clone.parent / "llm-markov"
    assert (project / "llm_markov.py").is_file()
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text("utf-8"))
    # An absolute source: `copier update`, run from the project, finds it again.
    assert answers["_src_path"] == str(clone)
    assert answers["_commit"] == "v0.1.0"

    git(project, "init", "--quiet")
    commit_all(project, "the plugin")
    gitignore = clone / "template" / ".gitignore"
    gitignore.write_text(gitignore.read_text() + ".mypy_cache/\n", encoding="utf-8")
    commit_all(clone, "template v0.2.0")
    git(clone, "tag", "v0.2.0")

    bash(f"{clone}/.tools/bin/copier update --defaults", cwd=project)
    assert (project / ".gitignore").read_text().endswith(".mypy_cache/\n")
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text("utf-8"))
    assert answers["_commit"] == "v0.2.0"


def test_test_command_installs_and_collects_the_suite(clone):
    """The command as written; PYTEST_ADDOPTS makes pytest collect the suite
    instead of running it again from inside itself."""
    result = bash(TEST_COMMAND, cwd=clone, PYTEST_ADDOPTS="--collect-only -q -n 0")
    assert re.search(r"^\d+ tests collected", result.stdout, re.MULTILINE), (
        result.stdout
    )
