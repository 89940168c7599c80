"""The routing check: shown the whole catalog (every skill's name and description), which skill
does a router pick for each prompt?

``cases`` turns a catalog into routing cases, ``prompt`` builds what a model is shown,
``routers`` holds the offline ``lexical`` baseline and the Anthropic API router (a forced tool
call), ``metrics`` counts the saved picks, ``report`` is the one place that knows the
``routing_run_{id}.json`` format, and ``runs`` executes a run.
"""
