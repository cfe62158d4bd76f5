"""The sign-in pages: the e-mail address to send a code to, then the code."""
from .common import problems, render, request_url, url

CODE_SENT = ("If this address has a staff account, we have e-mailed it a sign-in code. "
             "It works for 10 minutes.")


def sign_in_page(base, next_id=None, notice=None):
    return render("sign-in.html", base, "Sign in", action=url(base, "sign-in"), notice=notice, next_id=next_id)


def code_page(base, email, next_id=None, error=None):
    """The same page whatever the address: it must not tell who has an account."""
    return render(
        "code.html", base, "Enter your sign-in code",
        action=url(base, "sign-in/code"),
        sent=CODE_SENT,
        email=email,
        next_id=next_id,
        error=error,
        problems=problems({"code": error}, ("code",)),
        again=request_url(base, next_id) if next_id else url(base),
    )
