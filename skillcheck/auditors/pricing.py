"""What an API call cost, from its token usage and a small per-model price table.

The CLI reports its own ``total_cost_usd``; the API reports only tokens, so we price them.
Cache writes cost 1.25 × the input price, cache reads 0.1 ×; the Message Batches API charges
half of everything (``BATCH_DISCOUNT``).
Prices are USD per million tokens, matched on the model id's family (longest prefix wins);
an unknown model costs 0 rather than failing a run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from skillcheck.auditors.base import AuditRequest

BATCH_DISCOUNT = 0.5


@dataclass(frozen=True)
class Price:
    input_per_mtok: float
    output_per_mtok: float

    @property
    def cache_write_per_mtok(self) -> float:
        return self.input_per_mtok * 1.25

    @property
    def cache_read_per_mtok(self) -> float:
        return self.input_per_mtok * 0.1


PRICES: dict[str, Price] = {
    "claude-opus-4-5": Price(5.0, 25.0),
    "claude-opus-4-6": Price(5.0, 25.0),
    "claude-opus": Price(15.0, 75.0),
    "claude-3-opus": Price(15.0, 75.0),
    "claude-sonnet": Price(3.0, 15.0),
    "claude-3-5-sonnet": Price(3.0, 15.0),
    "claude-3-7-sonnet": Price(3.0, 15.0),
    "claude-haiku": Price(1.0, 5.0),
    "claude-3-5-haiku": Price(0.8, 4.0),
    "claude-3-haiku": Price(0.25, 1.25),
}


def price_for(model_id: str) -> Price | None:
    model_id = model_id.strip().lower()
    matches = [prefix for prefix in PRICES if model_id.startswith(prefix)]
    return PRICES[max(matches, key=len)] if matches else None


def cost_usd(
    model_id: str,
    input_tokens: int,
    output_tokens: int,
    cache_write_tokens: int = 0,
    cache_read_tokens: int = 0,
    *,
    batch: bool = False,
) -> float:
    price = price_for(model_id)
    if price is None:
        return 0.0
    total = (
        input_tokens * price.input_per_mtok
        + output_tokens * price.output_per_mtok
        + cache_write_tokens * price.cache_write_per_mtok
        + cache_read_tokens * price.cache_read_per_mtok
    )
    return total / 1_000_000 * (BATCH_DISCOUNT if batch else 1.0)


def cache_savings_usd(
    model_id: str, cache_write_tokens: int, cache_read_tokens: int, *, batch: bool = False
) -> float:
    """What caching saved against sending the same tokens uncached (negative: it cost more)."""
    price = price_for(model_id)
    if price is None:
        return 0.0
    saved = cache_read_tokens * (price.input_per_mtok - price.cache_read_per_mtok)
    saved -= cache_write_tokens * (price.cache_write_per_mtok - price.input_per_mtok)
    return saved / 1_000_000 * (BATCH_DISCOUNT if batch else 1.0)


# The API's minimum cacheable prefix per model family, in tokens (longest prefix wins): a
# shorter prefix is never cached, so a breakpoint there cannot pay off.
MIN_CACHEABLE_TOKENS: dict[str, int] = {
    "claude-opus-4-5": 4096,
    "claude-opus-4-6": 4096,
    "claude-haiku-4-5": 4096,
    "claude-3-5-haiku": 2048,
    "claude-3-haiku": 2048,
    "claude-": 1024,
}
CHARS_PER_TOKEN = 4  # a conservative estimate: real text runs nearer 3.5 characters a token

# The context window per model family, in tokens (longest prefix wins): a request's input and
# its answer budget together must fit, or the API refuses it. Claude models take 200,000
# (a 1M window needs a beta header this tool does not send).
CONTEXT_WINDOW_TOKENS: dict[str, int] = {"claude-": 200_000}
DEFAULT_CONTEXT_WINDOW_TOKENS = 200_000
# The answer budget of an API call (``AuditorConfig.max_tokens``), kept free in the window.
ANSWER_BUDGET_TOKENS = 8192


def context_window_tokens(model_id: str) -> int | None:
    """The model's context window in tokens; None for a model without one (``heuristic``)."""
    model_id = model_id.strip().lower()
    if not model_id:
        return None
    matches = [prefix for prefix in CONTEXT_WINDOW_TOKENS if model_id.startswith(prefix)]
    if not matches:
        return DEFAULT_CONTEXT_WINDOW_TOKENS
    return CONTEXT_WINDOW_TOKENS[max(matches, key=len)]


def min_cacheable_tokens(model_id: str) -> int:
    model_id = model_id.strip().lower()
    matches = [prefix for prefix in MIN_CACHEABLE_TOKENS if model_id.startswith(prefix)]
    return MIN_CACHEABLE_TOKENS[max(matches, key=len)] if matches else 1024


def estimate_tokens(*texts: str) -> int:
    return sum(len(text) for text in texts) // CHARS_PER_TOKEN


def cache_breakpoints(
    model_id: str, request: AuditRequest, *, caching: bool = True
) -> tuple[bool, bool]:
    """Whether ``request`` carries a cache breakpoint (after the system prompt, after the
    skill's documents) when sent to ``model_id``.

    The one rule for it: the API request (``anthropic_api.message_params``) and the run's cost
    estimate (``skillcheck.runs.estimate_costs``) both ask here. A breakpoint goes where the
    run sends that prefix to this model again and the prefix reaches the model's minimum
    cacheable length; elsewhere it could only cost the cache-write premium.
    """
    if not caching:
        return False, False
    minimum = min_cacheable_tokens(model_id)
    system = request.system_reused and estimate_tokens(request.system_prompt) >= minimum
    skill = (
        bool(request.skill_block and request.scenario_block)
        and request.skill_reused
        and estimate_tokens(request.system_prompt, request.skill_block) >= minimum
    )
    return system, skill
