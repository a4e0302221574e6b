"""The floor of the API bench: a plain starlette app returning recorded answers, byte for byte.

`python -m bench.floor_app PORT ANSWERS` serves, under the same uvicorn as `invitations serve`
(same event loop and HTTP parser), the answers recorded from the service in ANSWERS (JSON:
method, path, request body, response status, content type and body). A POST is answered by
its body, as the service would tell its queries apart; a GET by its path.
"""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


def create_floor(answers_file: Path) -> Starlette:
    answers: dict[tuple[str, str, bytes], tuple[int, str, bytes]] = {}
    for answer in json.loads(answers_file.read_text()):
        key = (answer["method"], answer["path"], base64.b64decode(answer["request"]))
        answers[key] = (answer["status"], answer["content_type"], base64.b64decode(answer["body"]))

    async def answer(request: Request) -> Response:
        body = await request.body() if request.method == "POST" else b""
        found = answers.get((request.method, request.url.path, body))
        if found is None:
            return Response(b"not recorded", status_code=404)
        status, content_type, content = found
        return Response(content, status_code=status, media_type=content_type)

    paths = sorted({path for _, path, _ in answers})
    return Starlette(routes=[Route(path, answer, methods=["GET", "POST"]) for path in paths])


def main() -> None:
    import uvicorn

    port, answers_file = int(sys.argv[1]), Path(sys.argv[2])
    # As `invitations serve` runs uvicorn (cli/main.py), but for the app.
    uvicorn.run(
        create_floor(answers_file),
        host="127.0.0.1",
        port=port,
        proxy_headers=False,
        log_level="warning",
        log_config=None,
    )


if __name__ == "__main__":
    main()
