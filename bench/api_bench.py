"""API throughput under load: wrk against `invitations serve` and against a floor.

Seeds a scratch PostgreSQL database (an admin, three groups, 1,000 invitations), starts the
API as in production (`invitations serve`: uvicorn, one process, its own Redis db) and runs
wrk (2 threads, 32 connections) for three requests:

- `invitationByToken` (public: what /invite asks first, in the page's own words), with a valid
  token;
- `invitations(first: 20)` as an admin (bearer token), in the admin console's own document
  (grants, delivery state, suppression, totalCount);
- the liveness probe (`/health/live`, or `/health` where there is none).

The floor, measured in the same run: a plain starlette app (bench/floor_app.py) under the
same uvicorn returning the very bytes the service answered, so the ratio is what the service
costs beyond HTTP itself. Service and floor take turns for each request. Needs `wrk` on PATH
(Debian: `apt-get install wrk`). `BENCH_API_SECONDS` sets each run's length (default 10).

Beside the rates, the CPU time each request cost, read from /proc around each run: the server
process's (service or floor) and, when PostgreSQL runs on this machine, that of the backends
serving the bench's database. On a machine with few cores the three (server, PostgreSQL and
wrk itself) share them, and the rate follows their sum.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench.common import (
    ROOT,
    bench_environment,
    free_port,
    process_cpu_seconds,
    reset_database,
)
from schema.prepared import INVITATION_BY_TOKEN
from schema.prepared import INVITATIONS as CONSOLE_LIST

SECONDS = int(os.environ.get("BENCH_API_SECONDS", "10"))
THREADS = 2
CONNECTIONS = 32
INVITATIONS = 1000
DATABASE = os.environ.get(
    "BENCH_API_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/invitations_bench_api"
)
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/10")

# /invite's own document (as api/static/invite.js sends it).
BY_TOKEN = INVITATION_BY_TOKEN
# The admin console's own document for its list (as api/static/admin/invitations.js sends it).
ADMIN_LIST = CONSOLE_LIST
ADMIN_LIST_VARIABLES = {"first": 20, "withTotal": True, "locale": "en"}
# A token to ask about, as an admin reads it.
A_TOKEN = "{ invitations(first: 1) { edges { node { token } } } }"


@dataclass
class Target:
    name: str
    method: str
    path: str
    body: bytes = b""
    authorization: str = ""


@dataclass
class Run:
    requests_per_second: float
    p99_ms: float
    problems: str  # non-2xx answers, socket errors: empty when there were none
    cpu_us: float  # the server process's CPU time per request
    database_cpu_us: float | None  # PostgreSQL's for the bench's database (None: not local)


def _database_backends() -> list[int]:
    """The local PostgreSQL processes serving the bench's database (their titles name it)."""
    name = DATABASE.rsplit("/", 1)[-1].split("?", 1)[0].encode()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                title = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if title.startswith(b"postgres: ") and b" " + name + b" " in title:
                found.append(int(entry.name))
    return found


async def _seed() -> str:
    """The admin's session token, after an admin, groups and invitations are written."""
    from domain import db
    from domain.clock import clock
    from domain.groups.service import create_group
    from domain.invitations.writer import NewInvitation, insert_invitations
    from domain.models import GroupKind
    from domain.settings import get_settings
    from domain.users.service import create_admin, open_session

    await reset_database(DATABASE)
    await db.init(get_settings(), apply_migrations=True)
    try:
        admin = await create_admin(
            email="bench-admin@example.org", password="bench passphrase 2026"
        )
        groups = [
            (await create_group(title=title, kind=GroupKind.MANUAL)).id
            for title in ("North Avenue Residents", "Youth council", "Riverside park")
        ]
        now = await clock.now()
        rows = [
            NewInvitation(
                email=f"person{i:04d}@example.org",
                first_name=f"Firstname{i}",
                last_name=f"Lastname{i}",
                locale=("en", "nl-BE", "fr-BE")[i % 3],
                personal_message="",
                is_admin=i % 7 == 0,
                registration_field_values={},
                send_email=False,
                group_ids=(groups[:2], groups[2:], [])[i % 3],
                project_ids=[],
            )
            for i in range(INVITATIONS)
        ]
        await insert_invitations(
            rows, inviter_id=admin.id, import_id=None, now=now, expires_at=now + timedelta(days=30)
        )
        token = (await open_session(admin)).token
        # Statistics, as autovacuum keeps them on a production database (a freshly written
        # one has none yet, and its plans are not the ones production gets).
        await db.connection().execute_script("ANALYZE")
        return token
    finally:
        await db.close()


async def _flush_redis() -> None:
    from redis.asyncio import Redis

    redis = Redis.from_url(REDIS)
    try:
        await redis.flushdb()
    finally:
        await redis.aclose()


async def _wait_for(base_url: str, path: str, process: subprocess.Popen[bytes]) -> None:
    import httpx

    deadline = time.monotonic() + 60
    async with httpx.AsyncClient(base_url=base_url) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"{process.args} exited with code {process.returncode}")
            try:
                if (await client.get(path)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{base_url}{path} did not answer within 60 s")


async def _targets(base_url: str, admin_token: str) -> list[Target]:
    """The three requests, the liveness path and the token found on the service itself."""
    import httpx

    async with httpx.AsyncClient(base_url=base_url) as client:
        has_live = (await client.get("/health/live")).status_code == 200
        live = "/health/live" if has_live else "/health"
        listing = json.dumps(
            {"query": ADMIN_LIST, "operationName": "Invitations", "variables": ADMIN_LIST_VARIABLES}
        ).encode()
        answer = await client.post(
            "/graphql",
            json={"query": A_TOKEN},
            headers={"Authorization": f"Bearer {admin_token}"},
        )
        token = answer.json()["data"]["invitations"]["edges"][0]["node"]["token"]
    by_token = {"query": BY_TOKEN, "operationName": "InvitationByToken"}
    return [
        Target(
            "invitationByToken",
            "POST",
            "/graphql",
            json.dumps({**by_token, "variables": {"token": token, "locale": "en"}}).encode(),
        ),
        Target("invitations(first: 20), admin", "POST", "/graphql", listing, admin_token),
        Target(f"GET {live}", "GET", live),
    ]


async def _record(base_url: str, targets: list[Target]) -> list[dict[str, Any]]:
    """The service's answer to each target, as the floor will give it back."""
    import httpx

    answers = []
    async with httpx.AsyncClient(base_url=base_url) as client:
        for target in targets:
            headers = {"Content-Type": "application/json"} if target.body else {}
            if target.authorization:
                headers["Authorization"] = f"Bearer {target.authorization}"
            response = await client.request(
                target.method, target.path, content=target.body, headers=headers
            )
            assert response.status_code == 200, (target.name, response.text)
            assert b'"errors":[{' not in response.content, (target.name, response.text)
            answers.append(
                {
                    "method": target.method,
                    "path": target.path,
                    "request": base64.b64encode(target.body).decode(),
                    "status": response.status_code,
                    "content_type": response.headers["content-type"],
                    "body": base64.b64encode(response.content).decode(),
                }
            )
    return answers


def _script(target: Target, directory: Path) -> Path:
    """A wrk Lua script sending the target's method, body and headers."""
    lines = [f'wrk.method = "{target.method}"']
    if target.body:
        body = target.body.decode()
        assert "]==]" not in body
        lines += [f"wrk.body = [==[{body}]==]", 'wrk.headers["Content-Type"] = "application/json"']
    if target.authorization:
        lines.append(f'wrk.headers["Authorization"] = "Bearer {target.authorization}"')
    path = directory / f"{abs(hash(target.name))}.lua"
    path.write_text("\n".join(lines) + "\n")
    return path


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _wrk(base_url: str, target: Target, script: Path, seconds: int, server: int) -> Run:
    backends = _database_backends()
    server_before = process_cpu_seconds(server)
    database_before = sum(process_cpu_seconds(pid) for pid in backends)
    output = subprocess.run(
        [
            "wrk",
            f"-t{THREADS}",
            f"-c{CONNECTIONS}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            str(script),
            base_url + target.path,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    server_cpu = process_cpu_seconds(server) - server_before
    database_cpu = sum(process_cpu_seconds(pid) for pid in backends) - database_before
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.MULTILINE)
    count = re.search(r"(\d+) requests in", output)
    if rate is None or p99 is None or count is None:
        raise RuntimeError(f"unexpected wrk output:\n{output}")
    requests = max(int(count[1]), 1)
    problems = [
        line.strip()
        for line in output.splitlines()
        if line.strip().startswith(("Non-2xx", "Socket errors"))
    ]
    return Run(
        float(rate[1]),
        float(p99[1]) * _UNITS[p99[2]],
        "; ".join(problems),
        cpu_us=server_cpu / requests * 1e6,
        database_cpu_us=database_cpu / requests * 1e6 if backends else None,
    )


async def _main() -> list[tuple[Target, Run, Run]]:
    admin_token = await _seed()
    await _flush_redis()
    environment = {**os.environ, **bench_environment(free_port(), database=DATABASE, redis=REDIS)}
    service_port, floor_port = free_port(), free_port()
    service_url, floor_url = f"http://127.0.0.1:{service_port}", f"http://127.0.0.1:{floor_port}"
    processes: list[subprocess.Popen[bytes]] = []
    results = []
    with tempfile.TemporaryDirectory(prefix="api-bench-") as scratch:
        directory = Path(scratch)
        try:
            service = subprocess.Popen(
                [sys.executable, "-m", "cli", "serve", "--port", str(service_port)],
                cwd=ROOT,
                env=environment,
            )
            processes.append(service)
            await _wait_for(service_url, "/health", service)
            targets = await _targets(service_url, admin_token)
            answers = directory / "answers.json"
            answers.write_text(json.dumps(await _record(service_url, targets)))
            floor = subprocess.Popen(
                [sys.executable, "-m", "bench.floor_app", str(floor_port), str(answers)],
                cwd=ROOT,
                env=environment,
            )
            processes.append(floor)
            await _wait_for(floor_url, targets[-1].path, floor)
            for target in targets:
                script = _script(target, directory)
                servers = ((service_url, service.pid), (floor_url, floor.pid))
                for url, pid in servers:  # warm caches, pools, prepared statements
                    _wrk(url, target, script, 2, pid)
                service_run = _wrk(service_url, target, script, SECONDS, service.pid)
                floor_run = _wrk(floor_url, target, script, SECONDS, floor.pid)
                results.append((target, service_run, floor_run))
            # Still the same answers after the load (no refusals, no rate limit in the way).
            assert json.loads(answers.read_text()) == await _record(service_url, targets)
        finally:
            for process in processes:
                process.terminate()
                process.wait(timeout=30)
    return results


def main() -> list[tuple[Target, Run, Run]]:
    if shutil.which("wrk") is None:
        sys.exit("the API bench needs wrk on PATH (Debian: apt-get install wrk)")
    os.environ.update(bench_environment(free_port(), database=DATABASE, redis=REDIS))
    results = asyncio.run(_main())
    load = os.getloadavg()[0]
    print(
        f"API throughput: wrk {THREADS} threads, {CONNECTIONS} connections, {SECONDS} s a run;"
        f" `invitations serve` (1 process) beside a plain starlette app returning the same"
        f" bytes under the same uvicorn (load {load:.1f})"
    )
    print(
        f"  {'request':<32} {'service req/s':>13} {'p99':>9} {'floor req/s':>12} {'p99':>9}"
        f" {'ratio':>7} {'CPU/req: service':>17} {'PostgreSQL':>10} {'floor':>7}"
    )
    for target, service, floor in results:
        database = "-" if service.database_cpu_us is None else f"{service.database_cpu_us:,.0f} us"
        print(
            f"  {target.name:<32} {service.requests_per_second:>13,.0f}"
            f" {service.p99_ms:>7.1f}ms {floor.requests_per_second:>12,.0f}"
            f" {floor.p99_ms:>7.1f}ms"
            f" {service.requests_per_second / floor.requests_per_second:>7.1%}"
            f" {service.cpu_us:>14,.0f} us {database:>10} {floor.cpu_us:>4,.0f} us"
        )
        for side, run in (("service", service), ("floor", floor)):
            if run.problems:
                print(f"    {side}: {run.problems}")
    return results


if __name__ == "__main__":
    main()
