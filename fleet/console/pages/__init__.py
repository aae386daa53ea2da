"""The console's parts, one module each; each gives its ``ROUTES`` (Starlette routes).

A new part of the back office (online orders, bank reconciliation, stock) is a new module
here with its routes, templates and a line in :data:`fleet.console.access.SEES`."""
