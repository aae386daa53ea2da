"""``pos-fleet config push|status|rollback`` and ``pos-fleet rollout status|pause|resume|
abort``: signed configuration sent to the terminals in waves (:mod:`fleet.rollout`), and
what the terminals report (``up/cfg-status``, stored by the ingest)."""

from __future__ import annotations

import argparse
import contextlib
import json
from pathlib import Path

import peewee
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from fleet import config_edit
from fleet import rollout as rollouts
from fleet import signing as fleet_signing
from fleet.config import FleetConfig
from fleet.db import connect, create_tables
from fleet.models import RolloutTarget, Terminal, TerminalConfig
from fleet.publisher import Publisher, PublishError
from fleet.secrets import SecretError, TerminalSealer
from fleet.server import BrokerSettings
from terminal.core import fleet_protocol as fp
from terminal.core import signed_config as sc
from terminal.core.catalogue_csv import CatalogueCsvError, parse_catalogue_csv
from terminal.core.money import currency

STATE_COLOUR = {
    "running": "yellow",
    "paused": "yellow",
    "stopped": "red",
    "aborted": "red",
    "done": "green",
}


def _db(config: FleetConfig) -> peewee.Database:
    db = connect(config.database.url)
    create_tables(db)
    return db


def _broker(config: FleetConfig) -> BrokerSettings:
    b = config.broker
    return BrokerSettings(
        b.host, b.port, Path(b.ca_file), Path(b.cert_file), Path(b.key_file), b.client_id
    )


# -- parsers ------------------------------------------------------------------------------------
def _wave_options() -> argparse.ArgumentParser:
    waves = argparse.ArgumentParser(add_help=False)
    waves.add_argument(
        "--waves",
        default=rollouts.DEFAULT_WAVES,
        help="cumulative shares of the scope's terminals, e.g. 1%%,10%%,100%% (default: 100%%)",
    )
    waves.add_argument(
        "--gate-refused",
        type=int,
        default=0,
        metavar="N",
        help="stop when more than N terminals of a wave refuse (default 0)",
    )
    waves.add_argument(
        "--gate-offline",
        type=int,
        default=0,
        metavar="N",
        help="stop when more than N terminals of a wave have not answered in time (default 0)",
    )
    waves.add_argument(
        "--gate-errors",
        type=int,
        default=0,
        metavar="N",
        help="stop when more than N terminals of a wave raise an alert after the push "
        "(a device error, a lockout, a fraud signal; default 0)",
    )
    waves.add_argument(
        "--soak",
        type=float,
        default=0,
        metavar="S",
        help="once a wave has answered, watch its terminals' alerts S seconds more "
        "before the next wave (default 0)",
    )
    waves.add_argument(
        "--wait",
        type=float,
        default=300,
        metavar="S",
        help="seconds a wave waits for its terminals' answers (default 300)",
    )
    waves.add_argument("--expires", default=f"{fleet_signing.DEFAULT_CONFIG_DAYS}d")
    waves.add_argument("--key", help="the signing key's id (default: the newest that may)")
    return waves


def _scope_options(required: bool) -> argparse.ArgumentParser:
    scope = argparse.ArgumentParser(add_help=False)
    which = scope.add_mutually_exclusive_group(required=required)
    which.add_argument("--scope", help="fleet, group:NAME or terminal:TID")
    which.add_argument("--group", help="the same as --scope group:NAME")
    which.add_argument("--terminal", help="the same as --scope terminal:TID")
    return scope


def _scope(args) -> sc.Scope | None:
    if args.group:
        return sc.parse_scope(f"group:{args.group}")
    if args.terminal:
        return sc.parse_scope(f"terminal:{args.terminal}")
    return sc.parse_scope(args.scope) if args.scope else None


def add_parsers(commands, config_actions, common) -> None:
    waves = _wave_options()
    push = config_actions.add_parser(
        "push",
        parents=[common, waves, _scope_options(True)],
        help="sign a shop document and send it, in waves",
    )
    push.add_argument("file", type=Path, help="the shop document: TOML, config/pos.toml's form")
    config_actions.add_parser(
        "sync",
        parents=[common, _scope_options(True)],
        help="send each terminal of a scope its current bundle again (a terminal added "
        "since, or one whose PINs could not be sealed: it had not connected yet)",
    )
    edit = config_actions.add_parser(
        "edit",
        parents=[common, waves, _scope_options(True)],
        help="change the scope's newest document in $EDITOR, see the difference, push it",
    )
    edit.add_argument("--yes", action="store_true", help="push without asking")
    config_actions.add_parser(
        "status",
        parents=[common, _scope_options(False)],
        help="each terminal's applied versions and last result (of a scope's terminals)",
    )
    config_actions.add_parser(
        "rollback",
        parents=[common, waves, _scope_options(True)],
        help="send the scope's previous document again, as a new version",
    )
    rollout = commands.add_parser("rollout", help="configuration rollouts in waves")
    actions = rollout.add_subparsers(dest="action", required=True)
    for action, text in (
        ("status", "a rollout's waves and answers (default: the newest)"),
        ("pause", "stop before the next wave (resume goes on)"),
        ("resume", "go on with a paused rollout, here"),
        ("abort", "stop for good: the later waves are never sent"),
    ):
        parser = actions.add_parser(action, parents=[common], help=text)
        parser.add_argument("id", type=int, nargs="?", help="the rollout (default: the newest)")


# -- config push | status | rollback --------------------------------------------------------
def price_list_document(db: peewee.Database, path: Path) -> dict:
    """A price list from a spreadsheet (CSV: ``terminal.core.catalogue_csv``) as a
    document of products. Its prices are read in the currency, and its tax classes
    checked against the taxes, of the fleet's own document (the whole shop document the
    terminals run on): that must have been pushed first. SigningError naming every
    broken row; nothing is signed then."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise fleet_signing.SigningError(f"{path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise fleet_signing.SigningError(f"{path.name}: not UTF-8 text") from None
    return price_list_from_text(db, text, path.name)


def price_list_from_text(db: peewee.Database, text: str, name: str) -> dict:
    """:func:`price_list_document` of a CSV's text (an upload in the console)."""
    fleet_documents = rollouts.documents(db, sc.parse_scope("fleet"))
    if not fleet_documents:
        raise fleet_signing.SigningError(
            f"{name}: push the fleet's shop document first (--scope fleet): the price "
            "list's currency and tax classes are the shop's"
        )
    base = rollouts.document_of(fleet_documents[0].envelope)  # the newest
    try:
        money = currency(base["store"]["currency"])
    except (KeyError, TypeError, ValueError) as exc:
        raise fleet_signing.SigningError(f"{name}: {exc}") from None
    try:
        products = parse_catalogue_csv(
            text.lstrip("\ufeff"), currency=money, tax_classes=base.get("taxes", {})
        )
    except CatalogueCsvError as exc:
        raise fleet_signing.SigningError(f"{name}: {exc}") from None
    return {
        "products": [
            {
                "sku": p.sku,
                "name": p.name,
                "price": p.price,
                "tax_class": p.tax_class,
                "barcodes": list(p.barcodes),
                "sold_by_weight": p.sold_by_weight,
                **({"plu": p.plu} if p.plu else {}),
                "category": p.category,
            }
            for p in products
        ]
    }


def run(config: FleetConfig, args, console: Console) -> int:
    if args.action == "status":
        return config_status(config, args, console)
    if args.action == "sync":
        return config_sync(config, args, console)
    db = _db(config)
    signing_dir = Path(config.signing.dir)
    scope = _scope(args)
    assert scope is not None  # required by the parser
    waves = rollouts.parse_waves(args.waves)
    expires = fleet_signing.parse_duration(args.expires)
    try:
        keys = rollouts.key_list(signing_dir)
        if args.action == "push" and args.file.suffix.lower() == ".csv":
            document = price_list_document(db, args.file)
            what = f" ({len(document['products'])} products from {args.file.name})"
        elif args.action == "push":
            document = fleet_signing.read_document(args.file)
            what = ""
        elif args.action == "edit":
            edited = config_edit.edit(db, scope, console, yes=args.yes)
            if edited is None:
                return 0
            document, what = edited, " (edited)"
        else:  # rollback
            previous = rollouts.previous_document(db, scope)
            document = rollouts.document_of(previous.envelope)
            what = f" (the content of version {previous.version})"
        planned = rollouts.sign_and_plan(
            db,
            signing_dir,
            document,
            scope,
            waves=waves,
            gate_refused=args.gate_refused,
            gate_offline=args.gate_offline,
            gate_errors=args.gate_errors,
            soak=args.soak,
            wave_timeout=args.wait,
            expires=expires,
            key=args.key,
        )
    except (fleet_signing.SigningError, rollouts.RolloutError) as exc:
        console.print(f"{exc}; nothing sent")
        return 1
    r = planned.rollout
    sizes = ", ".join(str(len(w)) for w in planned.waves)
    total = sum(len(w) for w in planned.waves)
    console.print(
        f"{scope.label} version {r.version}{what} signed: rollout {r.id}, {total} "
        f"terminal{'s' if total != 1 else ''} in {len(planned.waves)} wave"
        f"{'s' if len(planned.waves) != 1 else ''} ({sizes})"
    )
    return _drive(config, db, r.id, keys, console)


def _drive(config: FleetConfig, db, rollout_id: int, keys: bytes, console: Console) -> int:
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[detail]}"),
        TimeElapsedColumn(),
        console=console,
    )
    tasks: dict[int, int] = {}

    def report(kind: str, f: rollouts.WaveFigures) -> None:
        if f.wave not in tasks:
            tasks[f.wave] = progress.add_task(
                f"wave {f.wave + 1}/{f.waves}", total=f.terminals, detail=""
            )
        detail = f"{f.applied} applied, {f.refused} refused"
        progress.update(tasks[f.wave], completed=f.answered, detail=detail)
        if kind == "done":
            progress.console.print(
                f"wave {f.wave + 1}/{f.waves}: {f.terminals} terminal"
                f"{'s' if f.terminals != 1 else ''}, {f.applied} applied, {f.refused} refused, "
                f"{len(f.silent)} without an answer"
            )

    scope = sc.parse_scope(rollouts.get(db, rollout_id).scope)
    seal = TerminalSealer(db, Path(config.signing.dir), scope)
    try:
        with Publisher(_broker(config)) as publisher, progress:
            ended = rollouts.run(
                db,
                rollout_id,
                lambda topic, payload: publisher.publish(topic, payload, retain=True),
                keys,
                report=report,
                seal=seal,
            )
    except (PublishError, SecretError, fleet_signing.SigningError, KeyboardInterrupt) as exc:
        # nobody drives it any more: paused, so that `rollout resume` can go on with it
        with contextlib.suppress(rollouts.RolloutError):
            rollouts.pause(db, rollout_id)
        why = "interrupted" if isinstance(exc, KeyboardInterrupt) else str(exc)
        console.print(
            f"rollout {rollout_id}: {why}; paused, go on with "
            f"`pos-fleet rollout resume {rollout_id}` (or abort it)"
        )
        return 1
    if seal.missing:
        console.print(
            f"no PINs or passkeys sent to {', '.join(sorted(seal.missing))}: "
            f"{'it has' if len(seal.missing) == 1 else 'they have'} not reported "
            "a key for them yet (a terminal does when it connects); once it has: "
            "pos-fleet config sync --terminal ID"
        )
    return _ending(db, ended, console)


def _ending(db, ended, console: Console) -> int:
    left = rollouts.untouched(db, ended.id)
    keep = (
        f"; never sent to {', '.join(left)} (they keep the configuration they have)" if left else ""
    )
    if ended.state == "done":
        console.print(f"rollout {ended.id} done: {ended.scope} version {ended.version} everywhere")
        return 0
    if ended.state == "stopped":
        console.print(f"rollout {ended.id} STOPPED by its health gate: {ended.message}{keep}")
    elif ended.state == "paused":
        console.print(
            f"rollout {ended.id} paused{keep}; go on with `pos-fleet rollout resume {ended.id}`"
        )
    else:
        console.print(f"rollout {ended.id} {ended.state}: {ended.message}{keep}")
    return 1


def config_sync(config: FleetConfig, args, console: Console) -> int:
    """Publish each terminal of the scope its bundle as it stands: the documents released
    to it, the key list, its secrets sealed now. Waits for nobody (see ``config status``)."""
    db = _db(config)
    scope = _scope(args)
    signing_dir = Path(config.signing.dir)
    seal = TerminalSealer(db, signing_dir)
    sent = []
    try:
        keys = rollouts.key_list(signing_dir)
        with Publisher(_broker(config)) as publisher:
            for terminal_id in rollouts.scope_terminals(db, scope):
                terminal = Terminal.select().where(Terminal.id == terminal_id).bind(db).get()
                bundle = rollouts.bundle_for(db, terminal, keys, seal=seal)
                if not bundle.documents:
                    continue
                publisher.publish(fp.topic(terminal_id, "down/cfg"), fp.encode(bundle), retain=True)
                sent.append(terminal_id)
    except (PublishError, SecretError, fleet_signing.SigningError) as exc:
        console.print(f"{exc}; sent to {', '.join(sent) or 'none'}")
        return 1
    console.print(f"{scope.label}: the current bundle sent to {', '.join(sent) or 'no terminal'}")
    if seal.missing:
        console.print(f"no PINs or passkeys for {', '.join(sorted(seal.missing))}: no key yet")
    return 0


def config_status(config: FleetConfig, args, console: Console) -> int:
    db = _db(config)
    scope = _scope(args)
    terminals = (
        rollouts.scope_terminals(db, scope)
        if scope
        else [t for (t,) in Terminal.select(Terminal.id).order_by(Terminal.id).tuples().bind(db)]
    )
    reported = {
        row.terminal_id: row
        for row in TerminalConfig.select().where(TerminalConfig.terminal_id.in_(terminals)).bind(db)
    }
    groups = dict(Terminal.select(Terminal.id, Terminal.group).tuples().bind(db))
    table = Table(title=f"Configuration ({scope.label if scope else 'every terminal'})")
    for name in ("terminal", "group", "applied versions", "last result", "reason", "rollout"):
        table.add_column(name)
    for tid in terminals:
        row = reported.get(tid)
        if row is None:
            table.add_row(tid, groups.get(tid, ""), "-", "no report yet", "", "")
            continue
        versions = json.loads(row.versions_json or "{}")
        shown = ", ".join(f"{scope} v{version}" for scope, version in sorted(versions.items()))
        colour = {"applied": "green", "held": "yellow", "refused": "red"}.get(row.result, "")
        reason = f"{row.reason}: {row.message}" if row.message else row.reason
        table.add_row(
            tid,
            groups.get(tid, ""),
            shown or "-",
            f"[{colour}]{row.result}[/]",
            reason,
            row.rollout,
        )
    console.print(table)
    return 0


# -- rollout status | pause | resume | abort ---------------------------------------------------
def run_rollout(config: FleetConfig, args, console: Console) -> int:
    db = _db(config)
    try:
        if args.action == "status":
            return _rollout_status(db, args.id, console)
        if args.action == "pause":
            r = rollouts.pause(db, args.id)
            console.print(f"rollout {r.id} paused: no further wave is sent")
            return 0
        if args.action == "abort":
            r = rollouts.abort(db, args.id)
            left = rollouts.untouched(db, r.id)
            console.print(
                f"rollout {r.id} aborted" + (f": never sent to {', '.join(left)}" if left else "")
            )
            return 0
        keys = rollouts.key_list(Path(config.signing.dir))
        r = rollouts.resume(db, args.id)
        console.print(f"rollout {r.id} resumed at wave {r.current_wave + 1}")
        return _drive(config, db, r.id, keys, console)
    except (rollouts.RolloutError, fleet_signing.SigningError) as exc:
        console.print(str(exc))
        return 1


def _rollout_status(db, rollout_id: int | None, console: Console) -> int:
    r = rollouts.get(db, rollout_id)
    waves = r.waves.split(",")
    colour = STATE_COLOUR.get(r.state, "")
    table = Table(
        title=f"Rollout {r.id}: {r.scope} version {r.version}, [{colour}]{r.state}[/] "
        f"(gate: refused > {r.gate_refused}, no answer > {r.gate_offline} in "
        f"{r.wave_timeout:g} s, alerts > {r.gate_errors}"
        + (f" within {r.soak:g} s more" if r.soak else "")
        + ")"
    )
    for name in ("wave", "share", "terminals", "sent", "applied", "refused", "waiting", "alerts"):
        table.add_column(name, justify="left" if name in ("wave", "share") else "right")
    for number, share in enumerate(waves):
        f = rollouts.wave_figures(db, r, number)
        marker = " <" if number == r.current_wave and r.state in rollouts.ACTIVE else ""
        table.add_row(
            f"{number + 1}{marker}",
            f"{share}%",
            str(f.terminals),
            str(f.sent),
            str(f.applied),
            str(f.refused),
            str(len(f.silent) if f.sent else 0),
            str(len(f.errors)),
        )
    console.print(table)
    if r.message:
        console.print(r.message)
    refused = list(
        RolloutTarget.select()
        .where((RolloutTarget.rollout == r.id) & (RolloutTarget.result == "refused"))
        .order_by(RolloutTarget.terminal_id)
        .bind(db)
    )
    for target in refused:
        console.print(f"{target.terminal_id} refused: {target.reason}")
    return 0
