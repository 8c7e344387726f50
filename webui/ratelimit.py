"""Sign-in rate limits of the web UI: the configured numbers, applied by the library.

The rule itself (failures per account and per address within a sliding
window, kept in the ``login_attempt`` table so it holds across every worker
and host) lives in ``planflow.services.accounts``; this module only reads the limits
from the configuration (``LOGIN_MAX_FAILURES_PER_ACCOUNT``,
``LOGIN_MAX_FAILURES_PER_ADDRESS``, ``LOGIN_WINDOW``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from planflow.app import Planflow
from planflow.services.accounts import Accounts


@dataclass(frozen=True)
class LoginPolicy:
    per_account: int = 5
    per_address: int = 20
    window: timedelta = timedelta(minutes=15)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> LoginPolicy:
        return cls(
            per_account=int(config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]),
            per_address=int(config["LOGIN_MAX_FAILURES_PER_ADDRESS"]),
            window=config["LOGIN_WINDOW"],
        )


def accounts(pf: Planflow, policy: LoginPolicy) -> Accounts:
    """The library's accounts, with the policy's limits."""
    return pf.accounts.with_limits(
        per_account=policy.per_account, per_address=policy.per_address, window=policy.window
    )
