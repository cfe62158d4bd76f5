"""In Lambda, the cyclic garbage collector is paused from the app's import until its first event is served.

A cold start (importing the app, then the first event: pydantic's models, botocore, the
clients) makes some 90,000 objects that live as long as the process and about 0.2 MiB of
cyclic garbage, and the collector would walk the lot dozens of times on the way: about an
eighth of the cold start, measured with `make bench`. After the first event they are moved out
of the collector's sight for good (`gc.freeze`, made for this), that garbage included, and the
collector runs as usual from then on.

Only where Lambda runs the app (it sets AWS_LAMBDA_FUNCTION_NAME): a process that imports the
app and may serve nothing for hours (`chalice local`, the local stream driver, pytest,
`chalice package`) keeps its collector.
"""
import gc
import os

_paused = "AWS_LAMBDA_FUNCTION_NAME" in os.environ and gc.isenabled()
if _paused:
    gc.disable()


def resume_after_first_event(event, get_response):
    """Chalice middleware for every kind of event."""
    try:
        return get_response(event)
    finally:
        resume()


def resume():
    global _paused
    if _paused:
        _paused = False
        gc.freeze()
        gc.enable()
