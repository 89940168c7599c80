"""Weigh the domain matrix: bytes of each domain page and its poll fragment, raw and gzipped
(a script, not a test).

One 3-model run (haiku, sonnet, opus) of the real corpus (../shared/corpus/apify-skills)
through ``run_scored`` against the Messages API stub, on a fresh SQLite database; then every
domain page and its htmx poll fragment, asked for through Django's test client as a browser
would (``Accept-Encoding: gzip``). Prints bytes per page, per fragment and per matrix cell
(one cell is a scenario × model × check, every skill of the scenario inside it), then the
median time of the widest domain's page and fragment over ``--repeat`` requests.

    .venv/bin/python benchmarks/bench_matrix_bytes.py [--catalog PATH] [--repeat 15]
"""

from __future__ import annotations

import argparse
import gzip
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

from benchsetup import PROJECT_DIR, setup_django

CORPUS = PROJECT_DIR.parent / "shared" / "corpus" / "apify-skills"
MODELS = "haiku,sonnet,opus"


def weigh(client, path: str, **headers: str) -> tuple[int, int, int]:
    """(status, raw bytes, gzipped bytes) of one GET: gzipped as served when the app compresses,
    else as gzip -6 would (what a compressing proxy would send)."""
    response = client.get(path, HTTP_ACCEPT_ENCODING="gzip", **headers)
    body = response.content
    if response.get("Content-Encoding") == "gzip":
        return response.status_code, len(gzip.decompress(body)), len(body)
    return response.status_code, len(body), len(gzip.compress(body, 6))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--catalog", type=Path, default=CORPUS)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    if not (args.catalog / "skills_manifest.yaml").exists():
        raise SystemExit(f"no catalog at {args.catalog}")
    from tests.fakes.anthropic_stub import AnthropicStub

    with AnthropicStub(record_bodies=False) as stub:
        os.environ.update(
            SKILLCHECK_CATALOG=str(args.catalog),
            ANTHROPIC_API_KEY="sk-bench",
            ANTHROPIC_BASE_URL=stub.base_url,
            DJANGO_DEBUG="0",
        )
        work = setup_django("bench_matrix_bytes_")
        try:
            from django.core.management import call_command

            with open(os.devnull, "w") as devnull:
                call_command(
                    "run_scored",
                    "--catalog",
                    str(args.catalog),
                    "--models",
                    MODELS,
                    "--concurrency",
                    "8",
                    "--json",
                    stdout=devnull,
                    stderr=devnull,
                )
            report(args.catalog)
            timing(args.repeat)
        finally:
            shutil.rmtree(work, ignore_errors=True)


def report(catalog_dir: Path) -> None:
    from django.test import Client

    from heatmap import selectors

    catalog = selectors.catalog_current()
    client = Client(HTTP_HOST="127.0.0.1")  # local mode: a loopback host, no login
    print(f"{catalog_dir.name}, models {MODELS}: bytes of each domain matrix (raw / gzip)")
    print(f"{'domain':<30} {'cells':>6} {'page':>16} {'fragment':>16} {'per cell':>9}")
    totals = [0, 0, 0, 0, 0]
    for domain in catalog.domains.values():
        cells = len(domain.scenarios) * len(MODELS.split(",")) * len(catalog.taxonomy.model_checks)
        path = f"/heatmap/{domain.id}/"
        status, page, page_gz = weigh(client, path)
        assert status == 200, (path, status)
        fragment_headers = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "domain-matrix"}
        status, fragment, fragment_gz = weigh(client, path, **fragment_headers)
        assert status in (200, 286), (path, status)
        for i, value in enumerate((cells, page, page_gz, fragment, fragment_gz)):
            totals[i] += value
        print(
            f"{domain.id:<30} {cells:>6} {page:>8,}/{page_gz:>7,} "
            f"{fragment:>8,}/{fragment_gz:>7,} {fragment / cells:>9.0f}"
        )
    cells, page, page_gz, fragment, fragment_gz = totals
    print(
        f"{'all domains':<30} {cells:>6} {page:>8,}/{page_gz:>7,} "
        f"{fragment:>8,}/{fragment_gz:>7,} {fragment / cells:>9.0f}"
    )


def timing(repeat: int) -> None:
    from django.test import Client

    from heatmap import selectors

    catalog = selectors.catalog_current()
    widest = max(catalog.domains.values(), key=lambda d: len(d.scenarios))
    client = Client(HTTP_HOST="127.0.0.1")
    path = f"/heatmap/{widest.id}/"
    fragment = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "domain-matrix"}
    for name, headers in (("page", {}), ("fragment", fragment)):
        times = []
        for _ in range(repeat + 1):
            started = time.perf_counter()
            client.get(path, HTTP_ACCEPT_ENCODING="gzip", **headers)
            times.append(1000 * (time.perf_counter() - started))
        print(f"{widest.id} {name}: median {statistics.median(times[1:]):.1f} ms of {repeat}")


if __name__ == "__main__":
    sys.exit(main())
