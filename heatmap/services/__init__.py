"""The app's writes and actions, one keyword-only function per action (HackSoft style).

Views, the API, consumers, the worker and management commands call these and the reads in
``heatmap.selectors``; they hold no run logic themselves. Modules by subject:

- ``auditors``: the configured auditors and which of them can run here.
- ``plans``: what a run request means (validation, tasks, cost estimate) before it is saved.
- ``runs``: create, start, execute, cancel, resume, and staleness of runs.
- ``reports``: a run's rows to and from results, and its JSON report.
- ``imports``: JSON reports into the database.

A new action goes in the module of its subject, named ``<thing>_<action>``.
"""
