"""The web app's browser journeys (web/e2e/*.spec.ts, Playwright in Debian's chromium) against a
whole platform, which serves the built app and the API on one origin.

``make test`` builds the app (``make web``) and installs chromium (``make chromium``) first.
Playwright's screenshots stay in web/test-results/ and its report in web/playwright-report/.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from queries.web_pages import WebPages
from tests.e2e.conftest import Running, whole_platform

pytestmark = pytest.mark.e2e

WEB = Path(__file__).resolve().parents[2] / "web"
CHROMIUM = os.environ.get("PHOTOFLOW_CHROMIUM", "/usr/bin/chromium")
TIMEOUT_SECONDS = 600


@pytest.fixture(scope="module")
async def own_platform(stack: None) -> AsyncIterator[Running]:
    """A platform of the journeys' own, as ``make run`` starts it. The journeys watch live
    updates arrive within seconds; the suite's shared platform is still rendering and syncing
    what earlier tests left it (hundreds of files), which in CI delayed them past their limits."""
    async with whole_platform("journeys") as running:
        yield running


@pytest.mark.timeout(TIMEOUT_SECONDS + 120)  # Playwright's own limit, plus the platform's start
async def test_the_browser_journeys_pass(own_platform: Running) -> None:
    running = own_platform
    assert (WEB / "dist" / "app.html").is_file(), "the web app is not built: run make web"
    assert (WEB / "node_modules" / ".bin" / "playwright").exists(), "run make web (npm ci)"
    assert Path(CHROMIUM).exists(), f"no browser at {CHROMIUM}: run make chromium"
    npx = shutil.which("npx")
    assert npx, "Node's npx is not on PATH"
    env = {
        **os.environ,
        "PHOTOFLOW_BASE_URL": str(running.http.base_url).rstrip("/"),
        "PHOTOFLOW_CHROMIUM": CHROMIUM,
        "PHOTOFLOW_E2E_PHOTOS": str(running.world.photos),  # a local root with demo photos
        "PHOTOFLOW_E2E_GOOGLE_ID_TOKENS": _google_id_tokens(running),  # e2e/google-signin.spec.ts
        "CI": "1",
        "FORCE_COLOR": "0",
    }
    process = await asyncio.create_subprocess_exec(
        npx,
        "playwright",
        "test",
        cwd=WEB,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        output, _ = await asyncio.wait_for(process.communicate(), TIMEOUT_SECONDS)
    except TimeoutError:
        process.kill()
        output, _ = await process.communicate()
        pytest.fail(f"playwright ran over {TIMEOUT_SECONDS} s:\n{output.decode(errors='replace')}")
    text = output.decode(errors="replace")
    assert process.returncode == 0, (
        f"playwright failed ({process.returncode}):\n{text}\n{_failed_pages()}"
        f"\n--- the platform's warnings ---\n{_platform_warnings(running)}"
    )
    print(text)


def _failed_pages() -> str:
    """What each failed journey's page showed when it failed (Playwright's accessibility
    snapshot, with any problem message on screen), since CI keeps no test-results/ to open."""
    shown = []
    for context in sorted((WEB / "test-results").glob("*/error-context.md")):
        shown.append(f"--- {context.parent.name} ---\n{context.read_text(errors='replace')[:6000]}")
    return "\n".join(shown)


def _platform_warnings(running: Running) -> str:
    """The last warnings and errors the journeys' platform logged (a slow command, a retry)."""
    log = WEB.parent / "var" / "test-logs" / f"{running.world.settings.namespace}-journeys.log"
    if not log.is_file():
        return f"(no log at {log})"
    lines = log.read_text(errors="replace").splitlines()
    return "\n".join([line for line in lines if " WARNING " in line or " ERROR " in line][-40:])


def _google_id_tokens(running: Running) -> str:
    """A Google ID token for a new user per Playwright project, minted by the Google stand-in."""
    users = {}
    for project in ("desktop", "phone"):
        subject = uuid.uuid4().hex
        email = f"google-{project}-{subject[:12]}@example.com"
        users[project] = {"email": email, "id_token": running.google.id_token(subject, email)}
    return json.dumps(users)


async def test_pages_fall_back_to_the_app_and_assets_are_immutable(running: Running) -> None:
    http = running.http
    landing = await http.get("/")
    assert landing.status_code == 200
    assert landing.headers["content-type"].startswith("text/html")
    assert landing.headers["cache-control"] == "no-cache"
    assert "script-src 'self'" in landing.headers["content-security-policy"]
    assert "<script" not in landing.text, "the landing page carries no script"
    app = await http.get("/app")
    for path in (
        "/app/albums/6f1c2a9e-0000-4000-8000-000000000000",
        "/g/some.token",
        "/invite/x.y",
    ):
        page = await http.get(path)
        assert page.status_code == 200, path
        assert page.text == app.text, path
    asset = re.search(r'src="(/assets/[^"]+[.]js)"', app.text)
    assert asset, app.text
    script = await http.get(asset[1])
    assert script.status_code == 200
    assert script.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert (await http.get("/assets/nothing-here.js")).status_code == 404
    assert (await http.get("/assets/../pyproject.toml")).status_code == 404
    health = await http.get("/api/health")
    assert health.headers["content-type"].startswith("application/json")
    missing = await http.get("/api/no-such-route")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")


async def test_without_a_build_the_pages_say_how_to_build_it(tmp_path: Path) -> None:
    async def api(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    transport = httpx.ASGITransport(app=WebPages(api, tmp_path / "dist"))
    async with httpx.AsyncClient(transport=transport, base_url="http://web") as http:
        for path in ("/", "/app/signin", "/g/token", "/invite/token"):
            page = await http.get(path)
            assert page.status_code == 503, path
            assert "run <code>make web</code>" in page.text
        assert (await http.get("/api/health")).status_code == 204
        assert (await http.post("/app/x")).status_code == 405
