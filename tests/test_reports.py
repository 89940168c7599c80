"""Report files: atomic incremental snapshots, the lock, old formats, loading and merging."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from skillcheck.catalog import load_catalog
from skillcheck.reports import (
    ReportError,
    ReportSnapshot,
    atomic_write_bytes,
    load_all_scored_reports,
    load_scored_report,
    merge_scored_runs,
    save_scored_report,
    save_scored_report_incremental,
)
from skillcheck.results import CheckVerdict as CheckResult
from skillcheck.results import ScoredRun
from skillcheck.runs import build_tasks, execute_tasks
from tests import original_format
from tests.original_format import write_original_report
from tests.run_helpers import StubAuditor


def result(scenario="s1", skill="k", model="m", risk="LOW", error=None, text="") -> ScoredRun:
    return ScoredRun(
        scenario_id=scenario,
        skill=skill,
        model=model,
        risk_level=risk,
        error=error,
        markdown_response=text,
        checks=[CheckResult("WF-1", "pass", "SKILL.md:3", "fine")],
        input_tokens=10,
        output_tokens=5,
        cost_usd=0.002,
    )


def test_single_shot_report_has_the_documented_shape(tmp_path):
    path = save_scored_report([result()], {"models": ["m"]}, reports_dir=tmp_path)
    assert path.name.startswith("scored_") and not path.name.startswith("scored_run_")
    data = json.loads(path.read_text())
    assert data["type"] == "scored" and data["models"] == ["m"] and "generated" in data
    row = data["results"][0]
    assert {
        "scenario_id",
        "skill",
        "model",
        "risk_level",
        "duration_s",
        "cost_info",
        "error",
        "markdown_response",
        "checks",
    } <= set(row)
    assert row["checks"][0] == {
        "check_id": "WF-1",
        "result": "pass",
        "evidence": "SKILL.md:3",
        "summary": "fine",
    }


def test_single_shot_reports_in_the_same_minute_do_not_overwrite(tmp_path):
    first = save_scored_report([result()], reports_dir=tmp_path)
    second = save_scored_report([result(model="n")], reports_dir=tmp_path)
    assert first != second and first.exists() and second.exists()


def test_incremental_report_round_trips(tmp_path):
    rows = [result("a"), result("b", error="timeout")]
    path = save_scored_report_incremental("run1", rows, {"models": ["m"]}, reports_dir=tmp_path)
    assert path == tmp_path / "scored_run_run1.json"
    data = json.loads(path.read_text())
    assert data["run_id"] == "run1" and data["result_count"] == 2
    report = load_scored_report(path)
    assert report.run_id == "run1"
    assert [r.to_dict() for r in report.results] == [r.to_dict() for r in rows]


def test_snapshot_replaces_a_row_with_the_same_key(tmp_path):
    snapshot = ReportSnapshot("r", reports_dir=tmp_path)
    snapshot.add(result("a", error="boom"))
    snapshot.add(result("a"))
    snapshot.write(force=True)
    report = load_scored_report(snapshot.path)
    assert len(report.results) == 1 and report.results[0].error is None


def test_snapshot_throttles_to_one_write_per_interval_once_writes_are_costly(tmp_path):
    snapshot = ReportSnapshot("r", reports_dir=tmp_path, max_write_share=1e-9, interval_s=60)
    snapshot.add(result("a"))
    assert snapshot.write() is True
    snapshot.add(result("b"))
    assert snapshot.write() is False  # not due: the last write was "slow"
    assert snapshot.write(force=True) is True
    assert load_scored_report(snapshot.path).metadata["result_count"] == 2


def test_costly_snapshot_writes_are_bounded_in_bytes_per_second_too(tmp_path, monkeypatch):
    """A large report is not rewritten once a second: its bytes count against a rate."""
    import types

    from skillcheck import reports

    clock = [1000.0]  # a clock that moves only when told: the writes themselves take no time
    monkeypatch.setattr(reports, "time", types.SimpleNamespace(monotonic=lambda: clock[0]))
    snapshot = ReportSnapshot(
        "r", reports_dir=tmp_path, max_write_share=1e-9, interval_s=1.0, max_write_rate=1.0
    )
    snapshot.add(result("a"))
    assert snapshot.write() is True
    written = snapshot.path.stat().st_size
    snapshot.add(result("b"))
    clock[0] += 10  # the interval has passed ten times over
    assert snapshot.write() is False  # due only after `written` seconds at 1 byte a second
    clock[0] += written - 10
    assert snapshot.write() is True
    assert load_scored_report(snapshot.path).metadata["result_count"] == 2


def test_snapshot_writes_every_time_while_cheap(tmp_path):
    snapshot = ReportSnapshot("r", reports_dir=tmp_path, max_write_share=1e9)
    for name in "abc":
        snapshot.add(result(name))
        assert snapshot.write() is True
    assert snapshot.write() is False  # nothing changed


def test_failed_write_leaves_the_old_file_and_no_temp_file(tmp_path, monkeypatch):
    path = tmp_path / "scored_run_x.json"
    atomic_write_bytes(path, b'{"results": []}')

    def broken_replace(src, dst):
        raise OSError("no space left")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        atomic_write_bytes(path, b'{"results": [1]}')
    assert path.read_bytes() == b'{"results": []}'
    assert list(tmp_path.iterdir()) == [path]


WRITER = """
import sys
from pathlib import Path
from skillcheck.reports import atomic_write_bytes
path, mark = Path(sys.argv[1]), sys.argv[2]
document = b'{"writer": "' + mark.encode() + b'", "pad": "' + b"x" * 200_000 + b'"}'
for _ in range(300):
    atomic_write_bytes(path, document)
"""


def test_two_processes_writing_one_report_never_corrupt_it(tmp_path):
    """An import can rewrite a run's file while that run's own process writes it."""
    path = tmp_path / "scored_run_x.json"
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": str(root)}
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path), mark], env=env, stderr=subprocess.PIPE
        )
        for mark in "ab"
    ]
    errors = [w.communicate(timeout=60)[1].decode() for w in writers]
    assert [w.returncode for w in writers] == [0, 0], errors
    assert json.loads(path.read_bytes())["writer"] in {"a", "b"}
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_file_grows_task_by_task_during_a_run(tmp_path, corpus_dir):
    catalog = load_catalog(corpus_dir)
    tasks = build_tasks(catalog, domains=None, models=["s"])[:8]
    # A throttle that holds nothing back (when it does is tested above): with a share of 1.0
    # an fsync slower than a task (a busy disk) would skip a rewrite and fail the test.
    snapshot = ReportSnapshot("grow", reports_dir=tmp_path, max_write_share=1e9)
    counts: list[int] = []

    def on_result(res):
        snapshot.add(res)
        snapshot.write()

    def listener(event):
        if event["type"] == "progress" and event["status"] != "running":
            counts.append(json.loads(snapshot.path.read_text())["result_count"])

    execute_tasks(
        tasks,
        {"s": StubAuditor("s", delay_s=0.1)},  # tasks take time, as real ones do
        catalog.taxonomy,
        run_id="grow",
        concurrency=1,
        listeners=[listener],
        on_result=on_result,
    )
    assert counts == list(range(1, 9))


def test_a_reader_never_sees_invalid_json_during_a_run(tmp_path, corpus_dir):
    catalog = load_catalog(corpus_dir)
    tasks = build_tasks(catalog, domains=None, models=["a", "b"])
    snapshot = ReportSnapshot("read", reports_dir=tmp_path, max_write_share=1e9)
    snapshot.write(force=True)
    stop = threading.Event()
    reads: list[int] = []
    problems: list[str] = []

    def reader():
        while not stop.is_set():
            try:
                reads.append(json.loads(snapshot.path.read_bytes())["result_count"])
            except (json.JSONDecodeError, KeyError) as exc:
                problems.append(repr(exc))

    def on_result(res):
        snapshot.add(res)
        snapshot.write()

    thread = threading.Thread(target=reader)
    thread.start()
    auditors = {m: StubAuditor(m, padding=20_000) for m in ("a", "b")}
    execute_tasks(
        tasks, auditors, catalog.taxonomy, run_id="read", concurrency=8, on_result=on_result
    )
    stop.set()
    thread.join()
    assert problems == []
    assert len(reads) > 20 and reads == sorted(reads) and reads[-1] > 0
    assert json.loads(snapshot.path.read_bytes())["result_count"] == len(tasks)


def test_concurrent_writers_never_interleave(tmp_path):
    snapshots = [ReportSnapshot("same", reports_dir=tmp_path) for _ in range(8)]
    for index, snapshot in enumerate(snapshots):
        snapshot.extend(result(f"s{index}-{n}", text="x" * 5000) for n in range(index + 1))
    errors: list[BaseException] = []

    def hammer(snapshot):
        try:
            for _ in range(30):
                snapshot.write(force=True)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=hammer, args=(s,)) for s in snapshots]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    report = load_scored_report(tmp_path / "scored_run_same.json")
    assert report.metadata["result_count"] == len(report.results)
    assert len({r.scenario_id.split("-")[0] for r in report.results}) == 1  # one writer's file
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scored_run_same.json"]


OLD_REPORT = {
    "type": "scored",
    "timestamp": "2025-01-10T12:00:00",
    "model": "sonnet",
    "results": [
        {
            "scenario_id": "s1",
            "skill": "k",
            "risk_level": "HIGH",
            "duration_s": 3.5,
            "cost_info": {"input_tokens": 100, "output_tokens": 20, "cost_usd": 0.01},
            "error": None,
            "markdown_response": "old answer",
            "checks": {"WF-1": {"result": "fail", "evidence": "e", "summary": "s"}},
        },
        {"scenario_id": "s2", "skill": "k", "checks": [{"check_id": "WF-1", "result": "pass"}]},
    ],
}


def write_json(path: Path, data) -> Path:
    path.write_text(json.dumps(data))
    return path


def test_old_timestamped_reports_load(tmp_path):
    report = load_scored_report(write_json(tmp_path / "scored_20250110_1200.json", OLD_REPORT))
    first, second = report.results
    assert first.model == "sonnet" and first.risk_level == "HIGH" and first.cost_usd == 0.01
    assert first.checks[0].check_id == "WF-1" and first.checks[0].result == "fail"
    assert second.checks[0].result == "pass" and second.risk_level == "UNKNOWN"


def test_load_all_skips_corrupt_files_and_sorts_newest_first(tmp_path, caplog):
    write_json(tmp_path / "scored_20250110_1200.json", OLD_REPORT)
    (tmp_path / "scored_broken.json").write_text('{"type": "scored", "results": [')
    (tmp_path / "scored_other.json").write_text('{"type": "lint", "results": []}')
    newer = save_scored_report_incremental(
        "new", [result("s1", "k", "sonnet", risk="LOW")], reports_dir=tmp_path
    )
    reports = load_all_scored_reports(tmp_path)
    assert [r.path for r in reports] == [newer, tmp_path / "scored_20250110_1200.json"]
    assert "scored_broken.json" in caplog.text and "scored_other.json" in caplog.text


def test_merge_keeps_the_newest_result_per_task(tmp_path):
    write_json(tmp_path / "scored_20250110_1200.json", OLD_REPORT)
    save_scored_report_incremental(
        "new", [result("s1", "k", "sonnet", risk="LOW")], reports_dir=tmp_path
    )
    merged = {r.key: r for r in merge_scored_runs(load_all_scored_reports(tmp_path))}
    assert merged[("s1", "k", "sonnet", 1)].risk_level == "LOW"
    assert merged[("s2", "k", "sonnet", 1)].checks[0].result == "pass"
    assert len(merged) == 2


def test_load_raises_a_report_error_naming_the_file(tmp_path):
    bad = tmp_path / "scored_bad.json"
    bad.write_text("not json")
    with pytest.raises(ReportError, match=r"scored_bad\.json"):
        load_scored_report(bad)


def test_generated_falls_back_to_file_time(tmp_path):
    path = write_json(tmp_path / "scored_x.json", {"results": []})
    os.utime(path, (time.time() - 3600, time.time() - 3600))
    assert load_scored_report(path).generated.timestamp() == pytest.approx(
        time.time() - 3600, abs=5
    )


@pytest.mark.parametrize(
    "content",
    [
        json.dumps({"results": [{"scenario_id": "s", "skill": "k", "checks": ["pass"]}]}),
        json.dumps({"results": [{"scenario_id": "s", "skill": "k", "cost_info": [1, 2]}]}),
        "[" * 100_000 + "]" * 100_000,
    ],
    ids=["check-not-an-object", "cost-info-not-an-object", "nested-too-deep"],
)
def test_a_malformed_report_is_a_report_error_and_skipped(tmp_path, caplog, content):
    bad = tmp_path / "scored_malformed.json"
    bad.write_text(content)
    with pytest.raises(ReportError, match=r"scored_malformed\.json"):
        load_scored_report(bad)
    good = save_scored_report_incremental("good", [result()], reports_dir=tmp_path)
    assert [r.path for r in load_all_scored_reports(tmp_path)] == [good]
    assert "scored_malformed.json" in caplog.text


def test_a_non_text_error_in_a_report_loads_as_text(tmp_path):
    path = write_json(
        tmp_path / "scored_x.json",
        {"results": [{"scenario_id": "s", "skill": "k", "error": {"code": 529}}]},
    )
    assert load_scored_report(path).results[0].error == '{"code": 529}'


def test_merge_ranks_rows_by_when_they_finished_not_when_their_file_was_written(tmp_path):
    newer_run = result("s1", "k", "sonnet", risk="LOW")
    newer_run.finished_at = "2026-11-02T10:00:00+00:00"
    save_scored_report_incremental("newer", [newer_run], reports_dir=tmp_path)
    # An older run resumed afterwards: its file is written last, but its s1 row is old.
    old_row = result("s1", "k", "sonnet", risk="CRITICAL")
    old_row.finished_at = "2026-11-01T10:00:00+00:00"
    resumed = result("s2", "k", "sonnet")
    resumed.finished_at = "2026-11-03T10:00:00+00:00"
    time.sleep(0.01)
    save_scored_report_incremental("older", [old_row, resumed], reports_dir=tmp_path)

    merged = {r.key: r for r in merge_scored_runs(load_all_scored_reports(tmp_path))}
    assert merged[("s1", "k", "sonnet", 1)].risk_level == "LOW"
    assert ("s2", "k", "sonnet", 1) in merged


def test_rows_carry_their_finish_time_through_a_run(tmp_path, corpus_dir):
    catalog = load_catalog(corpus_dir)
    tasks = build_tasks(catalog, domains=["market-research"], models=["m"])
    execute_tasks(
        tasks,
        {"m": StubAuditor("m")},
        catalog.taxonomy,
        run_id="r",
        on_result=lambda r: save_scored_report_incremental("r", [r], reports_dir=tmp_path),
    )
    rows = json.loads((tmp_path / "scored_run_r.json").read_text())["results"]
    assert rows and all(row["finished_at"] for row in rows)
    assert load_scored_report(tmp_path / "scored_run_r.json").results[0].finished_at


def test_a_report_of_the_original_skill_checker_loads(tmp_path):
    report = load_scored_report(write_original_report(tmp_path))
    success, plain_text, error = report.results
    assert report.run_id == "20250301_101500" and success.model == "sonnet"
    assert (success.input_tokens, success.output_tokens, success.cost_note) == (5200, 1900, "")
    assert (plain_text.input_tokens, plain_text.cost_note) == (0, "unknown (non-JSON output)")
    assert error.error == original_format.ERROR and error.risk_level == "UNKNOWN"
    assert {c.result for c in error.checks} == {"unclear"} and len(error.checks) == 29
    assert (error.input_tokens, error.cost_note) == (0, "")
    assert [c.check_id for c in success.checks if c.result == "fail"] == ["DK-6"]


def test_original_cost_text_survives_a_rewrite_of_the_report(tmp_path):
    loaded = load_scored_report(write_original_report(tmp_path)).results
    path = save_scored_report_incremental("again", loaded, reports_dir=tmp_path)
    rows = json.loads(path.read_text())["results"]
    assert rows[1]["cost_info"] == {
        "input_tokens": 0,
        "output_tokens": 0,
        "cost_usd": 0.0,
        "note": "unknown (non-JSON output)",
    }
    assert "note" not in rows[0]["cost_info"]  # counts were all it said
    assert [r.to_dict() for r in load_scored_report(path).results] == [r.to_dict() for r in loaded]


@pytest.mark.parametrize(
    ("text", "tokens", "note"),
    [
        ("input=5200, output=1900", (5200, 1900), ""),
        ("input=?, output=?", (0, 0), "input=?, output=?"),
        ("input=12, output=?", (12, 0), "input=12, output=?"),
        ("", (0, 0), ""),
        ("unknown (non-JSON output)", (0, 0), "unknown (non-JSON output)"),
    ],
)
def test_original_cost_text_gives_the_tokens_it_states(text, tokens, note):
    row = ScoredRun.from_dict({"scenario_id": "s", "skill": "k", "cost_info": text})
    assert (row.input_tokens, row.output_tokens) == tokens and row.cost_note == note


def test_merge_prefers_an_older_success_to_a_newer_failure(tmp_path):
    good = result("s1", "k", "sonnet", risk="LOW")
    good.finished_at = "2026-11-01T10:00:00+00:00"
    failed = result("s1", "k", "sonnet", risk="UNKNOWN")
    failed.error, failed.finished_at = "API error 500", "2026-11-02T10:00:00+00:00"
    only_failed = result("s2", "k", "sonnet")
    only_failed.error = "timeout"
    save_scored_report_incremental("good", [good], reports_dir=tmp_path)
    save_scored_report_incremental("broken", [failed, only_failed], reports_dir=tmp_path)

    merged = {r.key: r for r in merge_scored_runs(load_all_scored_reports(tmp_path))}
    assert merged[("s1", "k", "sonnet", 1)].risk_level == "LOW"
    assert merged[("s2", "k", "sonnet", 1)].error == "timeout"
