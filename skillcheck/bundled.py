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


def user_data_dir() -> Path:
    """The per-user data folder of an installed copy (``~/.local/share/skillcheck``)."""
    from platformdirs import user_data_path

    return user_data_path("skillcheck", appauthor=False)


def default_reports_dir() -> Path:
    """Where reports go when nothing says: the clone's ``reports/``, else the user's folder."""
    return CLONE_DIR / "reports" if CLONE_DIR else user_data_dir() / "reports"
