"""The staff inbox's pages, rendered on the server: sign-in, the list, one request, erasure, accounts, export,
webhooks.

One module a page; each prepares plain values for its template in chalicelib/staff/templates, which holds
every tag. Plain HTML, one stylesheet and one small script from chalicelib/staff/static, nothing from other
hosts; every page works with JavaScript off. The templates escape every value and strip its bidirectional
controls, and text a person typed is isolated in <bdi>, so it cannot reorder what is around it.
"""
from .accounts import ACCOUNT_FIELDS, accounts_page
from .common import (ANSWER_LABELS, FILTERS, POLICY, ROLE_LABELS, STATIC, STATUS_LABELS, TEMPLATES, asset, asset_url,
                     inbox_headers, tel_uri, visit_moment)
from .export import export_page
from .listing import SPAM_DAYS, SPAM_DECISIONS, STATUS_CHOICES, list_page
from .message import message_page
from .request import FIELD_ORDER, TRANSITION_LABELS, erase_page, request_page
from .sign_in import CODE_SENT, code_page, sign_in_page
from .webhooks import webhook_delete_page, webhook_page, webhook_secret_page, webhooks_page

__all__ = [
    "ACCOUNT_FIELDS", "ANSWER_LABELS", "CODE_SENT", "FIELD_ORDER", "FILTERS", "POLICY", "ROLE_LABELS", "SPAM_DAYS",
    "SPAM_DECISIONS",
    "STATIC", "STATUS_CHOICES", "STATUS_LABELS", "TEMPLATES", "TRANSITION_LABELS", "accounts_page", "asset",
    "asset_url", "code_page", "erase_page", "export_page", "inbox_headers", "list_page", "message_page",
    "request_page", "sign_in_page", "tel_uri", "visit_moment", "webhook_delete_page", "webhook_page",
    "webhook_secret_page", "webhooks_page",
]
