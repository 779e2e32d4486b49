"""The adversarial pass (`tests/adversarial.py`) in the suite: four hostile values for every command
argument, import column, catalog key and web form field, on each backend. The whole pass (every value)
is run by hand for the figures in the README: `python tests/adversarial.py`."""

from __future__ import annotations

import pytest

import adversarial

pytestmark = pytest.mark.slow  # about a thousand calls per backend


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_no_attack_gets_past_the_promises(backend, request):
    if backend == "postgresql":
        if not adversarial.os.environ.get("FORECAST_TRACKER_TEST_PG"):
            pytest.skip("FORECAST_TRACKER_TEST_PG is not set")
        database = request.getfixturevalue("pg_database")
        tally = adversarial.run_pass(str(database), sample=4)
    else:
        tally = adversarial.run_pass(None, sample=4)
    assert tally.attacks > 600, tally.by_face  # the pass really ran: every face, every slot
    assert set(tally.by_face) == {"cli", "import", "catalog", "web"}
    assert tally.failures == [], "\n".join(tally.failures[:20])


def test_the_pass_catches_what_it_is_meant_to():
    """The judge fails an exit 1, a second error form, a changed database on exit 2 and an escape code
    on a terminal: a pass that could not fail would prove nothing."""
    tally = adversarial.Tally()
    adversarial._judge(tally, "a", 1, "", "error: unexpected OSError", False, False)
    adversarial._judge(tally, "b", 2, "", "Usage: no", False, False)
    adversarial._judge(tally, "c", 2, "", "error: refused", True, False)
    adversarial._judge(tally, "d", 0, "\x1b[31mred", "", False, True)
    adversarial._judge(tally, "e", 2, "", "error: " + "x" * 600, False, False)
    adversarial._judge(tally, "f", 2, "", "error: fine", False, False)
    adversarial._judge(tally, "g", 0, '{"note": "\x1b"}', "", False, False)  # JSON stays exact
    assert [line.split(":")[0] for line in tally.failures] == ["'a'", "'b'", "'c'", "'d'", "'e'"]
