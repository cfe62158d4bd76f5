"""An escalation run that SNS fails for one location still escalates the others."""
import json
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.core.clock import utc_iso
from chalicelib.core.errors import AlertNotSent
from chalicelib.notify.escalation import Escalation
from tests.fakes import Clock, FakeDueRepository, FakePublisher

NOW = datetime(2026, 12, 8, 15, 0, tzinfo=timezone.utc)


class RefusingOne(FakePublisher):
    """SNS refusing the message of one location, taking the others'."""

    def __init__(self, refused):
        super().__init__()
        self.refused = refused

    def publish(self, alert):
        if alert.attributes["location"]["StringValue"] == self.refused:
            raise AlertNotSent("SNS did not take the alert (Throttling)", retryable=True)
        return super().publish(alert)


@pytest.mark.parametrize("refused", ["downtown", "northside"])
def test_a_location_sns_refuses_leaves_the_others_escalated_and_only_its_own_released(settings, refused):
    """Catches `raise` (or `break`) at the first SNS failure: the locations after it stay claimed, never escalated."""
    due, sns = FakeDueRepository(), RefusingOne(refused)
    for request_id, location in (("d1", "downtown"), ("n1", "northside"), ("l1", "lakeview")):
        due.wait(request_id, location, utc_iso(NOW - timedelta(hours=2)))

    with pytest.raises(AlertNotSent):
        Escalation(due, sns, settings, now=Clock(NOW)).run()

    sent = {alert.attributes["location"]["StringValue"] for alert in sns.sent}
    assert sent == {"downtown", "northside", "lakeview"} - {refused}
    assert {request_id for request_id, item in due.items.items() if item["queued"]} == {
        "d1" if refused == "downtown" else "n1"}  # released for the next run; the others escalated once
    assert all(json.loads(alert.message)["default"] for alert in sns.sent)
