"""Outbound events: the clinic's other systems told of every change by signed webhooks (Standard Webhooks).

The top layer beside visits: it may import every package below it (core, intake, staff, storage, notify, visits),
and none of them imports it; the wiring puts it together.
"""
