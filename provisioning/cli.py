"""pos-provision: technicians' tooling, from a blank SD card to an enrolled terminal.

On the fleet's side (the fleet's configuration, ``--fleet-config``, default
config/fleet.toml):

    pos-provision pki init                 the fleet's PKI for production: an off-line root
                                           CA, the issuing CA, the broker's and ingest's
                                           certificates, the configuration signing keys;
                                           every CA and root key encrypted (passphrases
                                           from POS_FLEET_PASSPHRASE_FILE and
                                           POS_FLEET_ROOT_PASSPHRASE_FILE)
    pos-provision token --store S --terminal-name N [--group G] [--timezone TZ] [--hours H]
                                           a one-time enrollment token (printed once)
    pos-provision card BOOT --store S --terminal-name N [...]
                                           the bundle and cloud-init files on a mounted
                                           boot partition (a new token, or --token)

On the terminal (its configuration, ``--config``, default /var/lib/pos-terminal/pos.toml):

    pos-provision firstboot [--boot /boot/firmware] [--template ...]
                                           enroll with the bundle (pos-firstboot.service)
    pos-provision reset [--wipe] [--force] [--export DIR]
                                           ready for another first boot
"""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fleet import broker as fleet_broker
from fleet import signing as fleet_signing
from fleet.config import DEFAULT_FILE, ConfigError, FleetConfig, load_config
from fleet.db import connect, create_tables
from fleet.enrollment import make_token, token_hash
from fleet.models import EnrollmentToken, Terminal
from fleet.passphrases import ENVIRONMENT, PassphraseError, passphrase
from provisioning import bundle as bundles
from provisioning.card import RESTORE_FILE, write_card

TERMINAL_CONFIG = Path("/var/lib/pos-terminal/pos.toml")
TEMPLATE = Path("/usr/share/pos-terminal/pos.toml.example")  # the image's (image-build/)
BOOT = Path("/boot/firmware")


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _db(config: FleetConfig):
    db = connect(config.database.url)
    create_tables(db)
    return db


def cmd_pki_init(config: FleetConfig, args) -> int:
    online, root = passphrase("online"), passphrase("root")
    if not (online and root):
        missing = [ENVIRONMENT[k] for k, v in (("online", online), ("root", root)) if not v]
        print(
            "pos-provision: the keys are written encrypted: give their passphrases in files "
            f"named by {' and '.join(missing)} (`pos-fleet ca init` is the unencrypted "
            "one, for development)",
            file=sys.stderr,
        )
        return 2
    pki_dir = Path(config.pki.dir)
    root_dir = Path(args.root_dir or config.pki.root_dir or fleet_broker.root_dir_for(pki_dir))
    written = fleet_broker.init_pki(
        pki_dir, config.pki.broker_names, root_dir=root_dir, passphrase=online, root_passphrase=root
    )
    signing_dir = Path(config.signing.dir)
    if not (signing_dir / fleet_signing.KEY_LIST).exists():
        done = fleet_signing.init(root_dir / "config", signing_dir, datetime.now(UTC))
        written += [done.path, done.root_public]
    for path in written:
        print(f"wrote {path}")
    print(
        f"now move {root_dir} (the root CA and the configuration's root key) to off-line "
        "media: it is needed again only to renew the issuing CA or change the signing keys"
    )
    return 0


def _token_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", required=True)
    parser.add_argument("--terminal-name", required=True, help="the terminal id, e.g. T07")
    parser.add_argument("--group", default="")
    parser.add_argument("--timezone", default="Asia/Jakarta")
    parser.add_argument("--hours", type=int, default=None, help="valid for (default: 72)")


def _make_token(config: FleetConfig, db, args):
    hours = args.hours or config.enrollment.token_hours
    if Terminal.select().where(Terminal.id == args.terminal_name).bind(db).exists():
        print(
            f"note: {args.terminal_name} is registered already: the terminal enrolling with "
            "this token replaces it, and must carry its records on (`pos-terminal restore "
            "--from-fleet` before its first start); a new terminal needs a new id"
        )
    return make_token(
        db,
        args.terminal_name,
        store=args.store,
        group=args.group,
        timezone=args.timezone,
        now=_now(),
        valid=timedelta(hours=hours),
    )


def cmd_token(config: FleetConfig, args) -> int:
    made = _make_token(config, _db(config), args)
    until = f"{made.expires_at:%Y-%m-%d %H:%M} UTC"
    print(f"token for {made.terminal_id} ({made.store}), valid until {until}:")
    print(made.token)
    return 0


def cmd_card(config: FleetConfig, args) -> int:
    db = _db(config)
    if args.token_file:  # (a file, not an argument: a token on the command line shows in ps)
        given = Path(args.token_file).read_text().strip()
        row = (
            EnrollmentToken.select()
            .where(EnrollmentToken.token_hash == token_hash(given))
            .bind(db)
            .first()
        )
        if row is None:
            print("pos-provision: the fleet does not know this token", file=sys.stderr)
            return 2
        if row.used_at is not None or row.expires_at <= _now():
            print(
                f"pos-provision: this token was {'used' if row.used_at else 'expired'} "
                f"(at {(row.used_at or row.expires_at):%Y-%m-%d %H:%M} UTC): make a new one",
                file=sys.stderr,
            )
            return 2
        token, terminal_id, store, group, timezone, expires = (
            given,
            row.terminal_id,
            row.store,
            row.group,
            row.timezone,
            row.expires_at,
        )
    else:
        made = _make_token(config, db, args)
        token, terminal_id, store, group, timezone, expires = (
            made.token,
            made.terminal_id,
            made.store,
            made.group,
            made.timezone,
            made.expires_at,
        )
    wifi = None
    if args.wifi_ssid:
        password = ""
        if args.wifi_password_file:
            password = Path(args.wifi_password_file).read_text().splitlines()[0]
        wifi = bundles.WifiPart(args.wifi_ssid, password, args.wifi_country)
    hardware = {}
    if args.hardware:
        with open(args.hardware, "rb") as fh:
            hardware = tomllib.load(fh).get("hardware", {})
        if not hardware:
            raise ValueError(f"{args.hardware}: no [hardware.*] table")
    e = config.enrollment
    bundle = bundles.Bundle(
        terminal=bundles.TerminalPart(
            terminal_id, store, group, args.locale, timezone, args.key_protector
        ),
        fleet=bundles.FleetPart(
            host=e.broker_host,
            ca=(Path(config.pki.dir) / "ca.crt").read_text(),
            token=token,
            port=e.broker_port,
            enroll_port=e.enroll_port,
            token_expires=f"{expires:%Y-%m-%dT%H:%M:%S}Z",
        ),
        wifi=wifi,
        hardware=hardware,
    )
    bundles.parse(bundles.render(bundle))  # what the terminal will read, checked now
    check_on_template(bundle)
    technician_key = ""
    if args.technician_key:
        technician_key = Path(args.technician_key).read_text().strip()
    written = write_card(Path(args.boot), bundle, technician_key)
    if args.restore_from:  # a replacement: the lost terminal's records, from the fleet
        target = Path(args.boot) / RESTORE_FILE
        shutil.copyfile(args.restore_from, target)
        written.append(target)
    for path in written:
        print(f"wrote {path}")
    print(
        f"terminal {terminal_id} of {store}: the token is valid until {expires:%Y-%m-%d %H:%M} UTC"
    )
    return 0


def check_on_template(bundle: bundles.Bundle) -> None:
    """The configuration the terminal will make from this bundle, made now from the
    repository's template and loaded by the terminal's own loader: a device's setting
    it would refuse is refused before the card leaves (ValueError naming it)."""
    from provisioning.firstboot import configuration_text  # noqa: PLC0415
    from terminal.config import ConfigError, parse_settings  # noqa: PLC0415

    shipped = Path(__file__).resolve().parent.parent / "config" / "pos.toml"
    if not shipped.exists():  # installed without the checkout: the first boot checks it
        return
    template = shipped.read_text()
    try:
        text = configuration_text(template, bundle, Path("/var/lib/pos-terminal"), "file")
        parse_settings(tomllib.loads(text))
    except ConfigError as exc:
        raise ValueError(f"the terminal would refuse this card's configuration: {exc}") from None


def cmd_firstboot(args) -> int:
    from provisioning.firstboot import first_boot  # noqa: PLC0415 (the terminal's side)

    outcome = first_boot(
        Path(args.boot),
        Path(args.config),
        Path(args.template),
        timeout=args.timeout,
        retry_for=args.retry_for,
    )
    return outcome.status


def cmd_reset(args) -> int:
    from provisioning.reset import ResetRefused, reset  # noqa: PLC0415 (the terminal's side)
    from terminal.config import load_settings  # noqa: PLC0415

    config_path = Path(args.config)
    settings = load_settings(config_path)
    try:
        done = reset(
            settings,
            config_path,
            wipe=args.wipe,
            force=args.force,
            export_to=Path(args.export) if args.export else None,
        )
    except ResetRefused as exc:
        print(f"pos-provision: not reset: {exc}", file=sys.stderr)
        return 1
    print(
        f"journal exported to {done.export}"
        + (f" ({done.unsent} not at the fleet)" if done.unsent else "")
    )
    if done.mode == "wipe":
        print(
            "wiped: the terminal is blank. Enroll it under a new terminal id, or as this "
            "terminal's replacement (pos-terminal restore --from-fleet before its first start)"
        )
    else:
        print(f"journal epoch {done.epoch} begun; the next boot enrolls it again with a new card")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="pos-provision",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--fleet-config", type=Path, default=None, help=f"default {DEFAULT_FILE}")
    commands = p.add_subparsers(dest="command", required=True)
    pki = commands.add_parser("pki").add_subparsers(dest="action", required=True)
    init = pki.add_parser("init", help="the fleet's PKI and signing keys, encrypted")
    init.add_argument("--root-dir", default="", help="the off-line root (default: [pki] root_dir)")
    _token_args(commands.add_parser("token", help="a one-time enrollment token"))
    card = commands.add_parser("card", help="the bundle on a mounted boot partition")
    card.add_argument("boot", help="the mounted boot partition, e.g. /media/$USER/bootfs")
    _token_args(card)
    card.add_argument(
        "--token-file", default="", help="a file whose first line is a token made before"
    )
    card.add_argument("--locale", default="id", choices=bundles.LOCALES)
    card.add_argument("--key-protector", default="auto", choices=bundles.PROTECTORS)
    card.add_argument("--wifi-ssid", default="")
    card.add_argument("--wifi-password-file", default="", help="a file whose first line it is")
    card.add_argument("--wifi-country", default="ID")
    card.add_argument(
        "--hardware",
        default="",
        help="a TOML file of [hardware.*] tables (the shop's printer, drawer, scanner, ...)",
    )
    card.add_argument(
        "--technician-key",
        default="",
        help="an SSH public key (.pub): a technician account that logs in with it only",
    )
    card.add_argument(
        "--restore-from",
        default="",
        help="a replacement terminal: the lost one's records (pos-fleet export TERMINAL FILE)",
    )
    first = commands.add_parser("firstboot", help="enroll this terminal (its first boot)")
    first.add_argument("--boot", default=str(BOOT))
    first.add_argument("--config", default=str(TERMINAL_CONFIG))
    first.add_argument("--template", default=str(TEMPLATE))
    first.add_argument("--timeout", type=float, default=60.0, help="for one answer")
    first.add_argument(
        "--retry-for",
        type=float,
        default=600.0,
        help="seconds to keep asking while the fleet cannot be reached (default 600)",
    )
    reset = commands.add_parser("reset", help="ready this terminal for another first boot")
    reset.add_argument("--config", default=str(TERMINAL_CONFIG))
    reset.add_argument("--wipe", action="store_true", help="delete the records and keys too")
    reset.add_argument("--force", action="store_true", help="even with entries not sent")
    reset.add_argument("--export", default="", help="where the journal is exported first")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        if args.command == "firstboot":
            return cmd_firstboot(args)
        if args.command == "reset":
            return cmd_reset(args)
        config = load_config(args.fleet_config)
        if args.command == "pki":
            return cmd_pki_init(config, args)
        if args.command == "token":
            return cmd_token(config, args)
        return cmd_card(config, args)
    except (ConfigError, PassphraseError, ValueError, OSError) as exc:
        print(f"pos-provision: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
