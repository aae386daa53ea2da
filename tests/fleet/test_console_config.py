"""Changing the configuration from the console, at the HTTP level: only a fleet admin may,
with the session's token; a document that is not TOML, or a price list with broken rows,
is refused with the reason and the text kept, and nothing is signed. (A push that reaches
a real terminal: test_console_browser.py.)"""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fleet import signing
from fleet.config import ConsoleSettings, FleetConfig, SigningSettings
from fleet.console import accounts
from fleet.console.app import create_app
from fleet.models import ConfigDocument, ConsoleAudit, Job, Rollout
from fleet.registry import register_terminal
from terminal.core import signed_config as sc
from tests.fleet.console_client import csrf_of, signed_in

PASSWORD = "a long pass phrase"
FAST = accounts.FAST_TEST_COST


@pytest.fixture
def app(fleet_db, tmp_path):
    signing.init(tmp_path / "root", tmp_path / "signing", datetime.now(UTC) - timedelta(minutes=1))
    pem = sc.public_pem(Ed25519PrivateKey.generate().public_key())
    register_terminal(fleet_db, "T01", store="S1", group="north", public_key_pem=pem)
    now = datetime.now(UTC).replace(tzinfo=None)
    for name, role, stores in (
        ("ani", "admin", None),
        ("oka", "owner", None),
        ("made", "manager", ["S1"]),
        ("rina", "auditor", None),
    ):
        accounts.add_account(fleet_db, name, role, PASSWORD, now, stores=stores, cost=FAST)
    fleet = FleetConfig(signing=SigningSettings(dir=str(tmp_path / "signing")))
    return create_app(fleet_db, ConsoleSettings(secure_cookies=False), cost=FAST, fleet=fleet)


def test_only_a_fleet_admin_may_change_the_configuration(app, fleet_db):
    for name in ("oka", "made", "rina"):
        client = signed_in(app, name, PASSWORD)
        assert client.get("/config/edit?scope=group:north").status_code in (403, 404), name
        token = csrf_of(client.get("/terminals").text) if name != "rina" else "x"
        for path in ("/config/preview", "/config/push", "/config/rollouts/1/abort"):
            answer = client.post(
                path, data={"csrf": token, "scope": "group:north", "document": "[store]\n"}
            )
            assert answer.status_code == 403, (name, path)
    assert ConfigDocument.select().bind(fleet_db).count() == 0


def test_a_change_without_the_sessions_token_is_refused(app, fleet_db):
    admin = signed_in(app, "ani", PASSWORD)
    for token in ("", "forged"):
        answer = admin.post(
            "/config/push", data={"csrf": token, "scope": "group:north", "document": ""}
        )
        assert answer.status_code == 403
    assert ConfigDocument.select().bind(fleet_db).count() == 0


def test_a_broken_document_is_refused_with_its_reason_and_the_text_kept(app, fleet_db):
    admin = signed_in(app, "ani", PASSWORD)
    form = admin.get("/config/edit?scope=group:north")
    assert form.status_code == 200 and "no document yet" in form.text
    token = csrf_of(form.text)
    broken = '[[products]]\nsku = "TEH"\nprice = = 6000\n'
    answer = admin.post(
        "/config/preview", data={"csrf": token, "scope": "group:north", "document": broken}
    )
    assert answer.status_code == 422
    assert "not valid TOML" in answer.text and "price = = 6000" in answer.text
    unknown = admin.post(
        "/config/preview",
        data={"csrf": token, "scope": "group:north", "document": "[stock]\nx = 1\n"},
    )
    assert unknown.status_code == 422 and "stock: not a shop section" in unknown.text
    bad_waves = admin.post(
        "/config/preview",
        data={"csrf": token, "scope": "group:north", "document": "", "waves": "50%,10%"},
    )
    assert bad_waves.status_code == 422 and "each wave a larger share" in bad_waves.text
    assert ConfigDocument.select().bind(fleet_db).count() == 0
    assert Rollout.select().bind(fleet_db).count() == 0


def test_a_price_list_upload_needs_the_fleets_document_and_names_broken_rows(app, fleet_db):
    admin = signed_in(app, "ani", PASSWORD)
    token = csrf_of(admin.get("/config/edit?scope=group:north").text)
    csv = "sku;name;price;tax_class;barcodes\nTEH;Teh;6.500;PPN;8991002101111\n"
    answer = admin.post(
        "/config/preview",
        data={"csrf": token, "scope": "group:north", "document": ""},
        files={"csv": ("prices.csv", io.BytesIO(csv.encode()), "text/csv")},
    )
    assert answer.status_code == 422
    assert "push the fleet&#39;s shop document first" in answer.text
    assert (
        ConsoleAudit.select().where(ConsoleAudit.action == "config push").bind(fleet_db).count()
        == 0
    )


def test_a_price_list_upload_is_read_in_the_shops_currency_and_shown_as_the_difference(
    app, fleet_db, tmp_path
):
    from fleet import rollout as rollouts  # noqa: PLC0415
    from tests.fleet.test_config_e2e import shop_sections_toml  # noqa: PLC0415

    shop = signing.parse_document(shop_sections_toml())
    rollouts.sign_and_plan(fleet_db, tmp_path / "signing", shop, sc.Scope("fleet"), waves=[100])
    admin = signed_in(app, "ani", PASSWORD)
    token = csrf_of(admin.get("/config/edit?scope=group:north").text)

    def upload(text: str):
        return admin.post(
            "/config/preview",
            data={"csrf": token, "scope": "group:north", "document": ""},
            files={"csv": ("prices.csv", io.BytesIO(text.encode()), "text/csv")},
        )

    header = "sku;name;price;tax_class;barcodes\n"
    broken = upload(header + "TEH;Teh;6.500;PPN;\nKOPI;Kopi;1.5;PPN;\n")
    assert broken.status_code == 422
    assert "line 3, price: &#39;1.5&#39; is not an amount in IDR" in broken.text
    good = upload(header + "TEH;Teh;6.500;PPN;8991002101111\n")
    assert good.status_code == 200
    assert "+price = 6500" in good.text and "data-push" in good.text
    assert (
        ConfigDocument.select().where(ConfigDocument.scope == "group:north").bind(fleet_db).count()
        == 0
    )  # shown, not signed


def test_an_account_in_indonesian_sees_the_console_in_indonesian(app, fleet_db):
    now = datetime.now(UTC).replace(tzinfo=None)
    accounts.add_account(fleet_db, "wayan", "admin", PASSWORD, now, language="id", cost=FAST)
    client = signed_in(app, "wayan", PASSWORD)
    page = client.get("/config/edit?scope=group:north").text
    assert "Ubah konfigurasi" in page and "Lihat perbedaannya" in page
    assert "Penjualan saat ini" in page  # the menu
    broken = client.post(
        "/config/preview",
        data={"csrf": csrf_of(page), "scope": "group:north", "document": "x = = 1"},
    )
    assert broken.status_code == 422 and "Lihat perbedaannya" in broken.text


def test_only_a_fleet_admin_sends_jobs_and_a_bad_target_is_refused(app, fleet_db):
    owner = signed_in(app, "oka", PASSWORD)
    assert owner.get("/jobs").status_code == 404
    token = csrf_of(owner.get("/terminals").text)
    answer = owner.post(
        "/jobs/send", data={"csrf": token, "kind": "lock", "target": "terminal:T01"}
    )
    assert answer.status_code == 403
    admin = signed_in(app, "ani", PASSWORD)
    token = csrf_of(admin.get("/jobs").text)
    for target, reason in (
        ("fleet", "a job goes to a group or a terminal"),
        ("group:nobody", "no terminal in group:nobody"),
        ("T01", "scope &#39;T01&#39;"),
    ):
        refused = admin.post("/jobs/send", data={"csrf": token, "kind": "lock", "target": target})
        assert refused.status_code == 422 and reason in refused.text, (target, refused.text)
    long_text = admin.post(
        "/jobs/send",
        data={"csrf": token, "kind": "message", "target": "terminal:T01", "text": "x" * 300},
    )
    assert long_text.status_code == 422 and "at most 200" in long_text.text
    assert Job.select().bind(fleet_db).count() == 0


def test_a_document_written_for_editing_reads_back_the_same():
    import tomllib  # noqa: PLC0415

    from fleet.config_edit import as_toml  # noqa: PLC0415
    from tests.fleet.test_config_e2e import TEH_6000, shop_sections_toml  # noqa: PLC0415

    document = tomllib.loads(
        shop_sections_toml() + TEH_6000 + '[[cashiers]]\nid = 7\nname = "Wulan"\n'
    )
    text = as_toml(document)
    assert tomllib.loads(text) == document
    assert '[[products]]\nsku = "TEH-BTL"' in text and "\nprice = 6000\n" in text
