"""moto in server mode, quietly: the local AWS of `make run` and the end-to-end tests.

    python -m tools.aws_emulator -H 127.0.0.1 -p 5000 [--outbox-file FILE]

Werkzeug's access log is off: the stream driver and staff inbox poll several times a second,
which would bury the service's own log lines (and it prints client IP addresses).

Every e-mail that moto's SES accepts is shown in the terminal as a person would read it (the
"mail outbox": sign-in codes, confirmations, visits and the names and times of their .ics), or, with --outbox-file,
appended to that file instead, one JSON object per line, for tests to read. Every text message moto's SNS accepts
(Publish to a PhoneNumber: the reminders) is shown the same way, as a line `SMS to +1...` and the
text, or appended to the outbox file's sibling `*.sms.jsonl`.
"""
import json
import logging
import sys
import threading

from pathlib import Path

from moto.server import main
from moto.sesv2.responses import SESV2Response
from moto.sns.responses import SNSResponse

from tools.mail_outbox import attachment_lines, readable

BAR = "─" * 60
_lock = threading.Lock()


def render(mail):
    mail = readable(mail)
    content = mail.get("Content", {}).get("Simple", {})
    body = content.get("Body", {})
    lines = [
        "", BAR,
        f"MAIL  to {', '.join(mail.get('Destination', {}).get('ToAddresses', []))}",
        f"      from {mail.get('FromEmailAddress', '')}"
        + (f", reply to {', '.join(mail['ReplyToAddresses'])}" if mail.get("ReplyToAddresses") else ""),
        f"      subject {content.get('Subject', {}).get('Data', '')}",
        BAR,
        body.get("Text", {}).get("Data") or body.get("Html", {}).get("Data", ""),
        *([BAR] if mail["Attachments"] else []),
        *[line for attachment in mail["Attachments"] for line in attachment_lines(attachment)],
        BAR,
    ]
    return "\n".join(lines)


def record_sent_mail(outbox_file=None):
    """Wrap moto's SESv2 SendEmail: after moto accepts a message, show it (and keep it in the file)."""
    send_email = SESV2Response.send_email

    def send_and_record(self):
        answer = send_email(self)
        mail = {**json.loads(self.body), "MessageId": json.loads(answer)["MessageId"]}
        with _lock:
            if outbox_file:  # the tests' copy: kept out of the terminal (and so out of the stack's log)
                with open(outbox_file, "a", encoding="utf-8") as out:
                    out.write(json.dumps(mail, ensure_ascii=False) + "\n")
            else:
                print(render(mail), flush=True)
        return answer

    SESV2Response.send_email = send_and_record


def render_sms(sms):
    from chalicelib.notify.sms import segments

    size = segments(sms["Message"])
    return "\n".join(["", BAR, f"SMS to {sms['PhoneNumber']}  ({size.encoding}, {size.count} segment"
                                f"{'s' if size.count > 1 else ''})", BAR, sms["Message"], BAR])


def sms_outbox(outbox_file):
    return Path(outbox_file).with_suffix(".sms.jsonl") if outbox_file else None


def record_sent_sms(outbox_file=None):
    """Wrap moto's SNS Publish: a text message to a phone number that moto accepted is shown (or kept)."""
    publish = SNSResponse.publish

    def publish_and_record(self):
        answer = publish(self)
        phone = self._get_param("PhoneNumber")
        if phone:
            sms = {"PhoneNumber": phone, "Message": self._get_param("Message")}
            with _lock:
                if outbox_file:
                    with open(sms_outbox(outbox_file), "a", encoding="utf-8") as out:
                        out.write(json.dumps(sms, ensure_ascii=False) + "\n")
                else:
                    print(render_sms(sms), flush=True)
        return answer

    SNSResponse.publish = publish_and_record


def split_arguments(argv):
    """(moto's own arguments, the outbox file or None)."""
    argv = list(argv)
    if "--outbox-file" in argv:
        at = argv.index("--outbox-file")
        outbox = argv[at + 1]
        del argv[at:at + 2]
        return argv, outbox
    return argv, None


if __name__ == "__main__":
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    moto_arguments, outbox = split_arguments(sys.argv[1:])
    record_sent_mail(outbox)
    record_sent_sms(outbox)
    sys.exit(main(moto_arguments))
