"""A scriptable stand-in for the Anthropic Messages and Message Batches APIs, for the real SDK.

``POST /v1/messages`` pops the next scripted reply (``Reply``); once the script is spent it
answers 200 with a deterministic audit scoring every check the system prompt lists, after
``latency_s``. Every request is recorded with its headers and JSON body.

Modes a test or benchmark switches on:

- ``max_concurrent``: at most that many Messages calls are served at once; one beyond gets
  a 429 ``rate_limit_error`` with ``retry-after`` (``retry_after_s``), as an account's
  concurrency limit would.
- Prompt caching: ``cache_control`` breakpoints in ``system`` and the message content are
  honoured as the API does: a prefix of at least the model's minimum cacheable length is
  written on first sight and read afterwards (``cache_creation_input_tokens`` /
  ``cache_read_input_tokens``), tokens counted at 4 characters each.
- Forced tool calls (``tool_choice: {"type": "tool", "name": ...}``): the answer is a
  ``tool_use`` block with that tool. Its input is ``Reply.tool_input`` when scripted, else
  ``{"skill": router(model, user_prompt, choices)}`` where ``choices`` is the enum of the
  tool's ``skill`` property; the default router picks one choice from a hash of model and
  prompt, so a test can set ``stub.router`` to a known truth.
- Noisy mode (``noise``, a ``tests.fakes.noisy.NoisyTruth``): every verdict is drawn per
  call from a truth fixed in advance (coin-flip checks, stable ones with a small flip rate,
  degraded skills), for the statistics of repeated samples.
- Message Batches: create, retrieve (``request_counts``), results as JSONL via
  ``results_url``, cancel. A batch ends after ``batch_polls_to_end`` retrieves, or when
  ``end_batches()`` is called; ``batch_outcome(custom_id, params)`` may turn a request into
  ``errored`` or ``expired``. ``batch_creates`` counts submissions.

``python -m tests.fakes.anthropic_stub --port 8765 --latency 0.2`` serves it on its own.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.fakes.answers import answer, token_counts
from tests.fakes.noisy import NoisyTruth

ERROR_MESSAGES = {
    400: ("invalid_request_error", "Invalid request"),
    401: ("authentication_error", "invalid x-api-key"),
    404: ("not_found_error", "model not found"),
    429: ("rate_limit_error", "Rate limited"),
    500: ("api_error", "Internal server error"),
    503: ("api_error", "Service unavailable"),
    529: ("overloaded_error", "Overloaded"),
}

# The API's minimum cacheable prompt lengths, in tokens (longest matching prefix wins).
MIN_CACHEABLE_TOKENS = {
    "claude-opus-4-5": 4096,
    "claude-opus-4-6": 4096,
    "claude-haiku-4-5": 4096,
    "claude-3-5-haiku": 2048,
    "claude-3-haiku": 2048,
    "claude-": 1024,
}


def min_cacheable_tokens(model: str) -> int:
    matches = [p for p in MIN_CACHEABLE_TOKENS if model.startswith(p)]
    return MIN_CACHEABLE_TOKENS[max(matches, key=len)] if matches else 1024


def hashed_choice(model: str, prompt: str, choices: list[str]) -> str:
    """One of ``choices`` from a hash of model and prompt: the stub's default router."""
    value = int(hashlib.sha256(f"{model}\0{prompt}".encode()).hexdigest()[:8], 16)
    return choices[value % len(choices)] if choices else ""


def _forced_tool(body: dict[str, Any]) -> tuple[str, list[str]] | None:
    """(tool name, the enum of its ``skill`` input) when the request forces a tool call."""
    choice = body.get("tool_choice")
    if not isinstance(choice, dict) or choice.get("type") != "tool":
        return None
    name = str(choice.get("name", ""))
    for tool in body.get("tools") or []:
        if isinstance(tool, dict) and tool.get("name") == name:
            skill = (tool.get("input_schema") or {}).get("properties", {}).get("skill", {})
            return name, [str(c) for c in skill.get("enum") or []]
    return name, []


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


class _Server(ThreadingHTTPServer):
    # socketserver listens with a backlog of 5: 32 clients connecting at once overflowed it,
    # and each connection the kernel dropped waited a second for its SYN to be sent again.
    request_queue_size = 128
    daemon_threads = True
    block_on_close = False


@dataclass
class Reply:
    """One scripted answer: an HTTP status (error body for non-200), or a stall first."""

    status: int = 200
    text: str | None = None  # 200: the answer text (default: a generated audit)
    headers: dict[str, str] = field(default_factory=dict)
    stall_s: float = 0.0  # wait this long before answering (the stub's close cuts it short)
    usage: dict[str, int] | None = None
    hostile: bool = False  # the generated audit carries a lone surrogate and NUL
    tool_input: dict[str, Any] | None = None  # the input of a forced tool call


@dataclass
class RecordedRequest:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    method: str = "POST"
    at: float = 0.0  # time.time() when it arrived


@dataclass
class _Batch:
    id: str
    requests: list[dict[str, Any]]
    created_at: datetime
    polls: int = 0
    status: str = "in_progress"  # in_progress | canceling | ended
    cancel_initiated_at: datetime | None = None
    ended_at: datetime | None = None
    results: dict[str, dict[str, Any]] = field(default_factory=dict)  # custom_id -> result


class AnthropicStub:
    def __init__(
        self,
        *,
        latency_s: float = 0.0,
        max_concurrent: int | None = None,
        retry_after_s: float = 1.0,
        batch_polls_to_end: int = 1,
        port: int = 0,
        record_bodies: bool = True,
    ) -> None:
        self.requests: list[RecordedRequest] = []
        self.hostile = False  # unscripted answers carry a lone surrogate and NUL
        # Noisy mode: unscripted answers draw every verdict afresh from this truth.
        self.noise: NoisyTruth | None = None
        self.latency_s = latency_s
        self.max_concurrent = max_concurrent
        self.retry_after_s = retry_after_s
        self.batch_polls_to_end = batch_polls_to_end
        self.record_bodies = record_bodies
        self.batch_outcome: Callable[[str, dict[str, Any]], str] | None = None
        self.router: Callable[[str, str, list[str]], str] = hashed_choice
        self.batches: dict[str, _Batch] = {}
        self.batch_creates = 0
        self.rate_limited = 0  # 429s answered because of max_concurrent
        self.peak_concurrent = 0
        self.first_request_at: float | None = None
        self._in_flight = 0
        self._cache: set[str] = set()
        self._script: list[Reply] = []
        self._lock = threading.Lock()
        self._cache_lock = threading.Lock()
        self._closing = threading.Event()
        self._server = _Server(("127.0.0.1", port), self._handler_class())
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def script(self, *replies: Reply) -> None:
        with self._lock:
            self._script.extend(replies)

    def start(self) -> AnthropicStub:
        self._thread.start()
        return self

    def close(self) -> None:
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> AnthropicStub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def reset_counters(self) -> None:
        with self._lock:
            self.requests.clear()
            self.rate_limited = 0
            self.peak_concurrent = 0
            self.first_request_at = None
        with self._cache_lock:
            self._cache.clear()

    def end_batches(self) -> None:
        """Finish every open batch now (each request succeeds unless ``batch_outcome`` says)."""
        with self._lock:
            for batch in self.batches.values():
                if batch.status != "ended":
                    self._end_batch(batch)

    def _next_reply(self) -> Reply:
        with self._lock:
            if self._script:
                return self._script.pop(0)
            return Reply(stall_s=self.latency_s, hostile=self.hostile)

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            if self.first_request_at is None:
                self.first_request_at = request.at
            self.requests.append(request)

    # --- Messages -----------------------------------------------------------------------

    def _enter(self) -> bool:
        with self._lock:
            if self.max_concurrent is not None and self._in_flight >= self.max_concurrent:
                self.rate_limited += 1
                return False
            self._in_flight += 1
            self.peak_concurrent = max(self.peak_concurrent, self._in_flight)
            return True

    def _leave(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def _usage(self, body: dict[str, Any], input_tokens: int) -> dict[str, int]:
        """Split ``input_tokens`` into fresh, cache-written and cache-read, as the API does."""
        model = str(body.get("model", ""))
        blocks: list[dict[str, Any]] = []
        system = body.get("system")
        if isinstance(system, list):
            blocks += [b for b in system if isinstance(b, dict)]
        elif system:
            blocks.append({"text": system})
        for message in body.get("messages") or []:
            content = message.get("content")
            if isinstance(content, list):
                blocks += [b for b in content if isinstance(b, dict)]
            else:
                blocks.append({"text": str(content or "")})
        minimum = min_cacheable_tokens(model)
        digest = hashlib.sha256(model.encode())
        chars = 0
        prefixes: list[tuple[str, int]] = []
        for block in blocks:
            text = str(block.get("text", ""))
            digest.update(text.encode() + b"\0")
            chars += len(text)
            if block.get("cache_control") and chars // 4 >= minimum:
                prefixes.append((digest.hexdigest(), chars // 4))
        read = write = 0
        with self._cache_lock:
            for key, tokens in reversed(prefixes):
                if key in self._cache:
                    read = tokens
                    break
            if prefixes and prefixes[-1][0] not in self._cache:
                write = prefixes[-1][1] - read
            self._cache.update(key for key, _ in prefixes)
        return {
            "input_tokens": max(input_tokens - read - write, 0),
            "cache_creation_input_tokens": write,
            "cache_read_input_tokens": read,
        }

    def message(self, body: dict[str, Any], reply: Reply) -> dict[str, Any]:
        model = str(body.get("model", ""))
        system = body.get("system") or ""
        if isinstance(system, list):
            system = "".join(str(b.get("text", "")) for b in system if isinstance(b, dict))
        messages = body.get("messages") or [{}]
        content = messages[-1].get("content", "")
        if isinstance(content, list):
            content = "".join(str(b.get("text", "")) for b in content if isinstance(b, dict))
        forced = _forced_tool(body)
        blocks: list[dict[str, Any]]
        if forced is not None:
            name, choices = forced
            tool_input = reply.tool_input
            if tool_input is None:
                tool_input = {"skill": self.router(model, str(content), choices)}
            text = json.dumps(tool_input)
            blocks = [
                {
                    "type": "tool_use",
                    "id": f"toolu_{uuid.uuid4().hex[:20]}",
                    "name": name,
                    "input": tool_input,
                }
            ]
            system += json.dumps(body.get("tools"))
        else:
            text = reply.text
            if text is None:
                results = None
                if self.noise is not None:
                    results = self.noise.verdicts(model, system, str(content))
                text = answer(model, system, str(content), reply.hostile, results)
            blocks = [{"type": "text", "text": text}]
        input_tokens, output_tokens = token_counts(system, str(content), text)
        usage = reply.usage or {**self._usage(body, input_tokens), "output_tokens": output_tokens}
        return {
            "id": f"msg_{uuid.uuid4().hex[:24]}",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": blocks,
            "stop_reason": "tool_use" if forced is not None else "end_turn",
            "stop_sequence": None,
            "usage": usage,
        }

    # --- Batches ------------------------------------------------------------------------

    def _batch_json(self, batch: _Batch) -> dict[str, Any]:
        counts = {"processing": 0, "succeeded": 0, "errored": 0, "canceled": 0, "expired": 0}
        for request in batch.requests:
            result = batch.results.get(request["custom_id"])
            counts[result["type"] if result else "processing"] += 1
        return {
            "id": batch.id,
            "type": "message_batch",
            "processing_status": batch.status,
            "request_counts": counts,
            "created_at": _iso(batch.created_at),
            "expires_at": _iso(batch.created_at + timedelta(hours=24)),
            "ended_at": _iso(batch.ended_at) if batch.ended_at else None,
            "cancel_initiated_at": (
                _iso(batch.cancel_initiated_at) if batch.cancel_initiated_at else None
            ),
            "archived_at": None,
            "results_url": (
                f"{self.base_url}/v1/messages/batches/{batch.id}/results"
                if batch.status == "ended"
                else None
            ),
        }

    def _batch_result(self, custom_id: str, params: dict[str, Any]) -> dict[str, Any]:
        outcome = self.batch_outcome(custom_id, params) if self.batch_outcome else "succeeded"
        if outcome == "errored":
            error = {"type": "api_error", "message": "Internal server error"}
            return {"type": "errored", "error": {"type": "error", "error": error}}
        if outcome in ("expired", "canceled"):
            return {"type": outcome}
        return {"type": "succeeded", "message": self.message(params, Reply())}

    def _end_batch(self, batch: _Batch) -> None:
        """Called with the lock held (the prompt cache has a lock of its own)."""
        for request in batch.requests:
            custom_id = request["custom_id"]
            if custom_id in batch.results:
                continue
            if batch.status == "canceling":
                batch.results[custom_id] = {"type": "canceled"}
            else:
                batch.results[custom_id] = self._batch_result(custom_id, request["params"])
        batch.status = "ended"
        batch.ended_at = datetime.now(UTC)

    def _batch_get(self, batch_id: str) -> dict[str, Any] | None:
        with self._lock:
            batch = self.batches.get(batch_id)
            if batch is None:
                return None
            batch.polls += 1
            if batch.status == "canceling" or (
                batch.status == "in_progress"
                and self.batch_polls_to_end
                and batch.polls >= self.batch_polls_to_end
            ):
                self._end_batch(batch)
            return self._batch_json(batch)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def _body(self) -> dict[str, Any]:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    return json.loads(raw or b"{}")
                except ValueError:
                    return {"_raw": raw.decode("utf-8", errors="replace")}

            def _recorded(self, body: dict[str, Any], method: str) -> None:
                headers = {k.lower(): v for k, v in self.headers.items()}
                kept = body if stub.record_bodies else {"model": body.get("model")}
                stub._record(RecordedRequest(self.path, headers, kept, method, time.time()))

            def do_GET(self) -> None:
                self._recorded({}, "GET")
                parts = self.path.split("?")[0].strip("/").split("/")
                if parts[:3] == ["v1", "messages", "batches"] and len(parts) == 4:
                    batch = stub._batch_get(parts[3])
                    if batch is not None:
                        self._send(200, batch)
                        return
                if parts[:3] == ["v1", "messages", "batches"] and parts[4:] == ["results"]:
                    found = stub.batches.get(parts[3])
                    if found is not None and found.status == "ended":
                        lines = [
                            json.dumps({"custom_id": r["custom_id"], "result": found.results[cid]})
                            for r in found.requests
                            if (cid := r["custom_id"]) in found.results
                        ]
                        self._send_raw(200, ("\n".join(lines) + "\n").encode(), "jsonl")
                        return
                self._error(404)

            def do_POST(self) -> None:
                body = self._body()
                self._recorded(body, "POST")
                path = self.path.split("?")[0].rstrip("/")
                if path == "/v1/messages":
                    self._message(body)
                elif path == "/v1/messages/batches":
                    self._batch_create(body)
                elif path.startswith("/v1/messages/batches/") and path.endswith("/cancel"):
                    self._batch_cancel(path.split("/")[4])
                else:
                    self._error(404)

            def _message(self, body: dict[str, Any]) -> None:
                if not stub._enter():
                    headers = {"retry-after": f"{stub.retry_after_s:g}"}
                    self._error(429, headers)
                    return
                try:
                    reply = stub._next_reply()
                    if reply.stall_s and stub._closing.wait(reply.stall_s):
                        return
                    if reply.status != 200:
                        self._error(reply.status, reply.headers)
                        return
                    self._send(200, stub.message(body, reply), reply.headers)
                finally:
                    stub._leave()

            def _batch_create(self, body: dict[str, Any]) -> None:
                requests = body.get("requests") or []
                batch = _Batch(f"msgbatch_{uuid.uuid4().hex[:24]}", requests, datetime.now(UTC))
                with stub._lock:
                    stub.batch_creates += 1
                    stub.batches[batch.id] = batch
                    data = stub._batch_json(batch)
                self._send(200, data)

            def _batch_cancel(self, batch_id: str) -> None:
                with stub._lock:
                    batch = stub.batches.get(batch_id)
                    if batch is not None and batch.status == "in_progress":
                        batch.status = "canceling"
                        batch.cancel_initiated_at = datetime.now(UTC)
                    data = stub._batch_json(batch) if batch is not None else None
                if data is None:
                    self._error(404)
                else:
                    self._send(200, data)

            def _error(self, status: int, headers: dict[str, str] | None = None) -> None:
                kind, message = ERROR_MESSAGES.get(status, ("api_error", "Error"))
                error = {"type": "error", "error": {"type": kind, "message": message}}
                self._send(status, error, headers)

            def _send(
                self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None
            ) -> None:
                self._send_raw(status, json.dumps(payload).encode(), "json", headers)

            def _send_raw(
                self,
                status: int,
                data: bytes,
                kind: str,
                headers: dict[str, str] | None = None,
            ) -> None:
                self.send_response(status)
                content_type = "application/json" if kind == "json" else "application/x-jsonl"
                self.send_header("content-type", content_type)
                self.send_header("content-length", str(len(data)))
                self.send_header("request-id", f"req_{uuid.uuid4().hex[:16]}")
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

        return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per Messages call")
    parser.add_argument("--max-concurrent", type=int, help="429 beyond this many calls at once")
    args = parser.parse_args()
    stub = AnthropicStub(
        latency_s=args.latency, max_concurrent=args.max_concurrent, port=args.port
    ).start()
    print(f"stub on {stub.base_url}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        stub.close()


if __name__ == "__main__":
    main()
