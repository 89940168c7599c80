"""Delete a scenario file, keeping it as ``FILE.bak``: refused when the catalog loads now
and would not without it (its last file, say)."""

from __future__ import annotations

from typing import Any

from heatmap import selectors
from heatmap.models import ScenarioEdit
from heatmap.services.scenario_writes import (
    ScenarioChange,
    existing_file,
    fsync_folder,
    keep_backup,
    read_for_change,
    record_change,
    require_valid,
    scenario_lock,
)


def scenario_delete(
    *,
    scope: selectors.CatalogScope,
    domain: str,
    user: Any = None,
    version: str | None = None,
) -> ScenarioChange:
    """Remove ``scenarios/DOMAIN.yaml`` after writing its text to ``DOMAIN.yaml.bak``.

    ``version`` as for ``scenario_save``: a file changed since it was shown is not deleted.
    """
    root, path = existing_file(scope, domain)
    with scenario_lock(root):
        data, before = read_for_change(path, version)
        check = selectors.scenario_change_check(root=root, file=path.name, text=None)
        require_valid(check)
        backup = keep_backup(path, data)
        path.unlink()
        fsync_folder(path.parent)
        return record_change(
            root=root,
            path=path,
            domain=domain,
            action=ScenarioEdit.Action.DELETE,
            user=user,
            before=before,
            after=None,
            check=check,
            backup=backup,
        )
