"""The authorization matrix (docs/authorization.md), cell by cell, and what nobody can reach."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import GraphQLList, GraphQLNonNull, GraphQLObjectType, GraphQLType

from domain.groups.service import add_memberships, create_group
from domain.models import FieldType, GroupKind, RoleKind
from domain.projects.service import create_project
from domain.registration_fields.service import create_registration_field
from domain.roles.service import grant
from domain.users.service import create_admin
from schema.app import schema
from tests.fixtures import SIGN_IN, GraphQLClient
from tests.invitations_helpers import create

ROOT = Path(__file__).resolve().parent.parent
PERSONAS = ("anonymous", "user", "project manager", "admin")
DENIED = {
    "Only admins can do this.",
    "Sign in first.",
    "Only admins and project managers can see this.",
    "Your session is over (it expired or was ended): sign in again.",
}
PASSWORD = "matrix rows and columns 77"
_counter = itertools.count()


def matrix() -> dict[str, dict[str, str]]:
    rows: dict[str, dict[str, str]] = {}
    for line in (ROOT / "docs" / "authorization.md").read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 5 and re.fullmatch(r"[A-Z]\w*\.\w+|(GET|POST) /\S+", cells[0]):
            rows[cells[0]] = dict(zip(PERSONAS, cells[1:], strict=True))
    return rows


@dataclass
class World:
    clients: dict[str, GraphQLClient]
    tokens: dict[str, str | None]
    ids: dict[str, str]
    http: httpx.AsyncClient


def unique() -> int:
    return next(_counter)


# One probe per row: a document (formatted with the world's ids and a fresh number) whose
# first root field is the row's operation, or a path to a nested field.
PROBES: dict[str, str] = {
    "Query.me": "{ me { email } }",
    "Query.registrationFields": "{ registrationFields { key } }",
    "Query.invitationByToken": '{ invitationByToken(token: "ABCDE-FGHJK-MNPQR") { valid } }',
    "Query.passwordResetLinkUsable": '{ passwordResetLinkUsable(token: "no-such-link-{n}") }',
    "Query.groups": "{ groups { id } }",
    "Query.group": '{ group(id: "{group}") { id title } }',
    "Query.projects": "{ projects { id } }",
    "Query.invitations": "{ invitations(first: 5) { totalCount edges { node { email token } } } }",
    "Query.invitation": '{ invitation(id: "{invitation}") { email token } }',
    "Query.invitationImport": '{ invitationImport(id: "1") { id status } }',
    "Query.invitationImports": "{ invitationImports(first: 5) { totalCount } }",
    "Query.mailDeliverySettings": "{ mailDeliverySettings { sendingDomain } }",
    "Query.mailSendingPause": "{ mailSendingPause { since relayAnswer } }",
    "Query.webhookSubscriptions": "{ webhookSubscriptions { id url deliveries { id } } }",
    "Query.webhookSubscription": '{ webhookSubscription(id: "1") { id url } }',
    "Mutation.signUp": 'mutation { signUp(input: {email: "m{n}@example.org", password: "x"}) { ok } }',
    "Mutation.requestEmailConfirmation": 'mutation { requestEmailConfirmation(email: "m{n}@example.org") { ok } }',
    "Mutation.confirmEmail": 'mutation { confirmEmail(email: "m{n}@example.org", code: "123456") { ok } }',
    "Mutation.signIn": 'mutation { signIn(email: "m{n}@example.org", password: "wrong") { session { token } } }',
    "Mutation.signOut": "mutation { signOut { ok } }",
    "Mutation.changeRegistrationEmail": 'mutation { changeRegistrationEmail(email: "m{n}@example.org") { errors { code } } }',
    "Mutation.requestPasswordReset": 'mutation { requestPasswordReset(email: "m{n}@example.org") { ok } }',
    "Mutation.updateProfile": 'mutation { updateProfile(input: {locale: "en"}) { user { email } } }',
    "Mutation.changePassword": 'mutation { changePassword(currentPassword: "wrong", newPassword: "x") { ok } }',
    "Mutation.changeEmail": 'mutation { changeEmail(email: "c{n}@example.org", password: "wrong") { ok } }',
    "Mutation.confirmEmailChange": 'mutation { confirmEmailChange(code: "000000") { errors { code } } }',
    "Mutation.resetPassword": 'mutation { resetPassword(token: "not-a-token", password: "x") { errors { code } } }',
    "Mutation.acceptInvitation": 'mutation { acceptInvitation(input: {token: "ABCDE-FGHJK-MNPQR", firstName: "A", lastName: "B", password: "x"}) { errors { code } } }',
    "Mutation.createGroup": 'mutation { createGroup(input: {title: "Group {n}", kind: MANUAL}) { group { id } } }',
    "Mutation.updateGroup": 'mutation { updateGroup(id: "{group}", input: {title: "Everyone here"}) { group { id } } }',
    "Mutation.deleteGroup": 'mutation { deleteGroup(id: "{spare_group_{n}}") { deletedId } }',
    "Mutation.addGroupMembers": 'mutation { addGroupMembers(groupId: "{group}", userIds: ["{user}"]) { group { id } } }',
    "Mutation.removeGroupMembers": 'mutation { removeGroupMembers(groupId: "{group}", userIds: ["{outsider}"]) { group { id } } }',
    "Mutation.createProject": 'mutation { createProject(title: "Project {n}") { project { id } } }',
    "Mutation.createRegistrationField": 'mutation { createRegistrationField(input: {key: "field_{n}", title: "F", type: TEXT}) { registrationField { id } } }',
    "Mutation.updateRegistrationField": 'mutation { updateRegistrationField(id: "{field}", input: {required: false}) { registrationField { id } } }',
    "Mutation.deleteRegistrationField": 'mutation { deleteRegistrationField(id: "{spare_field_{n}}") { deletedId } }',
    "Mutation.setRole": 'mutation { setRole(userId: "{outsider}", kind: PROJECT_MANAGER, projectId: "{project}") { user { id } } }',
    "Mutation.removeRole": 'mutation { removeRole(userId: "{outsider}", kind: PROJECT_MANAGER, projectId: "{project}") { user { id } } }',
    "Mutation.createInvitations": 'mutation { createInvitations(input: {emails: ["i{n}@example.org"], sendEmail: false}) { invitedCount } }',
    "Mutation.generateInvitationCodes": "mutation { generateInvitationCodes(count: 1) { invitedCount } }",
    "Mutation.resendInvitation": 'mutation { resendInvitation(id: "{invitation}") { invitation { id } } }',
    "Mutation.deleteInvitation": 'mutation { deleteInvitation(id: "{spare_invitation_{n}}") { deletedId } }',
    "Mutation.resendInvitations": "mutation { resendInvitations(input: {filter: {}}) { resentCount } }",
    "Mutation.deleteInvitations": 'mutation { deleteInvitations(input: {ids: ["{spare_invitation_{n}}"]}) { deletedCount } }',
    # A value where the file belongs: permission is checked first, then the value refused.
    "Mutation.importInvitations": 'mutation { importInvitations(file: "x") { errors { code } } }',
    "Mutation.liftMailSuppression": 'mutation { liftMailSuppression(email: "s{n}@example.org") { errors { code } } }',
    "Mutation.createWebhookSubscription": 'mutation { createWebhookSubscription(input: {url: "https://hooks.example.org/{n}", eventTypes: [USER_REGISTERED]}) { secret errors { code } } }',
    "Mutation.updateWebhookSubscription": 'mutation { updateWebhookSubscription(id: "999999", input: {active: false}) { errors { code } } }',
    "Mutation.deleteWebhookSubscription": 'mutation { deleteWebhookSubscription(id: "999999") { errors { code } } }',
    "Mutation.sendTestWebhook": 'mutation { sendTestWebhook(id: "999999") { errors { code } } }',
    "Group.members": "{ me { groups { title members { email } } } }",
    "Group.memberCount": "{ me { groups { title memberCount } } }",
    "Group.memberPage": "{ me { groups { title memberPage(first: 5) { totalCount } } } }",
    "RegistrationField.heldValues": "{ registrationFields { key heldValues { usersCount } } }",
    "RegistrationField.groupsTesting": "{ registrationFields { key groupsTesting { id } } }",
}


@pytest.fixture
async def world(app: Any) -> World:
    clients: dict[str, GraphQLClient] = {}
    tokens: dict[str, str | None] = {"anonymous": None}
    project = await create_project(title="Matrix project")
    group = await create_group(title="Everyone here", kind=GroupKind.MANUAL)
    users = {}
    for persona in PERSONAS[1:]:
        email = f"{persona.replace(' ', '-')}@example.org"
        user = await create_admin(email=email, password=PASSWORD)
        if persona != "admin":
            from domain.models import Role

            await Role.filter(user_id=user.id).delete()
        if persona == "project manager":
            await grant(user.id, RoleKind.PROJECT_MANAGER, project.id)
        users[persona] = user
        await add_memberships(group.id, [user.id])
    outsider = await create_admin(email="outsider@example.org", password=PASSWORD)
    transport = httpx.ASGITransport(app=app, client=("192.0.2.200", 1))
    http = httpx.AsyncClient(transport=transport, base_url="http://testserver")
    anonymous = GraphQLClient(http)
    clients["anonymous"] = anonymous
    for persona in PERSONAS[1:]:
        data = await anonymous(SIGN_IN, {"email": users[persona].email, "password": PASSWORD})
        tokens[persona] = data["signIn"]["session"]["token"]
        clients[persona] = anonymous.as_user(tokens[persona])  # type: ignore[arg-type]
    invitations = (
        await create(clients["admin"], [f"spare{i}@example.org" for i in range(8)], sendEmail=False)
    )["invitations"]
    ids = {
        "project": str(project.id),
        "group": str(group.id),
        "user": str(users["user"].id),
        "outsider": str(outsider.id),
        "invitation": invitations[0]["id"],
    }
    for i, invitation in enumerate(invitations[1:]):
        ids[f"spare_invitation_{i}"] = invitation["id"]
    for i in range(8):
        spare = await create_group(title=f"Spare group {i}", kind=GroupKind.MANUAL)
        ids[f"spare_group_{i}"] = str(spare.id)
        spare_field = await create_registration_field(
            key=f"spare_{i}", title=f"Spare {i}", type=FieldType.TEXT
        )
        ids[f"spare_field_{i}"] = str(spare_field.id)
    ids["field"] = ids["spare_field_0"]
    ids["failed_import"] = str(await failed_import())
    return World(clients=clients, tokens=tokens, ids=ids, http=http)


async def failed_import() -> int:
    """A failed import's id, for the download of its problems."""
    from domain.models import ImportStatus, InvitationImport

    problem = {"code": "INVALID_EMAIL", "message": "No address.", "field": "email", "row": 2}
    record = await InvitationImport.create(
        file_name="failed.xlsx", status=ImportStatus.FAILED, errors=[problem]
    )
    return record.id


def document(row: str, world: World, number: int) -> str:
    text = PROBES[row].replace("{n}", str(number))
    for name, value in world.ids.items():
        text = text.replace("{" + name + "}", value)
    return text


def test_every_operation_and_guarded_field_has_a_row_and_a_probe() -> None:
    rows = matrix()
    graphql = schema._schema
    wanted = set()
    for root in ("Query", "Mutation"):
        root_type = graphql.get_type(root)
        assert isinstance(root_type, GraphQLObjectType)
        wanted.update(f"{root}.{name}" for name in root_type.fields)
    for type_name, graphql_type in graphql.type_map.items():
        if isinstance(graphql_type, GraphQLObjectType) and not type_name.startswith("__"):
            for field_name, field in graphql_type.fields.items():
                definition = field.extensions.get("strawberry-definition")
                if definition is not None and definition.permission_classes:
                    wanted.add(f"{type_name}.{field_name}")
    missing = wanted - set(rows)
    assert not missing, f"add rows to docs/authorization.md for: {sorted(missing)}"
    graphql_rows = {row for row in rows if not row.startswith(("GET ", "POST "))}
    assert not graphql_rows - wanted, f"rows for things that do not exist: {graphql_rows - wanted}"
    assert not graphql_rows - set(PROBES), f"rows without a probe: {graphql_rows - set(PROBES)}"


def _denied(body: dict[str, Any]) -> bool:
    return any(error["message"] in DENIED for error in body.get("errors") or [])


async def test_every_cell_of_the_matrix(world: World) -> None:
    failures = []
    for row, cells in matrix().items():
        if row.startswith(("GET ", "POST ")):
            continue
        for persona in PERSONAS:
            expected = cells[persona]
            client = world.clients[persona]
            if row == "Mutation.signOut" and persona != "anonymous":
                # Sign out a session of its own, so the next rows keep theirs.
                email = f"{persona.replace(' ', '-')}@example.org"
                data = await client(SIGN_IN, {"email": email, "password": PASSWORD})
                client = client.as_user(data["signIn"]["session"]["token"])
            body = await client.post(document(row, world, unique()))
            assert not any(
                (error.get("extensions") or {}).get("code") == "INTERNAL_ERROR"
                for error in body.get("errors") or []
            ), (row, persona, body)
            denied = _denied(body)
            if expected == "deny" and row.startswith("Group.") and persona == "anonymous":
                denied = denied or body["data"]["me"] is None  # nothing to reach
            if expected == "deny" and not denied:
                failures.append(f"{row} as {persona}: expected deny, got {body}")
            if expected in ("allow", "own") and denied:
                failures.append(f"{row} as {persona}: expected {expected}, got {body}")
            # A refusal says why, for apps to branch on: sign in (again), or not for you.
            code = "UNAUTHENTICATED" if persona == "anonymous" else "FORBIDDEN"
            for error in body.get("errors") or []:
                if error["message"] in DENIED and error.get("extensions") != {"code": code}:
                    failures.append(f"{row} as {persona}: expected {code}, got {error}")
            if expected == "own" and row == "Query.me":
                me = body["data"]["me"]
                if persona == "anonymous":
                    assert me is None
                else:
                    assert me["email"].startswith(persona.replace(" ", "-"))
    assert not failures, "\n".join(failures)


async def test_every_download_cell_of_the_matrix(world: World) -> None:
    """The downloads take the same Bearer session as GraphQL."""
    failures = []
    for row, cells in matrix().items():
        if not row.startswith("GET "):
            continue
        path = row.removeprefix("GET ").replace("{import}", world.ids["failed_import"])
        for persona in PERSONAS:
            token = world.tokens[persona]
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            response = await world.http.get(path, headers=headers)
            allowed = response.status_code == 200
            expected = cells[persona] in ("allow", "own")
            if allowed != expected or (not allowed and response.status_code not in (401, 403)):
                failures.append(f"{row} as {persona}: {response.status_code}")
    assert not failures, "\n".join(failures)


async def test_denied_mutations_change_nothing(world: World) -> None:
    from domain.models import Group, Invitation, Project

    before = (
        await Group.all().count(),
        await Project.all().count(),
        await Invitation.all().count(),
    )
    for row, cells in matrix().items():
        if row.startswith("Mutation.") and cells["user"] == "deny":
            await world.clients["user"].post(document(row, world, unique()))
            await world.clients["anonymous"].post(document(row, world, unique()))
    after = (await Group.all().count(), await Project.all().count(), await Invitation.all().count())
    assert before == after


def _unwrap(graphql_type: GraphQLType) -> GraphQLType:
    while isinstance(graphql_type, GraphQLNonNull | GraphQLList):
        graphql_type = graphql_type.of_type
    return graphql_type


def test_no_path_from_what_a_user_may_call_reaches_invitations_or_other_peoples_data() -> None:
    """Nested fields count: walk every type a non-admin can reach without passing a field
    that the matrix denies them, and make sure invitations and the like are not among them."""
    rows = matrix()
    graphql = schema._schema
    reachable: set[str] = set()
    queue: list[GraphQLObjectType] = []
    for root in ("Query", "Mutation"):
        root_type = graphql.get_type(root)
        assert isinstance(root_type, GraphQLObjectType)
        for name, field in root_type.fields.items():
            if rows[f"{root}.{name}"]["user"] != "deny":
                target = _unwrap(field.type)
                if isinstance(target, GraphQLObjectType):
                    queue.append(target)
    while queue:
        current = queue.pop()
        if current.name in reachable:
            continue
        reachable.add(current.name)
        for name, field in current.fields.items():
            row = rows.get(f"{current.name}.{name}")
            if row is not None and row["user"] == "deny":
                continue
            target = _unwrap(field.type)
            if isinstance(target, GraphQLObjectType):
                queue.append(target)
    forbidden = {
        "Invitation",
        "InvitationConnection",
        "InvitationEdge",
        "Grants",
        "Delivery",
        "MailDeliverySettings",
        "InvitationImport",
    }
    assert not reachable & forbidden, reachable & forbidden
    assert "User" in reachable and "InvitationPreview" in reachable
