"""Tax tables: every expected value below was worked out by hand (see the comments)."""

from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from terminal.core.taxes import Tax, TaxClass, line_nets, summarize

PPN = TaxClass("PPN", "PPN 11%", (Tax("PPN", "PPN", D("11")),))
CN_VAT = TaxClass("VAT13", "VAT 13%", (Tax("VAT", "VAT", D("13")),))
MN_VAT = Tax("VAT", "НӨАТ", D("10"))
MN_CITY = Tax("CITY", "НХАТ", D("1"))
MN_FULL = TaxClass("VATCITY", "VAT 10% + city 1%", (MN_VAT, MN_CITY))
MN_VAT_ONLY = TaxClass("VAT10", "VAT 10%", (MN_VAT,))
EXEMPT = TaxClass("EXEMPT", "Exempt", ())


@pytest.mark.parametrize(
    ("lines", "inclusive", "net", "tax", "gross", "per_rate"),
    [
        # 11100 / 1.11 = 10000 exactly
        ([(PPN, 11100)], True, 10000, 1100, 11100, [("PPN", 10000, 1100)]),
        # 10000 / 1.11 = 9009.009 -> 9009, tax 991
        ([(PPN, 10000)], True, 9009, 991, 10000, [("PPN", 9009, 991)]),
        # exclusive: 150 * 11% = 16.5 -> 17 (half up; banker's rounding would give 16)
        ([(PPN, 150)], False, 150, 17, 167, [("PPN", 150, 17)]),
        # CNY in fen: 11.30 incl. 13% -> net 10.00, VAT 1.30
        ([(CN_VAT, 1130)], True, 1000, 130, 1130, [("VAT", 1000, 130)]),
        # 9.99 / 1.13 = 8.84071 -> 8.84, VAT 1.15
        ([(CN_VAT, 999)], True, 884, 115, 999, [("VAT", 884, 115)]),
        # exclusive 10.50 * 13% = 1.365 -> 1.37
        ([(CN_VAT, 1050)], False, 1050, 137, 1187, [("VAT", 1050, 137)]),
        # Mongolia 11000 incl. 11%: exact net 9909.9099 -> 9910; taxes 1090:
        # VAT round(990.99099) = 991, city tax takes the remainder 99 (9909.91 * 1% = 99.099)
        ([(MN_FULL, 11000)], True, 9910, 1090, 11000, [("VAT", 9910, 991), ("CITY", 9910, 99)]),
        # exclusive: 10000 + VAT 1000 + city 100
        (
            [(MN_FULL, 10000)],
            False,
            10000,
            1100,
            11100,
            [("VAT", 10000, 1000), ("CITY", 10000, 100)],
        ),
        # two classes share VAT: 11100 incl. 11% -> 10000 + 1000 + 100; 1100 incl. 10% -> 1000 + 100
        (
            [(MN_FULL, 11100), (MN_VAT_ONLY, 1100)],
            True,
            11000,
            1200,
            12200,
            [("VAT", 11000, 1100), ("CITY", 10000, 100)],
        ),
        # an exempt line adds to net and gross, not to any rate
        ([(PPN, 11100), (EXEMPT, 5000)], True, 15000, 1100, 16100, [("PPN", 10000, 1100)]),
        # taxes per class on the sum of its lines: 3 x 100 incl. 11% = 300 / 1.11 = 270.27 -> 270
        ([(PPN, 100), (PPN, 100), (PPN, 100)], True, 270, 30, 300, [("PPN", 270, 30)]),
        # nothing sold: nothing owed
        ([], True, 0, 0, 0, []),
    ],
)
def test_tax_table(lines, inclusive, net, tax, gross, per_rate):
    summary = summarize(lines, prices_include_tax=inclusive)
    assert (summary.net, summary.tax, summary.gross) == (net, tax, gross)
    assert [(r.tax.code, r.base, r.amount) for r in summary.per_rate] == per_rate


def test_inclusive_parts_always_add_up_to_the_gross():
    for gross in range(0, 5000, 7):
        summary = summarize([(MN_FULL, gross)], prices_include_tax=True)
        assert summary.net + sum(r.amount for r in summary.per_rate) == gross


@pytest.mark.parametrize("inclusive", [True, False])
def test_line_nets_are_each_class_net_shared_by_amounts_and_add_up_to_the_sale(inclusive):
    """The margin's revenue per line: a mixed basket (PPN, exempt, Mongolia's two taxes)."""
    lines = [(PPN, 5500), (EXEMPT, 17500), (PPN, 3500), (MN_FULL, 11000)]
    nets = line_nets(lines, prices_include_tax=inclusive)
    assert sum(nets) == summarize(lines, prices_include_tax=inclusive).net
    if inclusive:  # PPN 9.000 -> 8.108 split 5.500 : 3.500; exempt untouched; 11.000 -> 9.910
        assert nets == [4955, 17500, 3153, 9910]
    else:
        assert nets == [5500, 17500, 3500, 11000]


@given(
    st.lists(
        st.tuples(st.sampled_from([PPN, CN_VAT, MN_FULL, EXEMPT]), st.integers(0, 10**7)),
        max_size=12,
    ),
    st.booleans(),
)
def test_line_nets_always_add_up_to_the_summary_net(lines, inclusive):
    nets = line_nets(lines, prices_include_tax=inclusive)
    assert sum(nets) == summarize(lines, prices_include_tax=inclusive).net
    assert all(0 <= net <= amount for net, (_c, amount) in zip(nets, lines, strict=True))
