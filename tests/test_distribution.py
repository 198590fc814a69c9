"""The README's "Distribution" and "Troubleshooting" steps, run for real on the default
project: build the distributions, install them the way a user does with `llm install`
(which runs pip), and uninstall.

`twine check --strict` and installing the wheel into a fresh venv are the generated
CI's package job, which tests/test_ci_jobs.py runs. These tests need the package
index (or uv's cache): the build fetches setuptools into an isolated environment.
"""

import json
import shutil
import tarfile
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

from plugin_env import UV, PluginEnv, check

PROMPT = "the cat sat on the mat"
WORDS = set(PROMPT.split())
SDIST = "llm_markov-0.1.tar.gz"
WHEEL = "llm_markov-0.1-py3-none-any.whl"
# A syntax error the tutorial shows: a stray colon after a call.
BROKEN_REGISTER = "register(Markov()):"
UNKNOWN_MODEL = "Error: 'Unknown model: markov'"


def copy_project(source: Path, destination: Path) -> Path:
    """A private copy of a rendered project, for a test that builds or edits it."""
    return Path(shutil.copytree(source, destination))


def plugin_names(env: PluginEnv) -> list[str]:
    return [plugin["name"] for plugin in env.plugins()]


def assert_model_runs(env: PluginEnv) -> None:
    result = env.llm("-m", "markov", PROMPT)
    assert result.returncode == 0, result.stdout + result.stderr
    words = result.stdout.split()
    assert len(words) == 20
    assert set(words) <= WORDS


def user_env(path: Path) -> PluginEnv:
    """A venv as a user has it before installing the plugin: pip and llm in it."""
    env = PluginEnv.create(path, seed_pip=True)
    env.pip_install("llm")
    return env


# --- Build -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dist(default_project, tmp_path_factory) -> Path:
    """`uv build`, as the README says, run in a copy of the default project."""
    base = tmp_path_factory.mktemp("build")
    project = copy_project(default_project, base / "llm-markov")
    outdir = base / "dist"
    check(UV, "build", "--quiet", "--out-dir", outdir, project, cwd=project)
    return outdir


@pytest.fixture(scope="module")
def wheel(dist) -> Path:
    return dist / WHEEL


@pytest.fixture(scope="module")
def sdist(dist) -> Path:
    return dist / SDIST


def test_build_writes_one_sdist_and_one_wheel(dist):
    built = [path.name for path in dist.iterdir() if path.name != ".gitignore"]
    assert sorted(built) == sorted([SDIST, WHEEL])


def test_wheel_metadata(wheel):
    with zipfile.ZipFile(wheel) as archive:
        metadata = Parser().parsestr(
            archive.read("llm_markov-0.1.dist-info/METADATA").decode()
        )
        entry_points = archive.read("llm_markov-0.1.dist-info/entry_points.txt")
        names = archive.namelist()
    assert metadata["Name"] == "llm-markov"
    assert metadata["Version"] == "0.1"
    assert (
        metadata["Summary"] == "Plugin for LLM adding a Markov chain generating model"
    )
    assert metadata["License-Expression"] == "Apache-2.0"
    assert metadata["Requires-Python"] == ">=3.10"
    requires = metadata.get_all("Requires-Dist")
    # The plugin's own dependencies; the dev group (pytest, ruff, ty) is not metadata.
    assert requires == ["click>=8.3.1", "llm>=0.33", "pydantic>=2.4"], requires
    assert metadata.get_all("Provides-Extra") is None
    assert metadata["Description-Content-Type"] == "text/markdown"
    assert "# llm-markov" in metadata.get_payload()
    assert entry_points.decode().split() == ["[llm]", "markov", "=", "llm_markov"]
    assert "llm_markov.py" in names
    assert "llm_markov-0.1.dist-info/licenses/LICENSE" in names
    # Only the module goes into the wheel, not the tests.
    assert not [name for name in names if name.startswith("tests/")]


def test_sdist_contents(sdist):
    with tarfile.open(sdist) as archive:
        names = {name.removeprefix("llm_markov-0.1/") for name in archive.getnames()}
    assert {
        "LICENSE",
        "README.md",
        "pyproject.toml",
        "llm_markov.py",
        "PKG-INFO",
        # Without conftest.py, tests run from the sdist would use the user's llm folder.
        "tests/conftest.py",
        "tests/test_markov_chain.py",
        "tests/test_model.py",
    } <= names, sorted(names)


# --- A user's venv: install, uninstall, install a zip, recover ----------------------


def test_install_uninstall_and_install_a_zip(wheel, default_project, tmp_path):
    """One user's venv through the README's steps, in order (each `llm install` and
    `llm uninstall` runs pip, which is slow to start, so they share the venv). The
    Troubleshooting steps are in test_troubleshooting.py, to run in parallel."""
    env = user_env(tmp_path / ".venv")

    # `llm install dist/llm_markov-0.1-py3-none-any.whl`
    result = env.llm("install", wheel)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Successfully installed llm-markov-0.1" in result.stdout
    assert env.plugins() == [
        {"name": "llm-markov", "hooks": ["register_models"], "version": "0.1"}
    ]
    assert_model_runs(env)
    # pip installed the wheel file: the module is a copy, not a link to a folder.
    site_packages = next(env.path.glob("lib/python*/site-packages"))
    installed = site_packages / "llm_markov.py"
    assert installed.read_bytes() == (default_project / "llm_markov.py").read_bytes()
    dist_info = site_packages / "llm_markov-0.1.dist-info"
    direct_url = json.loads((dist_info / "direct_url.json").read_text())
    assert direct_url["url"] == wheel.as_uri()
    assert "archive_info" in direct_url and "dir_info" not in direct_url
    assert (dist_info / "INSTALLER").read_text().strip() == "pip"

    # `llm uninstall llm-markov -y`
    result = env.llm("uninstall", "llm-markov", "-y")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Successfully uninstalled llm-markov-0.1" in result.stdout
    result = env.llm("-m", "markov", "hi")
    assert result.returncode == 1
    assert result.stderr.strip() == UNKNOWN_MODEL

    # `llm install` of a .zip of the repository, as GitHub serves
    # `archive/refs/heads/main.zip`: the files in one folder.
    archive_path = tmp_path / "archive.zip"
    with zipfile.ZipFile(archive_path, "w") as archive:
        archive.writestr("llm-markov-main/", "")
        for name in ("pyproject.toml", "llm_markov.py", "README.md", "LICENSE"):
            archive.write(default_project / name, f"llm-markov-main/{name}")
    result = env.llm("install", archive_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Successfully installed llm-markov-0.1" in result.stdout
    assert plugin_names(env) == ["llm-markov"]
