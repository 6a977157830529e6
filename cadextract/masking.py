"""Secret job options (passwords, tokens) masked wherever a job is shown or exported."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

MASK = "***"

#: option names whose values are secrets: password, pdf_password, api_token, secret, key ...
_SECRET = re.compile(r"(pass(word|wd|phrase)?|secret|token|credential|api_?key|private_?key)", re.I)


def is_secret(name: str) -> bool:
    """Whether an option name holds a secret."""
    return bool(_SECRET.search(name))


def mask_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of the options with every secret value replaced by ``***``."""
    return {k: (MASK if is_secret(k) and v not in (None, "") else v) for k, v in options.items()}
