"""A real ``manage.py run_routing`` process killed with SIGKILL mid-run, against the slow API
stub: what is on disk (database and JSON) afterwards, and the resume that finishes it."""

from __future__ import annotations

import json
import signal
import sqlite3
import time
from pathlib import Path

from tests.fakes.anthropic_stub import AnthropicStub
from tests.processes import child_env, manage, manage_popen, migrate, sqlite_path
from tests.routing_helpers import write_routing_catalog

K = 3
ROUTING_SETTINGS = {
    "ANTHROPIC_API_KEY": "sk-test-key",
    "SKILLCHECK_CLAUDE_BIN": "no-such-claude-binary",
    "SKILLCHECK_MAX_RETRIES": "0",
    "SKILLCHECK_HEARTBEAT_STALE_S": "1",
}


def db_picks(db: Path, run_id: str) -> dict[tuple[str, str], list]:
    """Each case row's saved picks, from the child's SQLite file."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT c.case_id, c.model, c.picks FROM heatmap_routingcaseresult c "
            "JOIN heatmap_routingrun r ON c.run_id = r.id WHERE r.run_id = ? "
            "ORDER BY c.position",
            (run_id,),
        ).fetchall()
    return {(case, model): json.loads(picks) for case, model, picks in rows}


def run_status(db: Path, run_id: str) -> str:
    with sqlite3.connect(db) as conn:
        [(status,)] = conn.execute(
            "SELECT status FROM heatmap_routingrun WHERE run_id = ?", (run_id,)
        ).fetchall()
    return str(status)


def json_picks(env: dict[str, str], run_id: str) -> dict[tuple[str, str], list]:
    path = Path(env["SKILLCHECK_REPORTS_DIR"]) / f"routing_run_{run_id}.json"
    data = json.loads(path.read_text())  # valid JSON, whatever the moment of the kill
    return {(row["case_id"], row["model"]): row["picks"] for row in data["cases"]}


def test_sigkill_mid_run_loses_no_saved_answer_and_resume_asks_only_the_rest(tmp_path):
    catalog = write_routing_catalog(tmp_path / "catalog")
    with AnthropicStub(latency_s=0.6) as stub:
        env = child_env(
            tmp_path,
            SKILLCHECK_CATALOG=str(catalog.root),
            ANTHROPIC_BASE_URL=stub.base_url,
            **ROUTING_SETTINGS,
        )
        migrate(env)
        db = sqlite_path(env)
        args = ("--models", "haiku", "--runs", str(K), "--concurrency", "2")
        child = manage_popen("run_routing", *args, "--run-id", "crash", env=env)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert child.poll() is None, child.stderr.read()
            try:
                if sum(len(p) for p in db_picks(db, "crash").values()) >= 4:
                    break
            except sqlite3.OperationalError:
                pass
            time.sleep(0.05)
        child.send_signal(signal.SIGKILL)
        child.wait(10)
        child.stdout.close()
        child.stderr.close()

        in_db, in_json = db_picks(db, "crash"), json_picks(env, "crash")
        saved = sum(len(p) for p in in_db.values())
        total = len(in_db) * K
        assert 4 <= saved < total
        # The database is written first, then the JSON: each JSON row is what its database
        # row held a moment before (at most the answers of one save behind).
        assert in_json.keys() == in_db.keys()
        for key, picks in in_json.items():
            assert picks == in_db[key][: len(picks)]
        assert all(None not in picks for picks in in_db.values())
        # Every call that came back before the kill was saved; at most the two in flight
        # were lost.
        sent = len(stub.requests)
        assert saved <= sent <= saved + 2
        assert run_status(db, "crash") == "running"  # as the killed process left it

        # No wait for the heartbeat: on this host the killed owner is seen gone at once.
        marked = manage(
            "shell",
            "-c",
            "from heatmap.services.liveness import run_mark_stale_interrupted as m; "
            "print(m(kind='routing'))",
            env=env,
            check=True,
        )
        assert marked.stdout.split()[-1] == "1"
        assert run_status(db, "crash") == "interrupted"

        stub.reset_counters()
        resumed = manage("run_routing", "--resume", "crash", "--json", env=env, check=True)
        report = json.loads(resumed.stdout)
        assert report["status"] == "completed"
        assert len(stub.requests) == total - saved  # only what the database lacked
        final_db, final_json = db_picks(db, "crash"), json_picks(env, "crash")
        assert final_db == final_json
        assert all(len(p) == K for p in final_db.values())
        for key, picks in in_db.items():  # every answer saved before the kill is kept
            assert final_db[key][: len(picks)] == picks
        assert run_status(db, "crash") == "completed"
