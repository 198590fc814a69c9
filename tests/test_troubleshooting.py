"""The README's "Troubleshooting" step, run for real: an editable plugin broken by a
syntax error the tutorial shows breaks every `llm` command, `llm uninstall` included,
until LLM starts without plugins (`LLM_LOAD_PLUGINS=''`)."""

import re

from test_distribution import (
    BROKEN_REGISTER,
    assert_model_runs,
    copy_project,
    plugin_names,
)

from plugin_env import PluginEnv


def test_broken_plugin_uninstalls_without_plugins(default_project, tmp_path):
    env = PluginEnv.create(tmp_path / ".venv", seed_pip=True)  # llm uninstall runs pip
    project = copy_project(default_project, tmp_path / "llm-markov")
    env.pip_install("llm", "-e", str(project))
    assert_model_runs(env)

    module = project / "llm_markov.py"
    source, count = re.subn(
        r"^(\s*)register\(.*\)$",
        lambda match: match[1] + BROKEN_REGISTER,
        module.read_text(encoding="utf-8"),
        flags=re.MULTILINE,
    )
    assert count == 1, "the module has one register(...) call"
    module.write_text(source, encoding="utf-8")

    result = env.llm("uninstall", "llm-markov", "-y")
    assert result.returncode != 0, result.stdout
    assert "SyntaxError" in result.stderr
    assert BROKEN_REGISTER in result.stderr

    result = env.llm("uninstall", "llm-markov", "-y", LLM_LOAD_PLUGINS="")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Successfully uninstalled llm-markov-0.1" in result.stdout
    assert plugin_names(env) == []
