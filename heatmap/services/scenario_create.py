"""Create a scenario file: ``scenarios/DOMAIN.yaml``, which must not exist yet, written only
if the catalog loads with it (the original editor's rule for new files, and its name rule)."""

from __future__ import annotations

from typing import Any

from heatmap import selectors
from heatmap.models import ScenarioEdit
from heatmap.services.scenario_writes import (
    ScenarioChange,
    ScenarioRefused,
    record_change,
    require_valid,
    scenario_lock,
    scenario_root,
    write_text,
)


def scenario_create(
    *, scope: selectors.CatalogScope, domain: str, content: str, user: Any = None
) -> ScenarioChange:
    """Write a new ``scenarios/DOMAIN.yaml`` holding ``content``: 409 when it exists, 400
    when ``DOMAIN`` cannot name a file or the catalog would not load with it."""
    root = scenario_root(scope)
    with scenario_lock(root):
        try:
            path = selectors.scenario_path(root=root, domain=domain, existing=False)
        except selectors.ScenarioNameError as exc:
            raise ScenarioRefused(str(exc), status=400) from None
        except selectors.ScenarioFileMissing:  # something of that name that is no file
            raise ScenarioRefused(f"scenarios/{domain}.yaml cannot be created", 409) from None
        if path.exists():
            raise ScenarioRefused(f"scenarios/{path.name} exists already; edit it", 409)
        check = selectors.scenario_change_check(root=root, file=path.name, text=content)
        require_valid(check)
        write_text(path, content)
        return record_change(
            root=root,
            path=path,
            domain=domain,
            action=ScenarioEdit.Action.CREATE,
            user=user,
            before="",
            after=content,
            check=check,
        )
