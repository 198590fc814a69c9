"""The rendered README's flow with the tests run before the first commit (see
test_readme_flow.py, whose helpers it uses; a module of its own, so that the two flows
run side by side), and the README's PEP 668-safe way to get uv."""

import os
import sys
from pathlib import Path

from plugin_env import check
from test_readme_flow import (
    Readme,
    assert_committed_as_the_readme_says,
    bash,
    git,
    passed_count,
    read,
    render_and_read,
    template,
    user_env,
)

__all__ = ["template"]  # the fixture


def test_test_first_then_commit_change_commit_update(template, tmp_path):
    env = user_env(tmp_path)
    project, readme = render_and_read(template, tmp_path)

    tests = passed_count(bash(readme.test, project, env))
    assert tests > 0
    assert (project / "uv.lock").is_file() and (project / ".venv").is_dir()
    bash(readme.start, project, env)
    # `git add -A` took uv.lock and left out .venv and the caches.
    assert_committed_as_the_readme_says(project)
    assert git(project, "rev-list", "--count", "HEAD").strip() == "1"
    # From here on the repository holds what the other flow's holds after its
    # second commit (the render and uv.lock, nothing ignored): change, commit and
    # update run there, once.


def test_the_readme_ways_to_get_uv(default_project, tmp_path):
    """The PEP 668-safe way, in a home folder of its own: uv and uvx work from
    ~/.local/bin. (Whether `pip install --user` is refused depends on the Python
    a machine has, so the README only says where it is.)"""
    home = tmp_path / "home"
    home.mkdir()
    readme = read(default_project / "README.md")
    assert "`python3 -m pip install --user uv`" in readme
    env = {
        **user_env(tmp_path),
        "HOME": str(home),
        # pip's cache stays the user's, so the wheel of uv is not fetched each run.
        "XDG_CACHE_HOME": os.environ.get("XDG_CACHE_HOME")
        or str(Path.home() / ".cache"),
        # This Python's python3 first: the one a CI machine has may live anywhere.
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), "/usr/bin", "/bin"]),
    }
    bash(Readme(readme).get_uv, home, env)
    for program in ("uv", "uvx"):
        version = check(home / ".local" / "bin" / program, "--version", env=env)
        assert version.stdout.startswith(f"{program} ")
