"""A scriptable stand-in for the Anthropic Messages API on 127.0.0.1, for the real SDK.

``POST /v1/messages`` pops the next scripted reply (``Reply``); once the script is spent it
answers 200 with a deterministic audit scoring every check the system prompt lists. Every
request is recorded with its headers and JSON body.
"""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.fakes.answers import answer, token_counts

ERROR_MESSAGES = {
    400: ("invalid_request_error", "Invalid request"),
    401: ("authentication_error", "invalid x-api-key"),
    404: ("not_found_error", "model not found"),
    429: ("rate_limit_error", "Rate limited"),
    500: ("api_error", "Internal server error"),
    503: ("api_error", "Service unavailable"),
    529: ("overloaded_error", "Overloaded"),
}


@dataclass
class Reply:
    """One scripted answer: an HTTP status (error body for non-200), or a stall first."""

    status: int = 200
    text: str | None = None  # 200: the answer text (default: a generated audit)
    headers: dict[str, str] = field(default_factory=dict)
    stall_s: float = 0.0  # wait this long before answering (the stub's close cuts it short)
    usage: dict[str, int] | None = None
    hostile: bool = False  # the generated audit carries a lone surrogate and NUL


@dataclass
class RecordedRequest:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


class AnthropicStub:
    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self.hostile = False  # unscripted answers carry a lone surrogate and NUL
        self._script: list[Reply] = []
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._server.block_on_close = False
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

    def _next_reply(self) -> Reply:
        with self._lock:
            return self._script.pop(0) if self._script else Reply(hostile=self.hostile)

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = {"_raw": raw.decode("utf-8", errors="replace")}
                headers = {k.lower(): v for k, v in self.headers.items()}
                stub._record(RecordedRequest(self.path, headers, body))
                if self.path.split("?")[0] != "/v1/messages":
                    self._send(404, {"type": "error", "error": {"type": "not_found_error"}})
                    return
                reply = stub._next_reply()
                if reply.stall_s and stub._closing.wait(reply.stall_s):
                    return
                if reply.status != 200:
                    kind, message = ERROR_MESSAGES.get(reply.status, ("api_error", "Error"))
                    error = {"type": "error", "error": {"type": kind, "message": message}}
                    self._send(reply.status, error, reply.headers)
                    return
                self._send(200, stub.message(body, reply), reply.headers)

            def _send(
                self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None
            ) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.send_header("request-id", f"req_{uuid.uuid4().hex[:16]}")
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

        return Handler

    @staticmethod
    def message(body: dict[str, Any], reply: Reply) -> dict[str, Any]:
        model = str(body.get("model", ""))
        system = body.get("system") or ""
        if isinstance(system, list):
            system = "".join(str(b.get("text", "")) for b in system if isinstance(b, dict))
        messages = body.get("messages") or [{}]
        content = messages[-1].get("content", "")
        if isinstance(content, list):
            content = "".join(str(b.get("text", "")) for b in content if isinstance(b, dict))
        text = reply.text
        if text is None:
            text = answer(model, system, str(content), reply.hostile)
        input_tokens, output_tokens = token_counts(system, str(content), text)
        usage = reply.usage or {"input_tokens": input_tokens, "output_tokens": output_tokens}
        return {
            "id": f"msg_{uuid.uuid4().hex[:24]}",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [{"type": "text", "text": text}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": usage,
        }
