"""The morning digest, with fixed clocks and in-memory fakes: when it goes out, to whom, once, and what it says."""
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.core.errors import MailNotSent
from chalicelib.notify.digest import CLAIM_DAYS, Digest, compose_digest
from chalicelib.staff.accounts import Account
from chalicelib.storage.digest_counts import Count
from tests.conftest import captured_log_lines
from tests.fakes import Clock, FakeAccounts, FakeDigestClaims, FakeDigestCounts, FakeMailer

# America/New_York (the dev stage's CLINIC_TIMEZONE), DIGEST_HOUR 8: 13:00 UTC in winter, 12:00 UTC in summer.
WINTER_8AM = datetime(2026, 12, 8, 13, 0, tzinfo=timezone.utc)  # Tuesday 8 December, 08:00 EST
CREATED = "2026-11-01T00:00:00.000Z"


def iso(moment):
    from chalicelib.core.clock import utc_iso

    return utc_iso(moment)


def account(email, role="staff", active=True, digest=True):
    return Account(email, email.split("@")[0].title(), role, active, CREATED, CREATED, digest=digest)


@pytest.fixture
def accounts():
    fake = FakeAccounts()
    for email in ("ana@clinic.example", "ben@clinic.example"):
        fake.put(account(email))
    return fake


@pytest.fixture
def counts():
    return FakeDigestCounts()


@pytest.fixture
def claims():
    return FakeDigestClaims()


@pytest.fixture
def mailer():
    return FakeMailer()


@pytest.fixture
def clock():
    return Clock(WINTER_8AM)


@pytest.fixture
def digest(accounts, counts, claims, mailer, settings, clock):
    return Digest(accounts, counts, claims, mailer, settings, now=clock)


def recipients(mailer):
    return sorted(email.to for email in mailer.sent)


# --- when ----------------------------------------------------------------------------------------

def test_it_goes_out_in_the_hour_of_digest_hour_on_the_clinics_clock_and_in_no_other(digest, mailer, clock):
    sent_at = []
    for hour in range(24):
        clock.now = datetime(2026, 12, 8, hour, 0, tzinfo=timezone.utc)
        if digest.run().sent:
            sent_at.append(hour)
    assert sent_at == [13]  # 08:00 in New York
    assert recipients(mailer) == ["ana@clinic.example", "ben@clinic.example"]


def test_a_run_late_in_the_hour_still_sends_and_one_before_it_does_not(digest, mailer, clock):
    clock.now = WINTER_8AM - timedelta(seconds=1)
    assert digest.run().due is False
    clock.now = WINTER_8AM + timedelta(minutes=59, seconds=59)
    assert digest.run().sent == 2


@pytest.mark.parametrize("day, utc_hour", [
    ((2026, 3, 7), 13),  # the Saturday before the clocks go forward: still EST
    ((2026, 3, 8), 12),  # the clocks went forward at 02:00: 08:00 EDT is 12:00 UTC
    ((2026, 10, 31), 12),  # the Saturday before they go back: EDT
    ((2026, 11, 1), 13),  # they went back at 02:00: 08:00 EST is 13:00 UTC
])
def test_it_follows_daylight_saving_time(digest, mailer, clock, day, utc_hour):
    sent_at = []
    for hour in range(24):
        clock.now = datetime(*day, hour, 30, tzinfo=timezone.utc)
        if digest.run().sent:
            sent_at.append(hour)
    assert sent_at == [utc_hour]


def test_an_hour_the_clocks_repeat_sends_once(accounts, counts, claims, mailer, settings, clock):
    """On 1 November 2026, 01:00-02:00 happens twice in New York (EDT, then EST): one digest, not two."""
    digest = Digest(accounts, counts, claims, mailer, replace(settings, digest_hour=1), now=clock)
    clock.now = datetime(2026, 11, 1, 5, 0, tzinfo=timezone.utc)  # 01:00 EDT
    assert digest.run().sent == 2
    clock.now = datetime(2026, 11, 1, 6, 0, tzinfo=timezone.utc)  # 01:00 EST, the same local date
    second = digest.run()
    assert (second.due, second.sent, second.already_sent) == (True, 0, 2)
    assert len(mailer.sent) == 2


def test_make_digest_sends_at_any_hour(digest, mailer, clock):
    clock.now = WINTER_8AM + timedelta(hours=5)
    assert digest.run().sent == 0
    assert digest.run(force=True).sent == 2
    assert digest.run(force=True).sent == 0  # and still once a day


# --- once a day, to whom ---------------------------------------------------------------------------

def test_a_retried_run_sends_nothing_twice(digest, mailer, clock, claims):
    assert digest.run().sent == 2
    clock.advance(minutes=1)
    retried = digest.run()
    assert (retried.sent, retried.already_sent) == (0, 2)
    assert recipients(mailer) == ["ana@clinic.example", "ben@clinic.example"]
    assert {day for day, _ in claims.claims} == {"2026-12-08"}
    assert {expires for _, expires in claims.claims.values()} == {
        int((WINTER_8AM + timedelta(days=CLAIM_DAYS)).timestamp())}


def test_the_next_day_sends_again(digest, mailer, clock):
    digest.run()
    clock.advance(days=1)
    assert digest.run().sent == 2
    assert len(mailer.sent) == 4


def test_two_overlapping_runs_send_one_digest_to_each_account(accounts, counts, claims, settings, clock):
    accounts.put(account("cai@clinic.example"))

    class SlowMailer(FakeMailer):
        """While the first run sends its first digest, a second run starts and finishes."""

        def send(self, email):
            hook, self.during_send = getattr(self, "during_send", None), None
            if hook:
                hook()
            return super().send(email)

    mailer = SlowMailer()
    first = Digest(accounts, counts, claims, mailer, settings, now=clock)
    second = Digest(accounts, counts, claims, mailer, settings, now=clock)
    outcomes = []
    mailer.during_send = lambda: outcomes.append(second.run())

    outcomes.append(first.run())

    assert sorted(email.to for email in mailer.sent) == [
        "ana@clinic.example", "ben@clinic.example", "cai@clinic.example"]
    assert sorted((run.sent, run.already_sent) for run in outcomes) == [(1, 2), (2, 1)]


def test_disabled_and_opted_out_accounts_get_nothing(accounts, digest, mailer):
    accounts.put(account("off@clinic.example", digest=False))
    accounts.put(account("gone@clinic.example"))
    accounts.disable("gone@clinic.example", CREATED)
    accounts.put(account("boss@clinic.example", role="admin"))

    digest.run()

    assert recipients(mailer) == ["ana@clinic.example", "ben@clinic.example", "boss@clinic.example"]


def test_nobody_to_send_to_reads_no_counts(settings, clock):
    class NoCounts:
        def count(self, *args, **kwargs):
            raise AssertionError("counted for nobody")

        first_contacts = count

    accounts = FakeAccounts()
    accounts.put(account("off@clinic.example", digest=False))
    run = Digest(accounts, NoCounts(), FakeDigestClaims(), FakeMailer(), settings, now=clock).run()
    assert (run.due, run.sent) == (True, 0)


def test_a_digest_ses_refuses_is_released_and_sent_by_a_later_run(digest, mailer, clock, claims):
    mailer.failing = "Throttling"
    with pytest.raises(MailNotSent):
        digest.run()
    assert claims.claims == {}
    assert any('"event": "digest_failed"' in line and '"reason": "Throttling"' in line for line in captured_log_lines())

    mailer.failing = None
    clock.advance(minutes=10)
    assert digest.run().sent == 2
    assert recipients(mailer) == ["ana@clinic.example", "ben@clinic.example"]


def test_a_digest_that_can_never_go_is_not_retried_all_day(accounts, counts, claims, settings, clock):
    class Refusing(FakeMailer):
        def send(self, email):
            if email.to == "ana@clinic.example":
                raise MailNotSent("address_not_sendable", retryable=False)
            return super().send(email)

    mailer = Refusing()
    digest = Digest(accounts, counts, claims, mailer, settings, now=clock)
    assert digest.run().sent == 1
    clock.advance(minutes=30)
    assert digest.run().sent == 0
    assert recipients(mailer) == ["ben@clinic.example"]


# --- what it says ----------------------------------------------------------------------------------

def seed(counts):
    now, day = WINTER_8AM, timedelta(days=1)
    for due in (now - timedelta(hours=3), now, now + timedelta(minutes=1)):  # two overdue (due by now), one not yet
        counts.add("new", "downtown", iso(now - day), due_at=iso(due))
    counts.add("contacted", "downtown", iso(now - 2 * day), first_contact={"wall_minutes": 40, "business_minutes": 30})
    counts.add("scheduled", "downtown", iso(now - 3 * day),
               first_contact={"wall_minutes": 200, "business_minutes": 125})
    counts.add("closed", "downtown", iso(now - 6 * day), first_contact={"wall_minutes": 900, "business_minutes": 600})
    counts.add("closed", "downtown", iso(now - 8 * day),  # arrived before the week: not in the median
               first_contact={"wall_minutes": 99999, "business_minutes": 99999})
    counts.add("suspected_spam", "downtown", iso(now - 2 * day),  # marked as spam by staff: no contact
               first_contact={"wall_minutes": 5, "business_minutes": 5})
    counts.add("suspected_spam", "downtown", iso(now - 7 * day + timedelta(minutes=1)))
    counts.add("suspected_spam", "downtown", iso(now - 7 * day - timedelta(minutes=1)))  # older than a week
    counts.add("new", "lakeview", iso(now - day), due_at=iso(now + day))
    counts.add("contacted", "lakeview", iso(now - day), first_contact={"wall_minutes": 95, "business_minutes": 60})
    counts.add("closed", "lakeview", iso(now - day), first_contact={"wall_minutes": 185, "business_minutes": 90})


def test_each_location_has_its_counts_median_and_links(digest, counts, mailer, settings):
    seed(counts)
    digest.run()
    mail = next(m for m in mailer.sent if m.to == "ana@clinic.example")
    base = settings.public_base_url

    assert mail.subject == "Appointment requests this morning: 4 new, 2 overdue"
    assert mail.text.startswith("Appointment requests, Tuesday 8 December, 08:00\n")
    assert (f"Downtown Clinic\n"
            f"- New: 3 — {base}/staff/?status=new&location=downtown\n"
            f"- Overdue: 2 — {base}/staff/?overdue=true&location=downtown\n"
            f"- Possible spam (last 7 days): 2 — {base}/staff/?status=suspected_spam&location=downtown\n"
            f"- Time to first contact (median, last 7 days): 2 h 5 min of opening hours, 3 h 20 min on the clock "
            f"(3 requests)\n") in mail.text
    assert (f"Northside Clinic\n"
            f"- New: 0 — {base}/staff/?status=new&location=northside\n"
            f"- Overdue: 0 — {base}/staff/?overdue=true&location=northside\n"
            f"- Possible spam (last 7 days): 0 — {base}/staff/?status=suspected_spam&location=northside\n"
            f"- Time to first contact (median, last 7 days): no request contacted yet\n") in mail.text
    # Two contacts: the median is halfway between them (75 and 140 minutes).
    assert ("- Time to first contact (median, last 7 days): 1 h 15 min of opening hours, 2 h 20 min on the clock "
            "(2 requests)\n") in mail.text
    assert mail.text.index("Downtown Clinic") < mail.text.index("Northside Clinic") < mail.text.index("Lakeview")
    assert f'<a href="{base}/staff/?overdue=true&amp;location=downtown">Overdue: 2</a>' in mail.html
    assert "DIGEST=off" in mail.text


def test_every_account_gets_the_same_counts(digest, counts, mailer):
    seed(counts)
    digest.run()
    first, second = mailer.sent
    assert first.text == second.text and first.html == second.html and first.to != second.to


def test_a_count_that_stopped_short_says_at_least(settings):
    from chalicelib.notify.digest import LocationFigures

    figures = [LocationFigures("downtown", "Downtown Clinic", new=Count(5000, exact=False), overdue=Count(3),
                               spam=Count(0), contacts=0)]
    mail = compose_digest("ana@clinic.example", figures, settings, WINTER_8AM)
    assert "- New: at least 5000 —" in mail.text
    assert mail.subject == "Appointment requests this morning: 5000+ new, 3 overdue"


def test_names_are_escaped_in_the_html(accounts, counts, claims, mailer, settings, clock):
    odd = replace(settings, locations={"annex": 'Smith & <b>Sons</b> "Annex"'})
    Digest(accounts, counts, claims, mailer, odd, now=clock).run()
    html = mailer.sent[0].html
    assert "<b>Sons</b>" not in html
    assert "Smith &amp; &lt;b&gt;Sons&lt;/b&gt; &quot;Annex&quot;" in html
    assert html.startswith('<!doctype html><html lang="en">')


def test_the_digest_names_no_request_and_no_patient(digest, counts, mailer):
    """The counts are all it is given: no reference, name, phone or message can reach it (integration and end
    to end tests post requests with distinctive details and look for them in the mails)."""
    seed(counts)
    digest.run()
    mail = mailer.sent[0]
    assert "/staff/requests/" not in mail.text + mail.html
    assert "ref " not in mail.text


@pytest.mark.parametrize("page", ["README.md", "docs/response-times.md"])
def test_the_example_in_the_docs_is_what_the_digest_says(settings, page):
    from chalicelib.notify.digest import LocationFigures
    from tools.resources import ROOT

    text = (ROOT / page).read_text(encoding="utf-8")
    start = text.index("```text\nSubject: Appointment requests this morning")
    example = text[start + len("```text\n"):text.index("```\n", start + 8)]
    figures = [LocationFigures("downtown", "Downtown Clinic", Count(4), Count(1), Count(2), 12, 125, 220,
                               visits_today=Count(3), attended=Count(22), no_show=Count(3)),
               LocationFigures("northside", "Northside Clinic", Count(0), Count(0), Count(0), 0,
                               visits_today=Count(0), attended=Count(0), no_show=Count(0)),
               LocationFigures("lakeview", "Lakeview Sports Rehab", Count(2), Count(0), Count(1), 5, 48, 1130,
                               visits_today=Count(1), attended=Count(6), no_show=Count(0))]
    mail = compose_digest("dana@clinic.example", figures, settings, WINTER_8AM)
    assert example == f"Subject: {mail.subject}\n\n{mail.text}"


# --- visits booked for today and the no-show rate ---------------------------------------------------------------

def visits_line(mail, location="Downtown Clinic"):
    section = mail.text[mail.text.index(location + "\n"):]
    section = section[:section.index("\n\n")]
    return [line for line in section.splitlines() if "Visits booked for today" in line or "No-show rate" in line]


def test_visits_booked_for_today_are_those_starting_between_this_and_the_next_midnight_clinic_time(
        digest, counts, mailer, settings):
    base = settings.public_base_url
    midnight = datetime(2026, 12, 8, 5, 0, tzinfo=timezone.utc)  # 00:00 on Tuesday 8 December in New York
    for start in (midnight, midnight + timedelta(hours=24) - timedelta(milliseconds=1), WINTER_8AM):
        counts.add("scheduled", "downtown", visit_start=iso(start))
    counts.add("scheduled", "downtown", visit_start=iso(midnight - timedelta(milliseconds=1)))  # yesterday
    counts.add("scheduled", "downtown", visit_start=iso(midnight + timedelta(hours=24)))  # tomorrow, 00:00
    counts.add("scheduled", "lakeview", visit_start=iso(WINTER_8AM))  # another location
    counts.add("attended", "downtown", visit_start=iso(WINTER_8AM - timedelta(hours=1)))  # no longer booked
    digest.run()
    mail = mailer.sent[0]

    assert f"- Visits booked for today: 3 — {base}/staff/?status=scheduled&location=downtown" in mail.text
    assert f"- Visits booked for today: 1 — {base}/staff/?status=scheduled&location=lakeview" in mail.text
    assert "- Visits booked for today: 0 — " in mail.text  # northside


def test_today_is_23_hours_long_when_the_clocks_go_forward():
    from zoneinfo import ZoneInfo

    from chalicelib.notify.digest import today_bounds

    zone = ZoneInfo("America/New_York")
    assert today_bounds(datetime(2026, 3, 8, 12, 0, tzinfo=timezone.utc), zone) == (
        "2026-03-08T05:00:00.000Z", "2026-03-09T04:00:00.000Z")
    # Just after midnight clinic time is already the new day (it is still the 7th in UTC).
    assert today_bounds(datetime(2026, 12, 8, 5, 0, tzinfo=timezone.utc), zone)[0] == "2026-12-08T05:00:00.000Z"
    assert today_bounds(datetime(2026, 12, 8, 4, 59, tzinfo=timezone.utc), zone)[0] == "2026-12-07T05:00:00.000Z"


def test_the_no_show_rate_counts_the_visits_that_started_in_the_last_30_days_exactly(digest, counts, mailer):
    month_ago = WINTER_8AM - timedelta(days=30)
    counts.add("no_show", "downtown", visit_start=iso(month_ago))  # exactly 30 days ago: in
    counts.add("no_show", "downtown", visit_start=iso(month_ago - timedelta(milliseconds=1)))  # just before: out
    counts.add("attended", "downtown", visit_start=iso(WINTER_8AM - timedelta(days=1)))
    counts.add("attended", "downtown", visit_start=iso(WINTER_8AM - timedelta(days=2)))
    counts.add("attended", "downtown", visit_start=iso(month_ago - timedelta(days=1)))  # out
    counts.add("no_show", "lakeview", visit_start=iso(WINTER_8AM - timedelta(days=1)))
    digest.run()
    mail = mailer.sent[0]

    assert "- No-show rate (last 30 days): 33 % (1 of 3 visits) — " in mail.text
    assert "- No-show rate (last 30 days): 100 % (1 of 1 visit) — " in mail.text  # lakeview
    assert visits_line(mail, "Northside Clinic")[1].startswith("- No-show rate (last 30 days): no visits — ")
    assert "/staff/?status=no_show&amp;location=downtown" in mail.html


@pytest.mark.parametrize("attended, no_show, words", [
    (0, 0, "no visits"),
    (2, 1, "33 % (1 of 3 visits)"),
    (1, 2, "67 % (2 of 3 visits)"),
    (7, 1, "13 % (1 of 8 visits)"),  # 12.5: half goes up
    (199, 1, "1 % (1 of 200 visits)"),  # 0.5: half goes up, a missed visit never shows as 0 %
    (399, 1, "0 % (1 of 400 visits)"),
    (5, 0, "0 % (0 of 5 visits)"),
    (0, 1, "100 % (1 of 1 visit)"),
])
def test_the_no_show_rate_is_rounded_half_up_to_a_whole_percent(attended, no_show, words):
    from chalicelib.notify.digest import no_show_rate

    assert no_show_rate(Count(attended), Count(no_show)) == words


def test_a_no_show_rate_from_counts_that_stopped_short_says_about():
    from chalicelib.notify.digest import no_show_rate

    assert no_show_rate(Count(300, exact=False), Count(100)) == "about 25 % (100 of 400 visits)"
    assert no_show_rate(Count(0, exact=False), Count(0)) == "not counted (too many to read)"
