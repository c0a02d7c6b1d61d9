"""The app's pages under /v3/auth/ (app host): the patient list in each variant, the patient file,
the profile and the ClinCheck viewer, in the viewer's language.

A request without a live session is redirected to the hosted login (and comes back after it).
"""

from __future__ import annotations

import asyncio
import json
import math
import re
from importlib import resources

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from sandbox.common.files import FileAnswer
from sandbox.invisalign import i18n, layout, pages
from sandbox.invisalign.access import HOME, Viewer, authorize_url, current_viewer, to_login
from sandbox.invisalign.data import FILTER_ACTION, FILTER_ALL, Case
from sandbox.invisalign.portal import InvisalignPortal
from sandbox.invisalign.variants import CLASSIC_TABLE

PAGE_SIZE = 20
MAX_TABLE_PAGE_SIZE = 100
PATIENT_ID = re.compile(r"[0-9]{7}")
#: Where the page script loads its data: the JSON API a client may guess, or (with `json_api`
#: off) a path no client guesses.
API_BASE = "/v3/api"
HIDDEN_API_BASE = "/v3/ui-data"
_APP_SCRIPT = resources.files("sandbox.invisalign").joinpath("assets/patient-app.js").read_text()
_TABLE_FILTERS = {"CURRENT": FILTER_ALL, "ACTION": FILTER_ACTION}


def app_bundle(version: int) -> str:
    """The page script of one front-end release, with its test ids and JSON field names."""
    build = {
        "layout": version,
        "testIds": layout.markup_ids(version),
        "fields": layout.field_names(version),
    }
    return _APP_SCRIPT.replace("/*@BUILD@*/ {}", json.dumps(build, sort_keys=True))


_BUNDLES = {name: app_bundle(version) for version, name in layout.BUNDLES.items()}


def _number(raw: str | None, default: int, high: int) -> int:
    if raw is None or not raw.isdigit():
        return default
    return min(max(int(raw), 1), high)


def view_routes(portal: InvisalignPortal) -> list[Route]:
    def html(body: str, status: int = 200) -> HTMLResponse:
        return HTMLResponse(body, status_code=status, headers={"Cache-Control": "no-store"})

    def frame(viewer: Viewer, request: Request) -> pages.Frame:
        lang = i18n.choose(viewer.login.language, request.headers.get("accept-language"))
        return pages.Frame(viewer.login, lang, layout.markup_ids(portal.faults.layout_version))

    def not_found(lang: str) -> HTMLResponse:
        message = i18n.text("ids.error.not-found", lang)
        return html(pages.error_page(404, "ids.error.not-found-title", message, lang), 404)

    def bundle_name() -> str:
        return layout.BUNDLES[portal.faults.layout_version]

    def api_base() -> str:
        return API_BASE if portal.site.json_api else HIDDEN_API_BASE

    async def root(request: Request) -> Response:
        return RedirectResponse("/v3/auth/patients.action", status_code=302)

    async def patients(request: Request) -> Response:
        """The site's historical entry point: the patient list, after a login if needed."""
        if current_viewer(portal, request) is None:
            return RedirectResponse(authorize_url(portal, request, HOME), status_code=302)
        return RedirectResponse(HOME, status_code=302)

    async def patient_list(request: Request) -> Response:
        viewer = current_viewer(portal, request)
        if viewer is None:
            return to_login(portal, request)
        page = frame(viewer, request)
        if portal.site.variant == CLASSIC_TABLE:
            return classic_table(request, viewer, page)
        chosen = request.query_params.get("filter")
        if chosen in (FILTER_ALL, FILTER_ACTION):
            viewer.login.list_filter = chosen
        shell = pages.patient_list_shell(
            page, bundle_name(), PAGE_SIZE, viewer.login.list_filter, portal.site.variant,
            api_base(),
        )  # fmt: skip
        return html(shell)

    def classic_table(request: Request, viewer: Viewer, page: pages.Frame) -> Response:
        params = request.query_params
        code = params.get("display.filter") or (
            "ACTION" if viewer.login.list_filter == FILTER_ACTION else "CURRENT"
        )
        if code not in _TABLE_FILTERS:
            code = "CURRENT"
        viewer.login.list_filter = _TABLE_FILTERS[code]
        query = pages.TableQuery(
            filter=code,
            page=_number(params.get("display.pageNumber"), 1, 100_000),
            per_page=_number(params.get("display.itemPerPage"), PAGE_SIZE, MAX_TABLE_PAGE_SIZE),
            search=(params.get("display.searchString") or "").strip()[:100],
        )
        login = viewer.login
        cases = [c for c in portal.data.visible_cases(login) if c.matches(query.search)]
        if code == "ACTION":
            cases = [c for c in cases if c.action_reason is not None]
        rows = _treatment_rows(portal, cases, page.lang)
        total_pages = math.ceil(len(rows) / query.per_page)
        start = (query.page - 1) * query.per_page
        shown = rows[start : start + query.per_page]
        body = pages.classic_table_page(page, query, shown, total_pages, login.username.lower())
        return html(body)

    async def patient_file(request: Request) -> Response:
        viewer = current_viewer(portal, request)
        if viewer is None:
            return to_login(portal, request)
        page = frame(viewer, request)
        patient_id = request.query_params.get("patientId", "")
        if not PATIENT_ID.fullmatch(patient_id):
            return not_found(page.lang)
        return html(pages.patient_file_shell(page, bundle_name(), patient_id, api_base()))

    async def profile(request: Request) -> Response:
        viewer = current_viewer(portal, request)
        if viewer is None:
            return to_login(portal, request)
        doctor = portal.data.doctors[viewer.login.doctor_id]
        return html(pages.profile_page(frame(viewer, request), doctor))

    async def clincheck_viewer(request: Request) -> Response:
        viewer = current_viewer(portal, request)
        if viewer is None:
            return to_login(portal, request)
        page = frame(viewer, request)
        case = portal.data.visible_case(viewer.login, request.query_params.get("patientId", ""))
        setup = case.setup(request.query_params.get("planId", "")) if case else None
        if case is None or setup is None:
            return not_found(page.lang)
        return html(pages.viewer_page(page, case, setup))

    async def plan_file(request: Request) -> Response:
        """A plan file, to the signed-in session that may see the patient (assumed URL
        `ids.plan.file-download`); its bytes answer ranges (`ids.files.range`)."""
        viewer = current_viewer(portal, request)
        if viewer is None:
            return to_login(portal, request)
        page = frame(viewer, request)
        params = request.query_params
        case = portal.data.visible_case(viewer.login, params.get("patientId", ""))
        setup = case.setup(params.get("planId", "")) if case else None
        name = params.get("file", "")
        wanted = next((f for f in setup.files if f.name == name), None) if setup else None
        if setup is None or wanted is None:
            return not_found(page.lang)
        content = portal.file_content(setup, wanted)
        made = await asyncio.to_thread(portal.files.make, content)
        return FileAnswer(request, made, wanted.name, content.media_type, portal)

    async def bundle(request: Request) -> Response:
        script = _BUNDLES.get(request.path_params["name"])
        if script is None:
            return Response("Not found", status_code=404, media_type="text/plain")
        headers = {"Cache-Control": "public, max-age=31536000, immutable"}
        return Response(script, media_type="application/javascript", headers=headers)

    async def favicon(request: Request) -> Response:
        return Response(status_code=204, headers={"Cache-Control": "public, max-age=86400"})

    return [
        Route("/", root, methods=["GET"]),
        Route("/favicon.ico", favicon, methods=["GET"]),
        Route("/v3/auth/patients.action", patients, methods=["GET"]),
        Route("/v3/auth/patient/patientList.action", patient_list, methods=["GET"]),
        Route("/v3/auth/patient/patientFile.action", patient_file, methods=["GET"]),
        Route("/v3/auth/account/profile.action", profile, methods=["GET"]),
        Route("/v3/auth/clincheck/viewer.action", clincheck_viewer, methods=["GET"]),
        Route("/v3/auth/clincheck/file.action", plan_file, methods=["GET"]),
        Route("/v3/assets/{name}", bundle, methods=["GET"]),
    ]


def _treatment_rows(portal: InvisalignPortal, cases: list[Case], lang: str) -> list[pages.TableRow]:
    """One row per treatment: a patient's current one first, then the earlier ones."""
    rows = []
    for case in cases:
        office = portal.data.doctors[case.doctor_id].practice
        rows.append(pages.TableRow(case, case.package, i18n.status(case.status, lang), office))
        for earlier in case.earlier:
            rows.append(
                pages.TableRow(case, earlier.package, i18n.status(earlier.status, lang), office)
            )
    return rows
