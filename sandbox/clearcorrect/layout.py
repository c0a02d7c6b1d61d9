"""The names a client's parser depends on, per layout version (`faults.layout_version`).

Version 1 is the portal as documented in ROUTES.md. Version 2 simulates a portal release that
renamed them: login form fields lose their `Input.` prefix (and `Input.Email` becomes
`UserName`), the cases table, its row attribute, the unread bubble and the chat list change
names, and several JSON keys are renamed. A client built for version 1 should notice (a
required field missing, a key missing) rather than silently read nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Layout:
    version: int
    email_field: str
    password_field: str
    remember_field: str
    code_field: str
    old_password_field: str
    new_password_field: str
    confirm_password_field: str
    cases_table_id: str
    case_row_attribute: str
    bubble_class: str
    chat_list_id: str
    json_renames: dict[str, str] = field(default_factory=dict)

    def json(self, value: Any) -> Any:
        """`value` with this layout's key names (recursively); version 1 is unchanged."""
        if not self.json_renames:
            return value
        return _rename(value, self.json_renames)


def _rename(value: Any, renames: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {renames.get(k, k): _rename(v, renames) for k, v in value.items()}
    if isinstance(value, list):
        return [_rename(v, renames) for v in value]
    return value


V1 = Layout(
    version=1,
    email_field="Input.Email",
    password_field="Input.Password",
    remember_field="Input.RememberMe",
    code_field="Input.TwoFactorCode",
    old_password_field="Input.OldPassword",
    new_password_field="Input.NewPassword",
    confirm_password_field="Input.ConfirmPassword",
    cases_table_id="cases-table",
    case_row_attribute="data-case-number",
    bubble_class="comment-bubble",
    chat_list_id="chat-messages",
)

V2 = Layout(
    version=2,
    email_field="UserName",
    password_field="Password",
    remember_field="RememberMe",
    code_field="Code",
    old_password_field="CurrentPassword",
    new_password_field="NewPassword",
    confirm_password_field="ConfirmNewPassword",
    cases_table_id="case-list",
    case_row_attribute="data-case-id",
    bubble_class="unread-badge",
    chat_list_id="conversation",
    json_renames={
        "caseNumber": "caseId",
        "patientName": "patient",
        "doctorId": "providerId",
        "doctorName": "providerName",
        "unreadComments": "unreadCount",
        "updatedAt": "lastModified",
        "items": "results",
        "totalCount": "total",
        "userType": "accountType",
        "partnerships": "collaborations",
        "authorRole": "role",
        "setups": "treatmentSetups",
    },
)

LAYOUTS = {1: V1, 2: V2}


def layout(version: int) -> Layout:
    return LAYOUTS[version]
