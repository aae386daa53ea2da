"""The fleet database's tables (peewee), on SQLite or PostgreSQL.

The models belong to no database: every query names the one it runs on
(``query.bind(db)``, ``.execute(db)``, ``.get(db)``), as the terminal's own store does,
so two fleet databases can live in one process (a test on SQLite and PostgreSQL, a tool
copying one into the other). A query that names none fails at once.

Three groups of tables:

- **the terminals** (:class:`Terminal`, :class:`TerminalKey`): who may send, with which
  journal keys, and how far the fleet holds each one's journal (``acked_seq`` and
  ``acked_hash``: the highest contiguous entry held, the anchor a truncated terminal
  journal is checked against);
- **what came in** (:class:`Entry`: the journal entries exactly as signed, one row per
  (terminal, seq); :class:`Quarantine`: what was refused, kept aside as received;
  :class:`Alert`; :class:`DeviceEvent`);
- **signed configuration** (:class:`ConfigDocument`: every document the fleet signed and
  pushed, per scope and version; :class:`TerminalConfig`: what each terminal last
  reported; :class:`Rollout` and :class:`RolloutTarget`: a push in waves, its state and
  each terminal's wave and answer);
- **the console** (:class:`ConsoleAccount`, :class:`ConsoleSession`,
  :class:`ConsoleThrottle`, :class:`ConsoleAudit`): who may sign in to the web console,
  their sessions, the throttle on wrong passwords, and every change made there;
- **the central tables**, built from the stored entries in the same transaction
  (:mod:`fleet.central`): sales with their lines, payments and taxes, refunds, shifts and
  Z reports. They hold what the journal payloads hold and nothing invented: a sale's
  line has its SKU, quantity, unit price, amount, tax class and discount (the journal
  keeps no product name and no tax per line; the taxes are per rate, :class:`SaleTax`).
  A child row names its parent by (terminal, parent's seq), so a whole batch inserts in
  a few statements.

Money is in the currency's minor units, as the terminal journals it. Times the fleet
writes are UTC without a zone (``received_at``, ``ts`` of the central rows); the
entry's own ``ts`` stays the text the terminal signed.
"""

from __future__ import annotations

from peewee import (
    SQL,
    BigIntegerField,
    BlobField,
    BooleanField,
    CharField,
    CompositeKey,
    DateField,
    DateTimeField,
    FloatField,
    IntegerField,
    Model,
    SqliteDatabase,
    TextField,
)

GENESIS_HEX = "0" * 64


class _NoDatabase(SqliteDatabase):
    """The models' own database: none (see the module's docstring). It says it has
    RETURNING, as both fleet backends do (PostgreSQL; SQLite 3.35+, opened so by
    ``fleet.db.connect``): peewee decides an INSERT's RETURNING when the query is made,
    from the model's database, and runs it on the one it is bound to."""

    returning_clause = True

    def connect(self, reuse_if_open: bool = False):
        raise RuntimeError(
            "a fleet model query that names no database: bind it (query.bind(db), execute(db))"
        )


UNBOUND = _NoDatabase(None)


class BaseModel(Model):
    class Meta:
        database = UNBOUND
        legacy_table_names = False


# -- the terminals ------------------------------------------------------------------------------
class Terminal(BaseModel):
    """A registered terminal and what the fleet knows of it."""

    id = CharField(primary_key=True, max_length=64)
    store = CharField(max_length=100)
    group = CharField(max_length=100, column_name="terminal_group")
    timezone = CharField(max_length=64, default="UTC")  # the store's: business days
    registered_at = DateTimeField()
    # the journal as held: the highest contiguous entry (0 and genesis: none yet)
    acked_seq = BigIntegerField(default=0)
    acked_hash = CharField(max_length=64, default=GENESIS_HEX)
    acked_epoch = IntegerField(default=0)
    reported_head = BigIntegerField(default=0)  # the terminal's head, from its last batch
    duplicates = BigIntegerField(default=0)  # entries received again (replays, redeliveries)
    # presence (pos/v1/{tid}/state)
    status = CharField(max_length=10, default="offline")
    birth = BigIntegerField(null=True)
    software = CharField(max_length=200, default="")
    config_version = BigIntegerField(null=True)
    last_seen = DateTimeField(null=True)

    @property
    def unsent(self) -> int:
        """Entries the terminal had made (at its last batch) that the fleet does not hold."""
        return max(0, self.reported_head - self.acked_seq)


class TerminalKey(BaseModel):
    """A journal public key of a terminal (a terminal may have several over time: a
    replacement's, a rotated one). ``key_id`` as ``journal_format.key_id`` names it."""

    terminal_id = CharField(max_length=64)
    key_id = CharField(max_length=64)
    public_key_pem = TextField()
    added_at = DateTimeField()

    class Meta:
        primary_key = CompositeKey("terminal_id", "key_id")
        constraints = (SQL("FOREIGN KEY (terminal_id) REFERENCES terminal (id)"),)


# -- what came in -------------------------------------------------------------------------------
class Entry(BaseModel):
    """A journal entry as the terminal signed it; ``payload_json`` is its canonical text."""

    terminal_id = CharField(max_length=64)
    seq = BigIntegerField()
    epoch = IntegerField()
    key_id = CharField(max_length=64)
    type = CharField(max_length=40)
    ts = CharField(max_length=40)
    grand_total = BigIntegerField()
    payload_json = TextField()
    prev_hash = CharField(max_length=64)
    hash = CharField(max_length=64)
    signature = CharField(max_length=128)
    stored_at = DateTimeField(index=True)  # (the metrics read the newest)

    class Meta:
        primary_key = CompositeKey("terminal_id", "seq")
        indexes = ((("terminal_id", "type", "seq"), False),)
        constraints = (SQL("FOREIGN KEY (terminal_id) REFERENCES terminal (id)"),)

    def as_journal_entry(self) -> dict:
        """The dict ``journal_format`` hashes and verifies."""
        return {
            "epoch": self.epoch,
            "seq": self.seq,
            "terminal_id": self.terminal_id,
            "key_id": self.key_id,
            "type": self.type,
            "ts": self.ts,
            "grand_total": self.grand_total,
            "payload_json": self.payload_json,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
            "signature": self.signature,
        }


class Quarantine(BaseModel):
    """An entry refused (never stored as a sale): why, and the entry as it came."""

    terminal_id = CharField(max_length=64, index=True)
    epoch = IntegerField()
    seq = BigIntegerField()
    reason = CharField(max_length=40)  # gap, conflict, broken link, hash mismatch, ...
    detail = TextField(default="")
    entry_json = TextField()
    received_at = DateTimeField()


class Alert(BaseModel):
    """Something for the fleet admin. One open alert per (terminal, kind, device): a
    repeat bumps ``count`` and ``at`` (and keeps the latest detail)."""

    terminal_id = CharField(max_length=64, null=True, index=True)
    kind = CharField(max_length=40)
    device = CharField(max_length=200, default="")
    detail = TextField(default="")
    at = DateTimeField()
    first_at = DateTimeField()
    count = IntegerField(default=1)
    resolved = BooleanField(default=False)


class DeviceEvent(BaseModel):
    """An ``up/event`` message as received (``ts``: the terminal's time, as sent)."""

    terminal_id = CharField(max_length=64, index=True)
    kind = CharField(max_length=40)
    device = CharField(max_length=200, default="")
    detail = TextField(default="")
    ts = CharField(max_length=40)
    seq = BigIntegerField(null=True)
    received_at = DateTimeField()


# -- the central tables ---------------------------------------------------------------------------
class Sale(BaseModel):
    """A sale entry. ``paid``: what the customer paid (the journal's ``total``, after cash
    rounding); ``total``: the goods after discounts, before rounding (``paid - rounding``)."""

    terminal_id = CharField(max_length=64)
    seq = BigIntegerField()
    epoch = IntegerField()
    store = CharField(max_length=100, index=True)
    number = BigIntegerField()
    label = CharField(max_length=100)
    return_code = CharField(max_length=100, default="")
    ts = DateTimeField()  # UTC
    business_day = DateField(index=True)  # in the terminal's (store's) time zone
    currency = CharField(max_length=10, default="")
    cashier = IntegerField(null=True)
    shift = IntegerField(null=True)
    customer = CharField(max_length=64, null=True)  # the terminal's customer id
    total = BigIntegerField()
    paid = BigIntegerField()
    rounding = BigIntegerField(default=0)
    discount = BigIntegerField(default=0)
    net = BigIntegerField(default=0)  # before tax
    tax = BigIntegerField(default=0)
    points_earned = BigIntegerField(default=0)

    class Meta:
        primary_key = CompositeKey("terminal_id", "seq")
        indexes = ((("terminal_id", "number"), False),)  # a refund finds its sale by label


class SaleLine(BaseModel):
    terminal_id = CharField(max_length=64)
    sale_seq = BigIntegerField()
    position = IntegerField()  # 1, 2, ... as on the receipt
    sku = CharField(max_length=100)
    quantity = CharField(max_length=40)  # exact text: "2", "1.234" (kg)
    unit_price = BigIntegerField()
    amount = BigIntegerField()
    tax_class = CharField(max_length=40, default="")
    discount = BigIntegerField(default=0)
    # its share of the sale's net (before tax, after discounts) and its goods' cost at the
    # store's moving average when ingested (None: never received); terminal.core.margins
    net = BigIntegerField(default=0)
    cost = BigIntegerField(null=True)

    class Meta:
        primary_key = CompositeKey("terminal_id", "sale_seq", "position")
        constraints = (
            SQL("FOREIGN KEY (terminal_id, sale_seq) REFERENCES sale (terminal_id, seq)"),
        )


class SalePayment(BaseModel):
    terminal_id = CharField(max_length=64)
    sale_seq = BigIntegerField()
    position = IntegerField()
    kind = CharField(max_length=20)  # cash, card, points
    amount = BigIntegerField()
    tendered = BigIntegerField(null=True)  # cash
    change = BigIntegerField(null=True)  # cash
    points = BigIntegerField(null=True)  # points
    receipt_number = BigIntegerField(null=True)  # card

    class Meta:
        primary_key = CompositeKey("terminal_id", "sale_seq", "position")
        constraints = (
            SQL("FOREIGN KEY (terminal_id, sale_seq) REFERENCES sale (terminal_id, seq)"),
        )


class SaleTax(BaseModel):
    """A sale's tax per rate, as journaled (``base`` and ``amount``)."""

    terminal_id = CharField(max_length=64)
    sale_seq = BigIntegerField()
    position = IntegerField()
    code = CharField(max_length=40)
    rate = CharField(max_length=20)
    base = BigIntegerField()
    amount = BigIntegerField()

    class Meta:
        primary_key = CompositeKey("terminal_id", "sale_seq", "position")
        constraints = (
            SQL("FOREIGN KEY (terminal_id, sale_seq) REFERENCES sale (terminal_id, seq)"),
        )


class Refund(BaseModel):
    """A refund entry: ``amount`` the goods' value given back, ``paid`` what its tenders
    paid back (cash after its rounding)."""

    terminal_id = CharField(max_length=64)
    seq = BigIntegerField()
    epoch = IntegerField()
    store = CharField(max_length=100, index=True)
    number = BigIntegerField()
    label = CharField(max_length=100)
    sale_label = CharField(max_length=100, null=True)  # None: without a receipt
    ts = DateTimeField()
    business_day = DateField(index=True)
    cashier = IntegerField(null=True)
    shift = IntegerField(null=True)
    amount = BigIntegerField()
    paid = BigIntegerField()
    reason = CharField(max_length=200, default="")
    approved_by = CharField(max_length=100, null=True)
    points_back = BigIntegerField(default=0)
    points_returned = BigIntegerField(default=0)

    class Meta:
        primary_key = CompositeKey("terminal_id", "seq")


class RefundPayment(BaseModel):
    terminal_id = CharField(max_length=64)
    refund_seq = BigIntegerField()
    kind = CharField(max_length=20)
    amount = BigIntegerField()

    class Meta:
        primary_key = CompositeKey("terminal_id", "refund_seq", "kind")
        constraints = (
            SQL("FOREIGN KEY (terminal_id, refund_seq) REFERENCES refund (terminal_id, seq)"),
        )


class RefundLine(BaseModel):
    terminal_id = CharField(max_length=64)
    refund_seq = BigIntegerField()
    position = IntegerField()  # 1, 2, ... in the refund
    sale_position = IntegerField(null=True)  # the sale's line it gives back
    sku = CharField(max_length=100)
    quantity = CharField(max_length=40)
    amount = BigIntegerField()
    restock = BooleanField(default=False)
    # the revenue (net of tax) and the cost it takes back (terminal.core.margins); whether
    # the line it gives back was sold with no cost known
    net = BigIntegerField(default=0)
    cost = BigIntegerField(default=0)
    uncosted = BooleanField(default=False)

    class Meta:
        primary_key = CompositeKey("terminal_id", "refund_seq", "position")
        constraints = (
            SQL("FOREIGN KEY (terminal_id, refund_seq) REFERENCES refund (terminal_id, seq)"),
        )


class Shift(BaseModel):
    """A shift (the terminal's shift id), from its opening and closing entries. Keyed by
    its own id: a terminal restored from an old backup may number a shift again."""

    terminal_id = CharField(max_length=64)
    shift = IntegerField()
    store = CharField(max_length=100)
    cashier = IntegerField(null=True)
    opened_seq = BigIntegerField(null=True)
    opened_at = DateTimeField(null=True)
    business_day = DateField(null=True)
    opening_float = BigIntegerField(default=0)
    closed_seq = BigIntegerField(null=True)
    closed_at = DateTimeField(null=True)
    closed_by = IntegerField(null=True)
    expected = BigIntegerField(null=True)
    counted = BigIntegerField(null=True)
    variance = BigIntegerField(null=True)
    counts_json = TextField(null=True)  # the blind count: {"100000": 1, ...}

    class Meta:
        indexes = ((("terminal_id", "shift"), False),)


class ZReport(BaseModel):
    """A Z report as the terminal journaled it: ``figures_json`` is the entry's payload."""

    terminal_id = CharField(max_length=64)
    seq = BigIntegerField()
    epoch = IntegerField()
    number = BigIntegerField()
    store = CharField(max_length=100)
    ts = DateTimeField()
    business_day = DateField()
    first_seq = BigIntegerField()
    last_seq = BigIntegerField()
    cashier = IntegerField(null=True)
    figures_json = TextField()

    class Meta:
        primary_key = CompositeKey("terminal_id", "seq")
        indexes = ((("terminal_id", "number"), False),)


# -- rollups, kept at ingest for the console's reports ------------------------------------------
class SalesHour(BaseModel):
    """Sales, refunds and voids of a terminal in one local hour of a business day, summed
    as the ingest stores the entries (:mod:`fleet.central`): "Sales now" and the monthly
    reports add these up instead of reading every sale. ``hour`` is the store's local
    hour (0-23); ``paid``/``refunded`` what the tenders took and gave back."""

    terminal_id = CharField(max_length=64)
    business_day = DateField()
    hour = IntegerField()
    store = CharField(max_length=100)
    currency = CharField(max_length=10, default="")
    sales = BigIntegerField(default=0)
    paid = BigIntegerField(default=0)
    total = BigIntegerField(default=0)
    tax = BigIntegerField(default=0)
    discount = BigIntegerField(default=0)
    refunds = BigIntegerField(default=0)
    refunded = BigIntegerField(default=0)  # what the refunds' tenders gave back
    refund_goods = BigIntegerField(default=0)  # the goods' value the refunds took back
    voids = BigIntegerField(default=0)

    class Meta:
        table_name = "sales_hour"
        primary_key = CompositeKey("terminal_id", "business_day", "hour")
        indexes = ((("business_day", "store"), False),)


class PaymentDay(BaseModel):
    """What each kind of tender took (sales) and gave back (refunds) per terminal and
    business day."""

    terminal_id = CharField(max_length=64)
    business_day = DateField()
    kind = CharField(max_length=20)
    store = CharField(max_length=100)
    paid = BigIntegerField(default=0)
    payments = BigIntegerField(default=0)
    refunded = BigIntegerField(default=0)

    class Meta:
        table_name = "payment_day"
        primary_key = CompositeKey("terminal_id", "business_day", "kind")
        indexes = ((("business_day", "store"), False),)


class ProductDay(BaseModel):
    """A product's sales per store and business day: quantity in thousandths (a kilo
    sold by weight is 1000), amount after line discounts, and what came back; for the
    margin (:mod:`terminal.core.margins`) the revenue net of tax, the goods' cost, the
    lines sold with no cost known (never received), and what the refunds took back."""

    store = CharField(max_length=100)
    business_day = DateField()
    sku = CharField(max_length=100)
    quantity_milli = BigIntegerField(default=0)
    amount = BigIntegerField(default=0)
    lines = BigIntegerField(default=0)
    returned_milli = BigIntegerField(default=0)
    returned_amount = BigIntegerField(default=0)
    net = BigIntegerField(default=0)
    cost = BigIntegerField(default=0)
    uncosted = BigIntegerField(default=0)  # lines
    uncosted_net = BigIntegerField(default=0)  # their revenue (less what refunds took back)
    returned_net = BigIntegerField(default=0)
    returned_cost = BigIntegerField(default=0)

    class Meta:
        table_name = "product_day"
        primary_key = CompositeKey("store", "business_day", "sku")
        indexes = ((("business_day",), False),)


class TaxDay(BaseModel):
    """Tax per rate (PPN; Mongolia's VAT and city tax) per store and business day: the
    base and the tax of sales, as journaled per rate."""

    store = CharField(max_length=100)
    business_day = DateField()
    code = CharField(max_length=40)
    rate = CharField(max_length=20)
    base = BigIntegerField(default=0)
    amount = BigIntegerField(default=0)
    sales = BigIntegerField(default=0)

    class Meta:
        table_name = "tax_day"
        primary_key = CompositeKey("store", "business_day", "code", "rate")
        indexes = ((("business_day",), False),)


class CashierDay(BaseModel):
    """A cashier's sales and refunds per terminal and business day (``cashier`` 0: none
    named)."""

    terminal_id = CharField(max_length=64)
    business_day = DateField()
    cashier = IntegerField()
    store = CharField(max_length=100)
    sales = BigIntegerField(default=0)
    paid = BigIntegerField(default=0)
    discount = BigIntegerField(default=0)
    refunds = BigIntegerField(default=0)
    refunded = BigIntegerField(default=0)
    # for the margin per cashier: the sales' revenue net of tax and their goods' cost,
    # and what the cashier's refunds took back of them
    net = BigIntegerField(default=0)
    cost = BigIntegerField(default=0)
    uncosted = BigIntegerField(default=0)  # lines sold with no cost known
    uncosted_net = BigIntegerField(default=0)  # their revenue (less refunds')
    returned_net = BigIntegerField(default=0)
    returned_cost = BigIntegerField(default=0)

    class Meta:
        table_name = "cashier_day"
        primary_key = CompositeKey("terminal_id", "business_day", "cashier")
        indexes = ((("business_day", "store"), False),)


# -- signed configuration ---------------------------------------------------------------------
class ConfigDocument(BaseModel):
    """A configuration document the fleet signed and pushed: ``scope`` as its label
    (``fleet``, ``group:G``, ``terminal:T``), ``envelope`` the signed JSON text as sent,
    ``sha256`` of its payload, ``rollout`` the rollout that sent it (None: none yet)."""

    scope = CharField(max_length=120)
    version = BigIntegerField()
    envelope = TextField()
    sha256 = CharField(max_length=64)
    key_id = CharField(max_length=64)  # the signing key's
    created_at = DateTimeField()
    rollout = IntegerField(null=True)

    class Meta:
        indexes = ((("scope", "version"), True),)


class TerminalSecretsKey(BaseModel):
    """The X25519 public key a terminal reported in its state (``secrets_key``): what the
    fleet seals its PINs and passkeys to. Reported over the terminal's own mutually
    authenticated connection (its certificate names it), so a replaced terminal's new
    key takes the old one's place."""

    terminal_id = CharField(primary_key=True, max_length=64)
    public_key = CharField(max_length=64)  # hex, raw
    reported_at = DateTimeField()

    class Meta:
        table_name = "terminal_secrets_key"
        constraints = (SQL("FOREIGN KEY (terminal_id) REFERENCES terminal (id)"),)


class ConfigSecret(BaseModel):
    """A PIN or passkey set for a scope (``pos-fleet secret set``): ``name`` is
    ``cashier:ID`` or ``passkey:CATEGORY``; ``sealed`` the value sealed to the fleet's own
    secrets key (kept with the signing keys), never the value itself. Each push opens it
    and seals it again to each terminal's key (:mod:`fleet.secrets`)."""

    scope = CharField(max_length=120)
    name = CharField(max_length=64)
    sealed = TextField()
    set_at = DateTimeField()

    class Meta:
        table_name = "config_secret"
        primary_key = CompositeKey("scope", "name")


class TerminalConfig(BaseModel):
    """What a terminal last reported on ``up/cfg-status``: ``versions_json`` the versions
    applied per scope (after an ``applied``; kept through a refusal)."""

    terminal_id = CharField(max_length=64, primary_key=True)
    result = CharField(max_length=10)  # applied | held | refused
    reason = CharField(max_length=200, default="")
    message = TextField(default="")
    versions_json = TextField(default="{}")
    rollout = CharField(max_length=200, default="")
    ts = CharField(max_length=40, default="")  # the terminal's, as sent
    updated_at = DateTimeField()

    class Meta:
        constraints = (SQL("FOREIGN KEY (terminal_id) REFERENCES terminal (id)"),)


ROLLOUT_STATES = ("running", "paused", "stopped", "done", "aborted")


class Rollout(BaseModel):
    """A document pushed in waves. ``waves``: the cumulative percentages (``1,10,100``);
    ``current_wave``: the wave being sent or waited on (0-based; ``len(waves)`` when
    done). ``state``: running, paused (``rollout resume`` goes on), stopped (a health
    gate failed), aborted (by the admin), done. The gate: more than ``gate_refused``
    refusals, more than ``gate_offline`` terminals without an answer after
    ``wave_timeout`` seconds, or more than ``gate_errors`` terminals with an alert raised
    after the wave reached them (watched ``soak`` seconds more once all answered), in one
    wave."""

    scope = CharField(max_length=120)
    version = BigIntegerField()
    waves = CharField(max_length=200)
    current_wave = IntegerField(default=0)
    state = CharField(max_length=10, default="running")
    gate_refused = IntegerField(default=0)
    gate_offline = IntegerField(default=0)
    gate_errors = IntegerField(default=0)
    soak = FloatField(default=0)
    wave_timeout = FloatField(default=300)
    message = TextField(default="")
    created_at = DateTimeField()
    updated_at = DateTimeField()


class RolloutTarget(BaseModel):
    """A terminal of a rollout: its wave, when its bundle was sent (None: not sent) and
    its answer for this rollout (applied, held, refused; None: none yet)."""

    rollout = IntegerField()
    terminal_id = CharField(max_length=64)
    wave = IntegerField()
    sent_at = DateTimeField(null=True)
    result = CharField(max_length=10, null=True)
    reason = CharField(max_length=200, default="")

    class Meta:
        primary_key = CompositeKey("rollout", "terminal_id")
        constraints = (
            SQL("FOREIGN KEY (rollout) REFERENCES rollout (id)"),
            SQL("FOREIGN KEY (terminal_id) REFERENCES terminal (id)"),
        )


class Job(BaseModel):
    """A job sent to terminals (``pos-fleet jobs send``): its id (the same on each
    terminal's ``down/job/{id}``), kind, text, when it was issued and until when it may
    run, and whom it was sent to (``--terminal T`` or ``--group G``)."""

    id = CharField(primary_key=True, max_length=64)
    kind = CharField(max_length=20)
    text = CharField(max_length=200, default="")
    target = CharField(max_length=120)
    issued_at = DateTimeField()
    expires_at = DateTimeField()


class JobTarget(BaseModel):
    """A terminal a job went to: its last answer (None: none yet; accepted, running,
    done, refused, failed), detail and data (JSON), as the terminal reported them (the
    progress of a ``running`` step, and a certificate request: :class:`JobProgress`)."""

    job = CharField(max_length=64)
    terminal_id = CharField(max_length=64)
    state = CharField(max_length=10, null=True)
    detail = TextField(default="")
    data_json = TextField(default="{}")
    ts = CharField(max_length=40, default="")  # the terminal's, as sent
    updated_at = DateTimeField(null=True)

    class Meta:
        primary_key = CompositeKey("job", "terminal_id")
        constraints = (
            SQL("FOREIGN KEY (job) REFERENCES job (id)"),
            SQL("FOREIGN KEY (terminal_id) REFERENCES terminal (id)"),
        )


class JobProgress(BaseModel):
    """What a terminal's ``running`` steps of a job said besides their state (a table of
    its own, nullable: an older fleet database gains it at ``create_tables``):
    ``progress`` in percent of the latest step (None: not said); for a
    ``rotate_certificate``, ``csr`` the terminal's certificate request (PEM; its key
    stays on the terminal), and once ``pos-fleet jobs certify`` signed it,
    ``certificate_job`` the ``install_certificate`` job sent and ``serial`` (hex) the
    certificate's serial number, or ``refused`` why the request was not signed."""

    job = CharField(max_length=64)
    terminal_id = CharField(max_length=64)
    progress = IntegerField(null=True)
    csr = TextField(default="")
    certificate_job = CharField(max_length=64, null=True)
    serial = CharField(max_length=64, default="")
    refused = TextField(default="")
    updated_at = DateTimeField(null=True)

    class Meta:
        table_name = "job_progress"
        primary_key = CompositeKey("job", "terminal_id")
        constraints = (
            SQL("FOREIGN KEY (job) REFERENCES job (id)"),
            SQL("FOREIGN KEY (terminal_id) REFERENCES terminal (id)"),
        )


# -- the console ------------------------------------------------------------------------------
class ConsoleAccount(BaseModel):
    """Someone who signs in to the console. ``role``: admin, owner, manager, auditor
    (:mod:`fleet.console.access`); ``stores``: the stores they see, as JSON (``null``:
    all); ``password_hash``: Argon2id PHC; ``totp_secret``: the second factor's secret
    (base32), empty without one."""

    name = CharField(max_length=64, unique=True)
    role = CharField(max_length=20)
    stores = TextField(null=True)
    password_hash = TextField()
    totp_secret = CharField(max_length=64, default="")
    totp_step = BigIntegerField(default=0)  # the last code's time step: never accepted again
    language = CharField(max_length=10, default="en")
    disabled = BooleanField(default=False)
    created_at = DateTimeField()

    class Meta:
        table_name = "console_account"


class ConsoleSession(BaseModel):
    """A signed-in browser: ``token_hash`` is SHA-256 of the cookie's random token (the
    token itself is never stored); ``csrf`` the token every change must carry. Signing
    out deletes the row, so an old cookie opens nothing."""

    token_hash = CharField(max_length=64, primary_key=True)
    account = IntegerField(index=True)
    csrf = CharField(max_length=64)
    created_at = DateTimeField()
    last_seen = DateTimeField()
    address = CharField(max_length=64, default="")

    class Meta:
        table_name = "console_session"
        constraints = (SQL("FOREIGN KEY (account) REFERENCES console_account (id)"),)


class ConsoleThrottle(BaseModel):
    """Wrong sign-ins per subject (``account:NAME``, ``address:IP``), as the terminal
    counts wrong PINs (``terminal.core.lockout``)."""

    subject = CharField(max_length=200, primary_key=True)
    failures = IntegerField(default=0)
    lockouts = IntegerField(default=0)
    locked_until = DateTimeField(null=True)

    class Meta:
        table_name = "console_throttle"


class ConsoleAudit(BaseModel):
    """Every change made in the console (and every sign-in), with who made it."""

    at = DateTimeField(index=True)
    account = CharField(max_length=64)
    action = CharField(max_length=60)
    detail = TextField(default="")
    address = CharField(max_length=64, default="")

    class Meta:
        table_name = "console_audit"


class ConfigProposal(BaseModel):
    """A change of a scope's document asked for by an owner, waiting for a fleet admin
    (``[console] owner_proposals``): ``document`` as canonical JSON, ``base_version``
    the scope's newest version when it was asked for (0: none). ``state``: pending,
    approved (signed and pushed as ``rollout``), rejected (``reason``), withdrawn."""

    scope = CharField(max_length=120, index=True)
    base_version = BigIntegerField(default=0)
    document = TextField()
    note = TextField(default="")
    proposed_by = CharField(max_length=64)
    proposed_at = DateTimeField()
    state = CharField(max_length=10, default="pending", index=True)
    decided_by = CharField(max_length=64, default="")
    decided_at = DateTimeField(null=True)
    reason = TextField(default="")
    rollout = IntegerField(null=True)

    class Meta:
        table_name = "config_proposal"


class EnrollmentToken(BaseModel):
    """A one-time enrollment token (``pos-provision token``): only its SHA-256 is kept.
    It certifies one key of the terminal it names, once, before ``expires_at``;
    ``key_sha256`` and ``certificate`` are that key's and what was issued for it (sent
    again, not issued again, when the same key asks again)."""

    token_hash = CharField(primary_key=True, max_length=64)
    terminal_id = CharField(max_length=64, index=True)
    store = CharField(max_length=100)
    group = CharField(max_length=100, column_name="terminal_group")
    timezone = CharField(max_length=64, default="UTC")
    created_at = DateTimeField()
    expires_at = DateTimeField()
    used_at = DateTimeField(null=True)
    key_sha256 = CharField(max_length=64, default="")
    certificate = TextField(default="")

    class Meta:
        table_name = "enrollment_token"


# -- online orders (issue 18: seed 001) -----------------------------------------------------------
class OnlineStock(BaseModel):
    """A product's units at a location (a warehouse, a CS desk) in the seed's three
    states. Moved only by :mod:`fleet.orders.desk`, each move written in
    :class:`StockMove`; a booking takes a unit with one conditional UPDATE, so two desks
    booking the last unit at once get one booking and one refusal."""

    sku = CharField(max_length=40)
    location = CharField(max_length=40)
    available = IntegerField(default=0)
    booked = IntegerField(default=0)
    unavailable = IntegerField(default=0)

    class Meta:
        table_name = "online_stock"
        primary_key = CompositeKey("sku", "location")
        constraints = (SQL("CHECK (available >= 0 AND booked >= 0 AND unavailable >= 0)"),)


class StockMove(BaseModel):
    at = DateTimeField()
    sku = CharField(max_length=40)
    location = CharField(max_length=40)
    kind = CharField(max_length=20)  # receive, hand_over, take_back, book, cancel, ...
    quantity = IntegerField()
    from_state = CharField(max_length=12, default="")  # available, booked, unavailable
    to_state = CharField(max_length=12, default="")  # "" : in from outside, out of stock
    ref = CharField(max_length=40, default="")  # the booking or drop order it belongs to
    actor = CharField(max_length=100, default="")

    class Meta:
        table_name = "stock_move"


class DropOrder(BaseModel):
    """CS asks the warehouse for an item; the warehouse hands it over by scanning it."""

    desk = CharField(max_length=40)
    warehouse = CharField(max_length=40)
    sku = CharField(max_length=40)
    quantity = IntegerField(default=1)
    state = CharField(max_length=12, default="requested")  # handed, returned, cancelled
    requested_at = DateTimeField()
    requested_by = CharField(max_length=100, default="")
    handed_at = DateTimeField(null=True)
    handed_by = CharField(max_length=100, default="")
    returned_at = DateTimeField(null=True)

    class Meta:
        table_name = "drop_order"


class Booking(BaseModel):
    """A book order: one unit held at a desk for a customer until paid or released.
    The customer's name, phone and address are sealed (``customer``)."""

    order_no = CharField(primary_key=True, max_length=24)
    desk = CharField(max_length=40, index=True)
    sku = CharField(max_length=40)
    price = IntegerField()
    unique_code = IntegerField(default=0)
    due = IntegerField(index=True)  # price + unique code: the exact transfer
    # open, paid (its transfer matched and confirmed), sold, released, cancelled
    state = CharField(max_length=12, default="open", index=True)
    booked_at = DateTimeField()
    deadline = DateTimeField(index=True)
    booked_by = CharField(max_length=100, default="")
    customer = BlobField()
    drop_order = BigIntegerField(null=True)
    paid_line = CharField(max_length=32, null=True, unique=True)  # the statement line's key
    paid_amount = BigIntegerField(null=True)  # what that line brought in
    paid_at = DateTimeField(null=True)
    paid_by = CharField(max_length=100, default="")  # who confirmed it
    sale = CharField(max_length=40, default="")  # the terminal's sale label
    closed_at = DateTimeField(null=True)

    class Meta:
        table_name = "booking"


class StockMovement(BaseModel):
    """The stock ledger (issue 19): one product's quantity moved at a store by a journal
    entry of one of its terminals (``terminal.core.inventory``: a sale out, a refund in,
    a refund not restocked in and out again as damage, ...), in thousandths. A store's
    stock on hand is the sum of its movements (:mod:`fleet.inventory`), so every figure
    can be shown with the movements behind it. Made by the ingest with the entry's other
    central rows, in the same transaction."""

    terminal_id = CharField(max_length=64)
    seq = BigIntegerField()  # the journal entry
    position = IntegerField()  # its line
    part = IntegerField(default=1)  # the movement within the line
    store = CharField(max_length=100)
    sku = CharField(max_length=100)
    quantity = BigIntegerField()  # thousandths; in positive, out negative
    kind = CharField(max_length=20)
    reason = CharField(max_length=100, default="")
    ts = DateTimeField()
    business_day = DateField()

    class Meta:
        table_name = "stock_movement"
        primary_key = CompositeKey("terminal_id", "seq", "position", "part")
        indexes = ((("store", "sku", "ts"), False),)


class ProductCost(BaseModel):
    """A product's cost per unit at a store, by moving average over its deliveries
    (``terminal.core.inventory.moving_average``), in minor units per unit (per kg for
    weighed goods); updated by the ingest with each receiving entry."""

    store = CharField(max_length=100)
    sku = CharField(max_length=100)
    average = BigIntegerField()
    receipts = IntegerField(default=0)  # deliveries counted in it
    updated_at = DateTimeField()

    class Meta:
        table_name = "product_cost"
        primary_key = CompositeKey("store", "sku")


class StockLevel(BaseModel):
    """A product's stock on hand at a store: the sum of its movements in the ledger
    (:class:`StockMovement`), kept by the ingest in the movements' transaction as the
    rollups are, so a store's stock is read without adding up its whole history (and
    made again from the ledger by ``rebuild_rollups``)."""

    store = CharField(max_length=100)
    sku = CharField(max_length=100)
    quantity = BigIntegerField(default=0)  # thousandths
    movements = BigIntegerField(default=0)

    class Meta:
        table_name = "stock_level"
        primary_key = CompositeKey("store", "sku")


class StockMinimum(BaseModel):
    """The least a store should hold of a product (thousandths), set on the Stock page by
    an owner or a fleet admin: below it, the product is low (``terminal.core.inventory``
    suggests what to reorder) and "Sales now" says so."""

    store = CharField(max_length=100)
    sku = CharField(max_length=100)
    minimum = BigIntegerField()
    set_by = CharField(max_length=100)
    set_at = DateTimeField()

    class Meta:
        table_name = "stock_minimum"
        primary_key = CompositeKey("store", "sku")


class Stocktake(BaseModel):
    """A stock count of a store (:mod:`fleet.stocktake`): opened in the console for every
    product or some ``categories`` (comma-separated), counted at the store's terminals,
    ``state`` open, closed (counting ended), posted (its differences in the ledger as
    ``stocktake`` movements, approved by ``posted_by``) or cancelled. Shown as ``C{id}``."""

    store = CharField(max_length=100, index=True)
    categories = CharField(max_length=200, default="")
    state = CharField(max_length=12)
    opened_by = CharField(max_length=100)
    opened_at = DateTimeField()
    closed_at = DateTimeField(null=True)
    posted_by = CharField(max_length=100, default="")
    posted_at = DateTimeField(null=True)

    class Meta:
        table_name = "stocktake"


class StockDocument(BaseModel):
    """Stock moved in the console (:mod:`fleet.stock_documents`): a supplier's delivery
    note received at ``store`` (``digest``: its file's, so the same file is not received
    twice), or a transfer from ``store`` to ``other_store``. Its lines are movements in
    the ledger (terminal ``fleet:doc``, seq the document's id). Shown as D1, X2."""

    kind = CharField(max_length=12)  # delivery | transfer
    store = CharField(max_length=100, index=True)
    other_store = CharField(max_length=100, default="")
    note = CharField(max_length=100, default="")  # the supplier, or a transfer's note
    digest = CharField(max_length=64, default="")
    by = CharField(max_length=100)
    at = DateTimeField()

    class Meta:
        table_name = "stock_document"


class StockCountLine(BaseModel):
    """A product counted at a terminal for a count (a ``stock_count`` journal entry's
    line, thousandths, at the entry's time); ``posted`` once the count's differences were
    posted with it (a line arriving later is kept, never posted by itself)."""

    terminal_id = CharField(max_length=64)
    seq = BigIntegerField()
    position = IntegerField()
    count_id = IntegerField()
    store = CharField(max_length=100)
    sku = CharField(max_length=100)
    quantity = BigIntegerField()
    ts = DateTimeField()
    posted = BooleanField(default=False)

    class Meta:
        table_name = "stock_count_line"
        primary_key = CompositeKey("terminal_id", "seq", "position")
        indexes = ((("count_id", "sku"), False),)


class Shipment(BaseModel):
    """A booking's parcel: the courier the customer chose, its airway bill (AWB) once
    known, and the address label's printing. A table of its own, one row per booking,
    made in the booking's transaction (or at its sale, for a booking older than this
    table). ``awb_state``: ``waiting`` (for the sale, then for the courier's API; with no
    contract, for CS to type it), ``asking`` (claimed by the AWB worker: never asked
    twice; left so by a worker that died mid-call, for CS to look at), ``made`` (the API
    gave it), ``typed`` (CS typed it, checked against the courier's number format) or
    ``failed`` (the API refused: ``awb_error`` says why; CS may type it)."""

    order_no = CharField(primary_key=True, max_length=24)
    courier = CharField(max_length=20, default="")  # jne, jnt, sicepat, ...
    service = CharField(max_length=20, default="")  # the courier's service (REG, EZ, ...)
    awb = CharField(max_length=40, default="")
    awb_state = CharField(max_length=12, default="waiting", index=True)
    awb_error = TextField(default="")
    awb_attempts = IntegerField(default=0)
    awb_at = DateTimeField(null=True)
    awb_by = CharField(max_length=100, default="")  # who typed it ("" : the courier's API)
    label_printed_at = DateTimeField(null=True)  # the first print
    label_prints = IntegerField(default=0)  # 2 and more: a reprint, marked on the label
    created_at = DateTimeField()

    class Meta:
        table_name = "shipment"


class BankAccount(BaseModel):
    """A bank account whose statements finance uploads, and how they read: ``format``
    one of :data:`fleet.orders.bank_formats.FORMATS` (``bca``, ``mandiri``, ``bri``,
    ``mt940``, ``camt053``, ``csv``); for ``csv`` the column mapping saved with it
    (``mapping``: a JSON object of :class:`fleet.orders.statements.ColumnMapping`)."""

    name = CharField(primary_key=True, max_length=40)
    bank = CharField(max_length=40, default="")
    number = CharField(max_length=40, default="")
    format = CharField(max_length=12)
    mapping = TextField(default="")
    updated_at = DateTimeField(null=True)
    updated_by = CharField(max_length=100, default="")

    class Meta:
        table_name = "bank_account"


# two open bookings are never due the same amount (the unique code's point): the
# database keeps it, whatever two desks do at the same moment
Booking.add_index(
    Booking.index(Booking.due, unique=True, name="booking_open_due").where(Booking.state == "open")
)


class BookingCounter(BaseModel):
    desk = CharField(primary_key=True, max_length=40)
    last = IntegerField(default=0)

    class Meta:
        table_name = "booking_counter"


class OrderCall(BaseModel):
    """A desk's call that changed something (drop, book, cancel) and the answer it got,
    sealed (a booking's answer names the customer): the same call again (its answer was
    lost, the broker delivered it twice) gets the same answer, never a second booking."""

    terminal_id = CharField(max_length=64)
    call_id = CharField(max_length=64)
    reply = BlobField()
    at = DateTimeField(index=True)

    class Meta:
        table_name = "order_call"
        primary_key = CompositeKey("terminal_id", "call_id")


class StatementLineRow(BaseModel):
    """A bank statement's line as uploaded, once per key (content and date)."""

    key = CharField(primary_key=True, max_length=32)
    account = CharField(max_length=40)
    booked_on = DateField()
    amount = BigIntegerField()
    description = TextField()
    uploaded_at = DateTimeField()

    class Meta:
        table_name = "statement_line"


MODELS = [
    Terminal,
    TerminalKey,
    Entry,
    Quarantine,
    Alert,
    DeviceEvent,
    Sale,
    SaleLine,
    SalePayment,
    SaleTax,
    Refund,
    RefundPayment,
    RefundLine,
    Shift,
    ZReport,
    SalesHour,
    PaymentDay,
    ProductDay,
    TaxDay,
    CashierDay,
    ConfigDocument,
    TerminalSecretsKey,
    ConfigSecret,
    TerminalConfig,
    Rollout,
    RolloutTarget,
    Job,
    JobTarget,
    ConsoleAccount,
    ConsoleSession,
    ConsoleThrottle,
    ConsoleAudit,
    JobProgress,
    OnlineStock,
    StockMove,
    DropOrder,
    Booking,
    BookingCounter,
    OrderCall,
    StatementLineRow,
    Shipment,
    BankAccount,
    StockMovement,
    ProductCost,
    StockLevel,
    StockMinimum,
    Stocktake,
    StockCountLine,
    StockDocument,
    ConfigProposal,
    EnrollmentToken,
]
