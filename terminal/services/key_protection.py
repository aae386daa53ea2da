"""Whether the key store's protection suits where the terminal runs.

A production terminal whose keys are wrapped by a key file (the ``file`` protector) is
as open as one with no protection: the file is on the same SD card. It still sells (a
shop must not stop for it), but says so where a technician and a supervisor look: the
sign-in screen and ``pos-hal list``.
"""

from __future__ import annotations

from terminal.config import Settings
from terminal.core.errors import N_

FILE_PROTECTOR_WARNING = N_(
    "Security: this terminal's keys are protected by a file on its SD card; a copied card "
    "opens every record. Fit a TPM or use the Pi's OTP key ([security] protector)."
)


def key_protection_warning(settings: Settings) -> str | None:
    """The warning's message id, or None when the protection suits the terminal."""
    if settings.environment == "production" and settings.security.protector == "file":
        return FILE_PROTECTOR_WARNING
    return None
