"""Online orders, kept centrally (seed 001): drop orders, book orders, bank statements
and their reconciliation. The rules that the terminal shares live in
:mod:`terminal.core.online_orders`; what only the centre does is here."""
