"""A real virtual environment, made with uv, where a rendered plugin is installed and
driven the way a user drives it: through the `llm` command."""

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from uv import find_uv_bin

UV = find_uv_bin()
DRIVER = Path(__file__).resolve().with_name("llm_driver.py")


@dataclass
class LlmResult:
    """What one `llm` command line printed, as llm_driver.py reports it."""

    exit_code: int
    stdout: str
    stderr: str
    traceback: str | None


def run(*args, cwd=None, env=None, input=None) -> subprocess.CompletedProcess:
    """Run a command and capture its output as text; never raises on failure."""
    return subprocess.run(
        [str(arg) for arg in args],
        cwd=cwd,
        env=env,
        input=input,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=300,
        check=False,
    )


def check(*args, **kwargs) -> subprocess.CompletedProcess:
    """Run a command that must succeed, showing its output if it does not."""
    result = run(*args, **kwargs)
    assert result.returncode == 0, (
        f"{' '.join(map(str, args))} exited {result.returncode}\n"
        f"{result.stdout}\n{result.stderr}"
    )
    return result


@dataclass
class PluginEnv:
    """A virtual environment with its own LLM_USER_PATH."""

    path: Path
    user_path: Path

    @classmethod
    def create(cls, path: Path, *, seed_pip: bool = False) -> "PluginEnv":
        # The same interpreter that runs the tests, so no Python is downloaded.
        args = [UV, "venv", "--quiet", "--python", sys.executable, path]
        check(*args, *(["--seed"] if seed_pip else []))
        user_path = path.parent / (path.name + "-llm-user")
        user_path.mkdir()
        return cls(path, user_path)

    @property
    def bin(self) -> Path:
        return self.path / "bin"

    def env(self, **extra: str) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("VIRTUAL_ENV", "PYTHON", "PYTEST_", "LLM_", "UV_"))
        }
        env.update(
            VIRTUAL_ENV=str(self.path),
            PATH=f"{self.bin}{os.pathsep}{env.get('PATH', '')}",
            LLM_USER_PATH=str(self.user_path),
            PYTHONIOENCODING="utf-8",
        )
        env.update(extra)
        return env

    def pip_install(self, *requirements, cwd=None) -> None:
        """`uv pip install` into this venv; `cwd` is where `--group` finds pyproject."""
        python = self.bin / "python"
        check(
            UV, "pip", "install", "--quiet", "--python", python, *requirements, cwd=cwd
        )

    def llm(self, *args, input=None, **extra_env: str) -> subprocess.CompletedProcess:
        return run(self.bin / "llm", *args, input=input, env=self.env(**extra_env))

    def llm_batch(self, *commands, **extra_env: str) -> list[LlmResult]:
        """Run several `llm` command lines in one process (see llm_driver.py).

        Each command is a list of arguments, or a dict with "args" and optionally
        "input" (standard input) and "env" (extra environment variables)."""
        batch = [
            command if isinstance(command, dict) else {"args": command}
            for command in commands
        ]
        batch = [
            {**command, "args": [str(arg) for arg in command["args"]]}
            for command in batch
        ]
        result = check(
            self.bin / "python",
            DRIVER,
            input=json.dumps(batch),
            env=self.env(**extra_env),
        )
        return [LlmResult(**item) for item in json.loads(result.stdout)]

    def run(self, program: str, *args, cwd=None) -> subprocess.CompletedProcess:
        return run(self.bin / program, *args, cwd=cwd, env=self.env())

    def plugins(self) -> list[dict]:
        """What `llm plugins` lists, parsed."""
        return json.loads(check(self.bin / "llm", "plugins", env=self.env()).stdout)

    def check_project(self, project: Path) -> None:
        """The rendered project's own tests, `ruff check`, `ruff format --check` and
        `ty check` pass in this environment."""
        result = self.run(
            "python", "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=project
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert " passed" in result.stdout and "failed" not in result.stdout
        check(self.bin / "ruff", "check", "--no-cache", ".", cwd=project)
        check(self.bin / "ruff", "format", "--no-cache", "--check", ".", cwd=project)
        ty_check = (self.bin / "ty", "check", "--python", self.path)
        check(*ty_check, "--no-progress", cwd=project, env=self.env())


def repo_env(user_path: Path) -> PluginEnv:
    """The venv running the tests: it has llm, ruff and ty (the versions the
    rendered projects pin), enough to lint and type-check a render that is not
    installed, whose imports resolve to llm and the project's own files."""
    return PluginEnv(Path(sys.prefix), user_path)


class LlmServer:
    """One long-lived `llm_driver.py --serve` process in a venv: each `llm(...)` call
    runs one llm command line through llm's click entry point, as the `llm` program
    would, without paying llm's start-up again. Results look like subprocess's."""

    def __init__(self, env: PluginEnv):
        self.env = env
        self.process = subprocess.Popen(
            [str(env.bin / "python"), str(DRIVER), "--serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            env=env.env(),
        )

    def llm(self, *args, input=None, **extra_env: str) -> subprocess.CompletedProcess:
        command = {
            "args": [str(arg) for arg in args],
            "input": input,
            "env": {"LLM_USER_PATH": str(self.env.user_path), **extra_env},
        }
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        result = LlmResult(**json.loads(self.process.stdout.readline()))
        assert result.traceback is None, result.traceback
        return subprocess.CompletedProcess(
            ["llm", *command["args"]], result.exit_code, result.stdout, result.stderr
        )

    def plugins(self) -> list[dict]:
        result = self.llm("plugins")
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    def close(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        self.process.wait(timeout=60)
