"""A whole cash sale through the service, with the simulated printer and drawer."""

import dataclasses
import re

import msgspec
import pytest

from hal.printer.preview import BarcodeMark, Cut, QrMark, interpret
from terminal.core.errors import PosError, TenderError, UnknownCode
from terminal.services.demo import weighed_barcode


def test_cash_sale_commits_prints_and_opens_drawer(terminal):
    pos = terminal.pos
    pos.sign_in("1", "1357")
    pos.scan("8991002101111")  # Teh Botol 5.500
    pos.scan(weighed_barcode("22", "10001", 1234))  # Apel 1,234 kg x 42.000 = 51.828
    pos.set_quantity(0, "3")  # 16.500
    assert pos.cart.total == 68328
    assert pos.cash_payable() == 68300  # cash rounding to Rp 100: 68328 -> 68300
    outcome = pos.pay_cash(100000)
    assert outcome.change == 31700
    assert outcome.print_error is None
    assert outcome.committed.label == "T01-000001"
    assert len(pos.drawer.pulses) == 1
    assert pos.cart.is_empty

    paper = interpret(outcome.receipt_bytes)
    assert not paper.unknown
    text = "\n".join(paper.lines)
    assert "Teh Botol Sosro 450 ml" in text
    assert "  3 x Rp 5.500" in text and "Rp 16.500" in text
    assert "  1,234 kg x Rp 42.000" in text and "Rp 51.828" in text
    assert "No. T01-000001" in text and "23-11-2026 10:00" in text
    assert [b.data for b in paper.of(BarcodeMark)] == [outcome.committed.return_code]
    assert [q.data for q in paper.of(QrMark)] == [outcome.committed.return_code]
    assert isinstance(paper.items[-1], Cut)
    # the simulator wrote the stream and a readable preview
    receipts = pos.settings.data_dir / "receipts"
    assert (receipts / "T01-000001.escpos").read_bytes() == outcome.receipt_bytes
    assert (receipts / "T01-000001.png").stat().st_size > 1000


def test_paper_out_keeps_the_sale(terminal):
    pos = terminal.pos
    pos.sign_in("1", "1357")
    pos.scan("GULA-1KG")
    pos.printer.paper_out = True
    outcome = pos.pay_cash(20000)
    assert outcome.print_error == "the printer is out of paper"
    assert outcome.committed.number == 1
    assert len(pos.drawer.pulses) == 1  # the change still has to be given


def test_bad_input_changes_nothing(terminal):
    pos = terminal.pos
    pos.sign_in("1", "1357")
    with pytest.raises(PosError, match="Nothing to pay"):
        pos.pay_cash(1000)
    pos.scan("GULA-1KG")
    with pytest.raises(UnknownCode):
        pos.scan("4006381333931")
    with pytest.raises(TenderError, match="less than the total"):
        pos.pay_cash(17000)
    assert [line.product.sku for line in pos.cart.lines] == ["GULA-1KG"]
    assert pos.drawer.pulses == []
    assert pos.printer.jobs == []


def test_wrong_pin_or_operator_gives_one_message(terminal):
    pos = terminal.pos
    messages = set()
    for operator, pin in [("1", "0000"), ("99", "1357"), ("x", "1357"), ("1", "")]:
        try:
            pos.sign_in(operator, pin)
        except PosError as exc:
            messages.add(str(exc))
    assert messages == {"Wrong cashier number or PIN"}
    assert pos.cashier is None
    assert pos.sign_in("2", "2580").is_supervisor


def test_the_readme_examples_scan_as_documented(terminal):
    import re  # noqa: PLC0415 - only this test reads the README
    from decimal import Decimal  # noqa: PLC0415

    from tests.conftest import ROOT  # noqa: PLC0415

    readme = (ROOT / "README.md").read_text()
    weighed = re.search(r"`(22\d{11})` is 1\.234 kg of Fuji apples", readme)[1]
    line = terminal.pos.catalogue.lookup(weighed)
    assert (line.product.sku, line.quantity) == ("APEL-FUJI", Decimal("1.234"))
    menu = re.search(r"type `(\w+)` for Nasi Goreng", readme)[1]
    assert terminal.pos.catalogue.lookup(menu).product.sku == "NASI-GRG"
    assert "34 products" in readme
    assert len(terminal.pos.catalogue.products) == 34


def test_receipt_prints_only_after_commit(terminal, settings):
    """The printer, when called, must already see the sale from another connection."""
    from tests.conftest import open_reader  # noqa: PLC0415

    pos = terminal.pos
    real = pos.printer
    seen = []

    class CheckingPrinter:
        columns = real.columns

        def render(self, doc):
            return real.render(doc)

        def print_bytes(self, data, *, job_name=""):
            reader = open_reader(terminal)
            seen.append(reader.execute("SELECT COUNT(*) FROM sale").fetchone()[0])
            reader.close()
            return real.print_bytes(data, job_name=job_name)

    pos.printer = CheckingPrinter()
    pos.sign_in("1", "1357")
    pos.scan("GULA-1KG")
    pos.pay_cash(17500)
    assert seen == [1]


def test_logo_from_configuration_is_on_the_receipt(terminal, tmp_path):
    from PIL import Image  # noqa: PLC0415

    from hal.printer.preview import RasterMark  # noqa: PLC0415

    logo = tmp_path / "logo.png"
    Image.new("1", (128, 32), 0).save(logo)
    pos = terminal.pos
    pos.settings = dataclasses.replace(
        pos.settings, hardware=pos.settings.hardware.replace("printer", logo=str(logo))
    )
    pos.sign_in("1", "1357")
    pos.scan("GULA-1KG")
    paper = interpret(pos.pay_cash(17500).receipt_bytes)
    assert [m.image.size for m in paper.of(RasterMark)] == [(128, 32)]
    assert paper.lines[0] == "Toko Demo Sejahtera"


def test_a_fault_after_commit_never_loses_the_sale(terminal, caplog):
    pos = terminal.pos
    printer = pos.settings.hardware.printer
    gone = msgspec.structs.replace(printer.settings)  # bypassing the check: the file went
    msgspec.structs.force_setattr(gone, "logo", "/nonexistent/logo.png")  # after the start
    logo_gone = dataclasses.replace(printer, settings=gone)
    pos.settings = dataclasses.replace(
        pos.settings, hardware=dataclasses.replace(pos.settings.hardware, printer=logo_gone)
    )

    class BrokenDrawer:
        def open(self):
            raise OSError("GPIO busy")

    pos.drawer = BrokenDrawer()
    pos.sign_in("1", "1357")
    pos.scan("GULA-1KG")
    outcome = pos.pay_cash(17500)
    assert outcome.committed.number == 1
    assert outcome.print_error == "the printer did not take it"  # for the cashier
    assert "FileNotFoundError" in caplog.text  # the detail, for the technician
    assert pos.cart.is_empty  # ready for the next customer


def test_log_holds_no_pin_even_typed_in_the_wrong_place(terminal, caplog):
    import logging  # noqa: PLC0415

    pos = terminal.pos
    caplog.set_level(logging.INFO)  # the terminal's level (peewee is pinned to INFO)
    with pytest.raises(PosError):
        pos.sign_in("11357", "")  # number and PIN typed together before Enter
    with pytest.raises(PosError):
        pos.sign_in("1", "9753")
    pos.sign_in("1", "1357")
    with pytest.raises(PosError):
        pos.scan("1357")  # the PIN typed into the sale screen's entry
    text = caplog.text + "\n".join(str(r.args) for r in caplog.records)
    for pin in ("1357", "9753"):  # as a token: hex digests may hold the digits by chance
        assert not re.search(rf"(?<![0-9A-Za-z]){pin}(?![0-9A-Za-z])", text)


def test_paper_out_then_resume_prints_each_receipt_once(terminal):
    from terminal.store import print_queue  # noqa: PLC0415

    pos = terminal.pos
    pos.sign_in("1", "1357")
    pos.printer.paper_out = True
    for _ in range(2):
        pos.scan("GULA-1KG")
        assert pos.pay_cash(20000).print_error == "the printer is out of paper"  # receipts wait
    assert [j.name for j in print_queue.waiting(pos.db)] == ["T01-000001", "T01-000002"]
    assert pos.resume_printing() == (0, "the printer is out of paper")  # nothing lost
    pos.printer.paper_out = False  # new roll
    assert pos.resume_printing() == (2, None)
    assert [name for name, _data in pos.printer.jobs] == ["T01-000001", "T01-000002"]
    assert pos.resume_printing() == (0, None)  # nothing prints twice
    assert len(pos.printer.jobs) == 2


def test_a_receipt_interrupted_by_a_crash_is_not_reprinted_by_itself(terminal):
    from terminal.store import print_queue  # noqa: PLC0415

    pos = terminal.pos
    pos.sign_in("1", "1357")
    pos.scan("GULA-1KG")
    done = pos.pay_cash(20000).committed
    print_queue.mark(pos.db, done.print_job, "printing")  # as if killed while sending
    assert pos.resume_printing() == (0, None)
    assert pos.interrupted_receipts() == ["T01-000001"]  # the cashier checks the printer


def test_the_receipt_job_is_in_the_sales_transaction(terminal):

    pos = terminal.pos
    pos.db.execute_sql(
        "CREATE TEMP TRIGGER no_jobs BEFORE INSERT ON print_job"
        " BEGIN SELECT RAISE(ABORT, 'disk full'); END"
    )
    pos.sign_in("1", "1357")
    pos.scan("GULA-1KG")
    with pytest.raises(PosError, match="NOT saved"):
        pos.pay_cash(20000)
    assert pos.db.execute_sql("SELECT COUNT(*) FROM sale").fetchone()[0] == 0


def test_two_terminals_in_one_process_keep_to_their_own_database(settings, clock, tmp_path):
    """No global database: each terminal's queries name its own, so a second terminal
    opened in the same process (a tool, a test) never takes the first one's place."""
    from terminal.services.bootstrap import build_terminal  # noqa: PLC0415
    from terminal.store.cashiers import FAST_TEST_PARAMS  # noqa: PLC0415
    from terminal.store.models import SaleRow  # noqa: PLC0415
    from tests.conftest import with_open_shift  # noqa: PLC0415

    first = with_open_shift(build_terminal(settings, clock=clock, pin_params=FAST_TEST_PARAMS))
    other = dataclasses.replace(
        settings,
        data_dir=tmp_path / "other",
        security=dataclasses.replace(settings.security, key_dir=tmp_path / "other" / "keys"),
    )
    second = with_open_shift(build_terminal(other, clock=clock, pin_params=FAST_TEST_PARAMS))
    first.pos.sign_in("1", "1357")
    first.pos.scan("GULA-1KG")
    assert first.pos.pay_cash(20000).committed.number == 1  # opened before the second
    assert SaleRow.select().count(first.pos.db) == 1
    assert SaleRow.select().count(second.pos.db) == 0
    with pytest.raises(RuntimeError, match="names no database"):
        SaleRow.select().count()


def test_a_full_disk_after_the_commit_leaves_the_sale_saved_and_the_app_going(terminal):
    """The sale's COMMIT went through; then the storage fills up and the print queue
    cannot be written. The cashier is told the sale is saved, the receipt is not, and
    why; the next sale goes on."""
    pos = terminal.pos
    pos.db.execute_sql(
        "CREATE TEMP TRIGGER full BEFORE UPDATE ON print_job"
        " BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"
    )
    pos.sign_in("1", "1357")
    pos.scan("GULA-1KG")
    outcome = pos.pay_cash(20000)  # no exception out of it
    assert outcome.committed.number == 1
    assert outcome.print_error == "the terminal's storage is full: call a technician"
    assert len(pos.drawer.pulses) == 1 and pos.cart.is_empty  # the money is in the drawer
    pos.db.execute_sql("DROP TRIGGER full")
    pos.scan("GULA-1KG")
    assert pos.pay_cash(20000).committed.number == 2


def test_favourites_are_the_best_sellers_of_the_last_30_days(terminal, clock):
    pos = terminal.pos
    pos.sign_in("1", "1357")
    first = [p.sku for p in pos.favourites(4)]  # nothing sold yet: the catalogue's first
    assert len(first) == 4
    assert not any(p.sold_by_weight for p in pos.favourites(100))
    for codes in (["GULA-1KG"], ["GULA-1KG", "8991002101111"], ["GULA-1KG"]):
        for code in codes:
            pos.scan(code)
        pos.pay_cash(100000)
    assert [p.sku for p in pos.favourites(4)][:2] == ["GULA-1KG", "TEH-BTL"]
    clock.advance(31 * 24 * 3600)  # a month later those sales no longer count
    assert [p.sku for p in pos.favourites(4)] == first
