"""JUnit XML for CI: a run (or a comparison of two runs) as test cases, written by junitparser.

Every CI system reads JUnit: one test case per scenario × skill × model × check, grouped in
one suite per skill and model. A ``fail`` verdict is a ``failure``; ``na`` and tasks that were
planned but never ran are ``skipped``; a task whose model call failed has no verdicts, so each
of its checks is an ``error``. ``pass`` and ``unclear`` pass (unclear is no evidence against
the skill; the verdict is in the case's output). So the file's failure count is the run's
count of failed checks.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from junitparser import Error, Failure, JUnitXml, Skipped, SystemOut, TestCase, TestSuite

from skillcheck.compare import Comparison, TaskChecks
from skillcheck.results import ScoredRun
from skillcheck.vocabulary import Result

# (scenario, skill, model) of a comparison's cell, or with the sample's epoch of a run's task.
TaskKey = tuple[str, str, str] | tuple[str, str, str, int]

NOT_RUN = "not run: the task was planned but has no result"
# Characters XML 1.0 cannot hold at all (not even escaped); answers and names can contain them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def _case(key: TaskKey, check_id: str, duration_s: float = 0.0) -> TestCase:
    scenario_id, skill, model = key[:3]
    sample = f" #{key[3]}" if len(key) > 3 and key[3] != 1 else ""
    name, classname = _xml(f"{scenario_id} {check_id}{sample}"), _xml(f"{skill}.{model}")
    return TestCase(name=name, classname=classname, time=duration_s)


def _suites(cases: Iterable[tuple[TaskKey, TestCase]], name: str) -> JUnitXml:
    by_group: dict[tuple[str, str], TestSuite] = {}
    for key, case in cases:
        skill, model = key[1], key[2]
        suite = by_group.get((skill, model))
        if suite is None:
            suite = by_group[(skill, model)] = TestSuite(_xml(f"{skill} × {model}"))
        suite.add_testcase(case)
    document = JUnitXml(name)
    for group in sorted(by_group):
        suite = by_group[group]
        suite.update_statistics()
        document.add_testsuite(suite)
    document.update_statistics()
    return document


def _verdict_case(key: TaskKey, check_id: str, verdict: str, detail: str, time: float) -> TestCase:
    case = _case(key, check_id, time)
    detail = _xml(detail)
    if verdict == Result.FAIL:
        case.result = [Failure(detail or "check failed", type_="fail")]
    elif verdict == Result.NA:
        case.result = [Skipped("not applicable to this skill", type_="na")]
    if detail:
        case.append(SystemOut(f"{verdict}: {detail}"))
    return case


def run_junit(
    results: Iterable[ScoredRun],
    *,
    check_ids: Iterable[str],
    planned: Iterable[TaskKey] = (),
    name: str = "skillcheck",
) -> JUnitXml:
    """The run's results as JUnit; ``planned`` tasks with no result are skipped cases."""
    check_ids = list(check_ids)
    cases: list[tuple[TaskKey, TestCase]] = []
    seen: set[TaskKey] = set()
    for run in results:
        seen.add(run.key)
        share = run.duration_s / max(len(run.checks), 1)  # the task's time, spread over checks
        if run.error:
            for check_id in check_ids:
                case = _case(run.key, check_id, share)
                case.result = [Error(_xml(run.error[:2000]), type_="task error")]
                cases.append((run.key, case))
            continue
        for verdict in run.checks:
            detail = verdict.summary or verdict.evidence
            cases.append(
                (run.key, _verdict_case(run.key, verdict.check_id, verdict.result, detail, share))
            )
    for key in planned:
        if (key if len(key) > 3 else (*key, 1)) in seen:
            continue
        for check_id in check_ids:
            case = _case(key, check_id)
            case.result = [Skipped(NOT_RUN, type_="not run")]
            cases.append((key, case))
    return _suites(cases, name)


def comparison_junit(
    comparison: Comparison, new_tasks: Iterable[TaskChecks], *, name: str = "skillcheck compare"
) -> JUnitXml:
    """A comparison as JUnit: each check of the new run's tasks, failing where it regressed.

    A regression (a pass that became fail or unclear) is a ``failure``; tasks only in the new
    run are ``skipped`` (nothing to compare with); a task that failed in either run is an
    ``error``. Improvements and other changes pass, with the change in the case's output.
    """
    flips: Mapping[tuple[TaskKey, str], str] = {
        ((f.scenario_id, f.skill, f.model), f.check_id): f"{f.kind}: {f.before} → {f.after}"
        for f in comparison.flips
    }
    added, errored = set(comparison.added), set(comparison.errored)
    cases: list[tuple[TaskKey, TestCase]] = []
    for task in new_tasks:
        for check_id, verdict in task.checks.items():
            case = _case(task.key, check_id)
            change = flips.get((task.key, check_id))
            if task.key in errored:
                case.result = [Error("the task failed in one of the runs", type_="task error")]
            elif task.key in added:
                case.result = [Skipped("not in the base run", type_="not compared")]
            elif change and change.startswith("regression"):
                case.result = [Failure(change, type_="regression")]
            case.append(SystemOut(change or f"unchanged: {verdict}"))
            cases.append((task.key, case))
    return _suites(cases, name)


def write_junit(document: JUnitXml, path: Path | str) -> Path:
    """Write the XML (the folder is made if missing); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    document.write(str(path), pretty=True)
    return path
