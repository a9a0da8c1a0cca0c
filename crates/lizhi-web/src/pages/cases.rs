//! The case board (columns by state, counts, overdue markers) and one case with the forms of its next steps,
//! its approvals and its checklist. Every form posts to the same use cases as the API; a refused step shows the
//! case again with the rule's message.
#![allow(clippy::too_many_arguments)]

use super::*;
use lizhi_app::case_view::{self, CaseDetail};
use lizhi_app::cases::{self, BoardQuery, Command};
use lizhi_app::{case_flow, i18n::t};
use lizhi_core::case::approval::Decision;
use lizhi_core::case::{CaseState, CaseType};

/// One card on the board.
pub struct CaseCard {
    pub id: i64,
    pub employee_no: String,
    pub name: String,
    pub org_unit: String,
    pub case_type: String,
    pub deadline: String,
    pub overdue: bool,
    pub items: String,
}

/// One board column.
pub struct Column {
    pub state: &'static str,
    pub label: String,
    pub count: usize,
    pub cards: Vec<CaseCard>,
}

/// `/cases`.
#[derive(Template)]
#[template(path = "cases.html")]
pub struct CasesPage {
    pub chrome: Chrome,
    pub columns: Vec<Column>,
    pub types: Vec<(&'static str, String, bool)>,
    pub empty: bool,
    pub can_export: bool,
}

/// Cards shown per column; the count says how many there are in all.
const CARDS_PER_COLUMN: usize = 50;

/// Query of the board.
#[derive(Debug, serde::Deserialize, Default)]
pub struct CasesParams {
    case_type: Option<String>,
}

/// The board: one column per state that holds cases, newest first, overdue ones marked.
pub async fn cases_board(
    State(s): State<AppState>,
    Lang(l): Lang,
    caller: Caller,
    Extension(rid): Extension<RequestId>,
    Query(p): Query<CasesParams>,
) -> Response {
    let c = ctx(&caller, &rid);
    let query = BoardQuery {
        case_type: p.case_type.clone().filter(|t| !t.is_empty()),
        limit: Some(1000),
        ..Default::default()
    };
    let lines = match cases::list(&s.app, &c, &query).await {
        Ok(lines) => lines,
        Err(e) => return app_error_page(e, l, &caller),
    };
    let today = s.app.clock.now().date_naive();
    let mut columns = Vec::new();
    for state in CaseState::ALL {
        let here: Vec<_> = lines.iter().filter(|x| x.case.state == state.name()).collect();
        if here.is_empty() {
            continue;
        }
        let cards = here
            .iter()
            .take(CARDS_PER_COLUMN)
            .map(|x| CaseCard {
                id: x.case.id,
                employee_no: x.employee_no.clone(),
                name: x.employee_name.clone(),
                org_unit: x.org_unit_code.clone(),
                case_type: t(l, &format!("case-type-{}", x.case.case_type)),
                deadline: x.case.deadline.map(|d| d.to_string()).unwrap_or_default(),
                overdue: x.overdue_items > 0 || x.case.deadline.is_some_and(|d| d < today),
                items: if x.open_items > 0 {
                    i18n::t_args(
                        l,
                        "case-items-open",
                        &[("open", &x.open_items.to_string()), ("overdue", &x.overdue_items.to_string())],
                    )
                } else {
                    String::new()
                },
            })
            .collect();
        columns.push(Column {
            state: state.name(),
            label: t(l, &format!("case-state-{}", state.name())),
            count: here.len(),
            cards,
        });
    }
    let selected = p.case_type.as_deref().unwrap_or("");
    render(&CasesPage {
        chrome: chrome(l, Some(&caller), "cases-title", "/cases"),
        empty: columns.is_empty(),
        can_export: caller.principal.can(Permission::ExportData),
        columns,
        types: CaseType::ALL
            .iter()
            .map(|k| (k.name(), t(l, &format!("case-type-{}", k.name())), k.name() == selected))
            .collect(),
    })
}

/// `/cases/{id}`.
#[derive(Template)]
#[template(path = "case.html")]
pub struct CasePage {
    pub chrome: Chrome,
    pub case: CaseDetail,
    pub state_label: String,
    pub type_label: String,
    pub error: String,
    pub can_decide: bool,
    /// Whether the evidence bundle button is shown (auditors and HR supervisors).
    pub can_export_evidence: bool,
    /// Access actions, system by system.
    pub access: Vec<super::access::AccessLine>,
    /// Whether some still wait for a worker (the script then reloads the table).
    pub access_pending: bool,
    /// Who the case's events were sent to.
    pub told: Vec<super::access::ToldLine>,
    /// Whether the caller may ask for a freeze or a revocation.
    pub can_request_access: bool,
    /// Actions offered in this state.
    pub offers: Vec<&'static str>,
    pub channels: Vec<(&'static str, String)>,
    pub outcomes: Vec<(&'static str, String)>,
    pub methods: Vec<(&'static str, String)>,
    pub receipts: Vec<(&'static str, String)>,
    pub today: String,
    /// Notices still waiting for a receipt: (id, label).
    pub open_notices: Vec<(i64, String)>,
    /// (category label, items)
    pub checklist: Vec<(String, Vec<ItemLine>)>,
    /// Letter kinds that can be generated: (code, title).
    pub letter_kinds: Vec<(&'static str, String)>,
    /// Event and contact times in the entity's zone, in the order of `case.events` then `case.contacts`.
    pub local: (Vec<String>, Vec<String>),
}

/// The case's instants as local `YYYY-MM-DD HH:MM` in its legal entity's time zone.
fn local_times(case: &CaseDetail) -> (Vec<String>, Vec<String>) {
    let tz: chrono_tz::Tz = case.time_zone.parse().unwrap_or(chrono_tz::UTC);
    let fmt = |t: &chrono::DateTime<chrono::Utc>| t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string();
    (case.events.iter().map(|e| fmt(&e.at)).collect(), case.contacts.iter().map(|c| fmt(&c.happened_at)).collect())
}

/// One checklist line.
pub struct ItemLine {
    pub id: i64,
    pub title: String,
    pub owner: String,
    pub due: String,
    pub overdue: bool,
    pub status: String,
    pub status_label: String,
    pub note: String,
    pub can_edit: bool,
    pub attachments: Vec<lizhi_app::case_view::AttachmentView>,
}

/// Which forms a state offers (the server still checks every rule).
fn offers(state: &str, case_type: &str) -> Vec<&'static str> {
    let absconding = case_type == "absconding";
    let mut out: Vec<&'static str> = match state {
        "contacting" => vec!["log_contact", "confirm_departure"],
        "return_notice_serving" => vec!["dispatch_notice", "record_receipt", "log_contact", "skip"],
        "awaiting_return" => vec!["next_notice", "open_review", "log_contact"],
        "case_review" => vec!["screen_protected_status", "notify_union", "skip"],
        "union_notified" => vec!["record_union_reply", "serve_termination"],
        "termination_serving" => vec!["dispatch_notice", "record_receipt"],
        "public_notice" => vec!["record_receipt"],
        "approved" => vec!["terminate"],
        "terminated" => vec!["close"],
        _ => vec![],
    };
    let before_termination = !matches!(state, "terminated" | "closed" | "returned" | "converted" | "cancelled");
    if absconding && before_termination {
        out.extend(["resolve", "convert_to_resignation"]);
    }
    if before_termination {
        out.push("cancel");
    }
    out
}

fn choices(l: Locale, prefix: &str, names: &[&'static str]) -> Vec<(&'static str, String)> {
    names.iter().map(|n| (*n, t(l, &format!("{prefix}-{n}")))).collect()
}

async fn case_page(
    s: &AppState,
    l: Locale,
    caller: &Caller,
    rid: &RequestId,
    id: i64,
    error: Option<AppError>,
) -> Response {
    let c = ctx(caller, rid);
    let case = match case_view::get(&s.app, &c, id).await {
        Ok(case) => case,
        Err(e) => return app_error_page(e, l, caller),
    };
    let today = s.app.clock.now().date_naive();
    let can_work = caller.principal.can(Permission::WorkCases);
    let me = caller.principal.username.clone();
    let can_decide = case.approvals.iter().any(|step| {
        step.activated_on.is_some()
            && step.assignees.iter().any(|a| a.trim_end_matches(" ↑") == me)
            && !step.decisions.iter().any(|d| d.user == me || d.decision == "reject")
            && !(step.mode == "any_of" && step.decisions.iter().any(|d| d.decision == "approve"))
    });
    let mut groups: Vec<(String, Vec<ItemLine>)> = Vec::new();
    for item in &case.checklist {
        let label = t(l, &format!("checklist-category-{}", item.category));
        let line = ItemLine {
            id: item.id,
            title: match &item.label {
                Some(extra) => format!("{} · {extra}", t(l, &format!("checklist-{}", item.key))),
                None => t(l, &format!("checklist-{}", item.key)),
            },
            owner: item.owner.clone().unwrap_or_else(|| t(l, "case-unassigned")),
            due: item.due_on.map(|d| d.to_string()).unwrap_or_else(|| t(l, "case-due-at-termination")),
            overdue: item.status == "open" && item.due_on.is_some_and(|d| d < today),
            status_label: t(l, &format!("checklist-status-{}", item.status)),
            status: item.status.clone(),
            note: item.note.clone().unwrap_or_default(),
            can_edit: can_work || item.owner.as_deref() == Some(me.as_str()),
            attachments: item.attachments.clone(),
        };
        match groups.iter_mut().find(|(g, _)| *g == label) {
            Some((_, lines)) => lines.push(line),
            None => groups.push((label, vec![line])),
        }
    }
    let open_notices = case
        .notices
        .iter()
        .filter(|n| n.receipt_outcome.is_none())
        .map(|n| {
            (
                n.id,
                format!(
                    "{} · {} · {}",
                    t(l, &format!("notice-{}", n.kind)),
                    t(l, &format!("method-{}", n.method)),
                    n.dispatched_on
                ),
            )
        })
        .collect();
    let (status, error) = match error {
        Some(e) => {
            let api = ApiError::from_app(e, l);
            (api.status, api.message())
        }
        None => (StatusCode::OK, String::new()),
    };
    let access = super::access::lines(s, l, &c, id).await;
    let told = super::access::told(s, l, &c, id).await;
    let page = CasePage {
        told,
        chrome: chrome(l, Some(caller), "case-title", "/cases"),
        access_pending: super::access::pending(&access),
        access,
        can_request_access: can_work && case.closed_at.is_none(),
        state_label: t(l, &format!("case-state-{}", case.state)),
        type_label: t(l, &format!("case-type-{}", case.case_type)),
        offers: if can_work {
            let mut o = offers(&case.state, &case.case_type);
            // Only steps the policy switched off can be skipped; the form offers no others.
            if case.skippable_steps.is_empty() {
                o.retain(|a| *a != "skip");
            }
            o
        } else {
            Vec::new()
        },
        local: local_times(&case),
        error,
        can_decide,
        can_export_evidence: caller.principal.can(Permission::ViewAudit),
        channels: choices(l, "channel", &["phone", "wecom", "sms", "email", "visit", "other"]),
        outcomes: choices(l, "outcome", &["no_answer", "message_left", "reached", "refused"]),
        methods: choices(l, "method", &["post", "in_person", "witnessed_lodging", "electronic", "public_notice"]),
        receipts: choices(l, "receipt", &["signed", "refused", "lodged", "undeliverable", "deemed_served"]),
        today: today.to_string(),
        open_notices,
        checklist: groups,
        letter_kinds: lizhi_docs::letters::LetterKind::ALL
            .iter()
            .map(|k| (k.code(), t(l, &format!("letter-{}", k.code()))))
            .collect(),
        case,
    };
    (status, render(&page)).into_response()
}

/// After a form on the case page: back to the case (at `anchor`), or the case again with the rule's message;
/// a case the caller may not see is "not found".
pub(super) async fn after_step(
    s: &AppState,
    l: Locale,
    caller: &Caller,
    rid: &RequestId,
    id: i64,
    outcome: Result<(), AppError>,
    anchor: &str,
) -> Response {
    match outcome {
        Ok(()) => Redirect::to(&format!("/cases/{id}{anchor}")).into_response(),
        Err(AppError::NotFound) => error_page(l, Some(caller), StatusCode::NOT_FOUND, "not_found"),
        Err(e) => case_page(s, l, caller, rid, id, Some(e)).await,
    }
}

/// One case.
pub async fn case_detail(
    State(s): State<AppState>,
    Lang(l): Lang,
    caller: Caller,
    Extension(rid): Extension<RequestId>,
    Path(id): Path<i64>,
) -> Response {
    case_page(&s, l, &caller, &rid, id, None).await
}

/// A form's fields as the API's JSON: numbers and booleans where the API expects them, empty fields left out.
fn command_json(pairs: &[(String, String)]) -> serde_json::Value {
    let mut map = serde_json::Map::new();
    for (k, v) in pairs {
        let v = v.trim();
        if k == "csrf" || v.is_empty() {
            continue;
        }
        let value = match k.as_str() {
            "notice_id" => v.parse::<i64>().map(Into::into).unwrap_or_else(|_| v.into()),
            "protected" | "probation" | "rehire_eligible" => (v == "true").into(),
            _ => v.into(),
        };
        map.insert(k.clone(), value);
    }
    serde_json::Value::Object(map)
}

/// A step posted from the case page.
pub async fn case_act(
    State(s): State<AppState>,
    Lang(l): Lang,
    caller: Caller,
    Extension(rid): Extension<RequestId>,
    Path(id): Path<i64>,
    body: Bytes,
) -> Response {
    let pairs = form_pairs(&body);
    let outcome = match serde_json::from_value::<Command>(command_json(&pairs)) {
        Ok(command) => cases::act(&s.app, &ctx(&caller, &rid), id, &command).await,
        Err(_) => Err(AppError::invalid("action", "invalid_input")),
    };
    after_step(&s, l, &caller, &rid, id, outcome, "").await
}

/// An approval decision posted from the case page (a phone is enough).
pub async fn case_decide(
    State(s): State<AppState>,
    Lang(l): Lang,
    caller: Caller,
    Extension(rid): Extension<RequestId>,
    Path(id): Path<i64>,
    body: Bytes,
) -> Response {
    let f = form(&body);
    let Some(decision) = Decision::parse(&f("decision")) else {
        return error_page(l, Some(&caller), StatusCode::UNPROCESSABLE_ENTITY, "invalid_input");
    };
    let comment = f("comment");
    let outcome = case_flow::decide(&s.app, &ctx(&caller, &rid), id, decision, Some(&comment)).await;
    after_step(&s, l, &caller, &rid, id, outcome, "").await
}

/// A checklist item completed, waived or reopened from the case page.
pub async fn checklist_update(
    State(s): State<AppState>,
    Lang(l): Lang,
    caller: Caller,
    Extension(rid): Extension<RequestId>,
    Path(id): Path<i64>,
    body: Bytes,
) -> Response {
    let f = form(&body);
    let Ok(case_id) = f("case").parse::<i64>() else {
        return error_page(l, Some(&caller), StatusCode::UNPROCESSABLE_ENTITY, "invalid_input");
    };
    let note = f("note");
    let outcome = case_flow::update_item(&s.app, &ctx(&caller, &rid), id, &f("status"), Some(&note)).await;
    after_step(&s, l, &caller, &rid, case_id, outcome, "").await
}

/// Opens an absconding case from the risk page and shows it.
pub async fn case_open(
    State(s): State<AppState>,
    Lang(l): Lang,
    caller: Caller,
    Extension(rid): Extension<RequestId>,
    body: Bytes,
) -> Response {
    let f = form(&body);
    let kind = f("case_type");
    let input = cases::OpenCase {
        employee_no: f("employee_no"),
        case_type: if kind.is_empty() { "absconding".into() } else { kind },
        first_absent_date: chrono::NaiveDate::parse_from_str(&f("first_absent_date"), "%Y-%m-%d").ok(),
        effective_on: chrono::NaiveDate::parse_from_str(&f("effective_on"), "%Y-%m-%d").ok(),
    };
    match cases::open(&s.app, &ctx(&caller, &rid), &input).await {
        Ok(id) => Redirect::to(&format!("/cases/{id}")).into_response(),
        Err(e) => app_error_page(e, l, &caller),
    }
}

/// Generates a document from the case page.
pub async fn case_document(
    State(s): State<AppState>,
    Lang(l): Lang,
    caller: Caller,
    Extension(rid): Extension<RequestId>,
    Path(id): Path<i64>,
    body: Bytes,
) -> Response {
    let pairs = form_pairs(&body);
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
    let fields: std::collections::BTreeMap<String, String> = pairs
        .iter()
        .filter(|(k, v)| !matches!(k.as_str(), "csrf" | "kind" | "lang") && !v.trim().is_empty())
        .cloned()
        .collect();
    let outcome = lizhi_app::case_docs::generate(&s.app, &ctx(&caller, &rid), id, &get("kind"), &get("lang"), &fields)
        .await
        .map(|_| ());
    after_step(&s, l, &caller, &rid, id, outcome, "#documents").await
}

/// Query of a document download.
#[derive(Debug, serde::Deserialize, Default)]
pub struct DocumentParams {
    format: Option<String>,
}

/// A stored document (PDF, or the print copy with `?format=html`).
pub async fn document_download(
    State(s): State<AppState>,
    Lang(l): Lang,
    caller: Caller,
    Extension(rid): Extension<RequestId>,
    Path(id): Path<i64>,
    Query(p): Query<DocumentParams>,
) -> Response {
    match lizhi_app::case_docs::get(&s.app, &ctx(&caller, &rid), id).await {
        Ok((info, pdf, html)) => crate::api_cases::document_response(&info, pdf, html, p.format.as_deref()),
        Err(e) => app_error_page(e, l, &caller),
    }
}
