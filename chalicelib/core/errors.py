"""Errors of the domain. The service raises them; the web layer turns each into one HTTP answer.

A message a patient can meet (an answer of POST /appointments or of the form page) is marked with N_ and given
in the patient's language where the answer is made (intake.http); staff messages stay in English."""
from .i18n import N_


class AppError(Exception):
    code = "internal_error"
    message = N_("Something went wrong on our side. Please try again, or call the clinic.")

    def __init__(self, message=None):
        super().__init__(message or self.message)
        if message:
            self.message = message


class ConfigError(AppError):
    """A bad or missing setting. Its text names the setting; callers get only `message`."""

    code = "server_misconfigured"
    message = N_("The service is not configured correctly. Please call the clinic; we are on it.")

    def __init__(self, setting, reason):
        self.setting = setting
        self.reason = reason
        Exception.__init__(self, f"Setting {setting} is invalid: {reason}")


class ValidationFailed(AppError):
    code = "validation_failed"
    message = N_("Some fields need your attention. Please correct them and send the form again.")

    def __init__(self, fields):
        super().__init__()
        self.fields = dict(fields)


class InvalidBody(AppError):
    code = "invalid_body"
    message = N_("The request body could not be read. Send a JSON object or a URL-encoded form in UTF-8.")


class PayloadTooLarge(AppError):
    code = "payload_too_large"
    message = N_("The request is too large. Please shorten your message and try again.")


class UnsupportedMediaType(AppError):
    code = "unsupported_media_type"
    message = N_("Send the form as application/json or application/x-www-form-urlencoded, in UTF-8.")


class IdempotencyConflict(AppError):
    code = "idempotency_conflict"
    message = N_("This Idempotency-Key was already used for a different request. Use a new key for a new request.")
    # What a patient reads when they went back, changed their details and sent the same form again.
    patient_title = N_("We already have your request")
    patient_message = N_(
        "The request you sent from this form arrived earlier, with the details you first gave. "
        "To change them, please call the clinic, or open the form again and send a new request."
    )


class StorageUnavailable(AppError):
    code = "service_unavailable"
    message = N_("We could not save your request just now. Nothing was saved; please try again in a few seconds.")
    retry_after = 5


class Unauthorized(AppError):
    code = "unauthorized"
    message = "Sign in with a valid staff token: send Authorization: Bearer TOKEN."


class Forbidden(AppError):
    code = "forbidden"
    message = "Your role does not allow this action."


class NotFound(AppError):
    code = "not_found"
    message = "There is no such appointment request."


class Conflict(AppError):
    """Someone else changed the same thing first (two staff members, one request)."""

    code = "conflict"
    message = "Someone else changed this meanwhile. Reload it and try again."


class AlertNotSent(AppError):
    """Publishing a staff alert failed. `retryable` is False when retrying cannot help."""

    code = "alert_not_sent"

    def __init__(self, reason, retryable=True):
        super().__init__(f"alert not sent: {reason}")
        self.reason = reason
        self.retryable = retryable


class MailNotSent(AppError):
    """Sending an e-mail through SES failed. `retryable` is False when retrying cannot help."""

    code = "mail_not_sent"

    def __init__(self, reason, retryable=True):
        super().__init__(f"mail not sent: {reason}")
        self.reason = reason
        self.retryable = retryable



class SmsNotSent(AppError):
    """Sending a text message through SNS failed. `retryable` is False when retrying cannot help."""

    code = "sms_not_sent"

    def __init__(self, reason, retryable=True):
        super().__init__(f"sms not sent: {reason}")
        self.reason = reason
        self.retryable = retryable
