"""Configuration: each scope's signed documents (version, when, by which key, the
products and sections they carry) and the rollouts with each wave's figures, as
``pos-fleet rollout status`` shows them; for fleet admins, a scope's document edited as
TOML (or a price list uploaded as CSV, as ``config push FILE.csv``), its difference from
the newest version, signed and pushed in waves, and rollouts paused, resumed or aborted
(:mod:`fleet.console.operations`). Every change is audited with who made it."""

from __future__ import annotations

import difflib
import json

from peewee import fn
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from fleet import config_edit as config_edit_module
from fleet import rollout as rollouts
from fleet import signing as fleet_signing
from fleet.config_commands import price_list_from_text
from fleet.console import accounts
from fleet.console.access import Forbidden, NotFound
from fleet.console.operations import WaveOptions
from fleet.console.web import Context, action, live, page
from fleet.models import ConfigDocument, Rollout, RolloutTarget, Terminal, TerminalConfig
from terminal.core import signed_config as sc

SHOWN = 30


def _visible_scopes(ctx: Context) -> set[str] | None:
    """The scope labels the viewer may see (None: all): the fleet's, and the groups and
    terminals of the stores they see."""
    if ctx.viewer.stores is None:
        return None
    terminals = list(
        Terminal.select(Terminal.id, Terminal.group)
        .where(ctx.viewer.stores_clause(Terminal.store))
        .tuples()
        .bind(ctx.db)
    )
    return (
        {"fleet"}
        | {f"group:{group}" for _tid, group in terminals}
        | {f"terminal:{tid}" for tid, _group in terminals}
    )


def _shown_rollouts(ctx: Context, visible: set[str] | None) -> list[Rollout]:
    return [
        r
        for r in Rollout.select().order_by(Rollout.id.desc()).limit(SHOWN).bind(ctx.db)
        if visible is None or r.scope in visible
    ]


def _rollouts(ctx: Context, visible: set[str] | None) -> list[dict]:
    waves = []
    for r in _shown_rollouts(ctx, visible):
        figures = [rollouts.wave_figures(ctx.db, r, n) for n in range(len(r.waves.split(",")))]
        waves.append({"rollout": r, "waves": figures, "shares": r.waves.split(",")})
    return waves


def _rollouts_version(ctx: Context) -> tuple:
    """What changes when a rollout moves: its state and wave, and its terminals' answers."""
    shown = _shown_rollouts(ctx, _visible_scopes(ctx))
    ids = [r.id for r in shown]
    answers = (
        RolloutTarget.select(
            RolloutTarget.rollout,
            RolloutTarget.result,
            RolloutTarget.sent_at.is_null(),
            fn.COUNT(RolloutTarget.terminal_id),
        )
        .where(RolloutTarget.rollout.in_(ids or [0]))
        .group_by(RolloutTarget.rollout, RolloutTarget.result, RolloutTarget.sent_at.is_null())
        .tuples()
        .bind(ctx.db)
    )
    return (
        tuple((r.id, r.state, r.current_wave, r.message) for r in shown),
        tuple(sorted((a, b or "", bool(c), d) for a, b, c, d in answers)),
    )


@page("config")
def config(ctx: Context) -> Response:
    visible = _visible_scopes(ctx)
    documents = []
    for document in (
        ConfigDocument.select()
        .order_by(ConfigDocument.created_at.desc(), ConfigDocument.id.desc())
        .limit(SHOWN)
        .bind(ctx.db)
    ):
        if visible is not None and document.scope not in visible:
            continue
        content = rollouts.document_of(document.envelope)
        documents.append(
            {
                "row": document,
                "sections": sorted(k for k in content if k != "products"),
                "products": len(content.get("products", [])),
            }
        )
    return ctx.render("config.html", documents=documents, rollouts=_rollouts(ctx, visible))


ROUTES = [Route("/config", config)]


# -- changes (fleet admins) -----------------------------------------------------------------
def _ops(ctx: Context):
    ops = ctx.console.operations
    if ops is None:
        raise Forbidden("no signing directory and broker configured for the console")
    return ops


def _scope_from(text: str) -> sc.Scope:
    try:
        return sc.parse_scope(text.strip())
    except ValueError:
        raise NotFound(text) from None


def _options(form) -> WaveOptions:
    def number(name: str, default: float, kind=int):
        value = str(form.get(name, "") or default)
        try:
            return kind(value)
        except ValueError:
            raise ValueError(f"{name}: {value!r} is not a number") from None

    return WaveOptions(
        waves=rollouts.parse_waves(str(form.get("waves", "") or rollouts.DEFAULT_WAVES)),
        gate_refused=number("gate_refused", 0),
        gate_offline=number("gate_offline", 0),
        gate_errors=number("gate_errors", 0),
        soak=number("soak", 0, float),
        wait=number("wait", 300, float),
    )


@page("config")
def config_edit(ctx: Context) -> Response:
    ctx.viewer.require_change("config")
    scope = _scope_from(ctx.request.query_params.get("scope", "fleet"))
    document, what = config_edit_module.current_document(ctx.db, scope)
    return ctx.render(
        "config_edit.html",
        scope=scope.label,
        what=what,
        text=config_edit_module.as_toml(document),
        form={},
        problem="",
    )


@action("config")
def config_preview(ctx: Context, form) -> Response:
    scope = _scope_from(str(form.get("scope", "")))
    text = str(form.get("document", ""))
    upload = form.get("csv")
    problem = ""
    document = None
    try:
        if upload is not None and getattr(upload, "filename", ""):
            raw = upload.file.read(8 * 1024 * 1024 + 1)
            if len(raw) > 8 * 1024 * 1024:
                raise fleet_signing.SigningError(f"{upload.filename}: over 8 MiB")
            try:
                csv_text = raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                raise fleet_signing.SigningError(f"{upload.filename}: not UTF-8 text") from None
            document = price_list_from_text(ctx.db, csv_text, upload.filename)
            text = config_edit_module.as_toml(document)
        else:
            document = fleet_signing.parse_document(text, "the document")
        options = _options(form)
    except (fleet_signing.SigningError, rollouts.RolloutError, ValueError) as exc:
        problem = str(exc)
    before, what = config_edit_module.current_document(ctx.db, scope)
    if problem or document is None:
        return ctx.render(
            "config_edit.html",
            422,
            scope=scope.label,
            what=what,
            text=text,
            form=form,
            problem=problem,
        )
    diff = list(
        difflib.unified_diff(
            config_edit_module.as_toml(before).splitlines(),
            config_edit_module.as_toml(document).splitlines(),
            f"{scope.label} ({what})",
            f"{scope.label} (new)",
            lineterm="",
        )
    )
    terminals = rollouts.scope_terminals(ctx.db, scope)
    applied = _applied_versions(ctx, scope, terminals)
    applied_diff: list[str] = []
    common = max(applied, key=lambda v: (applied[v], v)) if applied else None
    newest = rollouts.documents(ctx.db, scope)
    if common and newest and common != newest[0].version:  # most run an older version
        held = next((d for d in newest if d.version == common), None)
        if held is not None:
            applied_diff = list(
                difflib.unified_diff(
                    config_edit_module.as_toml(rollouts.document_of(held.envelope)).splitlines(),
                    config_edit_module.as_toml(document).splitlines(),
                    f"{scope.label} (version {common}, applied on most terminals)",
                    f"{scope.label} (new)",
                    lineterm="",
                )
            )
    return ctx.render(
        "config_preview.html",
        scope=scope.label,
        text=text,
        diff=diff,
        applied=sorted(applied.items(), reverse=True),
        applied_diff=applied_diff,
        form=form,
        terminals=terminals,
        waves=[len(w) for w in rollouts.split_waves(terminals, options.waves)] if terminals else [],
    )


def _applied_versions(ctx: Context, scope: sc.Scope, terminals: list[str]) -> dict[int, int]:
    """Version of the scope's document -> how many of its terminals report it applied
    (``up/cfg-status``); 0: none yet."""
    counts: dict[int, int] = {}
    reported = {
        row.terminal_id: json.loads(row.versions_json or "{}")
        for row in TerminalConfig.select()
        .where(TerminalConfig.terminal_id.in_(terminals or [""]))
        .bind(ctx.db)
    }
    for tid in terminals:
        version = int(reported.get(tid, {}).get(scope.label, 0))
        counts[version] = counts.get(version, 0) + 1
    return counts


@action("config")
def config_push(ctx: Context, form) -> Response:
    scope = _scope_from(str(form.get("scope", "")))
    try:
        document = fleet_signing.parse_document(str(form.get("document", "")), "the document")
        planned = _ops(ctx).push(document, scope, _options(form))
    except (fleet_signing.SigningError, rollouts.RolloutError, ValueError) as exc:
        t = ctx.translations()
        return ctx.render("error.html", 422, message=t.gettext("Not pushed: ") + str(exc))
    r = planned.rollout
    accounts.audit(
        ctx.db,
        ctx.viewer.name,
        "config push",
        f"{scope.label} version {r.version}, rollout {r.id}, waves {r.waves}",
        ctx.address,
        ctx.now(),
    )
    return RedirectResponse(f"/config#rollout-{r.id}", status_code=303)


@action("rollouts")
def rollout_change(ctx: Context, form, rollout_id: str, verb: str) -> Response:
    ops = _ops(ctx)
    change = {"pause": ops.pause, "resume": ops.resume, "abort": ops.abort}.get(verb)
    if change is None or not rollout_id.isdigit():
        raise NotFound(verb)
    try:
        changed = change(int(rollout_id))
    except rollouts.RolloutError as exc:
        t = ctx.translations()
        return ctx.render("error.html", 409, message=t.gettext("Not changed: ") + str(exc))
    accounts.audit(
        ctx.db,
        ctx.viewer.name,
        f"rollout {verb}",
        f"rollout {changed.id} ({changed.scope} v{changed.version}): {changed.state}",
        ctx.address,
        ctx.now(),
    )
    return RedirectResponse(f"/config#rollout-{changed.id}", status_code=303)


ROUTES += [
    Route(
        "/config/live",
        live(
            "config",
            _rollouts_version,
            lambda ctx: ctx.render_text(
                "_rollouts.html", rollouts=_rollouts(ctx, _visible_scopes(ctx))
            ),
        ),
    ),
    Route("/config/edit", config_edit),
    Route("/config/preview", config_preview, methods=["POST"]),
    Route("/config/push", config_push, methods=["POST"]),
    Route("/config/rollouts/{rollout_id}/{verb}", rollout_change, methods=["POST"]),
]
