"""From request to visit: booking, the visit e-mails and their calendar file, reminders and the patient's page."""
