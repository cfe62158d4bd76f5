"""What clinic staff use: triage, accounts, sign-in, tokens, the inbox's pages and HTTP, CSV export.

Imports the core and intake; storage is passed in, never imported.
"""
