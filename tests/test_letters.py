"""Letters and cards: GET /invitations/letters.pdf, read back as a person and a phone would.

Every PDF is opened with PDFium (pypdfium2): its pages are rendered to pixels and their QR codes
decoded by zxing-cpp, their text extracted with its position on the page. Poppler (pdffonts,
pdftotext), a second reader, checks the fonts are embedded and the text is there.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
import tracemalloc
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pypdfium2 as pdfium
import pytest
import zxingcpp

from domain.clock import clock
from domain.crypto import keyring
from domain.errors import DomainError, ErrorCode
from domain.groups.service import create_group
from domain.invitations import tokens
from domain.invitations.delivery import invite_link
from domain.invitations.service import InvitationOptions, Invitee, plan_invitations
from domain.letters.layout import ADDRESS_FIELD, Fonts, Letter, Sender, draw_letter
from domain.letters.pdf import MM, PdfWriter
from domain.letters.service import fonts_of, last_whole_day, sender_of
from domain.letters.words import words_for
from domain.logs import quiet_talkative_loggers
from domain.models import (
    ExportKind,
    GroupKind,
    Invitation,
    InvitationExport,
    InvitationImport,
    InvitationStatus,
    User,
)
from domain.settings import get_settings
from tests.fixtures import GraphQLClient, SmtpSink
from tests.invitations_helpers import (
    GENERATE,
    INVITATION,
    accept,
    accept_letter,
    create,
    new_invitation,
    store_invitations,
)
from tests.test_export import signed_in_user

LOCALES = ("en", "nl-BE", "fr-BE")
# Names and addresses a letter must print as written.
NAMES = [("Léa", "Łukasiewicz"), ("Ayşe", "Doğan"), ("伟", "王"), ("", "")]
ADDRESS = "Ayşe Doğan\nKerkstraat 12 bus 3\n9000 Gent\nBelgië"


@dataclass
class Printed:
    invitation: Invitation
    code: str
    link: str


async def _code_only(count: int, group_id: int, **changes: Any) -> list[Printed]:
    rows = []
    for i in range(count):
        first, last = NAMES[i % len(NAMES)]
        rows.append(
            new_invitation(
                "",
                first_name=first,
                last_name=last,
                locale=LOCALES[i % len(LOCALES)],
                group_ids=[group_id],
                postal_address=ADDRESS if i % 2 == 0 else "",
                personal_message="Help decide what the park on North Avenue becomes."
                if i % 5 == 0
                else "",
                **changes,
            )
        )
    ids = await store_invitations(rows)
    ring = keyring("invitation-token")
    printed = []
    for invitation in await Invitation.filter(id__in=ids).order_by("id"):
        token = ring.decrypt(invitation.token_encrypted)
        printed.append(Printed(invitation, tokens.display(token), invite_link(token)))
    return printed


async def download(client: GraphQLClient, **params: str) -> httpx.Response:
    return await client.http.get(
        "/invitations/letters.pdf",
        params=params,
        headers={"Authorization": f"Bearer {client.token}"},
    )


def qr_codes(page: pdfium.PdfPage) -> list[str]:
    """What a phone reads on the page: rendered at 150 dpi in grey, decoded by zxing-cpp."""
    bitmap = page.render(scale=150 / 72, grayscale=True)
    pixels = memoryview(bitmap.buffer).cast("B", shape=(bitmap.height, bitmap.stride))
    found = zxingcpp.read_barcodes(pixels, formats=zxingcpp.BarcodeFormat.QRCode)
    return sorted(code.text for code in found)


def page_text(page: pdfium.PdfPage) -> str:
    return str(page.get_textpage().get_text_range())


def text_box(
    page: pdfium.PdfPage, text: str, occurrence: int = 1
) -> tuple[float, float, float, float]:
    """Where `text` is on the page, in mm from its top left: left, top, right, bottom."""
    textpage = page.get_textpage()
    searcher = textpage.search(text, match_case=True)
    for _ in range(occurrence):
        found = searcher.get_next()
        assert found is not None, text
    start, count = found
    boxes = [textpage.get_charbox(index) for index in range(start, start + count)]
    height = page.get_height()
    return (
        min(b[0] for b in boxes) / MM,
        (height - max(b[3] for b in boxes)) / MM,
        max(b[2] for b in boxes) / MM,
        (height - min(b[1] for b in boxes)) / MM,
    )


def poppler(*command: str) -> str:
    if shutil.which(command[0]) is None:
        pytest.fail(f"{command[0]} is missing: scripts/ensure-system-packages.sh installs it")
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout


async def test_a_groups_code_only_invitations_print_as_one_letter_each_in_its_language(
    admin: GraphQLClient,
) -> None:
    group = await create_group(title="North Avenue Residents", kind=GroupKind.MANUAL)
    printed = await _code_only(20, group.id)
    await create(admin, ["mailed@example.org"], groupIds=[str(group.id)], sendEmail=False)
    other = await create_group(title="Elsewhere", kind=GroupKind.MANUAL)
    await _code_only(2, other.id)

    response = await download(admin, groupId=str(group.id))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["cache-control"] == "no-store"
    assert int(response.headers["content-length"]) == len(response.content)
    assert response.headers["content-disposition"].startswith('attachment; filename="letters-')

    pdf = pdfium.PdfDocument(response.content)
    assert len(pdf) == 20  # the mailed invitation and the other group's are not printed
    for page, each in zip(pdf, printed, strict=True):
        invitation = each.invitation
        words = words_for(invitation.locale)
        text = page_text(page)
        assert each.code in text  # real text: searchable, copyable
        assert words.code_label in text
        assert words.date(last_whole_day(invitation.expires_at)) in text
        assert "https://participate.example.org/invite" in text
        name = f"{invitation.first_name} {invitation.last_name}".strip()
        greeting = words.greeting(name)
        assert greeting in text
        if invitation.personal_message:
            assert "Help decide what the park on North Avenue becomes." in text
        else:
            assert words.campaign("Participate Example") in text.replace("\r\n", " ")
        assert qr_codes(page) == [each.link]
        for other in printed:
            if other is not each:
                assert other.code not in text

    [record] = await InvitationExport.all().prefetch_related("exported_by")
    assert record.kind is ExportKind.LETTERS
    assert record.row_count == 20
    assert record.filters == {"status": "pending", "group_id": group.id}
    assert record.exported_by is not None
    assert record.exported_by.email == "admin@participate.example.org"


async def test_fonts_are_embedded_and_accented_and_chinese_names_print_as_written(
    admin: GraphQLClient,
) -> None:
    group = await create_group(title="Readers", kind=GroupKind.MANUAL)
    await _code_only(4, group.id)
    content = (await download(admin)).content
    with tempfile.NamedTemporaryFile(suffix=".pdf") as file:
        file.write(content)
        file.flush()
        fonts = poppler("pdffonts", file.name).splitlines()[2:]
        text = poppler("pdftotext", "-enc", "UTF-8", file.name, "-")
    assert len(fonts) == 4  # text, bold, the code's and the CJK fallback
    for line in fonts:
        _, cid, kind, encoding, embedded, subset, unicode = line.split()[:7]
        assert (cid, kind, encoding, embedded, subset, unicode) == (
            "CID",
            "TrueType",
            "Identity-H",
            "yes",
            "yes",
            "yes",
        ), line
    for expected in ("Léa Łukasiewicz", "Ayşe Doğan", "伟 王", "Kerkstraat 12 bus 3", "België"):
        assert expected in text


async def test_the_address_lands_inside_the_envelope_window_and_the_code_outside_it(
    admin: GraphQLClient,
) -> None:
    group = await create_group(title="Readers", kind=GroupKind.MANUAL)
    [with_address, without] = await _code_only(2, group.id)
    pdf = pdfium.PdfDocument((await download(admin)).content)
    left, top, width, height = ADDRESS_FIELD  # DIN 5008 form B: 20 mm, 45 mm, 85 x 45 mm
    assert (pdf[0].get_width() / MM, pdf[0].get_height() / MM) == pytest.approx(
        (210, 297), abs=0.01
    )
    for line in ADDRESS.split("\n"):
        box = text_box(pdf[0], line)
        assert left + 4 <= box[0] and box[2] <= left + width - 4, (line, box)
        # Below the return address (the first 17.7 mm), above the field's bottom edge.
        assert top + 17.7 <= box[1] and box[3] <= top + height, (line, box)
    return_line = text_box(pdf[0], "Participate Example", occurrence=2)
    assert top <= return_line[1] and return_line[3] <= top + 17.7
    code = text_box(pdf[0], with_address.code)
    assert code[1] > top + height + 40  # far below the window: no code shows through it
    assert "Kerkstraat" not in page_text(pdf[1])  # no address, nothing in the window
    assert qr_codes(pdf[1]) == [without.link]


# The files' names in the admin's language; each letter speaks its invitation's.
FILE_NAMES = {
    "nl-BE": ("brieven", "kaarten"),
    "fr-BE": ("lettres", "cartes"),
}


@pytest.mark.parametrize("locale", sorted(FILE_NAMES))
async def test_letters_and_cards_are_named_in_the_admins_language(
    admin: GraphQLClient, locale: str
) -> None:
    group = await create_group(title="Market day", kind=GroupKind.MANUAL)
    await _code_only(1, group.id)
    letters, cards = FILE_NAMES[locale]
    # The console's link names its page's language; the admin's account is in English.
    response = await download(admin, groupId=str(group.id), lang=locale)
    assert response.status_code == 200, response.text
    day = (await clock.now()).date().isoformat()
    assert response.headers["content-disposition"] == f'attachment; filename="{letters}-{day}.pdf"'
    # Without the link's word, the account's language names them.
    await User.filter(email="admin@participate.example.org").update(locale=locale)
    response = await download(admin, groupId=str(group.id), layout="cards")
    assert response.status_code == 200, response.text
    assert response.headers["content-disposition"] == f'attachment; filename="{cards}-{day}.pdf"'


async def test_cards_put_eight_codes_on_a_sheet_with_crop_marks(admin: GraphQLClient) -> None:
    group = await create_group(title="Market day", kind=GroupKind.MANUAL)
    printed = await _code_only(20, group.id)
    response = await download(admin, groupId=str(group.id), layout="cards")
    assert response.status_code == 200, response.text
    assert response.headers["content-disposition"].startswith('attachment; filename="cards-')
    pdf = pdfium.PdfDocument(response.content)
    assert len(pdf) == 3
    sheets = [printed[0:8], printed[8:16], printed[16:20]]
    for page, cards in zip(pdf, sheets, strict=True):
        assert qr_codes(page) == sorted(card.link for card in cards)
        text = page_text(page)
        for card in cards:
            assert card.code in text
            assert words_for(card.invitation.locale).card_label in text
        # The first card: 85 x 55 mm, in the top left corner of the 170 x 220 mm grid.
        code = text_box(page, cards[0].code)
        left, top, right, bottom = code
        assert 20 < left < right < 20 + 85 and 38.5 < top < bottom < 38.5 + 55
    [record] = await InvitationExport.all()
    assert (record.kind, record.row_count) == (ExportKind.CARDS, 20)


async def test_email_invitations_print_only_when_asked_and_accepted_ones_never(
    admin: GraphQLClient, gql: GraphQLClient
) -> None:
    [mailed] = (await create(admin, ["anna@example.org"], sendEmail=False))["invitations"]
    [code_only] = await _code_only(1, (await create_group(title="G", kind=GroupKind.MANUAL)).id)
    [used] = (await create(admin, ["used@example.org"], sendEmail=False))["invitations"]
    assert (await accept(gql, used["token"]))["errors"] == []

    only_codes = pdfium.PdfDocument((await download(admin)).content)
    assert [qr_codes(page) for page in only_codes] == [[code_only.link]]
    everyone = pdfium.PdfDocument((await download(admin, codeOnly="false")).content)
    assert [qr_codes(page) for page in everyone] == [[mailed["link"]], [code_only.link]]
    accepted = await download(admin, codeOnly="false", status="accepted")
    assert accepted.status_code == 404  # asked for explicitly: its code works no more
    assert accepted.json()["errors"][0]["message"] == (
        "No invitation to print: no pending invitation matches these filters."
    )
    records = await InvitationExport.all().order_by("id")
    assert [r.filters for r in records] == [
        {"status": "pending"},
        {"status": "pending", "code_only": False},
    ]


async def test_only_codes_that_still_work_are_printed_whatever_the_status_filter(
    admin: GraphQLClient, gql: GraphQLClient, smtp_sink: SmtpSink, run_worker: Any
) -> None:
    """A letter with an accepted or expired code sends its reader to a dead end: the status
    filter narrows the pending ones, it never prints others. A batch's and an import's letters
    leave them out too."""
    batch = (await admin(GENERATE, {"count": 4}))["generateInvitationCodes"]["invitations"]
    used, lapsed, marked, usable = batch
    await accept_letter(gql, used["token"], "ayse@example.org", smtp_sink, run_worker)
    yesterday = await clock.now() - timedelta(days=1)
    await Invitation.filter(id=int(lapsed["id"])).update(expires_at=yesterday)
    await Invitation.filter(id=int(marked["id"])).update(
        expires_at=yesterday, status=InvitationStatus.EXPIRED
    )
    imported = await InvitationImport.create(file_name="residents.xlsx")
    [from_file, used_from_file] = await store_invitations(
        [new_invitation(""), new_invitation("")], import_id=imported.id
    )
    ring = keyring("invitation-token")
    tokens_of = {
        each.id: ring.decrypt(each.token_encrypted)
        for each in await Invitation.filter(id__in=[from_file, used_from_file])
    }
    await accept_letter(gql, tokens_of[used_from_file], "tom@example.org", smtp_sink, run_worker)

    for status in ("ACCEPTED", "accepted", "EXPIRED"):
        for layout in ("letters", "cards"):
            refused = await download(admin, status=status, layout=layout)
            assert refused.status_code == 404, (status, layout)
            assert refused.json()["errors"][0]["code"] == "NOT_FOUND"
        refused = await download(admin, status=status, batchOf=used["id"])
        assert refused.status_code == 404, status
    for params in ({"batchOf": used["id"]}, {"batchOf": used["id"], "status": "PENDING"}):
        letters = pdfium.PdfDocument((await download(admin, **params)).content)
        assert [qr_codes(page) for page in letters] == [[usable["link"]]], params
    cards = pdfium.PdfDocument((await download(admin, batchOf=used["id"], layout="cards")).content)
    [sheet] = cards
    assert qr_codes(sheet) == [usable["link"]]
    letters = pdfium.PdfDocument((await download(admin, importId=str(imported.id))).content)
    assert [qr_codes(page) for page in letters] == [[invite_link(tokens_of[from_file])]]
    everything = pdfium.PdfDocument((await download(admin)).content)
    assert len(everything) == 2  # the batch's usable code and the file's
    assert {record.filters["status"] for record in await InvitationExport.all()} == {"pending"}


async def test_a_download_leaves_no_font_subsetting_lines_in_the_log(
    admin: GraphQLClient, caplog: pytest.LogCaptureFixture
) -> None:
    """fontTools says a score of things at INFO for each font it subsets: held at WARNING by
    the service's logging set-up, a letters download writes none of them."""
    caplog.set_level(logging.INFO)
    quiet_talkative_loggers()  # what the service's logging set-up does
    await _code_only(3, (await create_group(title="G", kind=GroupKind.MANUAL)).id)
    for layout in ("letters", "cards"):
        response = await download(admin, layout=layout)
        assert response.status_code == 200, response.text
    chatter = [record for record in caplog.records if record.name.startswith("fontTools")]
    assert chatter == [], [record.getMessage() for record in chatter[:3]]


async def test_anonymous_and_non_admin_requests_are_refused(
    admin: GraphQLClient, gql: GraphQLClient, http: httpx.AsyncClient
) -> None:
    await _code_only(1, (await create_group(title="G", kind=GroupKind.MANUAL)).id)
    anonymous = await http.get("/invitations/letters.pdf")
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"] == "Bearer"
    member = await signed_in_user(gql, "member@example.org")
    refused = await download(member)
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["code"] == "FORBIDDEN"
    assert refused.headers["cache-control"] == "no-store"
    head = await http.head(
        "/invitations/letters.pdf", headers={"Authorization": f"Bearer {admin.token}"}
    )
    assert head.status_code == 405
    assert await InvitationExport.all().count() == 0


async def test_bad_parameters_and_empty_or_oversized_selections_get_a_clear_answer(
    admin: GraphQLClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def problems(expected_status: int, **params: str) -> list[tuple[str, str | None]]:
        response = await download(admin, **params)
        assert response.status_code == expected_status, response.text
        return [(e["field"], e["value"]) for e in response.json()["errors"]]

    assert await problems(400, layout="poster", codeOnly="maybe", statu="pending") == [
        ("statu", "pending"),
        ("layout", "poster"),
        ("codeOnly", "maybe"),
    ]
    # What the database cannot store is refused as GraphQL refuses it, on every database.
    assert await problems(400, search="a\x00b", layout="cards\x00") == [
        ("search", "a\x00b"),
        ("layout", "cards\x00"),
    ]
    assert await problems(404) == [("filter", None)]  # nothing to print
    await _code_only(3, (await create_group(title="G", kind=GroupKind.MANUAL)).id)
    monkeypatch.setattr(get_settings(), "letters_max_per_download", 2)
    assert await problems(400, layout="CARDS") == [("filter", "3")]
    monkeypatch.setattr(get_settings(), "letters_font", Path("/nonexistent/Font.ttf"))
    monkeypatch.setattr(get_settings(), "letters_max_per_download", 3)
    missing = await download(admin)
    assert missing.status_code == 503
    assert "fonts-dejavu-core" in missing.json()["errors"][0]["message"]
    assert await InvitationExport.all().count() == 0


async def test_the_address_is_erased_when_the_invitation_is_accepted(
    admin: GraphQLClient, gql: GraphQLClient
) -> None:
    [printed] = await _code_only(1, (await create_group(title="G", kind=GroupKind.MANUAL)).id)
    shown = (await admin(INVITATION, {"id": str(printed.invitation.id)}))["invitation"]
    assert shown["token"] == printed.code
    postal = await admin(
        "query($id: ID!) { invitation(id: $id) { postalAddress } }",
        {"id": str(printed.invitation.id)},
    )
    assert postal["invitation"]["postalAddress"] == ADDRESS
    assert (await accept(gql, printed.code, email="ayse@example.org"))["errors"] == []
    await printed.invitation.refresh_from_db()
    assert printed.invitation.postal_address == ""
    postal = await admin(
        "query($id: ID!) { invitation(id: $id) { postalAddress } }",
        {"id": str(printed.invitation.id)},
    )
    assert postal["invitation"]["postalAddress"] is None


async def test_an_address_of_too_many_or_too_long_lines_is_refused_with_its_row(
    database: None,
) -> None:
    invitees = [
        Invitee(postal_address="A\nB\nC\nD\nE\nF", row=2),
        Invitee(postal_address="\n".join("ABCDEFG"), row=3),
        Invitee(postal_address="Rue " + "x" * 60, row=4),
    ]
    with pytest.raises(DomainError) as refused:
        await plan_invitations(invitees, InvitationOptions(send_email=False))
    assert [(p.code, p.row, p.field) for p in refused.value.problems] == [
        (ErrorCode.INVALID_ADDRESS, 3, "address"),
        (ErrorCode.INVALID_ADDRESS, 4, "address"),
    ]


def _sample_letters(count: int) -> list[Letter]:
    return [
        Letter(
            code=tokens.display(tokens.generate()),
            link="https://participate.example.org/invite#token=ABCDE-FGHJK-MNPQR",
            locale=LOCALES[i % 3],
            first_name="Léa",
            last_name=f"Peeters {i}",
            postal_address=ADDRESS,
            message="",
            expires_on=date(2026, 12, 31),
        )
        for i in range(count)
    ]


def _growth(fonts: Fonts, sender: Sender, count: int) -> int:
    """How much more memory drawing `count` more letters took, at its peak."""
    letters = _sample_letters(count + 1)
    with tempfile.TemporaryFile() as file:
        writer = PdfWriter(file, title="Letters")
        draw_letter(writer, fonts, sender, letters[0])  # every glyph looked up once
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            for letter in letters[1:]:
                draw_letter(writer, fonts, sender, letter)
            return tracemalloc.get_traced_memory()[1] - before
        finally:
            tracemalloc.stop()
            writer.close()


def test_pages_go_to_the_file_as_they_are_drawn_so_memory_stays_flat() -> None:
    fonts, sender = fonts_of(get_settings()), sender_of(get_settings())
    small, large = _growth(fonts, sender, 20), _growth(fonts, sender, 220)
    # A page's content is about 5 KB: 200 pages kept in memory would be a megabyte more.
    assert large < small + 200 * 1024, (small, large)
