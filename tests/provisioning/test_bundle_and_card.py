"""The provisioning bundle and the card: what `pos-provision card` writes is what the first
boot reads back; a malformed bundle is refused naming the file and the key; the
cloud-init files are YAML cloud-init reads as meant (the Wi-Fi's name and password
quoted, whatever characters they have); the terminal's configuration written from the
template keeps its comments and loads with the terminal's own loader."""

from __future__ import annotations

import tomllib
from pathlib import Path

import msgspec
import pytest
import yaml

from provisioning import bundle as bundles
from provisioning.card import write_card
from provisioning.cli import check_on_template
from provisioning.firstboot import choose_protector, configuration_text
from provisioning.terminal_config import with_values
from terminal.config import parse_settings
from tests.conftest import ROOT

CA = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


def a_bundle(**wifi) -> bundles.Bundle:
    return bundles.Bundle(
        terminal=bundles.TerminalPart("T07", "Toko Sumber Rejeki", "north", "id", "Asia/Jakarta"),
        fleet=bundles.FleetPart(
            "fleet.example.com", CA, "t" * 32, 8883, 8884, "2026-11-30T09:00:00Z"
        ),
        wifi=bundles.WifiPart(**wifi) if wifi else None,
    )


def test_a_card_is_read_back_as_written(tmp_path):
    b = a_bundle(ssid='Toko "Rejeki": 5G', password="kata: sandi #1", country="ID")
    written = write_card(tmp_path, b)
    assert [p.name for p in written] == [
        "pos-provision.toml",
        "meta-data",
        "user-data",
        "network-config",
    ]
    assert bundles.read(tmp_path) == b
    network = yaml.safe_load((tmp_path / "network-config").read_text())
    access = network["network"]["wifis"]["wlan0"]["access-points"]
    assert access == {'Toko "Rejeki": 5G': {"password": "kata: sandi #1"}}
    user = yaml.safe_load((tmp_path / "user-data").read_text())
    assert (tmp_path / "user-data").read_text().startswith("#cloud-config\n")
    assert user["hostname"] == "pos-t07" and user["timezone"] == "Asia/Jakarta"
    assert user["users"] == [] and user["ssh_pwauth"] is False
    meta = yaml.safe_load((tmp_path / "meta-data").read_text())
    assert meta == {"instance-id": "pos-T07", "local-hostname": "pos-t07"}
    assert not list(tmp_path.glob(".*.tmp"))


def test_without_wifi_the_network_is_ethernet(tmp_path):
    write_card(tmp_path, a_bundle())
    network = yaml.safe_load((tmp_path / "network-config").read_text())["network"]
    assert "wifis" not in network and network["ethernets"]["eth0"]["dhcp4"] is True


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (('id = "T07"', 'id = "t07"'), "terminal.id"),
        (('locale = "id"', 'locale = "fr"'), "terminal.locale"),
        (('key_protector = "auto"', 'key_protector = "usb"'), "terminal.key_protector"),
        (("port = 8883", 'port = "8883"'), "fleet.port"),
        (("[wifi]", "[wlan]"), "unknown field"),
        (('token = "', 'token = "short'), None),
        (("BEGIN CERTIFICATE", "BEGIN NOTHING"), "fleet.ca"),
        (("[fleet]", "[fleet"), "not valid TOML"),
    ],
)
def test_a_malformed_bundle_is_refused_naming_the_key(tmp_path, change, words):
    write_card(tmp_path, a_bundle(ssid="TOKO", password="12345678"))
    path = tmp_path / "pos-provision.toml"
    text = path.read_text()
    if change == (('token = "', 'token = "short')):
        text = text.replace('token = "' + "t" * 32, 'token = "short')
        words = "fleet.token"
    else:
        assert change[0] in text, change
        text = text.replace(change[0], change[1], 1)
    path.write_text(text)
    with pytest.raises(bundles.BundleError) as refused:
        bundles.read(tmp_path)
    assert str(path) in str(refused.value) and words in str(refused.value)


def test_no_bundle_says_so(tmp_path):
    with pytest.raises(bundles.BundleError, match="no provisioning bundle"):
        bundles.read(tmp_path)


def test_a_short_wifi_password_is_refused(tmp_path):
    text = bundles.render(a_bundle(ssid="TOKO", password="1234567"))
    with pytest.raises(bundles.BundleError, match=r"wifi\.password"):
        bundles.parse(text)


def test_the_configuration_from_the_template_keeps_its_comments_and_loads(tmp_path):
    template = (ROOT / "config" / "pos.toml").read_text()
    text = configuration_text(template, a_bundle(), tmp_path / "data", "tpm2")
    settings = parse_settings(tomllib.loads(text))
    assert settings.terminal_id == "T07"
    assert settings.data_dir == tmp_path / "data"
    assert settings.security.protector == "tpm2"
    assert settings.fleet.enabled and settings.fleet.host == "fleet.example.com"
    assert settings.fleet.group == "north"
    assert settings.fleet.cert_file == tmp_path / "data" / "fleet" / "client.crt"
    assert settings.store.locale == "id" and settings.store.timezone.key == "Asia/Jakarta"
    # the template's comments stay, beside the values they document
    assert "# the fleet's Mosquitto broker" in text
    assert 'host = "fleet.example.com"' in text
    assert len(text.splitlines()) >= len(template.splitlines())


def test_values_are_set_in_their_section_only():
    text = '[a]\nx = 1  # one\n\n[b]\nx = "two"\n'
    changed = with_values(text, {"b": {"x": '"three"', "y": "4"}, "c": {"z": "true"}})
    assert tomllib.loads(changed) == {"a": {"x": 1}, "b": {"x": "three", "y": 4}, "c": {"z": True}}
    assert "x = 1  # one" in changed
    with pytest.raises(ValueError, match="not be TOML"):
        with_values(text, {"a": {"x": "= broken"}})


def test_auto_takes_the_strongest_protector_the_board_has():
    assert choose_protector("auto", exists=lambda p: p == "/dev/tpmrm0") == "tpm2"
    assert choose_protector("auto", exists=lambda p: p == "/dev/vcio") == "rpi-otp"
    assert choose_protector("auto", exists=lambda p: False) == "file"
    assert choose_protector("file", exists=lambda p: True) == "file"


def test_the_card_command_needs_a_mounted_boot_partition(tmp_path):
    with pytest.raises(FileNotFoundError, match="mount the card"):
        write_card(Path(tmp_path / "nowhere"), a_bundle())


def test_a_technician_logs_in_with_a_key_only_and_a_private_key_is_refused(tmp_path):
    key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBx technician@laptop"
    write_card(tmp_path, a_bundle(), technician_key=key)
    user = yaml.safe_load((tmp_path / "user-data").read_text())
    (technician,) = user["users"]
    assert technician["name"] == "technician" and technician["lock_passwd"] is True
    assert technician["ssh_authorized_keys"] == [key]
    assert user["ssh_pwauth"] is False and ["systemctl", "start", "ssh"] in user["runcmd"]
    with pytest.raises(ValueError, match="never a private key"):
        write_card(tmp_path, a_bundle(), technician_key="-----BEGIN OPENSSH PRIVATE KEY-----")


def test_the_shops_devices_go_into_the_configuration_and_bad_ones_are_refused(tmp_path):
    hardware = {
        "printer": {"backend": "usb", "vendor_id": 0x04B8, "product_id": 0x0202},
        "drawer": {"backend": "printer"},
    }
    b = msgspec.structs.replace(a_bundle(), hardware=hardware)
    write_card(tmp_path, b)
    assert bundles.read(tmp_path).hardware == hardware
    template = (ROOT / "config" / "pos.toml").read_text()
    settings = parse_settings(
        tomllib.loads(configuration_text(template, b, tmp_path / "data", "file"))
    )
    assert settings.hardware.printer.backend == "usb"
    assert settings.hardware.printer.settings.vendor_id == 0x04B8
    check_on_template(b)
    wrong = msgspec.structs.replace(b, hardware={"printer": {"backend": "teleprinter"}})
    with pytest.raises(ValueError, match="would refuse"):
        check_on_template(wrong)
    with pytest.raises(bundles.BundleError, match=r"hardware\.fax"):
        bundles.parse(bundles.render(a_bundle()) + '\n[hardware.fax]\nbackend = "x"\n')
