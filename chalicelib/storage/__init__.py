"""DynamoDB storage: one module per kind of item in the table. Nothing else knows the item layouts.

Imports the core and the domain types of intake and staff; never HTTP (chalice, web, pages).
"""
