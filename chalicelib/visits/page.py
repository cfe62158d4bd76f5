"""The patient's page over HTTP: GET /r/{token} draws it, POST /r/{token} records an answer (a plain form post,
then a 303 back to the page saying what happened), GET /r/{token}/visit.ics gives the booked visit's calendar.

Server-rendered from chalicelib/visits/templates with the form's CSS, no script. Every answer, the error pages
included, says noindex, no-store and no-referrer (PAGE_HEADERS, given by app.py to every one of these routes),
under a CSP that allows the form's CSS and a post to the page itself only. A link that no longer opens the page
gets a page saying so in every language offered (nothing on it says whose request it was, or whether there was
one): 410 when it did work once, 404 when it never did.
"""
from pathlib import Path

from ..core import web
from ..core.errors import AppError
from ..core.i18n import day_and_time
from ..core.templates import Templates
from ..intake.page import asset_url
from .answers import OUTCOMES, LinkGone, LinkUnknown

TEMPLATES = Templates(Path(__file__).resolve().parent / "templates")
PAGE_HEADERS = web.PATIENT_PAGE_HEADERS
FIELDS = ("answer", "seen", "answer_field")


def css_url():
    """The form's CSS, from /r/{token}: one folder up, so that it works at / and under a stage prefix."""
    return "../" + asset_url("form.css")


def show(pages, settings, token, query):
    """GET /r/{token}: (Response, outcome for the access log)."""
    try:
        view = pages.view(token)
    except (LinkGone, LinkUnknown) as error:
        return _gone(settings, error.status), "gone" if error.status == 410 else "unknown"
    done = (query or {}).get("done")
    language = view.language if view.language in settings.languages else settings.languages[0]
    body = TEMPLATES.render(
        "page.html", language, view=view, css_url=css_url(),
        done=done if done in OUTCOMES else None,
        due=day_and_time(view.due_at, language) if view.due_at else None,
        visit=day_and_time(view.visit_at, language) if view.visit_at else None,
        calendar_url=f"{token}/visit.ics" if view.calendar else None,
    )
    return web.html_response(200, body), "page"


def answer(pages, settings, token, headers, raw_body):
    """POST /r/{token}: a 303 back to the page with what happened (?done=), or the page of a dead link."""
    try:
        form = web.read_form(headers, raw_body)
    except AppError:  # a body the page never sends: nothing recorded, the page asks to try again
        form = {}
    try:
        outcome = pages.answer(token, {name: form.get(name) for name in FIELDS})
    except (LinkGone, LinkUnknown) as error:
        return _gone(settings, error.status), "gone" if error.status == 410 else "unknown"
    return web.redirect(f"./{token}?done={outcome}"), outcome


def calendar(pages, settings, token, page_url):
    """GET /r/{token}/visit.ics: the booked visit's calendar file, or the dead link's page."""
    try:
        body = pages.calendar(token, page_url)
    except (LinkGone, LinkUnknown) as error:
        return _gone(settings, error.status), "gone" if error.status == 410 else "unknown"
    if body is None:
        return _gone(settings, 404), "no_visit"
    headers = {"Content-Type": "text/calendar; charset=utf-8", "Content-Disposition": 'attachment; filename="visit.ics"'}
    return web.html_response(200, body.decode("utf-8"), headers), "calendar"


def error_page(settings, error):
    """A failure of ours (storage unavailable, a broken setting): a page saying to try again, in every language."""
    return web.error_response(error, lambda failed: _in_every_language(settings, "problem.html", {}))


def _gone(settings, status):
    return web.html_response(status, _in_every_language(settings, "gone.html", {"gone": status == 410}))


def _in_every_language(settings, template, values):
    from markupsafe import Markup

    languages = list(settings.languages)
    # Each language's words are drawn by that language's templates: the catalogue's HTML, trusted as the page's own.
    sections = [(code, Markup(TEMPLATES.render(template, code, **values)))  # nosec B704
                for code in languages]
    return TEMPLATES.render("every-language.html", languages[0], sections=sections, css_url=css_url(), **values)
