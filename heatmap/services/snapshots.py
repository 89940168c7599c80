"""Keep the text of each skill's files once per version (its fingerprint), when a run is
created or resumed: the compare page diffs a skill between two runs from these."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from heatmap.models import SkillSnapshot
from skillcheck.catalog import Catalog, CatalogError
from skillcheck.catalog.model import files_fingerprint


def skill_snapshots_save(*, catalog: Catalog, fingerprints: Mapping[str, str] | None = None) -> int:
    """Store the files of every skill of ``catalog`` whose version has no snapshot yet; the
    number stored. ``fingerprints`` (skill -> fingerprint, as the run recorded them) spares
    reading a skill whose version is stored already. A skill edited since is stored under the
    fingerprint of what was read; an unreadable one is skipped (the run reports it)."""
    known = {name: fp for name, fp in (fingerprints or {}).items() if fp}
    stored = set(
        SkillSnapshot.objects.filter(fingerprint__in=set(known.values())).values_list(
            "fingerprint", flat=True
        )
    )
    new: dict[str, SkillSnapshot] = {}
    for name, skill in catalog.skills.items():
        if known.get(name) in stored:
            continue
        try:
            files = skill.files()
        except (CatalogError, OSError):
            continue
        fingerprint = files_fingerprint(files)
        if fingerprint in stored or fingerprint in new:
            continue
        new[fingerprint] = SkillSnapshot(
            fingerprint=fingerprint,
            files=[
                {"path": path, "sha256": hashlib.sha256(text.encode()).hexdigest(), "text": text}
                for path, text in files
            ],
        )
    # Two runs starting at once may store the same version: the second one is ignored.
    SkillSnapshot.objects.bulk_create(new.values(), ignore_conflicts=True)
    return len(new)
