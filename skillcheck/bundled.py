"""Where the project's own data files are: at a clone's root, or inside an installed package.

A clone keeps ``checks.yaml`` and the example ``catalog/`` at its root (beside manage.py); a
wheel (``uv tool install``, ``pipx install``) carries them in ``skillcheck/data/``.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
# The clone this package runs from, or None when it is installed.
CLONE_DIR = _PACKAGE.parent if (_PACKAGE.parent / "manage.py").is_file() else None
DATA_DIR = CLONE_DIR or _PACKAGE / "data"
CHECKS_FILE = DATA_DIR / "checks.yaml"
EXAMPLE_CATALOG_DIR = DATA_DIR / "catalog"
