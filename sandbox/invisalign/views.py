"""The app's pages under /v3/auth/: shells for the client-side app, profile, ClinCheck viewer.

A request without a live session is redirected to the login (and comes back after it).
"""

from __future__ import annotations

import json
import re
from importlib import resources

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from sandbox.invisalign import layout, pages
from sandbox.invisalign.access import HOME, Viewer, authorize_url, current_viewer, to_login
from sandbox.invisalign.portal import InvisalignPortal

PAGE_SIZE = 20
PATIENT_ID = re.compile(r"[0-9]{7}")
_APP_SCRIPT = resources.files("sandbox.invisalign").joinpath("assets/patient-app.js").read_text()


def app_bundle(version: int) -> str:
    """The page script of one front-end release, with its test ids and JSON field names."""
    build = {
        "layout": version,
        "testIds": layout.markup_ids(version),
        "fields": layout.field_names(version),
    }
    return _APP_SCRIPT.replace("/*@BUILD@*/ {}", json.dumps(build, sort_keys=True))


_BUNDLES = {name: app_bundle(version) for version, name in layout.BUNDLES.items()}


def view_routes(portal: InvisalignPortal) -> list[Route]:
    def html(body: str, status: int = 200) -> HTMLResponse:
        return HTMLResponse(body, status_code=status, headers={"Cache-Control": "no-store"})

    def not_found() -> HTMLResponse:
        message = "The page you requested could not be found."
        return html(pages.error_page(404, "Page not found", message), 404)

    def page_context(request: Request) -> tuple[Viewer | None, dict[str, str], str]:
        version = portal.faults.layout_version
        return current_viewer(portal, request), layout.markup_ids(version), layout.BUNDLES[version]

    async def root(request: Request) -> Response:
        return RedirectResponse("/v3/auth/patients.action", status_code=302)

    async def patients(request: Request) -> Response:
        """The site's historical entry point: the patient list, after a login if needed."""
        if current_viewer(portal, request) is None:
            return RedirectResponse(authorize_url(HOME), status_code=302)
        return RedirectResponse(HOME, status_code=302)

    async def patient_list(request: Request) -> Response:
        viewer, ids, bundle = page_context(request)
        if viewer is None:
            return to_login(request)
        return html(pages.patient_list_page(viewer.login, ids, bundle, PAGE_SIZE))

    async def patient_detail(request: Request) -> Response:
        viewer, ids, bundle = page_context(request)
        if viewer is None:
            return to_login(request)
        patient_id = request.query_params.get("patientId", "")
        if not PATIENT_ID.fullmatch(patient_id):
            return not_found()
        return html(pages.patient_detail_page(viewer.login, ids, bundle, patient_id))

    async def profile(request: Request) -> Response:
        viewer, ids, _ = page_context(request)
        if viewer is None:
            return to_login(request)
        doctor = portal.data.doctors[viewer.login.doctor_id]
        return html(pages.profile_page(viewer.login, doctor, ids))

    async def clincheck_viewer(request: Request) -> Response:
        viewer, ids, _ = page_context(request)
        if viewer is None:
            return to_login(request)
        case = portal.data.visible_case(viewer.login, request.query_params.get("patientId", ""))
        setup = case.setup(request.query_params.get("planId", "")) if case else None
        if case is None or setup is None:
            return not_found()
        return html(pages.viewer_page(viewer.login, ids, case, setup))

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
        Route("/v3/auth/patient/patientDetail.action", patient_detail, methods=["GET"]),
        Route("/v3/auth/account/profile.action", profile, methods=["GET"]),
        Route("/v3/auth/clincheck/viewer.action", clincheck_viewer, methods=["GET"]),
        Route("/v3/assets/{name}", bundle, methods=["GET"]),
    ]
