"""The http-api kind against each API's published reference, not only its own fake.

One render per protocol, both installed in one venv, driven through the real `llm`
command (one batch of command lines per plugin) against the loopback servers of
reference_apis.py, which replay transcripts in the documented shapes and check the
requests the way the real APIs do. The module needs only `env` (a venv with the
plugins installed) and `reference_plugins` (their names), so its tests can move
into test_http_api.py and share that module's venv.
"""

import json
import re

import pytest
from reference_apis import (
    ANSWER_AFTER_THOUGHT,
    ANTHROPIC_OUTPUT_TOKENS,
    ANTHROPIC_USAGE_START,
    GREETING,
    OPENAI_USAGE,
    REFERENCE_APIS,
    REFUSAL_PIECES,
    THOUGHT,
    THOUGHT_SIGNATURE,
)

from conftest import render_project
from plugin_env import PluginEnv

KEY = "sk-ref-9f8e7d6c5b4a3210zyxw"
REFUSAL = "".join(REFUSAL_PIECES)
WRONG_KEY = "sk-ref-wrong-0000111122223333"
OPENAI = {"model_kind": "http-api", "plugin_name": "llm-ref-openai"}
ANTHROPIC = {
    "model_kind": "http-api",
    "api_protocol": "anthropic-messages",
    "plugin_name": "llm-ref-claude",
    "api_model": "claude-ref-1",
}


class Plugin:
    """An installed plugin's names: its model id (the short name) and variables."""

    def __init__(self, name: str, protocol: str, api_model: str):
        self.model_id = name
        self.protocol = protocol
        self.api_model = api_model
        prefix = name.upper().replace("-", "_")
        self.key_env_var = f"{prefix}_API_KEY"
        self.base_url_env_var = f"{prefix}_BASE_URL"
        self.retries_env_var = f"{prefix}_RETRIES"


@pytest.fixture(scope="module")
def reference_plugins() -> dict[str, Plugin]:
    """The plugins of `env`, by protocol."""
    return {
        "openai-chat": Plugin("ref-openai", "openai-chat", "ref-openai"),
        "anthropic-messages": Plugin(
            "ref-claude", "anthropic-messages", "claude-ref-1"
        ),
    }


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """Both renders, without extras, installed in one venv."""
    root = tmp_path_factory.mktemp("reference")
    openai = render_project(root / "llm-ref-openai", OPENAI)
    anthropic = render_project(root / "llm-ref-claude", ANTHROPIC)
    env = PluginEnv.create(tmp_path_factory.mktemp("venv") / ".venv")
    env.pip_install("-e", openai, "-e", anthropic)
    return env


ADD = "def add(a: int, b: int) -> int:\n    return a + b\n"
# Each documented error: the prompt that gets it, its status and a part of its message.
ERRORS = {
    "openai-chat": {
        "error 400": (400, "maximum context length is 128000 tokens"),
        "error 403": (403, None),  # the key's problem: its message is not shown
        "error 429": (429, "Rate limit reached for gpt-ref"),
        "error 500": (500, "The server had an error while processing your request"),
        "error 503": (503, "The engine is currently overloaded"),
    },
    "anthropic-messages": {
        "error 400": (400, "prompt is too long: 213577 tokens > 200000 maximum"),
        "error 403": (403, None),
        "error 413": (413, "Request exceeds the maximum size"),
        "error 429": (429, "would exceed the rate limit for your organization"),
        "error 500": (500, "Internal server error"),
        "error 529": (529, "Overloaded"),
    },
}
STREAM_ERRORS = {
    "openai-chat": "The server had an error while processing your request",
    "anthropic-messages": "Overloaded",
}


def commands_of(plugin: Plugin) -> dict:
    """Every command line of one plugin, by name."""

    def prompt(*args, key=True):
        return {
            "args": ["-m", plugin.model_id, *args],
            "env": {plugin.key_env_var: KEY} if key else {},
        }

    commands = {
        "stream": prompt("hello"),
        "no stream": prompt("hello", "--no-stream"),
        "tool": prompt("-T", "llm_version", "which llm is this?"),
        "tool no stream": prompt("-T", "llm_version", "which llm?", "--no-stream"),
        "functions": prompt("--functions", ADD, "what is 2 + 3?"),
        "two tools": prompt("-T", "llm_version", "-T", "llm_time", "version and time"),
        "wrong key": prompt("hello", "--key", WRONG_KEY, key=False),
        "stream error": prompt("stream error"),
    }
    if plugin.protocol == "anthropic-messages":
        commands["think"] = prompt("think")
        commands["think no stream"] = prompt("think", "--no-stream")
        budget = ["-o", "thinking_budget", "1024"]
        tool = ["-T", "llm_version", *budget]
        commands["think then tool"] = prompt(*tool, "think, then check")
        commands["think then tool no stream"] = prompt(
            *tool, "think, then check quietly", "--no-stream"
        )
    else:
        commands["refuse"] = prompt("refuse this")
        commands["refuse no stream"] = prompt("refuse this", "--no-stream")
    for name in ERRORS[plugin.protocol]:
        commands[name] = prompt(name)
    commands["logs"] = {"args": ["logs", "-n", "0", "--json"]}
    return commands


@pytest.fixture(scope="module")
def reference_results(env, reference_plugins, tmp_path_factory):
    """{protocol: (plugin, its results by command name, its reference server)}."""
    found = {}
    for protocol, plugin in reference_plugins.items():
        with REFERENCE_APIS[protocol](api_key=KEY, model=plugin.api_model) as api:
            commands = commands_of(plugin)
            batch = env.llm_batch(
                *commands.values(),
                LLM_USER_PATH=str(tmp_path_factory.mktemp(f"llm-{plugin.model_id}")),
                **{plugin.base_url_env_var: api.url, plugin.retries_env_var: "0"},
            )
        found[protocol] = (plugin, dict(zip(commands, batch, strict=True)), api)
    return found


@pytest.fixture(params=list(REFERENCE_APIS))
def each(request, reference_results):
    return reference_results[request.param]


def ok(result) -> str:
    assert result.exit_code == 0 and not result.traceback, result
    return result.stdout


def logs_of(results) -> list[dict]:
    return json.loads(ok(results["logs"]))


def test_streamed_and_whole_text_is_the_transcripts(each):
    _, results, api = each
    assert ok(results["stream"]) == GREETING + "\n"
    assert ok(results["no stream"]) == GREETING + "\n"
    streamed = [
        request["body"]["stream"]
        for request in api.chats()
        if "hello" in json.dumps(request["body"]) and api.key_of(request) == KEY
    ]
    assert streamed == [True, False]


@pytest.mark.parametrize("name", ["tool", "tool no stream", "functions"])
def test_a_tool_call_in_fragments_chains_to_the_final_answer(each, name):
    plugin, results, _ = each
    output = ok(results[name])
    expected = "5" if name == "functions" else r"0\.\d+[\w.]*"
    assert re.search(rf"The tool answered: {expected}\.\n\Z", output), output
    if plugin.protocol == "anthropic-messages":  # its text before the tool call
        assert output.startswith("I'll check that.")


def test_usage_is_logged_as_integers(each):
    plugin, results, api = each
    logs = [log for log in logs_of(results) if log["prompt"] == "hello"]
    assert len(logs) == 2  # streamed and not
    if plugin.protocol == "openai-chat":
        tokens = (OPENAI_USAGE["prompt_tokens"], OPENAI_USAGE["completion_tokens"])
        reported = {"cached_tokens": 3}
    else:
        tokens = (ANTHROPIC_USAGE_START["input_tokens"], ANTHROPIC_OUTPUT_TOKENS)
        reported = {"cache_read_input_tokens": 12}
    for log in logs:
        assert (log["input_tokens"], log["output_tokens"]) == tokens
        details = log["token_details"]
        details = json.loads(details) if isinstance(details, str) else details
        assert isinstance(details, dict) and details.items() >= reported.items()
        assert all(type(value) is int for value in details.values()), details
        assert log["resolved_model"] == api.served_model


def test_documented_errors_are_one_line_and_nothing_is_logged(each):
    plugin, results, api = each
    failed = {**ERRORS[plugin.protocol], "stream error": (200, None)}
    failed["wrong key"] = (401, None)
    for name, (status, message) in failed.items():
        result = results[name]
        assert result.exit_code == 1 and not result.traceback, (name, result)
        [line] = result.stderr.splitlines()
        assert line.startswith("Error: "), (name, line)
        if status != 200:
            assert f"{status} from POST {api.url}" in line, (name, line)
        if message:
            assert message in line, (name, line)
        if status in (401, 403):
            assert f"llm keys set {plugin.model_id}" in line
    stream_error = results["stream error"]
    assert STREAM_ERRORS[plugin.protocol] in stream_error.stderr
    assert "the API reported an error" in stream_error.stderr
    assert stream_error.stdout.startswith("Partial answer")
    logged = {log["prompt"] for log in logs_of(results)}
    assert not logged & {*ERRORS[plugin.protocol], "stream error"}
    assert "Partial" not in json.dumps(logs_of(results))


def test_every_reply_is_logged_once(each):
    plugin, results, _ = each
    # Each reply once: a chain's second reply (to the tool results) has no prompt.
    expected = ["hello", "hello", "which llm is this?", "which llm?", "what is 2 + 3?"]
    expected += ["version and time", *[""] * 4]
    if plugin.protocol == "anthropic-messages":
        expected += [
            "think",
            "think",
            "think, then check",
            "",
            "think, then check quietly",
            "",
        ]
    else:  # a refusal is a reply: logged, with its text
        expected += ["refuse this", "refuse this"]
    logged = [log["prompt"] for log in logs_of(results)]
    assert sorted(logged) == sorted(expected)


def test_the_key_never_appears_in_any_output(each):
    _, results, _ = each
    for name, result in results.items():
        for text in (result.stdout, result.stderr, result.traceback or ""):
            assert KEY not in text and WRONG_KEY not in text, name
            assert WRONG_KEY[-4:] + "." not in text, name  # the masked form


def test_requests_carry_the_documented_headers(each):
    plugin, _, api = each
    assert api.requests and all(r["path"] == api.chat_path for r in api.requests)
    for request in api.requests:
        headers = request["headers"]
        assert headers["content-type"].split(";")[0] == "application/json"
        if plugin.protocol == "openai-chat":
            assert headers["authorization"].startswith("Bearer ")
        else:
            assert headers["anthropic-version"] == "2023-06-01"
            assert "authorization" not in headers
    keys = [api.key_of(request) for request in api.requests]
    assert set(keys) == {KEY, WRONG_KEY} and keys.count(WRONG_KEY) == 1


def test_anthropic_thinking_streamed_or_not(reference_results):
    _, results, _ = reference_results["anthropic-messages"]
    answer = "".join(ANSWER_AFTER_THOUGHT) + "\n"
    assert ok(results["think"]) == answer
    assert THOUGHT in results["think"].stderr
    assert ok(results["think no stream"]) == answer


def test_anthropic_thinking_is_logged_streamed_or_not(reference_results):
    """llm shows reasoning only as it streams; both replies log it."""
    _, results, _ = reference_results["anthropic-messages"]
    thoughts = [
        log.get("reasoning") for log in logs_of(results) if log["prompt"] == "think"
    ]
    assert thoughts == [THOUGHT, THOUGHT]


def test_anthropic_whole_reply_thinking_goes_back_with_the_tool_result(
    reference_results,
):
    """Without its thinking block the API refuses the tool result with a 400."""
    _, results, _ = reference_results["anthropic-messages"]
    output = ok(results["think then tool no stream"])
    assert re.search(r"The tool answered: 0\.\d+[\w.]*\.\n\Z", output), output


def test_anthropic_thinking_goes_back_signed_with_the_tool_result(reference_results):
    """With thinking enabled, the API refuses a tool result whose assistant turn
    does not start with the thinking block, signature and all, that it sent."""
    _, results, api = reference_results["anthropic-messages"]
    output = ok(results["think then tool"])
    assert re.search(r"The tool answered: 0\.\d+[\w.]*\.\n\Z", output), output
    follow_up = next(
        r["body"]
        for r in api.chats()
        if r["body"].get("thinking") and len(r["body"]["messages"]) == 3
    )
    first = follow_up["messages"][1]["content"][0]
    assert first == {
        "type": "thinking",
        "thinking": THOUGHT,
        "signature": THOUGHT_SIGNATURE,
    }


def test_parallel_tool_calls_each_get_their_result(each):
    _, results, api = each
    output = ok(results["two tools"])
    assert re.search(r"The tools answered: 0\.\d+[\w.]* and \{.*\}\.\n\Z", output)
    follow_up = next(
        r["body"]
        for r in api.chats()
        if "version and time" in json.dumps(r["body"])
        and len(r["body"]["messages"]) > 1
    )
    answers = json.dumps(follow_up["messages"][-2:])
    assert all(call_id in answers for call_id in api.tool_call_ids)


@pytest.mark.parametrize("name", ["refuse", "refuse no stream"])
def test_openai_refusal_reaches_the_user(reference_results, name):
    _, results, _ = reference_results["openai-chat"]
    result = results[name]
    assert REFUSAL in result.stdout + result.stderr, result
