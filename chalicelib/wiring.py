"""Builds the service and its AWS clients once, lazily, on first use (never at import time)."""
from functools import lru_cache
from pathlib import Path
from threading import Lock

from .core.config import get_settings
from .intake.service import AppointmentService
from .storage.appointments import AppointmentRepository

# Bounded so that a request never hangs: at most 3 attempts of 1 s connect + 2 s read each (and
# botocore's backoff between them, at most 1 s and 2 s), well inside API Gateway's 29 s limit,
# then the caller gets a 503 it can retry. botocore's own `max_attempts` would count retries
# only, one attempt more; `total_max_attempts` counts them all.
CLIENT_CONFIG = {
    "connect_timeout": 1,
    "read_timeout": 2,
    "retries": {"total_max_attempts": 3, "mode": "standard"},
}


# The services the app calls, and botocore's endpoint data cut to them (tools/aws_data.py): the
# whole file is 1.2 MB of JSON, about 7 MiB and 40 ms of every cold start. A service missing
# here would have no endpoint data at all, so aws_client refuses it.
AWS_SERVICES = ("dynamodb", "sns", "secretsmanager", "sesv2", "sqs")
AWS_DATA = Path(__file__).parent / "aws_data"


_client_lock = Lock()


class _KnownServices:
    """The services botocore's loader checks a name against: ours at once, the rest by `listing`."""

    def __init__(self, listing):
        self._listing = listing

    def __contains__(self, name):
        return name in AWS_SERVICES or name in self._listing()

    def __iter__(self):
        return iter(self._listing())


@lru_cache(maxsize=1)
def _aws_session():
    # botocore, not boto3: the same clients (and AWS_ENDPOINT_URL support) without importing
    # boto3's resource layer and s3transfer, which cost cold-start time and memory. One session
    # for every client: the second reuses what the first loaded (docs/performance.md has the figures).
    import botocore.session
    from botocore.loaders import Loader

    class AppDataLoader(Loader):
        """botocore's loader, reading the cut endpoint data first, and knowing the app's services.

        Before it loads a model, botocore's own loader lists every service it has, to check the
        name: some 400 directories and a few thousand stat calls, about 20 ms of a cold start.
        The app's own services pass without it; any other (STS or SSO, which botocore's credential
        providers call for an assumed role or an SSO profile) is checked against the listing.
        """

        def list_available_services(self, type_name):
            return _KnownServices(lambda: Loader.list_available_services(self, type_name))

    session = botocore.session.get_session()
    session.register_component("data_loader", AppDataLoader(extra_search_paths=[str(AWS_DATA)]))
    return session


@lru_cache(maxsize=None)
def aws_client(service_name):
    from botocore.config import Config

    if service_name not in AWS_SERVICES:
        raise ValueError(f"{service_name} is not in wiring.AWS_SERVICES (then run `python -m tools.aws_data`)")
    with _client_lock:  # a botocore session is not safe to build clients from two threads at once
        # A copy: botocore rewrites the retries it is given in place.
        config = Config(**{**CLIENT_CONFIG, "retries": dict(CLIENT_CONFIG["retries"])})
        return _aws_session().create_client(service_name, config=config)


@lru_cache(maxsize=1)
def id_key():
    """The deployment's secret key: as the stack resolved it into the environment, else read from Secrets Manager
    once per process, when first called."""
    import os

    from .core.secret_key import SecretKey, deployed_key

    return deployed_key(os.environ) or SecretKey(aws_client("secretsmanager"), get_settings().dedupe_key_secret)


def purpose_key_of(purpose):
    """A callable giving `purpose`'s key (core.keys), derived from the deployment's key when first called."""
    from .core.keys import purpose_key

    return lru_cache(maxsize=1)(lambda: purpose_key(id_key()(), purpose))


def patient_page_token(request_id, now=None):
    """The token of a request's page for the patient (core.patient_links), signed now."""
    from .core.clock import utcnow
    from .core import patient_links as links

    return links.page_token(_page_key(), request_id, now or utcnow())


def patient_page_url(request_id, now=None):
    """The link to a request's page for the patient, signed now."""
    from .core import patient_links as links

    return links.page_url(get_settings(), patient_page_token(request_id, now))


def thanks_reference(request_id, now=None):
    """The `ref` a plain post's 303 carries to the thank-you page (visits.thanks): signed now, good for an hour."""
    from .core.clock import utcnow
    from .core import patient_links as links

    return links.page_token(purpose_key_of("thank-you references")(), request_id, now or utcnow())


@lru_cache(maxsize=1)
def thanks_details():
    """What the service's own thank-you page tells a patient after a plain post (visits.thanks)."""
    from .visits.thanks import ThanksDetails

    settings = get_settings()
    return ThanksDetails(AppointmentRepository(aws_client("dynamodb"), settings.table_name), settings,
                         purpose_key_of("thank-you references"), patient_page_url)


@lru_cache(maxsize=1)
def _page_key():
    return purpose_key_of("patient pages")()


@lru_cache(maxsize=1)
def appointment_service():
    settings = get_settings()
    return AppointmentService(AppointmentRepository(aws_client("dynamodb"), settings.table_name), settings, id_key())


def new_form_token():
    """A fresh form token (intake.spam), signed with a key derived from the deployment's secret key."""
    from .core.clock import utcnow
    from .intake import spam

    return spam.issue_token(_form_token_key(), utcnow())


@lru_cache(maxsize=1)
def _form_token_key():
    from .intake import spam

    return spam.token_key(id_key()())


@lru_cache(maxsize=1)
def confirmation_cap():
    from .notify.confirmations import ConfirmationCap
    from .storage.confirmations import ConfirmationCapRepository

    return ConfirmationCap(ConfirmationCapRepository(aws_client("dynamodb"), get_settings().table_name),
                           purpose_key_of("confirmation cap"))


@lru_cache(maxsize=1)
def confirmation_delivery():
    from .notify.confirmations import ConfirmationDelivery

    settings = get_settings()
    return ConfirmationDelivery(AppointmentRepository(aws_client("dynamodb"), settings.table_name), mailer(),
                                confirmation_cap(), settings, patient_page_url)


@lru_cache(maxsize=1)
def mail_delivery():
    """The mail consumer (app.send_confirmations): confirmations and visit e-mails."""
    from .notify.visit_delivery import MailDelivery, VisitMailDelivery
    from .storage.visit_mails import VisitMailRepository

    settings = get_settings()
    client = aws_client("dynamodb")
    visits = VisitMailDelivery(AppointmentRepository(client, settings.table_name),
                               VisitMailRepository(client, settings.table_name), mailer(), settings, patient_page_url)
    return MailDelivery(confirmation_delivery(), visits)


@lru_cache(maxsize=1)
def alert_delivery():
    from .notify.alerts import AlertPublisher
    from .notify.delivery import AlertDelivery
    from .storage.answers import AnswerRepository

    settings = get_settings()
    return AlertDelivery(
        AppointmentRepository(aws_client("dynamodb"), settings.table_name),
        AlertPublisher(aws_client("sns"), settings.topic_arn),
        settings,
        answers=AnswerRepository(aws_client("dynamodb"), settings.table_name),
    )


@lru_cache(maxsize=1)
def webhook_feed():
    """The webhook feed (webhooks.feed): the request items' histories, as events on the webhook queue."""
    from .storage.webhook_marks import WebhookMarks
    from .storage.webhooks import WebhookRepository
    from .webhooks.feed import Endpoints, WebhookFeed

    settings = get_settings()
    client = aws_client("dynamodb")
    return WebhookFeed(WebhookMarks(client, settings.table_name),
                       Endpoints(WebhookRepository(client, settings.table_name)), webhook_queue(), settings)


@lru_cache(maxsize=1)
def stream_consumers():
    """What the alert function does with each batch of the stream: staff alerts, then webhook events."""
    from .webhooks.feed import StreamConsumers

    return StreamConsumers(alert_delivery(), webhook_feed())


@lru_cache(maxsize=1)
def patient_pages():
    """The patient's page and their answers (visits.answers)."""
    from .storage.answers import AnswerRepository
    from .visits.answers import PatientPages

    settings = get_settings()
    return PatientPages(AnswerRepository(aws_client("dynamodb"), settings.table_name), settings, _page_key,
                        purpose_key_of("patient answers"))


@lru_cache(maxsize=1)
def staff_service():
    from .staff.triage import StaffService
    from .storage.staff_records import StaffRepository

    settings = get_settings()
    return StaffService(StaffRepository(aws_client("dynamodb"), settings.table_name), settings,
                        confirmation_cap=confirmation_cap(), search_key=_search_key)


@lru_cache(maxsize=1)
def staff_authenticator():
    from .staff.auth import Authenticator
    from .storage.accounts import AccountRepository
    from .storage.tokens import TokenRepository

    client, table = aws_client("dynamodb"), get_settings().table_name
    return Authenticator(TokenRepository(client, table), AccountRepository(client, table))


@lru_cache(maxsize=1)
def mailer():
    from .core.mail import Mailer

    settings = get_settings()
    return Mailer(aws_client("sesv2"), settings.mail_from, settings.mail_configuration_set)


@lru_cache(maxsize=1)
def account_admin():
    from .staff.accounts import AccountAdmin
    from .storage.accounts import AccountRepository

    return AccountAdmin(AccountRepository(aws_client("dynamodb"), get_settings().table_name))


@lru_cache(maxsize=1)
def sign_in():
    from .staff.signin import SignIn
    from .storage.accounts import AccountRepository
    from .storage.sessions import SignInRepository
    from .storage.signin_queue import SignInQueue

    settings = get_settings()
    client = aws_client("dynamodb")
    return SignIn(AccountRepository(client, settings.table_name), SignInRepository(client, settings.table_name),
                  mailer(), settings, device_key, SignInQueue(aws_client("sqs"), settings.sign_in_queue_url),
                  words_key=words_key, sources_key=purpose_key_of("sign-in sources"))


@lru_cache(maxsize=1)
def device_key():
    """The key that signs staff device cookies (core.keys)."""
    return purpose_key_of("staff device cookies")()


@lru_cache(maxsize=1)
def words_key():
    """The key of the words each sign-in page shows beside its browser's code (core.keys)."""
    return purpose_key_of("staff sign-in words")()


@lru_cache(maxsize=1)
def inbox_pages():
    from .staff.http import InboxPages

    from .webhooks.endpoints import EVENT_TYPES

    return InboxPages(get_settings(), staff_service(), sign_in(), account_admin(), webhook_admin(), EVENT_TYPES)


@lru_cache(maxsize=1)
def escalation():
    from .notify.alerts import AlertPublisher
    from .notify.escalation import Escalation
    from .storage.due import DueRepository

    settings = get_settings()
    return Escalation(DueRepository(aws_client("dynamodb"), settings.table_name),
                      AlertPublisher(aws_client("sns"), settings.topic_arn), settings)


@lru_cache(maxsize=1)
def texts():
    from .notify.sms import SmsSender

    return SmsSender(aws_client("sns"))


@lru_cache(maxsize=1)
def reminders():
    from .storage.reminders import ReminderRepository
    from .visits.reminders import Reminders

    settings = get_settings()
    return Reminders(ReminderRepository(aws_client("dynamodb"), settings.table_name), mailer(), texts(), settings,
                     patient_page_url)


@lru_cache(maxsize=1)
def _search_key():
    from .core.lookup import lookup_key

    return lookup_key(id_key()())


@lru_cache(maxsize=1)
def digest():
    from .notify.digest import Digest
    from .storage.accounts import AccountRepository
    from .storage.digest_claims import DigestClaims
    from .storage.digest_counts import DigestCounts

    settings = get_settings()
    client = aws_client("dynamodb")
    return Digest(AccountRepository(client, settings.table_name), DigestCounts(client, settings.table_name),
                  DigestClaims(client, settings.table_name, purpose_key_of("digest claims")), mailer(), settings)


@lru_cache(maxsize=1)
def webhook_admin():
    """Webhook endpoints, as admins manage them (webhooks.endpoints)."""
    from .storage.webhooks import WebhookRepository
    from .webhooks.endpoints import WebhookAdmin

    settings = get_settings()
    return WebhookAdmin(WebhookRepository(aws_client("dynamodb"), settings.table_name), settings,
                        purpose_key_of("webhook secrets"))


@lru_cache(maxsize=1)
def webhook_queue():
    from .storage.webhook_queue import WebhookQueue

    return WebhookQueue(aws_client("sqs"), get_settings().webhook_queue_url)


@lru_cache(maxsize=1)
def webhook_delivery():
    """The consumer of the webhook queue (app.deliver_webhooks)."""
    from .storage.webhooks import WebhookRepository
    from .webhooks.delivery import WebhookDelivery
    from .webhooks.sender import Sender

    settings = get_settings()
    return WebhookDelivery(WebhookRepository(aws_client("dynamodb"), settings.table_name), webhook_admin(),
                           webhook_queue(), Sender(settings.webhook_loopback), settings)


def reset():
    """Forget built clients and settings (tests start each case from a clean slate)."""
    get_settings.cache_clear()
    aws_client.cache_clear()
    _aws_session.cache_clear()
    appointment_service.cache_clear()
    alert_delivery.cache_clear()
    staff_service.cache_clear()
    staff_authenticator.cache_clear()
    mailer.cache_clear()
    id_key.cache_clear()
    confirmation_delivery.cache_clear()
    mail_delivery.cache_clear()
    confirmation_cap.cache_clear()
    account_admin.cache_clear()
    sign_in.cache_clear()
    device_key.cache_clear()
    words_key.cache_clear()
    _form_token_key.cache_clear()
    inbox_pages.cache_clear()
    escalation.cache_clear()
    digest.cache_clear()
    texts.cache_clear()
    reminders.cache_clear()
    _search_key.cache_clear()
    _page_key.cache_clear()
    patient_pages.cache_clear()
    thanks_details.cache_clear()
    webhook_admin.cache_clear()
    webhook_queue.cache_clear()
    webhook_delivery.cache_clear()
    webhook_feed.cache_clear()
    stream_consumers.cache_clear()
