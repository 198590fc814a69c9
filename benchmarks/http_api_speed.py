"""How fast the rendered http-api plugins stream, for each wire protocol, next to
llm's own OpenAI client and to a bare loop; and what they add to llm's start-up.

Run from the repository root:

    python3 -m uv run python benchmarks/http_api_speed.py [--tokens N] [--repeat N]
        [--warmup N] [--pairs N] [--models N] [--startup-runs N]

What it does:

1. Renders the template twice with model_kind=http-api: api_protocol=openai-chat
   (plugin llm-acme-chat, model acme-chat) and api_protocol=anthropic-messages
   (plugin llm-claude-acme, model claude-acme), and installs both editable into
   one new uv venv that uses this interpreter, with LLM_USER_PATH in a temporary
   folder.
2. Starts each protocol's fake API on 127.0.0.1 (includes/tests/fake_api.*.py,
   the servers the rendered projects' tests use). The prompt "count N" makes them
   stream N tokens, one server-sent event each (with Anthropic's event: lines).
3. Points llm's built-in OpenAI client at the OpenAI fake: a model in
   extra-openai-models.yaml with `api_base`, which llm serves with the openai SDK.
4. Runs this file again inside the venv (`--worker`), a fresh process for each
   measurement, and times one prompt until the first chunk and until the last:
   - "plugin": the plugin's model through llm's Python API;
   - "llm openai" (OpenAI protocol only): llm's own OpenAI client;
   - "bare loop": no llm at all, only httpx2 posting the same request and
     reading the same stream line by line (iter_lines), decoding each event's
     JSON (json.loads) and keeping its text: a plain client's least work.
   and the CPU time the process spent on it, and takes the peak resident memory
   during it minus the resident memory just before it (MB, Linux /proc; elsewhere
   the process's whole peak).
   Then, for each protocol, --pairs runs of the plugin and of the bare loop in
   turns in one warm process ("warm"), each with a client that stays open: the
   cost of streaming without a process's start.
5. Start-up: `llm models` in a fresh process, with one plugin loaded
   (LLM_LOAD_PLUGINS) and a cache of --models listed models in its LLM folder, so
   that llm registers them all; against `llm models` with no plugin loaded.
6. Measures each plugin's import cost: in fresh processes with plugins switched
   off (LLM_LOAD_PLUGINS=""), imports llm, then times importing the plugin's
   module.
7. Repeats every measurement --repeat times after --warmup rounds that are not
   counted, interleaved: in each round a plugin and its bare loop run one right
   after the other (each first in turn), in another order of protocols each round.
   It prints medians side by side; a ratio is the median of each round's own
   ratio, with its lowest and highest: the two runs of a pair are a second apart,
   so a machine whose speed drifts moves both. It says whether each target is met
   and always exits 0: this is a report.

Targets: the plugin no slower than llm's OpenAI client (within 5%, the noise of
a shared machine); at most 1.3 times the bare loop's total time; `llm models`
with the plugin and its cache at most 1.02 times bare llm's; import under 10 ms.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path

from common import ROOT, check, clean_env, kilobytes, render, reset_peak

KEY = "sk-bench-0123456789"
PLUGINS = {
    "openai-chat": {
        "answers": {"model_kind": "http-api", "plugin_name": "llm-acme-chat"},
        "name": "llm-acme-chat",
        "module": "llm_acme_chat",
        "model": "acme-chat",
        "api_model": "acme-chat",
        "env": "ACME_CHAT",
    },
    "anthropic-messages": {
        "answers": {
            "model_kind": "http-api",
            "api_protocol": "anthropic-messages",
            "plugin_name": "llm-claude-acme",
            "api_model": "claude-acme-1",
        },
        "name": "llm-claude-acme",
        "module": "llm_claude_acme",
        "model": "claude-acme",
        "api_model": "claude-acme-1",
        "env": "CLAUDE_ACME",
    },
}
NOISE, BARE_TARGET, STARTUP_TARGET = 1.05, 1.3, 1.02


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tokens", type=int, default=20_000, help="tokens streamed")
    parser.add_argument("--repeat", type=int, default=9, help="runs per figure")
    parser.add_argument(
        "--warmup", type=int, default=1, help="rounds run first and not counted"
    )
    parser.add_argument(
        "--pairs", type=int, default=20, help="warm pairs per protocol, in one process"
    )
    parser.add_argument("--models", type=int, default=500, help="models cached")
    parser.add_argument(
        "--startup-runs", type=int, default=30, help="runs of `llm models` (0: none)"
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    return parser.parse_args()


# The workers: run inside the plugins' venv, one measurement per process.


def timed(chunks) -> dict:
    """Times the iteration of `chunks` (text pieces) and its memory."""
    import gc
    import resource

    gc.collect()
    peak_was_reset = reset_peak()
    before = kilobytes("VmRSS") or 0
    start, cpu = time.perf_counter(), time.process_time()
    first = None
    kept = []
    for chunk in chunks:
        if first is None:
            first = time.perf_counter() - start
        kept.append(chunk)
    total, cpu = time.perf_counter() - start, time.process_time() - cpu
    peak = kilobytes("VmHWM") if peak_was_reset else None
    if peak is None:  # ru_maxrss is in kB on Linux
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tokens = len("".join(kept).split())
    return {
        "first": first,
        "total": total,
        "cpu": cpu,
        "peak_mb": (peak - before) / 1024,
        "tokens": tokens,
    }


def worker_stream(model_id: str, tokens: int) -> None:
    import llm

    model = llm.get_model(model_id)
    print(json.dumps(timed(model.prompt(f"count {tokens}"))))


def bare_chunks(protocol: str, url: str, api_model: str, tokens: int, client=None):
    """The text of the stream, read as plainly as it can be: httpx2 and json (with a
    new client unless one is given)."""
    import httpx2

    message = {"role": "user", "content": f"count {tokens}"}
    body = {"model": api_model, "messages": [message], "stream": True}
    if protocol == "anthropic-messages":
        path, headers = (
            "/messages",
            {"x-api-key": KEY, "anthropic-version": "2023-06-01"},
        )
        body["max_tokens"] = 8192
    else:
        path, headers = "/chat/completions", {"Authorization": f"Bearer {KEY}"}
    with (
        nullcontext(client) if client else httpx2.Client(timeout=120) as session,
        session.stream("POST", url + path, headers=headers, json=body) as response,
    ):
        for line in response.iter_lines():
            if not line.startswith("data:") or line == "data: [DONE]":
                continue
            event = json.loads(line[5:])
            if protocol == "anthropic-messages":
                text = event.get("delta", {}).get("text")
            else:
                choices = event.get("choices") or [{}]
                text = choices[0].get("delta", {}).get("content")
            if text:
                yield text


def worker_bare(protocol: str, tokens: int) -> None:
    import httpx2  # noqa: F401  (imported before the clock starts, as llm does)

    plugin = PLUGINS[protocol]
    url = os.environ[plugin["env"] + "_BASE_URL"]
    print(json.dumps(timed(bare_chunks(protocol, url, plugin["api_model"], tokens))))


def worker_pairs(protocol: str, tokens: int, count: int) -> None:
    """The plugin and the bare loop in turns in one warm process, `count` times
    each, each with a client that stays open (as the plugin's model keeps its own):
    the cost of streaming alone, without a process's start."""
    import httpx2
    import llm

    plugin = PLUGINS[protocol]
    url = os.environ[plugin["env"] + "_BASE_URL"]
    model = llm.get_model(plugin["model"])
    with httpx2.Client(timeout=120) as client:
        streams = {
            "plugin": lambda: model.prompt(f"count {tokens}"),
            "bare loop": lambda: bare_chunks(
                protocol, url, plugin["api_model"], tokens, client
            ),
        }
        for stream in streams.values():  # warm: connections, caches
            timed(stream())
        found: dict[str, list[dict]] = {label: [] for label in streams}
        for number in range(count):
            labels = list(streams) if number % 2 else list(streams)[::-1]
            for label in labels:
                found[label].append(timed(streams[label]()))
    print(json.dumps(found))


def worker_import(module: str) -> None:
    import importlib

    import llm  # noqa: F401  (what llm costs anyway is not counted)

    start = time.perf_counter()
    importlib.import_module(module)
    print(json.dumps({"import_ms": (time.perf_counter() - start) * 1000}))


# The driver: renders, installs, serves and reports.


def render_and_install(tmp: Path, env: dict[str, str]) -> Path:
    """The rendered plugins, installed editable into a new venv; returns its python."""
    from uv import find_uv_bin

    uv = find_uv_bin()
    venv = tmp / "venv"
    check(uv, "venv", "--quiet", "--python", sys.executable, venv, env=env)
    python = venv / "bin" / "python"
    for plugin in PLUGINS.values():
        project = render(tmp, plugin["name"], plugin["answers"])
        check(
            uv, "pip", "install", "--quiet", "--python", python, "-e", project, env=env
        )
    return python


def openai_baseline(user_path: Path, api_url: str) -> None:
    """llm's own OpenAI client, pointed at the OpenAI fake API."""
    config = [
        {
            "model_id": "openai-baseline",
            "model_name": "acme-chat",
            "api_base": api_url,
            "api_key_name": "bench",  # read from OPENAI_API_KEY
        }
    ]
    (user_path / "extra-openai-models.yaml").write_text(json.dumps(config))


def write_caches(user_path: Path, apis: dict, count: int) -> None:
    """Each plugin's cache of listed models, as `llm NAME models --refresh` writes
    it, with `count` models the table does not have."""
    for protocol, plugin in PLUGINS.items():
        models = [{"id": f"listed-model-{n}", "type": "model"} for n in range(count)]
        cache = {"base_url": apis[protocol].url, "models": models}
        short = plugin["name"].removeprefix("llm-")
        (user_path / f"{short}-models.json").write_text(json.dumps(cache))


def measure(python: Path, env, *worker_args) -> dict:
    output = check(python, __file__, "--worker", *worker_args, env=env)
    return json.loads(output.splitlines()[-1])


def startup_seconds(python: Path, env: dict, plugins: str) -> float:
    """Wall seconds of `llm models` in a fresh process, with `plugins` loaded."""
    llm_program = python.parent / "llm"
    start = time.perf_counter()
    result = subprocess.run(
        [str(llm_program), "models"],
        env={**env, "LLM_LOAD_PLUGINS": plugins},
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"llm models failed:\n{result.stderr}")
    return seconds


def main() -> None:
    args = parse_args()
    if args.worker == "stream":
        return worker_stream(os.environ["BENCH_MODEL"], args.tokens)
    if args.worker in PLUGINS:
        return worker_bare(args.worker, args.tokens)
    if args.worker == "import":
        return worker_import(os.environ["BENCH_MODULE"])
    if args.worker == "pairs":
        return worker_pairs(os.environ["BENCH_PROTOCOL"], args.tokens, args.pairs)

    sys.path.insert(0, str(ROOT / "tests"))
    from fake_api import FAKE_APIS

    started = time.perf_counter()
    with (
        tempfile.TemporaryDirectory(prefix="http-api-speed-") as tmp_name,
        FAKE_APIS["openai-chat"](api_key=KEY, model="acme-chat") as openai_api,
        FAKE_APIS["anthropic-messages"](api_key=KEY, model="claude-acme-1") as claude,
    ):
        apis = {"openai-chat": openai_api, "anthropic-messages": claude}
        tmp = Path(tmp_name)
        user_path = tmp / "llm-user"
        user_path.mkdir()
        env = clean_env(LLM_USER_PATH=str(user_path), OPENAI_API_KEY=KEY)
        for protocol, plugin in PLUGINS.items():
            env[plugin["env"] + "_BASE_URL"] = apis[protocol].url
            env[plugin["env"] + "_API_KEY"] = KEY
            env[plugin["env"] + "_RETRIES"] = "0"
        print("rendering and installing the http-api plugins...", flush=True)
        python = render_and_install(tmp, env)
        openai_baseline(user_path, openai_api.url)
        print(
            f"{args.tokens} tokens streamed, {args.repeat} runs each (medians), "
            f"after {args.warmup} round(s) not counted"
        )
        runs = {
            ("openai-chat", "plugin"): ("stream", {"BENCH_MODEL": "acme-chat"}),
            ("openai-chat", "llm openai"): (
                "stream",
                {"BENCH_MODEL": "openai-baseline"},
            ),
            ("openai-chat", "bare loop"): ("openai-chat", {}),
            ("anthropic-messages", "plugin"): (
                "stream",
                {"BENCH_MODEL": "claude-acme"},
            ),
            ("anthropic-messages", "bare loop"): ("anthropic-messages", {}),
        }
        results: dict[tuple[str, str], list[dict]] = {run: [] for run in runs}
        imports: dict[str, list[float]] = {protocol: [] for protocol in PLUGINS}
        # Each plugin and its bare loop run one right after the other, each first in
        # turn; the groups too run in another order each round.
        groups = [
            [("openai-chat", "plugin"), ("openai-chat", "bare loop")],
            [("openai-chat", "llm openai")],
            [("anthropic-messages", "plugin"), ("anthropic-messages", "bare loop")],
        ]
        for number in range(1 - args.warmup, args.repeat + 1):
            counted = number >= 1
            shift = number % len(groups)
            order = [
                run
                for group in groups[shift:] + groups[:shift]
                for run in (group if number % 2 else group[::-1])
            ]
            for protocol, label in order:
                worker, extra = runs[protocol, label]
                worker_args = ("--tokens", str(args.tokens))
                result = measure(python, {**env, **extra}, worker, *worker_args)
                if result["tokens"] != args.tokens:
                    print(f"warning: {label} got {result['tokens']} tokens")
                if not counted:
                    continue
                results[protocol, label].append(result)
                print(
                    f"  run {number}: {protocol:18} {label:10} "
                    f"first {result['first'] * 1000:7.1f} ms  "
                    f"total {result['total']:6.3f} s  cpu {result['cpu']:6.3f} s  "
                    f"peak {result['peak_mb']:6.1f} MB",
                    flush=True,
                )
            for protocol, plugin in PLUGINS.items():
                import_env = {
                    **env,
                    "LLM_LOAD_PLUGINS": "",
                    "BENCH_MODULE": plugin["module"],
                }
                import_ms = measure(python, import_env, "import")["import_ms"]
                if counted:
                    imports[protocol].append(import_ms)
        print(f"{args.pairs} warm pairs per protocol, in one process each")
        pairs = {
            protocol: measure(
                python,
                {**env, "BENCH_PROTOCOL": protocol},
                *("pairs", "--tokens", str(args.tokens), "--pairs", str(args.pairs)),
            )
            for protocol in PLUGINS
        }
        loads = {"bare llm": "", **{p: plugin["name"] for p, plugin in PLUGINS.items()}}
        startup: dict[str, list[float]] = {label: [] for label in loads}
        if args.startup_runs:
            print(
                f"llm models with {args.models} cached models, {args.startup_runs} runs each"
            )
        write_caches(user_path, apis, args.models)
        for number in range(args.startup_runs):
            # A different order each round: no variant always runs after another.
            labels = list(loads)[number % 3 :] + list(loads)[: number % 3]
            for label in labels:
                startup[label].append(startup_seconds(python, env, loads[label]))
    report(results, pairs, imports, startup, args.models)
    print(f"\nwhole run: {time.perf_counter() - started:.0f} s")


def report(results, pairs, imports, startup, models: int) -> None:
    def median(run, key: str) -> float:
        return statistics.median(result[key] for result in results[run])

    def ratios(run, baseline, key: str) -> list[float]:
        """Each round's own ratio (the rounds of a pair run seconds apart)."""
        pairs = zip(results[run], results[baseline], strict=True)
        return [ours[key] / theirs[key] for ours, theirs in pairs if theirs[key] > 0]

    def verdict(ratio: float, target: float) -> str:
        return f"<= {target:.2f}: " + (
            "target met" if ratio <= target else "target MISSED"
        )

    for protocol in PLUGINS:
        print(f"\n{protocol}")
        baselines = [
            label for (p, label) in results if p == protocol and label != "plugin"
        ]
        header = "".join(
            f" {label:>10} {'ratio':>6} {'lowest-highest':>14}" for label in baselines
        )
        print(f"{'':22} {'plugin':>10}{header}  targets")
        for key, label, scale in (
            ("first", "first token, ms", 1000),
            ("total", "total, s", 1),
            ("cpu", "cpu, s", 1),
            ("peak_mb", "peak memory, MB", 1),
        ):
            ours = median((protocol, "plugin"), key)
            line = f"{label:22} {ours * scale:10.3f}"
            verdicts = []
            for baseline in baselines:
                theirs = median((protocol, baseline), key)
                each = ratios((protocol, "plugin"), (protocol, baseline), key) or [
                    float("inf")
                ]
                ratio = statistics.median(each)
                spread = f"{min(each):.2f}-{max(each):.2f}"
                line += f" {theirs * scale:10.3f} {ratio:6.2f} {spread:>14}"
                if key == "total" or (key == "first" and baseline == "llm openai"):
                    target = NOISE if baseline == "llm openai" else BARE_TARGET
                    verdicts.append(f"{baseline} {verdict(ratio, target)}")
            print(line + "  " + "; ".join(verdicts))
        warm = pairs[protocol]
        for key, label in (("total", "warm total, s"), ("cpu", "warm cpu, s")):
            ours = statistics.median(run[key] for run in warm["plugin"])
            theirs = statistics.median(run[key] for run in warm["bare loop"])
            each = [
                mine[key] / bare[key]
                for mine, bare in zip(warm["plugin"], warm["bare loop"], strict=True)
            ]
            ratio = statistics.median(each)
            spread = f"{min(each):.2f}-{max(each):.2f}"
            line = f"{label:22} {ours:10.3f}"
            if len(baselines) > 1:  # under the bare loop's column
                line += " " * 33
            line += f" {theirs:10.3f} {ratio:6.2f} {spread:>14}"
            if key == "total":
                line += f"  bare loop {verdict(ratio, BARE_TARGET)}"
            print(line)
        import_ms = statistics.median(imports[protocol])
        met = "target met" if import_ms < 10 else "target MISSED"
        print(f"{'plugin import, ms':22} {import_ms:10.3f}  < 10: {met}")
    if not startup["bare llm"]:
        return
    bare = statistics.median(startup["bare llm"])
    print(f"\n`llm models`, {models} cached models     seconds  ratio  target")
    print(f"{'bare llm (no plugin)':34} {bare:9.3f}")
    for protocol in PLUGINS:
        ours = statistics.median(startup[protocol])
        print(
            f"{'with the ' + protocol + ' plugin':34} {ours:9.3f} {ours / bare:6.3f}  "
            + verdict(ours / bare, STARTUP_TARGET)
        )


if __name__ == "__main__":
    main()
