"""Routing figures for the docs: the lexical baseline on the real corpus, and what a routing
run of the corpus × 3 models × 3 runs costs, with and without prompt caching.

1. baseline: the offline ``lexical`` router on ``../shared/corpus/apify-skills``, K = 1 (it
   is deterministic): per-skill precision, recall and F1 with Wilson intervals, the share of
   cases routed right, none accuracy.
2. cost: the same catalog routed by haiku, sonnet and opus, 3 samples a case, through the real
   SDK against the Messages API stub (tests/fakes), caching on and then off; priced from the
   token counts the stub reports (4 characters a token), beside the run's own estimate.

Run: ``.venv/bin/python benchmarks/bench_routing.py``
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from skillcheck.auditors.config import AuditorConfig  # noqa: E402
from skillcheck.catalog import load_catalog  # noqa: E402
from skillcheck.routing.metrics import mean_f1  # noqa: E402
from skillcheck.routing.prompt import build_router_system  # noqa: E402
from skillcheck.routing.routers import make_routers  # noqa: E402
from skillcheck.routing.runs import (  # noqa: E402
    RoutingPlan,
    estimate_routing_cost,
    start_routing_run,
)
from tests.fakes.anthropic_stub import AnthropicStub  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus" / "apify-skills"
MODELS = {"haiku": "claude-haiku-4-5", "sonnet": "claude-sonnet-4-6", "opus": "claude-opus-4-6"}
RUNS = 3


def baseline() -> None:
    catalog = load_catalog(CORPUS)
    plan = RoutingPlan.of(catalog)
    config = AuditorConfig()
    routers = make_routers(["lexical"], plan.descriptions, config)
    report = start_routing_run(catalog, routers, tempfile.mkdtemp(), runs=1).run()
    m = report.recount()["lexical"]
    print(f"lexical on {CORPUS.name}: {m['cases']} cases, routed right {m['routed_right']} "
          f"(95% CI {m['routed_right_ci']}), mean F1 {mean_f1(m)}, none accuracy "
          f"{m['none_accuracy']}")  # fmt: skip
    print("| skill | TP | FP | FN | precision | recall | F1 | F1 95% CI |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for skill, s in m["skills"].items():
        print(f"| {skill} | {s['tp']} | {s['fp']} | {s['fn']} | {s['precision']} | "
              f"{s['recall']} | {s['f1']} | {s['ci']['f1']} |")  # fmt: skip


def cost() -> None:
    catalog = load_catalog(CORPUS)
    plan = RoutingPlan.of(catalog)
    system = build_router_system(plan.descriptions)
    for caching in (True, False):
        with AnthropicStub() as stub:
            config = AuditorConfig(
                models=dict(MODELS),
                anthropic_api_key="sk-bench",
                anthropic_base_url=stub.base_url,
                max_retries=0,
                prompt_caching=caching,
                claude_bin="no-such-claude",
            )
            routers = make_routers(list(MODELS), plan.descriptions, config, system=system)
            runner = start_routing_run(
                catalog, routers, tempfile.mkdtemp(), runs=RUNS, use_cache=False, concurrency=1
            )
            report = runner.run()
        estimate = estimate_routing_cost(
            system, [c.prompt for c in plan.cases], MODELS, RUNS, list(plan.descriptions),
            caching=caching,
        )  # fmt: skip
        total = 0.0
        label = "with caching" if caching else "without caching"
        for alias in MODELS:
            rows = [r for r in report.cases if r.model == alias]
            spent = sum(r.cost_usd for r in rows)
            total += spent
            tokens = sum(r.input_tokens for r in rows)
            read = sum(r.cache_read_tokens for r in rows)
            print(f"{label}: {alias}: {sum(len(r.picks) for r in rows)} calls, {tokens} input "
                  f"tokens ({read} read from cache), ${spent:.4f} (estimate "
                  f"${estimate[alias]['usd']:.4f})")  # fmt: skip
        print(f"{label}: total ${total:.4f}")


if __name__ == "__main__":
    baseline()
    cost()
