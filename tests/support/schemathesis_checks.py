"""Schemathesis hooks for the conformance test, loaded through ``SCHEMATHESIS_HOOKS``.

In the anonymous pass (``PHOTOFLOW_ANONYMOUS=1``) every request leaves without a token, even
one Schemathesis generated for the bearer scheme or as a malformed case, and the check
``anonymous_is_401`` holds each operation that declares bearer security to a 401.
"""

from __future__ import annotations

import os
from typing import Any

import schemathesis
from schemathesis import Case, CheckContext, HookContext, Response

ANONYMOUS = os.environ.get("PHOTOFLOW_ANONYMOUS") == "1"


def _protected(case: Case) -> bool:
    return bool(case.operation.definition.raw.get("security"))


@schemathesis.hook
def before_call(context: HookContext, case: Case, kwargs: dict[str, Any]) -> None:
    if ANONYMOUS and case.headers:
        for name in [n for n in case.headers if n.lower() == "authorization"]:
            del case.headers[name]


@schemathesis.check
def anonymous_is_401(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    if not ANONYMOUS or not _protected(case):
        return None
    if (response.request.method or "").upper() != case.operation.method.upper():
        return None  # an undeclared method, sent to see the 405: not this operation
    sent = {name.lower() for name in response.request.headers}
    assert "authorization" not in sent, "the anonymous pass sent a token"
    if response.status_code != 401:
        raise AssertionError(
            f"{case.method} {case.formatted_path} without a token answered "
            f"{response.status_code}, not 401"
        )
    return True
