"""Commands whose output may go into ``| head``: end quietly when the reader goes away."""

from __future__ import annotations

import os
import sys
from typing import TextIO, cast

from django.core.management.base import BaseCommand, OutputWrapper


def raw_stream(wrapper: OutputWrapper) -> TextIO:
    """The stream under Django's ``OutputWrapper``, which appends a newline to every write
    that lacks one (it would turn each in-place redraw of a progress bar into a new line)."""
    return cast(TextIO, wrapper._out)  # set in OutputWrapper.__init__; the stubs omit it


class QuietBrokenPipe(BaseCommand):
    """Exit 1 without a traceback when stdout's reader has gone, as Unix tools do.

    Only from the command line (``run_from_argv``): ``call_command`` callers get the error.
    stdout is pointed at /dev/null first, or Python's flush at exit would raise again.
    """

    def run_from_argv(self, argv: list[str]) -> None:
        try:
            super().run_from_argv(argv)
        except BrokenPipeError:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            sys.exit(1)
