"""Console accounts and how they sign in.

- **Passwords**: Argon2id PHC strings (``cryptography``), at least 12 characters; a
  wrong password and an unknown name cost the same (a decoy hash is checked).
- **Second factor** (optional per account): TOTP, RFC 6238 (``cryptography``'s
  ``TOTP``: SHA-1, 6 digits, 30 s, one step of drift either way), its secret shown once
  as an ``otpauth://`` URI for the authenticator app.
- **Throttle**: wrong sign-ins are counted per account name and per address (an IPv6
  one by its /64), as the terminal counts wrong PINs (``terminal.core.lockout``): after
  5 in a row, refused for 30 s, then twice as long each time, up to an hour; a right
  sign-in clears the account's count. A refused attempt costs no hash, so guessing
  cannot be done faster by being refused; an attempt is counted before its hash is
  checked, so guesses sent at the same moment are counted one after the other.
- **Sessions**: a random 32-byte token in an HttpOnly, SameSite=Strict cookie (Secure
  behind TLS); the database keeps only its SHA-256, when it was made and last used, and
  the session's CSRF token. A session ends after ``idle`` without use, ``lifetime`` at
  most, or at sign-out (the row is deleted: the old cookie opens nothing).
- **Audit**: every sign-in, refusal and change is a row of :class:`~fleet.models.
  ConsoleAudit` with the account and address.

Times are injected (``now``), as the terminal's rules are.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import os
import secrets
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import cache

import peewee
from cryptography.exceptions import InvalidKey
from cryptography.hazmat.primitives.hashes import SHA1
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from cryptography.hazmat.primitives.twofactor import InvalidToken
from cryptography.hazmat.primitives.twofactor.totp import TOTP

from fleet.db import write_transaction
from fleet.models import ConsoleAccount, ConsoleAudit, ConsoleSession, ConsoleThrottle
from terminal.core.lockout import FailureState, LockoutPolicy, after_failure

ROLES = ("admin", "owner", "manager", "auditor", "finance", "warehouse")
MIN_PASSWORD = 12
POLICY = LockoutPolicy(max_failures=5, first_lock_seconds=30, max_lock_seconds=3600)
IDLE = timedelta(minutes=30)
LIFETIME = timedelta(hours=12)
TOTP_STEP = 30
ISSUER = "POS fleet"


class AccountError(ValueError):
    """An account that cannot be made or changed as asked; nothing changed."""


@dataclass(frozen=True)
class Argon2Cost:
    memory_cost: int = 65536  # KiB
    iterations: int = 3
    lanes: int = 4


DEFAULT_COST = Argon2Cost()
FAST_TEST_COST = Argon2Cost(1024, 1, 1)  # tests of other things than the hash's cost


def hash_password(password: str, cost: Argon2Cost = DEFAULT_COST) -> str:
    kdf = Argon2id(
        salt=os.urandom(16),
        length=32,
        iterations=cost.iterations,
        lanes=cost.lanes,
        memory_cost=cost.memory_cost,
    )
    return kdf.derive_phc_encoded(password.encode())


def password_matches(password: str, phc: str) -> bool:
    try:
        Argon2id.verify_phc_encoded(password.encode(), phc)
    except (InvalidKey, ValueError):
        return False
    return True


@cache
def _decoy(cost: Argon2Cost) -> str:
    return hash_password(secrets.token_hex(16), cost)


def check_password_rules(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"a password is at least {MIN_PASSWORD} characters")
    if len(set(password)) < 4:
        raise AccountError("a password of so few different characters is easy to guess")
    return password


# -- accounts ---------------------------------------------------------------------------------
def add_account(
    db: peewee.Database,
    name: str,
    role: str,
    password: str,
    now: datetime,
    *,
    stores: list[str] | None = None,
    language: str = "en",
    cost: Argon2Cost = DEFAULT_COST,
) -> ConsoleAccount:
    if role not in ROLES:
        raise AccountError(f"role: one of {', '.join(ROLES)}, not {role!r}")
    if not name or len(name) > 64 or not name.replace(".", "").replace("-", "").isalnum():
        raise AccountError("a name is 1-64 letters, digits, '.' or '-'")
    if role == "manager" and not stores:
        raise AccountError("a store manager sees their stores: give them (--stores S1,S2)")
    check_password_rules(password)
    with write_transaction(db):
        if ConsoleAccount.select().where(ConsoleAccount.name == name).bind(db).exists():
            raise AccountError(f"{name}: an account of that name exists")
        ConsoleAccount.insert(
            name=name,
            role=role,
            stores=json.dumps(sorted(stores)) if stores else None,
            password_hash=hash_password(password, cost),
            language=language,
            created_at=now,
        ).execute(db)
    return get_account(db, name)


def get_account(db: peewee.Database, name: str) -> ConsoleAccount | None:
    return ConsoleAccount.select().where(ConsoleAccount.name == name).bind(db).first()


def account_by_id(db: peewee.Database, account_id: int) -> ConsoleAccount | None:
    return ConsoleAccount.select().where(ConsoleAccount.id == account_id).bind(db).first()


def account_stores(account: ConsoleAccount) -> frozenset[str] | None:
    """The stores the account sees (None: all)."""
    return frozenset(json.loads(account.stores)) if account.stores else None


def set_password(
    db: peewee.Database, name: str, password: str, *, cost: Argon2Cost = DEFAULT_COST
) -> None:
    check_password_rules(password)
    account = get_account(db, name)
    if account is None:
        raise AccountError(f"no account {name}")
    with write_transaction(db):
        ConsoleAccount.update(password_hash=hash_password(password, cost)).where(
            ConsoleAccount.id == account.id
        ).execute(db)
        ConsoleSession.delete().where(ConsoleSession.account == account.id).execute(db)


def disable_account(db: peewee.Database, name: str) -> None:
    """No more sign-ins for ``name``; its open sessions end now."""
    account = get_account(db, name)
    if account is None:
        raise AccountError(f"no account {name}")
    with write_transaction(db):
        ConsoleAccount.update(disabled=True).where(ConsoleAccount.id == account.id).execute(db)
        ConsoleSession.delete().where(ConsoleSession.account == account.id).execute(db)


def enable_account(db: peewee.Database, name: str) -> None:
    account = get_account(db, name)
    if account is None:
        raise AccountError(f"no account {name}")
    ConsoleAccount.update(disabled=False).where(ConsoleAccount.id == account.id).execute(db)


def new_totp_candidate() -> str:
    """A second factor's secret, not stored until a code from it is shown
    (:func:`confirm_totp`): an authenticator set up wrong locks nobody out."""
    return base64.b32encode(os.urandom(20)).decode()


def totp_uri(secret: str, name: str) -> str:
    return _totp(secret).get_provisioning_uri(name, ISSUER)


def confirm_totp(db: peewee.Database, name: str, secret: str, code: str, now: datetime) -> None:
    """Keep ``secret`` as the account's second factor, if ``code`` is one of its."""
    try:
        if len(base64.b32decode(secret)) != 20:
            raise ValueError
    except ValueError:
        raise AccountError("the second factor's key was changed: start again") from None
    step = totp_step(secret, code.strip(), now)
    if step is None:
        raise AccountError("that code is not the authenticator's: check its clock and retry")
    account = get_account(db, name)
    if account is None:
        raise AccountError(f"no account {name}")
    ConsoleAccount.update(totp_secret=secret, totp_step=step).where(
        ConsoleAccount.id == account.id
    ).execute(db)


def change_own_password(
    db: peewee.Database,
    name: str,
    current: str,
    new: str,
    *,
    cost: Argon2Cost = DEFAULT_COST,
) -> None:
    """A new password for the account whose current one is given; every session of it
    ends (sign in again with the new one)."""
    account = get_account(db, name)
    if account is None or not password_matches(current, account.password_hash):
        raise AccountError("the current password is not right")
    set_password(db, name, new, cost=cost)


def list_accounts(db: peewee.Database) -> list[ConsoleAccount]:
    return list(ConsoleAccount.select().order_by(ConsoleAccount.name).bind(db))


def audit_trail(db: peewee.Database, account: str = "", limit: int = 200) -> list[ConsoleAudit]:
    """The newest audited events (of ``account`` only, given one)."""
    query = ConsoleAudit.select().order_by(ConsoleAudit.at.desc(), ConsoleAudit.id.desc())
    if account:
        query = query.where(ConsoleAudit.account == account)
    return list(query.limit(limit).bind(db))


def new_totp_secret(db: peewee.Database, name: str) -> str:
    """A new second factor for the account: its ``otpauth://`` URI (shown once)."""
    account = get_account(db, name)
    if account is None:
        raise AccountError(f"no account {name}")
    secret = base64.b32encode(os.urandom(20)).decode()
    ConsoleAccount.update(totp_secret=secret).where(ConsoleAccount.id == account.id).execute(db)
    return _totp(secret).get_provisioning_uri(name, ISSUER)


def _totp(secret: str) -> TOTP:
    return TOTP(base64.b32decode(secret), 6, SHA1(), TOTP_STEP, enforce_key_length=False)


def _epoch(now: datetime) -> int:
    """Seconds since 1970 of ``now`` (naive: UTC, as the console's times are)."""
    return int((now if now.tzinfo else now.replace(tzinfo=UTC)).timestamp())


def totp_now(secret: str, now: datetime) -> str:
    """The code an authenticator shows at ``now`` (for tests and the CLI's check)."""
    return _totp(secret).generate(_epoch(now)).decode()


def totp_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step whose code ``code`` is (now's, or one either side), else None."""
    if not code.isdigit() or len(code) != 6:
        return None
    totp, moment = _totp(secret), _epoch(now)
    for drift in (0, -TOTP_STEP, TOTP_STEP):
        try:
            totp.verify(code.encode(), moment + drift)
            return (moment + drift) // TOTP_STEP
        except InvalidToken:
            continue
    return None


def totp_matches(secret: str, code: str, now: datetime) -> bool:
    return totp_step(secret, code, now) is not None


# -- the throttle -----------------------------------------------------------------------------
def _state(db: peewee.Database, subject: str, *, for_update: bool = False) -> FailureState:
    """The subject's count. ``for_update`` (inside a write transaction): held until it
    ends, so that attempts made at the same moment are counted one after the other
    (SQLite's write transaction already holds the whole database; PostgreSQL locks the
    row, made first if missing)."""
    query = ConsoleThrottle.select().where(ConsoleThrottle.subject == subject)
    if for_update and not isinstance(db, peewee.SqliteDatabase):
        ConsoleThrottle.insert(subject=subject).on_conflict_ignore().execute(db)
        query = query.for_update()
    row = query.bind(db).first()
    if row is None:
        return FailureState()
    return FailureState(row.failures, row.lockouts, row.locked_until)


def _save(db: peewee.Database, subject: str, state: FailureState) -> None:
    if state == FailureState():
        ConsoleThrottle.delete().where(ConsoleThrottle.subject == subject).execute(db)
        return
    ConsoleThrottle.insert(
        subject=subject,
        failures=state.failures,
        lockouts=state.lockouts,
        locked_until=state.locked_until,
    ).on_conflict(
        conflict_target=[ConsoleThrottle.subject],
        update={
            ConsoleThrottle.failures: state.failures,
            ConsoleThrottle.lockouts: state.lockouts,
            ConsoleThrottle.locked_until: state.locked_until,
        },
    ).execute(db)


def address_subject(address: str) -> str:
    """The throttle's subject for a client address: an IPv6 address by its /64 (one
    home or one server holds a whole /64, and could otherwise take a new address for
    every guess), an IPv4 one (or IPv4-mapped IPv6) as it is."""
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return f"address:{address[:60]}"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return f"address:{ip.ipv4_mapped}"
        return f"address:{ipaddress.ip_network((ip, 64), strict=False)}"
    return f"address:{ip}"


# -- signing in -------------------------------------------------------------------------------
@dataclass(frozen=True)
class SignIn:
    """What became of a sign-in: ``token`` (for the cookie) when it worked; else
    ``locked_for`` seconds (throttled: nothing was checked), or a plain refusal."""

    token: str | None = None
    locked_for: int = 0
    needs_code: bool = False


def sign_in(
    db: peewee.Database,
    name: str,
    password: str,
    address: str,
    now: datetime,
    *,
    code: str = "",
    cost: Argon2Cost = DEFAULT_COST,
) -> SignIn:
    """Check a sign-in and open a session. Never says which part was wrong."""
    subjects = [f"account:{name[:100]}", address_subject(address)]
    # The attempt is counted as wrong before the (slow) hash is checked, in one
    # transaction with the look at the lock: guesses sent at the same moment cannot all
    # pass the look before any is counted, nor overwrite each other's count.
    with write_transaction(db):
        states = [_state(db, s, for_update=True) for s in subjects]
        locked = max(s.seconds_left(now) for s in states)
        charged = [after_failure(state, POLICY, now) for state in states]
        for subject, state, after in zip(subjects, states, charged, strict=True):
            _save(db, subject, state if locked else after)  # (an empty row made: gone)
    if locked:
        audit(db, name[:64], "sign-in throttled", f"{locked} s", address, now)
        return SignIn(locked_for=locked)
    account = get_account(db, name)
    phc = account.password_hash if account is not None and not account.disabled else None
    right = password_matches(password, phc or _decoy(cost))
    needs = False
    if right and phc and account.totp_secret:
        step = totp_step(account.totp_secret, code, now)
        # RFC 6238 5.2: a code that signed in once does not sign in again (nor an older)
        taken = step is not None and bool(
            ConsoleAccount.update(totp_step=step)
            .where((ConsoleAccount.id == account.id) & (ConsoleAccount.totp_step < step))
            .execute(db)
        )
        if not taken:
            right, needs = False, True
    if not (right and phc):
        audit(db, name[:64], "sign-in refused", "", address, now)
        return SignIn(needs_code=needs)
    token = secrets.token_urlsafe(32)
    with write_transaction(db):
        _save(db, subjects[0], FailureState())
        # the address's charge given back (a right sign-in is not a wrong one)
        held = _state(db, subjects[1], for_update=True)
        if held == charged[1]:
            _save(db, subjects[1], states[1])
        elif held.failures:
            _save(db, subjects[1], replace(held, failures=held.failures - 1))
        ConsoleSession.insert(
            token_hash=token_hash(token),
            account=account.id,
            csrf=secrets.token_urlsafe(32),
            created_at=now,
            last_seen=now,
            address=address[:64],
        ).execute(db)
        audit(db, account.name, "signed in", "", address, now)
    return SignIn(token=token)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Session:
    account: ConsoleAccount
    csrf: str
    token_hash: str


def session_for(db: peewee.Database, token: str | None, now: datetime) -> Session | None:
    """The session a cookie's token opens, touched; None when there is none (unknown,
    signed out, idle too long, too old, or the account disabled)."""
    if not token or len(token) > 100:
        return None
    digest = token_hash(token)
    row = ConsoleSession.select().where(ConsoleSession.token_hash == digest).bind(db).first()
    if row is None:
        return None
    if now - row.last_seen > IDLE or now - row.created_at > LIFETIME:
        ConsoleSession.delete().where(ConsoleSession.token_hash == digest).execute(db)
        return None
    account = account_by_id(db, row.account)
    if account is None or account.disabled:
        return None
    if now - row.last_seen > timedelta(seconds=30):  # (not a write per request)
        ConsoleSession.update(last_seen=now).where(ConsoleSession.token_hash == digest).execute(db)
    return Session(account, row.csrf, digest)


def sign_out(db: peewee.Database, session: Session, address: str, now: datetime) -> None:
    with write_transaction(db):
        ConsoleSession.delete().where(ConsoleSession.token_hash == session.token_hash).execute(db)
        audit(db, session.account.name, "signed out", "", address, now)


def audit(
    db: peewee.Database, account: str, action: str, detail: str, address: str, now: datetime
) -> None:
    ConsoleAudit.insert(
        at=now, account=account, action=action, detail=detail[:2000], address=address[:64]
    ).execute(db)
