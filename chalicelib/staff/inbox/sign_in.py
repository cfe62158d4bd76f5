"""The sign-in pages: the e-mail address to send a code to, then the code."""
from .common import problems, render, request_url, url

# True whatever the address and however many others ask: an account's address gets an e-mail within about
# 2 minutes (signin.py), and the page says which code in it is this browser's, not that one is sure to be.
CODE_SENT = ("If this address has a staff account, we e-mail it a sign-in code within about 2 minutes. "
             "It works for 10 minutes, in this browser only.")


def sign_in_page(base, next_id=None, notice=None):
    return render("sign-in.html", base, "Sign in", action=url(base, "sign-in"), notice=notice, next_id=next_id)


def code_page(base, email, next_id=None, error=None, words=None):
    """The same page whatever the address: it must not tell who has an account. `words`: this browser's (the e-mail
    shows them beside its code)."""
    return render(
        "code.html", base, "Enter your sign-in code",
        action=url(base, "sign-in/code"),
        sent=CODE_SENT,
        words=words,
        email=email,
        next_id=next_id,
        error=error,
        problems=problems({"code": error}, ("code",)),
        again=request_url(base, next_id) if next_id else url(base),
    )
