"""``runworker``: Channels' command, with a worker that hands its runs back on SIGTERM."""

from __future__ import annotations

from channels.management.commands.runworker import Command as ChannelsRunworkerCommand

from heatmap.worker import RunWorker


class Command(ChannelsRunworkerCommand):
    help = (
        "Execute runs handed to a channel (runworker run-worker). SIGTERM or SIGINT stops "
        "taking runs and marks the runs this process holds cancelled, resumable at once."
    )
    worker_class = RunWorker
