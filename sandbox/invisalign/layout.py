"""Markup test ids and JSON field names, per layout version.

Layout 1 is the site as documented. Layout 2 (the `layout_version` fault) is the same site after a
front-end release that renamed the test ids and JSON fields a parser depends on, so a client can
prove it notices a changed portal instead of syncing nothing. Pages, the page script and the JSON
API all take their names from here.
"""

from __future__ import annotations

from typing import Any

# Canonical key -> (layout 1, layout 2) markup test id.
_TEST_IDS: dict[str, tuple[str, str]] = {
    # patient list
    "card": ("Card-patient", "PatientCard"),
    "name": ("Patient-name", "PatientCard-name"),
    "id": ("Patient-id", "PatientCard-id"),
    "status": ("Tracker-status", "PatientCard-status"),
    "lastActivity": ("Patient-last-activity", "PatientCard-updated"),
    "actionRequired": ("Action-required", "PatientCard-action"),
    "unread": ("Unread-comments", "PatientCard-unread"),
    "link": ("Patient-link", "PatientCard-link"),
    "filterAll": ("Filter-option-ALL", "Filter-ALL"),
    "filterAction": ("Filter-option-ACTION_REQUIRED", "Filter-ACTION_REQUIRED"),
    "prev": ("Pagination-prev", "Pager-prev"),
    "next": ("Pagination-next", "Pager-next"),
    "pageInfo": ("Pagination-info", "Pager-info"),
    "total": ("Patient-count", "PatientCount"),
    "loading": ("Loading-spinner", "Loading-spinner"),
    "noAccess": ("No-access", "AccessDenied"),
    # The current list's frame, filter control, markers and columns (confirmed by public code;
    # layout 2 keeps them: it renames what the cards are made of).
    "pageBody": ("PLPage-body", "PLPage-body"),
    "listRoot": ("PatientList-root", "PatientList-root"),
    "filterContainer": ("Filter-buttonContainer", "Filter-buttonContainer"),
    "filterButton": ("Button-button", "Button-button"),
    "tagAction": ("Tag-tag-ACTION_REQUIRED", "Tag-tag-ACTION_REQUIRED"),
    "activeFilters": ("PLPage-activeFilters", "PLPage-activeFilters"),
    "activeFiltersBar": ("ActiveFiltersBar-root", "ActiveFiltersBar-root"),
    "emptyContainer": ("EmptySearch-container", "EmptySearch-container"),
    "emptyText": ("EmptySearch-emptyText", "EmptySearch-emptyText"),
    "treatment": ("TableColumns-treatment", "TableColumns-treatment"),
    "conditions": ("TableColumns-conditions", "TableColumns-conditions"),
    "notes": ("TableColumns-notes", "TableColumns-notes"),
    "error": ("Load-error", "Load-error"),
    # patient detail
    "doctor": ("Doctor-name", "PatientDoctor"),
    "historyItem": ("Status-history-item", "StatusHistory-item"),
    "plan": ("ClinCheck-plan", "TreatmentPlan"),
    "planVersion": ("Plan-version", "TreatmentPlan-version"),
    "planState": ("Plan-state", "TreatmentPlan-state"),
    "planCreated": ("Plan-created", "TreatmentPlan-created"),
    "planViewer": ("Plan-viewer-link", "TreatmentPlan-viewer"),
    "planFile": ("Plan-file", "TreatmentPlan-file"),
    "comment": ("Comment", "Message"),
    "commentAuthor": ("Comment-author", "Message-author"),
    "commentRole": ("Comment-role", "Message-role"),
    "commentDate": ("Comment-date", "Message-date"),
    "commentBody": ("Comment-body", "Message-body"),
    "commentUnread": ("Comment-unread", "Message-unread"),
    "commentInput": ("Comment-input", "Message-input"),
    "commentSubmit": ("Comment-submit", "Message-submit"),
    "markRead": ("Comments-mark-read", "Messages-mark-read"),
    "modificationInput": ("Modification-input", "Modification-input"),
    "modificationSubmit": ("Modification-submit", "Modification-submit"),
    "approve": ("Approve-plan", "Approve-plan"),
    "actionError": ("Action-error", "Action-error"),
    "actionDone": ("Action-success", "Action-success"),
    # account profile (server-rendered)
    "profileName": ("Profile-name", "Account-name"),
    "profileEmail": ("Profile-email", "Account-email"),
    "profileType": ("Profile-account-type", "Account-type"),
    "profileDoctor": ("Profile-doctor", "Account-doctor"),
    "profileRole": ("Profile-role", "Account-permission"),
    "userMenu": ("User-menu-name", "UserMenu-name"),
}

# JSON fields renamed by layout 2 (layout 1 name -> layout 2 name), wherever they occur.
FIELD_RENAMES_V2: dict[str, str] = {
    "patients": "items",
    "totalCount": "total",
    "totalPages": "pages",
    "patientId": "id",
    "patientName": "name",
    "trackerStatus": "status",
    "lastActivity": "lastActivityAt",
    "actionRequired": "pendingAction",
    "unreadComments": "unreadCount",
    "statusHistory": "statusEvents",
    "clinCheckPlans": "treatmentPlans",
    "planId": "treatmentPlanId",
    "comments": "messages",
    "commentId": "messageId",
    "accountType": "userType",
    "roles": "permissions",
}


def markup_ids(layout: int) -> dict[str, str]:
    index = 1 if layout == 2 else 0
    return {key: names[index] for key, names in _TEST_IDS.items()}


def field_names(layout: int) -> dict[str, str]:
    """Layout-1 name -> this layout's name, for every field layout 2 renames."""
    return {name: (new if layout == 2 else name) for name, new in FIELD_RENAMES_V2.items()}


def fields(layout: int, data: Any) -> Any:
    """Rename layout-1 JSON fields for `layout` (recursively); layout 1 returns `data` as is."""
    if layout != 2:
        return data
    return _rename(data)


def _rename(data: Any) -> Any:
    if isinstance(data, dict):
        return {FIELD_RENAMES_V2.get(k, k): _rename(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_rename(v) for v in data]
    return data


# Page-script bundle names change with a front-end release, as hashed bundle names do.
BUNDLES = {1: "patient-app.3f9c1a.js", 2: "patient-app.b71e04.js"}
