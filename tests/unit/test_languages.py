"""Choosing the patient's language (chalicelib/intake/languages.py): ?lang=, Accept-Language, the default."""
import pytest

from chalicelib.intake.languages import accepted, choose

OFFERED = ("en", "es")


@pytest.mark.parametrize("query, header, language", [
    ("es", None, "es"),
    ("ES", "en", "es"),                       # ?lang= wins over the browser
    (None, "es-MX,es;q=0.9,en;q=0.8", "es"),  # a region falls back to its language
    (None, "en-US,en;q=0.9,es;q=0.8", "en"),
    (None, "fr-CA,fr;q=0.9,es;q=0.5", "es"),  # the best one offered
    (None, "es;q=0.4,en;q=0.6", "en"),        # q-values, not order
    (None, "en;q=0.5,es;q=0.5", "en"),        # equal: the order given
    (None, "es;q=0,en", "en"),                # q=0: not acceptable
    (None, "*", "en"),
    (None, None, "en"),
    (None, "", "en"),
])
def test_the_language_is_chosen_as_the_contract_says(query, header, language):
    assert choose(OFFERED, query, header) == language


@pytest.mark.parametrize("query, header", [
    ("xx", None),
    ("", None),
    ("../../etc", None),
    (None, ";;q=abc,"),
    (None, "es;q=abc"),
    (None, "es;q=2"),
    (None, "e$;q=1"),
    (None, "x" * 10_240),
    (None, ",".join(["xx"] * 5000) + ",es"),  # 10 KB of tags: only the first ones are read
])
def test_anything_odd_falls_back_to_the_default_without_an_error(query, header):
    assert choose(OFFERED, query, header) == "en"


@pytest.mark.parametrize("offered, header, language", [
    (OFFERED, "es;q=0", "en"),
    (OFFERED, "es-MX;q=0.000", "en"),
    (OFFERED, "fr, es;q=0", "en"),
    (("es", "en"), "es;q=0, en;q=0.1", "en"),
])
def test_a_language_with_q_0_is_never_served(offered, header, language):
    """q=0 means "not acceptable" (RFC 9110 §12.4.2). Catches `if quality > 0:` dropped from `accepted`, which
    served Spanish to "es;q=0": the other cases had a better language beside it, so q-order alone hid the bug."""
    assert choose(offered, None, header) == language


def test_only_the_languages_offered_are_served():
    assert choose(("en",), "es", "es") == "en"
    assert choose(("es", "en"), None, None) == "es"


def test_ranges_are_read_best_first_and_bounded():
    assert accepted("de;q=0.2, es-419, en;q=0.7") == [("es", 1.0), ("en", 0.7), ("de", 0.2)]
    assert len(accepted(",".join(f"l{'a' * (n % 5)};q=0.5" for n in range(500)))) <= 20
