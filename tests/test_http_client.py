"""The http-api kind's HTTP client for production and against hostile servers, on
one render (with embeddings) installed at the lowest versions its pyproject allows
(`--resolution lowest-direct`: the dependency floors, the dev group's hypothesis and
trustme included): its own hostile-server, client and embeddings tests pass there,
and the real `llm` command shows every fault as one line without the key."""

import importlib.util
import json
import re
import sys
from pathlib import Path

import pytest
from fake_api import FakeAPI

from conftest import ROOT, render_project
from plugin_env import UV, PluginEnv, check

KEY = "sk-live-hostile-0123456789"
ANSWERS = {
    "model_kind": "http-api",
    "plugin_name": "llm-acme-chat",
    "extras": ["embeddings"],
    "readme_language": "zh",  # the README's HTTP settings are checked in Chinese
}
ENV = {"ACME_CHAT_API_KEY": KEY, "ACME_CHAT_RETRIES": "2"}


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    return render_project(tmp_path_factory.mktemp("client") / "llm-acme-chat", ANSWERS)


@pytest.fixture(scope="module")
def env(project, tmp_path_factory) -> PluginEnv:
    env = PluginEnv.create(tmp_path_factory.mktemp("venv") / ".venv")
    python = env.bin / "python"
    lowest = ("--resolution", "lowest-direct")
    check(
        UV,
        "pip",
        "install",
        "--quiet",
        "--python",
        python,
        *lowest,
        "-e",
        ".",
        "--group",
        "dev",
        cwd=project,
    )
    return env


@pytest.fixture(scope="module")
def hostile(project):
    """The render's own hostile server, relaying to its own fake API."""
    sys.path.insert(0, str(project / "tests"))
    try:
        spec = importlib.util.spec_from_file_location(
            "acme_hostile", project / "tests" / "hostile_server.py"
        )
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(project / "tests"))
    with (
        FakeAPI(api_key=KEY, model="acme-chat") as api,
        module.HostileServer(relay_to=api.url) as server,
    ):
        yield module, server


def test_the_renders_own_hostile_and_client_tests_pass_at_the_lowest_versions(
    env, project
):
    files = ["tests/test_hostile_server.py", "tests/test_client.py"]
    result = env.run(
        "python", "-m", "pytest", "-q", *files, "tests/test_embeddings.py", cwd=project
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert " passed" in result.stdout


def test_the_llm_command_against_a_hostile_server(env, hostile, tmp_path):
    module, server = hostile
    Reply = module.Reply
    at = {"ACME_CHAT_BASE_URL": server.url, **ENV}
    server.answer(
        # llm chat: two retries, then the error
        *[Reply(500, {"Retry-After": "0"}, f"<title>boom {KEY}</title>".encode())] * 3,
    )
    [chat] = env.llm_batch(
        {"args": ["chat", "-m", "acme-chat"], "input": "hi\nquit\n", "env": at},
        LLM_USER_PATH=str(tmp_path),
    )
    assert len(server.requests) == 3
    server.answer(
        Reply(503, {"Retry-After": "0"}),  # a retry, then the answer
        module.RELAY,
        Reply(302, {"Location": f"https://evil.example/{KEY}"}, b"data: pwned"),
    )
    retried, redirected = env.llm_batch(
        {"args": ["-m", "acme-chat", "again"], "env": at},
        {"args": ["-m", "acme-chat", "hi"], "env": {**at, "ACME_CHAT_RETRIES": "0"}},
        LLM_USER_PATH=str(tmp_path),
    )
    server.answer(
        Reply(200, {"Content-Type": "application/json"}, b'{"data": "a string"}')
    )
    embedded, carriage, logs = env.llm_batch(
        {"args": ["embed", "-m", "acme-chat-embed", "-c", "hi"], "env": at},
        {"args": ["-m", "acme-chat", "hi", "--key", KEY + "\r"], "env": at},
        {"args": ["logs", "-n", "0", "--json"]},
        LLM_USER_PATH=str(tmp_path),
    )
    for result in (chat, redirected, embedded):
        assert result.exit_code == 1 and result.traceback is None, result
        error = result.stderr.splitlines()[-1]
        assert error.startswith("Error: ") and KEY not in result.stderr + result.stdout
    assert "500 from POST" in chat.stderr and "trying again" in chat.stderr
    assert retried.exit_code == 0 and retried.stdout == "You said: again\n"
    assert retried.stderr.count("trying again") == 1
    assert "302 from POST" in redirected.stderr and "pwned" not in redirected.stdout
    assert "no list for 1 texts" in embedded.stderr
    assert carriage.exit_code == 0 and carriage.stdout == "You said: hi\n"
    assert server.requests[-1]["headers"]["Authorization"] == f"Bearer {KEY}"
    prompts = [log["prompt"] for log in json.loads(logs.stdout)]
    assert prompts == ["again", "hi"]  # the failed replies were not logged


HTTP_SETTINGS = ["TIMEOUT", "CONNECT_TIMEOUT", "RETRIES", "HEADERS"]
ENVIRONMENT = ["HTTPS_PROXY", "NO_PROXY", "SSL_CERT_FILE", "SSL_CERT_DIR"]


def test_the_readme_names_every_http_setting_in_both_languages(project):
    readme = (project / "README.md").read_text(encoding="utf-8")
    assert "### 超时、重试、网关与代理" in readme
    for name in [f"ACME_CHAT_{setting}" for setting in HTTP_SETTINGS] + ENVIRONMENT:
        assert f"`{name}`" in readme, name
    assert "-o retries 0" in readme and "-o timeout" in readme
    # The English part (rendered by test_http_api.py) names the same settings.
    parts = ROOT / "includes" / "readme"
    names = {}
    for language in ("en", "zh"):
        text = (parts / language / "http-api.md.jinja").read_text(encoding="utf-8")
        names[language] = set(re.findall(r"\}\}_([A-Z_]+)|\b([A-Z]+_[A-Z_]+)\b", text))
    assert names["en"] == names["zh"]
    assert {(setting, "") for setting in HTTP_SETTINGS} <= names["en"]
    assert {("", name) for name in ENVIRONMENT} <= names["en"]
