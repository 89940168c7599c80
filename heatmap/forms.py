"""The run request, read once for both the run controls (form POST) and the API (JSON).

Only the shape is checked here; which models, domains and concurrency are valid is decided
once, by ``services.plans.run_plan``, when the run is created, so the page and the API give the
same messages naming the valid values. ``RunStartForm.start`` is the one way both start a run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from django.conf import settings
from django.http import QueryDict

from heatmap.models import Run
from heatmap.security import BadRequestBody, bounded_names
from heatmap.services import plans
from heatmap.services.plans import RunRequestError
from skillcheck.catalog import Catalog


def _str_list(value: Any, what: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RunRequestError(f"{what} must be a list of strings")
    try:
        return bounded_names(value, what)
    except BadRequestBody as exc:
        raise RunRequestError(str(exc)) from None


def concurrency_value(raw: str | None) -> int | str:
    """The concurrency box's value: a number when it reads as one; anything else goes on to
    the planner as it is, which refuses it naming the valid range."""
    return number_value(raw, settings.SKILLCHECK_DEFAULT_CONCURRENCY)


def number_value(raw: str | None, default: int) -> int | str:
    """A number box's value (blank: ``default``): a number when it reads as one, else the
    text, which the planner refuses naming the valid range."""
    raw = (raw or "").strip() or str(default)
    try:
        return int(raw)
    except ValueError:
        return raw


@dataclass(frozen=True)
class RunStartForm:
    """A request to start a run: ``{domains, models, concurrency}`` (or the old ``{model}``)."""

    domains: list[str] | None
    models: list[str]
    concurrency: Any  # validated by the planner, which names the valid range
    use_cache: bool = True  # reuse stored results with the same fingerprint (the cache)
    batch: bool = False  # through the Message Batches API: half price, results within hours
    epochs: Any = 1  # samples per task, validated by the planner (1 to 10)
    confirmation: str | None = None
    """The run controls' cost confirmation (the estimate's ``confirm_token``, or ""); None
    when none is asked for (the API: a script that posts a run has chosen its cost)."""

    @classmethod
    def from_data(cls, data: Any) -> RunStartForm:
        """Read a JSON body: the new ``{domains, models, concurrency}`` or the old ``{model}``."""
        if not isinstance(data, dict):
            raise RunRequestError('the body must be a JSON object like {"models": ["heuristic"]}')
        if "models" in data:
            models = _str_list(data["models"], "models")
        elif isinstance(data.get("model"), str):
            models = [data["model"]]
        else:
            raise RunRequestError('models is required, e.g. {"models": ["heuristic"]}')
        domains = data.get("domains")
        if domains is not None:
            domains = _str_list(domains, "domains") or None
        concurrency = data.get("concurrency", settings.SKILLCHECK_DEFAULT_CONCURRENCY)
        use_cache = data.get("cache", True)
        if not isinstance(use_cache, bool):
            raise RunRequestError("cache must be true or false")
        batch = data.get("batch", False)
        if not isinstance(batch, bool):
            raise RunRequestError("batch must be true or false")
        epochs = data.get("epochs", 1)
        return cls(
            domains=domains,
            models=models,
            concurrency=concurrency,
            use_cache=use_cache,
            batch=batch,
            epochs=epochs,
        )

    def start(self, *, catalog: Catalog, started_by: Any = None) -> Run:
        """Start the run this form asks for (``services.start.run_start``, which validates it),
        once a run estimated above the confirmation threshold has its estimate confirmed, as
        ``started_by``'s (team mode: its owner)."""
        from heatmap.services import start

        if self.confirmation is not None:
            self._check_confirmed(catalog)
        return start.run_start(
            catalog=catalog,
            domains=self.domains,
            models=self.models,
            concurrency=self.concurrency,
            use_cache=self.use_cache,
            batch=self.batch,
            started_by=started_by,
            epochs=self.epochs,
        )

    def _check_confirmed(self, catalog: Catalog) -> None:
        """A run estimated above ``SKILLCHECK_CONFIRM_COST_USD`` starts only with the token of
        that estimate: a confirmation given for a cheaper selection does not confirm it."""
        preview = plans.run_plan_preview(
            catalog=catalog,
            domains=self.domains or list(catalog.domains),
            models=self.models,
            concurrency=self.concurrency,
            use_cache=self.use_cache,
            batch=self.batch,
            epochs=self.epochs,
        )
        if preview.needs_confirm and self.confirmation != preview.confirm_token:
            raise RunRequestError(
                f"This run is estimated at ${preview.cost_usd:.2f}, above the "
                f"${preview.threshold_usd:.2f} that needs a confirmation: tick the "
                "confirmation box to start it."
            )

    @classmethod
    def from_post(cls, post: QueryDict, *, available_models: Sequence[str]) -> RunStartForm:
        """Read the run controls: chosen domains and models, or "all" (every available model).

        The checkbox ``no_cache`` (unticked by default) asks for fresh calls for every task;
        ``confirm_cost`` carries the confirmation of a dear run's estimate.
        """
        if post.get("all"):
            data: dict[str, Any] = {"domains": None, "models": list(available_models)}
        else:
            data = {"domains": post.getlist("domains"), "models": post.getlist("models")}
            if not data["domains"]:
                raise RunRequestError("Choose at least one domain.")
        data["concurrency"] = concurrency_value(post.get("concurrency"))
        data["cache"] = not post.get("no_cache")
        data["batch"] = bool(post.get("batch"))
        data["epochs"] = number_value(post.get("epochs"), 1)
        return replace(cls.from_data(data), confirmation=post.get("confirm_cost", ""))
