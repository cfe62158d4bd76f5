"""From request to visit: booking, the patient's page, and reminders (issue 28)."""
