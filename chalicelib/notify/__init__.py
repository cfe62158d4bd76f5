"""Messages sent from the table's stream: staff alerts through SNS and confirmations through SES.

Imports the core, intake and storage (the stream's keys are storage's format); never staff.
"""
