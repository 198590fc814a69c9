"""How fast the rendered http-api plugin streams, next to llm's own OpenAI client.

Run from the repository root:

    python3 -m uv run python benchmarks/http_api_speed.py [--tokens N] [--repeat N]

What it does:

1. Renders the template with model_kind=http-api (plugin llm-acme-chat, model
   acme-chat) and installs it editable into a new uv venv that uses this
   interpreter, with LLM_USER_PATH in a temporary folder.
2. Starts one fake OpenAI-compatible API on 127.0.0.1 (tests/fake_api.py, the
   same server the rendered project's tests use). The prompt "count N" makes it
   stream N tokens, one server-sent event each.
3. Points llm's built-in OpenAI client at the same server: a model in
   extra-openai-models.yaml with `api_base`, which llm serves with the openai SDK.
4. Runs this file again inside the venv (`--worker`), a fresh process for each
   measurement: it gets the model, then times the prompt until the first chunk
   (time to first token) and until the last (total), through llm's Python API,
   and takes the peak resident memory during it minus the resident memory just
   before it (MB, Linux /proc; elsewhere the process's whole peak).
5. Measures the plugin's import cost: in fresh processes with plugins switched
   off (LLM_LOAD_PLUGINS=""), imports llm, then times importing the plugin's
   module, which is what every llm command pays for the plugin.
6. Repeats every measurement --repeat times, interleaved, and prints medians and
   whether each target is met. It always exits 0: this is a report.

Targets: time to first token and total time no worse than llm's OpenAI client
(within 5%, the noise of a shared machine); import under 10 ms.
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, check, clean_env, kilobytes, render, reset_peak

KEY = "sk-bench-0123456789"
PLUGIN = {"model_kind": "http-api", "plugin_name": "llm-acme-chat"}
MODELS = {"plugin": "acme-chat", "llm openai": "openai-baseline"}
NOISE = 1.05


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tokens", type=int, default=20_000, help="tokens streamed")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    return parser.parse_args()


# The worker: runs inside the plugin's venv, one measurement per process.


def worker_stream(model_id: str, tokens: int) -> None:
    import gc
    import resource

    import llm

    model = llm.get_model(model_id)
    gc.collect()
    peak_was_reset = reset_peak()
    before = kilobytes("VmRSS") or 0
    start = time.perf_counter()
    first = None
    chunks = []
    for chunk in model.prompt(f"count {tokens}"):
        if first is None:
            first = time.perf_counter() - start
        chunks.append(chunk)
    total = time.perf_counter() - start
    peak = kilobytes("VmHWM") if peak_was_reset else None
    if peak is None:  # ru_maxrss is in kB on Linux
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    numbers = "".join(chunks).split()
    print(
        json.dumps(
            {
                "first": first,
                "total": total,
                "peak_mb": (peak - before) / 1024,
                "tokens": len(numbers),
            }
        )
    )


def worker_import(module: str) -> None:
    import importlib

    import llm  # noqa: F401  (what llm costs anyway is not counted)

    start = time.perf_counter()
    importlib.import_module(module)
    print(json.dumps({"import_ms": (time.perf_counter() - start) * 1000}))


# The driver: renders, installs, serves and reports.


def render_and_install(tmp: Path, env: dict[str, str]) -> Path:
    """The rendered plugin, installed editable into a new venv; returns its python."""
    from uv import find_uv_bin

    project = render(tmp, "llm-acme-chat", PLUGIN)
    uv = find_uv_bin()
    venv = tmp / "venv"
    check(uv, "venv", "--quiet", "--python", sys.executable, venv, env=env)
    python = venv / "bin" / "python"
    check(uv, "pip", "install", "--quiet", "--python", python, "-e", project, env=env)
    return python


def openai_baseline(user_path: Path, api_url: str) -> None:
    """llm's own OpenAI client, pointed at the fake API."""
    user_path.mkdir(exist_ok=True)
    config = [
        {
            "model_id": "openai-baseline",
            "model_name": "acme-chat",
            "api_base": api_url,
            "api_key_name": "bench",  # read from OPENAI_API_KEY
        }
    ]
    (user_path / "extra-openai-models.yaml").write_text(json.dumps(config))


def measure(python: Path, env, *worker_args) -> dict:
    output = check(python, __file__, "--worker", *worker_args, env=env)
    return json.loads(output.splitlines()[-1])


def main() -> None:
    args = parse_args()
    if args.worker == "stream":
        return worker_stream(os.environ["BENCH_MODEL"], args.tokens)
    if args.worker == "import":
        return worker_import("llm_acme_chat")

    sys.path.insert(0, str(ROOT / "tests"))
    from fake_api import FakeAPI

    started = time.perf_counter()
    with (
        tempfile.TemporaryDirectory(prefix="http-api-speed-") as tmp_name,
        FakeAPI(api_key=KEY, model="acme-chat") as api,
    ):
        tmp = Path(tmp_name)
        user_path = tmp / "llm-user"
        env = clean_env(
            LLM_USER_PATH=str(user_path),
            ACME_CHAT_BASE_URL=api.url,
            ACME_CHAT_API_KEY=KEY,
            OPENAI_API_KEY=KEY,
        )
        print("rendering and installing the http-api plugin...", flush=True)
        python = render_and_install(tmp, env)
        openai_baseline(user_path, api.url)
        print(f"{args.tokens} tokens streamed, {args.repeat} runs each (medians)")
        results: dict[str, list[dict]] = {label: [] for label in MODELS}
        imports = []
        for number in range(1, args.repeat + 1):
            for label, model_id in MODELS.items():
                result = measure(
                    python,
                    {**env, "BENCH_MODEL": model_id},
                    "stream",
                    "--tokens",
                    str(args.tokens),
                )
                if result["tokens"] != args.tokens:
                    print(f"warning: {label} got {result['tokens']} tokens")
                results[label].append(result)
                print(
                    f"  run {number}: {label:10} first {result['first'] * 1000:7.1f} ms"
                    f"  total {result['total']:6.3f} s  peak {result['peak_mb']:6.1f} MB",
                    flush=True,
                )
            for _ in range(3):
                import_env = {**env, "LLM_LOAD_PLUGINS": ""}
                imports.append(measure(python, import_env, "import")["import_ms"])
    report(results, imports)
    print(f"\nwhole run: {time.perf_counter() - started:.0f} s")


def report(results: dict[str, list[dict]], imports: list[float]) -> None:
    def median(label: str, key: str) -> float:
        return statistics.median(result[key] for result in results[label])

    print(f"\n{'':24} {'plugin':>10} {'llm openai':>10} {'ratio':>7}  target")
    for key, label, scale in (
        ("first", "first token, ms", 1000),
        ("total", "total, s", 1),
        ("peak_mb", "peak memory, MB", 1),
    ):
        ours, theirs = median("plugin", key), median("llm openai", key)
        ratio = ours / theirs if theirs > 0 else float("inf")
        if key == "peak_mb":
            verdict = "(for information)"
        else:
            verdict = "target met" if ratio <= NOISE else "target MISSED"
            verdict = f"<= {NOISE:.2f}: {verdict}"
        print(
            f"{label:24} {ours * scale:10.3f} {theirs * scale:10.3f} {ratio:7.2f}  "
            + verdict
        )
    import_ms = statistics.median(imports)
    verdict = "target met" if import_ms < 10 else "target MISSED"
    print(f"{'plugin import, ms':24} {import_ms:10.3f} {'':10} {'':7}  < 10: {verdict}")


if __name__ == "__main__":
    main()
