"""``skillcheck``: the installed command, from any folder, on the manage.py commands' services.

``skillcheck lint|run|compare|import|models|serve`` run the same management commands as
``manage.py lint_skills|run_scored|compare_runs|import_reports`` (one engine); this module
only chooses the catalog and the data folder and prepares the database:

- the catalog is ``--catalog``, else the current folder when it holds a
  ``skills_manifest.yaml`` or ``skills/``, else ``SKILLCHECK_CATALOG``, else the bundled one;
- the data (SQLite database, reports) go to ``--data-dir``, else ``SKILLCHECK_DATA_DIR``,
  else the per-user data folder (``platformdirs``); ``DATABASE_URL`` and
  ``SKILLCHECK_REPORTS_DIR`` still win when set;
- migrations are applied on first use (and after an upgrade).

Exit codes: see ``skillcheck.gates.ExitCode``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from skillcheck.bundled import user_data_dir

PROG = "skillcheck"
# subcommand -> (management command, arguments put first, one-line help)
COMMANDS: dict[str, tuple[str, tuple[str, ...], str]] = {
    "lint": ("lint_skills", ("--fail-on", "low"), "static best-practice checks of skills"),
    "run": ("run_scored", (), "audit skills against scenarios with one or more models"),
    "compare": ("compare_runs", (), "the checks that changed between two runs"),
    "routing": ("run_routing", (), "whether each prompt picks the right skill of the catalog"),
    "import": ("import_reports", (), "load JSON reports into the database"),
    "models": ("run_scored", ("--list-models",), "the models and whether they can run here"),
    "serve": ("", (), "the web app with the live heatmap, on 127.0.0.1"),
}
NO_DATABASE = {"lint"}  # commands that never touch the database


def _version() -> str:
    try:
        return version(PROG)
    except PackageNotFoundError:  # run from a clone that was never installed
        return "unknown (not installed)"


def _parser() -> argparse.ArgumentParser:
    lines = [f"  {name:<9} {text}" for name, (_, _, text) in COMMANDS.items()]
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Audit Agent Skills (SKILL.md) against realistic prompts.",
        epilog="commands:\n"
        + "\n".join(lines)
        + f"\n\n'{PROG} COMMAND --help' shows a command's options. Exit codes: 0 ok, 1 a gate "
        "failed (findings, --fail-under, a regression), 2 invalid input, 3 run incomplete, "
        "130 cancelled.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    parser.add_argument(
        "--data-dir",
        type=Path,
        help="where the database and reports go (default: SKILLCHECK_DATA_DIR, else the "
        "per-user data folder)",
    )
    parser.add_argument("command", choices=tuple(COMMANDS), metavar="COMMAND")
    parser.add_argument("args", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    return parser


def data_dir(given: Path | None) -> Path:
    if given is not None:
        return given.expanduser().resolve()
    if os.environ.get("SKILLCHECK_DATA_DIR"):
        return Path(os.environ["SKILLCHECK_DATA_DIR"]).expanduser().resolve()
    return user_data_dir()


def catalog_here(folder: Path) -> bool:
    return (folder / "skills_manifest.yaml").is_file() or (folder / "skills").is_dir()


def _option_value(args: Sequence[str], name: str) -> str | None:
    for index, arg in enumerate(args):
        if arg == name and index + 1 < len(args):
            return args[index + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return None


_LINT_VALUE_OPTIONS = {"--catalog", "--format", "-o", "--output", "--fail-on", "-v", "--verbosity"}


def _lint_paths(args: Sequence[str]) -> list[str]:
    """The positional arguments of ``lint`` (the paths to lint)."""
    paths, skip = [], False
    for arg in args:
        if skip:
            skip = False
        elif arg in _LINT_VALUE_OPTIONS:
            skip = True
        elif not arg.startswith("-"):
            paths.append(arg)
    return paths


def _environment(command: str, args: list[str], folder: Path) -> None:
    """Point the settings at the catalog and the data folder (before Django starts)."""
    catalog = _option_value(args, "--catalog")
    if catalog is not None:
        os.environ["SKILLCHECK_CATALOG"] = str(Path(catalog).resolve())
    elif catalog_here(Path.cwd()):
        os.environ["SKILLCHECK_CATALOG"] = str(Path.cwd())
    folder.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{folder / 'skillcheck.sqlite3'}")
    os.environ.setdefault("SKILLCHECK_REPORTS_DIR", str(folder / "reports"))
    os.environ["SKILLCHECK_CLI_COMMAND"] = command
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "simsite.settings")


def _migrate() -> None:
    """Apply the migrations that are not applied yet (all of them on first use)."""
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        call_command("migrate", interactive=False, verbosity=0)


def _serve(args: list[str]) -> int:
    parser = argparse.ArgumentParser(prog=f"{PROG} serve", description=COMMANDS["serve"][2])
    parser.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    parser.add_argument("--host", default="127.0.0.1", help="address (default: 127.0.0.1)")
    options = parser.parse_args(args)
    from daphne.cli import CommandLineInterface

    print(f"skillcheck on http://{options.host}:{options.port}/ (Ctrl-C stops it)")
    CommandLineInterface().run(
        ["-b", options.host, "-p", str(options.port), "simsite.asgi:application"]
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    options = parser.parse_args(argv)
    command, args = options.command, list(options.args)
    _environment(command, args, data_dir(options.data_dir))
    if command == "lint" and not _lint_paths(args) and _option_value(args, "--catalog") is None:
        here = Path.cwd()
        if not (here / "skills_manifest.yaml").is_file():  # not a catalog: lint the skills
            args.append("skills" if (here / "skills").is_dir() else ".")
    import django

    django.setup()
    if command not in NO_DATABASE and "-h" not in args and "--help" not in args:
        _migrate()
    if command == "serve":
        return _serve(args)
    name, first, _ = COMMANDS[command]
    from django.core.management import load_command_class

    load_command_class("heatmap", name).run_from_argv([PROG, command, *first, *args])
    return 0


if __name__ == "__main__":
    sys.exit(main())
