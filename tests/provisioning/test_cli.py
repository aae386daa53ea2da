"""`pos-provision pki init` and `token` from the command line: the PKI for production is
refused without its passphrases and written encrypted with them (the configuration's
signing keys too); a token is printed once and only its hash is kept."""

from __future__ import annotations

from fleet.db import connect
from fleet.enrollment import token_hash
from fleet.models import EnrollmentToken
from provisioning.cli import main


def fleet_config(tmp_path) -> str:
    path = tmp_path / "fleet.toml"
    path.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "fleet.db"}"\n'
        f'[pki]\ndir = "{tmp_path / "pki"}"\nroot_dir = "{tmp_path / "offline"}"\n'
        f'[signing]\ndir = "{tmp_path / "signing"}"\n'
    )
    return str(path)


def test_pki_init_needs_both_passphrases_and_writes_every_key_encrypted(
    tmp_path, monkeypatch, capsys
):
    config = fleet_config(tmp_path)
    online, root = tmp_path / "online.pass", tmp_path / "root.pass"
    online.write_text("the fleet server's passphrase\n")
    root.write_text("short\n")
    monkeypatch.setenv("POS_FLEET_PASSPHRASE_FILE", str(online))
    monkeypatch.delenv("POS_FLEET_ROOT_PASSPHRASE_FILE", raising=False)
    assert main(["--fleet-config", config, "pki", "init"]) == 2
    assert "POS_FLEET_ROOT_PASSPHRASE_FILE" in capsys.readouterr().err
    assert not (tmp_path / "pki").exists()
    monkeypatch.setenv("POS_FLEET_ROOT_PASSPHRASE_FILE", str(root))
    assert main(["--fleet-config", config, "pki", "init"]) == 2
    assert "at least 12 characters" in capsys.readouterr().err
    root.write_text("the offline root's passphrase\n")
    assert main(["--fleet-config", config, "pki", "init"]) == 0
    said = capsys.readouterr().out
    assert "move" in said and "off-line" in said
    keys = [
        tmp_path / "offline" / "root-ca.key",
        tmp_path / "offline" / "config" / "root.key",
        tmp_path / "pki" / "ca.key",
        *(tmp_path / "signing" / "keys").glob("*.key"),
    ]
    assert len(keys) == 4
    for key in keys:
        assert b"ENCRYPTED PRIVATE KEY" in key.read_bytes(), key
        assert key.stat().st_mode & 0o777 == 0o600, key
    for passphrase in ("the fleet server's passphrase", "the offline root's passphrase"):
        assert not any(
            passphrase.encode() in p.read_bytes()
            for p in tmp_path.rglob("*")
            if p.is_file() and not p.name.endswith(".pass")
        )


def test_a_token_is_shown_once_and_kept_as_its_hash(tmp_path, capsys):
    config = fleet_config(tmp_path)
    args = ["token", "--store", "S1", "--terminal-name", "T07", "--hours", "2"]
    assert main(["--fleet-config", config, *args]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "T07 (S1), valid until" in lines[0]
    token = lines[1]
    db = connect(f"sqlite:///{tmp_path / 'fleet.db'}")
    (row,) = EnrollmentToken.select().bind(db)
    assert row.token_hash == token_hash(token) and token not in repr(row.__data__)
    bad = ["token", "--store", "S1", "--terminal-name", "T 07"]
    assert main(["--fleet-config", config, *bad]) == 2
    assert "not a terminal id" in capsys.readouterr().err
