"""Pages and htmx fragments, split by page area: ``heatmap`` (the overview, domain matrices
and their cell details), ``runs`` (run list, run page, the run controls' actions) and
``skills`` (a skill over time, the checks file). Thin: reads come from ``selectors``,
writes from ``services``; a run request is read by ``heatmap.forms``.

Each page view also serves its fragment (a ``partialdef``) when htmx asks. While a run is
active the fragments carry an ``every 5s`` poll; once none is, the answer is
``HttpResponseStopPolling`` (286), which htmx still swaps in but then stops polling.
"""
