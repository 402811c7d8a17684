"""The refund formula, property-based: refund = paid + interest − recognised, to the 원."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

from blueprints.settlement.refund import compute_refund, depositor_name

won = st.integers(min_value=0, max_value=10_000_000)


@given(paid=won, interest=st.integers(0, 100_000), spent=won, recognised=won, truncate=st.booleans())
def test_refund_properties(paid, interest, spent, recognised, truncate):
    recognised = min(recognised, spent)
    f = compute_refund(paid_won=paid, interest_won=interest, spent_won=spent, recognised_lines_won=recognised,
                       truncate_10won=truncate)
    assert f.refund_won >= 0
    assert f.recognised_won <= paid
    assert f.recognised_won <= recognised
    exact = paid + interest - f.recognised_won
    if truncate:
        assert f.refund_won % 10 == 0 and 0 <= exact - f.refund_won < 10 and f.truncated_won == exact - f.refund_won
    else:
        assert f.refund_won == exact          # to the 원, interest included
    assert f.unspent_won == paid - f.recognised_won


def test_examples():
    f = compute_refund(paid_won=800_000, interest_won=1_234, spent_won=790_000, recognised_lines_won=760_000)
    assert (f.recognised_won, f.not_recognised_won, f.refund_won) == (760_000, 30_000, 41_234)
    f = compute_refund(paid_won=800_000, interest_won=1_234, spent_won=790_000, recognised_lines_won=760_000,
                       truncate_10won=True)
    assert (f.refund_won, f.truncated_won) == (41_230, 4)
    f = compute_refund(paid_won=500_000, interest_won=0, spent_won=600_000, recognised_lines_won=600_000)
    assert (f.recognised_won, f.refund_won) == (500_000, 0)
    with pytest.raises(ValueError):
        compute_refund(paid_won=-1, interest_won=0, spent_won=0, recognised_lines_won=0)


def test_depositor_name():
    assert depositor_name("햇살품앗이", "김대표") == "햇살품앗이(김대표)"
