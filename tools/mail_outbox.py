"""The local outbox's view of a sent e-mail: a SESv2 SendEmail request as a person reads it.

A simple message carries its subject and bodies as they are; a raw one (a visit's e-mail with its .ics)
is MIME, base64 in the request's JSON: `readable` gives both the same shape, `Content.Simple` (subject,
text, HTML) plus `Attachments` (name, type, data as text), so the terminal and the end-to-end tests read
either without caring which it was.
"""
import base64
from email import message_from_bytes, policy


def readable(mail):
    """`mail` (a SendEmail request as JSON) with `Content.Simple` filled in from a raw message, and its
    attachments under `Attachments`; a simple message is returned as it is, with no attachments."""
    raw = mail.get("Content", {}).get("Raw")
    if not raw:
        return {**mail, "Attachments": []}
    message = message_from_bytes(base64.b64decode(raw["Data"]), policy=policy.default)
    body = {}
    for subtype, name in (("plain", "Text"), ("html", "Html")):
        part = message.get_body((subtype,))
        if part is not None:
            body[name] = {"Data": part.get_content().replace("\r\n", "\n"), "Charset": "UTF-8"}
    attachments = [{"FileName": part.get_filename(), "ContentType": part["Content-Type"],
                    "Data": part.get_payload(decode=True).decode("utf-8", "replace")}
                   for part in message.iter_attachments()]
    content = {**mail["Content"], "Simple": {"Subject": {"Data": str(message["Subject"]).strip()}, "Body": body}}
    reply_to = [address.strip() for address in str(message.get("Reply-To", "")).split(",") if address.strip()]
    return {**mail, "Content": content, "Attachments": attachments,
            **({"ReplyToAddresses": reply_to} if reply_to else {})}


def attachment_lines(attachment):
    """What the terminal shows of an attachment: its name and type, and a calendar's start and end lines."""
    lines = [f"ATTACHED {attachment['FileName']} ({attachment['ContentType']})"]
    if attachment["ContentType"].startswith("text/calendar"):
        unfolded = attachment["Data"].replace("\r\n ", "").splitlines()
        # The method, then the event's own lines (the time zone's rules have DTSTART lines of their own).
        event = unfolded[unfolded.index("BEGIN:VEVENT"):] if "BEGIN:VEVENT" in unfolded else []
        lines += [f"      {line}" for line in unfolded if line.startswith("METHOD:")]
        lines += [f"      {line}" for line in event if line.startswith(("DTSTART", "DTEND", "SEQUENCE", "STATUS", "SUMMARY"))]
    return lines
