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
from fleet.console import accounts, proposals
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
    newest: dict[str, int] = {}  # scope -> its newest version
    drafts_for: dict[str, bool] = {}  # scope -> the viewer may write its document
    for document in (
        ConfigDocument.select()
        .order_by(ConfigDocument.created_at.desc(), ConfigDocument.id.desc())
        .limit(SHOWN)
        .bind(ctx.db)
    ):
        if visible is not None and document.scope not in visible:
            continue
        if document.scope not in drafts_for:
            scope = sc.parse_scope(document.scope)
            newest[document.scope] = rollouts.last_version(ctx.db, scope)
            drafts_for[document.scope] = ctx.viewer.may("config") or (
                ctx.viewer.may("propose") and proposals.may_propose_for(ctx.db, ctx.viewer, scope)
            )
        content = rollouts.document_of(document.envelope)
        documents.append(
            {
                "row": document,
                "sections": sorted(k for k in content if k != "products"),
                "products": len(content.get("products", [])),
                "roll_back": drafts_for[document.scope]
                and document.version != newest[document.scope],
            }
        )
    return ctx.render(
        "config.html",
        documents=documents,
        rollouts=_rollouts(ctx, visible),
        proposals=proposals.listed(ctx.db, visible),
    )


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


def _may_draft_for(ctx: Context, scope: sc.Scope) -> None:
    """An admin writes any scope's document; an owner who proposes, their own scopes'
    (another's: as if it did not exist)."""
    if ctx.viewer.may("config"):
        return
    if not ctx.viewer.may("propose"):
        raise Forbidden("config")
    if not proposals.may_propose_for(ctx.db, ctx.viewer, scope):
        raise NotFound(scope.label)


@page("config")
def config_edit(ctx: Context) -> Response:
    """A scope's newest document in the editor; with ``version``, that older version's
    content (a roll back: pushed as the next version once seen and confirmed)."""
    scope = _scope_from(ctx.request.query_params.get("scope", "fleet"))
    _may_draft_for(ctx, scope)
    version = ctx.request.query_params.get("version", "")
    if version:
        held = next(
            (d for d in rollouts.documents(ctx.db, scope) if str(d.version) == version), None
        )
        if held is None:
            raise NotFound(version)
        document = rollouts.document_of(held.envelope)
        t = ctx.translations()
        what = t.gettext("the content of version {v}, to roll back to").format(v=held.version)
    else:
        document, what = config_edit_module.current_document(ctx.db, scope)
    return ctx.render(
        "config_edit.html",
        scope=scope.label,
        what=what,
        text=config_edit_module.as_toml(document),
        form={},
        problem="",
    )


def _document_from(ctx: Context, form) -> tuple[dict, str]:
    """The form's document (an uploaded price list, else the TOML text) and its text.
    SigningError: unreadable, with the reason."""
    upload = form.get("csv")
    if upload is not None and getattr(upload, "filename", ""):
        raw = upload.file.read(8 * 1024 * 1024 + 1)
        if len(raw) > 8 * 1024 * 1024:
            raise fleet_signing.SigningError(f"{upload.filename}: over 8 MiB")
        try:
            csv_text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise fleet_signing.SigningError(f"{upload.filename}: not UTF-8 text") from None
        document = price_list_from_text(ctx.db, csv_text, upload.filename)
        return document, config_edit_module.as_toml(document)
    text = str(form.get("document", ""))
    return fleet_signing.parse_document(text, "the document"), text


def _diff(before: dict, after: dict, before_name: str, after_name: str) -> list[str]:
    return list(
        difflib.unified_diff(
            config_edit_module.as_toml(before).splitlines(),
            config_edit_module.as_toml(after).splitlines(),
            before_name,
            after_name,
            lineterm="",
        )
    )


def _differences(ctx: Context, scope: sc.Scope, document: dict) -> dict:
    """What the preview and a proposal show: the difference from the newest version, the
    versions the scope's terminals apply, the difference from the one most apply when
    that is older, the terminals and the waves they would go in."""
    before, what = config_edit_module.current_document(ctx.db, scope)
    diff = _diff(before, document, f"{scope.label} ({what})", f"{scope.label} (new)")
    terminals = rollouts.scope_terminals(ctx.db, scope)
    applied = _applied_versions(ctx, scope, terminals)
    applied_diff: list[str] = []
    common = max(applied, key=lambda v: (applied[v], v)) if applied else None
    newest = rollouts.documents(ctx.db, scope)
    if common and newest and common != newest[0].version:  # most run an older version
        held = next((d for d in newest if d.version == common), None)
        if held is not None:
            applied_diff = _diff(
                rollouts.document_of(held.envelope),
                document,
                f"{scope.label} (version {common}, applied on most terminals)",
                f"{scope.label} (new)",
            )
    return {
        "diff": diff,
        "applied": sorted(applied.items(), reverse=True),
        "applied_diff": applied_diff,
        "terminals": terminals,
        "newest": newest[0].version if newest else 0,
    }


@action(("config", "propose"))
def config_preview(ctx: Context, form) -> Response:
    scope = _scope_from(str(form.get("scope", "")))
    _may_draft_for(ctx, scope)
    text = str(form.get("document", ""))
    problem = ""
    document = None
    try:
        document, text = _document_from(ctx, form)
        options = _options(form)
    except (fleet_signing.SigningError, rollouts.RolloutError, ValueError) as exc:
        problem = str(exc)
    if problem or document is None:
        _before, what = config_edit_module.current_document(ctx.db, scope)
        return ctx.render(
            "config_edit.html",
            422,
            scope=scope.label,
            what=what,
            text=text,
            form=form,
            problem=problem,
        )
    shown = _differences(ctx, scope, document)
    terminals = shown["terminals"]
    return ctx.render(
        "config_preview.html",
        scope=scope.label,
        text=text,
        form=form,
        waves=[len(w) for w in rollouts.split_waves(terminals, options.waves)] if terminals else [],
        **shown,
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


# -- proposals (owners ask, fleet admins decide) -------------------------------------------
def _proposal(ctx: Context, proposal_id: str):
    """The proposal, if the viewer sees its scope (else as if it did not exist)."""
    found = proposals.get(ctx.db, int(proposal_id)) if proposal_id.isdigit() else None
    visible = _visible_scopes(ctx)
    if found is None or (visible is not None and found.scope not in visible):
        raise NotFound(proposal_id)
    return found


@action("propose")
def config_propose(ctx: Context, form) -> Response:
    scope = _scope_from(str(form.get("scope", "")))
    _may_draft_for(ctx, scope)
    t = ctx.translations()
    try:
        document = fleet_signing.parse_document(str(form.get("document", "")), "the document")
        proposal = proposals.propose(
            ctx.db, ctx.viewer, scope, document, str(form.get("note", "")), ctx.now()
        )
    except (fleet_signing.SigningError, proposals.ProposalError) as exc:
        return ctx.render("error.html", 422, message=t.gettext("Not proposed: ") + str(exc))
    accounts.audit(
        ctx.db,
        ctx.viewer.name,
        "config propose",
        f"proposal {proposal.id}: {scope.label} on version {proposal.base_version}",
        ctx.address,
        ctx.now(),
    )
    return RedirectResponse(f"/config/proposals/{proposal.id}", status_code=303)


@page("config")
def proposal_page(ctx: Context, proposal_id: str) -> Response:
    proposal = _proposal(ctx, proposal_id)
    scope = sc.parse_scope(proposal.scope)
    document = proposals.document_of(proposal)
    return ctx.render(
        "config_proposal.html",
        proposal=proposal,
        text=config_edit_module.as_toml(document),
        form={},
        **_differences(ctx, scope, document),
    )


@action(("config", "propose"))
def proposal_decision(ctx: Context, form, proposal_id: str, verb: str) -> Response:
    proposal = _proposal(ctx, proposal_id)
    t = ctx.translations()
    try:
        if verb == "withdraw":
            ctx.viewer.require_change("propose")
            decided = proposals.withdraw(ctx.db, proposal.id, ctx.viewer.name, ctx.now())
            detail = f"proposal {decided.id} ({decided.scope})"
        elif verb == "reject":
            ctx.viewer.require_change("config")
            decided = proposals.reject(
                ctx.db, proposal.id, ctx.viewer.name, str(form.get("reason", "")), ctx.now()
            )
            detail = f"proposal {decided.id} ({decided.scope}) of {decided.proposed_by}"
        elif verb == "approve":
            ctx.viewer.require_change("config")
            ops, options = _ops(ctx), _options(form)
            decided = proposals.approve(
                ctx.db,
                proposal.id,
                ctx.viewer.name,
                ctx.now(),
                lambda document, scope: ops.push(document, scope, options).rollout.id,
            )
            detail = (
                f"proposal {decided.id} ({decided.scope}) of {decided.proposed_by}: "
                f"rollout {decided.rollout}"
            )
        else:
            raise NotFound(verb)
    except (
        proposals.ProposalError,
        fleet_signing.SigningError,
        rollouts.RolloutError,
        ValueError,
    ) as exc:
        return ctx.render("error.html", 409, message=t.gettext("Not changed: ") + str(exc))
    accounts.audit(ctx.db, ctx.viewer.name, f"proposal {verb}", detail, ctx.address, ctx.now())
    if verb == "approve":
        return RedirectResponse(f"/config#rollout-{decided.rollout}", status_code=303)
    return RedirectResponse(f"/config/proposals/{decided.id}", status_code=303)


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
    Route("/config/propose", config_propose, methods=["POST"]),
    Route("/config/proposals/{proposal_id}", proposal_page),
    Route("/config/proposals/{proposal_id}/{verb}", proposal_decision, methods=["POST"]),
]
