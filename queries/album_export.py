"""The selection export: the picked photos as a Lightroom filter string, or as CSV."""

from __future__ import annotations

import csv
import io

import asyncpg
from starlette.requests import Request
from starlette.responses import Response

from domains.policies import Action
from queries.album_models import ExportQuery
from queries.album_reads import AlbumRows
from queries.auth import Callers
from queries.bodies import read_query
from queries.routing import Endpoint

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(text: str) -> str:
    """A spreadsheet cell that stays text: one starting like a formula gets a leading ``'``.

    Guest names (``X-Guest``) and file names come from outside; opened in a spreadsheet,
    ``=HYPERLINK(...)`` would otherwise run as a formula on the photographer's machine.
    """
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def album_export_endpoints(callers: Callers, pool: asyncpg.Pool) -> list[Endpoint]:
    rows = AlbumRows(callers, pool)

    async def export(request: Request) -> Response:
        query = read_query(request, ExportQuery)
        _, row = await rows.get(request, Action.VIEW)
        async with pool.acquire() as conn:
            picked = await conn.fetch(
                "SELECT name, file_id, rating, color, picked_by FROM read.album_photos "
                "WHERE album_id = $1 AND cardinality(picked_by) > 0 ORDER BY name",
                row["album_id"],
            )
        if query.format == "lightroom":
            # Lightroom's library filter takes names separated by commas ("contains any").
            names = ", ".join(r["name"].rsplit(".", 1)[0] for r in picked)
            return Response(names, media_type="text/plain; charset=utf-8")
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["name", "file_id", "rating", "color", "picked_by"])
        for r in picked:
            writer.writerow(
                [
                    _cell(r["name"]),
                    _cell(r["file_id"]),
                    r["rating"] or "",
                    _cell(r["color"] or ""),
                    # "; " apart: a guest's name may have spaces ("Anna Client; Ben")
                    _cell("; ".join(r["picked_by"])),
                ]
            )
        return Response(
            out.getvalue(),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="selection-{row["album_id"]}.csv"'
            },
        )

    return [
        Endpoint(
            "GET",
            "/api/albums/{album_id}/selection/export",
            export,
            "The selection as a Lightroom filter string or CSV (rating: the highest a guest gave)",
            "albums",
            query=ExportQuery,
            content={
                "text/plain": {"type": "string", "description": "Lightroom: names, with commas"},
                "text/csv": {"type": "string", "description": "name,file_id,rating,color,..."},
            },
            errors=(401, 404, 422),
        ),
    ]
