"""The fleet's side of signed configuration: ``pos-fleet keys`` and ``pos-fleet config sign``
run as processes, their output checked with the terminal's own verifier; key files 0600;
no private key in any output."""

from __future__ import annotations

import base64
import json
import stat
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives import serialization

from fleet import signing
from terminal.core import signed_config as sc
from tests.conftest import ROOT

NOW = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)
DOCUMENT = """\
[store]
name = "Toko Utara"
currency = "IDR"
receipt_footer = ["Terima kasih"]

[taxes.PPN]
name = "PPN 11%"

[[products]]
sku = "TEH"
name = "Teh Botol"
price = 5500
tax_class = "PPN"
barcodes = ["8991002101111"]
"""


class PosFleet:
    """``python -m fleet.cli`` with a settings file of its own, every output kept."""

    def __init__(self, tmp_path):
        self.tmp = tmp_path
        self.root_dir = tmp_path / "offline-root"
        self.signing_dir = tmp_path / "signing"
        self.config = tmp_path / "fleet.toml"
        self.config.write_text(
            f'[database]\nurl = "sqlite:///{tmp_path / "fleet.db"}"\n'
            f'[signing]\ndir = "{self.signing_dir}"\n'
        )
        self.outputs: list[str] = []

    def __call__(self, *args: str) -> subprocess.CompletedProcess:
        done = subprocess.run(
            [sys.executable, "-m", "fleet.cli", *args, "--config", str(self.config)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        self.outputs += [done.stdout, done.stderr]
        return done

    def keys(self, action: str, *args: str) -> subprocess.CompletedProcess:
        return self("keys", action, *args, "--root-dir", str(self.root_dir))

    def trust(self) -> sc.Trust:
        """A terminal enrolled with the root's public key, holding the newest key list."""
        trust = sc.Trust((self.root_dir / signing.ROOT_PUBLIC).read_bytes())
        trust.accept_key_list((self.signing_dir / signing.KEY_LIST).read_bytes(), now())
        return trust

    def private_files(self):
        return [self.root_dir / signing.ROOT_KEY, *(self.signing_dir / signing.KEYS).glob("*")]


def now() -> datetime:
    return datetime.now(UTC)


def verify(data: bytes, trust, *, terminal="T01", group="north", applied=None):
    return sc.verify_config(
        data,
        trust=trust,
        terminal_id=terminal,
        group=group,
        applied_versions=applied or {},
        now=now(),
    )


@pytest.fixture
def pos_fleet(tmp_path):
    return PosFleet(tmp_path)


def assert_no_private_key_in(texts: list[str], files) -> None:
    """Neither the PEM nor the raw bytes (hex, base64) of any private key."""
    for path in files:
        pem = path.read_bytes()
        key = serialization.load_pem_private_key(pem, None)
        raw = key.private_bytes_raw()
        body = b"".join(pem.splitlines()[1:-1]).decode()
        needles = [body, raw.hex(), base64.b64encode(raw).decode()]
        for text in texts:
            assert not any(n in text for n in needles), path.name


def test_keys_init_then_config_sign_verified_by_the_terminal(pos_fleet, tmp_path):
    done = pos_fleet.keys("init")
    assert done.returncode == 0, done.stderr
    assert "root key" in done.stdout and "key list version 1" in done.stdout
    # private key files: the owner's only, in a directory of the owner's only
    for path in pos_fleet.private_files():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert stat.S_IMODE(pos_fleet.root_dir.stat().st_mode) == 0o700
    (tmp_path / "north.toml").write_text(DOCUMENT)
    out = tmp_path / "out" / "north-1.json"
    signed = pos_fleet(
        "config", "sign", "--scope", "group:north", str(tmp_path / "north.toml"), "-o", str(out)
    )
    assert signed.returncode == 0, signed.stdout + signed.stderr
    assert "group:north version 1" in signed.stdout
    config = verify(out.read_bytes(), pos_fleet.trust())
    assert config.scope == sc.Scope("group", "north") and config.version == 1
    assert config.document["products"][0]["price"] == 5500
    assert config.document["store"]["receipt_footer"] == ["Terima kasih"]
    assert config.expires_at - config.issued_at == timedelta(days=30)
    # the next one is version 2, remembered per scope; another scope starts at 1
    out2 = tmp_path / "north-2.json"
    assert (
        pos_fleet(
            "config",
            "sign",
            "--scope",
            "group:north",
            "--expires",
            "2d",
            str(tmp_path / "north.toml"),
            "-o",
            str(out2),
        ).returncode
        == 0
    )
    second = verify(out2.read_bytes(), pos_fleet.trust(), applied={"group:north": 1})
    assert second.version == 2 and second.expires_at - second.issued_at == timedelta(days=2)
    out3 = tmp_path / "t01.json"
    assert (
        pos_fleet(
            "config",
            "sign",
            "--scope",
            "terminal:T01",
            str(tmp_path / "north.toml"),
            "-o",
            str(out3),
        ).returncode
        == 0
    )
    assert verify(out3.read_bytes(), pos_fleet.trust()).version == 1
    with pytest.raises(sc.ConfigRefused) as caught:
        verify(out3.read_bytes(), pos_fleet.trust(), terminal="T02")
    assert caught.value.reason == "wrong_scope"
    # a version not above the last is refused by the fleet, before a terminal does it
    again = pos_fleet(
        "config",
        "sign",
        "--scope",
        "group:north",
        "--version",
        "2",
        str(tmp_path / "north.toml"),
        "-o",
        str(tmp_path / "x.json"),
    )
    assert again.returncode == 1 and "not above the last signed, 2" in again.stdout
    assert not (tmp_path / "x.json").exists()
    assert_no_private_key_in(pos_fleet.outputs, pos_fleet.private_files())
    assert_no_private_key_in(
        [p.read_text() for p in (out, out2, out3, pos_fleet.signing_dir / signing.KEY_LIST)],
        pos_fleet.private_files(),
    )


def test_rotate_and_revoke_through_the_root(pos_fleet, tmp_path):
    assert pos_fleet.keys("init").returncode == 0
    (tmp_path / "doc.toml").write_text(DOCUMENT)
    terminal = pos_fleet.trust()
    first_key = next(iter(terminal.key_list.keys))

    def sign(name: str) -> bytes:
        out = tmp_path / name
        done = pos_fleet(
            "config", "sign", "--scope", "group:north", str(tmp_path / "doc.toml"), "-o", str(out)
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return out.read_bytes()

    old_document = sign("v1.json")
    assert verify(old_document, terminal).key_id == first_key
    rotated = pos_fleet.keys("rotate")
    assert rotated.returncode == 0, rotated.stdout + rotated.stderr
    assert f"signing key {first_key} revoked" in rotated.stdout
    assert not (pos_fleet.signing_dir / "keys" / f"{first_key}.key").exists()
    # the terminal takes the new key list (signed by the root it pinned) ...
    terminal.accept_key_list((pos_fleet.signing_dir / signing.KEY_LIST).read_bytes(), now())
    assert terminal.key_list.version == 2
    new_document = sign("v2.json")
    config = verify(new_document, terminal, applied={"group:north": 1})
    assert config.key_id != first_key and config.version == 2
    # ... and refuses what the old key signed, even a version it has not applied
    with pytest.raises(sc.ConfigRefused) as caught:
        verify(old_document, terminal)
    assert caught.value.reason == "revoked_key"
    # a second key, then that one revoked by id
    added = pos_fleet.keys("new-signing-key", "--scopes", "terminal:*")
    assert added.returncode == 0 and "key list version 3" in added.stdout
    listing = pos_fleet("keys", "list")
    assert listing.returncode == 0
    assert first_key in listing.stdout and "revoked" in listing.stdout
    assert "terminal:*" in listing.stdout and "version 3" in listing.stdout
    new_key = added.stdout.split("signing key ")[1].split(":")[0]
    assert pos_fleet.keys("revoke", new_key).returncode == 0
    terminal.accept_key_list((pos_fleet.signing_dir / signing.KEY_LIST).read_bytes(), now())
    assert terminal.key_list.version == 4 and new_key in terminal.revoked
    assert_no_private_key_in(pos_fleet.outputs, pos_fleet.private_files())


def test_admin_mistakes_meet_a_message_and_an_exit_status(pos_fleet, tmp_path):
    doc = tmp_path / "doc.toml"
    doc.write_text(DOCUMENT)
    out = str(tmp_path / "o.json")
    before_init = pos_fleet("config", "sign", "--scope", "fleet", str(doc), "-o", out)
    assert before_init.returncode == 1 and "keys init" in before_init.stdout
    assert pos_fleet.keys("init").returncode == 0
    twice = pos_fleet.keys("init")
    assert twice.returncode == 1 and "made once" in twice.stdout
    assert pos_fleet.keys("revoke", "0123456789abcdef").returncode == 1
    bad_scope = pos_fleet("config", "sign", "--scope", "shop:x", str(doc), "-o", out)
    assert bad_scope.returncode == 2 and "fleet, group:NAME or terminal:TID" in bad_scope.stderr
    bad_expiry = pos_fleet(
        "config", "sign", "--scope", "fleet", "--expires", "soon", str(doc), "-o", out
    )
    assert bad_expiry.returncode == 2
    (tmp_path / "terminal.toml").write_text('[security]\npepper = "x"\n')
    wrong = pos_fleet(
        "config", "sign", "--scope", "fleet", str(tmp_path / "terminal.toml"), "-o", out
    )
    assert wrong.returncode == 1 and "not a shop section" in wrong.stdout
    (tmp_path / "broken.toml").write_text("[store\n")
    broken = pos_fleet(
        "config", "sign", "--scope", "fleet", str(tmp_path / "broken.toml"), "-o", out
    )
    assert broken.returncode == 1 and "not valid TOML" in broken.stdout
    for done in (twice, bad_scope, wrong, broken):
        assert "Traceback" not in done.stdout + done.stderr
    # the root's key (the admin carries another one by mistake) must match the key list's
    other = tmp_path / "other-root"
    signing.init(other, tmp_path / "other-signing", NOW)
    wrong_root = pos_fleet("keys", "rotate", "--root-dir", str(other))
    assert wrong_root.returncode == 1 and "not the root" in wrong_root.stdout


# -- the module, with time given --------------------------------------------------------------
def test_a_key_limited_to_groups_is_chosen_only_for_groups(tmp_path):
    root, sdir = tmp_path / "root", tmp_path / "signing"
    signing.init(root, sdir, NOW, scopes=["terminal:*"])
    group_key = signing.change_keys(root, sdir, NOW, add=True, scopes=["group:north"]).added
    north = signing.sign_config(sdir, {}, sc.Scope("group", "north"), NOW)
    assert north.key_id == group_key
    till = signing.sign_config(sdir, {}, sc.Scope("terminal", "T01"), NOW)
    assert till.key_id != group_key
    with pytest.raises(signing.SigningError, match="may sign for fleet"):
        signing.sign_config(sdir, {}, sc.Scope("fleet"), NOW)


def test_signing_under_an_expired_key_list_is_refused_until_renewed(tmp_path):
    root, sdir = tmp_path / "root", tmp_path / "signing"
    signing.init(root, sdir, NOW, expires=timedelta(days=1))
    later = NOW + timedelta(days=2)
    with pytest.raises(signing.SigningError, match="expired"):
        signing.sign_config(sdir, {}, sc.Scope("fleet"), later)
    renewed = signing.change_keys(root, sdir, later)  # the same keys, a new expiry
    assert renewed.version == 2
    assert signing.sign_config(sdir, {}, sc.Scope("fleet"), later).version == 1


def test_the_last_key_cannot_be_revoked_without_a_successor(tmp_path):
    root, sdir = tmp_path / "root", tmp_path / "signing"
    only = signing.init(root, sdir, NOW).added
    with pytest.raises(signing.SigningError, match="no signing key"):
        signing.change_keys(root, sdir, NOW, revoke=(only,))
    assert (sdir / "keys" / f"{only}.key").exists()


@pytest.mark.parametrize(
    ("text", "expected"),
    [("30d", timedelta(days=30)), ("12h", timedelta(hours=12)), ("1y", timedelta(days=365))],
)
def test_durations(text, expected):
    assert signing.parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "0d", "30", "d", "-1d", "3w"])
def test_bad_durations(text):
    with pytest.raises(ValueError):
        signing.parse_duration(text)


def test_the_key_list_file_is_what_a_terminal_accepts(tmp_path):
    root, sdir = tmp_path / "root", tmp_path / "signing"
    done = signing.init(root, sdir, NOW)
    envelope = json.loads((sdir / signing.KEY_LIST).read_text())
    assert envelope["key_id"] == done.root_id
    payload = json.loads(base64.b64decode(envelope["payload"]))
    assert payload["type"] == "signing_keys" and payload["version"] == 1
    assert [k["key_id"] for k in payload["keys"]] == [done.added]
