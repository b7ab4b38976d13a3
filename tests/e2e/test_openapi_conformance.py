"""The OpenAPI document says what the server does: Schemathesis against the running platform.

Schemathesis reads ``/api/openapi.json`` from the running platform and sends every operation a
few generated requests: its coverage cases (boundaries, missing and malformed parameters,
undeclared methods) and a few fuzzed ones, valid and invalid, bounded and
derandomized so a run takes the same path each time. Path ids are those of a real studio (a
synced, shared album), so requests reach the handlers rather than stopping at a 404.

Every answer must be: no 5xx; a documented status, content type and headers; a body matching
its schema; a protected operation that succeeded must refuse the same request without a token
or with a forged one; a 405 names the path's methods in ``Allow``. A second, anonymous pass
holds every protected operation to a 401, whatever else is wrong with the request.

Schemathesis runs as its CLI in a subprocess: its pytest integration does not run on this
pytest, and the CLI's report names each failing operation with a ``curl`` line to replay it.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.conftest import Running
from tests.e2e.test_albums import Studio
from tests.support.accounts import Account
from tests.support.world import REPO

MAX_EXAMPLES = 5
RUN_TIMEOUT = 300.0
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "ignored_auth",
    "unsupported_method",
    "allow_header_conformance",
    "negative_data_rejection",
    "missing_required_header",
]
# Operations that end the caller's own account run with an account of their own.
SELF_ENDING = ["/api/me/deactivate"]
# The photographer's commands that move an album or replace its share link run on a second
# album, so the client routes keep a link that works and an album in a state they can act on.
PHOTOGRAPHER_COMMANDS = (
    r"^/api/albums/\{album_id\}/(share|sync|start-editing|deliver|archive|reopen)$"
)


@dataclass(frozen=True)
class Target:
    """A studio with a synced, shared album: whose token and which ids go into requests."""

    base_url: str
    owner: Account
    spare: Account
    ids: dict[str, str]
    second_album_id: str
    consistency_token: str


@pytest.fixture(scope="module")
async def target(running: Running) -> Target:
    studio = await Studio.open(running, photos=3)
    album_id = await studio.synced_album()
    second_album_id = await studio.synced_album()
    photo_id = (await studio.photos(album_id))[0]["photo_id"]
    share_token = (await studio.post(f"/api/albums/{album_id}/share", {}))["share_token"]
    invited = await studio.post(
        f"/api/orgs/{studio.org_id}/invitations",
        {"email": "invitee@example.com", "role": "viewer"},
        status=201,
    )
    return Target(
        str(running.http.base_url).rstrip("/"),
        studio.owner,
        await running.account(),
        {
            "org_id": studio.org_id,
            "folder_id": studio.folder_id,
            "album_id": album_id,
            "photo_id": photo_id,
            "share_token": share_token,
            "invitation_id": invited["invitation_id"],
            "user_id": studio.owner.user_id,
            "aggregate_id": album_id,
            "stream": "albums",
        },
        second_album_id,
        studio.headers["X-Consistency-Token"],
    )


def _toml(value: object) -> str:
    """A TOML value: JSON's strings, numbers and booleans are TOML's too."""
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {_toml(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(value)


def config_file(folder: Path, target: Target, *, signed_in: bool) -> Path:
    lines = [
        f"base-url = {_toml(target.base_url)}",
        "continue-on-failure = true",
        "request-timeout = 30",
    ]
    if signed_in:
        # A real token: a generated one is a 400 that would hide the rest of the request.
        consistent = {"X-Consistency-Token": target.consistency_token}
        lines.append(f"headers = {_toml(target.owner.headers | consistent)}")
    lines += [
        "[generation]",
        'mode = "all"',
        f"max-examples = {MAX_EXAMPLES}",
        "no-shrink = true",
        "deterministic = true",
        'database = "none"',
        "[phases.stateful]",
        "enabled = false",
        "[cache]",
        "enabled = false",
        "[parameters]",
        *(f"{_toml('path.' + name)} = {_toml(value)}" for name, value in target.ids.items()),
    ]
    for path in SELF_ENDING if signed_in else []:
        lines += ["[[operations]]", f"include-path = {_toml(path)}"]
        lines.append(f"headers = {_toml(target.spare.headers)}")
    lines += ["[[operations]]", f"include-path-regex = {_toml(PHOTOGRAPHER_COMMANDS)}"]
    lines.append(f"parameters = {_toml({'path.album_id': target.second_album_id})}")
    config = folder / ("signed-in.toml" if signed_in else "anonymous.toml")
    config.write_text("\n".join(lines) + "\n")
    return config


async def schemathesis_run(
    target: Target, config: Path, checks: list[str]
) -> tuple[int, str, float]:
    """Run the Schemathesis CLI; its exit status, its report and how long it took."""
    started = time.monotonic()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(config),
        "--no-color",
        "run",
        f"{target.base_url}/api/openapi.json",
        "--checks",
        ",".join(checks),
        "--workers",
        "1",
        cwd=config.parent,  # whatever Schemathesis writes lands beside its config, not here
        env={
            **os.environ,
            "PYTHONPATH": str(REPO),
            "SCHEMATHESIS_HOOKS": "tests.support.schemathesis_checks",
            "PHOTOFLOW_ANONYMOUS": "1" if "anonymous_is_401" in checks else "0",
        },
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        output, _ = await asyncio.wait_for(process.communicate(), RUN_TIMEOUT)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise AssertionError(f"Schemathesis ran longer than {RUN_TIMEOUT:g} s") from None
    assert process.returncode is not None
    return process.returncode, output.decode(errors="replace"), time.monotonic() - started


def failures(report: str, limit: int = 20000) -> str:
    """The report from its list of failures on (the run's preamble says little), cut short."""
    start = report.find("FAILURES")
    return report[max(start, 0) :][:limit]


async def test_every_answer_is_what_the_document_says(target: Target, tmp_path: Path) -> None:
    status, report, took = await schemathesis_run(
        target, config_file(tmp_path, target, signed_in=True), CHECKS
    )
    assert status == 0, f"Schemathesis found failures ({took:.0f} s):\n{failures(report)}"


async def test_a_protected_operation_without_a_token_is_401(target: Target, tmp_path: Path) -> None:
    checks = ["not_a_server_error", "status_code_conformance", "anonymous_is_401"]
    status, report, took = await schemathesis_run(
        target, config_file(tmp_path, target, signed_in=False), checks
    )
    assert status == 0, f"Schemathesis found failures ({took:.0f} s):\n{failures(report)}"
