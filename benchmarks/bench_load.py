"""Load-test the team stack as docs/how-to/deploy-team.md lays it out (a script, not a test).

Starts PostgreSQL (stock ``max_connections`` 100), Redis, the Messages API stub at
``--latency`` seconds a call, two web processes and two ``runworker run-worker`` in team mode
with an API token; starts ``--runs`` runs of the corpus with ``--models`` through the API
(no cache: every task is called); and while they run, drives N browser-like viewers with
locust. A viewer opens a page (the overview, a domain, or a run's page), then polls its
fragment every 5 s as the page does (``HX-Request``, ``HX-Target``, ``If-None-Match``),
signed in with a session cookie. A few probes ask for a static file once a second: the floor
of the same server under the same load. When every run has ended it reports per endpoint
p50/p95/p99, errors and requests/s, the CPU of each process, the machine's load, each run's
length against the ideal (tasks × latency ÷ concurrency), and whether every task was done
exactly once (rows, distinct keys and the stub's calls).

    uv venv /tmp/bench && uv pip install --python /tmp/bench/bin/python -r pyproject.toml \\
        --extra bench --extra redis --extra postgres
    /tmp/bench/bin/python benchmarks/bench_load.py --viewers 50 200

locust lives in the ``bench`` extra, not ``dev``: it registers a pytest plugin and imports
gevent, which patches the standard library, so it stays out of the test suite's environment.
``--server uvicorn`` (two uvicorn workers) and ``--server gunicorn`` (two gunicorn WSGI
workers with threads, and one daphne beside them for the WebSockets) compare other layouts;
they need ``uvicorn`` / ``gunicorn`` installed beside.
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()  # before anything imports socket or threading (locust does it too)

import argparse  # noqa: E402
import contextlib  # noqa: E402
import itertools  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import secrets  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections import defaultdict  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import gevent  # noqa: E402
import psutil  # noqa: E402
import requests  # noqa: E402
from locust import FastHttpUser, constant, events, task  # noqa: E402
from locust.env import Environment  # noqa: E402

PROJECT_DIR = Path(__file__).resolve().parent.parent
CORPUS = PROJECT_DIR.parent / "shared" / "corpus" / "apify-skills"
POLL_S = 5.0
PROBES = 5
PASSWORD = "bench-" + secrets.token_urlsafe(12)
# The stub is loaded without ``tests/fakes/__init__`` (which imports pytest, not installed
# with the bench extra), and counts the Messages calls it served into a file on SIGTERM.
STUB_CODE = """
import json, signal, sys, time, types
from pathlib import Path
for name, folder in (("tests", "tests"), ("tests.fakes", "tests/fakes")):
    package = types.ModuleType(name)
    package.__path__ = [str(Path(folder).resolve())]
    sys.modules[name] = package
from tests.fakes.anthropic_stub import AnthropicStub
stub = AnthropicStub(latency_s=float(sys.argv[1]), port=int(sys.argv[2])).start()
def stop(*_):
    calls = [r for r in stub.requests if r.method == "POST" and r.path.startswith("/v1/messages")]
    Path(sys.argv[3]).write_text(json.dumps({"calls": len(calls)}))
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
print("stub ready", flush=True)
while True:
    time.sleep(3600)
"""


def free_ports(count: int) -> list[int]:
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]


def wait_port(port: int, proc: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{log.name} exited:\n{log.read_text()[-3000:]}")
        with contextlib.suppress(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        time.sleep(0.1)
    raise RuntimeError(f"{log.name}: nothing on port {port}:\n{log.read_text()[-3000:]}")


def pg_bin() -> Path:
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not versions:
        raise SystemExit("PostgreSQL is not installed (apt-get install postgresql)")
    return versions[-1].parent


class Stack:
    """The team stack's processes, each in its own process group with a log file."""

    def __init__(self, folder: Path, python: str, server: str, extra_env: dict[str, str]):
        self.extra_env = extra_env
        self.folder = folder
        self.python = python
        self.server = server
        self.procs: dict[str, tuple[subprocess.Popen, Path]] = {}
        self.pg_user = "postgres" if os.geteuid() == 0 else os.environ.get("USER", "postgres")
        self.pg_data = folder / "pg"
        self.env: dict[str, str] = {}
        self.web_ports: list[int] = []

    # -- processes --
    def start(self, name: str, args: list[str], env: dict[str, str] | None = None):
        log = self.folder / f"{name}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                args,
                cwd=PROJECT_DIR,
                env=env or self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.procs[name] = (proc, log)
        return proc

    def manage(self, *args: str, input_env: dict[str, str] | None = None) -> str:
        done = subprocess.run(
            [self.python, "manage.py", *args],
            cwd=PROJECT_DIR,
            env={**self.env, **(input_env or {})},
            capture_output=True,
            text=True,
            timeout=600,
        )
        if done.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)}: {done.stdout}{done.stderr}")
        return done.stdout

    def _pg(self, *args: str) -> None:
        command = [str(pg_bin() / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", self.pg_user, "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def start_all(self, *, latency: float, catalog: Path, web: int, workers: int) -> None:
        pg_port, redis_port, stub_port, *web_ports = free_ports(3 + max(web, 2))
        if os.geteuid() == 0:
            shutil.chown(self.folder, user=self.pg_user)
        # PostgreSQL as shipped: max_connections 100 (3 reserved), durability on.
        self._pg(
            "initdb", "-D", str(self.pg_data), "-U", self.pg_user, "--auth=trust", "-E", "UTF8"
        )
        options = f"-p {pg_port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''"
        self._pg(
            *("pg_ctl", "start", "-w", "-D", str(self.pg_data)),
            *("-l", str(self.folder / "postgres.log"), "-o", options),
        )
        import psycopg

        admin_url = f"postgres://{self.pg_user}@127.0.0.1:{pg_port}/postgres"
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute("CREATE DATABASE skillcheck")
        self.pg_url = f"postgres://{self.pg_user}@127.0.0.1:{pg_port}/skillcheck"
        self.start(
            "redis",
            [
                "redis-server",
                "--port",
                str(redis_port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.folder),
            ],
            env=dict(os.environ),
        )
        calls_file = self.folder / "stub-calls.json"
        self.calls_file = calls_file
        stub = self.start(
            "stub",
            [self.python, "-c", STUB_CODE, str(latency), str(stub_port), str(calls_file)],
            env={**os.environ, "PYTHONPATH": str(PROJECT_DIR)},
        )
        wait_port(stub_port, stub, self.procs["stub"][1])
        wait_port(redis_port, self.procs["redis"][0], self.procs["redis"][1])
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("SKILLCHECK_", "DJANGO_"))},
            "DJANGO_SETTINGS_MODULE": "simsite.settings",
            "DATABASE_URL": self.pg_url,
            "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
            # Team mode: a host name besides loopback, a secret of its own.
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost,skillcheck.bench.invalid",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "SKILLCHECK_CATALOG": str(catalog),
            "SKILLCHECK_REPORTS_DIR": str(self.folder / "reports"),
            "ANTHROPIC_API_KEY": "sk-ant-bench",
            "ANTHROPIC_BASE_URL": f"http://127.0.0.1:{stub_port}",
            "PYTHONUNBUFFERED": "1",
            **self.extra_env,
        }
        self.manage("migrate", "--noinput")
        self.manage(
            "createsuperuser",
            "--noinput",
            "--username",
            "bench",
            "--email",
            "bench@example.com",
            input_env={"DJANGO_SUPERUSER_PASSWORD": PASSWORD},
        )
        self.token = self.manage("create_api_token", "bench", "--name", "bench").split()[-1]
        self._start_web(web_ports, web)
        for i in range(workers):
            self.start(f"worker{i + 1}", [self.python, "manage.py", "runworker", "run-worker"])
        time.sleep(1.0)
        for name in [n for n in self.procs if n.startswith("worker")]:
            proc, log = self.procs[name]
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited:\n{log.read_text()}")

    def _start_web(self, ports: list[int], web: int) -> None:
        app = "simsite.asgi:application"
        if self.server == "daphne":
            for i in range(web):
                self.start(
                    f"daphne{i + 1}",
                    [self.python, "-m", "daphne", "-b", "127.0.0.1", "-p", str(ports[i]), app],
                )
            self.web_ports = ports[:web]
        elif self.server == "uvicorn":
            self.start(
                "uvicorn",
                [
                    self.python,
                    "-m",
                    "uvicorn",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(ports[0]),
                    "--workers",
                    str(web),
                    "--no-access-log",
                    "--lifespan",
                    "off",
                    # Idle connections stay open longer than the 5 s between polls.
                    "--timeout-keep-alive",
                    "30",
                    app,
                ],
            )
            self.web_ports = [ports[0]]
        elif self.server == "gunicorn":
            self.start(
                "gunicorn",
                [
                    self.python,
                    "-m",
                    "gunicorn",
                    "-b",
                    f"127.0.0.1:{ports[0]}",
                    "-w",
                    str(web),
                    "--threads",
                    "8",
                    "-k",
                    "gthread",
                    "--keep-alive",
                    "30",
                    "simsite.wsgi:application",
                ],
            )
            # The WebSockets stay on daphne (a proxy sends /ws/ there).
            self.start(
                "daphne-ws",
                [self.python, "-m", "daphne", "-b", "127.0.0.1", "-p", str(ports[1]), app],
            )
            self.web_ports = [ports[0]]
        for name, (proc, log) in list(self.procs.items()):
            if name.startswith(("daphne", "uvicorn", "gunicorn")):
                port = (
                    ports[1]
                    if name == "daphne-ws"
                    else (ports[int(name[-1]) - 1] if name[-1].isdigit() else ports[0])
                )
                wait_port(port, proc, log)

    def pids(self) -> dict[str, list[int]]:
        """Each process and its children (uvicorn's and gunicorn's workers)."""
        found: dict[str, list[int]] = {}
        for name, (proc, _) in self.procs.items():
            with contextlib.suppress(psutil.NoSuchProcess):
                parent = psutil.Process(proc.pid)
                found[name] = [parent.pid, *(c.pid for c in parent.children(recursive=True))]
        # The cluster's postmaster names its data folder; its backends are its children.
        for proc in psutil.process_iter(["cmdline"]):
            if str(self.pg_data) in " ".join(proc.info["cmdline"] or []):
                found["postgres"] = [proc.pid, *(c.pid for c in proc.children(recursive=True))]
                break
        return found

    def stop_all(self) -> None:
        for proc, _ in reversed(list(self.procs.values())):
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(5)
        with contextlib.suppress(Exception):
            self._pg("pg_ctl", "stop", "-m", "fast", "-D", str(self.pg_data))


# --- The viewers ---------------------------------------------------------------------------


@dataclass
class Shared:
    """What the viewers need, filled in before they start."""

    cookie: str = ""
    domains: list[str] = field(default_factory=list)
    runs: list[str] = field(default_factory=list)
    hosts: list[str] = field(default_factory=list)
    counter: itertools.count = field(default_factory=itertools.count)


SHARED = Shared()
SAMPLES: dict[str, list[float]] = defaultdict(list)
FAILURES: dict[str, int] = defaultdict(int)
STATUSES: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))


@events.request.add_listener
def _record(
    request_type, name, response_time, response_length, exception=None, response=None, **_: Any
) -> None:
    SAMPLES[name].append(response_time)
    if exception is not None:
        FAILURES[name] += 1
    if response is not None:
        STATUSES[name][getattr(response, "status_code", 0)] += 1


class Viewer(FastHttpUser):
    """A browser tab: opens a page, then polls its fragment every 5 s with its ETag."""

    wait_time = constant(POLL_S)
    host = "http://127.0.0.1"

    def on_start(self) -> None:
        n = next(SHARED.counter)
        self.base = SHARED.hosts[n % len(SHARED.hosts)]
        kind = ("overview", "domain", "run")[n % 3]
        self.headers = {"Cookie": SHARED.cookie, "Accept-Encoding": "gzip"}
        if kind == "overview":
            self.path, self.target, self.label = "/heatmap/", "overview-table", "overview"
        elif kind == "domain":
            domain = SHARED.domains[(n // 3) % len(SHARED.domains)]
            self.path, self.target, self.label = f"/heatmap/{domain}/", "domain-matrix", "domain"
        else:
            run = SHARED.runs[(n // 3) % len(SHARED.runs)]
            self.path, self.target, self.label = f"/runs/{run}/", "progress-body", "run"
        self.etag = ""
        self.stopped = False
        # Spread the viewers over the poll period, as tabs opened at different times are.
        gevent.sleep((n * 0.37) % POLL_S)
        self._get(self.path, f"page: {self.label}", {})
        if kind == "overview":  # the agreement section loads once the page is in
            self._get(self.path, "fragment: agreement", self._htmx("agreement"))

    def _htmx(self, target: str) -> dict[str, str]:
        return {
            "HX-Request": "true",
            "HX-Target": target,
            "HX-Current-URL": f"{self.base}{self.path}",
        }

    def _get(self, path: str, name: str, extra: dict[str, str]):
        with self.client.get(
            f"{self.base}{path}", headers={**self.headers, **extra}, name=name, catch_response=True
        ) as response:
            if response.status_code in (200, 286, 304):
                response.success()
            else:
                response.failure(f"HTTP {response.status_code}")
            return response

    @task
    def poll(self) -> None:
        if self.stopped:
            return
        extra = self._htmx(self.target)
        if self.etag:
            extra["If-None-Match"] = self.etag
        response = self._get(self.path, f"poll: {self.label}", extra)
        self.etag = response.headers.get("ETag") or self.etag
        if response.status_code == 286:
            self.stopped = True  # the run ended: the page stops polling


class Probe(FastHttpUser):
    """The floor: a static file through the same server, once a second."""

    wait_time = constant(1.0)
    host = "http://127.0.0.1"
    fixed_count = PROBES

    def on_start(self) -> None:
        self.base = SHARED.hosts[next(SHARED.counter) % len(SHARED.hosts)]

    @task
    def static(self) -> None:
        self.client.get(
            f"{self.base}/static/heatmap/app.css",
            name="floor: static file",
            headers={"Accept-Encoding": "gzip"},
        )


# --- One measurement ------------------------------------------------------------------------


def sign_in(base: str) -> str:
    session = requests.Session()
    page = session.get(f"{base}/accounts/login/", timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    done = session.post(
        f"{base}/accounts/login/",
        data={"username": "bench", "password": PASSWORD, "csrfmiddlewaretoken": token},
        headers={"Referer": f"{base}/accounts/login/"},
        timeout=30,
        allow_redirects=False,
    )
    assert done.status_code == 302, (done.status_code, done.text[:500])
    return "; ".join(f"{k}={v}" for k, v in session.cookies.items())


def run_status(api: requests.Session, host: str, run_id: str) -> dict[str, Any]:
    """A run's progress from the API, asked again once if a kept-alive connection was
    closed under it."""
    for attempt in (1, 2):
        try:
            return api.get(f"{host}/api/heatmap/run/{run_id}", timeout=60).json()
        except requests.ConnectionError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def cpu_by_pid(pids: dict[str, list[int]]) -> dict[str, dict[int, float]]:
    """User + system seconds of each process so far, by name and pid."""
    found: dict[str, dict[int, float]] = {}
    for name, ids in pids.items():
        found[name] = {}
        for pid in ids:
            with contextlib.suppress(psutil.NoSuchProcess):
                times = psutil.Process(pid).cpu_times()
                found[name][pid] = times.user + times.system
    return found


def cpu_spent(before: dict[str, dict[int, float]], after: dict[str, dict[int, float]]):
    """Seconds each named process (its children included) spent between the two readings; a
    child that started in between (a PostgreSQL backend) counts whole."""
    return {
        name: sum(t - before.get(name, {}).get(pid, 0.0) for pid, t in times.items())
        for name, times in after.items()
    }


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else 0.0


def measure(args: argparse.Namespace, viewers: int) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="skillcheck-load-"))
    extra_env = dict(item.split("=", 1) for item in args.env)
    stack = Stack(folder, args.python, args.server, extra_env)
    SAMPLES.clear(), FAILURES.clear(), STATUSES.clear()
    try:
        stack.start_all(
            latency=args.latency, catalog=args.catalog, web=args.web, workers=args.workers
        )
        hosts = [f"http://127.0.0.1:{p}" for p in stack.web_ports]
        api = requests.Session()
        api.headers["Authorization"] = f"Bearer {stack.token}"
        domains = [d["id"] for d in api.get(f"{hosts[0]}/api/heatmap/domains", timeout=60).json()]
        SHARED.cookie = sign_in(hosts[0])
        SHARED.domains, SHARED.hosts = domains, hosts
        SHARED.counter = itertools.count()
        # Warm every process up as a first viewer would (imports, catalog, templates).
        for host in hosts:
            for path in ("/heatmap/", f"/heatmap/{domains[0]}/"):
                requests.get(f"{host}{path}", headers={"Cookie": SHARED.cookie}, timeout=120)
        runs = []
        for _ in range(args.runs):
            created = api.post(
                f"{hosts[len(runs) % len(hosts)]}/api/heatmap/run",
                json={"models": args.models, "cache": False, "concurrency": args.concurrency},
                timeout=60,
            )
            assert created.status_code == 201, created.text
            runs.append(created.json())
        SHARED.runs = [r["run_id"] for r in runs]
        total_tasks = runs[0]["total"]
        cpu_before = cpu_by_pid({**stack.pids(), "locust (this process)": [os.getpid()]})
        load_before = os.getloadavg()
        machine_before = psutil.cpu_times()
        started = time.monotonic()

        env = Environment(user_classes=[Viewer, Probe], events=events)
        runner = env.create_local_runner()
        runner.start(viewers + PROBES, spawn_rate=max(10, viewers / 5))
        loads = []
        deadline = started + args.timeout
        statuses: dict[str, dict[str, Any]] = {}
        while time.monotonic() < deadline:
            gevent.sleep(2)
            loads.append(os.getloadavg()[0])
            statuses = {run_id: run_status(api, hosts[0], run_id) for run_id in SHARED.runs}
            if not any(s["active"] for s in statuses.values()):
                break
        wall = time.monotonic() - started
        runner.quit()
        spent = cpu_spent(
            cpu_before, cpu_by_pid({**stack.pids(), "locust (this process)": [os.getpid()]})
        )
        machine_after = psutil.cpu_times()
        busy = sum(
            getattr(machine_after, f) - getattr(machine_before, f)
            for f in ("user", "system", "nice", "irq", "softirq")
        )
        idle = (machine_after.idle - machine_before.idle) + (
            machine_after.iowait - machine_before.iowait
        )
        exactly_once = check_runs(stack, SHARED.runs, total_tasks)
        endpoints = {}
        for name in sorted(SAMPLES):
            times = SAMPLES[name]
            endpoints[name] = {
                "requests": len(times),
                "errors": FAILURES[name],
                "statuses": dict(STATUSES[name]),
                "p50_ms": round(percentile(times, 0.50), 1),
                "p95_ms": round(percentile(times, 0.95), 1),
                "p99_ms": round(percentile(times, 0.99), 1),
                "per_s": round(len(times) / wall, 2),
            }
        viewer_times = [t for n, ts in SAMPLES.items() if not n.startswith("floor") for t in ts]
        floor = SAMPLES.get("floor: static file", [])
        ideal = total_tasks * args.latency / args.concurrency
        return {
            "viewers": viewers,
            "server": args.server,
            "env": args.env,
            "wall_s": round(wall, 1),
            "endpoints": endpoints,
            "viewers_all": {
                "requests": len(viewer_times),
                "errors": sum(v for n, v in FAILURES.items() if not n.startswith("floor")),
                "p50_ms": round(percentile(viewer_times, 0.5), 1),
                "p95_ms": round(percentile(viewer_times, 0.95), 1),
                "p99_ms": round(percentile(viewer_times, 0.99), 1),
                "per_s": round(len(viewer_times) / wall, 1),
                "p95_over_floor_p95": round(
                    percentile(viewer_times, 0.95) / max(percentile(floor, 0.95), 0.1), 2
                ),
            },
            "cpu_s": {n: round(v, 1) for n, v in spent.items()},
            "cpu_pct": {n: round(100 * v / wall, 1) for n, v in spent.items()},
            "machine": {
                "busy_pct_of_2_cores": round(100 * busy / max(busy + idle, 1e-9), 1),
                "load_1m_before": round(load_before[0], 2),
                "load_1m_median": round(statistics.median(loads), 2) if loads else None,
                "load_1m_after": round(os.getloadavg()[0], 2),
            },
            "runs": {
                run_id: {
                    **exactly_once[run_id],
                    "status": statuses.get(run_id, {}).get("status"),
                    "ideal_s": round(ideal, 1),
                }
                for run_id in SHARED.runs
            },
            "stub_calls": exactly_once["_stub_calls"],
            "tasks_expected": total_tasks * len(SHARED.runs),
        }
    finally:
        stack.stop_all()
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
        else:
            print(f"kept {folder}")


def check_runs(stack: Stack, run_ids: list[str], total: int) -> dict[str, Any]:
    """Per run: its row, its task rows, its distinct task keys, and its length in seconds."""
    import psycopg

    found: dict[str, Any] = {}
    with psycopg.connect(stack.pg_url) as conn:
        for run_id in run_ids:
            status, completed, failed, seconds = conn.execute(
                "SELECT status, completed, failed, "
                "EXTRACT(EPOCH FROM finished_at - started_at) FROM heatmap_run WHERE run_id = %s",
                (run_id,),
            ).fetchone()
            rows, keys = conn.execute(
                "SELECT COUNT(*), COUNT(DISTINCT (t.scenario_id, t.skill, t.model, t.epoch)) "
                "FROM heatmap_taskresult t JOIN heatmap_run r ON t.run_id = r.id "
                "WHERE r.run_id = %s",
                (run_id,),
            ).fetchone()
            found[run_id] = {
                "completed": f"{completed}/{total}",
                "failed": failed,
                "task_rows": rows,
                "distinct_keys": keys,
                "lost": total - keys,
                "doubled": rows - keys,
                "seconds": round(float(seconds), 1) if seconds is not None else None,
                "row_status": status,
            }
    # The stub writes how many Messages calls it served when it stops.
    proc, _ = stack.procs["stub"]
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(10)
    calls = json.loads(stack.calls_file.read_text())["calls"] if stack.calls_file.exists() else None
    found["_stub_calls"] = calls
    return found


def summary(result: dict[str, Any]) -> str:
    """The figures as a few plain lines."""
    machine = result["machine"]
    lines = [
        f"{result['viewers']} viewers, {result['server']} {' '.join(result['env'])}: "
        f"{result['wall_s']} s, machine "
        f"{machine['busy_pct_of_2_cores']} % busy, load {machine['load_1m_before']} / "
        f"{machine['load_1m_median']} / {machine['load_1m_after']} (before / median / after)",
        f"{'endpoint':<22} {'requests':>8} {'errors':>6} {'/s':>6} {'p50':>7} {'p95':>7} "
        f"{'p99':>7}  statuses",
    ]
    rows = {**result["endpoints"], "all viewer requests": result["viewers_all"]}
    for name, e in rows.items():
        lines.append(
            f"{name:<22} {e['requests']:>8} {e['errors']:>6} {e['per_s']:>6} {e['p50_ms']:>7} "
            f"{e['p95_ms']:>7} {e['p99_ms']:>7}  {e.get('statuses', '')}"
        )
    lines.append(f"viewers' p95 / floor's p95: {result['viewers_all']['p95_over_floor_p95']}")
    lines.append(
        "CPU % of one core: " + ", ".join(f"{n} {v}" for n, v in result["cpu_pct"].items())
    )
    for run_id, run in result["runs"].items():
        lines.append(
            f"run {run_id}: {run['status']} {run['completed']}, {run['failed']} failed, "
            f"{run['task_rows']} rows, lost {run['lost']}, doubled {run['doubled']}, "
            f"{run['seconds']} s (ideal {run['ideal_s']} s, {run['seconds'] / run['ideal_s']:.2f}x)"
            if run["seconds"]
            else f"run {run_id}: {run}"
        )
    lines.append(f"stub calls: {result['stub_calls']} of {result['tasks_expected']} tasks")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--viewers", type=int, nargs="+", default=[50, 200])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--models", default="haiku,sonnet,opus")
    parser.add_argument("--latency", type=float, default=2.0, help="seconds per Messages call")
    parser.add_argument("--concurrency", type=int, default=3, help="tasks at once per run")
    parser.add_argument("--catalog", type=Path, default=CORPUS)
    parser.add_argument("--server", choices=["daphne", "uvicorn", "gunicorn"], default="daphne")
    parser.add_argument("--web", type=int, default=2, help="web processes (or workers)")
    parser.add_argument("--workers", type=int, default=2, help="runworker processes")
    parser.add_argument("--python", default=sys.executable, help="the servers' Python")
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--json", type=Path, help="append each measurement to this file")
    parser.add_argument(
        "--env", action="append", default=[], metavar="NAME=VALUE", help="for the servers"
    )
    parser.add_argument("--keep", action="store_true", help="keep the logs and database")
    args = parser.parse_args()
    args.models = [m for m in args.models.split(",") if m]
    for viewers in args.viewers:
        result = measure(args, viewers)
        print(summary(result), flush=True)
        if args.json:
            with args.json.open("a") as out:
                out.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
