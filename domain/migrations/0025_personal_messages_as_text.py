"""Personal messages are plain text now, shown as typed: the ones stored before were HTML
(sanitized to a small allowlist), which showed `5 &lt; 6` in the console and lost text that
looked like a tag. Each becomes the text it showed: entities decoded, tags dropped, a
paragraph, list item or `<br>` a line break, a link's address kept after its words. Going
back leaves them as text (read as HTML again, they show much as they did).
"""

from html.parser import HTMLParser
from typing import Any

from tortoise import migrations
from tortoise.migrations import operations as ops

_BATCH = 500
# A sanitized message holds a tag or an entity; any other is already its text.
_STORED_AS_HTML = (
    "SELECT id, personal_message FROM invitations WHERE id > {0}"
    " AND (personal_message LIKE '%<%' OR personal_message LIKE '%&%') ORDER BY id LIMIT {1}"
)
_UPDATE = "UPDATE invitations SET personal_message = {0} WHERE id = {1}"
_BREAK_AFTER = {"p", "li", "ul", "ol"}


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._href: list[str | None] = []
        self._link_start = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")
        elif tag == "li":
            self._break()
            self.parts.append("- ")
        elif tag == "a":
            self._href.append(dict(attrs).get("href"))
            self._link_start = len(self.parts)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in _BREAK_AFTER:
            self._break()
        elif tag == "a" and self._href:
            href = self._href.pop()
            words = "".join(self.parts[self._link_start :]).strip()
            if href and href.removeprefix("mailto:") != words:
                self.parts.append(f" ({href})")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    def _break(self) -> None:
        if self.parts and not "".join(self.parts).endswith("\n"):
            self.parts.append("\n")

    def text(self) -> str:
        lines = "".join(self.parts).split("\n")
        return "\n".join(line.rstrip() for line in lines).strip()


def as_text(stored: str) -> str:
    parser = _Text()
    parser.feed(stored)
    parser.close()
    return parser.text()


async def forward(apps: Any, schema_editor: Any) -> None:
    client = schema_editor.client
    postgres = client.capabilities.dialect == "postgres"

    def sql(statement: str, count: int) -> str:
        marks = [f"${i + 1}" if postgres else f"?{i + 1}" for i in range(count)]
        return statement.format(*marks)

    last = 0
    while True:
        rows = await client.execute_query_dict(sql(_STORED_AS_HTML, 2), [last, _BATCH])
        if not rows:
            return
        for row in rows:
            text = as_text(row["personal_message"])
            if text != row["personal_message"]:
                await client.execute_query(sql(_UPDATE, 2), [text, row["id"]])
        last = rows[-1]["id"]


async def backward(apps: Any, schema_editor: Any) -> None:
    return


class Migration(migrations.Migration):
    dependencies = [("models", "0024_import_hidden_rows")]

    initial = False

    operations = [ops.RunPython(forward, backward)]
