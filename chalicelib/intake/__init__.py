"""A patient's request coming in: the form as received and as stored, the submission service, the form page.

Imports only the core.
"""
