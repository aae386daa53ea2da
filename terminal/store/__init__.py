"""Persistence: peewee models, the one function that opens the database, sales, cashiers."""
