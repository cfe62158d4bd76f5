"""Listing webhook endpoints reads back only storage.webhooks.LISTED, and that is every field of an endpoint."""
import boto3

from chalicelib.storage.webhooks import Endpoint, SigningSecret, WebhookRepository


def test_a_listed_endpoint_is_the_endpoint_as_stored(table):
    """The listing projects named attributes (the alert function may read no others): a field left out of LISTED
    would come back missing here, or break the listing."""
    client = boto3.client("dynamodb", region_name="us-east-1")
    repository = WebhookRepository(client, table)
    older = Endpoint(id="wh_1", url="https://pms.clinic.example/hooks?tenant=7", events=("visit.booked",),
                     active=True, created_at="2026-11-25T15:00:00Z", created_by="Dana Admin",
                     updated_at="2026-11-25T15:00:00Z",
                     secrets=(SigningSecret("n2", "2026-11-26T09:00:00Z"),
                              SigningSecret("n1", "2026-11-25T15:00:00Z", "2026-11-27T09:00:00Z")))
    newer = Endpoint(id="wh_2", url="https://crm.clinic.example/in", events=("appointment.requested",
                                                                             "appointment.erased"),
                     active=False, created_at="2026-11-26T10:00:00Z", created_by="Dana Admin",
                     updated_at="2026-11-27T10:00:00Z", secrets=(SigningSecret("n3", "2026-11-26T10:00:00Z"),),
                     disabled_reason="gone")
    repository.add(older)
    repository.add(newer)

    assert repository.all() == [newer, older]
    assert repository.get("wh_2") == newer
