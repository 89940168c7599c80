"""One call of the Claude Code CLI in print mode, with its JSON result read back.

The CLI runs as ``claude -p --model M --system-prompt S --output-format json
--no-session-persistence`` with the user prompt on stdin (prompts are far too long for argv
and must not show in ``ps``). It runs in its own process group so a timeout kills it and
everything it started. Failures raise ``CallFailed``; whether they are transient is judged
from the exit code and the error text.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
from pathlib import Path
from typing import Any

from skillcheck.auditors.base import AuditResponse
from skillcheck.auditors.retry import CallFailed

TAIL_CHARS = 500

_PERMANENT = re.compile(
    r"\b(400|401|403|404)\b|invalid[ _]api[ _]key|authentication|not_found|invalid_request"
    r"|unknown option|unknown model|please run /login|permission",
    re.IGNORECASE,
)
_TRANSIENT = re.compile(
    r"\b(429|500|502|503|504|529)\b|overloaded|rate.?limit|timed? ?out|timeout|connection"
    r"|econnreset|econnrefused|socket hang up|network|temporar|try again|internal server error",
    re.IGNORECASE,
)


def resolve_binary(claude_bin: str) -> str | None:
    """The executable's path for a name on PATH or a path, else None."""
    if not claude_bin:
        return None
    found = shutil.which(claude_bin)
    if found:
        return found
    path = Path(claude_bin).expanduser()
    if path.is_file() and os.access(path, os.X_OK):
        return str(path)
    return None


def command(binary: str, model_id: str, system_prompt: str) -> list[str]:
    return [
        binary,
        "-p",
        "--model",
        model_id,
        "--system-prompt",
        system_prompt,
        "--output-format",
        "json",
        "--no-session-persistence",
    ]


def tail(text: str, limit: int = TAIL_CHARS) -> str:
    text = text.strip()
    return text if len(text) <= limit else "…" + text[-limit:]


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()


def _reap(proc: subprocess.Popen) -> None:
    """Collect the killed process; a grandchild that left the group may hold the pipes."""
    try:
        proc.communicate(timeout=5)
    except subprocess.TimeoutExpired:
        proc.wait()


def run_cli(
    binary: str, model_id: str, system_prompt: str, user_prompt: str, timeout_s: float
) -> AuditResponse:
    """Run the CLI once; return text, tokens and cost, or raise ``CallFailed``."""
    try:
        proc = subprocess.Popen(
            command(binary, model_id, system_prompt),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
    except OSError as exc:
        raise CallFailed("could not start the CLI", str(exc), transient=False) from None
    try:
        out, err = proc.communicate(user_prompt.encode("utf-8"), timeout=timeout_s)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        _reap(proc)
        raise CallFailed(f"timed out after {timeout_s:g} s", transient=True) from None
    except BaseException:
        _kill_group(proc)
        proc.wait()
        raise
    stdout = out.decode("utf-8", errors="replace")
    stderr = err.decode("utf-8", errors="replace")
    return read_result(stdout, stderr, proc.returncode, model_id)


def _parse_json(stdout: str) -> dict | None:
    try:
        data = json.loads(stdout)
    except ValueError:
        return None
    if isinstance(data, list):  # a stream of messages: the result is the last one
        data = next((m for m in reversed(data) if isinstance(m, dict)), None)
    return data if isinstance(data, dict) else None


def _int(value: Any) -> int:
    try:
        return max(int(value or 0), 0)
    except (TypeError, ValueError):
        return 0


def _float(value: Any) -> float:
    try:
        return max(float(value or 0.0), 0.0)
    except (TypeError, ValueError):
        return 0.0


def read_result(stdout: str, stderr: str, returncode: int, model_id: str) -> AuditResponse:
    data = _parse_json(stdout)
    if data is None:
        if returncode != 0:
            detail = tail(stderr) or tail(stdout)
            transient = not _PERMANENT.search(detail)
            raise CallFailed(f"exit {returncode}", detail, transient=transient)
        raise CallFailed("CLI output is not JSON", tail(stdout) or "(empty)", transient=False)
    text = data.get("result")
    if data.get("is_error") or data.get("subtype", "success") != "success":
        detail = tail(str(text or data.get("subtype") or "")) or tail(stderr)
        # A non-zero exit is worth retrying whatever the text, as when there is no JSON.
        retry = returncode != 0 or bool(_TRANSIENT.search(detail))
        transient = retry and not _PERMANENT.search(detail)
        raise CallFailed("CLI answered with an error", detail, transient=transient)
    if not isinstance(text, str):
        raise CallFailed("CLI result has no text", tail(stdout), transient=False)
    usage = data.get("usage")
    if not isinstance(usage, dict):
        usage = {}
    return AuditResponse(
        text=text,
        input_tokens=_int(usage.get("input_tokens"))
        + _int(usage.get("cache_creation_input_tokens"))
        + _int(usage.get("cache_read_input_tokens")),
        output_tokens=_int(usage.get("output_tokens")),
        cost_usd=_float(data.get("total_cost_usd")),
        model_id=model_id,
    )
