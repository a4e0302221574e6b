"""`invitations dev`: one command runs a working service on a fresh machine; Ctrl-C stops it all."""

from __future__ import annotations

import email
import email.policy
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path
from typing import Any, TypeVar

import httpx
import psutil
import pytest

from domain.models import Group, GroupKind, Project, RegistrationField, Role, RoleKind, User
from domain.seed import admin_email, seed_first_run
from domain.settings import get_settings, load_settings
from domain.users.service import sign_in
from tests.conftest import _free_port
from tests.fixtures import CODE_IN_TEXT, SIGN_IN

T = TypeVar("T")
ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 60.0
PASSWORD = "lighthouse keeper rowing 7"
SIGN_UP = """
mutation($input: SignUpInput!) {
  signUp(input: $input) { ok registration { token } errors { code message field } }
}
"""
CONFIRM = """
mutation($email: String!, $code: String!) {
  confirmEmail(email: $email, code: $code) { ok errors { code message field } }
}
"""
ME = "{ me { email firstName emailConfirmed roles { kind } } }"


# ---------------------------------------------------------------------------------------------
# The first-run data


async def test_the_first_run_creates_an_admin_and_sample_data_and_later_runs_change_nothing(
    database: None,
) -> None:
    settings = get_settings()
    seeded = await seed_first_run(settings)
    assert seeded is not None
    assert seeded.admin_email == "admin@participate.example.org"
    assert seeded.admin_password not in repr(seeded)

    session = await sign_in(email=seeded.admin_email, password=seeded.admin_password)
    assert await Role.filter(user_id=session.user.id, kind=RoleKind.ADMIN).exists()
    assert sorted(await Project.all().values_list("title", flat=True)) == [
        "Participatory budget 2027",
        "Riverside park redesign",
    ]
    groups = {group.title: group for group in await Group.all()}
    assert groups["North Avenue Residents"].kind is GroupKind.MANUAL
    smart = groups["Residents of Example City"]
    assert smart.kind is GroupKind.SMART
    assert [rule["attribute"] for rule in smart.rules] == ["email_domain"]
    field = await RegistrationField.get(key="neighbourhood")
    assert field.required and len(field.options) == 3
    # In the platform's other languages too, so a page in Dutch or French shows no English.
    assert field.title == "Neighbourhood"
    assert field.title_multiloc == {"nl-BE": "Wijk", "fr-BE": "Quartier"}
    assert groups["North Avenue Residents"].title_multiloc["nl-BE"] == "Bewoners Noordlaan"
    titles = [option["title"] for option in field.options]
    assert titles == ["North Avenue", "Riverside", "Old Town"]
    assert field.options[0]["title_multiloc"] == {"nl-BE": "Noordlaan", "fr-BE": "Avenue du Nord"}
    assert smart.title_multiloc["fr-BE"] == "Habitants d'Example City"

    assert await seed_first_run(settings) is None
    assert await User.all().count() == 1
    assert await Project.all().count() == 2


def test_the_admin_address_follows_the_public_url_and_falls_back_to_example_org() -> None:
    key = "k" * 40
    for url, expected in [
        ("https://participate.example.org", "admin@participate.example.org"),
        ("http://localhost:8000", "admin@example.org"),
        ("http://127.0.0.1:8000", "admin@example.org"),
        ("http://intranet:8000", "admin@example.org"),
    ]:
        assert admin_email(load_settings(public_url=url, secret_key=key)) == expected


# ---------------------------------------------------------------------------------------------
# The whole command, as a developer runs it


class Output:
    """Collects a process's output in a thread, so its pipe never fills up."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self._lines: list[str] = []
        assert process.stdout is not None
        self._thread = threading.Thread(target=self._read, args=(process.stdout,), daemon=True)
        self._thread.start()

    def _read(self, stream: Any) -> None:
        for line in iter(stream.readline, b""):
            self._lines.append(line.decode("utf-8", "replace"))

    @property
    def text(self) -> str:
        return "".join(self._lines)

    def search(self, pattern: str) -> re.Match[str]:
        match = re.search(pattern, self.text)
        assert match is not None, f"{pattern!r} not in the output:\n{self.text}"
        return match


def eventually(check: Callable[[], T | None], what: str, output: Output) -> T:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        result = check()
        if result is not None:
            return result
        time.sleep(0.1)
    raise AssertionError(f"{what} did not happen within {TIMEOUT:.0f} s. Output:\n{output.text}")


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def graphql(http: httpx.Client, query: str, variables: dict[str, Any], token: str = "") -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = http.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert not body.get("errors"), body
    return body["data"]


def caught_mail_to(http: httpx.Client, address: str) -> EmailMessage | None:
    listing = http.get("/dev/mail")
    assert listing.status_code == 200
    for link in re.findall(r'href="(/dev/mail/[^"]+)"', listing.text):
        raw = http.get(f"{link}/raw").content
        message = email.message_from_bytes(raw, _class=EmailMessage, policy=email.policy.default)
        if address in str(message["To"]):
            return message
    return None


def test_dev_starts_everything_from_scratch_mail_arrives_and_ctrl_c_stops_it_all(
    tmp_path: Path,
) -> None:
    api_port, smtp_port, silent_redis_port = _free_port(), _free_port(), _free_port()
    env = {name: value for name, value in os.environ.items() if not name.startswith("INVITES_")}
    env.update(
        {
            "INVITES_DATA_DIR": str(tmp_path / "data"),
            "INVITES_PORT": str(api_port),
            "INVITES_SMTP_PORT": str(smtp_port),
            # Nothing listens there: the runner must start its own Redis.
            "INVITES_REDIS_URL": f"redis://127.0.0.1:{silent_redis_port}/0",
        }
    )
    runner = subprocess.Popen(
        [sys.executable, "-m", "cli", "dev"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    output = Output(runner)
    children: list[psutil.Process] = []
    try:
        eventually(lambda: "Press Ctrl-C to stop." in output.text or None, "start", output)
        children = psutil.Process(runner.pid).children(recursive=True)
        graphiql = output.search(r"GraphiQL\s+http://localhost:(\d+)/graphql")
        assert int(graphiql.group(1)) == api_port
        redis_port = int(output.search(r"private redis-server on 127\.0\.0\.1:(\d+)").group(1))
        admin = output.search(r"email\s+(\S+@\S+)\n\s+password\s+(\S+)\n")
        admin_address, admin_password = admin.group(1), admin.group(2)

        with httpx.Client(base_url=f"http://127.0.0.1:{api_port}", timeout=10) as http:
            assert http.get("/health").json()["status"] == "ok"
            assert "graphiql" in http.get("/graphql", headers={"Accept": "text/html"}).text

            signed_up = graphql(
                http,
                SIGN_UP,
                {"input": {"email": "rosa@example.org", "password": PASSWORD, "firstName": "Rosa"}},
            )
            assert signed_up["signUp"]["ok"] is True and signed_up["signUp"]["errors"] == []
            registration = signed_up["signUp"]["registration"]["token"]
            mail = eventually(
                lambda: caught_mail_to(http, "rosa@example.org"), "the confirmation mail", output
            )
            text = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
            code = CODE_IN_TEXT.search(text).group(1)  # type: ignore[union-attr]

            confirmed = graphql(
                http, CONFIRM, {"email": "rosa@example.org", "code": code}, registration
            )
            assert confirmed["confirmEmail"] == {"ok": True, "errors": []}
            session = graphql(http, SIGN_IN, {"email": "rosa@example.org", "password": PASSWORD})
            token = session["signIn"]["session"]["token"]
            assert graphql(http, ME, {}, token)["me"] == {
                "email": "rosa@example.org",
                "firstName": "Rosa",
                "emailConfirmed": True,
                "roles": [],
            }

            admin_session = graphql(
                http, SIGN_IN, {"email": admin_address, "password": admin_password}
            )
            assert admin_session["signIn"]["errors"] == []
            admin_token = admin_session["signIn"]["session"]["token"]
            assert graphql(http, ME, {}, admin_token)["me"]["roles"] == [{"kind": "ADMIN"}]
    finally:
        if runner.poll() is None:
            runner.send_signal(signal.SIGINT)
        try:
            runner.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            runner.kill()
            for child in children:
                child.kill()
            pytest.fail(f"`invitations dev` did not stop on SIGINT. Output:\n{output.text}")

    assert runner.returncode == 0, output.text
    assert len(children) == 3, children  # Redis, the API, the worker
    assert not [child for child in children if child.is_running()], output.text
    assert not port_open(api_port)
    assert not port_open(smtp_port)
    assert not port_open(redis_port)
    # Shown once to the developer, never in a log line; other passwords never.
    assert output.text.count(admin_password) == 2  # the credentials, the sign-in example
    assert PASSWORD not in output.text


def test_a_second_ctrl_c_stops_the_children_at_once_without_calling_them_hung(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from cli.dev import Runner, Shutdown

    shutdown = Shutdown(requested=True, hurry=True)
    runner = Runner(get_settings(), shutdown)
    ready = tmp_path / "ready"
    slow = (
        "import pathlib, signal, sys, time; signal.signal(signal.SIGTERM, lambda *_: None);"
        " pathlib.Path(sys.argv[1]).touch(); time.sleep(60)"
    )
    child = runner.start("API", [sys.executable, "-c", slow, str(ready)], dict(os.environ))
    deadline = time.monotonic() + 30
    while not ready.exists():  # its SIGTERM handler is in place
        assert time.monotonic() < deadline
        time.sleep(0.05)
    started = time.monotonic()
    runner.stop([child])
    assert time.monotonic() - started < 5
    assert child.process.returncode == -signal.SIGKILL
    said = capsys.readouterr().err
    assert "API: stopped at once (asked twice)." in said
    assert "did not stop" not in said
