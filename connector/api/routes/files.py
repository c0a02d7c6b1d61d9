"""`/v1/cases/{id}/files` and `/v1/files/{id}/content`: setup files and case records.

Content is decrypted as it streams out, chunk by chunk, with `ETag` (from the account's keyed
hash, so it names the content without revealing it), single byte ranges (206; 416 outside the
file; `If-Range` honoured) and `Content-Disposition` carrying the portal's file name. A file not
fetched yet is queued for download and answered 202 with `Retry-After`.
"""

from __future__ import annotations

import mimetypes
import re
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from connector.api.errors import CONFLICT, NOT_FOUND, error_response
from connector.api.models import ID_PATTERN, FileList, FileOut
from connector.api.state import context
from connector.files import FilePolicy, blob_stores
from connector.files.ranges import RangeNotSatisfiable, parse_range
from connector.files.service import Content, Pending, case_files, content_or_fetch, read_content
from connector.files.views import file_json

router = APIRouter(tags=["files"])

CaseId = Annotated[str, Path(pattern=ID_PATTERN, description="The case's id.")]
FileId = Annotated[
    str,
    Path(
        pattern=ID_PATTERN,
        description="The file's id.",
        examples=["file_01j9z3k4m5n6p7q8r9s0t1v2wa"],
    ),
]

_UNSAFE = re.compile(r'[\x00-\x1f\x7f"\\/;]')


def content_disposition(name: str) -> str:
    """`attachment` with an ASCII fallback and the exact name in RFC 5987 form."""
    clean = _UNSAFE.sub("_", name).strip() or "file"
    fallback = clean.encode("ascii", "replace").decode("ascii").replace("?", "_")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(clean, safe='')}"


def _media_type(name: str) -> str:
    guessed, _ = mimetypes.guess_type(name)
    if name.lower().endswith(".stl"):
        return "model/stl"
    return guessed or "application/octet-stream"


@router.get(
    "/cases/{case_id}/files",
    summary="The case's files (setup files per version, and records)",
    description="Listing a case's files is a download job of its own: the first request (or "
    "one after the case changed) queues it and answers `listed: null`; ask again shortly.",
    responses=NOT_FOUND,
)
async def list_case_files(case_id: CaseId, request: Request) -> FileList:
    ctx = context(request)
    found = await case_files(ctx.runtime.store, ctx.runtime.vault.keys, case_id)
    return FileList.model_validate(
        {"items": found.items, "next_cursor": None, "listed": found.listed}
    )


_CONTENT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The whole file.",
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    },
    202: {
        "description": "Not fetched yet: its download is queued; retry after `Retry-After`.",
        "model": FileOut,
    },
    206: {
        "description": "The requested byte range.",
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    },
    304: {"description": "Not modified (`If-None-Match`)."},
    416: {"description": "The range lies outside the file."},
    **NOT_FOUND,
    **CONFLICT,
}


@router.get(
    "/files/{file_id}/content",
    summary="The file's content, streamed (Range supported)",
    response_class=Response,
    responses=_CONTENT_RESPONSES,
)
async def file_content(file_id: FileId, request: Request) -> Response:
    ctx = context(request)
    store = ctx.runtime.store
    policy = FilePolicy.from_settings(ctx.settings, sorted(ctx.services.adapters))
    found = await content_or_fetch(store, policy, file_id)
    if isinstance(found, Pending):
        return JSONResponse(
            file_json(found.file),
            status_code=202,
            headers={"Retry-After": str(ctx.settings.files.retry_after_seconds)},
        )
    content: Content = found
    headers = {
        "ETag": content.etag,
        "Accept-Ranges": "bytes",
        "Content-Disposition": content_disposition(content.file.name),
        "Cache-Control": "private, no-store",
    }
    if request.headers.get("If-None-Match") in (content.etag, "*"):
        return Response(status_code=304, headers=headers)
    size = content.size
    wanted = request.headers.get("Range")
    if_range = request.headers.get("If-Range")
    if if_range is not None and if_range != content.etag:
        wanted = None  # the client's copy is another version: send the whole file
    try:
        span = parse_range(wanted, size)
    except RangeNotSatisfiable:
        response = error_response(416, "the range lies outside the file")
        response.headers["Content-Range"] = f"bytes */{size}"
        return response
    first, last = span if span is not None else (0, max(0, size - 1))
    status = 206 if span is not None else 200
    if span is not None:
        headers["Content-Range"] = f"bytes {first}-{last}/{size}"
    headers["Content-Length"] = str(last - first + 1 if size else 0)
    blobs = blob_stores(ctx.settings, store)
    body = read_content(
        store,
        ctx.runtime.vault.keys,
        blobs,
        content,
        first,
        last,
        reason=f"serve {content.file.id}",
    )
    return StreamingResponse(
        body, status_code=status, headers=headers, media_type=_media_type(content.file.name)
    )
