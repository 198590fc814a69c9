"""`copier update` on real git repositories: a project rendered from template v1.0.0,
edited by its user, then updated to template v1.1.0.

Each test works on its own copy of this template, committed to a temporary git
repository and tagged v1.0.0; `release_v1_1` makes the next version of it."""

import os
import shutil
import sys
from pathlib import Path

import copier
import pytest
import yaml

from conftest import ROOT, render_project
from plugin_env import check

# Every git command of the tests: no signing, no hooks, whatever the user's config.
GIT = (
    "git",
    "-c",
    "commit.gpgSign=false",
    "-c",
    "tag.gpgSign=false",
    "-c",
    f"core.hooksPath={os.devnull}",
    "-c",
    "init.defaultBranch=main",
)

# What the user changes in the project rendered from v1.0.0: the README gets a
# paragraph, by default right after the title (where badges usually go).
AFTER_TITLE = "# llm-markov\n\n"
AFTER_INTRO = "token usage and an async model.\n\n"  # the README's first paragraph
USER_README_LINE = "Maintained by the tests team; see the changelog for news."
USER_FUNCTION = '''

def shout(text):
    """Added by the user after rendering."""
    return text.upper()
'''

# What template v1.1.0 changes.
TEMPLATE_README_LINE = "This line was added in template version 1.1.0."
TEMPLATE_GITIGNORE_LINE = ".mypy_cache/"

CONFLICT_MARKERS = (b"<<<<<<<", b">>>>>>>")


# Helpers ------------------------------------------------------------------------


def git(repo: Path, *args) -> str:
    return check(*GIT, *args, cwd=repo).stdout


def commit_all(repo: Path, message: str) -> None:
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--message", message)


def edit(path: Path, change) -> None:
    """Replace the text of `path` with `change(text)`, which must change something."""
    old = path.read_text(encoding="utf-8")
    new = change(old)
    assert new != old, f"the edit of {path} changed nothing"
    path.write_text(new, encoding="utf-8", newline="")


def replace_once(old: str, new: str):
    def change(text: str) -> str:
        assert text.count(old) == 1, f"{old!r} is not in the text exactly once"
        return text.replace(old, new)

    return change


def append(line: str):
    return lambda text: text + line + "\n"


def release_v1_1(template: Path) -> None:
    """Template v1.1.0: a new last line in the README and a new .gitignore entry."""
    edit(
        template / "includes" / "readme" / "en" / "updating.md.jinja",
        append("\n" + TEMPLATE_README_LINE),
    )
    edit(template / "template" / ".gitignore", append(TEMPLATE_GITIGNORE_LINE))
    commit_all(template, "template v1.1.0")
    git(template, "tag", "v1.1.0")


def render_v1(template: Path, project: Path, answers=None) -> Path:
    """Render template v1.0.0 into `project` and commit it, as a user starts."""
    render_project(project, answers or {}, template=template, vcs_ref="v1.0.0")
    git(project, "init", "--quiet")
    commit_all(project, "project from template v1.0.0")
    return project


def make_user_edits(project: Path, readme_after: str = AFTER_TITLE) -> None:
    """Change the code of the module and add a paragraph to the README after
    `readme_after`; commit."""
    edit(
        project / "llm_markov.py",
        replace_once("DEFAULT_LENGTH = 20\n", "DEFAULT_LENGTH = 30\n"),
    )
    edit(project / "llm_markov.py", lambda text: text + USER_FUNCTION)
    edit(
        project / "README.md",
        replace_once(readme_after, f"{readme_after}{USER_README_LINE}\n\n"),
    )
    commit_all(project, "user edits")


def update(project: Path, **options) -> None:
    """`copier update --defaults` through copier's API (the CLI implies overwrite)."""
    copier.run_update(
        dst_path=str(project),
        defaults=True,
        overwrite=True,
        unsafe=False,
        quiet=True,
        **options,
    )


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def answers_of(project: Path) -> dict:
    return yaml.safe_load(read(project / ".copier-answers.yml"))


def project_files(root: Path) -> dict[str, bytes]:
    """Every file under `root` but those in .git, by relative path."""
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and ".git" not in path.relative_to(root).parts
    }


def git_status(project: Path) -> str:
    return git(project, "status", "--porcelain", "--untracked-files=all")


def assert_no_conflicts(project: Path) -> None:
    files = project_files(project)
    rejects = [name for name in files if name.endswith(".rej")]
    assert not rejects, f"copier left rejected hunks: {rejects}"
    marked = [
        name
        for name, content in files.items()
        if any(marker in content for marker in CONFLICT_MARKERS)
    ]
    assert not marked, f"conflict markers in {marked}"


def assert_user_edits_kept(project: Path, readme_after: str = AFTER_TITLE) -> None:
    module = read(project / "llm_markov.py")
    assert "DEFAULT_LENGTH = 30\n" in module
    assert "DEFAULT_LENGTH = 20" not in module
    assert module.endswith(USER_FUNCTION)
    readme = read(project / "README.md")
    assert f"{readme_after}{USER_README_LINE}\n\n" in readme


def assert_template_v1_1_arrived(project: Path, template: Path) -> None:
    assert read(project / "README.md").endswith(f"\n\n{TEMPLATE_README_LINE}\n")
    assert read(project / ".gitignore").endswith(f"\n{TEMPLATE_GITIGNORE_LINE}\n")
    answers = answers_of(project)
    assert answers["_commit"] == "v1.1.0"
    assert answers["_src_path"] == str(template)


# Fixtures -----------------------------------------------------------------------


def copy_working_tree(repo: Path) -> None:
    """Copy this template's files, uncommitted changes included, into `repo`."""
    listed = check(
        "git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=ROOT
    ).stdout
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():  # a tracked file deleted in the working tree is skipped
            target = repo / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


@pytest.fixture(scope="module")
def template_v1(tmp_path_factory) -> Path:
    """This template, with its uncommitted changes, in a git repository tagged v1.0.0."""
    repo = tmp_path_factory.mktemp("template-v1") / "template"
    copy_working_tree(repo)
    git(repo, "init", "--quiet")
    commit_all(repo, "template v1.0.0")
    git(repo, "tag", "v1.0.0")
    return repo


@pytest.fixture
def template(template_v1, tmp_path) -> Path:
    """A copy of the v1.0.0 template repository of this test's own, to release from."""
    return Path(shutil.copytree(template_v1, tmp_path / "template", symlinks=True))


@pytest.fixture
def edited_project(template, tmp_path) -> Path:
    """A project rendered from v1.0.0 and committed, with committed user edits."""
    project = render_v1(template, tmp_path / "llm-markov")
    make_user_edits(project)
    return project


# Tests --------------------------------------------------------------------------


def test_update_with_the_cli_goes_to_the_latest_tag_once(template, edited_project):
    """One project's updates, in order (each `copier update` renders the template
    twice, so they share the project): to the version it has, which changes
    nothing; `copier update --defaults`, word for word what the rendered README
    tells users, to the new release, whose changes arrive while the user's edits
    stay; and the same update again, which changes nothing."""
    update(edited_project, vcs_ref="v1.0.0")
    assert git_status(edited_project) == ""

    release_v1_1(template)
    copier_cli = Path(sys.executable).with_name("copier")
    result = check(copier_cli, "update", "--defaults", cwd=edited_project)

    assert "Updating to template version 1.1.0" in result.stderr
    assert_template_v1_1_arrived(edited_project, template)
    assert_user_edits_kept(edited_project)
    assert_no_conflicts(edited_project)

    commit_all(edited_project, "update to template v1.1.0")
    update(edited_project, vcs_ref="v1.1.0")
    assert git_status(edited_project) == ""


def test_update_of_an_unedited_project_equals_a_fresh_render(template, tmp_path):
    # The year is pinned: its default is today's, which a fresh render would recompute.
    answers = {"copyright_year": "2024"}
    project = render_v1(template, tmp_path / "updated" / "llm-markov", answers)
    release_v1_1(template)

    update(project, vcs_ref="v1.1.0")
    fresh = render_project(
        tmp_path / "fresh" / "llm-markov", answers, template=template, vcs_ref="v1.1.0"
    )

    # Byte for byte, the answers file included: both record _commit: v1.1.0.
    assert project_files(project) == project_files(fresh)


def test_update_with_a_new_answer_rewrites_it_and_keeps_user_edits(template, tmp_path):
    # The user's README paragraph is a paragraph away from the description, which
    # changes: next to it, git cannot merge the two (see the test below).
    project = render_v1(template, tmp_path / "llm-markov")
    make_user_edits(project, readme_after=AFTER_INTRO)
    before = answers_of(project)

    update(project, vcs_ref="v1.0.0", data={"description": "A new description"})

    pyproject = read(project / "pyproject.toml")
    assert 'description = "A new description"\n' in pyproject
    readme = read(project / "README.md")
    assert readme.startswith("# llm-markov\n\nA new description\n\n")
    assert "Markov chain generating model" not in pyproject + readme
    assert answers_of(project) == {**before, "description": "A new description"}
    assert_user_edits_kept(project, readme_after=AFTER_INTRO)
    assert_no_conflicts(project)


def test_a_user_edit_next_to_a_changed_line_is_an_inline_conflict(edited_project):
    """The user's paragraph right after the title touches the description line: copier
    writes git's conflict markers into README.md and marks it unmerged, as a `git
    merge` would; every other file is updated."""
    update(edited_project, vcs_ref="v1.0.0", data={"description": "A new description"})

    readme = read(edited_project / "README.md")
    assert "\n<<<<<<< before updating\n" in readme
    assert "\n>>>>>>> after updating\n" in readme
    assert USER_README_LINE in readme
    assert "\nA new description\n" in readme
    unmerged = git(edited_project, "diff", "--name-only", "--diff-filter=U")
    assert unmerged.splitlines() == ["README.md"]
    assert 'description = "A new description"\n' in read(
        edited_project / "pyproject.toml"
    )
    assert not list(edited_project.rglob("*.rej"))


def test_update_refuses_a_dirty_working_tree(template, edited_project):
    """The rendered README says to update on a clean working tree: copier insists."""
    release_v1_1(template)
    edit(edited_project / "llm_markov.py", lambda text: text + "# not committed\n")

    with pytest.raises(copier.errors.UserMessageError, match="dirty"):
        update(edited_project, vcs_ref="v1.1.0")

    assert git_status(edited_project) == " M llm_markov.py\n"
    assert answers_of(edited_project)["_commit"] == "v1.0.0"
