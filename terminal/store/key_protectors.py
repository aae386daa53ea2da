"""Key protectors: what keeps the key store's keys off the SD card.

The key store (database key, sealing key, PIN pepper, journal signing key) is written on
the card only wrapped, AES-256-GCM, under a key-encryption key (KEK) that the card does
not hold. A protector makes and finds that KEK:

- ``tpm2``: a random KEK sealed in a TPM 2.0 module (e.g. an Infineon SLB9670 HAT) as a
  keyed-hash object under the owner hierarchy's storage key (ECC P-256, re-derived from
  the TPM's seed at each start, so nothing is kept in the TPM's NV memory). The sealed
  object is stored in the key store; only that TPM can load and unseal it.
- ``rpi-otp``: the KEK derived (HKDF-SHA256, with a random salt kept in the key store)
  from the Pi 4/5's device-unique private key in OTP, read through the firmware mailbox
  as ``rpi-otp-private-key`` does (``vcmailbox 0x00030081``). The key must have been
  programmed once (``rpi-otp-private-key -w``; irreversible).
- ``file``: the KEK in a file. Development and ``make run`` only: if that file is on the
  card, a copied card opens everything. A production configuration with it shows a
  warning on the sign-in screen and in ``pos-hal list``.

Moving the card to another Pi, or a cleared or replaced TPM, leaves the key store
unopenable: the owner's recovery export (X25519) is then the way back
(``pos-terminal keys recover``).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PROTECTORS = ("tpm2", "rpi-otp", "file")
KEK_BYTES = 32
NONCE_BYTES = 12
SALT_BYTES = 16
OTP_INFO = b"pos-terminal key store KEK v1"


class ProtectorError(Exception):
    """The protector cannot wrap or unwrap: no TPM, another TPM, no OTP key, ..."""


class KeyProtector(Protocol):
    """Wraps the key store's secret bytes under a key that is not on the card."""

    name: str
    for_production: bool  # False: a warning is shown when a production terminal uses it

    def wrap(self, secret: bytes, context: bytes) -> bytes:
        """An opaque blob holding ``secret``; ``context`` is bound to it (AES-GCM AAD)."""
        ...

    def unwrap(self, blob: bytes, context: bytes) -> bytes: ...


def seal(kek: bytes, secret: bytes, context: bytes, random: Callable[[int], bytes]) -> bytes:
    nonce = random(NONCE_BYTES)
    return nonce + AESGCM(kek).encrypt(nonce, secret, context)


def open_sealed(kek: bytes, blob: bytes, context: bytes, what: str) -> bytes:
    try:
        return AESGCM(kek).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], context)
    except (InvalidTag, ValueError):
        raise ProtectorError(what) from None


class FileProtector:
    """The KEK in a 0600 file (made on first use). Development only."""

    name = "file"
    for_production = False

    def __init__(self, path: Path, random: Callable[[int], bytes] = os.urandom) -> None:
        self.path = Path(path)
        self.random = random

    def _kek(self, *, create: bool) -> bytes:
        if not self.path.exists():
            if not create:
                raise ProtectorError(
                    f"the file protector's key {self.path} is missing: the key store cannot "
                    "be opened without it"
                )
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            write_private(self.path, self.random(KEK_BYTES))
        kek = self.path.read_bytes()
        if len(kek) != KEK_BYTES:
            raise ProtectorError(f"the file protector's key {self.path} is damaged")
        return kek

    def wrap(self, secret: bytes, context: bytes) -> bytes:
        return seal(self._kek(create=True), secret, context, self.random)

    def unwrap(self, blob: bytes, context: bytes) -> bytes:
        return open_sealed(
            self._kek(create=False),
            blob,
            context,
            f"the key store was not wrapped by the key in {self.path} (another terminal's "
            "key file, or the key store was changed)",
        )


def read_otp_private_key(run: Callable[..., subprocess.CompletedProcess] = subprocess.run) -> bytes:
    """The Pi's 256-bit device private key from OTP, through the firmware mailbox.

    ``vcmailbox 0x00030081 40 40 0 8 0 0 0 0 0 0 0 0`` answers 16 words: the buffer size,
    the response code (0x80000000: success), the tag, the sizes, the row offset and count,
    then the 8 key rows, most significant byte first, as ``rpi-otp-private-key`` prints
    them.
    """
    command = ["vcmailbox", "0x00030081", "40", "40", "0", "8", *["0"] * 8]
    try:
        done = run(command, capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ProtectorError(
            f"the Pi's OTP key cannot be read ({exc}): vcmailbox (package "
            "raspi-utils/libraspberrypi-bin) is needed, and /dev/vcio readable by the service"
        ) from None
    return parse_otp_answer(done.returncode, done.stdout, done.stderr)


def parse_otp_answer(returncode: int, stdout: str, stderr: str = "") -> bytes:
    """The key in vcmailbox's printed answer; every way it can be wrong is named."""
    if returncode != 0:
        raise ProtectorError(
            f"vcmailbox failed ({returncode}: {stderr.strip() or 'no message'}): the OTP key "
            "needs a Raspberry Pi 4 or 5 and access to /dev/vcio"
        )
    try:
        words = [int(word, 16) for word in stdout.split()]
    except ValueError:
        raise ProtectorError(f"vcmailbox printed something unexpected: {stdout[:80]!r}") from None
    if len(words) < 15 or words[1] != 0x80000000 or words[2] != 0x00030081:
        raise ProtectorError(
            "the firmware refused to read the OTP key (this Pi's firmware may be too old for "
            "the device private key: update it with rpi-eeprom)"
        )
    key = b"".join(word.to_bytes(4, "big") for word in words[7:15])
    if key == bytes(KEK_BYTES):
        raise ProtectorError(
            "this Pi's OTP device key is not programmed: program it once with "
            "`rpi-otp-private-key -w $(openssl rand -hex 32)` (irreversible), then start again"
        )
    return key


class RpiOtpProtector:
    """The KEK derived from the Pi's OTP device key: ``HKDF-SHA256(otp, salt)``."""

    name = "rpi-otp"
    for_production = True

    def __init__(
        self,
        read_key: Callable[[], bytes] = read_otp_private_key,
        random: Callable[[int], bytes] = os.urandom,
    ) -> None:
        self.read_key = read_key
        self.random = random

    def _kek(self, salt: bytes) -> bytes:
        return HKDF(hashes.SHA256(), KEK_BYTES, salt=salt, info=OTP_INFO).derive(self.read_key())

    def wrap(self, secret: bytes, context: bytes) -> bytes:
        salt = self.random(SALT_BYTES)
        return salt + seal(self._kek(salt), secret, context, self.random)

    def unwrap(self, blob: bytes, context: bytes) -> bytes:
        salt = blob[:SALT_BYTES]
        return open_sealed(
            self._kek(salt),
            blob[SALT_BYTES:],
            context,
            "this Pi's OTP key does not open the key store: the SD card was made on another "
            "Pi (recover the keys from the recovery export: `pos-terminal keys recover`)",
        )


class Tpm2Protector:
    """A random KEK sealed in a TPM 2.0 (tpm2-pytss over a TCTI: ``device:/dev/tpmrm0``,
    or ``swtpm:host=127.0.0.1,port=2321`` for the software TPM)."""

    name = "tpm2"
    for_production = True

    def __init__(self, tcti: str, random: Callable[[int], bytes] = os.urandom) -> None:
        self.tcti = tcti
        self.random = random

    def _esapi(self):
        from tpm2_pytss import ESAPI, TCTILdr  # noqa: PLC0415 - only terminals with a TPM

        name, _, conf = self.tcti.partition(":")
        try:
            return ESAPI(TCTILdr(name, conf or None))
        except Exception as exc:  # TSS2_Exception, or the TCTI library not found
            raise ProtectorError(
                f"no TPM answers at {self.tcti} ({exc}): is the TPM module fitted and its "
                "overlay enabled (dtoverlay=tpm-slb9670), and /dev/tpmrm0 readable by the "
                "service (group tss)?"
            ) from None

    @staticmethod
    def _storage_key(esapi):
        """The owner hierarchy's storage key, the same at each start (the TPM derives it
        from its seed and this template), so nothing needs to persist in the TPM."""
        from tpm2_pytss.constants import ESYS_TR, TPMA_OBJECT  # noqa: PLC0415
        from tpm2_pytss.types import TPM2B_PUBLIC, TPM2B_SENSITIVE_CREATE  # noqa: PLC0415

        template = TPM2B_PUBLIC.parse(
            "ecc256:aes128cfb", objectAttributes=TPMA_OBJECT.DEFAULT_TPM2_TOOLS_CREATEPRIMARY_ATTRS
        )
        handle, *_ = esapi.create_primary(TPM2B_SENSITIVE_CREATE(), template, ESYS_TR.OWNER)
        return handle

    def wrap(self, secret: bytes, context: bytes) -> bytes:
        from tpm2_pytss.constants import TPMA_OBJECT  # noqa: PLC0415
        from tpm2_pytss.types import (  # noqa: PLC0415
            TPM2B_PUBLIC,
            TPM2B_SENSITIVE_CREATE,
            TPM2B_SENSITIVE_DATA,
            TPMS_SENSITIVE_CREATE,
        )

        kek = self.random(KEK_BYTES)
        esapi = self._esapi()
        try:
            parent = self._storage_key(esapi)
            sealed_template = TPM2B_PUBLIC.parse(
                "keyedhash",
                objectAttributes=TPMA_OBJECT.USERWITHAUTH
                | TPMA_OBJECT.FIXEDTPM
                | TPMA_OBJECT.FIXEDPARENT,
            )
            sensitive = TPM2B_SENSITIVE_CREATE(
                TPMS_SENSITIVE_CREATE(data=TPM2B_SENSITIVE_DATA(kek))
            )
            private, public, *_ = esapi.create(parent, sensitive, sealed_template)
            esapi.flush_context(parent)
        except ProtectorError:
            raise
        except Exception as exc:
            raise ProtectorError(f"the TPM could not seal the key ({exc})") from None
        finally:
            esapi.close()
        sealed = public.marshal() + private.marshal()
        return len(sealed).to_bytes(2, "big") + sealed + seal(kek, secret, context, self.random)

    def unwrap(self, blob: bytes, context: bytes) -> bytes:
        from tpm2_pytss.types import TPM2B_PRIVATE, TPM2B_PUBLIC  # noqa: PLC0415

        size = int.from_bytes(blob[:2], "big")
        sealed, wrapped = blob[2 : 2 + size], blob[2 + size :]
        esapi = self._esapi()
        try:
            public, used = TPM2B_PUBLIC.unmarshal(sealed)
            private, _ = TPM2B_PRIVATE.unmarshal(sealed[used:])
            parent = self._storage_key(esapi)
            loaded = esapi.load(parent, private, public)
            kek = bytes(esapi.unseal(loaded))
            esapi.flush_context(loaded)
            esapi.flush_context(parent)
        except Exception as exc:
            raise ProtectorError(
                f"this TPM cannot unseal the key store ({exc}): the SD card was made on "
                "another terminal, or the TPM was cleared or replaced (recover the keys from "
                "the recovery export: `pos-terminal keys recover`)"
            ) from None
        finally:
            esapi.close()
        return open_sealed(kek, wrapped, context, "the key store was changed after it was sealed")


def make_protector(
    name: str,
    *,
    tpm2_tcti: str = "device:/dev/tpmrm0",
    file_key: Path | None = None,
    read_otp: Callable[[], bytes] = read_otp_private_key,
) -> KeyProtector:
    """The protector ``[security] protector`` names."""
    if name == "tpm2":
        return Tpm2Protector(tpm2_tcti)
    if name == "rpi-otp":
        return RpiOtpProtector(read_otp)
    if name == "file":
        if file_key is None:
            raise ProtectorError("the file protector needs the path of its key file")
        return FileProtector(file_key)
    raise ProtectorError(f"unknown key protector {name!r} (one of {', '.join(PROTECTORS)})")


def write_private(path: Path, data: bytes) -> None:
    """Create or replace a 0600 file atomically: a power cut leaves the old file or the
    new one, never half of one."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
