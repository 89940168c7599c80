"""The JSON API for scripts, compatible with the earlier tool's ``POST /api/heatmap/run``:
``runs`` starts, follows, cancels and compares runs; ``heatmap`` reads the catalog, the
heatmap and the models; ``original`` has the original skill-checker's endpoints (BP matrix,
cell detail, skills, scenarios, categories, reports, health). ``heatmap.openapi`` routes them
all and describes them in the OpenAPI schema.

Starting a run costs money, so state-changing calls need a JSON body or a CSRF token
(``security.json_or_csrf``): a cross-site page can send neither. Every message goes through
``security.public_text``, so no answer shows a server path or a credential.
"""
