"""From request to visit: booking rules, the visit's calendar file, the patient's page links.

Imports only the core: staff, storage and notify build on it.
"""
