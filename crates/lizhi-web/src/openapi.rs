//! The OpenAPI 3.1 document of `/api/v1`, written by hand so that documenting a route is a
//! deliberate act; a test fails when a registered API route is missing here (or vice versa).

use lizhi_core::auth::{Permission, Principal};
use serde_json::{Value, json};

/// Names of the permissions a principal holds (for `/api/v1/me`).
pub fn permissions_of(p: &Principal) -> Vec<&'static str> {
    Permission::ALL.into_iter().filter(|perm| p.can(*perm)).map(Permission::name).collect()
}

struct Op {
    method: &'static str,
    path: &'static str,
    summary: &'static str,
    permission: Option<Permission>,
    query: &'static [(&'static str, &'static str)],
    body: Option<Value>,
    ok: &'static str,
}

fn ops() -> Vec<Op> {
    use Permission::*;
    let grant = json!({"type": "object", "required": ["role"], "properties": {
        "role": {"type": "string", "enum": ["admin","hr","hr_supervisor","manager","it","finance","facilities","auditor"]},
        "org_unit_id": {"type": ["integer", "null"], "description": "required for manager"}}});
    vec![
        Op {
            method: "get",
            path: "/api/v1/me",
            summary: "The caller's account and permissions",
            permission: None,
            query: &[],
            body: None,
            ok: "200",
        },
        Op {
            method: "get",
            path: "/api/v1/legal-entities",
            summary: "List legal entities",
            permission: Some(ViewOrg),
            query: &[],
            body: None,
            ok: "200",
        },
        Op {
            method: "get",
            path: "/api/v1/org-units",
            summary: "List org units visible to the caller, in tree order",
            permission: Some(ViewOrg),
            query: &[],
            body: None,
            ok: "200",
        },
        Op {
            method: "get",
            path: "/api/v1/employees",
            summary: "List employees (keyset pages by employee number, scoped to the caller)",
            permission: Some(ViewEmployees),
            query: &[
                ("q", "name substring or employee-number prefix"),
                ("org_unit", "org unit code: that unit and below"),
                ("legal_entity", "legal entity code"),
                ("status", "active | departed"),
                ("after", "next page cursor"),
                ("before", "previous page cursor"),
                ("limit", "1–200, default 50"),
            ],
            body: None,
            ok: "200",
        },
        Op {
            method: "get",
            path: "/api/v1/employees/{no}",
            summary: "One employee (404 outside the caller's scope)",
            permission: Some(ViewEmployees),
            query: &[],
            body: None,
            ok: "200",
        },
        Op {
            method: "put",
            path: "/api/v1/employees/{no}",
            summary: "Create or change one employee (import rules; missing fields keep their values)",
            permission: Some(EditPeople),
            query: &[],
            body: Some(record_body(&[
                "name",
                "legal_entity",
                "org_unit",
                "manager_no",
                "hire_date",
                "email",
                "mobile",
                "position",
                "contract_address",
                "work_calendar",
            ])),
            ok: "200",
        },
        Op {
            method: "put",
            path: "/api/v1/legal-entities/{code}",
            summary: "Create or change one legal entity",
            permission: Some(EditPeople),
            query: &[],
            body: Some(record_body(&["name", "country", "time_zone", "policy", "scan_time"])),
            ok: "200",
        },
        Op {
            method: "put",
            path: "/api/v1/org-units/{code}",
            summary: "Create or change one org unit (cycles refused)",
            permission: Some(EditPeople),
            query: &[],
            body: Some(record_body(&["name", "parent_code", "legal_entity"])),
            ok: "200",
        },
        Op {
            method: "post",
            path: "/api/v1/imports/{kind}",
            summary: "Check and apply an import file (CSV or XLSX as the raw body), all or nothing",
            permission: Some(ImportData),
            query: &[("dry_run", "true = only check"), ("file_name", "original name; .xlsx selects XLSX")],
            body: Some(
                json!({"content": {"text/csv": {"schema": {"type": "string"}}, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {"schema": {"type": "string", "format": "binary"}}}}),
            ),
            ok: "200",
        },
        Op {
            method: "post",
            path: "/api/v1/punches",
            summary: "Push clock events from attendance devices (all or nothing, idempotent)",
            permission: Some(ImportData),
            query: &[("dry_run", "true = only check")],
            body: Some(json!({"content": {"application/json": {"schema": {"type": "object", "required": ["punches"],
                "properties": {"punches": {"type": "array", "maxItems": 100000, "items": {"type": "object",
                    "required": ["employee_no", "punched_at", "source"], "properties": {
                        "employee_no": {"type": "string"},
                        "punched_at": {"type": "string", "format": "date-time", "description": "RFC 3339 with offset"},
                        "source": {"type": "string"}}}}}}}}})),
            ok: "200",
        },
        Op {
            method: "get",
            path: "/api/v1/risk",
            summary: "Yellow and red employees at the end of a day, with the rules that fired and the facts behind them",
            permission: Some(ViewRisk),
            query: &[("as_of", "YYYY-MM-DD (required)"), ("legal_entity", "legal entity code")],
            body: None,
            ok: "200",
        },
        Op {
            method: "get",
            path: "/api/v1/risk/board",
            summary: "The risk board: alert episodes of the latest stored scans (or of one day), with their status",
            permission: Some(ViewRisk),
            query: &[
                ("as_of", "YYYY-MM-DD; omit for the latest scans"),
                ("legal_entity", "legal entity code"),
                ("org_unit", "org unit code: that unit and below"),
                ("dismissed", "true = include dismissed episodes"),
            ],
            body: None,
            ok: "200",
        },
        Op {
            method: "get",
            path: "/api/v1/risk/scans",
            summary: "Recent daily and manual scans, newest first",
            permission: Some(ViewRisk),
            query: &[("limit", "1–200, default 50")],
            body: None,
            ok: "200",
        },
        Op {
            method: "post",
            path: "/api/v1/risk/scans",
            summary: "Scan one legal entity now and store its alerts",
            permission: Some(ActOnRisk),
            query: &[],
            body: Some(
                json!({"content": {"application/json": {"schema": {"type": "object", "required": ["legal_entity"],
                "properties": {"legal_entity": {"type": "string"},
                    "as_of": {"type": "string", "format": "date", "description": "default: the entity's last complete day"}}}}}}),
            ),
            ok: "200",
        },
        Op {
            method: "get",
            path: "/api/v1/cases",
            summary: "Separation cases visible to the caller, newest first, with open and overdue checklist counts",
            permission: Some(ViewCases),
            query: &[
                ("state", "state name"),
                ("case_type", "type name"),
                ("legal_entity", "entity code"),
                ("limit", "1–1000, default 200"),
            ],
            body: None,
            ok: "200",
        },
        Op {
            method: "post",
            path: "/api/v1/cases",
            summary: "Open a case (absconding, resignation, mutual_agreement, dismissal, contract_expiry, retirement, death); 409 when one is in progress",
            permission: Some(WorkCases),
            query: &[],
            body: Some(
                json!({"content": {"application/json": {"schema": {"type": "object", "required": ["employee_no", "case_type"],
                "properties": {"employee_no": {"type": "string"}, "case_type": {"type": "string"},
                    "first_absent_date": {"type": "string", "format": "date"},
                    "effective_on": {"type": "string", "format": "date", "description": "other types: the planned last day"}}}}}}),
            ),
            ok: "201",
        },
        Op {
            method: "get",
            path: "/api/v1/cases/export",
            summary: "Every case the caller may see as CSV or XLSX (one row per case, with open and overdue checklist counts)",
            permission: Some(ExportData),
            query: &[("format", "csv | xlsx")],
            body: None,
            ok: "200",
        },
        Op {
            method: "get",
            path: "/api/v1/cases/{id}",
            summary: "One case: timeline, contacts, notices with receipts, approvals, checklist",
            permission: Some(ViewCases),
            query: &[],
            body: None,
            ok: "200",
        },
        Op {
            method: "post",
            path: "/api/v1/cases/{id}/actions",
            summary: "Act on a case; refused with 409 and the rule's code when the process does not allow it",
            permission: Some(WorkCases),
            query: &[],
            body: Some(json!({"content": {"application/json": {"schema": {"type": "object", "required": ["action"],
                "properties": {"action": {"type": "string", "enum": ["log_contact", "confirm_departure", "dispatch_notice",
                    "record_receipt", "next_notice", "open_review", "screen_protected_status", "notify_union",
                    "record_union_reply", "serve_termination", "skip", "resolve", "convert_to_resignation", "terminate",
                    "close", "cancel"]},
                    "channel": {"type": "string"}, "outcome": {"type": "string"}, "happened_at": {"type": "string", "format": "date-time"},
                    "note": {"type": "string"}, "method": {"type": "string", "enum": ["in_person", "witnessed_lodging", "post", "electronic", "public_notice"]},
                    "on": {"type": "string", "format": "date"}, "tracking_no": {"type": "string"}, "reason": {"type": "string"},
                    "notice_id": {"type": "integer"}, "protected": {"type": "boolean"}, "step": {"type": "string", "enum": ["return_notice", "union"]},
                    "resolution": {"type": "string", "enum": ["justified", "discipline_only"]},
                    "received_on": {"type": "string", "format": "date"}, "probation": {"type": "boolean"},
                    "effective_on": {"type": "string", "format": "date"}, "rehire_eligible": {"type": "boolean"},
                    "rehire_reason": {"type": "string"}}}}}})),
            ok: "200",
        },
        Op {
            method: "post",
            path: "/api/v1/cases/{id}/decisions",
            summary: "The caller's approval decision on the step waiting on them (any signed-in approver the chain names)",
            permission: None,
            query: &[],
            body: Some(json!({"content": {"application/json": {"schema": {"type": "object", "required": ["decision"],
                "properties": {"decision": {"type": "string", "enum": ["approve", "reject"]},
                    "comment": {"type": "string", "description": "required when rejecting"}}}}}})),
            ok: "200",
        },
        Op {
            method: "put",
            path: "/api/v1/checklist/{id}",
            summary: "Complete, waive (with a note) or reopen a checklist item; its owner or HR",
            permission: None,
            query: &[],
            body: Some(json!({"content": {"application/json": {"schema": {"type": "object", "required": ["status"],
                "properties": {"status": {"type": "string", "enum": ["done", "waived", "open"]}, "note": {"type": "string"}}}}}})),
            ok: "200",
        },
        Op {
            method: "get",
            path: "/api/v1/me/tasks",
            summary: "The caller's open checklist items and pending approvals",
            permission: None,
            query: &[],
            body: None,
            ok: "200",
        },
        Op {
            method: "put",
            path: "/api/v1/users/{id}/employee",
            summary: "Link a user to the employee they are (approval escalation follows the line manager; nobody approves their own case)",
            permission: Some(ManageUsers),
            query: &[],
            body: Some(
                json!({"content": {"application/json": {"schema": {"type": "object", "required": ["employee_no"],
                "properties": {"employee_no": {"type": ["string", "null"]}}}}}}),
            ),
            ok: "200",
        },
        Op {
            method: "post",
            path: "/api/v1/cases/{id}/documents",
            summary: "Generate a case document (PDF archived with its SHA-256, HTML print copy), recorded on the case",
            permission: Some(WorkCases),
            query: &[],
            body: Some(
                json!({"content": {"application/json": {"schema": {"type": "object", "required": ["kind", "lang"],
                "properties": {"kind": {"type": "string", "enum": ["return_to_work_notice", "union_notice", "termination_notice",
                    "public_notice", "termination_certificate", "wage_settlement"]},
                    "lang": {"type": "string", "enum": ["zh-CN", "en"]},
                    "fields": {"type": "object", "additionalProperties": {"type": "string"},
                        "description": "text fields on top of what the case supplies, e.g. hr_contact_phone"}}}}}}),
            ),
            ok: "201",
        },
        Op {
            method: "get",
            path: "/api/v1/documents/{id}",
            summary: "A stored document: the PDF (header x-content-sha256), or its print copy with format=html",
            permission: Some(ViewCases),
            query: &[("format", "pdf | html")],
            body: None,
            ok: "200",
        },
        Op {
            method: "put",
            path: "/api/v1/document-templates/{kind}/{lang}",
            summary: "Replace a built-in letter template (checked first: unknown or missing placeholders are refused); null restores it",
            permission: Some(ManageUsers),
            query: &[],
            body: Some(json!({"content": {"application/json": {"schema": {"type": "object", "required": ["body"],
                "properties": {"body": {"type": ["string", "null"]}}}}}})),
            ok: "200",
        },
        Op {
            method: "get",
            path: "/api/v1/alumni",
            summary: "The alumni pool: former employees by skills, last position and rehire eligibility (within the caller's scope)",
            permission: Some(ViewEmployees),
            query: &[
                ("q", "words in skills or last position"),
                ("eligible", "true | false"),
                ("limit", "1–1000, default 100"),
            ],
            body: None,
            ok: "200",
        },
        Op {
            method: "put",
            path: "/api/v1/alumni/{no}",
            summary: "Change a former employee's skills or rehire eligibility (a change of eligibility needs a reason)",
            permission: Some(EditPeople),
            query: &[],
            body: Some(json!({"content": {"application/json": {"schema": {"type": "object",
                "properties": {"skills": {"type": "string"}, "rehire_eligible": {"type": "boolean"}, "rehire_reason": {"type": "string"}}}}}})),
            ok: "200",
        },
        Op {
            method: "get",
            path: "/api/v1/approval-chains",
            summary: "The approval chain in force for every case type (configured per entity or for all, else the shipped default)",
            permission: Some(ViewCases),
            query: &[],
            body: None,
            ok: "200",
        },
        Op {
            method: "put",
            path: "/api/v1/approval-chains/{case_type}",
            summary: "Set a case type's chain (roles, named users or the department head; any_of / all_of; deadline in workdays) for cases opened from now on",
            permission: Some(ManageUsers),
            query: &[],
            body: Some(json!({"content": {"application/json": {"schema": {"type": "object", "required": ["chain"],
                "properties": {"legal_entity": {"type": "string"}, "chain": {"type": "object", "required": ["steps"],
                "properties": {"steps": {"type": "array", "items": {"type": "object",
                    "required": ["name", "approvers", "mode", "due_workdays"],
                    "properties": {"name": {"type": "string"}, "mode": {"type": "string", "enum": ["any_of", "all_of"]},
                        "due_workdays": {"type": "integer"},
                        "approvers": {"type": "array", "items": {"description": "{\"role\": \"hr_supervisor\"} | {\"user\": \"wang\"} | \"department_head\""}}}}}}}}}}}})),
            ok: "200",
        },
        Op {
            method: "get",
            path: "/api/v1/assets",
            summary: "The asset register (HR, facilities, auditors; not scoped managers), or one holder's assets",
            permission: Some(ViewEmployees),
            query: &[("employee_no", "only this holder")],
            body: None,
            ok: "200",
        },
        Op {
            method: "put",
            path: "/api/v1/assets/{tag}",
            summary: "Register or change an asset; a case's checklist gets one return item per asset its person holds",
            permission: Some(EditPeople),
            query: &[],
            body: Some(
                json!({"content": {"application/json": {"schema": {"type": "object", "required": ["tag", "kind", "description"],
                "properties": {"tag": {"type": "string"}, "kind": {"type": "string", "enum": ["laptop", "phone", "badge", "key", "card", "other"]},
                    "description": {"type": "string"}, "employee_no": {"type": "string"},
                    "assigned_on": {"type": "string", "format": "date"},
                    "status": {"type": "string", "enum": ["in_use", "in_stock", "returned", "lost"]}}}}}}),
            ),
            ok: "200",
        },
        Op {
            method: "post",
            path: "/api/v1/checklist/{id}/attachments",
            summary: "Attach a file to a checklist item (its owner or HR; at most 10 MiB; the body is the file, its SHA-256 is recorded)",
            permission: None,
            query: &[("file_name", "the file's name")],
            body: Some(
                json!({"content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}),
            ),
            ok: "201",
        },
        Op {
            method: "get",
            path: "/api/v1/attachments/{id}",
            summary: "An attached file (header x-content-sha256)",
            permission: Some(ViewCases),
            query: &[],
            body: None,
            ok: "200",
        },
        Op {
            method: "get",
            path: "/api/v1/me/messages",
            summary: "The caller's reminders and notices (message center), unread first, with the text in the caller's language",
            permission: None,
            query: &[("limit", "1–500, default 100")],
            body: None,
            ok: "200",
        },
        Op {
            method: "post",
            path: "/api/v1/me/messages/read",
            summary: "Mark the caller's messages read",
            permission: None,
            query: &[],
            body: None,
            ok: "200",
        },
        Op {
            method: "get",
            path: "/api/v1/exports/{kind}",
            summary: "Export in the import layout",
            permission: Some(ExportData),
            query: &[("format", "csv | xlsx")],
            body: None,
            ok: "200",
        },
        Op {
            method: "get",
            path: "/api/v1/users",
            summary: "List users",
            permission: Some(ManageUsers),
            query: &[],
            body: None,
            ok: "200",
        },
        Op {
            method: "post",
            path: "/api/v1/users",
            summary: "Create a user (omit password to get a one-time password back)",
            permission: Some(ManageUsers),
            query: &[],
            body: Some(
                json!({"content": {"application/json": {"schema": {"type": "object", "required": ["username", "roles"], "properties": {
                "username": {"type": "string"}, "display_name": {"type": "string"}, "password": {"type": "string", "minLength": 10},
                "roles": {"type": "array", "items": grant.clone()}}}}}}),
            ),
            ok: "201",
        },
        Op {
            method: "put",
            path: "/api/v1/users/{id}/roles",
            summary: "Replace a user's roles",
            permission: Some(ManageUsers),
            query: &[],
            body: Some(
                json!({"content": {"application/json": {"schema": {"type": "object", "required": ["roles"], "properties": {"roles": {"type": "array", "items": grant}}}}}}),
            ),
            ok: "200",
        },
        Op {
            method: "put",
            path: "/api/v1/users/{id}/disabled",
            summary: "Disable (ends sessions) or enable a user",
            permission: Some(ManageUsers),
            query: &[],
            body: Some(
                json!({"content": {"application/json": {"schema": {"type": "object", "required": ["disabled"], "properties": {"disabled": {"type": "boolean"}}}}}}),
            ),
            ok: "200",
        },
        Op {
            method: "post",
            path: "/api/v1/users/{id}/tokens",
            summary: "Issue an API token (the secret is returned once)",
            permission: Some(ManageUsers),
            query: &[],
            body: Some(
                json!({"content": {"application/json": {"schema": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}}}}),
            ),
            ok: "201",
        },
        Op {
            method: "get",
            path: "/api/v1/users/{id}/tokens",
            summary: "List a user's tokens (never the secrets)",
            permission: Some(ManageUsers),
            query: &[],
            body: None,
            ok: "200",
        },
        Op {
            method: "delete",
            path: "/api/v1/tokens/{id}",
            summary: "Revoke a token",
            permission: Some(ManageUsers),
            query: &[],
            body: None,
            ok: "204",
        },
        Op {
            method: "get",
            path: "/api/v1/audit",
            summary: "Newest audit events",
            permission: Some(ViewAudit),
            query: &[
                ("entity_type", "e.g. employee"),
                ("entity_key", "e.g. an employee number"),
                ("before", "older than this position"),
                ("limit", "≤ 500"),
            ],
            body: None,
            ok: "200",
        },
        Op {
            method: "get",
            path: "/api/v1/connectors",
            summary: "Configured connectors (directories, SCIM apps, WeCom, webhooks, manual systems) in revocation order; secrets are never returned, only has_secret",
            permission: Some(ManageUsers),
            query: &[],
            body: None,
            ok: "200",
        },
        Op {
            method: "put",
            path: "/api/v1/connectors/{code}",
            summary: "Create or change a connector; `secret` is sealed under the instance secret and write-only; settings must not hold secrets",
            permission: Some(ManageUsers),
            query: &[],
            body: Some(
                json!({"content": {"application/json": {"schema": {"type": "object", "required": ["kind", "name"],
                "properties": {"kind": {"type": "string", "enum": ["ldap", "scim", "manual", "webhook", "wecom"]},
                "name": {"type": "string"}, "settings": {"type": "object"}, "secret": {"type": "string"},
                "revoke_order": {"type": "integer"}, "enabled": {"type": "boolean"}}}}}}),
            ),
            ok: "200",
        },
        Op {
            method: "get",
            path: "/api/v1/employees/{no}/identities",
            summary: "The person's accounts in each connector (WeCom userid, SCIM id, LDAP DN), in revocation order",
            permission: Some(ViewEmployees),
            query: &[],
            body: None,
            ok: "200",
        },
        Op {
            method: "put",
            path: "/api/v1/employees/{no}/identities/{system}",
            summary: "Register the person's account in one connector, with the rules of the identities import (an account belongs to one person)",
            permission: Some(EditPeople),
            query: &[],
            body: Some(
                json!({"content": {"application/json": {"schema": {"type": "object", "required": ["account_id"],
                "properties": {"account_id": {"type": "string"}, "user_name": {"type": "string"}}}}}}),
            ),
            ok: "200",
        },
        Op {
            method: "delete",
            path: "/api/v1/employees/{no}/identities/{system}",
            summary: "Forget the person's account in one connector",
            permission: Some(EditPeople),
            query: &[],
            body: None,
            ok: "204",
        },
        Op {
            method: "get",
            path: "/api/v1/audit/log",
            summary: "The tamper-evident log: events written, events covered by the newest signed checkpoint, that checkpoint (C2SP tlog-checkpoint) and the verifier keys",
            permission: Some(ViewAudit),
            query: &[],
            body: None,
            ok: "200",
        },
        Op {
            method: "get",
            path: "/api/v1/cases/{id}/evidence",
            summary: "The case's evidence bundle (zip): events, commitment openings, documents, inclusion and consistency proofs, checkpoints, timestamps, keys and VERIFY.md; see docs/evidence.md",
            permission: Some(ViewAudit),
            query: &[],
            body: None,
            ok: "200",
        },
        Op {
            method: "get",
            path: "/api/v1/employees/{no}/evidence",
            summary: "One person's evidence bundle (zip): every case of theirs and every event about them",
            permission: Some(ViewAudit),
            query: &[],
            body: None,
            ok: "200",
        },
    ]
}

/// A JSON body whose properties are import columns (strings; null or "" clears an optional one).
fn record_body(columns: &[&str]) -> Value {
    let props: serde_json::Map<String, Value> =
        columns.iter().map(|c| ((*c).to_owned(), json!({"type": ["string", "null"]}))).collect();
    json!({"content": {"application/json": {"schema": {"type": "object", "properties": props}}}})
}

/// The whole document.
pub fn document() -> Value {
    let mut paths = serde_json::Map::new();
    for op in ops() {
        let mut params: Vec<Value> = op
            .path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        params.extend(op.query.iter().map(|(name, d)| json!({"name": name, "in": "query", "required": false, "description": d, "schema": {"type": "string"}})));
        let mut operation = json!({
            "summary": op.summary,
            "parameters": params,
            "security": [{"bearer": []}, {"session": []}],
            "x-permission": op.permission.map(Permission::name),
            "responses": {
                op.ok: {"description": "success"},
                "401": {"$ref": "#/components/responses/Error"},
                "403": {"$ref": "#/components/responses/Error"},
                "404": {"$ref": "#/components/responses/Error"},
                "422": {"$ref": "#/components/responses/Error"}
            }
        });
        if let Some(body) = op.body {
            operation["requestBody"] = body;
        }
        let entry = paths.entry(op.path.to_owned()).or_insert_with(|| json!({}));
        entry[op.method] = operation;
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": "Lizhi API", "version": env!("CARGO_PKG_VERSION"),
                 "description": "Offboarding-centred HR system. Errors: {\"error\": {\"code\", \"message\", \"field\"}} with stable codes; messages follow Accept-Language (zh-CN, en)."},
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "API token (lzt_…) issued by an admin"},
                "session": {"type": "apiKey", "in": "cookie", "name": crate::SESSION_COOKIE, "description": "browser session; unsafe methods also need the X-CSRF-Token header"}
            },
            "responses": {"Error": {"description": "error", "content": {"application/json": {"schema": {"type": "object", "properties": {
                "error": {"type": "object", "properties": {"code": {"type": "string"}, "message": {"type": "string"}, "field": {"type": ["string", "null"]}}}}}}}}}
        }
    })
}
