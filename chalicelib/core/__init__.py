"""The shared core: settings, errors, logs, the clock, the secret key, mail, HTTP helpers and page assets.

Imports none of the other packages: everything else may build on it.
"""
