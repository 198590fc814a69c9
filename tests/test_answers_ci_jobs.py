"""The generated CI's jobs on whole answer sets: the longest answers of each kind
(and, with TEMPLATE_PROPERTY_SCALE above 1, drawn ones) render projects that pass
lint, the type check, their own tests and the package job. A module of its own, so
that it runs beside the rest of test_answers.py."""

import itertools
from pathlib import Path

import pytest
import tomllib
from hypothesis import HealthCheck, Phase, assume, example, given, settings
from hypothesis import strategies as st

from answer_space import answers_with_defaults
from conftest import MODEL_KINDS, render_project
from plugin_env import UV, PluginEnv, check, repo_env
from test_answers import LONGEST, SCALE, answer_sets


@st.composite
def batches(draw, kinds):
    """An answer set of each kind in `kinds` (None: any), with names that differ,
    so that their plugins can be installed in one environment. At most one has
    the tools extra: its tool and toolbox have fixed names (count_occurrences,
    Notebook), which a second plugin from this template would register again."""
    batch = [draw(answer_sets(model_kind=kind)) for kind in kinds]
    assume(sum("tools" in answers["extras"] for answers in batch) <= 1)
    full = [answers_with_defaults(**answers) for answers in batch]
    for key in ("plugin_name", "key_name"):
        assume(len({answers.get(key) for answers in full}) == len(full))
    ids = [answers["model_id"].lower() for answers in full]
    assume(len(set(ids) | {model_id + "-embed" for model_id in ids}) == 2 * len(ids))
    return batch


@pytest.fixture(scope="module")
def ci_env(tmp_path_factory) -> PluginEnv:
    """The environment of the tests job, shared by the examples: each installs its
    plugins (llm and the dev group come with the first) and uninstalls them after."""
    return PluginEnv.create(tmp_path_factory.mktemp("ci-env") / ".venv")


def run_ci_jobs(projects: list[Path], root: Path, env: PluginEnv) -> None:
    """The generated CI's jobs on rendered projects: lint (`ruff check`), format
    check (`ruff format --check`), type check (`ty check`), with the test venv's
    ruff and ty (the versions the projects pin); tests (`pytest`), with the
    projects installed editable in `env` with their dev group; package (`python
    -m build`, then `twine check --strict`)."""
    user_path = root / "llm-user"
    user_path.mkdir()
    checker = repo_env(user_path)
    for project in projects:
        check(checker.bin / "ruff", "check", "--no-cache", cwd=project)
        check(checker.bin / "ruff", "format", "--check", "--no-cache", cwd=project)
        ty = (checker.bin / "ty", "check", "--python", checker.path, "--no-progress")
        check(*ty, cwd=project, env=checker.env())

    env.pip_install(
        *itertools.chain.from_iterable(
            ("-e", project, "--group", f"{project / 'pyproject.toml'}:dev")
            for project in projects
        )
    )
    try:
        for project in projects:
            result = env.run(
                "python", "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=project
            )
            output = result.stdout + result.stderr
            assert result.returncode == 0, output
            assert " passed" in output and " failed" not in output, output
    finally:
        names = [
            tomllib.loads((project / "pyproject.toml").read_text("utf-8"))["project"][
                "name"
            ]
            for project in projects
        ]
        check(UV, "pip", "uninstall", "--quiet", "--python", env.bin / "python", *names)

    dist = root / "dist"
    for project in projects:
        build = ("-m", "build", "--no-isolation", "--outdir", dist, project)
        check(checker.bin / "python", *build, env=checker.env())
    built = sorted(dist.iterdir())
    assert len(built) == 2 * len(projects), built  # an sdist and a wheel each
    twine = check(checker.bin / "twine", "check", "--strict", *built)
    assert twine.stdout.count("PASSED") == len(built), twine.stdout


@settings(
    max_examples=SCALE,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    # The default suite runs the longest answers of both kinds, the costliest to
    # get right; drawn answer sets (slow: each installs and tests its plugins) run
    # in a deeper search, and test_accepted_answers_render_a_sound_project draws
    # answer sets for the cheaper jobs in every run.
    phases=[Phase.explicit] if SCALE == 1 else list(Phase),
)
# One of each kind per example in a deeper search.
@given(batch=batches(kinds=[None] if SCALE == 1 else MODEL_KINDS))
@example(batch=LONGEST)
def test_accepted_answers_pass_every_ci_job(tmp_path_factory, ci_env, batch):
    root = tmp_path_factory.mktemp("ci")
    projects = [
        render_project(root / f"project{number}", answers)
        for number, answers in enumerate(batch)
    ]
    run_ci_jobs(projects, root, ci_env)
