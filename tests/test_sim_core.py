from __future__ import annotations

import subprocess
import sys

from tests.conftest import PROJECT_DIR


def test_sim_core_imports_no_django():
    code = (
        "import sys, sim_core\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in {'django', 'channels'})\n"
        "print(','.join(loaded))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_DIR, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == ""


def test_sim_core_exports_resolve():
    import sim_core

    missing = [name for name in sim_core.__all__ if not hasattr(sim_core, name)]
    assert missing == []
