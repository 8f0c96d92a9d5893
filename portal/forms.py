"""Field filters shared by the portal's WTForms."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l

# Control characters (NUL and the like) never belong in a name, a phone or an address.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def stripped(value):
    """Text without surrounding white space: what people paste often carries some.

    Control characters are refused (WTForms shows the ValueError beside the field).
    """
    if not isinstance(value, str):
        return value
    if _CONTROL.search(value):
        raise ValueError(_l("This field contains characters that cannot be stored."))
    return value.strip()


def blank_is_none(value):
    """Stripped text, and None for a field left blank."""
    return stripped(value) or None
