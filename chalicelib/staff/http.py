"""The staff inbox's HTTP: the session cookie, the same-origin rule, form posts and page answers.

The pages are rendered by the inbox package; every rule lives in the services (triage.py,
signin.py, accounts.py). A browser signs in once and then carries an opaque session id in a
cookie that scripts cannot read (HttpOnly), that only /staff pages get (Path), and that other
sites cannot make it send with a post or a script's request (SameSite=Lax). Lax, not Strict: a
link in web mail (Gmail or Outlook in a browser is another site) must open the request for a
signed-in person, and Strict would send them through sign-in for every alert. That is safe
because nothing changes on a GET: every change is a POST that must also come with an Origin
header equal to the API's own origin (SameSite does not tell apart two sites on one host,
another port being the same site; Origin does).
"""
import re
from urllib.parse import urlencode

from chalice import Response

from ..core import web
from ..core.errors import Conflict, Forbidden, NotFound, StorageUnavailable, Unauthorized, ValidationFailed
from ..core.logs import get_logger
from ..intake.models import LABELS, REASON_LABELS
from . import inbox
from .devices import LIFETIME as DEVICE_LIFETIME
from .signin import new_browser_id
from .triage import allowed_transitions

log = get_logger(__name__)

SESSION_COOKIE = "staff_session"
# The browser's sign-in id: a code works only in the browser that asked for it.
BROWSER_COOKIE = "staff_signin"
# Signed proof that this browser signed in as an address before, an entry per address (devices.py): it gets
# that address's codes at once, whoever else asks.
DEVICE_COOKIE = "staff_device"
DEVICE_MAX_AGE = int(DEVICE_LIFETIME.total_seconds())
_REQUEST_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
NO_ENDPOINT = "There is no such webhook endpoint. It may have been deleted."
_SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
_VISIT_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$", re.ASCII)
_VISIT_TIME = re.compile(r"^\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?$", re.ASCII)


# --- the session cookie and the same-origin rule ----------------------------------------------------

def cookie(headers, name):
    """A cookie's value from the Cookie header, or None."""
    for part in (headers.get("cookie") or "").split(";"):
        key, _, value = part.strip().partition("=")
        if key == name and value:
            return value
    return None


def session_id(headers):
    """The session id from the Cookie header, or None."""
    return cookie(headers, SESSION_COOKIE)


def set_cookie(name, value, settings, clear=False, max_age=None):
    attributes = [f"{name}={'' if clear else value}", f"Path={settings.public_path}/staff", "HttpOnly",
                  "SameSite=Lax"]
    if settings.secure_cookies:
        attributes.append("Secure")
    if clear:
        attributes.append("Max-Age=0")
    elif max_age:
        attributes.append(f"Max-Age={max_age}")
    return "; ".join(attributes)


def session_cookie(value, settings, clear=False):
    return set_cookie(SESSION_COOKIE, value, settings, clear)


def require_same_origin(headers, settings):
    if headers.get("origin") != settings.public_origin:
        raise Forbidden("This change must be made from the staff inbox's own pages.")


def authenticate(request, settings, tokens, sign_in):
    """The staff member behind a request: a bearer token (scripts) or the inbox session (browsers)."""
    authorization = request.headers.get("authorization")
    if authorization is not None:
        return tokens.authenticate(authorization)
    session = session_id(request.headers)
    if session is None:
        raise Unauthorized()
    staff = sign_in.staff_member(session)
    if request.method not in _SAFE_METHODS:
        require_same_origin(request.headers, settings)
    return staff


# --- reading and answering ----------------------------------------------------------------------

def source_ip(request):
    """The caller's address as API Gateway saw it (None when it gave none): sign_in_sources.py hashes its network."""
    identity = (getattr(request, "context", None) or {}).get("identity") or {}
    return identity.get("sourceIp")


def read_form(request):
    return web.read_form(request.headers, request.raw_body)


def next_request_id(value):
    """Where to go after sign-in: a request id, never a URL (no open redirect, no data in URLs)."""
    return value if isinstance(value, str) and _REQUEST_ID.fullmatch(value) else None


def page(status, body):
    return web.html_response(status, body, inbox.inbox_headers())


def see_other(settings, path, cookies=()):
    headers = {"Location": f"{settings.public_path}/staff/{path}", "Cache-Control": "no-store"}
    if cookies:
        headers["Set-Cookie"] = list(cookies)
    return Response(body="", status_code=303, headers=headers)


def error_page(error, request, settings):
    """An error on an inbox page as a page: signed out leads to sign-in (and back to the request)."""
    base = settings.public_path
    if isinstance(error, Unauthorized):
        params = getattr(request, "uri_params", None) or {}
        notice = "Your session has ended. Sign in again." if session_id(request.headers) else None
        response = page(401, inbox.sign_in_page(base, next_request_id(params.get("appointment_id")), notice))
        if session_id(request.headers):
            response.headers["Set-Cookie"] = session_cookie("", settings, clear=True)
        return response
    if isinstance(error, Forbidden):
        return page(403, inbox.message_page(base, "Not allowed", error.message))
    if isinstance(error, NotFound):
        return page(404, inbox.message_page(base, "Not found", error.message))
    if isinstance(error, StorageUnavailable):
        response = page(503, inbox.message_page(base, "Please try again", "The inbox could not reach its storage "
                                                "just now. Wait a few seconds and reload the page."))
        response.headers["Retry-After"] = str(error.retry_after)
        return response
    return page(web.STATUS.get(error.code, 500), inbox.message_page(base, "Something went wrong", error.message))


def visit_at_of(form):
    """The booking form's date and time fields as visit_at ("YYYY-MM-DDTHH:MM", the clinic's local time); triage
    judges the time itself. A time field may send seconds ("10:00:00"): they are dropped."""
    day, at = (form.get("visit_date") or "").strip(), (form.get("visit_time") or "").strip()
    if not day and not at:
        raise ValidationFailed({"visit_at": "Enter the visit's date and time."})
    if not _VISIT_DATE.fullmatch(day):
        raise ValidationFailed({"visit_at": "Enter the visit's date as YYYY-MM-DD, e.g. 2026-12-08." if day
                                else "Enter the visit's date."})
    if not _VISIT_TIME.fullmatch(at):
        raise ValidationFailed({"visit_at": "Enter the visit's time as HH:MM (24-hour clock), e.g. 14:30." if at
                                else "Enter the visit's time."})
    return f"{day}T{at[:5]}"


# --- the pages ------------------------------------------------------------------------------------

class InboxPages:
    def __init__(self, settings, staff_service, sign_in, accounts, webhooks=None, webhook_events=()):
        """`webhooks`: the webhooks service (webhooks.endpoints.WebhookAdmin), with its `webhook_events`."""
        self._settings = settings
        self._staff = staff_service
        self._sign_in = sign_in
        self._accounts = accounts
        self._webhooks = webhooks
        self._webhook_events = tuple(webhook_events)
        self._base = settings.public_path

    def home(self, request):
        """The list for a signed-in member; the sign-in page for anyone else."""
        try:
            staff = self._sign_in.staff_member(session_id(request.headers))
        except Unauthorized:
            response = page(200, inbox.sign_in_page(self._base))
            if session_id(request.headers):
                response.headers["Set-Cookie"] = session_cookie("", self._settings, clear=True)
            return response, "sign_in_page"
        filters = {name: values[-1] for name, values in web.query_lists(request).items() if values}
        notice = inbox.SPAM_DECISIONS.get(filters.pop("decided", None))
        if not (filters.get("q") or "").strip():
            filters.pop("q", None)  # the search box sent empty: the plain list
        try:
            listing = self._staff.list({name: [value] for name, value in filters.items()})
        except ValidationFailed as error:
            listing = {"items": [], "next_cursor": None}
            notice = " ".join(error.fields.values())
        body = inbox.list_page(self._base, staff, listing, filters, self._settings.locations,
                               self._settings.timezone, REASON_LABELS, notice=notice,
                               spam_count=self._staff.spam_count(inbox.SPAM_DAYS),
                               counts=self._staff.waiting_counts(filters.get("location")))
        # This page signs nobody in first (it is also the sign-in page), so the access line has no actor.
        log.info("inbox listed", extra={"event": "inbox_listed", "actor": staff.name,
                                        "rows": len(listing["items"])})
        return page(200, body), "listed"

    def search(self, request, staff):
        """The list of what a search finds. Posted, not a GET: what staff search for (a phone number, an
        e-mail address) stays out of the URL, the browser's history and every log."""
        q = (read_form(request).get("q") or "").strip()
        if not q:
            return see_other(self._settings, ""), "empty_search"
        notice = None
        try:
            listing = self._staff.list({"q": [q]})
        except ValidationFailed as error:
            listing, notice = {"items": [], "next_cursor": None}, " ".join(error.fields.values())
        body = inbox.list_page(self._base, staff, listing, {"q": q}, self._settings.locations, self._settings.timezone,
                               REASON_LABELS, notice=notice, spam_count=self._staff.spam_count(inbox.SPAM_DAYS),
                               counts=self._staff.waiting_counts())
        log.info("inbox searched", extra={"event": "inbox_searched", "actor": staff.name,
                                          "rows": len(listing["items"])})
        return page(200 if notice is None else 422, body), "searched"

    def request_code(self, request):
        require_same_origin(request.headers, self._settings)
        form = read_form(request)
        next_id = next_request_id(form.get("next"))
        # Always a new id, never one the browser shows: a cookie another site on the same domain planted would
        # otherwise let it ask again as her browser (replacing her code) or spend her code's tries.
        browser = new_browser_id()
        try:
            self._sign_in.request_code(form.get("email"), browser, cookie(request.headers, DEVICE_COOKIE),
                                       source_ip(request))
        except ValidationFailed as error:
            return page(422, inbox.sign_in_page(self._base, next_id, error.fields["email"])), "invalid"
        response = page(200, inbox.code_page(self._base, form.get("email", "").strip(), next_id,
                                             words=self._sign_in.words(browser)))
        response.headers["Set-Cookie"] = set_cookie(BROWSER_COOKIE, browser, self._settings)
        return response, "code_requested"

    def verify_code(self, request):
        require_same_origin(request.headers, self._settings)
        form = read_form(request)
        next_id = next_request_id(form.get("next"))
        browser = cookie(request.headers, BROWSER_COOKIE)
        try:
            session, staff = self._sign_in.verify(form.get("email"), form.get("code"), browser)
        except Unauthorized as error:
            body = inbox.code_page(self._base, (form.get("email") or "").strip(), next_id, error.message,
                                   words=self._sign_in.words(browser))
            return page(401, body), "sign_in_failed"
        target = f"requests/{next_id}" if next_id else ""
        device = self._sign_in.device_cookie_value(cookie(request.headers, DEVICE_COOKIE), staff.email)
        return see_other(self._settings, target, (session_cookie(session, self._settings),
                                                  set_cookie(DEVICE_COOKIE, device, self._settings,
                                                             max_age=DEVICE_MAX_AGE))), "signed_in"

    def sign_out(self, request):
        require_same_origin(request.headers, self._settings)
        self._sign_in.sign_out(session_id(request.headers))
        body = inbox.sign_in_page(self._base, notice="You have signed out.")
        response = page(200, body)
        response.headers["Set-Cookie"] = session_cookie("", self._settings, clear=True)
        return response, "signed_out"

    def export(self, request, staff):
        """The parts of a filter's CSV, each a download: one Lambda answer holds only so many rows."""
        params = {name: values[-1] for name, values in web.query_lists(request).items() if values}
        try:
            first = inbox.export.first_part(params)
            parts, more = self._staff.export_parts({name: [value] for name, value in params.items()})
        except ValidationFailed as error:
            return page(422, inbox.message_page(self._base, "Export CSV", " ".join(error.fields.values()))), "invalid"
        log.info("export offered", extra={"event": "export_offered", "actor": staff.name, "parts": len(parts)})
        body = inbox.export_page(self._base, staff, params, self._settings.locations, parts, more, first)
        return page(200, body), "page"

    def request(self, appointment_id, staff, params=None, error=None, status=200, form=None, fields=None):
        """One request's page; `params` of the redirect after a change say what just happened; `form` and `fields`
        a refused post, shown again with each problem at its field."""
        params = params or {}
        view = self._staff.get(appointment_id, staff)
        notice = (f"Status changed to {inbox.STATUS_LABELS[params['changed']].lower()}."
                  if params.get("changed") in inbox.STATUS_LABELS
                  else "The request was erased." if params.get("erased") == "1" else None)
        if params.get("changed") == "scheduled" and view.get("status") == "scheduled" and view.get("visit_at"):
            notice = f"Visit booked for {inbox.visit_moment(view['visit_at']).text}."
            if view.get("warnings"):
                notice += " Warning: " + " ".join(view["warnings"])
        transitions = allowed_transitions(view)
        body = inbox.request_page(self._base, staff, view, transitions, self._settings.timezone, REASON_LABELS,
                                  LABELS, notice=notice, error=error, form=form, fields=fields)
        return page(status, body)

    def change_status(self, request, appointment_id, staff):
        form = read_form(request)
        change = {"status": form.get("status")}
        if (form.get("note") or "").strip():
            change["note"] = form["note"]
        try:
            if change["status"] == "scheduled":
                change["visit_at"] = visit_at_of(form)
            self._staff.update_status(appointment_id, change, staff)
        except ValidationFailed as error:
            shown = {name: form.get(name, "") for name in ("status", "note", "visit_date", "visit_time")}
            return self.request(appointment_id, staff, status=422, form=shown, fields=error.fields), "invalid"
        except Conflict as error:
            return self.request(appointment_id, staff, error=error.message, status=409), "conflict"
        if form.get("back") == "spam":  # decided in the "Possible spam" view: back to it, for the next one
            target = "?" + urlencode({"status": "suspected_spam", "decided": change["status"]})
        else:
            target = f"requests/{appointment_id}?" + urlencode({"changed": change["status"]})
        return see_other(self._settings, target), "updated"

    def erase_confirmation(self, appointment_id, staff):
        view = self._staff.get(appointment_id, staff)
        return page(200, inbox.erase_page(self._base, staff, view)), "confirm_erase"

    def erase(self, request, appointment_id, staff):
        form = read_form(request)
        if form.get("confirm") != "yes":
            return self.erase_confirmation(appointment_id, staff)[0], "not_confirmed"
        erasure = self._staff.erase(appointment_id, staff)
        return see_other(self._settings, f"requests/{appointment_id}?erased=1"), \
            "erased" if erasure.erased_now else "already_erased"

    def accounts(self, staff, error=None, fields=None, notice=None, status=200):
        accounts = [account.as_json() for account in self._accounts.list()]
        body = inbox.accounts_page(self._base, staff, accounts, error=error, fields=fields, notice=notice)
        return page(status, body)

    def save_account(self, request, staff):
        form = read_form(request)
        if "digest" in form:  # a row's "Turn on"/"Turn off": that account's morning digest, and nothing else
            return self._set_digest(form, staff)
        try:
            account = self._accounts.add(form.get("email"), form.get("name"), form.get("role"), actor=staff.name)
        except ValidationFailed as error:
            return self.accounts(staff, error="Some details need changing.", fields=error.fields, status=422), "invalid"
        return self.accounts(staff, notice=f"Saved {account.name} ({account.role})."), "account_saved"

    def _set_digest(self, form, staff):
        on = {"on": True, "off": False}.get(form.get("digest"))
        try:
            if on is None:
                raise ValidationFailed({"digest": "Turn the morning digest on or off."})
            account = self._accounts.set_digest(form.get("email"), on, actor=staff.name)
        except (ValidationFailed, NotFound) as error:
            message = " ".join(error.fields.values()) if isinstance(error, ValidationFailed) else error.message
            return self.accounts(staff, error=message, status=422), "invalid"
        state = "on" if account.digest else "off"
        return self.accounts(staff, notice=f"Morning digest {state} for {account.name}."), f"digest_{state}"

    def disable_account(self, request, staff):
        form = read_form(request)
        email = form.get("email")
        if staff.email is not None and (email or "").strip().lower() == staff.email:
            return self.accounts(staff, error="You cannot disable your own account.", status=422), "invalid"
        try:
            account = self._accounts.disable(email, actor=staff.name)
        except (ValidationFailed, NotFound) as error:
            message = " ".join(error.fields.values()) if isinstance(error, ValidationFailed) else error.message
            return self.accounts(staff, error=message, status=422), "invalid"
        return self.accounts(staff, notice=f"Disabled {account.name}: signed out everywhere."), "account_disabled"

    # --- webhooks (admins) ------------------------------------------------------------------------

    def webhooks(self, staff, params=None, status=200, form=None, fields=None):
        """The endpoints and the add form; `form` and `fields`: a refused add, shown again with its problems."""
        notice = inbox.webhooks.DELETED if (params or {}).get("deleted") == "1" else None
        body = inbox.webhooks_page(self._base, staff, self._webhooks.list(), self._webhook_events,
                                   self._settings.timezone, self._settings.webhook_loopback, form=form,
                                   fields=fields, notice=notice)
        return page(status, body)

    def add_webhook(self, request, staff):
        pairs = web.read_form_pairs(request.headers, request.raw_body)
        form = {"url": dict(pairs).get("url", ""), "events": [value for name, value in pairs if name == "events"]}
        try:
            endpoint, secret = self._webhooks.add(form["url"], form["events"], actor=staff.name)
        except ValidationFailed as error:
            return self.webhooks(staff, status=422, form=form, fields=error.fields), "invalid"
        # The secret's one showing: this answer, never a redirect (inbox_headers: no-store).
        body = inbox.webhook_secret_page(self._base, staff, endpoint, secret, self._settings.timezone)
        return page(200, body), "webhook_added"

    def webhook(self, endpoint_id, staff, params=None):
        endpoint = self._endpoint(endpoint_id)
        notice = inbox.webhooks.DONE.get((params or {}).get("done"))
        body = inbox.webhook_page(self._base, staff, endpoint, self._webhooks.deliveries(endpoint.id),
                                  self._settings.timezone, notice=notice)
        return page(200, body), "page"

    def rotate_webhook(self, endpoint_id, staff):
        secret = self._call(self._webhooks.rotate, endpoint_id, actor=staff.name)
        body = inbox.webhook_secret_page(self._base, staff, self._endpoint(endpoint_id), secret,
                                         self._settings.timezone, rotated=True)
        return page(200, body), "secret_rotated"

    def switch_webhook(self, endpoint_id, staff, active):
        if active:
            self._call(self._webhooks.enable, endpoint_id, actor=staff.name)
        else:
            self._call(self._webhooks.disable, endpoint_id, actor=staff.name)
        done = "enabled" if active else "disabled"
        return see_other(self._settings, f"webhooks/{endpoint_id}?done={done}"), f"webhook_{done}"

    def delete_webhook_confirmation(self, endpoint_id, staff):
        body = inbox.webhook_delete_page(self._base, staff, self._endpoint(endpoint_id), self._settings.timezone)
        return page(200, body), "confirm_delete"

    def delete_webhook(self, request, endpoint_id, staff):
        if read_form(request).get("confirm") != "yes":
            return self.delete_webhook_confirmation(endpoint_id, staff)[0], "not_confirmed"
        self._call(self._webhooks.delete, endpoint_id, actor=staff.name)
        return see_other(self._settings, "webhooks?deleted=1"), "webhook_deleted"

    def _endpoint(self, endpoint_id):
        return self._call(self._webhooks.get, endpoint_id)

    def _call(self, action, endpoint_id, **options):
        """`action` on an endpoint named by a path: an id the inbox could not have made is no endpoint either."""
        try:
            if not _REQUEST_ID.fullmatch(endpoint_id or ""):
                raise NotFound()
            return action(endpoint_id, **options)
        except NotFound:
            raise NotFound(NO_ENDPOINT) from None
