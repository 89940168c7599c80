"""The scenario editor: a catalog's ``scenarios/*.yaml`` listed, shown, edited as raw YAML,
created from a template and deleted. The services check every change with the catalog
loader and write it atomically, keeping ``FILE.bak``; these views only ask and show.

Every form works without JavaScript (a post, then the page again); with htmx, Save and Check
swap in just the result (``_scenario-result.html``): what was wrong and where, or the plan
line of the catalog after the change.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from heatmap import selectors
from heatmap.security import public_catalog_error, public_text
from heatmap.services.scenario_create import scenario_create
from heatmap.services.scenario_delete import scenario_delete
from heatmap.services.scenario_save import scenario_save
from heatmap.services.scenario_writes import ScenarioChange, ScenarioRefused
from heatmap.views.filters import catalog_query, scope_context
from heatmap.views.fragments import HtmxHttpRequest
from heatmap.views.lookups import catalog_scope_or_404
from heatmap.views.run_controls import catalog_plan_preview

RESULT = "heatmap/_scenario-result.html"
SNIPPET_LINES = 2  # lines shown before and after the one an error names


def _catalog_or_none(scope: selectors.CatalogScope) -> tuple[Any, str]:
    """The catalog and "", or None and why it does not load (the editor still works: it is
    how a broken scenario file gets fixed)."""
    try:
        return scope.load(), ""
    except selectors.CatalogError as exc:
        return None, public_catalog_error(exc)


def _may_edit(request: HtmxHttpRequest, scope: selectors.CatalogScope) -> dict[str, Any]:
    """``refusal``: why this catalog cannot be edited here; ``allowed``: this user may edit."""
    return {
        "refusal": selectors.scenario_edit_refusal(scope),
        "allowed": selectors.scenario_may_edit(user=request.user),
    }


def _require_editor(request: HtmxHttpRequest) -> None:
    if not selectors.scenario_may_edit(user=request.user):
        raise PermissionDenied("only staff users may edit scenarios in team mode")


def _url(name: str, scope: selectors.CatalogScope, *args: str) -> str:
    return reverse(f"heatmap:{name}", args=args) + catalog_query(scope)


def _form_text(request: HtmxHttpRequest) -> str:
    """The textarea's text with the browser's CRLF line ends back to LF."""
    return request.POST.get("content", "").replace("\r\n", "\n")


def _snippet(text: str, line: int | None, column: int | None) -> list[dict[str, Any]]:
    """The lines around ``line`` of ``text``, the one named marked (with its column)."""
    if not line:
        return []
    lines = text.split("\n")
    first, last = max(1, line - SNIPPET_LINES), min(len(lines), line + SNIPPET_LINES)
    caret = " " * ((column or 1) - 1) + "^" if column else ""
    return [
        {"number": n, "text": lines[n - 1], "here": n == line, "caret": caret}
        for n in range(first, last + 1)
    ]


def _refused(exc: ScenarioRefused, *, file: str, text: str) -> dict[str, Any]:
    """What a refused change shows: the loader's message (file, line and column) and the
    lines it names, when they are in this file."""
    error = exc.check.refusal if exc.check is not None else None
    if error is None:
        return {"message": public_text(str(exc)), "status": exc.status}
    same_file = error.path.name == file
    return {
        "message": public_catalog_error(error),
        "status": exc.status,
        "line": error.line if same_file else None,
        "column": error.column if same_file else None,
        "snippet": _snippet(text, error.line, error.column) if same_file else [],
    }


def _result(
    request: HtmxHttpRequest,
    scope: selectors.CatalogScope,
    *,
    check: selectors.ChangeCheck | None = None,
    change: ScenarioChange | None = None,
    refused: dict[str, Any] | None = None,
    version: str = "",
) -> dict[str, Any]:
    """The result fragment's context: a refusal, or a check or change and the plan after."""
    done = change.check if change is not None else check
    plan = None
    if done is not None and done.catalog is not None:
        plan = catalog_plan_preview(request, done.catalog)
    return {
        "refused": refused,
        "check": done,
        "change": change,
        "still_broken": (
            public_catalog_error(done.still_broken) if done and done.still_broken else ""
        ),
        "file_warnings": [
            public_text(w.split(": ", 1)[-1]) for w in (done.warnings if done else [])
        ],
        "plan": plan,
        "version": change.version if change is not None else version,
        "catalog_scope": scope,
    }


# --- The list ------------------------------------------------------------------------------


@require_http_methods(["GET"])
def scenario_list(request: HtmxHttpRequest) -> HttpResponse:
    """``/scenarios/``: the catalog's scenario files, what each holds, the plan line, and a
    form that starts a new file from a template."""
    scope = catalog_scope_or_404(request)
    catalog, load_error = _catalog_or_none(scope)
    root = scope.root.resolve()
    context = {
        **scope_context(scope),
        **_may_edit(request, scope),
        "files": selectors.scenario_file_list(root=root, catalog=catalog),
        "load_error": load_error,
        "plan": catalog_plan_preview(request, catalog) if catalog is not None else None,
        "edits": selectors.scenario_edit_list(root=root),
    }
    return render(request, "heatmap/scenarios.html", context)


# --- One file ------------------------------------------------------------------------------


def _file_or_404(scope: selectors.CatalogScope, domain: str) -> selectors.ScenarioText:
    try:
        return selectors.scenario_file_read(root=scope.root.resolve(), domain=domain)
    except (selectors.ScenarioNameError, selectors.ScenarioFileMissing) as exc:
        raise Http404(str(exc)) from None


def _editor_context(
    request: HtmxHttpRequest, scope: selectors.CatalogScope, shown: selectors.ScenarioText
) -> dict[str, Any]:
    catalog, load_error = _catalog_or_none(scope)
    loaded = None
    if catalog is not None:
        loaded = next((d for d in catalog.domains.values() if d.source.name == shown.file), None)
    return {
        **scope_context(scope),
        **_may_edit(request, scope),
        "shown": shown,
        "text": shown.text,
        "version": shown.version,
        "loaded": loaded,
        "load_error": load_error,
        "plan": catalog_plan_preview(request, catalog) if catalog is not None else None,
        "lines": shown.text.split("\n"),
    }


@require_http_methods(["GET", "POST"])
def scenario_edit(request: HtmxHttpRequest, domain: str) -> HttpResponse:
    """``/scenarios/DOMAIN/``: the file as YAML in an editor (numbered lines when it cannot
    be edited here); a post saves it. A refused save is a 400 showing the error and the text
    as sent; a saved one goes back to the page (htmx: the result fragment)."""
    scope = catalog_scope_or_404(request)
    shown = _file_or_404(scope, domain)
    if request.method == "GET":
        return render(request, "heatmap/scenario-edit.html", _editor_context(request, scope, shown))
    _require_editor(request)
    text = _form_text(request)
    try:
        change = scenario_save(
            scope=scope,
            domain=domain,
            content=text,
            user=request.user,
            version=request.POST.get("version") or None,
        )
    except ScenarioRefused as exc:
        refused = _refused(exc, file=shown.file, text=text)
        if request.htmx:
            version = request.POST.get("version", "")
            context = _result(request, scope, refused=refused, version=version)
            return render(request, RESULT, context, status=exc.status)
        context = _editor_context(request, scope, shown)
        context.update(text=text, refused=refused, version=request.POST.get("version", ""))
        return render(request, "heatmap/scenario-edit.html", context, status=exc.status)
    if request.htmx:
        return render(request, RESULT, _result(request, scope, change=change))
    messages.success(request, _saved_message(change))
    return redirect(_url("scenario-edit", scope, domain))


def _saved_message(change: ScenarioChange) -> str:
    kept = f"; the previous version is {change.backup}" if change.backup else ""
    return f"{change.action.capitalize()}d scenarios/{change.file}{kept}."


@require_POST
def scenario_check(request: HtmxHttpRequest, domain: str) -> HttpResponse:
    """``/scenarios/DOMAIN/check/`` (and ``/scenarios/new/check/`` with a ``domain`` field):
    what Save would say, without saving. htmx gets the result fragment; a plain post, the
    page again with the result."""
    scope = catalog_scope_or_404(request)
    _require_editor(request)
    creating = domain == "new"
    name = request.POST.get("domain", "").strip() if creating else domain
    text = _form_text(request)
    version = request.POST.get("version", "")
    root = scope.root.resolve()
    status, result = 200, {}
    try:
        if creating:
            file = selectors.scenario_path(root=root, domain=name, existing=False).name
        else:
            file = _file_or_404(scope, name).file
    except (selectors.ScenarioNameError, selectors.ScenarioFileMissing) as exc:
        status, refused = 400, {"message": str(exc), "status": 400}
        result = _result(request, scope, refused=refused, version=version)
    else:
        check = selectors.scenario_change_check(root=root, file=file, text=text)
        if check.refusal is not None:
            status = 400
            refused = _refused(ScenarioRefused("", 400, check), file=file, text=text)
            result = _result(request, scope, refused=refused, version=version)
        else:
            result = _result(request, scope, check=check, version=version)
    result["checking"] = True
    if request.htmx:
        return render(request, RESULT, result, status=status)
    if creating:
        kind = "category" if request.POST.get("kind") == "category" else "domain"
        context = {**scope_context(scope), **_may_edit(request, scope), "domain": name}
        context.update(kind=kind, text=text, load_error=_catalog_or_none(scope)[1], **result)
        return render(request, "heatmap/scenario-new.html", context, status=status)
    context = _editor_context(request, scope, _file_or_404(scope, name))
    context.update(text=text, **result)
    return render(request, "heatmap/scenario-edit.html", context, status=status)


# --- New and delete -------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def scenario_new(request: HtmxHttpRequest) -> HttpResponse:
    """``/scenarios/new/?domain=NAME&kind=domain|category``: a new file's editor, filled from
    the template of that kind; a post creates it (never over an existing file)."""
    scope = catalog_scope_or_404(request)
    _require_editor(request)
    catalog, load_error = _catalog_or_none(scope)
    data = request.POST if request.method == "POST" else request.GET
    domain = data.get("domain", "").strip()
    kind = "category" if data.get("kind") == "category" else "domain"
    templates = selectors.scenario_templates(catalog=catalog, domain=domain or "my-domain")
    context = {
        **scope_context(scope),
        **_may_edit(request, scope),
        "domain": domain,
        "kind": kind,
        "text": templates[kind],
        "load_error": load_error,
    }
    if request.method == "GET":
        return render(request, "heatmap/scenario-new.html", context)
    text = _form_text(request)
    try:
        change = scenario_create(scope=scope, domain=domain, content=text, user=request.user)
    except ScenarioRefused as exc:
        context.update(text=text, refused=_refused(exc, file=f"{domain}.yaml", text=text))
        return render(request, "heatmap/scenario-new.html", context, status=exc.status)
    messages.success(request, _saved_message(change))
    return redirect(_url("scenario-edit", scope, domain))


@require_http_methods(["GET", "POST"])
def scenario_delete_view(request: HtmxHttpRequest, domain: str) -> HttpResponse:
    """``/scenarios/DOMAIN/delete/``: asks first (GET), then deletes it, keeping
    ``FILE.bak``, and goes back to the list."""
    scope = catalog_scope_or_404(request)
    _require_editor(request)
    shown = _file_or_404(scope, domain)
    context = {**scope_context(scope), **_may_edit(request, scope), "shown": shown}
    if request.method == "GET":
        return render(request, "heatmap/scenario-delete.html", context)
    try:
        change = scenario_delete(
            scope=scope,
            domain=domain,
            user=request.user,
            version=request.POST.get("version") or None,
        )
    except ScenarioRefused as exc:
        context["refused"] = _refused(exc, file=shown.file, text="")
        return render(request, "heatmap/scenario-delete.html", context, status=exc.status)
    plan = catalog_plan_preview(request, change.check.catalog) if change.check.catalog else None
    message = f"Deleted scenarios/{change.file}; its text is kept as {change.backup}."
    if plan is not None and not plan.error:
        message += f" The catalog now: {plan.text}."
    messages.success(request, message)
    return redirect(_url("scenarios", scope))
