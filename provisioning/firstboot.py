"""``pos-provision firstboot``: a terminal's first boot (``pos-firstboot.service``, a
oneshot before the app and the agent), from the provisioning bundle on its boot partition
to an enrolled terminal.

1. The bundle is read (``pos-provision.toml``); none, and the terminal not enrolled yet:
   refused with the reason.
2. The terminal's configuration is made from the image's template (id, store's language
   and time zone, the key protector, the fleet's broker and this terminal's files), in
   memory: it is written only once the fleet has answered.
3. The terminal's keys are made here and protected by the chosen protector (``auto``:
   the TPM when the board has one, else the Pi's OTP key, else a file, said on the
   ticket): the key store (journal signing key, database key, PIN pepper, sealing key)
   and the MQTT key. Keys made in an earlier, failed attempt are used again, so a retry
   asks with the same key and the fleet sends the same certificate again.
4. The fleet is asked (:mod:`terminal.fleet.enroll`) with the token, the certificate
   request, the journal's public key and the key PINs are sealed to.
5. Enrolled: the certificate is checked (made out to this terminal, for this key); it,
   the CA file and the configuration's root key are written beside the configuration; a
   replacement terminal (``pos-restore.posfleet`` on the card: ``pos-provision card
   --restore-from``) takes over the lost terminal's records from the fleet's copy, as
   ``pos-terminal restore --from-fleet`` does, before anything else starts;
   the configuration is written; the bundle (the token) is deleted from the boot
   partition; ``enrolled`` is written in the data directory (the unit's condition: it
   does not run again). Refused, or no answer: nothing is written but the keys, the
   bundle stays for a retry (the next boot).
6. Either way a status ticket is printed (:mod:`terminal.services.status_ticket`) and the
   outcome is said on the screen (the unit's output goes to the console).

Exit status: 0 enrolled (or enrolled before), 1 refused or no answer, 2 no usable
bundle or template.

This module runs on the terminal, with its key store and printer: it is the one module
of ``provisioning/`` that uses the terminal's services (tests/test_layering.py).
"""

from __future__ import annotations

import base64
import json
import logging
import os
import pwd
import secrets
import shutil
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from fleet import pki
from provisioning import bundle as bundles
from provisioning.card import RESTORE_FILE
from provisioning.terminal_config import (
    toml_literal,
    toml_string,
    with_values,
    write_atomically,
)
from terminal.admin import restore_from_fleet
from terminal.config import ConfigError, Settings, parse_settings
from terminal.core import enrollment_protocol as ep
from terminal.core import signed_config as sc
from terminal.core.config_secrets import public_hex, terminal_key
from terminal.fleet.enroll import EnrollError, ask
from terminal.services.about import software_version
from terminal.services.bootstrap import protector_for
from terminal.services.status_ticket import Status, print_ticket, ticket
from terminal.store.key_protectors import ProtectorError
from terminal.store.keystore import KeyStore, KeyStoreError

log = logging.getLogger(__name__)

ENROLLED = "enrolled"  # in the data directory: the first boot is done
RESTORED = "restored"  # in the data directory: a replacement took its records over
SERVICE_USER = "pos"  # the app's and the agent's (systemd/)
FLEET_FILES = "fleet"  # in the data directory: the certificate, its key, the CA, the root key


def choose_protector(asked: str, *, exists: Callable[[str], bool] = os.path.exists) -> str:
    """``auto``: the TPM when the board has one, else the Pi's OTP key (a Pi 4 or 5),
    else a file."""
    if asked != "auto":
        return asked
    if exists("/dev/tpmrm0"):
        return "tpm2"
    if exists("/dev/vcio"):
        return "rpi-otp"
    return "file"


@dataclass(frozen=True)
class Outcome:
    status: int
    said: str  # what the screen shows
    ticket_problem: str | None = None  # why the ticket did not print (None: printed)


def _fleet_files(data_dir: Path) -> dict[str, Path]:
    d = data_dir / FLEET_FILES
    return {
        "ca": d / "ca.crt",
        "cert": d / "client.crt",
        "key": d / "client.key",
        "root": d / "config-root.pem",
    }


def configuration_text(template: str, b: bundles.Bundle, data_dir: Path, protector: str) -> str:
    """The terminal's configuration: the template with the bundle's values."""
    t, f = b.terminal, b.fleet
    files = _fleet_files(data_dir)
    hardware = {
        f"hardware.{kind}": {key: toml_literal(value) for key, value in settings.items()}
        for kind, settings in b.hardware.items()
    }
    return with_values(
        template,
        {
            **hardware,
            "terminal": {
                "id": toml_string(t.id),
                "data_dir": toml_string(data_dir),
                "environment": toml_string("production"),
            },
            "store": {
                "locale": toml_string(t.locale),
                "timezone": toml_string(t.timezone),
                "demo_catalogue": "false",
            },
            "security": {"protector": toml_string(protector)},
            "fleet": {
                "enabled": "true",
                "host": toml_string(f.host),
                "port": str(f.port),
                "ca_file": toml_string(files["ca"]),
                "cert_file": toml_string(files["cert"]),
                "key_file": toml_string(files["key"]),
                "group": toml_string(t.group),
                "config_root_key": toml_string(files["root"]),
            },
        },
    )


def _settings(text: str) -> Settings:
    return parse_settings(tomllib.loads(text))


def _mqtt_key(path: Path, say: Callable[[str], None]) -> ec.EllipticCurvePrivateKey:
    """The MQTT key: made here once (0600, synced), the same on a retry. One found damaged
    (a power cut while it was written) is set aside and a new one made: the fleet then
    refuses a token it already answered for the old key ("write a new card")."""
    if path.exists():
        try:
            key = serialization.load_pem_private_key(path.read_bytes(), None)
            if isinstance(key, ec.EllipticCurvePrivateKey):
                return key
        except (ValueError, TypeError):
            pass
        os.replace(path, path.with_name(path.name + ".damaged"))
        say(f"{path}: damaged, set aside; a new key is made")
    key = pki.new_key()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    pki.write_private(path, pki.key_pem(key))
    return key


def _versions(answer: ep.EnrollAnswer) -> list[str]:
    """Scope and version of each document received, as the ticket lists them (read for
    the ticket only; the agent verifies them when the fleet's retained copy arrives)."""
    shown = []
    for envelope in answer.documents:
        try:
            payload = json.loads(base64.b64decode(json.loads(envelope)["payload"]))
            scope = sc.Scope(**payload["scope"])
            shown.append(f"{scope.label} v{int(payload['version'])}")
        except (ValueError, KeyError, TypeError):
            shown.append("?")
    return shown


def _check_certificate(chain: str, key: ec.EllipticCurvePrivateKey, terminal_id: str) -> None:
    certificates = x509.load_pem_x509_certificates(chain.encode())
    mine = certificates[0]
    if mine.public_key() != key.public_key():
        raise EnrollError("the fleet's certificate is not for this terminal's key")
    if pki.common_name_of(mine) != terminal_id:
        raise EnrollError(f"the fleet's certificate is made out to {pki.common_name_of(mine)}")


def first_boot(
    boot: Path,
    config_path: Path,
    template_path: Path,
    *,
    timeout: float = 60.0,
    retry_for: float = 600.0,
    sleep: Callable[[float], None] = time.sleep,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    exists: Callable[[str], bool] = os.path.exists,
    say: Callable[[str], None] = print,
) -> Outcome:
    data_dir = config_path.parent
    if (data_dir / ENROLLED).exists():
        said = f"already enrolled ({data_dir / ENROLLED}): nothing to do"
        say(said)
        return Outcome(0, said)
    try:
        b = bundles.read(boot)
        template = template_path.read_text(encoding="utf-8")
    except (bundles.BundleError, OSError) as exc:
        said = f"NOT ENROLLED: {exc}"
        say(said)
        return Outcome(2, said)
    protector = choose_protector(b.terminal.key_protector, exists=exists)
    try:
        text = configuration_text(template, b, data_dir, protector)
        settings = _settings(text)
    except (ValueError, ConfigError) as exc:
        said = f"NOT ENROLLED: the image's configuration template: {exc}"
        say(said)
        return Outcome(2, said)
    files = _fleet_files(data_dir)
    status = Status(
        terminal_id=b.terminal.id,
        store=b.terminal.store,
        fleet=f"{b.fleet.host}:{b.fleet.port}",
        reached=None,
        enrolled=False,
        protector=protector,
        software=software_version(),
        when=now().astimezone(ZoneInfo(b.terminal.timezone)).strftime("%Y-%m-%d %H:%M"),
    )
    try:
        say(f"terminal {b.terminal.id}: making its keys ({protector})")
        keys = KeyStore.open_or_create(settings.security.key_dir, protector_for(settings.security))
        mqtt_key = _mqtt_key(files["key"], say)
        request = ep.EnrollRequest(
            request=secrets.token_hex(16),
            token=b.fleet.token,
            csr=pki.request(mqtt_key, b.terminal.id)
            .public_bytes(serialization.Encoding.PEM)
            .decode(),
            journal_key=sc.public_pem(keys.journal_public_key()),
            secrets_key=public_hex(terminal_key(keys.key("sealing")).public_key()),
            protector=protector,
            software=software_version(),
        )
        answer = _ask(b, request, timeout, retry_for, say, sleep)
    except (KeyStoreError, ProtectorError, OSError) as exc:
        reason = f"the keys could not be made: {exc}"
        return _refused(settings, b, status, reason, say)
    except EnrollError as exc:
        return _refused(settings, b, replace(status, reached=False), str(exc), say)
    status = replace(status, reached=True)
    if answer.result != "enrolled":
        refused = replace(status, refusal=answer.reason)
        return _refused(settings, b, refused, f"{answer.reason}: {answer.message}", say)
    try:
        _check_certificate(answer.certificate, mqtt_key, b.terminal.id)
    except (EnrollError, ValueError) as exc:
        return _refused(settings, b, status, str(exc), say)
    restore = boot / RESTORE_FILE
    restored = data_dir / RESTORED
    if restore.exists() and not restored.exists():  # a replacement, before its first start
        say(f"taking over {b.terminal.id}'s records from the fleet's copy ({restore.name})")
        if restore_from_fleet(settings, restore) != 0:
            reason = f"the fleet's copy of {b.terminal.id}'s records was not restored (see above)"
            return _refused(settings, b, status, reason, say)
        # done once: a first boot cut after this point does not restore again (it would
        # be refused: the terminal's journal has begun)
        write_atomically(restored, restore.name + "\n", 0o644)
    if restored.exists():
        status = replace(status, restored=True)
    # every file the terminal needs, whole on the disk, before the mark that it is done
    write_atomically(files["cert"], answer.certificate, 0o644)
    write_atomically(files["ca"], answer.ca, 0o644)
    if answer.config_root_key:
        write_atomically(files["root"], answer.config_root_key, 0o644)
    write_atomically(config_path, text)
    hand_over(data_dir)
    write_atomically(
        data_dir / ENROLLED,
        json.dumps(
            {
                "terminal": b.terminal.id,
                "store": b.terminal.store,
                "at": now().isoformat(timespec="seconds"),
                "protector": protector,
            }
        )
        + "\n",
        0o644,
    )
    # and only then the token goes from the card (a power cut before leaves it: harmless,
    # the mark says the first boot is done)
    (boot / bundles.FILE_NAME).unlink(missing_ok=True)
    restore.unlink(missing_ok=True)
    status = replace(status, enrolled=True, configuration=_versions(answer))
    problem = print_ticket(settings, ticket(status, b.terminal.locale))
    said = f"ENROLLED: terminal {b.terminal.id} of {b.terminal.store}"
    say(said + ("" if problem is None else f" (the status ticket did not print: {problem})"))
    return Outcome(0, said, problem)


TRANSIENT = ("not available",)  # the fleet's refusals that a later try may not meet


def _ask(b: bundles.Bundle, request, timeout: float, retry_for: float, say, sleep):
    """The fleet's answer; while the fleet is unreachable or cannot certify yet, asked
    again (5 s, then twice as long each time up to a minute) for ``retry_for`` seconds:
    a shop's network that comes up after the terminal does is not a failed first boot."""
    deadline = time.monotonic() + retry_for
    wait = 5.0
    while True:
        say(f"asking the fleet at {b.fleet.host}:{b.fleet.enroll_port} for a certificate")
        try:
            answer = ask(b.fleet.host, b.fleet.enroll_port, b.fleet.ca, request, timeout=timeout)
            if answer.result == "enrolled" or answer.reason not in TRANSIENT:
                return answer
            problem: Exception | str = f"{answer.reason}: {answer.message}"
        except EnrollError as exc:
            if "not the fleet's" in str(exc):  # another fleet's broker: no retry helps
                raise
            problem = exc
        if time.monotonic() + wait > deadline:
            if isinstance(problem, EnrollError):
                raise problem
            return answer
        say(f"{problem}; trying again in {wait:.0f} s")
        sleep(wait)
        wait = min(wait * 2, 60.0)


def hand_over(data_dir: Path, user: str = SERVICE_USER) -> None:
    """Run as root (the first boot's unit), the data directory becomes the service
    user's, as the app and the agent run; elsewhere (a test, a desk), nothing to do."""
    if os.geteuid() != 0:
        return
    try:
        pwd.getpwnam(user)
    except KeyError:
        return
    for path in [data_dir, *data_dir.rglob("*")]:
        shutil.chown(path, user, user)


def _refused(settings: Settings, b: bundles.Bundle, status: Status, reason: str, say) -> Outcome:
    status = replace(status, enrolled=False, reason=reason)
    problem = print_ticket(settings, ticket(status, b.terminal.locale))
    said = f"NOT ENROLLED: {reason}"
    say(said + ("" if problem is None else f" (the status ticket did not print: {problem})"))
    say("fix the cause, then switch the terminal off and on: it tries again")
    return Outcome(1, said, problem)
