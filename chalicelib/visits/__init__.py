"""From request to visit, for the patient: the reminders before a booked visit and the patient's own page.

The top layer: imports the core, intake, staff, storage and notify. The visit's times and the page's link are in
the core (core.visit_times, core.patient_links), where the staff's booking and the confirmation reach them.
"""
