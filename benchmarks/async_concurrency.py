"""Whether the rendered http-api plugin's async model keeps an event loop
responsive: 50 concurrent prompts, and a ticker on the same loop that notes how
late it wakes up.

Run from the repository root:

    python3 -m uv run python benchmarks/async_concurrency.py [--prompts N]
        [--tokens N] [--repeat N]

What it does:

1. Renders the template with model_kind=http-api (plugin llm-acme-chat, model
   acme-chat, the OpenAI protocol) and installs it editable into a new uv venv
   that uses this interpreter, with LLM_USER_PATH in a temporary folder.
2. Starts the OpenAI fake API on 127.0.0.1 (includes/tests/fake_api.openai-chat.py,
   the server the rendered project's tests use); "count N" streams N tokens, one
   server-sent event each.
3. Runs this file again inside the venv (`--worker`), a fresh process for each
   measurement. The worker imports llm and gets the model before its event loop
   starts (as any program does), then, in one asyncio.run, starts a ticker task
   that sleeps 1 ms again and again and keeps its worst lag (how much later than
   asked it woke up), and sends --prompts concurrent prompts twice:
   - "cold": the first batch of the process, so creating the HTTP client, its
     TLS set-up and its connection pool happen inside the running loop, as they
     do for the first prompt of any program;
   - "warm": a second batch on the same loop and the same client.
   For each batch: the worst lag of the ticks during which no full garbage
   collection ran, and how much of it was this process's CPU time (the rest is
   the machine's other load); the worst lag of a tick with a full collection;
   the wall time until the last prompt ended.
   Variants:
   - "plugin": llm.get_async_model("acme-chat"), retries at their default (2);
   - "retries 0": the same with ACME_CHAT_RETRIES=0, to show that retries cost
     a healthy request nothing;
   - "gc frozen": the same with gc.freeze() before the loop starts, as a
     latency-minded program does: it shows what full garbage collections of
     llm's heap (not the plugin's doing, but they hold the loop all the same) add;
   - "bare httpx2": no llm at all, one httpx2.AsyncClient made inside the loop
     sending the same streaming requests and decoding each event's JSON: what a
     plain program does, client creation in the loop included.
4. Repeats every measurement --repeat times, interleaved, prints medians side by
   side and whether the goal is met, and apart, how many batches had a tick with
   a full garbage collection and how long the worst was. It always exits 0: this
   is a report.

Goal: the plugin's worst lag at most 20 ms, creating the client included; with
retries on, the same figures as with them off (within noise). A full collection
is not the plugin's to avoid: it is the interpreter's pass over every object of
the program (about 90,000 once llm is imported), due at some point after start-up
whoever allocates; the first one holds the loop 25-60 ms here. A program that
cares calls gc.freeze() once it has started ("gc frozen"), and then has none.
"""

import argparse
import asyncio
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Self

from common import ROOT, clean_env, install, render

KEY = "sk-bench-0123456789"
MODEL = "acme-chat"
ENV = "ACME_CHAT"
TICK = 0.001  # seconds the ticker asks to sleep
GOAL_MS = 20.0
VARIANTS = {
    "plugin": ("plugin", {}),
    "retries 0": ("plugin", {ENV + "_RETRIES": "0"}),
    "gc frozen": ("plugin", {"BENCH_GC_FREEZE": "1"}),
    "bare httpx2": ("bare", {}),
}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prompts", type=int, default=50, help="concurrent prompts")
    parser.add_argument("--tokens", type=int, default=50, help="tokens per prompt")
    parser.add_argument("--repeat", type=int, default=5, help="runs per figure")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    return parser.parse_args()


# The worker: runs inside the plugin's venv, one measurement per process.


class Ticker:
    """A task that sleeps TICK seconds again and again and keeps the worst lag
    since the last reset: in wall time; in the CPU time this process spent
    meanwhile (all its threads), the part of the lag that is the process's own
    and not the machine's other load; and apart, the worst lag of a tick during
    which a full garbage collection ran (it holds the loop whoever caused it: a
    pass over llm's whole heap)."""

    def __init__(self) -> None:
        self.worst = self.worst_cpu = self.worst_gc = 0.0
        self.task: asyncio.Task | None = None
        self.collected = False  # a full collection ran during this tick

    async def run(self) -> None:
        while True:
            start, cpu = time.perf_counter(), time.process_time()
            self.collected = False
            await asyncio.sleep(TICK)
            lag = time.perf_counter() - start - TICK
            if self.collected:
                self.worst_gc = max(self.worst_gc, lag)
            else:
                self.worst = max(self.worst, lag)
                self.worst_cpu = max(self.worst_cpu, time.process_time() - cpu)

    def on_gc(self, phase: str, info: dict) -> None:
        if info["generation"] == 2:
            self.collected = True

    async def __aenter__(self) -> Self:
        gc.callbacks.append(self.on_gc)
        self.task = asyncio.create_task(self.run())
        await asyncio.sleep(0.05)  # running, and past its own first wake-ups
        return self

    async def __aexit__(self, *exc_info) -> None:
        assert self.task is not None
        self.task.cancel()
        gc.callbacks.remove(self.on_gc)

    async def batch(self, prompts, count: int, tokens: int) -> dict:
        """Runs `count` coroutines of prompts(tokens) at once: the worst lags while
        they ran, in ms, the seconds until the last
        ended, the tokens they got."""
        self.worst = self.worst_cpu = self.worst_gc = 0.0
        start = time.perf_counter()
        got = await asyncio.gather(*(prompts(tokens) for _ in range(count)))
        return {
            "lag_ms": self.worst * 1000,
            "cpu_lag_ms": self.worst_cpu * 1000,
            "gc_lag_ms": self.worst_gc * 1000,
            "seconds": time.perf_counter() - start,
            "tokens": sum(got),
        }


def plugin_prompts():
    import llm

    model = llm.get_async_model(MODEL)  # outside the loop, as any program does

    async def prompt(tokens: int) -> int:
        text = [chunk async for chunk in model.prompt(f"count {tokens}")]
        return len("".join(text).split())

    return prompt


def bare_prompts():
    import httpx2

    url = os.environ[ENV + "_BASE_URL"] + "/chat/completions"
    headers = {"Authorization": f"Bearer {KEY}"}
    clients: list[httpx2.AsyncClient] = []

    async def prompt(tokens: int) -> int:
        if not clients:  # the first prompt makes the client, inside the loop
            clients.append(httpx2.AsyncClient(timeout=120))
        message = {"role": "user", "content": f"count {tokens}"}
        body = {"model": MODEL, "messages": [message], "stream": True}
        text = []
        async with clients[0].stream("POST", url, headers=headers, json=body) as reply:
            async for line in reply.aiter_lines():
                if line.startswith("data:") and line != "data: [DONE]":
                    choices = json.loads(line[5:]).get("choices") or [{}]
                    text.append(choices[0].get("delta", {}).get("content") or "")
        return len("".join(text).split())

    return prompt


def worker(kind: str, count: int, tokens: int) -> None:
    prompts = plugin_prompts() if kind == "plugin" else bare_prompts()
    if os.environ.get("BENCH_GC_FREEZE"):
        # What a latency-minded program does once it has imported what it needs:
        # full collections then leave out llm's heap (about 90,000 objects).
        gc.collect()
        gc.freeze()

    async def main() -> dict:
        async with Ticker() as ticker:
            cold = await ticker.batch(prompts, count, tokens)
            warm = await ticker.batch(prompts, count, tokens)
        return {"cold": cold, "warm": warm}

    print(json.dumps(asyncio.run(main())))


# The driver: renders, installs, serves and reports.


def main() -> None:
    args = parse_args()
    if args.worker:
        return worker(args.worker, args.prompts, args.tokens)

    sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "template" / "tests")]
    from fake_api import FakeAPI

    started = time.perf_counter()
    with (
        tempfile.TemporaryDirectory(prefix="async-concurrency-") as tmp_name,
        FakeAPI(api_key=KEY, model=MODEL) as api,
    ):
        tmp = Path(tmp_name)
        user_path = tmp / "llm-user"
        user_path.mkdir()
        env = clean_env(LLM_USER_PATH=str(user_path))
        env[ENV + "_BASE_URL"] = api.url
        env[ENV + "_API_KEY"] = KEY
        print("rendering and installing the http-api plugin...", flush=True)
        project = render(tmp, "llm-acme-chat", {"model_kind": "http-api"})
        python = install(tmp, env, project)
        print(
            f"{args.prompts} concurrent prompts of {args.tokens} tokens, "
            f"a {TICK * 1000:g} ms ticker, {args.repeat} runs each (medians)"
        )
        results: dict[str, list[dict]] = {label: [] for label in VARIANTS}
        for number in range(1, args.repeat + 1):
            # A different order each round: no variant always runs after another.
            labels = list(VARIANTS)[number % len(VARIANTS) :]
            for label in labels + list(VARIANTS)[: number % len(VARIANTS)]:
                kind, extra = VARIANTS[label]
                worker_args = (
                    "--prompts",
                    str(args.prompts),
                    "--tokens",
                    str(args.tokens),
                )
                result = measure(python, {**env, **extra}, kind, *worker_args)
                results[label].append(result)
                print(f"  run {number}: {label:12} " + figures(result), flush=True)
    report(results, args.prompts * args.tokens)
    print("load average at the end: " + " ".join(f"{n:.2f}" for n in os.getloadavg()))
    print(f"\nwhole run: {time.perf_counter() - started:.0f} s")


def measure(python: Path, env: dict[str, str], kind: str, *worker_args) -> dict:
    """One worker's figures, and how many retries it said it waited for."""
    command = [str(python), __file__, "--worker", kind, *worker_args]
    done = subprocess.run(command, check=False, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")
    result = json.loads(done.stdout.splitlines()[-1])
    result["retried"] = done.stderr.count("trying again")
    return result


def figures(result: dict) -> str:
    return "  ".join(
        f"{batch} lag {result[batch]['lag_ms']:6.1f} ms "
        f"{result[batch]['seconds'] * 1000:6.0f} ms"
        for batch in ("cold", "warm")
    ) + (f"  {result['retried']} retries" if result["retried"] else "")


def report(results: dict[str, list[dict]], tokens: int) -> None:
    def median(label: str, batch: str, key: str) -> float:
        return statistics.median(run[batch][key] for run in results[label])

    for label, runs in results.items():
        got = [run[batch]["tokens"] for run in runs for batch in ("cold", "warm")]
        if any(count != tokens for count in got):
            print(f"warning: {label} got {got} tokens, not {tokens} a batch")
    print(f"\n{'':36}" + "".join(f"{label:>13}" for label in results))
    rows = (
        ("cold", "lag_ms", "worst lag, ms, client creation"),
        ("cold", "cpu_lag_ms", "  of it the process's CPU, ms"),
        ("cold", "seconds", "total, s, client creation"),
        ("warm", "lag_ms", "worst lag, ms, warm"),
        ("warm", "cpu_lag_ms", "  of it the process's CPU, ms"),
        ("warm", "seconds", "total, s, warm"),
    )
    for batch, key, name in rows:
        values = (median(label, batch, key) for label in results)
        print(f"{name:36}" + "".join(f"{value:13.3f}" for value in values))
    print()
    for label in ("plugin", "gc frozen", "bare httpx2"):
        worst = max(median(label, batch, "lag_ms") for batch in ("cold", "warm"))
        cpu = max(median(label, batch, "cpu_lag_ms") for batch in ("cold", "warm"))
        verdict = "goal met" if worst <= GOAL_MS else "goal MISSED"
        print(
            f"{label + ':':13} worst lag, client creation included, {worst:5.1f} ms "
            f"({cpu:.1f} of it CPU): <= {GOAL_MS:g} ms: {verdict}"
        )
    # A full collection is the interpreter's pass over the whole heap, llm's
    # included, whoever allocated last: reported apart, for every variant.
    for label, runs in results.items():
        collected = [
            run[batch]["gc_lag_ms"]
            for run in runs
            for batch in ("cold", "warm")
            if run[batch]["gc_lag_ms"]
        ]
        print(
            f"{label + ':':13} a tick with a full garbage collection in "
            f"{len(collected)} of {2 * len(runs)} batches"
            + (f", worst {max(collected):.1f} ms" if collected else "")
        )
    for batch in ("cold", "warm"):
        on, off = (median(label, batch, "seconds") for label in ("plugin", "retries 0"))
        lag_on, lag_off = (
            median(label, batch, "lag_ms") for label in ("plugin", "retries 0")
        )
        print(
            f"retries 2 against 0, {batch}: total time ratio {on / off:.2f}, "
            f"worst lag {lag_on:.1f} against {lag_off:.1f} ms"
        )


if __name__ == "__main__":
    main()
