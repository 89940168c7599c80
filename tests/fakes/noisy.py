"""The Messages API stub's noisy mode: a judge whose noise is fixed in advance.

Every check of every answer is drawn afresh, per call, from a truth the test sets and the app
never sees:

- *coin-flip* checks (``coin_checks``) pass half the time, whatever the skill;
- every other check is *stable*: its true verdict (pass for ``pass_share`` of the (model,
  task, check) triples, chosen by a hash) comes back, flipped to the other verdict with
  probability ``flip_rate``;
- a *degraded* skill (``degraded``: skill name -> share) loses that share of its stable passes
  (they become true fails), as if its SKILL.md had been made worse.

``pass_probability`` is the truth a test measures the statistics against. Standard library
only.
"""

from __future__ import annotations

import hashlib
import random
import re
import threading
from dataclasses import dataclass, field

from tests.fakes.answers import check_ids, stable

SKILL_LINE = re.compile(r"^# Skill: (.+)$", re.MULTILINE)


def _unit(*parts: str) -> float:
    """A number in [0, 1) fixed by ``parts``."""
    digest = hashlib.sha256("\0".join(parts).encode()).hexdigest()
    return int(digest[:12], 16) / 16**12


@dataclass
class NoisyTruth:
    coin_checks: frozenset[str]
    flip_rate: float = 0.01
    pass_share: float = 0.75
    degraded: dict[str, float] = field(default_factory=dict)
    seed: int = 0
    calls: int = 0

    def __post_init__(self) -> None:
        self._asked: dict[str, int] = {}
        self._lock = threading.Lock()

    @staticmethod
    def skill_of(user_prompt: str) -> str:
        found = SKILL_LINE.search(user_prompt)
        return found.group(1).strip() if found else ""

    def true_pass(self, model: str, user_prompt: str, check_id: str) -> bool:
        """A stable check's true verdict for this task: pass or fail."""
        task = stable(user_prompt)
        passes = _unit(str(self.seed), model, task, check_id) < self.pass_share
        share = self.degraded.get(self.skill_of(user_prompt), 0.0)
        if passes and share and _unit("degraded", str(self.seed), model, task, check_id) < share:
            return False
        return passes

    def pass_probability(self, model: str, user_prompt: str, check_id: str) -> float:
        if check_id in self.coin_checks:
            return 0.5
        return (
            1 - self.flip_rate if self.true_pass(model, user_prompt, check_id) else self.flip_rate
        )

    def verdicts(self, model: str, system_prompt: str, user_prompt: str) -> dict[str, str]:
        """One call's verdicts: each check drawn with its true probability of passing."""
        # The n-th call of a task draws from its own seeded stream, so concurrent calls give
        # the same samples whatever order they are served in: a run's draws are reproducible.
        task = hashlib.sha256(f"{model}\0{stable(user_prompt)}".encode()).hexdigest()
        with self._lock:
            self.calls += 1
            asked = self._asked.get(task, 0)
            self._asked[task] = asked + 1
        stream = random.Random(f"{self.seed}:{task}:{asked}")
        draws = {c: stream.random() for c in check_ids(system_prompt)}
        return {
            check_id: "pass"
            if draw < self.pass_probability(model, user_prompt, check_id)
            else "fail"
            for check_id, draw in draws.items()
        }
