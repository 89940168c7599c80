"""What a run would cost before it is sent: the tasks the response cache would answer, and
each model's tokens and US dollars."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from skillcheck.cache import ResultCache
from skillcheck.catalog.files import CatalogError
from skillcheck.catalog.model import Taxonomy
from skillcheck.fingerprints import Fingerprinter
from skillcheck.results import TaskKey
from skillcheck.runs.tasks import Task
from skillcheck.scoring import PromptBook


def cached_tasks(
    tasks: Sequence[Task], cache: ResultCache, fingerprinter: Fingerprinter
) -> set[TaskKey]:
    """The keys of the tasks a run would take from ``cache`` instead of sending them."""
    wanted = {}
    for task in tasks:
        key = fingerprinter.of(task.scenario, task.skill, task.model).key
        if key:
            wanted[task.key] = key
    return cache.hits(wanted) if wanted else set()


EXPECTED_OUTPUT_TOKENS = 2500


@dataclass
class CostEstimate:
    """One model's share of a run as its requests would be sent: tokens (4 characters
    each) and US dollars, at the batch price for a batch run."""

    tasks: int = 0
    input_tokens: int = 0
    """Every input token, including those written to and read from the prompt cache."""
    cache_write_tokens: int = 0
    cache_read_tokens: int = 0
    output_tokens: int = 0
    usd: float = 0.0
    """With prompt caching where the requests carry breakpoints."""
    uncached_usd: float = 0.0
    """Every prompt at the full input price (``SKILLCHECK_PROMPT_CACHING=0``)."""
    output_usd: float = 0.0
    """The answers' share of both figures (an assumed length; the prompts' is measured)."""

    @property
    def caching_saves_usd(self) -> float:
        return self.uncached_usd - self.usd


def estimate_costs(
    tasks: Sequence[Task],
    model_ids: dict[str, str],
    taxonomy: Taxonomy,
    *,
    batch: bool = False,
    caching: bool = True,
    concurrency: int = 1,
    output_tokens: int = EXPECTED_OUTPUT_TOKENS,
) -> dict[str, CostEstimate]:
    """What the run's requests cost per model, from the very prompts the run would send.

    ``model_ids`` maps a model name to its full id (absent: free, as ``heuristic`` is). The
    prompts come from the run's ``PromptBook`` and the cache breakpoints from
    ``pricing.cache_breakpoints``, as the API auditor's requests get them. In the task order,
    the first request with a breakpoint prefix (system prompt; system prompt and skill
    documents) writes it to that model's cache and later ones read it; the part after the
    last cached prefix is fresh input. The first ``concurrency`` paid requests are sent
    together, before any answer: the API makes a cache entry readable only once its
    request's response begins, so none of them reads what another writes (each writes).
    Prompt tokens are counted at 4 characters each (real text runs nearer 3.5), answers at
    ``output_tokens`` each.

    Assumed, and what it means for a real run: every prefix is read again within the cache's
    5-minute lifetime (a slow run writes some again), and after the first ``concurrency``
    requests a request starts after the responses of those before it have begun (true
    unless they start within a second of each other). ``batch`` halves the price of the same
    requests; the API processes a batch's requests in any order and caches across them only
    as well as it can. The real cost lies between ``usd`` and ``uncached_usd``.
    """
    from skillcheck.auditors.pricing import cache_breakpoints, cost_usd, estimate_tokens, price_for

    book = PromptBook(taxonomy, (t.key for t in tasks))
    # (model id, skill name or "" for the system prompt) -> the index of the first paid
    # request that can read it.
    readable_from: dict[tuple[str, str], int] = {}
    sent = 0  # paid requests so far
    estimates: dict[str, CostEstimate] = {}
    for task in tasks:
        estimate = estimates.setdefault(task.model, CostEstimate())
        estimate.tasks += 1
        model_id = model_ids.get(task.model, "")
        if price_for(model_id) is None:
            continue
        try:
            request = book.request(task.scenario, task.skill, task.model)
        except CatalogError:
            continue  # an unreadable skill fails its tasks before any call
        tokens = estimate_tokens(request.system_prompt, request.user_prompt)
        system, skill = cache_breakpoints(model_id, request, caching=caching)
        prefixes = [
            ((model_id, ""), estimate_tokens(request.system_prompt), system),
            (
                (model_id, task.skill.name),
                estimate_tokens(request.system_prompt, request.skill_block),
                skill,
            ),
        ]
        marked = [(key, size) for key, size, has in prefixes if has]
        cached = {key for key, _ in marked if readable_from.get(key, sent + 1) <= sent}
        read = next((size for key, size in reversed(marked) if key in cached), 0)
        write = marked[-1][1] - read if marked and marked[-1][0] not in cached else 0
        for key, _ in marked:
            readable_from.setdefault(key, max(sent + 1, concurrency))
        sent += 1
        estimate.input_tokens += tokens
        estimate.cache_write_tokens += write
        estimate.cache_read_tokens += read
        estimate.output_tokens += output_tokens
        fresh = tokens - read - write
        estimate.usd += cost_usd(model_id, fresh, output_tokens, write, read, batch=batch)
        estimate.uncached_usd += cost_usd(model_id, tokens, output_tokens, batch=batch)
        estimate.output_usd += cost_usd(model_id, 0, output_tokens, batch=batch)
    return estimates


def estimate_cost(
    tasks: Sequence[Task],
    model_ids: dict[str, str],
    taxonomy: Taxonomy,
    *,
    batch: bool = False,
    caching: bool = True,
) -> dict[str, float]:
    """Estimated USD per model (``estimate_costs``'s ``usd``), prompt caching counted unless
    ``caching`` is off."""
    estimates = estimate_costs(tasks, model_ids, taxonomy, batch=batch, caching=caching)
    return {model: estimate.usd for model, estimate in estimates.items()}
