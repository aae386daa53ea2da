"""The admin subcommands of ``pos-terminal``: they work on the store, never start the UI."""

from __future__ import annotations

import base64
import getpass
import json
import os
import sys
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from terminal.config import Settings
from terminal.core.clock import system_clock
from terminal.core.numbering import transaction_label
from terminal.i18n import translator
from terminal.services.bootstrap import open_store, protector_for
from terminal.services.demo_stores import demo_store
from terminal.store import backup as backups
from terminal.store import continuity, fleet_restore, transfer
from terminal.store.cashiers import PinHasher, add_cashier, set_pin
from terminal.store.central_staff import fleet_managed
from terminal.store.counters import series_label
from terminal.store.db import open_database
from terminal.store.journal import Journal
from terminal.store.journal_format import Head
from terminal.store.keystore import FILE_NAME, KeyStore, KeyStoreError, recover_keys
from terminal.store.migrate import encrypt_plaintext_database
from terminal.store.sealing import Sealer


def _journal(settings: Settings) -> Journal:
    """The journal as it is, unchecked: verify and export must work most of all when the
    terminal refuses to start."""
    return open_store(settings, check=False)[2]


def journal_verify(
    settings: Settings, *, public_key_only: bool = False, head: str | None = None
) -> int:
    """``head``: SEQ:HASH as printed on the last receipt or Z report; a journal that ends
    before it is "truncated after seq N"."""
    expected = Head.parse(head) if head else None
    verdict = _journal(settings).verify(public_key_only=public_key_only, expected_head=expected)
    print(verdict)
    return 0 if verdict.ok else 1


def journal_export(settings: Settings, out_dir: Path) -> int:
    journal = _journal(settings)
    verdict = journal.verify()
    path, count = journal.export(out_dir)
    keys = sorted(p.name for p in out_dir.glob("journal-public-key*.pem"))
    print(f"{count} entries written to {path}")
    print(f"public key: {', '.join(str(out_dir / k) for k in keys)}")
    print(
        f"verify elsewhere with: python verify_journal.py journal.jsonl {' '.join(keys)}"
        " --head SEQ:HASH (from the last receipt or Z report)"
    )
    if not verdict.ok:
        print(f"WARNING: {verdict}")
        return 1
    return 0


def db_migrate(settings: Settings, keep_plaintext: bool) -> int:
    """Encrypt the plaintext database of an older installation, then journal it."""
    keys = KeyStore.open_or_create(settings.security.key_dir, protector_for(settings.security))
    counts = encrypt_plaintext_database(
        settings.database_path, keys.key("database"), keep_plaintext=keep_plaintext
    )
    db = open_database(settings.database_path, keys.key("database"))
    journal = Journal(db, settings.terminal_id, keys.journal_private_key())
    journal.append(
        "config_change", {"change": "database encrypted", "rows": counts}, system_clock()
    )
    for table, count in counts.items():
        print(f"{table:>16}: {count} rows")
    print(f"{settings.database_path} is now encrypted with the key in {settings.security.key_dir}")
    return 0


def keys_recovery_export(settings: Settings, out: Path) -> int:
    if not settings.security.recovery_public_key:
        print("security.recovery_public_key is not set in the configuration")
        return 2
    recipient = X25519PublicKey.from_public_bytes(
        base64.b64decode(settings.security.recovery_public_key)
    )
    keys = KeyStore.open_existing(settings.security.key_dir, protector_for(settings.security))
    out.write_bytes(keys.export_recovery(recipient))
    print(f"key store encrypted to the recovery key: {out}")
    return 0


def keys_recovery_keypair(directory: Path) -> int:
    """The owner's recovery key pair, made on the owner's computer (not the terminal): the
    private key stays there (0600 PEM), the public key goes into every terminal's
    ``security.recovery_public_key``."""
    directory.mkdir(parents=True, exist_ok=True)
    private = X25519PrivateKey.generate()
    path = directory / "recovery-private-key.pem"
    if path.exists():
        raise KeyStoreError(f"{path} exists: a recovery key is never overwritten")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(
            private.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    public = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    print(f"private key (keep it off the terminals, with a copy in a safe): {path}")
    print(f'recovery_public_key = "{base64.b64encode(public).decode()}"')
    return 0


def keys_recover(settings: Settings, export: Path, private_key: Path) -> int:
    """Rebuild the key store from a recovery export, wrapped by this terminal's protector:
    after the SD card moved to another Pi, or the TPM was cleared or replaced."""
    try:
        recovery = serialization.load_pem_private_key(private_key.read_bytes(), password=None)
    except (OSError, ValueError) as exc:
        raise KeyStoreError(f"{private_key}: not a recovery private key ({exc})") from None
    if not isinstance(recovery, X25519PrivateKey):
        raise KeyStoreError(f"{private_key}: not an X25519 recovery private key")
    try:
        data = export.read_bytes()
    except OSError as exc:
        raise KeyStoreError(f"{export}: {exc.strerror}") from None
    keys = recover_keys(data, recovery, settings.security.key_dir, protector_for(settings.security))
    print(
        f"key store rebuilt from {export.name}, protected by '{keys.protector.name}' "
        f"(journal key {keys.journal_key_id()})"
    )
    return 0


def keys_protect(settings: Settings) -> int:
    """Wrap the key store anew with the configured protector (a TPM fitted later, say),
    opening it with the one it was made with."""
    directory = settings.security.key_dir
    try:
        stored = json.loads((directory / FILE_NAME).read_bytes())["protector"]
    except (OSError, ValueError, KeyError):
        raise KeyStoreError(f"no readable key store in {directory}") from None
    old = protector_for(settings.security, stored)
    keys = KeyStore.open_existing(directory, old)
    new = protector_for(settings.security)
    keys.reprotect(new)
    print(f"key store protected by '{new.name}' (was '{old.name}')")
    return 0


def keys_status(settings: Settings) -> int:
    """What protects the key store, and what it remembers of the database."""
    keys = KeyStore.open_existing(settings.security.key_dir, protector_for(settings.security))
    memory = keys.memory
    print(f"protector: {keys.protector.name}")
    if not keys.protector.for_production:
        print("WARNING: a key file protects the key store: development only")
    print(f"journal key: {keys.journal_key_id()}")
    head = memory.get("head") or {}
    print(f"database: {memory.get('database_id') or '(none remembered yet)'}")
    print(
        f"journal head: epoch {head.get('epoch', '-')}, seq {head.get('seq', '-')}, "
        f"hash {str(head.get('hash', '-'))[:8].upper()}"
    )
    for series, number in sorted(memory.get("numbers", {}).items()):
        print(f"  {series:<14} last number {number}")
    print(f"remembered at: {memory.get('event', '-')} {memory.get('at', '')}")
    return 0


def _progress(done: int, total: int) -> None:
    width = 30
    filled = width * done // max(total, 1)
    print(
        f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} pages",
        end="",
        file=sys.stderr,
        flush=True,
    )
    if done >= total:
        print(file=sys.stderr)


def backup(settings: Settings, target: Path | None) -> int:
    """Online backup: the terminal may keep selling while it runs."""
    keys = KeyStore.open_existing(settings.security.key_dir, protector_for(settings.security))
    target = target or settings.data_dir / "backups"
    if target.suffix != backups.SUFFIX:
        target.mkdir(parents=True, exist_ok=True)
    # a connection of its own: the running app's models stay bound to the app's
    source = backups.connect(settings.database_path, keys.key("database"))
    try:
        info = backups.backup(
            source,
            keys.key("database"),
            target,
            keys.journal_public_key(),
            settings.terminal_id,
            _progress,
        )
    finally:
        source.close()
    print(f"backup written and checked: {info.path}")
    print(
        f"  {info.sales} sales (last number {info.last_number}), "
        f"{info.journal_entries} journal entries, journal verified"
    )
    return 0


def restore(settings: Settings, source: Path) -> int:
    """Replace the database with a checked backup; the replaced file is kept. A new journal
    epoch begins, and every number series goes on past the highest ever issued."""
    keys = KeyStore.open_existing(settings.security.key_dir, protector_for(settings.security))
    key = keys.key("database")
    memory = keys.memory
    replaced = continuity.read_file_state(settings.database_path, key)  # None: unreadable
    info, kept = backups.restore(source, settings.database_path, key, keys.journal_public_key())
    backup_state = continuity.read_file_state(settings.database_path, key)
    db = open_database(settings.database_path, key)
    store = continuity.OpenStore(
        keys, db, Journal(db, settings.terminal_id, keys.journal_private_key())
    )
    entry = continuity.restore_epoch(
        store,
        memory,
        backup_state,
        replaced,
        system_clock(),
        restored_from=source.name,
        sales=info.sales,
        journal_entries=info.journal_entries,
        replaced_file_kept_as=kept.name if kept else None,
    )
    payload = json.loads(
        db.execute_sql("SELECT payload FROM journal WHERE seq = ?", (entry.seq,)).fetchone()[0]
    )
    db.close()
    print(
        f"restored {source.name}: {info.sales} sales, {info.journal_entries} journal "
        "entries, journal verified"
    )
    if kept:
        print(f"the replaced database is kept as {kept}")
    if "previous" in payload:
        previous = payload["previous"]
        print(
            f"journal: epoch {entry.epoch} begins at seq {entry.seq}, after epoch "
            f"{previous['epoch']} seq {previous['seq']}"
        )
        if previous["seq"] > payload["previous_here"]:
            print(
                f"WARNING: journal entries {payload['previous_here'] + 1}-{previous['seq']} were "
                "made after this backup and are not in it"
            )
    for series, (before, after) in payload.get("numbers_carried", {}).items():
        print(
            f"WARNING: {series_label(series)} {before + 1}-{after} were made after this backup "
            f"and are not in it; numbering continues at {after + 1}"
        )
    return 0


def _fleet_rules(settings: Settings, db, _) -> fleet_restore.Rules:
    """What the journal does not say, from this terminal's configuration: tax names, the
    catalogue's product names (the database's, else the demo's when it seeds one), and
    the demo's cashier names."""
    products = {row[0]: row[1] for row in db.execute_sql("SELECT sku, name FROM product")}
    cashiers = {}
    if settings.store.demo_catalogue:
        demo = demo_store(settings.store.currency.code)
        products = {p.sku: p.name for p in demo.products()} | products
        cashiers = {number: name for number, name, _role, _pin in (demo.cashier, demo.supervisor)}
    return fleet_restore.Rules(
        prices_include_tax=settings.store.prices_include_tax,
        tax_names={t.code: t.name for c in settings.tax_classes.values() for t in c.taxes},
        product_names=products,
        cashier_names=cashiers,
        cashier_name=lambda number: _("Cashier {number}").format(number=number),
    )


def _numbers_line(terminal_id: str, series: str, last: int, _) -> str:
    if series == terminal_id:
        return _("sales: the next receipt is {next} (the last: {last})").format(
            next=transaction_label(terminal_id, last + 1), last=transaction_label(terminal_id, last)
        )
    if series == f"{terminal_id}:refund":
        return _("refunds: the next is {next}").format(
            next="R-" + transaction_label(terminal_id, last + 1)
        )
    if series == f"{terminal_id}:Z":
        return _("Z reports: the next is Z {next}").format(next=last + 1)
    return _("{series}: the next is {next}").format(series=series, next=last + 1)


def restore_from_fleet(settings: Settings, source: Path) -> int:
    """A replacement terminal, before its first start, takes over the lost terminal's
    records from the fleet's copy (``pos-fleet export``): checked whole first, then the
    records, the numbers and a new journal epoch after the fleet's head. Messages in the
    shop's language."""
    tr = translator(settings.store.locale)
    _, ngettext = tr.gettext, tr.ngettext
    try:
        copy = fleet_restore.read_copy(source, settings.terminal_id)
        keys, db, journal = open_store(settings)
        try:
            done = fleet_restore.restore(
                continuity.OpenStore(keys, db, journal),
                copy,
                _fleet_rules(settings, db, _),
                system_clock(),
            )
        finally:
            db.close()
    except fleet_restore.FleetRestoreError as exc:
        print(f"pos-terminal: {exc.translated(_)}", file=sys.stderr)
        return 3
    tid, fleet_head, start = settings.terminal_id, copy.head, done.epoch_start
    print(
        ngettext(
            "Restored from the fleet's copy of {terminal} ({file}, exported {at}): {n} "
            "journal entry, chain and signatures verified, up to seq {seq} (epoch {epoch}, "
            "{hash}).",
            "Restored from the fleet's copy of {terminal} ({file}, exported {at}): {n} "
            "journal entries, chain and signatures verified, up to seq {seq} (epoch {epoch}, "
            "{hash}).",
            copy.entries,
        ).format(
            terminal=tid,
            file=source.name,
            at=copy.exported_at or "-",
            n=copy.entries,
            seq=fleet_head.seq,
            epoch=fleet_head.epoch,
            hash=fleet_head.short_hash,
        )
    )
    counts = done.counts
    records = [
        ngettext("{n} sale", "{n} sales", counts["sale"]).format(n=counts["sale"]),
        ngettext("{n} refund", "{n} refunds", counts["refund"]).format(n=counts["refund"]),
        ngettext("{n} shift opened", "{n} shifts opened", counts["shift_open"]).format(
            n=counts["shift_open"]
        ),
        ngettext("{n} shift closed", "{n} shifts closed", counts["shift_close"]).format(
            n=counts["shift_close"]
        ),
        ngettext(
            "{n} Z report (in the journal)", "{n} Z reports (in the journal)", counts["z_report"]
        ).format(n=counts["z_report"]),
    ]
    print(_("Records rebuilt: {records}.").format(records=", ".join(records)))
    if done.closed_uncounted:
        print(
            ngettext(
                "Shift {shifts} was still open: it is closed here, uncounted.",
                "Shifts {shifts} were still open: they are closed here, uncounted.",
                len(done.closed_uncounted),
            ).format(shifts=", ".join(map(str, done.closed_uncounted)))
        )
    for seq, kind, why in done.skipped[:20]:
        print(
            _("WARNING: seq {seq} ({type}) was not rebuilt: {reason}").format(
                seq=seq, type=kind, reason=why
            )
        )
    if len(done.skipped) > 20:
        print(_("WARNING: ... and {n} more not rebuilt").format(n=len(done.skipped) - 20))
    print(_("Numbering continues after the highest number in the fleet's copy:"))
    order = {tid: 0, f"{tid}:refund": 1, f"{tid}:Z": 2}  # sales, refunds, Z, then the rest
    for series, last in sorted(done.numbers.items(), key=lambda s: (order.get(s[0], 3), s[0])):
        print("  " + _numbers_line(tid, series, last, _))
    previous = start.seq - 1
    print(
        _(
            "Journal: epoch {epoch} begins at seq {seq}, after the fleet's last entry "
            "(epoch {previous_epoch}, seq {previous})."
        ).format(
            epoch=start.epoch,
            seq=start.seq,
            previous_epoch=fleet_head.epoch,
            previous=previous,
        )
    )
    print(
        _(
            "WARNING: what the lost terminal recorded after seq {seq} never reached the "
            "fleet and is lost: sales made after it are not here, and their numbers may be "
            "issued again after the fleet's last."
        ).format(seq=previous)
    )
    if copy.reported_head > previous:
        print(
            _(
                "The lost terminal had reported entries up to seq {reported}: "
                "seq {first}-{reported} are lost."
            ).format(reported=copy.reported_head, first=previous + 1)
        )
    print(
        _(
            "If the lost terminal turns up, keep it off the fleet: its entries after seq "
            "{seq} are not part of this journal (a declared gap)."
        ).format(seq=previous)
    )
    print(
        _(
            "Not in the journal, so not restored: products and prices (the shop "
            "configuration's or the demo's come at the first start), customers and their "
            "points, card authorisations, cashiers' names and PINs."
        )
    )
    if done.cashiers:
        numbers = ", ".join(map(str, done.cashiers))
        print(
            ngettext(
                "Cashier {numbers} is back by number only and inactive: give a PIN with "
                "pos-terminal cashier set-pin ID.",
                "Cashiers {numbers} are back by number only and inactive: give each a PIN "
                "with pos-terminal cashier set-pin ID.",
                len(done.cashiers),
            ).format(numbers=numbers)
        )
        supervisors = [str(n) for n, role in done.cashiers.items() if role == "supervisor"]
        if supervisors:
            print(
                _("Supervisors (seen approving as one): {numbers}.").format(
                    numbers=", ".join(supervisors)
                )
            )
    print(
        _(
            "Before this terminal's agent sends, register its journal key {key} with the "
            "fleet: pos-fleet terminal add {terminal} --store STORE --group GROUP "
            "--journal-key FILE (pos-terminal journal export DIR writes the key file)."
        ).format(key=journal.key_id, terminal=tid)
    )
    return 0


def db_reset(settings: Settings, confirm: bool) -> int:
    """An empty database when the old one is lost and there is no backup: a new journal
    epoch records the loss, numbering goes on past every number issued."""
    if not confirm:
        print(
            "a reset starts an empty database (products, cashiers and customers come back "
            "from the fleet, or from the demo store). Run it again with --confirm-loss."
        )
        return 2
    store, kept, entry = continuity.reset(
        settings.security.key_dir,
        protector_for(settings.security),
        settings.database_path,
        settings.terminal_id,
        system_clock(),
    )
    store.db.close()
    if kept:
        print(f"the unusable database is kept as {kept}")
    print(f"new database: journal epoch {entry.epoch} begins at seq {entry.seq}")
    for series, number in sorted(store.keys.memory.get("numbers", {}).items()):
        print(f"  {series:<14} numbering continues after {number}")
    return 0


def _secret(prompt: str, *, confirm: bool = False) -> str:
    """A passphrase or PIN: typed without echo at a terminal, or one line on stdin."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass(prompt)
    if confirm and getpass.getpass("again: ") != first:
        raise SystemExit("the two entries differ; nothing was done")
    return first


def _open(settings: Settings):
    return open_store(settings)


def export(settings: Settings, target: Path) -> int:
    keys, db, journal = _open(settings)
    passphrase = _secret("export passphrase (12 characters or more): ", confirm=True)
    info = transfer.export_bundle(
        db,
        Sealer(keys.key("sealing")),
        journal,
        settings.terminal_id,
        target,
        passphrase,
        _progress,
    )
    print(f"exported to {target}: " + ", ".join(f"{n} {t}" for t, n in info.counts.items()))
    return 0


def import_(settings: Settings, source: Path) -> int:
    keys, db, journal = _open(settings)
    passphrase = _secret("export passphrase: ")
    info = transfer.import_bundle(
        source, passphrase, db, Sealer(keys.key("sealing")), journal, _progress
    )
    continuity.remember(keys, db, settings.terminal_id, "import", system_clock())
    print(
        f"imported from terminal {info.source_terminal}: "
        + ", ".join(f"{n} {t}" for t, n in info.counts.items())
    )
    if info.counts.get("cashier"):
        print("cashiers are inactive until each gets a new PIN: pos-terminal cashier set-pin ID")
    return 0


def _fleet_sets_cashiers(db) -> bool:
    if fleet_managed(db).cashiers:
        print(
            "the cashiers here are set by the fleet (pos-fleet secret set, then config push): "
            "nothing changed",
            file=sys.stderr,
        )
        return True
    return False


def cashier_add(settings: Settings, cashier_id: int, name: str, role: str) -> int:
    keys, db, journal = _open(settings)
    if _fleet_sets_cashiers(db):
        return 1
    pin = _secret(f"new PIN for {name}: ", confirm=True)
    cashier = add_cashier(db, PinHasher(keys.key("pin_pepper")), cashier_id, name, role, pin)
    journal.append(
        "config_change",
        {"change": "cashier added", "cashier": cashier.id, "role": role},
        system_clock(),
    )
    print(f"cashier {cashier.id} {cashier.name} ({cashier.role}) added")
    return 0


def cashier_set_pin(settings: Settings, cashier_id: int) -> int:
    keys, db, journal = _open(settings)
    if _fleet_sets_cashiers(db):
        return 1
    pin = _secret(f"new PIN for cashier {cashier_id}: ", confirm=True)
    cashier = set_pin(db, PinHasher(keys.key("pin_pepper")), cashier_id, pin)
    journal.append(
        "config_change", {"change": "cashier PIN set", "cashier": cashier.id}, system_clock()
    )
    print(f"new PIN set for cashier {cashier.id} {cashier.name}")
    return 0


def cashier_list(settings: Settings) -> int:
    _keys, db, _journal = _open(settings)
    for cid, name, role, active in db.execute_sql(
        "SELECT id, name, role, active FROM cashier ORDER BY id"
    ):
        print(f"{cid:>6}  {name:<24} {role:<10} {'active' if active else 'needs a PIN'}")
    return 0
