"""The fleet console: the chain's back office in the browser (``pos-fleet console``).

- :mod:`fleet.console.accounts`: accounts, passwords (Argon2id), the second factor
  (TOTP), the throttle on wrong sign-ins, sessions (server-side, so signing out ends
  them) and the audit of every change;
- :mod:`fleet.console.access`: who may see and do what (roles, their stores);
- :mod:`fleet.console.app`: the Starlette application, its middleware (session, CSRF,
  security headers) and the page modules in :mod:`fleet.console.pages`, one per part of
  the back office (sales now, terminals, ...); a new part is a new module there.

Pages are rendered on the server (Jinja2), work without JavaScript but for the live
parts, and use no third-party script: ``static/live.js`` (ours, a few lines) reads the
server-sent events; charts are SVG drawn on the server.
"""
