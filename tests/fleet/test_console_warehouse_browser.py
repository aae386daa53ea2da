"""The warehouse's page in a real browser (Debian's Chromium, headless): a desk's drop
order appears on it live, without a reload; a scan typed into the focused field with
Enter, as a USB scanner types, hands it over: the request leaves the list and the page
says so. The screenshot is saved in ``docs/screenshots/console/`` when
``CONSOLE_SCREENSHOTS=1`` (else in the test's directory), to be looked at."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from random import Random
from zoneinfo import ZoneInfo

import pypdfium2 as pdfium
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.wait import WebDriverWait

from fleet.config import ConsoleSettings, OrdersSettings
from fleet.console import accounts
from fleet.console.app import create_app
from fleet.console.pages.payments import PaymentsDesk
from fleet.db import connect, create_tables
from fleet.models import BankAccount, Booking, DropOrder
from fleet.orders import demo
from fleet.orders import desk as orders
from fleet.orders.desk import Customer, DeskRules
from fleet.orders.labels import label_for, labels_pdf
from fleet.shipping.shipments import take_unprinted, type_awb
from terminal.core.online_orders import DeadlineRule
from terminal.core.sealing import Sealer
from tests import chromium
from tests.conftest import ROOT
from tests.console_server import serve
from tests.fleet.test_console_warehouse import sign_catalogue

PASSWORD = "a long pass phrase"
TEA, TEA_CODE = "TEH-BTL", "8991002101111"


def screenshots_dir(tmp: Path) -> Path:
    if os.environ.get("CONSOLE_SCREENSHOTS"):
        return ROOT / "docs" / "screenshots" / "console"
    return tmp / "screenshots"


@pytest.fixture
def console(tmp_path):
    db = connect(f"sqlite:///{tmp_path / 'fleet.db'}")
    create_tables(db)
    sign_catalogue(db)
    now = datetime.now(UTC)
    accounts.add_account(
        db, "wati", "warehouse", PASSWORD, now.replace(tzinfo=None), cost=accounts.FAST_TEST_COST
    )
    orders.receive(db, TEA, "WH", 6, now - timedelta(hours=3), "wati")
    orders.receive(db, "KOPI-KAPAL", "WH", 4, now - timedelta(hours=3), "wati")
    orders.request_drop(db, "Bandung", "WH", "KOPI-KAPAL", now - timedelta(minutes=42), "cs2")
    sealer = Sealer(os.urandom(32))
    app = create_app(
        db,
        ConsoleSettings(secure_cookies=False),
        cost=accounts.FAST_TEST_COST,
        live_every=0.2,
        payments_desk=PaymentsDesk(sealer, OrdersSettings(enabled=True)),
    )
    served = serve(app)
    yield db, served.url, sealer
    served.stop()
    db.close()


def sign_in(driver, url: str, name: str, wait) -> None:
    driver.get(f"{url}/login")
    driver.find_element(By.NAME, "name").send_keys(name)
    driver.find_element(By.NAME, "password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "form.login button").click()
    wait.until(lambda d: "/login" not in d.current_url)


def test_a_drop_order_appears_live_and_a_scan_hands_it_over(console, tmp_path):
    db, url, _sealer = console
    driver = chromium.browser()
    wait = WebDriverWait(driver, 10, poll_frequency=0.05)
    try:
        sign_in(driver, url, "wati", wait)
        driver.get(f"{url}/warehouse")
        wait.until(lambda d: d.find_element(By.ID, "drop-requests").get_attribute("data-updated"))
        driver.execute_script("window.stillTheSamePage = true")
        drop = orders.request_drop(db, "Jakarta 1", "WH", TEA, datetime.now(UTC), "cs1")
        row = f"#drop-requests tr[data-drop='{drop}']"
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, row))
        assert driver.execute_script("return window.stillTheSamePage") is True  # no reload
        assert "Teh Botol Sosro" in driver.find_element(By.CSS_SELECTOR, row).text
        # the scanner types into whatever has the focus: the scan field has it
        focused = driver.switch_to.active_element
        assert focused.get_attribute("name") == "code"
        focused.send_keys(TEA_CODE + Keys.ENTER)
        said = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "[data-outcome='handed']"))
        assert said[0].text == f"Handed over drop order {drop} (TEH-BTL) to desk Jakarta 1"
        assert not driver.find_elements(By.CSS_SELECTOR, row)
        assert driver.switch_to.active_element.get_attribute("name") == "code"  # ready again
        state = DropOrder.select().where(DropOrder.id == drop).bind(db).get().state
        assert state == "handed" and orders.stock(db, TEA, "Jakarta 1")[0] == 1
        shots = screenshots_dir(tmp_path)
        shots.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(shots / "warehouse.png"))
    finally:
        driver.quit()


def test_finance_reconciles_a_bank_statement_and_the_warehouse_prints_a_label(console, tmp_path):
    """The payments page in the browser: a KlikBCA export uploaded for the shop's BCA
    account, the proposals reviewed (the screenshot of the reconciliation screen), the
    match confirmed; the booking sold; its label printed from the shipping page."""
    db, url, sealer = console
    now = datetime.now(UTC)
    accounts.add_account(
        db, "sri", "finance", PASSWORD, now.replace(tzinfo=None), cost=accounts.FAST_TEST_COST
    )
    BankAccount.insert(
        name="BCA 0123456789", bank="BCA", number="0123456789", format="bca"
    ).execute(db)
    rules = DeskRules(DeadlineRule.parse("24h"), ZoneInfo("Asia/Jakarta"))
    orders.receive(db, TEA, "Jakarta 1", 1, now, "wati")
    dewi = Customer("Dewi Lestari", "0812 3456 7890", "Jl. Melati 5, Jakarta Pusat 10310")
    booking = orders.book(
        db,
        sealer,
        desk="Jakarta 1",
        sku=TEA,
        price=5_500,
        customer=dewi,
        rules=rules,
        at=now,
        actor="cs1",
        rng=Random(4),
        series="T01",
        courier="jne",
    )
    statement = tmp_path / "mutasi.csv"
    statement.write_text(
        demo.bank_statement(db, sealer, account="0123456789", now=now, tz=ZoneInfo("Asia/Jakarta"))
    )
    driver = chromium.browser()
    wait = WebDriverWait(driver, 10, poll_frequency=0.05)
    shots = screenshots_dir(tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    try:
        sign_in(driver, url, "sri", wait)
        driver.get(f"{url}/payments")
        driver.find_element(By.NAME, "statement").send_keys(str(statement))
        driver.find_element(By.CSS_SELECTOR, "form[data-upload] button").click()
        ticked = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "input[name='match']"))
        assert [t.get_attribute("value").split("|")[0] for t in ticked] == [booking.order_no]
        assert "Dewi Lestari" in driver.find_element(By.TAG_NAME, "main").text
        driver.save_screenshot(str(shots / "payments-review.png"))
        driver.find_element(By.CSS_SELECTOR, "form[action='/payments/confirm'] button").click()
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "[data-confirmed='1']"))
        paid = Booking.select().where(Booking.order_no == booking.order_no).bind(db).get()
        assert (paid.state, paid.paid_by) == ("paid", "sri")
    finally:
        driver.quit()
    # the desk sold it (the terminal's sale, settled at the fleet as the ingest does)
    orders.sold(db, booking.order_no, "T01-000001", now, "T01")
    driver = chromium.browser()
    try:
        sign_in(driver, url, "wati", WebDriverWait(driver, 10, poll_frequency=0.05))
        driver.get(f"{url}/shipping")
        assert booking.order_no in driver.find_element(By.TAG_NAME, "main").text
        driver.save_screenshot(str(shots / "shipping.png"))
    finally:
        driver.quit()
    # the courier's slip typed (no contract), then the label printed for the parcel
    type_awb(db, booking.order_no, "jne", "CGK1234567890", now, "wati")
    shop = OrdersSettings(
        origin_name="Toko Demo Sejahtera",
        origin_phone="021-5550123",
        origin_address="Jl. Merdeka No. 1, Jakarta Pusat 10110",
    )
    printed = take_unprinted(db, now)
    page = pdfium.PdfDocument(labels_pdf([label_for(sealer, s, shop) for s in printed], "100x150"))
    page[0].render(scale=200 / 72).to_pil().save(shots / "label-100x150.png")
    words = page[0].get_textpage().get_text_range()
    assert booking.order_no in words and "CGK1234567890" in words
