"""The rendered README's own way of working, its commands run verbatim with bash, the
way a user pastes them: start a git repository, `uv run pytest`, change the plugin,
commit, `copier update` to the template's next release, `uv run pytest` again, commit.
Once with the fresh render committed first, as the README says and most people do,
and once with the tests run before the first commit.

The project is rendered from a copy of this template's working tree in a git
repository tagged v1.0.0, and updated to v1.1.0 of that copy (test_update.py's
release). uv is the test venv's (the shared uv cache, this interpreter, no Python
downloads); it resolves from the package index. copier is the test venv's command.
"""

import os
import sys
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from ci_runner import outside_environment, passed_count
from conftest import render_project
from plugin_env import UV, check, run
from test_update import (
    AFTER_TITLE,
    CONFLICT_MARKERS,
    USER_FUNCTION,
    USER_README_LINE,
    assert_template_v1_1_arrived,
    commit_all,
    copy_working_tree,
    edit,
    git,
    read,
    release_v1_1,
    replace_once,
)

COPIER = Path(sys.executable).with_name("copier")
USER_TEST = """from llm_markov import shout


def test_shout():
    assert shout("the cat") == "THE CAT"
"""
# What `uv run pytest` may leave in the project: all of it ignored by .gitignore.
LITTER = (".venv", ".pytest_cache", "__pycache__", "llm_markov.egg-info")


# The README's commands --------------------------------------------------------


def bash_blocks(readme: str) -> list[list[str]]:
    """The lines of each ```bash block of a README, block by block."""
    return [
        token.content.splitlines()
        for token in MarkdownIt().parse(readme)
        if token.type == "fence" and token.info.strip() == "bash"
    ]


def block_starting(blocks: list[list[str]], start: str) -> list[str]:
    """The one block whose first line starts with `start`."""
    found = [block for block in blocks if block[0].startswith(start)]
    assert len(found) == 1, f"{len(found)} blocks start with {start!r}: {blocks}"
    return found[0]


class Readme:
    """The commands of a rendered README that the flow runs, each found by how it
    starts and run exactly as written."""

    def __init__(self, text: str):
        blocks = bash_blocks(text)
        (self.start,) = block_starting(blocks, "git init")
        self.checks = block_starting(blocks, "uv run pytest")
        self.test = self.checks[0]
        (self.commit,) = block_starting(blocks, "git add -A && git commit")
        self.update = block_starting(blocks, "copier update --defaults")
        (self.get_uv,) = block_starting(blocks, "python3 -m venv ~/")

    def lines(self) -> list[str]:
        return [self.start, *self.checks, self.commit, *self.update, self.get_uv]


# Running them -----------------------------------------------------------------


def user_env(tmp_path: Path) -> dict[str, str]:
    """A shell with uv, uvx and copier on PATH and git with no user or system
    configuration (identity from the session's GIT_AUTHOR_* variables)."""
    env = outside_environment()
    tools = tmp_path / "user-bin"
    if not tools.exists():
        tools.mkdir()
        for program in (Path(UV), Path(UV).with_name("uvx"), COPIER):
            (tools / program.name).symlink_to(program)
    git_config = tmp_path / "gitconfig"
    git_config.write_text("[init]\n\tdefaultBranch = main\n", encoding="utf-8")
    env.update(
        PATH=f"{tools}{os.pathsep}/usr/bin{os.pathsep}/bin",
        GIT_CONFIG_GLOBAL=str(git_config),
        GIT_CONFIG_NOSYSTEM="1",
        UV_PYTHON=sys.executable,
        UV_PYTHON_DOWNLOADS="never",
        LLM_USER_PATH=str(tmp_path / "llm-user"),
    )
    return env


def bash(command: str, cwd: Path, env: dict[str, str]) -> str:
    """Run one README line; it must succeed. Returns what it printed."""
    result = check("bash", "--noprofile", "--norc", "-c", command, cwd=cwd, env=env)
    return result.stdout + result.stderr


def status(project: Path) -> list[str]:
    return git(project, "status", "--porcelain", "--untracked-files=all").splitlines()


def tracked(project: Path) -> list[str]:
    return git(project, "ls-files").splitlines()


def change_the_plugin(project: Path) -> None:
    """What the user does between the commits: a function and its test."""
    edit(project / "llm_markov.py", lambda text: text + USER_FUNCTION)
    (project / "tests" / "test_shout.py").write_text(USER_TEST, encoding="utf-8")
    edit(
        project / "README.md",
        replace_once(AFTER_TITLE, f"{AFTER_TITLE}{USER_README_LINE}\n\n"),
    )


def assert_no_conflicts_in_the_repository(project: Path) -> None:
    """No rejected hunk and no conflict marker in the files git sees (.venv has
    binaries with any bytes in them)."""
    names = git(project, "ls-files", "--cached", "--others", "--exclude-standard")
    files = {name: (project / name).read_bytes() for name in names.splitlines()}
    assert not [name for name in files if name.endswith(".rej")]
    marked = [
        name
        for name, content in files.items()
        if any(marker in content for marker in CONFLICT_MARKERS)
    ]
    assert not marked, f"conflict markers in {marked}"


def assert_committed_as_the_readme_says(project: Path) -> None:
    """A clean working tree whose commits hold uv.lock and none of the litter."""
    assert status(project) == []
    files = tracked(project)
    assert "uv.lock" in files and "pyproject.toml" in files
    litter = [name for name in files if set(Path(name).parts) & set(LITTER)]
    assert not litter, f"committed, but .gitignore should leave them out: {litter}"


def assert_committed_as_the_readme_says_before_uv(project: Path) -> None:
    """Right after the first commit of a render: everything in, nothing left out."""
    assert status(project) == []
    assert "uv.lock" not in tracked(project)
    assert {"pyproject.toml", "README.md", ".gitignore", ".copier-answers.yml"} <= set(
        tracked(project)
    )


@pytest.fixture
def template(tmp_path) -> Path:
    """This template's working tree in a git repository tagged v1.0.0."""
    repo = tmp_path / "template"
    copy_working_tree(repo)
    git(repo, "init", "--quiet")
    commit_all(repo, "template v1.0.0")
    git(repo, "tag", "v1.0.0")
    return repo


def render_and_read(template: Path, tmp_path: Path) -> tuple[Path, Readme]:
    project = tmp_path / "llm-markov"
    check(COPIER, "copy", "--defaults", "--quiet", template, project)
    return project, Readme(read(project / "README.md"))


def update_and_test_again(
    project: Path, template: Path, readme: Readme, env, tests_before: int
) -> None:
    """Template v1.1.0 is out: the README's update block, line by line."""
    release_v1_1(template)
    lock = read(project / "uv.lock")
    update, test, commit = readme.update

    output = bash(update, project, env)
    assert "Updating to template version 1.1.0" in output
    assert_template_v1_1_arrived(project, template)
    assert_no_conflicts_in_the_repository(project)
    assert read(project / "llm_markov.py").endswith(USER_FUNCTION)
    assert f"{AFTER_TITLE}{USER_README_LINE}\n\n" in read(project / "README.md")

    assert test == readme.test
    assert passed_count(bash(test, project, env)) == tests_before
    # The update changed no dependency: uv.lock stays as committed.
    assert read(project / "uv.lock") == lock
    changed = sorted(line.split()[-1] for line in status(project))
    assert changed == [".copier-answers.yml", ".gitignore", "README.md"]

    bash(commit, project, env)
    assert_committed_as_the_readme_says(project)
    assert git(project, "log", "-1", "--format=%s").strip() == (
        "Update from the template"
    )


# Tests --------------------------------------------------------------------------


def test_commit_the_render_first_then_test_change_commit_update(template, tmp_path):
    env = user_env(tmp_path)
    project, readme = render_and_read(template, tmp_path)

    bash(readme.start, project, env)
    assert_committed_as_the_readme_says_before_uv(project)
    tests = passed_count(bash(readme.test, project, env))
    assert tests > 0
    # `uv run` wrote uv.lock and nothing else that .gitignore lets through: the
    # file the README says to commit, which copier's dirty check would refuse.
    assert status(project) == ["?? uv.lock"]
    refused = run(COPIER, "update", "--defaults", cwd=project, env=env)
    assert refused.returncode != 0 and "dirty" in refused.stderr

    change_the_plugin(project)
    bash(readme.commit, project, env)
    assert_committed_as_the_readme_says(project)

    update_and_test_again(project, template, readme, env, tests + 1)
    assert git(project, "rev-list", "--count", "HEAD").strip() == "3"


def test_both_languages_give_the_same_commands(default_project, tmp_path):
    english = Readme(read(default_project / "README.md"))
    chinese_project = render_project(tmp_path / "zh", {"readme_language": "zh"})
    chinese = Readme(read(chinese_project / "README.md"))
    assert chinese.lines() == english.lines()
    assert english.checks == [
        "uv run pytest",
        "uv run ruff check",
        "uv run ruff format --check",
        "uv run ty check",
    ]
