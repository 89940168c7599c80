"""Benchmark whole ``run_scored`` processes against the Messages API stub, with the real SDK.

Every figure is of a whole process (interpreter start to exit), median of ``--repeat`` runs,
interleaved with the floor so both see the same machine:

1. efficiency: 1,000 tasks, each call answered after 200 ms, ``--concurrency 32``.
   efficiency = ideal / actual wall time, ideal = ceil(1000 / 32) × 0.2 s. The floor is a
   bare client (the SDK, 32 threads, the same requests) on the same stub; a bare asyncio
   client (``AsyncAnthropic``, 32 tasks) runs too, as the comparison of the SDK's two ways.
   Also the time from process start to the stub's first request, and CPU (user + system)
   per task.
   Goals: efficiency ≥ 0.85, first request ≤ 0.8 s, CPU ≤ 3 ms per task.
2. rate limit: a stub that serves 8 calls at once and answers 429 (``retry-after: 1``)
   beyond; 400 tasks at ``--concurrency 32``. Goal: 0 failed tasks, wall time ≤ 1.3 × ideal
   (400 / 8 × 0.2 s = 10 s).
3. cost (``--cost``): a 3-model run of ``../shared/corpus/apify-skills`` without prompt
   caching, with it, in batch mode, and both; priced from the stub's token counts. Beside
   each, the dry run's estimate (``skillcheck.runs.estimate_costs``) for the same way: its
   prompts' share against what the run was charged for its prompts, and the whole. The stub
   makes a cache entry readable as soon as its request arrives, where the API waits for the
   response to begin: its runs are compared with the estimate at concurrency 1 (one
   request after another), and the dry run's (first ``concurrency`` requests all write) is
   printed beside.

The child processes run with bytecode compiled (a cache under the system temp folder, as
``pip install`` or ``uv pip install --compile-bytecode`` leaves it), after one warm-up.

The machine's load average is printed before and after: the stub shares the machine.

Run: ``.venv/bin/python benchmarks/bench_api.py [--repeat 3] [--skip-efficiency]
[--skip-ratelimit] [--skip-async] [--cost]``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

from tests.fakes.anthropic_stub import AnthropicStub  # noqa: E402

PYTHON = sys.executable
WORK = Path(tempfile.mkdtemp(prefix="bench_api_"))
PYCACHE = Path(tempfile.gettempdir()) / "skillcheck-bench-pycache"
CORPUS = PROJECT_DIR.parent / "shared" / "corpus" / "apify-skills"
LATENCY_S = 0.2
# The models of the cost comparison, as simsite/settings.py configures them.
MODEL_IDS = {
    "haiku": os.environ.get("SKILLCHECK_HAIKU_MODEL", "claude-haiku-4-5"),
    "sonnet": os.environ.get("SKILLCHECK_SONNET_MODEL", "claude-sonnet-4-6"),
    "opus": os.environ.get("SKILLCHECK_OPUS_MODEL", "claude-opus-4-6"),
}

BARE_CLIENT = r"""
import json, sys, threading
import anthropic
base_url, prompts_file = sys.argv[1], sys.argv[4]
calls, concurrency = int(sys.argv[2]), int(sys.argv[3])
system, user = json.load(open(prompts_file))
client = anthropic.Anthropic(api_key="sk-bench", base_url=base_url, max_retries=0)
lock = threading.Lock()
left = [calls]
def worker():
    while True:
        with lock:
            if not left[0]:
                return
            left[0] -= 1
        client.messages.create(model="claude-sonnet-4-6", max_tokens=8192, system=system,
                               messages=[{"role": "user", "content": user}])
threads = [threading.Thread(target=worker) for _ in range(concurrency)]
for t in threads: t.start()
for t in threads: t.join()
"""

# The same requests through the SDK's asyncio client: one event loop, ``concurrency`` tasks.
BARE_ASYNC_CLIENT = r"""
import asyncio, json, sys
import anthropic
base_url, prompts_file = sys.argv[1], sys.argv[4]
calls, concurrency = int(sys.argv[2]), int(sys.argv[3])
system, user = json.load(open(prompts_file))
async def main():
    client = anthropic.AsyncAnthropic(api_key="sk-bench", base_url=base_url, max_retries=0)
    left = [calls]
    async def worker():
        while left[0]:
            left[0] -= 1
            await client.messages.create(model="claude-sonnet-4-6", max_tokens=8192,
                                         system=system,
                                         messages=[{"role": "user", "content": user}])
    await asyncio.gather(*(worker() for _ in range(concurrency)))
asyncio.run(main())
"""


def child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    env.update(extra)
    return env


def synthetic_catalog(scenarios: int) -> Path:
    """The bundled catalog's skills (no generalist), with ``scenarios`` generated scenarios."""
    root = WORK / f"catalog_{scenarios}"
    if root.exists():
        return root
    source = PROJECT_DIR / "catalog"
    shutil.copytree(source / "skills", root / "skills")
    skills = sorted(p.name for p in (root / "skills").iterdir() if (p / "SKILL.md").exists())
    skills = [s for s in skills if s != "actor-builder"]  # a dev skill changes n/a rules
    manifest = ["skills:"] + [
        f"  {name}:\n    path: skills/{name}/SKILL.md\n    category: dispatcher" for name in skills
    ]
    (root / "skills_manifest.yaml").write_text("\n".join(manifest) + "\n")
    (root / "scenarios").mkdir()
    per_skill = math.ceil(scenarios / len(skills))
    made = 0
    for skill in skills:
        if made == scenarios:
            break
        lines = [f"domain: bench-{skill}", f"target_skill: {skill}", "", "scenarios:"]
        for i in range(per_skill):
            if made == scenarios:
                break
            made += 1
            lines += [
                f"  - id: {skill}-{i}",
                f'    name: "Benchmark scenario {i} for {skill}"',
                f'    prompt: "Request number {i}: gather the data this skill is for, from '
                f'three sources, and summarise it as a table with a short note on gaps."',
            ]
        (root / "scenarios" / f"bench-{skill}.yaml").write_text("\n".join(lines) + "\n")
    return root


def template_database() -> Path:
    path = WORK / "template.sqlite3"
    if not path.exists():
        subprocess.run(
            [PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"],
            cwd=PROJECT_DIR,
            env=child_env(DATABASE_URL=f"sqlite:///{path}"),
            check=True,
        )
    return path


def timed(argv: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Run a child to its end: wall time, CPU time (user + system), its start (epoch).

    Its output goes to files, not pipes: a pipe nobody reads until the end would fill up
    (one progress line per task) and stop the child.
    """
    out_path, err_path = WORK / "child.out", WORK / "child.err"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        started_epoch = time.time()
        started = time.perf_counter()
        process = subprocess.Popen(argv, cwd=PROJECT_DIR, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
    returncode = os.waitstatus_to_exitcode(status)
    if returncode != 0:
        tail = err_path.read_text(errors="replace")[-2000:]
        raise SystemExit(f"{argv[:3]} exited {returncode}: {tail}")
    return {
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "start": started_epoch,
        "stdout": out_path.read_text(),
    }


def run_scored(
    stub: AnthropicStub,
    catalog: Path,
    *,
    concurrency: int,
    models: str = "sonnet",
    flags: tuple[str, ...] | list[str] = (),
    **extra: str,
) -> dict:
    n = len(list((WORK).glob("db_*.sqlite3")))
    database = WORK / f"db_{n}.sqlite3"
    shutil.copy(template_database(), database)
    env = child_env(
        DATABASE_URL=f"sqlite:///{database}",
        ANTHROPIC_API_KEY="sk-bench",
        ANTHROPIC_BASE_URL=stub.base_url,
        SKILLCHECK_REPORTS_DIR=str(WORK / "reports"),
        **extra,
    )
    argv = [PYTHON, "manage.py", "run_scored", "--catalog", str(catalog), "--models", models]
    argv += ["--concurrency", str(concurrency), "--json", *flags]
    figures = timed(argv, env)
    figures["report"] = json.loads(figures.pop("stdout"))
    return figures


def bare_client(
    stub: AnthropicStub, calls: int, concurrency: int, catalog: Path, *, asyncio: bool = False
) -> dict:
    from skillcheck.catalog import load_catalog
    from skillcheck.prompt import build_system_prompt, build_user_prompt

    loaded = load_catalog(catalog)
    scenario = loaded.scenarios[0]
    prompts = WORK / "prompts.json"
    prompts.write_text(
        json.dumps(
            [
                build_system_prompt(loaded.taxonomy),
                build_user_prompt(scenario, loaded.skills[scenario.specialist]),
            ]
        )
    )
    script = WORK / ("bare_async_client.py" if asyncio else "bare_client.py")
    script.write_text(BARE_ASYNC_CLIENT if asyncio else BARE_CLIENT)
    argv = [PYTHON, str(script), stub.base_url, str(calls), str(concurrency), str(prompts)]
    return timed(argv, child_env())


def first_request_s(stub: AnthropicStub, figures: dict) -> float:
    return (stub.first_request_at or math.nan) - figures["start"]


def efficiency(
    repeat: int, tasks: int = 1000, concurrency: int = 32, *, with_async: bool = True
) -> None:
    catalog = synthetic_catalog(tasks)
    ideal = math.ceil(tasks / concurrency) * LATENCY_S
    rows: dict[str, list[dict[str, float]]] = {"run_scored": [], "bare client": []}
    if with_async:
        rows["bare async"] = []
    with AnthropicStub(latency_s=LATENCY_S, record_bodies=False) as stub:
        run_scored(stub, synthetic_catalog(10), concurrency=4)  # warm-up: compiles bytecode
        bare_client(stub, 4, 4, catalog)
        if with_async:
            bare_client(stub, 4, 4, catalog, asyncio=True)
        for _ in range(repeat):
            for name in rows:
                stub.reset_counters()
                if name == "run_scored":
                    figures = run_scored(stub, catalog, concurrency=concurrency)
                    report = figures["report"]
                    assert report["completed"] == tasks and report["failed"] == 0, report
                else:
                    figures = bare_client(
                        stub, tasks, concurrency, catalog, asyncio=name == "bare async"
                    )
                figures["first"] = first_request_s(stub, figures)
                rows[name].append(figures)
    print(
        f"\n{tasks} tasks × {LATENCY_S * 1000:.0f} ms at concurrency {concurrency}, "
        f"ideal {ideal:.2f} s"
    )
    floor = statistics.median(r["wall"] for r in rows["bare client"])
    for name, runs in rows.items():
        wall = statistics.median(r["wall"] for r in runs)
        first = statistics.median(r["first"] for r in runs)
        cpu = statistics.median(r["cpu"] for r in runs)
        print(
            f"  {name:<11} wall {wall:.2f} s, efficiency {ideal / wall:.3f} "
            f"({floor / wall:.2f} of the floor), first request {first:.2f} s, "
            f"CPU {cpu:.2f} s = {cpu * 1000 / tasks:.2f} ms/task  "
            f"(walls: {', '.join(format(r['wall'], '.2f') for r in runs)})"
        )


def ratelimit(repeat: int, tasks: int = 400, concurrency: int = 32, allowed: int = 8) -> None:
    """The floor here is a bare client that knows the limit: 8 threads, never a 429."""
    catalog = synthetic_catalog(tasks)
    ideal = tasks / allowed * LATENCY_S
    walls, floors, failed, throttled = [], [], [], []
    with AnthropicStub(
        latency_s=LATENCY_S, max_concurrent=allowed, retry_after_s=1, record_bodies=False
    ) as stub:
        for _ in range(repeat):
            stub.reset_counters()
            figures = run_scored(stub, catalog, concurrency=concurrency)
            walls.append(figures["wall"])
            failed.append(figures["report"]["failed"])
            throttled.append(stub.rate_limited)
            floors.append(bare_client(stub, tasks, allowed, catalog)["wall"])
    wall, floor = statistics.median(walls), statistics.median(floors)
    print(
        f"\n{tasks} tasks at concurrency {concurrency}, stub allows {allowed} at once (429 "
        f"beyond, retry-after 1 s): ideal {ideal:.1f} s, wall {wall:.2f} s = "
        f"{wall / ideal:.2f} × ideal; floor (bare client, {allowed} threads) {floor:.2f} s = "
        f"{floor / ideal:.2f} × ideal; failed tasks {failed}; 429s answered {throttled}"
    )


def cost(concurrency: int = 8) -> None:
    """One 3-model run of the real corpus per way of paying, each on a fresh database, and the
    cost estimate of the same run."""
    if not (CORPUS / "skills_manifest.yaml").exists():
        print(f"\ncost: skipped, no corpus at {CORPUS}")
        return
    from skillcheck.auditors.pricing import cost_usd
    from skillcheck.catalog import load_catalog
    from skillcheck.runs import EXPECTED_OUTPUT_TOKENS, build_tasks

    ways = {
        "naive": ({"SKILLCHECK_PROMPT_CACHING": "0"}, []),
        "prompt caching": ({}, []),
        "batch": ({"SKILLCHECK_PROMPT_CACHING": "0"}, ["--batch"]),
        "batch + caching": ({}, ["--batch"]),
    }
    catalog = load_catalog(CORPUS)
    tasks = build_tasks(catalog, domains=None, models=list(MODEL_IDS))
    print(
        f"\ncost of a run of {CORPUS.name} with haiku, sonnet and opus (concurrency {concurrency})"
    )
    baseline = None
    with AnthropicStub(batch_polls_to_end=1, record_bodies=False) as stub:
        for name, (extra_env, flags) in ways.items():
            stub.reset_counters()
            figures = run_scored(
                stub,
                CORPUS,
                concurrency=concurrency,
                models=",".join(MODEL_IDS),
                flags=flags,
                SKILLCHECK_BATCH_POLL_S="0.2",
                **extra_env,
            )
            report = figures["report"]
            assert report["failed"] == 0, report
            baseline = baseline or report["cost_usd"]
            hit = report.get("cache_hit_rate") or 0.0
            print(
                f"  {name:<16} ${report['cost_usd']:.4f} ({report['cost_usd'] / baseline:.0%} of "
                f"naive), {report['total']} tasks, {report['input_tokens']:,} input tokens, "
                f"cache hit rate {hit:.0%}, saved by caching ${report['cache_saved_usd']:.4f}"
            )
            batch, caching = "--batch" in flags, not extra_env
            estimated, estimated_prompts = estimate(tasks, catalog, batch, caching, 1)
            dry_run, dry_run_prompts = estimate(tasks, catalog, batch, caching, concurrency)
            answers = sum(
                cost_usd(MODEL_IDS[row["name"]], 0, row["output_tokens"], batch=batch)
                for row in report["models"]
            )
            charged_prompts = report["cost_usd"] - answers
            print(
                f"  {'':<16} estimate ${estimated:.4f} (answers at {EXPECTED_OUTPUT_TOKENS:,} "
                f"tokens; the stub's average {report['output_tokens'] / report['total']:,.0f}); "
                f"prompts: estimated ${estimated_prompts:.4f}, charged ${charged_prompts:.4f} "
                f"({estimated_prompts / charged_prompts - 1:+.2%}); the dry run at concurrency "
                f"{concurrency}: ${dry_run:.4f} (prompts ${dry_run_prompts:.4f})"
            )


def estimate(
    tasks: list[Any], catalog: Any, batch: bool, caching: bool, concurrency: int
) -> tuple[float, float]:
    """The cost estimate of ``tasks``: the whole, and its prompts' share."""
    from skillcheck.runs import estimate_costs

    estimates = estimate_costs(
        tasks,
        MODEL_IDS,
        catalog.taxonomy,
        batch=batch,
        caching=caching,
        concurrency=concurrency,
    ).values()
    whole = sum(e.usd for e in estimates)
    return whole, whole - sum(e.output_usd for e in estimates)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-efficiency", action="store_true")
    parser.add_argument("--skip-ratelimit", action="store_true")
    parser.add_argument("--cost", action="store_true", help="also the corpus cost comparison")
    parser.add_argument(
        "--skip-async", action="store_true", help="leave out the bare asyncio-client floor"
    )
    parser.add_argument(
        "--project", type=Path, help="time another checkout's run_scored (e.g. an older commit)"
    )
    args = parser.parse_args()
    if args.project:
        global PROJECT_DIR
        PROJECT_DIR = args.project.resolve()
    print(f"load average before: {_load()}")
    try:
        if not args.skip_efficiency:
            efficiency(args.repeat, with_async=not args.skip_async)
        if not args.skip_ratelimit:
            ratelimit(args.repeat)
        if args.cost:
            cost()
    finally:
        shutil.rmtree(WORK, ignore_errors=True)
    print(f"\nload average after: {_load()} ({os.cpu_count()} CPUs)")


def _load() -> str:
    """The machine's 1, 5 and 15 minute load averages: how much else was running."""
    return ", ".join(f"{value:.2f}" for value in os.getloadavg())


if __name__ == "__main__":
    main()
