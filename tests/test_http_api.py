"""The http-api model kind, for each protocol: rendered with three answer sets,
installed with the real llm in one venv, and driven through the `llm` command against
each protocol's fake API on loopback.

Each plugin's command lines run in one batch (see llm_driver.py); the tests below
check the results. A few commands run as real `llm` processes. The Anthropic render
also runs its own tests here (the OpenAI one's run in test_extras_installed.py).
"""

import json
import sqlite3
from pathlib import Path

import pytest
from fake_api import FAKE_APIS

from conftest import render_project
from plugin_env import PluginEnv, check

KEY = "sk-live-abcdefghijklmnop"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452")
PDF = b"%PDF-1.4\n%%EOF\n"

ACME = {"model_kind": "http-api", "plugin_name": "llm-acme-chat"}
CLAUDE = {
    "model_kind": "http-api",
    "api_protocol": "anthropic-messages",
    "plugin_name": "llm-claude-acme",
    "api_model": "claude-acme-1",
    "extras": ["tools", "commands", "fragments", "templates"],  # all it takes
}
ORBIT = {
    "model_kind": "http-api",
    "plugin_name": "llm-orbit",
    "model_id": "orbit-large",
    "api_model": "orbit/large-2@v1",
    "key_name": "orbit.key",
    "key_env_var": "ORBIT_SECRET",
    # Port 9 (discard) is closed: the default URL fails without leaving the machine.
    "api_base_url": "http://127.0.0.1:9/v9",
    "readme_language": "zh",
}


class Plugin:
    """One rendered plugin of the venv and its fake API: the names its commands use."""

    def __init__(self, name: str, protocol: str, api_model: str, option: list[str]):
        self.model_id = name  # the plugin's short name, its key name and model id
        self.protocol = protocol
        self.api_model = api_model
        prefix = name.upper().replace("-", "_")
        self.key_env_var, self.base_url_env_var = (
            f"{prefix}_API_KEY",
            f"{prefix}_BASE_URL",
        )
        self.option = option  # an option only this protocol has, and its value


PLUGINS = {
    "acme": Plugin("acme-chat", "openai-chat", "acme-chat", ["seed", "7"]),
    "claude": Plugin(
        "claude-acme", "anthropic-messages", "claude-acme-1", ["top_k", "5"]
    ),
}


@pytest.fixture(scope="module")
def projects(tmp_path_factory):
    root = tmp_path_factory.mktemp("http-api")
    return {
        "acme": render_project(root / "llm-acme-chat", ACME),
        "claude": render_project(root / "llm-claude-acme", CLAUDE),
        "orbit": render_project(root / "llm-orbit", ORBIT),
    }


@pytest.fixture(scope="module")
def env(projects, tmp_path_factory):
    """The three plugins in one venv, with ty for the type check."""
    env = PluginEnv.create(tmp_path_factory.mktemp("venv") / ".venv")
    env.pip_install("-e", ".", "--group", "dev", cwd=projects["acme"])
    env.pip_install("-e", projects["claude"], "-e", projects["orbit"])
    return env


@pytest.fixture(scope="module")
def apis():
    with (
        FAKE_APIS["openai-chat"](api_key=KEY, model="acme-chat") as acme,
        FAKE_APIS["anthropic-messages"](api_key=KEY, model="claude-acme-1") as claude,
        FAKE_APIS["openai-chat"](api_key=KEY, model="orbit/large-2@v1") as orbit,
    ):
        yield {"acme": acme, "claude": claude, "orbit": orbit}


# Each error: the command's arguments, then a part of the one line it must print.
ERRORS = {
    "401": (["hi", "--key", "sk-wrong-key"], "keys set"),
    "404": (["status 404"], "Fake error 404 (check the model name and the base URL"),
    "429": (["status 429"], "Fake error 429 (too many requests"),
    "500": (["status 500"], "Fake error 500 (the API failed: try again later)"),
    "529": (["status 529"], "Fake error 529 (the API failed: try again later)"),
    "truncated": (["truncate"], "the connection to http://127.0.0.1:"),
    "no end": (["no done"], "the API's stream ended before "),
    "malformed": (["malformed"], "the API sent malformed JSON: '{not json'"),
    "error event": (["error event"], "the API reported an error: Fake overload"),
}
NO_SERVER = "http://127.0.0.1:9/v1"  # port 9 (discard) is closed


def commands_of(plugin: Plugin, image, pdf) -> dict:
    """Every command line of one plugin, by name."""
    model = plugin.model_id

    def prompt(*args, key=True, **env):
        """An `llm -m MODEL` command, with the key in its environment."""
        key_env = {plugin.key_env_var: KEY} if key else {}
        return {"args": ["-m", model, *args], "env": {**key_env, **env}}

    add = "def add(a: int, b: int) -> int:\n    return a + b\n"
    commands = {
        "no key": prompt("hi", key=False),
        "stream": prompt("hello streamed"),
        "no stream": prompt("hello whole", "--no-stream"),
        "async": prompt("hello async", "--async"),
        "options": prompt(
            "with options", "-o", "temperature", "0.5", "-o", *plugin.option
        ),
        "bad option": prompt("hi", "-o", "top_p", "1.5"),
        "system": prompt("first turn", "-s", "be brief"),
        "continue": {"args": ["-c", "second turn"], "env": {plugin.key_env_var: KEY}},
        "chat": {
            **prompt(),
            "args": ["chat", "-m", model],
            "input": "hi chat\nagain\nquit\n",
        },
        "tool": prompt("-T", "llm_version", "which version?"),
        "functions": prompt("--functions", add, 'add {"a": 2, "b": 3}'),
        "schema": prompt("--schema", "name, age int", "a person"),
        "image": prompt("what is it", "-a", str(image)),
        "pdf": prompt("read it", "-a", str(pdf)),
        "reasoning": prompt("think"),
        "--key": prompt("by option", "--key", KEY, key=False),
        "keys set": {"args": ["keys", "set", model], "input": KEY},
        "stored key": prompt("by stored key", key=False),
        "refresh": {
            "args": [model, "models", "--refresh"],
            "env": {plugin.key_env_var: KEY},
        },
        "models": {"args": ["models"]},
    }
    for name, (args, _) in ERRORS.items():
        commands[name] = prompt(*args)
    commands["no server"] = prompt("hi", **{plugin.base_url_env_var: NO_SERVER})
    commands["logs"] = {"args": ["logs", "-n", "0", "--json"]}
    commands["plugins"] = {"args": ["plugins"]}
    return commands


def orbit_commands(orbit_api) -> dict:
    """Another key name, key variable, API model and default base URL."""
    at_fake_api = {"ORBIT_BASE_URL": orbit_api.url}
    return {
        "orbit default url": {
            "args": ["-m", "orbit-large", "default url", "--key", KEY]
        },
        "orbit by env": {
            "args": ["-m", "orbit-large", "by env"],
            "env": {**at_fake_api, "ORBIT_SECRET": KEY},
        },
        "orbit keys set": {"args": ["keys", "set", "orbit.key"], "input": "sk-bad"},
        "orbit stored": {"args": ["-m", "orbit-large", "stored"], "env": at_fake_api},
    }


@pytest.fixture(scope="module")
def results(env, apis, tmp_path_factory):
    """Every command line of each plugin, one batch (and LLM folder) per plugin."""
    files = tmp_path_factory.mktemp("files")
    (files / "dot.png").write_bytes(PNG)
    (files / "doc.pdf").write_bytes(PDF)
    found = {}
    for name, plugin in PLUGINS.items():
        commands = commands_of(plugin, files / "dot.png", files / "doc.pdf")
        if name == "acme":
            commands.update(orbit_commands(apis["orbit"]))
        user_path = tmp_path_factory.mktemp(f"llm-{name}")
        # Retries off: the fake API fails on purpose (test_http_client.py retries).
        no_retries = {"ACME_CHAT_RETRIES": "0", "ORBIT_RETRIES": "0"}
        no_retries[plugin.base_url_env_var.replace("_BASE_URL", "_RETRIES")] = "0"
        batch = env.llm_batch(
            *commands.values(),
            LLM_USER_PATH=str(user_path),
            **{plugin.base_url_env_var: apis[name].url},
            **no_retries,
        )
        found[name] = dict(zip(commands, batch, strict=True))
        found[name]["user path"] = user_path
    return found


@pytest.fixture(params=list(PLUGINS))
def each(request, results, apis):
    """(plugin, its results, its fake API), for each protocol."""
    name = request.param
    return PLUGINS[name], results[name], apis[name]


def body_of(api, text: str) -> dict:
    """The last request whose last message holds `text`."""
    return next(
        request["body"]
        for request in reversed(api.requests)
        if request["body"] and text in json.dumps(request["body"]["messages"][-1])
    )


def ok(result) -> str:
    assert result.exit_code == 0 and not result.traceback, result
    return result.stdout


@pytest.mark.parametrize(
    "name, text, stream",
    [
        ("stream", "hello streamed", True),
        ("no stream", "hello whole", False),
        ("async", "hello async", True),
    ],
)
def test_prompt_streamed_or_not_and_async(each, name, text, stream):
    plugin, results, api = each
    assert ok(results[name]) == f"You said: {text}\n"
    body = body_of(api, text)
    assert body["stream"] is stream and body["model"] == plugin.api_model


def test_options_that_are_set_are_sent_and_bad_ones_refused(each):
    plugin, results, api = each
    ok(results["options"])
    body = body_of(api, "with options")
    option, value = plugin.option
    assert (body["temperature"], body[option]) == (0.5, int(value))
    assert "top_p" not in body
    assert results["bad option"].exit_code == 1
    assert "top_p must be between 0 and 1" in results["bad option"].stderr


def test_system_prompt_continue_and_chat_send_the_history(each):
    _, results, api = each
    ok(results["system"])
    assert ok(results["continue"]) == "You said: second turn\n"
    assert api.turns(body_of(api, "second turn")) == [
        ("system", "be brief"),
        ("user", "first turn"),
        ("assistant", "You said: first turn"),
        ("user", "second turn"),
    ]
    chat = ok(results["chat"])
    assert "You said: hi chat" in chat and "You said: again" in chat
    assert len(api.turns(body_of(api, "again"))) == 3


def test_tool_chains_run_to_the_final_answer(each):
    _, results, api = each
    assert ok(results["tool"]).startswith("The tool said: 0.")
    assert ok(results["functions"]) == "The tool said: 5\n"
    assert api.turns(body_of(api, '"5"'))[-1] == ("tool", "5")


def test_schema_attachments_and_reasoning(each):
    plugin, results, api = each
    assert json.loads(ok(results["schema"])) == {"name": "example", "age": 42}
    assert "name" in json.dumps(body_of(api, "a person"))
    assert ok(results["image"]) == "You said: what is it (images: image/png)\n"
    if plugin.protocol == "anthropic-messages":
        assert ok(results["pdf"]) == "You said: read it (images: application/pdf)\n"
    else:
        assert "does not support attachments of type" in results["pdf"].stderr
    assert ok(results["reasoning"]) == "Thought about it.\n"
    assert "Let me think." in results["reasoning"].stderr


def test_key_by_env_var_option_and_llm_keys_set(each):
    plugin, results, api = each
    assert results["no key"].exit_code == 1
    assert results["no key"].stderr == (
        f"Error: No key found - add one using 'llm keys set {plugin.model_id}' "
        f"or set the {plugin.key_env_var} environment variable\n"
    )
    assert ok(results["--key"]) == "You said: by option\n"
    ok(results["keys set"])
    assert ok(results["stored key"]) == "You said: by stored key\n"
    keys = {api.key_of(request) for request in api.requests}
    assert keys == {KEY, "sk-wrong-key"}


@pytest.mark.parametrize("name", [*ERRORS, "no server"])
def test_each_error_is_one_line(each, name):
    _, results, _ = each
    result = results[name]
    assert result.exit_code == 1 and not result.traceback
    [error_line] = result.stderr.splitlines()
    message = ERRORS[name][1] if name in ERRORS else f"could not connect to {NO_SERVER}"
    assert error_line.startswith("Error: ") and message in error_line
    assert "sk-wrong-key" not in error_line and KEY not in error_line


def test_the_key_is_never_logged_nor_a_failed_reply(each):
    plugin, results, _ = each
    logs = json.loads(ok(results["logs"]))
    # 11 prompts with one response each (12 with the PDF where it is taken), 2 chat
    # turns, 2 tool chains of 2 responses; no error, even after some text, is logged.
    assert len(logs) == 17 + (results["pdf"].exit_code == 0)
    assert KEY not in json.dumps(logs)
    assert {log["resolved_model"] for log in logs} == {f"{plugin.api_model}-2026-01-01"}
    database = sqlite3.connect(results["user path"] / "logs.db")
    dump = "\n".join(database.iterdump())
    database.close()
    assert KEY not in dump and "You said: hello streamed" in dump


def test_listed_models_are_registered(each):
    plugin, results, _ = each
    listed = ok(results["refresh"]).splitlines()
    assert [line.split(":")[0] for line in listed] == [
        plugin.model_id,
        f"{plugin.model_id}/another-model",
    ]
    assert f": {plugin.model_id}/another-model" in ok(results["models"])


def test_plugins_are_listed(results):
    names = {plugin["name"] for plugin in json.loads(ok(results["acme"]["plugins"]))}
    assert {"llm-acme-chat", "llm-claude-acme", "llm-orbit"} <= names


def test_real_llm_process(env, apis):
    """A real `llm` process streams the text it got, then the error, no traceback."""
    for name, error in [("truncate", "the connection to"), ("error event", "Fake")]:
        result = env.llm(
            "-m",
            "claude-acme",
            name,
            CLAUDE_ACME_BASE_URL=apis["claude"].url,
            CLAUDE_ACME_API_KEY=KEY,
        )
        assert result.returncode == 1
        assert result.stdout == "You said:"  # the two words before the trouble
        assert result.stderr.startswith("Error: ") and error in result.stderr
        assert result.stderr.count("\n") == 1


def test_custom_answers(results, apis):
    results = results["acme"]
    assert "could not connect to http://127.0.0.1:9/v9/chat" in (
        results["orbit default url"].stderr
    )
    assert ok(results["orbit by env"]) == "You said: by env\n"
    assert body_of(apis["orbit"], "by env")["model"] == "orbit/large-2@v1"
    ok(results["orbit keys set"])
    bad_key = results["orbit stored"].stderr
    assert "llm keys set orbit.key" in bad_key and "sk-bad" not in bad_key


def test_streams_read_in_any_pieces_and_odd_fields_are_one_line(env):
    """Each protocol's Reply, fed as the models feed it (wire_probe.py): a stream
    reads the same whatever pieces it comes in and whatever its line ends, U+2028
    in the text included (str.splitlines would cut there), and a value of the wrong
    type anywhere in any event is read or is one ModelError line, never another
    exception."""
    probe = Path(__file__).with_name("wire_probe.py")
    targets = ["llm_acme_chat:acme-chat", "llm_claude_acme:claude-acme"]
    found = json.loads(check(env.bin / "python", probe, *targets, env=env.env()).stdout)
    for module, result in found.items():
        expected = [result["text"], [["add", '{"a": 1}']]]
        for pieces, read in result["pieces"].items():
            assert read == expected, (module, pieces)
        odd = result["odd"]
        assert odd["other"] == [], module
        assert odd["read"] > 100 and odd["one line"] > 100, (module, odd)


@pytest.mark.parametrize("name", ["acme", "claude", "orbit"])
def test_rendered_project_passes_its_lint_and_type_check(env, projects, name):
    check(env.bin / "ruff", "check", "--no-cache", ".", cwd=projects[name])
    check(env.bin / "ruff", "format", "--no-cache", "--check", ".", cwd=projects[name])
    check(env.bin / "ty", "check", cwd=projects[name], env=env.env())


def test_the_anthropic_render_passes_its_own_tests(env, projects):
    result = env.run(
        "python", "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=projects["claude"]
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert " passed" in result.stdout


def test_readme_in_both_languages(projects):
    english = (projects["acme"] / "README.md").read_text(encoding="utf-8")
    chinese = (projects["orbit"] / "README.md").read_text(encoding="utf-8")
    assert "llm keys set acme-chat" in english and "ACME_CHAT_BASE_URL" in english
    assert "llm keys set orbit.key" in chinese and "ORBIT_SECRET" in chinese
    assert "## Adapting to your API" in english and "## 适配你的 API" in chinese


def test_markov_render_has_nothing_of_http_api(default_project):
    files = {path.name for path in default_project.rglob("*") if path.is_file()}
    assert not files & {"fake_api.py", "loopback.py", "test_protocol.py"}
    conftest = (default_project / "tests" / "conftest.py").read_text()
    assert "loopback" not in conftest
    assert "httpx2" not in (default_project / "pyproject.toml").read_text()
