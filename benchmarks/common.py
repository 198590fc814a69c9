"""What the benchmarks share: the working tree rendered with copier's API, and an
environment for the commands they run. (Benchmarks do not import the tests'
fixtures; this is their own small copy of the idea.)"""

import contextlib
import io
import os
import subprocess
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without uv run's venv and llm's settings, which
    would otherwise decide where uv installs, which Python runs and where llm keeps
    its logs."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("UV_", "VIRTUAL_ENV", "PYTHON", "LLM_"))
    }
    env.update(extra)
    return env


def render(tmp: Path, name: str, answers: dict | None = None) -> Path:
    """The working tree (uncommitted changes included) rendered into tmp/name as
    `copier copy --defaults` does, without the user's copier settings."""
    # Imported here: the benchmarks' worker processes run in plugin venvs without
    # copier, and they import this module too.
    import copier
    from copier.errors import DirtyLocalWarning

    settings = tmp / "copier-settings.yml"
    settings.write_text("{}\n", encoding="utf-8")
    os.environ["COPIER_SETTINGS_PATH"] = str(settings)
    project = tmp / name
    # copier's notes about uncommitted changes (and missing tags) are expected.
    with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
        warnings.simplefilter("ignore", DirtyLocalWarning)
        copier.run_copy(
            str(ROOT),
            str(project),
            data=answers or {},
            defaults=True,
            unsafe=False,
            quiet=True,
            vcs_ref="HEAD",  # the working tree, not the newest release tag
        )
    return project


def check(*args, env: dict[str, str]) -> str:
    """Run a command that must succeed; return its standard output."""
    result = subprocess.run(
        [str(arg) for arg in args], env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        sys.exit(f"{' '.join(map(str, args))} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


# Memory of the current process, for the workers (Linux /proc).


def kilobytes(field: str) -> int | None:
    """A field of /proc/self/status such as VmRSS, in kB; None off Linux."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def reset_peak() -> bool:
    """Make VmHWM (the peak RSS) start again from the current RSS."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def install(tmp: Path, env: dict[str, str], *projects: Path) -> Path:
    """A new uv venv in tmp/venv that uses this interpreter, with `projects`
    installed editable; returns its python."""
    from uv import find_uv_bin

    uv = find_uv_bin()
    venv = tmp / "venv"
    check(uv, "venv", "--quiet", "--python", sys.executable, venv, env=env)
    python = venv / "bin" / "python"
    for project in projects:
        check(
            uv, "pip", "install", "--quiet", "--python", python, "-e", project, env=env
        )
    return python
