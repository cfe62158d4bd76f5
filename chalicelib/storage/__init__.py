"""DynamoDB storage: one module per kind of item in the table. Nothing else knows the item layouts."""
