"""Listing webhook endpoints is a Query of the partition WEBHOOKS alone, every page, and reads each one back whole.

The alert function's role may Query the table on that leading key only (.chalice/policy-alerts.json): a listing
that read any other partition, or an index, would be refused to it."""
import boto3

from chalicelib.storage.dynamo import serialize
from chalicelib.storage.webhooks import Delivery, Endpoint, SigningSecret, WebhookRepository

OLDER = Endpoint(id="wh_2", url="https://pms.clinic.example/hooks?tenant=7", events=("visit.booked",),
                 active=True, created_at="2026-11-25T15:00:00Z", created_by="Dana Admin",
                 updated_at="2026-11-25T15:00:00Z",
                 secrets=(SigningSecret("n2", "2026-11-26T09:00:00Z"),
                          SigningSecret("n1", "2026-11-25T15:00:00Z", "2026-11-27T09:00:00Z")))
NEWER = Endpoint(id="wh_1", url="https://crm.clinic.example/in", events=("appointment.requested",
                                                                         "appointment.erased"),
                 active=False, created_at="2026-11-26T10:00:00Z", created_by="Dana Admin",
                 updated_at="2026-11-27T10:00:00Z", secrets=(SigningSecret("n3", "2026-11-26T10:00:00Z"),),
                 disabled_reason="gone")


class OnePerPage:
    """The table's client, recording each Query and reading one item a page (so paging is exercised)."""

    def __init__(self, client):
        self._client = client
        self.queries = []

    def query(self, **request):
        self.queries.append(request)
        return self._client.query(**request, Limit=1)

    def __getattr__(self, name):
        return getattr(self._client, name)


def test_a_listed_endpoint_is_the_endpoint_as_stored_and_nothing_else_is_read(table):
    client = boto3.client("dynamodb", region_name="us-east-1")
    repository = WebhookRepository(client, table)
    repository.add(OLDER)
    repository.add(NEWER)
    repository.record_delivery(Delivery("wh_1", "msg_a1_0", "visit.booked", 1, "2026-11-26T11:00:00Z", "delivered",
                                        200, 40), expires_at=1_900_000_000)
    # A staff account, which a Query of by_created could read: the listing never reaches it.
    client.put_item(TableName=table, Item=serialize({"pk": "STAFF#dana@clinic.example", "sk": "STAFF",
                                                     "entity": "staff_account", "email": "dana@clinic.example",
                                                     "created_at": "2026-11-27T00:00:00Z"}))

    recording = OnePerPage(client)
    assert WebhookRepository(recording, table).all() == [NEWER, OLDER]
    assert repository.get("wh_1") == NEWER
    assert len(recording.queries) >= 2  # one endpoint a page: every page was read
    for request in recording.queries:
        assert "IndexName" not in request
        assert request["ExpressionAttributeValues"][":pk"] == {"S": "WEBHOOKS"}
