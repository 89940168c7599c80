"""Save a scenario file the catalog has: checked with the catalog loader's rules first, and
written only if the catalog still loads; the previous version stays as ``FILE.bak``."""

from __future__ import annotations

from typing import Any

from heatmap import selectors
from heatmap.models import ScenarioEdit
from heatmap.services.scenario_writes import (
    ScenarioChange,
    existing_file,
    keep_backup,
    read_for_change,
    record_change,
    require_valid,
    scenario_lock,
    write_text,
)


def scenario_save(
    *,
    scope: selectors.CatalogScope,
    domain: str,
    content: str,
    user: Any = None,
    version: str | None = None,
) -> ScenarioChange:
    """Replace ``scenarios/DOMAIN.yaml`` with ``content``.

    ``version``: the file's version the editor started from (``scenario_file_version``); a
    file saved by someone else since is refused (409) rather than overwritten. A refused
    change (``ScenarioRefused``) writes nothing.
    """
    root, path = existing_file(scope, domain)
    with scenario_lock(root):
        data, before = read_for_change(path, version)
        check = selectors.scenario_change_check(root=root, file=path.name, text=content)
        require_valid(check)
        backup = keep_backup(path, data)
        write_text(path, content)
        return record_change(
            root=root,
            path=path,
            domain=domain,
            action=ScenarioEdit.Action.UPDATE,
            user=user,
            before=before,
            after=content,
            check=check,
            backup=backup,
        )
