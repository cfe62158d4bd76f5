"""A page that only says something: signed out, not found, not allowed, try again."""
from .common import render


def message_page(base, title, text, status_hint=None):
    return render("message.html", base, title, text=text, hint=status_hint)
