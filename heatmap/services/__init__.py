"""The app's writes and actions, one keyword-only function per action (HackSoft style).

Views, the API, consumers, the worker and management commands call these and the reads in
``heatmap.selectors``; they hold no run logic themselves. Modules by subject:

- ``auditors``: the configured auditors and which of them can run here.
- ``plans``: what a run request means (validation, tasks, cost estimate) before it is saved.
- ``start``: create a run, and start it in a worker.
- ``resume``, ``retry``, ``cancel``, ``rerun_stale``: the other run actions, one a module.
- ``execution``: what runs a run (``run_execute``), whichever action started it.
- ``liveness``: queued runs beating, runs a process hands back, stale runs interrupted.
- ``dispatch``: hands a run to the executor the settings name (the worker, by default).
- ``reports``: a run's rows to and from results, and its JSON report.
- ``imports``: JSON reports into the database.

A new action gets a module of its own, and its function is named ``<thing>_<action>``. The
worker calls these; none of them imports the worker (``dispatch`` reaches it by its setting).
"""
