"""A preview before anything is sent: `dryRun` on createInvitations and importInvitations
checks everything as the real run does, writes nothing, mails nobody, uses none of the daily
allowance, and says what the real run would do; the real run then does exactly that."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from domain.models import Invitation, InvitationImport, Membership, Role, RoleKind, User
from domain.roles.service import grant
from domain.settings import get_settings
from domain.users.service import open_session
from tests.fixtures import GraphQLClient, SmtpSink
from tests.import_helpers import HEADER, XLSX, workbook
from tests.invitations_helpers import sample_platform

OUTCOME = "outcome { invitations mails codeOnly existingUsers newAdmins newProjectManagers }"

CREATE = f"""
mutation($input: CreateInvitationsInput!, $dryRun: Boolean!) {{
  createInvitations(input: $input, dryRun: $dryRun) {{
    invitedCount
    invitations {{ email }}
    existingUsersUpdated {{ email }}
    errors {{ code message field position value }}
    {OUTCOME}
  }}
}}
"""

IMPORT = """
mutation($file: Upload!, $defaults: InvitationOptionsInput, $dryRun: Boolean!) {
  importInvitations(file: $file, defaults: $defaults, dryRun: $dryRun) {
    invitationImport { id status dryRun }
    errors { code message field }
  }
}
"""

STATE = f"""
query($id: ID!) {{
  invitationImport(id: $id) {{
    status dryRun rowsTotal rowsProcessed invitedCount existingUsersUpdatedCount skippedCount
    errors {{ code field row value }}
    {OUTCOME}
  }}
}}
"""


async def confirmed_user(email: str, **values: Any) -> User:
    return await User.create(
        email=email,
        locale="en",
        password_hash="-",
        email_confirmed_at=datetime.now(UTC),
        **values,
    )


async def create(client: GraphQLClient, dry_run: bool, emails: Any, **options: Any) -> Any:
    data = await client(CREATE, {"input": {"emails": emails, **options}, "dryRun": dry_run})
    return data["createInvitations"]


async def upload(
    http: httpx.AsyncClient,
    token: str,
    content: bytes,
    defaults: dict[str, Any] | None,
    *,
    dry_run: bool,
) -> dict[str, Any]:
    operations = {
        "query": IMPORT,
        "variables": {"file": None, "defaults": defaults, "dryRun": dry_run},
    }
    response = await http.post(
        "/graphql",
        headers={"Apollo-Require-Preflight": "true", "Authorization": f"Bearer {token}"},
        data={
            "operations": json.dumps(operations),
            "map": json.dumps({"0": ["variables.file"]}),
        },
        files={"0": ("campaign.xlsx", content, XLSX)},
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert not body.get("errors"), body
    payload: dict[str, Any] = body["data"]["importInvitations"]
    return payload


async def state(admin: GraphQLClient, import_id: str) -> dict[str, Any]:
    result: dict[str, Any] = (await admin(STATE, {"id": import_id}))["invitationImport"]
    return result


async def written() -> dict[str, Any]:
    """Everything a batch may change, to compare before and after a dry run."""
    return {
        "invitations": await Invitation.all().count(),
        "roles": sorted(await Role.all().values_list("user_id", "kind", "project_id")),
        "memberships": sorted(await Membership.all().values_list("user_id", "group_id")),
        "fields": sorted(await User.all().values_list("email", "registration_field_values")),
    }


async def test_a_typed_dry_run_writes_nothing_and_the_real_run_does_what_it_said(
    admin: GraphQLClient, smtp_sink: SmtpSink, run_worker: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = await sample_platform()
    member = await confirmed_user("member@example.org")
    boss = await confirmed_user("boss@example.org")
    await grant(boss.id, RoleKind.ADMIN)
    options = {
        "admin": True,
        "groupIds": [str(data["manual"].id)],
        "projectIds": [str(data["project"].id)],
    }
    emails = "lea@example.org, Member@Example.org; tom@example.org, boss@example.org"
    # A typed batch counts every address against the daily allowance.
    monkeypatch.setattr(get_settings(), "limit_invitations_per_admin_per_day", 4)
    before = await written()

    preview = await create(admin, True, emails, **options)
    assert preview["errors"] == []
    assert preview["outcome"] == {
        "invitations": 2,
        "mails": 2,
        "codeOnly": 0,
        "existingUsers": 2,
        "newAdmins": 3,  # lea, tom and member; boss is one already
        "newProjectManagers": 4,
    }
    assert (preview["invitedCount"], preview["invitations"], preview["existingUsersUpdated"]) == (
        0,
        [],
        [],
    )
    # Checked, not counted: the allowance of 4 stays whole however often one previews.
    assert (await create(admin, True, emails, **options))["errors"] == []
    await run_worker()
    assert await written() == before
    assert smtp_sink.mails == []

    done = await create(admin, False, emails, **options)
    assert done["errors"] == []
    assert done["outcome"] == preview["outcome"]
    assert done["invitedCount"] == 2 and len(done["existingUsersUpdated"]) == 2
    await run_worker()
    assert len(smtp_sink.mails) == 2
    assert await Role.filter(user_id=member.id, kind=RoleKind.ADMIN).exists()


async def test_a_typed_dry_run_is_refused_as_the_real_run_would_be(
    admin: GraphQLClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    refused = await create(admin, True, ["lea@example.org", "not an address"])
    assert [(e["code"], e["position"]) for e in refused["errors"]] == [("INVALID_EMAIL", 1)]
    assert refused["outcome"] is None

    monkeypatch.setattr(get_settings(), "limit_invitations_per_admin_per_day", 1)
    over = await create(admin, True, ["lea@example.org", "tom@example.org"])
    assert [e["code"] for e in over["errors"]] == ["RATE_LIMITED"]
    assert await Invitation.all().count() == 0


def campaign() -> bytes:
    """2,500 rows, more than one of the import's parts: 500 addresses (every fifth row; every
    hundredth an admin), 2,000 code-only rows, two accounts that exist, a blank row."""
    lines: list[list[Any]] = [[*HEADER, "neighbourhood"]]
    for i in range(2500):
        if i % 5:
            lines.append([None, f"Letter{i}", "Only", "fr-BE", None, None, None])
        else:
            admin = "TRUE" if i % 100 == 0 else None
            lines.append([f"person{i}@example.org", "P", "Q", None, None, admin, "south"])
    lines[1 + 1205] = ["Member@Example.org", None, None, None, "North Avenue Residents", "TRUE"]
    lines[1 + 2105] = ["boss@example.org", None, None, None, None, "TRUE", "north"]
    lines[1 + 2205] = [None] * 7
    return workbook(*lines)


async def test_an_import_dry_run_says_what_the_same_file_then_does(
    admin: GraphQLClient,
    http: httpx.AsyncClient,
    smtp_sink: SmtpSink,
    run_worker: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = await sample_platform()
    member = await confirmed_user("member@example.org")
    boss = await confirmed_user("boss@example.org", registration_field_values={"x": 1})
    await grant(boss.id, RoleKind.ADMIN)
    content = campaign()
    defaults = {"projectIds": [str(data["project"].id)]}
    assert admin.token is not None
    before = await written()
    expected = {
        "invitations": 2497,  # 2,500 rows, one blank, two accounts
        "mails": 497,
        "codeOnly": 2000,
        "existingUsers": 2,
        "newAdmins": 25 + 1,  # every hundredth row, and the member (the boss is one already)
        "newProjectManagers": 2497 + 2,
    }
    # The allowance is exactly what the real run needs: the preview must leave it whole.
    monkeypatch.setattr(get_settings(), "limit_invitations_per_admin_per_day", 2497)

    queued = await upload(http, admin.token, content, defaults, dry_run=True)
    assert queued["errors"] == [] and queued["invitationImport"]["dryRun"] is True
    await run_worker()
    preview = await state(admin, queued["invitationImport"]["id"])
    assert preview["status"] == "DONE", preview["errors"]
    assert preview["dryRun"] is True
    assert (preview["rowsTotal"], preview["rowsProcessed"], preview["skippedCount"]) == (
        2500,
        2500,
        1,
    )
    assert (preview["invitedCount"], preview["existingUsersUpdatedCount"]) == (0, 0)
    assert preview["outcome"] == expected
    assert await written() == before
    assert smtp_sink.mails == []
    assert await InvitationImport.filter(content__isnull=False).count() == 0

    queued = await upload(http, admin.token, content, defaults, dry_run=False)
    await run_worker()
    done = await state(admin, queued["invitationImport"]["id"])
    assert done["status"] == "DONE", done["errors"]
    assert done["dryRun"] is False
    assert done["outcome"] == preview["outcome"]
    assert (done["invitedCount"], done["existingUsersUpdatedCount"]) == (2497, 2)
    assert await Invitation.all().count() == 2497
    assert await Invitation.filter(send_email=True).count() == expected["mails"]
    assert await Invitation.filter(email="").count() == expected["codeOnly"]
    assert len(smtp_sink.mails) == expected["mails"]
    assert await Role.filter(user_id=member.id, kind=RoleKind.ADMIN).exists()
    assert await Membership.filter(user_id=member.id, group_id=data["manual"].id).exists()


async def test_an_import_dry_run_reports_the_problems_the_real_run_would(
    admin: GraphQLClient, http: httpx.AsyncClient, run_worker: Any
) -> None:
    await sample_platform()
    content = workbook(
        HEADER,
        ["lea@example.org", "Lea", None, "xx"],
        ["lea@example.org", None, None, None, "No such group"],
        ["tom@example.org", None, None, None, None, "maybe"],
    )
    assert admin.token is not None
    found = []
    for dry_run in (True, False):
        queued = await upload(http, admin.token, content, None, dry_run=dry_run)
        await run_worker()
        result = await state(admin, queued["invitationImport"]["id"])
        assert result["status"] == "FAILED" and result["outcome"] is None
        found.append(result["errors"])
    assert found[0] == found[1]
    assert {e["code"] for e in found[0]} == {
        "UNKNOWN_LOCALE",
        "UNKNOWN_GROUP",
        "DUPLICATE_EMAIL",
        "MALFORMED_ADMIN_VALUE",
    }
    assert await Invitation.all().count() == 0


async def test_only_admins_may_preview(gql: GraphQLClient, http: httpx.AsyncClient) -> None:
    person = await confirmed_user("person@example.org")
    token = (await open_session(person)).token
    body = await gql.post(
        CREATE, {"input": {"emails": ["lea@example.org"]}, "dryRun": True}, token=token
    )
    assert body["data"] is None and body["errors"]
    operations = {"query": IMPORT, "variables": {"file": None, "dryRun": True}}
    response = await http.post(
        "/graphql",
        headers={"Apollo-Require-Preflight": "true", "Authorization": f"Bearer {token}"},
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.file"]})},
        files={"0": ("a.xlsx", workbook(HEADER, ["lea@example.org"]), XLSX)},
    )
    assert response.json()["data"] is None and response.json()["errors"]
    assert await InvitationImport.all().count() == 0
    assert await Invitation.all().count() == 0
