"""``run_scored``'s progress: a line per finished task in a pipe, a live bar in a terminal."""

from __future__ import annotations

import time
from typing import Any

from rich.console import Console


class PlainProgress:
    """One line per finished task, for logs and pipes.

    When the reader of a pipe goes away (``run_scored | head``), the lines stop and the run
    goes on: its results are in the database and the report either way.
    """

    def __init__(self, stream: Any):
        self.stream: Any = stream

    def __call__(self, event: dict[str, Any]) -> None:
        if self.stream is None:
            return
        width = len(str(event.get("total", "")))
        if event["type"] == "cached":
            line = (
                f"[{event['completed']:>{width}}/{event['total']}] cached "
                f"{event['cached']} tasks reused from earlier runs (no model call)"
            )
        elif event["type"] == "batch":
            line = self.batch_line(event)
        elif event["type"] != "progress" or event["status"] == "running":
            return
        else:
            line = self._line(event, width)
        try:
            self.stream.write(line + "\n")
            self.stream.flush()
        except BrokenPipeError:
            self.stream = None

    @staticmethod
    def batch_line(event: dict[str, Any]) -> str:
        """ "batch msgbatch_…: in_progress, 40 processing": a batch's progress, from its counts."""
        line = f"batch {event['batch_id']}: {event['status']}"
        if event.get("requests"):
            line += f", {event['requests']} requests"
        if event.get("counts"):
            line += ", " + ", ".join(f"{n} {k}" for k, n in event["counts"].items() if n)
        return line

    @staticmethod
    def _line(event: dict[str, Any], width: int) -> str:
        line = (
            f"[{event['completed']:>{width}}/{event['total']}] {event['status']:<5} "
            f"{event['scenario_id']} × {event['skill']} × {event['model']} "
            f"{event['duration_s'] or 0:.1f}s"
        )
        if event["error"]:
            line += f" — {event['error'][:200]}"
        return line

    def close(self) -> None:
        pass


class RichProgress:
    """A live bar: completed/total, failures, rate, elapsed and ETA."""

    def __init__(self, console: Console, total: int, completed: int):
        # Imported here: only a terminal shows a bar, and rich's progress and tables are a
        # tenth of the command's import time.
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.console = console
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("[red]{task.fields[failed]} failed"),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=console,
        )
        self.task = self.progress.add_task(
            "auditing", total=total, completed=completed, failed=0, rate=""
        )
        self.started = time.monotonic()
        self.first = completed
        self.progress.start()

    def __call__(self, event: dict[str, Any]) -> None:
        if event["type"] == "cached":
            self.first = event["completed"]  # the rate counts tasks actually called
            self.progress.update(self.task, completed=event["completed"], total=event["total"])
            self.progress.console.print(f"{event['cached']} tasks reused from earlier runs")
            return
        if event["type"] == "batch":
            self.progress.console.print(PlainProgress.batch_line(event))
            return
        if event["type"] != "progress" or event["status"] == "running":
            return
        elapsed = max(time.monotonic() - self.started, 1e-6)
        rate = (event["completed"] - self.first) / elapsed * 60
        self.progress.update(
            self.task,
            completed=event["completed"],
            total=event["total"],
            failed=event["failed"],
            rate=f"{rate:.1f}/min",
        )
        if event["error"]:
            self.progress.console.print(
                f"[red]error[/] {event['scenario_id']} × {event['skill']} × {event['model']}: "
                f"{event['error'][:200]}"
            )

    def close(self) -> None:
        self.progress.stop()
