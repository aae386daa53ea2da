"""The console in a real browser (Debian's Chromium, headless, through Selenium): each role
signs in and sees its parts; a sale made on a real terminal (its agent a process of its
own, a real Mosquitto, `pos-fleet serve`) appears on "Sales now" within two seconds,
without a reload. Screenshots of each page at desktop and tablet widths are saved (in
``docs/screenshots/console/`` when ``CONSOLE_SCREENSHOTS=1``, else in the test's
directory), to be looked at."""

from __future__ import annotations

import csv
import io
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pypdfium2
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.wait import WebDriverWait

from fleet import demo
from fleet.config import ConsoleSettings, load_config
from fleet.console import accounts
from fleet.console.app import create_app
from fleet.db import connect, create_tables
from fleet.models import ConsoleAudit
from tests import chromium
from tests.conftest import ROOT
from tests.console_server import serve
from tests.fleet.test_config_e2e import (
    TEH,
    TEH_6000,
    applied,
    push,
    pushed_and_applied,
    shop_sections_toml,
    world,
)
from tests.fleet_world import all_held, fleet_toml, wait_for

__all__ = ["world"]  # the fixture

PASSWORD = "a long pass phrase"
FAST = accounts.FAST_TEST_COST


def screenshots_dir(tmp: Path) -> Path:
    if os.environ.get("CONSOLE_SCREENSHOTS"):
        return ROOT / "docs" / "screenshots" / "console"
    return tmp / "screenshots"


def sign_in(driver, url: str, name: str) -> None:
    driver.get(f"{url}/login")
    driver.find_element(By.NAME, "name").send_keys(name)
    driver.find_element(By.NAME, "password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "form.login button").click()
    WebDriverWait(driver, 10).until(  # the page after the sign-in, loaded
        lambda d: (
            "/login" not in d.current_url
            and d.execute_script("return document.readyState") == "complete"
        )
    )


def text_of(driver, css: str) -> str | None:
    """The element's text, read in one step (the live section may be replaced between a
    lookup and a read)."""
    return driver.execute_script(
        "const e = document.querySelector(arguments[0]); return e ? e.innerText : null", css
    )


def found(driver, css: str):
    """The element, once the page that has it is loaded (a click's navigation takes a
    moment)."""
    return WebDriverWait(driver, 15).until(lambda d: d.find_element(By.CSS_SELECTOR, css))


def nav(driver) -> list[str]:
    return [a.text for a in driver.find_elements(By.CSS_SELECTOR, "header nav a")]


@pytest.fixture
def console(world):
    db = world.db()
    create_tables(db)
    now = datetime.now(UTC).replace(tzinfo=None)
    accounts.add_account(db, "ani", "admin", PASSWORD, now, cost=FAST)
    accounts.add_account(db, "oka", "owner", PASSWORD, now, cost=FAST)
    accounts.add_account(db, "made", "manager", PASSWORD, now, stores=["S1"], cost=FAST)
    accounts.add_account(db, "rina", "auditor", PASSWORD, now, cost=FAST)
    served = serve(create_app(db, ConsoleSettings(secure_cookies=False), cost=FAST, live_every=0.2))
    yield served.url
    served.stop()


def test_a_sale_on_a_real_terminal_appears_on_sales_now_within_two_seconds(world, console):
    shop = world.shop("T01", group="north")
    world.serve()
    shop.start_agent()
    shop.sell(1)  # Teh Botol, Rp 5.500
    all_held(world, shop)
    driver = chromium.browser()
    try:
        sign_in(driver, console, "ani")
        assert driver.current_url.endswith("/sales")
        assert text_of(driver, "[data-total='IDR']") == "Rp 5.500"
        driver.execute_script("window.stillTheSamePage = true")
        sold_at = time.monotonic()
        shop.sell(1)
        while time.monotonic() - sold_at < 2.0:
            shown = text_of(driver, "[data-total='IDR']")
            if shown == "Rp 11.000":
                break
            time.sleep(0.05)
        took = time.monotonic() - sold_at
        assert shown == "Rp 11.000", f"still {shown} after {took:.1f} s"
        assert driver.execute_script("return window.stillTheSamePage") is True  # no reload
        row = text_of(driver, "tr[data-terminal='T01']")
        assert "Rp 11.000" in row and " 2 " in f" {row.replace(chr(9), ' ')} "
    finally:
        driver.quit()


def test_each_role_signs_in_and_sees_its_parts_with_screenshots(world, console, tmp_path):
    shop = world.shop("T01", group="north")
    world.serve()
    shop.start_agent()
    shop.sell(3)
    all_held(world, shop)
    shots = tmp_path / "screenshots"  # (the README's are the demo week's)
    shots.mkdir(parents=True, exist_ok=True)
    expected = {
        "ani": [
            "Sales now",
            "Reports",
            "Terminals",
            "Stock",
            "Margins",
            "Trends",
            "Configuration",
            "Jobs",
            "Journal",
            "Accounts",
        ],
        "oka": [
            "Sales now",
            "Reports",
            "Terminals",
            "Stock",
            "Margins",
            "Trends",
            "Configuration",
            "Journal",
        ],
        "made": ["Sales now", "Reports", "Terminals", "Stock", "Margins", "Trends"],
        "rina": ["Reports", "Journal"],
    }
    for name, parts in expected.items():
        driver = chromium.browser()
        try:
            sign_in(driver, console, name)
            assert nav(driver) == parts, name
        finally:
            driver.quit()
    for label, size in (("desktop", chromium.DESKTOP), ("tablet", chromium.TABLET)):
        driver = chromium.browser(size)
        try:
            driver.get(f"{console}/login")
            driver.save_screenshot(str(shots / f"login-{label}.png"))
            sign_in(driver, console, "ani")
            for page in ("sales", "terminals"):
                driver.get(f"{console}/{page}")
                assert driver.find_element(By.TAG_NAME, "h1").text
                driver.save_screenshot(str(shots / f"{page}-{label}.png"))
        finally:
            driver.quit()
    assert sorted(p.name for p in shots.glob("*.png")) == sorted(
        f"{page}-{label}.png"
        for page in ("login", "sales", "terminals")
        for label in ("desktop", "tablet")
    )


def test_a_days_report_downloaded_equals_the_terminals_z_report(world, console):
    shop = world.shop("T01", group="north")
    world.serve()
    shop.start_agent()
    shop.sell(3)
    pos = shop.pos
    pos.shifts.close({10000: 1, 5000: 1, 1000: 1, 500: 1})
    pos.sign_out()
    pos.sign_in("2", "2580")  # the supervisor closes the day
    printed = pos.shifts.z_report().report.to_payload()
    all_held(world, shop)
    day = datetime.now(UTC).astimezone(ZoneInfo("Asia/Jakarta")).date().isoformat()
    driver = chromium.browser()
    try:
        sign_in(driver, console, "made")  # the store manager of S1
        driver.get(f"{console}/reports?period=day&date={day}")
        link = driver.find_element(By.CSS_SELECTOR, "a.csv[href^='/reports/terminals.csv']")
        cookies = {c["name"]: c["value"] for c in driver.get_cookies()}
        href = link.get_attribute("href")
    finally:
        driver.quit()
    got = httpx.get(href, cookies=cookies, timeout=10)  # the download, with the session
    assert got.status_code == 200 and "attachment" in got.headers["content-disposition"]
    (row,) = list(csv.DictReader(io.StringIO(got.text)))
    assert row["terminal"] == "T01"
    for figure in ("sales", "gross_sales", "discounts", "net_sales"):
        assert int(row[figure]) == printed[figure], figure
    assert (int(row["sales"]), int(row["net_sales"]), int(row["taken"])) == (3, 16500, 16500)
    z_csv = httpx.get(href.replace("terminals.csv", "z_reports.csv"), cookies=cookies, timeout=10)
    (z,) = list(csv.DictReader(io.StringIO(z_csv.text)))
    assert int(z["number"]) == 1 and int(z["net_sales"]) == printed["net_sales"]
    # the whole report as PDF: it opens, and it says the terminal's figures
    pdf = httpx.get(href.replace("terminals.csv", "report.pdf"), cookies=cookies, timeout=10)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    words = "\n".join(
        page.get_textpage().get_text_range() for page in pypdfium2.PdfDocument(pdf.content)
    )
    assert "T01" in words and "16.500" in words


def test_screenshots_of_a_demo_week(tmp_path):
    """The console over a week of demo sales (six terminals, three stores), seen as the
    admin at 15:00 in Jakarta: every page at desktop and tablet widths. With
    CONSOLE_SCREENSHOTS=1 (``make console-screenshots``) they go to the README's folder."""
    db = connect(f"sqlite:///{tmp_path / 'demo.db'}")
    create_tables(db)
    now = datetime(2026, 11, 27, 8, 0)  # 15:00 in Jakarta, a Friday
    demo.fill(db, now=now)
    accounts.add_account(db, "ani", "admin", PASSWORD, now, cost=FAST)
    served = serve(
        create_app(db, ConsoleSettings(secure_cookies=False), clock=lambda: now, cost=FAST)
    )
    shots = screenshots_dir(tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    pages = {
        "sales": "/sales",
        "reports": "/reports?period=month&date=2026-11",
        "terminals": "/terminals",
        "journal": "/journal",
        "accounts": "/accounts",
        "stock": "/stock?store=Toko+Sumber+Rejeki",
        "margins": "/margins?period=month&date=2026-11&by=product",
        "trends": "/trends?from=2026-11-20&to=2026-11-27",
    }
    try:
        for label, size in (("desktop", chromium.DESKTOP), ("tablet", chromium.TABLET)):
            driver = chromium.browser(size)
            try:
                driver.get(f"{served.url}/login")
                driver.save_screenshot(str(shots / f"demo-login-{label}.png"))
                sign_in(driver, served.url, "ani")
                for name, path in pages.items():
                    driver.get(served.url + path)
                    assert driver.find_element(By.TAG_NAME, "h1").text
                    if name == "sales":
                        total = driver.find_element(By.CSS_SELECTOR, "[data-total='IDR']").text
                        assert total.startswith("Rp ") and total != "Rp 0"
                        low = driver.find_element(By.CSS_SELECTOR, "[data-low-stock]")
                        assert "below their minimum" in low.text
                    elif name == "stock":  # the demo's deliveries: costs, values, a few low
                        low = driver.find_element(By.CSS_SELECTOR, "[data-low-count]")
                        assert int(low.get_attribute("data-low-count")) > 0
                        value = driver.find_element(By.CSS_SELECTOR, "tfoot [data-value]")
                        assert int(value.get_attribute("data-value")) > 0
                    elif name == "margins":
                        margin = driver.find_element(By.CSS_SELECTOR, "[data-total-margin]")
                        assert int(margin.get_attribute("data-total-margin")) > 0
                        assert driver.find_elements(By.CSS_SELECTOR, "figure.trend svg rect")
                    elif name == "trends":
                        assert driver.find_elements(By.CSS_SELECTOR, "figure svg rect")
                    height = driver.execute_script("return document.body.scrollHeight")
                    driver.set_window_size(size[0], min(max(size[1], height + 120), 4000))
                    driver.save_screenshot(str(shots / f"demo-{name}-{label}.png"))
                    driver.set_window_size(*size)
            finally:
                driver.quit()
    finally:
        served.stop()
    assert len(list(shots.glob("demo-*.png"))) == 18


def test_a_group_price_changed_in_the_forms_is_pushed_in_waves_and_sold(world, tmp_path):
    """The admin changes a group's price in the console: the document as TOML in the
    form, the difference shown, signed and pushed; the real terminal applies it between
    sales and the page shows the rollout done. An owner then proposes another price, the
    admin approves it and the terminal applies it; the admin rolls back to the first
    change with the version's button; the next sale has that price."""
    shop = world.shop("T01", group="north", config_root_key=f'"{world.root_public}"')
    world.serve()
    shop.start_agent()
    fleet_doc = world.tmp / "fleet.toml"
    fleet_doc.write_text(shop_sections_toml())
    pushed_and_applied(push(world, "--scope", "fleet", str(fleet_doc), "--wait", "30"), shop, "")
    db = world.db()
    create_tables(db)
    now = datetime.now(UTC).replace(tzinfo=None)
    accounts.add_account(db, "ani", "admin", PASSWORD, now, cost=FAST)
    accounts.add_account(db, "oka", "owner", PASSWORD, now, cost=FAST)
    settings = load_config(
        fleet_toml(
            tmp_path / "console.toml",
            db_url=world.db_url,
            broker=world.broker,
            client_id="console",
            signing=world.signing,
        )
    )
    console_settings = ConsoleSettings(secure_cookies=False, owner_proposals=True)
    served = serve(create_app(db, console_settings, cost=FAST, fleet=settings))
    driver = chromium.browser()
    try:
        sign_in(driver, served.url, "ani")
        driver.get(f"{served.url}/config/edit?scope=group:north")
        area = driver.find_element(By.NAME, "document")
        area.clear()
        area.send_keys(TEH_6000)
        driver.find_element(By.NAME, "waves").clear()
        driver.find_element(By.NAME, "waves").send_keys("100%")
        driver.find_element(By.NAME, "wait").clear()
        driver.find_element(By.NAME, "wait").send_keys("60")
        driver.find_element(By.CSS_SELECTOR, "form.config button[type=submit]").click()
        diff = found(driver, "pre[data-diff]").text
        assert "+price = 6000" in diff and '+sku = "TEH-BTL"' in diff
        driver.find_element(By.CSS_SELECTOR, "button[data-push]").click()
        found(driver, "section#rollouts [data-rollout]")  # back on /config, the rollout there
        driver.execute_script("window.stillTheSamePage = true")
        wait_for(
            lambda: shop.pos.fleet_config.poll() or "group:north" in str(applied(shop)),
            "the group's price applied on the terminal",
        )
        wait_for(  # the page follows the rollout as it goes, without a reload
            lambda: text_of(driver, "[data-rollout] [data-state]") == "done",
            "the rollout shown done",
        )
        assert driver.execute_script("return window.stillTheSamePage") is True

        driver.get(f"{served.url}/jobs")  # and a job: the terminal's diagnostics
        Select(driver.find_element(By.NAME, "kind")).select_by_value("diagnostics")
        driver.find_element(By.NAME, "target").send_keys("terminal:T01")
        driver.find_element(By.CSS_SELECTOR, "form.filters button[type=submit]").click()
        found(driver, "[data-job]")

        def answered() -> bool:
            driver.get(f"{served.url}/jobs")
            return text_of(driver, "[data-job] tr[data-terminal='T01'] [data-answer]") == "done"

        wait_for(answered, "the terminal's answer to the job on the page")

        # an owner proposes Rp 7.000; the admin approves; the terminal applies version 2
        driver.delete_all_cookies()
        sign_in(driver, served.url, "oka")
        driver.get(f"{served.url}/config/edit?scope=group:north")
        area = driver.find_element(By.NAME, "document")
        area.clear()
        area.send_keys(TEH_6000.replace("6000", "7000"))
        driver.find_element(By.CSS_SELECTOR, "form.config button[type=submit]").click()
        assert "+price = 7000" in found(driver, "pre[data-diff]").text
        driver.find_element(By.NAME, "note").send_keys("Teh Botol up from Monday")
        driver.find_element(By.CSS_SELECTOR, "button[data-propose]").click()
        assert found(driver, "dd[data-state]").text == "waiting for approval"
        proposal_url = driver.current_url
        assert not applied(shop)["group:north"].version > 1  # nothing sent yet
        driver.delete_all_cookies()
        sign_in(driver, served.url, "ani")
        driver.get(f"{served.url}/config")
        driver.find_element(By.CSS_SELECTOR, "[data-proposals] a").click()
        assert found(driver, "[data-note]").text == "Teh Botol up from Monday"
        driver.find_element(By.NAME, "wait").clear()
        driver.find_element(By.NAME, "wait").send_keys("60")
        driver.find_element(By.CSS_SELECTOR, "button[data-approve]").click()
        found(driver, "section#rollouts [data-rollout]")

        def version_applied(version: int) -> bool:
            shop.pos.fleet_config.poll()
            held = applied(shop).get("group:north")
            return held is not None and held.version == version

        wait_for(lambda: version_applied(2), "the owner's price, approved, applied")
        driver.get(proposal_url)
        assert found(driver, "dd[data-state]").text.startswith("approved (ani")

        # the admin rolls back to version 1 with its button
        driver.get(f"{served.url}/config")
        driver.find_element(By.CSS_SELECTOR, "a[data-roll-back][href$='version=1']").click()
        assert "price = 6000" in found(driver, "textarea[name=document]").get_attribute("value")
        driver.find_element(By.NAME, "wait").clear()
        driver.find_element(By.NAME, "wait").send_keys("60")
        driver.find_element(By.CSS_SELECTOR, "form.config button[type=submit]").click()
        diff = found(driver, "pre[data-diff]").text
        assert "-price = 7000" in diff and "+price = 6000" in diff
        driver.find_element(By.CSS_SELECTOR, "button[data-push]").click()
        found(driver, "section#rollouts [data-rollout]")
        wait_for(lambda: version_applied(3), "the rollback applied")
    finally:
        driver.quit()
        served.stop()
    shop.pos.scan(TEH)
    assert shop.pos.cart.lines[0].amount == 6000
    audit = [a.action for a in ConsoleAudit.select().bind(db)]
    assert "config push" in audit and "job sent" in audit
    assert "config propose" in audit and "proposal approve" in audit
