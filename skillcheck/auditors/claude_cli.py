"""One call of the Claude Code CLI in print mode, with its JSON result read back.

The CLI runs as ``claude -p --model M --system-prompt S --output-format json
--no-session-persistence`` plus the isolation flags, with the user prompt on stdin (prompts
are far too long for argv and must not show in ``ps``). It runs in its own process group so a
timeout kills it and everything it started. Failures raise ``CallFailed``; whether they are
transient is judged from the exit code and the error text.

Isolation: Claude Code is an agent, and the skill under audit is untrusted text. Each call
runs in a new empty temporary folder (not next to ``db.sqlite3`` and ``.env``), with no tools
(``--tools ""``; ``--disallowedTools`` is only a deny list), no MCP servers
(``--strict-mcp-config`` with an empty ``--mcp-config``), one turn (``--max-turns 1``), and
without the user's CLAUDE.md, skills, plugins and hooks through whichever of ``--safe-mode``,
``--setting-sources ""`` and ``--bare`` the installed CLI offers. ``detect_isolation`` reads
``claude --help`` once per run to pick them and says what could not be turned off.

Shutdown: every call in flight is known (``_live``), so a server that stops (SIGTERM to
daphne or ``runworker``) ends their process groups with ``cli_calls_stop`` instead of leaving
``claude`` processes running after it. Each call's folder is named after the process that
made it (``skillcheck-claude-<pid>-…``); a process killed with SIGKILL cannot remove its
folders, so the first call of a later process removes those of processes that are gone.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skillcheck.auditors.base import AuditResponse
from skillcheck.auditors.retry import CallFailed
from skillcheck.processes import process_alive

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


EMPTY_MCP_CONFIG = '{"mcpServers": {}}'
HELP_TIMEOUT_S = 30.0
WORKDIR_PREFIX = "skillcheck-claude-"
# A folder of the current naming: the prefix, the id of the process that made it, a dash.
_WORKDIR_OF_PROCESS = re.compile(re.escape(WORKDIR_PREFIX) + r"(\d+)-")
# A folder of the earlier naming (no process id) is removed once this old: no call runs longer.
LEGACY_WORKDIR_AGE_S = 24 * 3600
STOP_GRACE_S = 2.0


def _workdir_prefix() -> str:
    return f"{WORKDIR_PREFIX}{os.getpid()}-"


def cli_workdirs_sweep(folder: str | None = None) -> list[str]:
    """Remove the call folders of processes that are gone (killed before they could); the
    names removed. A folder of a live process is in use and stays."""
    removed: list[str] = []
    root = Path(folder or tempfile.gettempdir())
    try:
        entries = list(root.iterdir())
    except OSError:
        return removed
    for entry in entries:
        if not entry.name.startswith(WORKDIR_PREFIX) or entry.is_symlink() or not entry.is_dir():
            continue
        match = _WORKDIR_OF_PROCESS.match(entry.name)
        try:
            if match:
                gone = not process_alive(int(match.group(1)))
            else:
                gone = time.time() - entry.stat().st_mtime > LEGACY_WORKDIR_AGE_S
        except (OSError, ValueError):
            continue
        if gone:
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry.name)
    return removed


class _LiveCalls:
    """The CLI processes this process has running, and whether it still starts new ones."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.procs: set[subprocess.Popen] = set()
        self.closed = False
        self.swept = False


_live = _LiveCalls()


def _sweep_once() -> None:
    with _live.lock:
        if _live.swept:
            return
        _live.swept = True
    cli_workdirs_sweep()


def cli_calls_stop(grace_s: float = STOP_GRACE_S) -> int:
    """End every CLI call in flight and start no new one; how many were running.

    For a process that is shutting down: each call's process group gets SIGTERM, and
    SIGKILL after ``grace_s`` if it is still there, so no ``claude`` (nor anything it
    started) outlives the server. Their tasks are abandoned, and a resume redoes them.
    """
    with _live.lock:
        _live.closed = True
        procs = list(_live.procs)
    for proc in procs:
        _signal_group(proc, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    for proc in procs:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(max(0.0, deadline - time.monotonic()))
        _signal_group(proc, signal.SIGKILL)
    return len(procs)


@dataclass(frozen=True)
class Isolation:
    """The flags that isolate each call, and what the installed CLI could not turn off."""

    flags: tuple[str, ...] = ()
    missing: tuple[str, ...] = field(default=())

    @property
    def full(self) -> bool:
        return not self.missing

    def describe(self) -> str:
        shown = " ".join(f'"{f}"' if f == "" else f for f in self.flags if f != EMPTY_MCP_CONFIG)
        if self.full:
            return f"isolated: empty temporary folder, {shown}"
        return f"isolation PARTIAL: {'; '.join(self.missing)} (using {shown or 'no flags'})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "via": "cli",
            "level": "full" if self.full else "partial",
            "flags": list(self.flags),
            "missing": list(self.missing),
            "workdir": "empty temporary folder per call",
            "summary": self.describe(),
        }


def _offers(help_text: str, flag: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(flag)}(?![\w-])", help_text) is not None


def isolation_from_help(help_text: str, *, api_key_in_env: bool = False) -> Isolation:
    """The isolation flags ``claude --help`` shows this CLI offers.

    ``--max-turns`` is a hidden flag (absent from ``--help``) that print mode has always had,
    so it is always passed. ``--bare`` skips OAuth and the keychain, so it is used only when
    the CLI gets an ``ANTHROPIC_API_KEY`` and ``--safe-mode`` is missing.
    """
    flags: list[str] = []
    missing: list[str] = []
    if _offers(help_text, "--tools"):
        flags += ["--tools", ""]
    else:
        missing.append("tools stay on (no --tools flag)")
    if _offers(help_text, "--strict-mcp-config") and _offers(help_text, "--mcp-config"):
        flags += ["--strict-mcp-config", "--mcp-config", EMPTY_MCP_CONFIG]
    else:
        missing.append("the user's MCP servers load (no --strict-mcp-config)")
    flags += ["--max-turns", "1"]
    customizations_off = False
    if _offers(help_text, "--safe-mode"):
        flags.append("--safe-mode")
        customizations_off = True
    if _offers(help_text, "--setting-sources"):
        flags += ["--setting-sources", ""]
        customizations_off = True
    if not customizations_off and _offers(help_text, "--bare") and api_key_in_env:
        flags.append("--bare")
        customizations_off = True
    if not customizations_off:
        why = "no --safe-mode or --setting-sources"
        if _offers(help_text, "--bare"):
            why += "; --bare would need ANTHROPIC_API_KEY"
        missing.append(f"the user's CLAUDE.md, skills, plugins and hooks load ({why})")
    return Isolation(tuple(flags), tuple(missing))


def detect_isolation(binary: str, timeout_s: float = HELP_TIMEOUT_S) -> Isolation:
    """Read ``claude --help`` (in an empty folder, like the calls) and pick the flags."""
    _sweep_once()
    try:
        with tempfile.TemporaryDirectory(prefix=_workdir_prefix()) as workdir:
            done = subprocess.run(
                [binary, "--help"],
                cwd=workdir,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=timeout_s,
                check=False,
            )
        help_text = (done.stdout + done.stderr).decode("utf-8", errors="replace")
    except (OSError, subprocess.SubprocessError) as exc:
        help_text = ""
        reason = f"`{Path(binary).name} --help` failed ({type(exc).__name__})"
        base = isolation_from_help(help_text)
        return Isolation(base.flags, (reason, *base.missing))
    return isolation_from_help(help_text, api_key_in_env=bool(os.environ.get("ANTHROPIC_API_KEY")))


def command(
    binary: str, model_id: str, system_prompt: str, isolation: Isolation | None = None
) -> list[str]:
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
        *(isolation.flags if isolation else ()),
    ]


def tail(text: str, limit: int = TAIL_CHARS) -> str:
    text = text.strip()
    return text if len(text) <= limit else "…" + text[-limit:]


def _signal_group(proc: subprocess.Popen, signum: int) -> None:
    try:
        os.killpg(proc.pid, signum)
    except (ProcessLookupError, PermissionError):
        if proc.poll() is None:
            proc.send_signal(signum)


def _kill_group(proc: subprocess.Popen) -> None:
    _signal_group(proc, signal.SIGKILL)


def _reap(proc: subprocess.Popen) -> None:
    """Collect the killed process; a grandchild that left the group may hold the pipes."""
    try:
        proc.communicate(timeout=5)
    except subprocess.TimeoutExpired:
        proc.wait()


def run_cli(
    binary: str,
    model_id: str,
    system_prompt: str,
    user_prompt: str,
    timeout_s: float,
    isolation: Isolation | None = None,
) -> AuditResponse:
    """Run the CLI once in a new empty folder; return text, tokens and cost, or raise
    ``CallFailed``."""
    _sweep_once()
    with tempfile.TemporaryDirectory(prefix=_workdir_prefix()) as workdir:
        return _run_in(workdir, binary, model_id, system_prompt, user_prompt, timeout_s, isolation)


def _run_in(
    workdir: str,
    binary: str,
    model_id: str,
    system_prompt: str,
    user_prompt: str,
    timeout_s: float,
    isolation: Isolation | None,
) -> AuditResponse:
    with _live.lock:
        if _live.closed:
            raise CallFailed("not started: this process is shutting down", transient=False)
        try:
            proc = subprocess.Popen(
                command(binary, model_id, system_prompt, isolation),
                cwd=workdir,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
            )
        except OSError as exc:
            raise CallFailed("could not start the CLI", str(exc), transient=False) from None
        _live.procs.add(proc)
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
    finally:
        with _live.lock:
            _live.procs.discard(proc)
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
