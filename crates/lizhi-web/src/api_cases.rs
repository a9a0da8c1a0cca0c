//! The case API: the board, opening a case, acting on it, approving, the checklist and one's own tasks.

use crate::AppState;
use crate::api::{ApiResult, ctx};
use crate::caller::{Caller, Lang};
use crate::error::ApiError;
use crate::middleware::RequestId;
use axum::Json;
use axum::extract::{Extension, Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use lizhi_app::case_flow;
use lizhi_app::cases::{self, BoardQuery, Command, OpenCase};
use lizhi_core::case::approval::Decision;
use serde::Deserialize;

/// `GET /api/v1/cases`: cases visible to the caller, newest first (`state`, `case_type`, `legal_entity`, `limit`).
pub async fn list(
    State(s): State<AppState>,
    caller: Caller,
    Lang(l): Lang,
    Extension(rid): Extension<RequestId>,
    Query(q): Query<BoardQuery>,
) -> ApiResult {
    let lines = cases::list(&s.app, &ctx(&caller, &rid), &q).await.map_err(|e| ApiError::from_app(e, l))?;
    let items: Vec<serde_json::Value> = lines
        .into_iter()
        .map(|line| {
            let k = &line.case;
            serde_json::json!({
                "id": k.id, "employee_no": line.employee_no, "employee_name": line.employee_name,
                "legal_entity": line.legal_entity_code, "org_unit": line.org_unit_code, "case_type": k.case_type,
                "state": k.state, "deadline": k.deadline, "effective_on": k.effective_on, "opened_at": k.opened_at,
                "open_items": line.open_items, "overdue_items": line.overdue_items,
            })
        })
        .collect();
    Ok(Json(serde_json::json!({ "items": items })).into_response())
}

/// `POST /api/v1/cases`: opens a case; 201 with the case, 409 when the person already has one in progress.
pub async fn open(
    State(s): State<AppState>,
    caller: Caller,
    Lang(l): Lang,
    Extension(rid): Extension<RequestId>,
    Json(body): Json<OpenCase>,
) -> ApiResult {
    let c = ctx(&caller, &rid);
    let id = cases::open(&s.app, &c, &body).await.map_err(|e| ApiError::from_app(e, l))?;
    let detail = lizhi_app::case_view::get(&s.app, &c, id).await.map_err(|e| ApiError::from_app(e, l))?;
    Ok((StatusCode::CREATED, Json(detail)).into_response())
}

/// `GET /api/v1/cases/{id}`: one case with its timeline, contacts, notices, approvals and checklist.
pub async fn get(
    State(s): State<AppState>,
    caller: Caller,
    Lang(l): Lang,
    Extension(rid): Extension<RequestId>,
    Path(id): Path<i64>,
) -> ApiResult {
    let detail =
        lizhi_app::case_view::get(&s.app, &ctx(&caller, &rid), id).await.map_err(|e| ApiError::from_app(e, l))?;
    Ok(Json(detail).into_response())
}

/// `POST /api/v1/cases/{id}/actions`: one action (`{"action": "confirm_departure"}`, …); 409 with the rule's
/// code when the process does not allow it.
pub async fn act(
    State(s): State<AppState>,
    caller: Caller,
    Lang(l): Lang,
    Extension(rid): Extension<RequestId>,
    Path(id): Path<i64>,
    Json(command): Json<Command>,
) -> ApiResult {
    let c = ctx(&caller, &rid);
    cases::act(&s.app, &c, id, &command).await.map_err(|e| ApiError::from_app(e, l))?;
    let detail = lizhi_app::case_view::get(&s.app, &c, id).await.map_err(|e| ApiError::from_app(e, l))?;
    Ok(Json(detail).into_response())
}

/// Body of an approval decision.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    /// `approve` or `reject`.
    pub decision: String,
    /// Required when rejecting.
    #[serde(default)]
    pub comment: Option<String>,
}

/// `POST /api/v1/cases/{id}/decisions`: the caller's decision on the step waiting on them.
pub async fn decide(
    State(s): State<AppState>,
    caller: Caller,
    Lang(l): Lang,
    Extension(rid): Extension<RequestId>,
    Path(id): Path<i64>,
    Json(body): Json<DecisionBody>,
) -> ApiResult {
    let decision = Decision::parse(&body.decision)
        .ok_or_else(|| ApiError::from_app(lizhi_app::AppError::invalid("decision", "invalid_input"), l))?;
    let c = ctx(&caller, &rid);
    case_flow::decide(&s.app, &c, id, decision, body.comment.as_deref()).await.map_err(|e| ApiError::from_app(e, l))?;
    Ok(Json(serde_json::json!({"case_id": id, "decision": decision.name()})).into_response())
}

/// Body of a checklist update.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemBody {
    /// `done`, `waived` or `open`.
    pub status: String,
    /// What was done; required when waiving.
    #[serde(default)]
    pub note: Option<String>,
}

/// `PUT /api/v1/checklist/{id}`: the owner (or HR) completes, waives or reopens an item.
pub async fn item(
    State(s): State<AppState>,
    caller: Caller,
    Lang(l): Lang,
    Extension(rid): Extension<RequestId>,
    Path(id): Path<i64>,
    Json(body): Json<ItemBody>,
) -> ApiResult {
    case_flow::update_item(&s.app, &ctx(&caller, &rid), id, body.status.trim(), body.note.as_deref())
        .await
        .map_err(|e| ApiError::from_app(e, l))?;
    Ok(Json(serde_json::json!({"id": id, "status": body.status.trim()})).into_response())
}

/// `GET /api/v1/me/tasks`: the caller's open checklist items and pending approvals.
pub async fn my_tasks(
    State(s): State<AppState>,
    caller: Caller,
    Lang(l): Lang,
    Extension(rid): Extension<RequestId>,
) -> ApiResult {
    let tasks = case_flow::my_tasks(&s.app, &ctx(&caller, &rid)).await.map_err(|e| ApiError::from_app(e, l))?;
    Ok(Json(tasks).into_response())
}

/// Query of the message list.
#[derive(Debug, Deserialize, Default)]
pub struct MessagesParams {
    /// How many (1–500, default 100).
    pub limit: Option<i64>,
}

/// `GET /api/v1/me/messages`: the caller's reminders and notices, unread first.
pub async fn my_messages(
    State(s): State<AppState>,
    caller: Caller,
    Lang(l): Lang,
    Extension(rid): Extension<RequestId>,
    Query(p): Query<MessagesParams>,
) -> ApiResult {
    let items = lizhi_app::reminders::inbox(&s.app, &ctx(&caller, &rid), p.limit.unwrap_or(100))
        .await
        .map_err(|e| ApiError::from_app(e, l))?;
    let items: Vec<serde_json::Value> = items
        .into_iter()
        .map(|m| {
            let text = lizhi_app::reminders::message_text(l, &m);
            serde_json::json!({"id": m.id, "kind": m.kind, "case_id": m.case_id, "params": m.params,
                "text": text, "created_at": m.created_at, "read": m.read})
        })
        .collect();
    Ok(Json(serde_json::json!({ "items": items })).into_response())
}

/// `POST /api/v1/me/messages/read`: marks the caller's messages read.
pub async fn read_messages(
    State(s): State<AppState>,
    caller: Caller,
    Lang(l): Lang,
    Extension(rid): Extension<RequestId>,
) -> ApiResult {
    let n = lizhi_app::reminders::mark_read(&s.app, &ctx(&caller, &rid)).await.map_err(|e| ApiError::from_app(e, l))?;
    Ok(Json(serde_json::json!({ "marked": n })).into_response())
}

/// Body of a document request.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentBody {
    /// Letter kind code (`return_to_work_notice`, `union_notice`, `termination_notice`, `public_notice`,
    /// `termination_certificate`, `wage_settlement`).
    pub kind: String,
    /// `zh-CN` or `en`.
    pub lang: String,
    /// Texts on top of what the case supplies (e.g. `hr_contact_phone`, `rule_text`).
    #[serde(default)]
    pub fields: std::collections::BTreeMap<String, String>,
}

/// `POST /api/v1/cases/{id}/documents`: generates a document; 201 with its id and SHA-256.
pub async fn generate_document(
    State(s): State<AppState>,
    caller: Caller,
    Lang(l): Lang,
    Extension(rid): Extension<RequestId>,
    Path(id): Path<i64>,
    Json(body): Json<DocumentBody>,
) -> ApiResult {
    let doc = lizhi_app::case_docs::generate(&s.app, &ctx(&caller, &rid), id, &body.kind, &body.lang, &body.fields)
        .await
        .map_err(|e| ApiError::from_app(e, l))?;
    Ok((StatusCode::CREATED, Json(doc)).into_response())
}

/// Query of a document download.
#[derive(Debug, Deserialize, Default)]
pub struct DocumentParams {
    /// `pdf` (default) or `html` (the print copy).
    pub format: Option<String>,
}

/// `GET /api/v1/documents/{id}`: the stored PDF (or `?format=html`), with its SHA-256 in `x-content-sha256`.
pub async fn document(
    State(s): State<AppState>,
    caller: Caller,
    Lang(l): Lang,
    Extension(rid): Extension<RequestId>,
    Path(id): Path<i64>,
    Query(p): Query<DocumentParams>,
) -> ApiResult {
    let (info, pdf, html) =
        lizhi_app::case_docs::get(&s.app, &ctx(&caller, &rid), id).await.map_err(|e| ApiError::from_app(e, l))?;
    Ok(document_response(&info, pdf, html, p.format.as_deref()))
}

/// The bytes of a stored document as a download.
pub(crate) fn document_response(
    info: &lizhi_app::case_docs::DocumentView,
    pdf: Vec<u8>,
    html: String,
    format: Option<&str>,
) -> axum::response::Response {
    use axum::http::header;
    if format == Some("html") {
        return ([(header::CONTENT_TYPE, "text/html; charset=utf-8".to_owned())], html).into_response();
    }
    let name = format!("case-{}-{}-{}.pdf", info.id, info.kind, info.lang);
    (
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
            (header::HeaderName::from_static("x-content-sha256"), info.sha256.clone()),
        ],
        pdf,
    )
        .into_response()
}

/// Body of a template replacement.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateBody {
    /// The template text; `null` restores the built-in one.
    pub body: Option<String>,
}

/// `PUT /api/v1/document-templates/{kind}/{lang}`: replaces a built-in template after checking it.
pub async fn put_template(
    State(s): State<AppState>,
    caller: Caller,
    Lang(l): Lang,
    Extension(rid): Extension<RequestId>,
    Path((kind, lang)): Path<(String, String)>,
    Json(body): Json<TemplateBody>,
) -> ApiResult {
    lizhi_app::case_docs::put_template(&s.app, &ctx(&caller, &rid), &kind, &lang, body.body.as_deref())
        .await
        .map_err(|e| ApiError::from_app(e, l))?;
    Ok(Json(serde_json::json!({"kind": kind, "lang": lang, "custom": body.body.is_some()})).into_response())
}

/// `GET /api/v1/cases/export`: every case the caller may see, as CSV or XLSX.
pub async fn export(
    State(s): State<AppState>,
    caller: Caller,
    Lang(l): Lang,
    Extension(rid): Extension<RequestId>,
    Query(p): Query<crate::api::ExportParams>,
) -> ApiResult {
    let format = crate::api::export_format(p.format.as_deref(), l)?;
    let bytes = lizhi_app::case_view::export(&s.app, &ctx(&caller, &rid), format)
        .await
        .map_err(|e| ApiError::from_app(e, l))?;
    Ok(crate::api::export_response("cases", format, bytes))
}

/// `GET /api/v1/alumni`: the alumni pool (`q` words in skills or last position, `eligible`, `limit`).
pub async fn alumni(
    State(s): State<AppState>,
    caller: Caller,
    Lang(l): Lang,
    Extension(rid): Extension<RequestId>,
    Query(q): Query<lizhi_app::alumni::AlumniQuery>,
) -> ApiResult {
    let items =
        lizhi_app::alumni::search(&s.app, &ctx(&caller, &rid), &q).await.map_err(|e| ApiError::from_app(e, l))?;
    Ok(Json(serde_json::json!({ "items": items })).into_response())
}

/// Body of an alumni update.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlumnusBody {
    /// Skills, comma-separated (replaces the stored ones).
    #[serde(default)]
    pub skills: Option<String>,
    /// Rehire eligibility.
    #[serde(default)]
    pub rehire_eligible: Option<bool>,
    /// Required when eligibility changes.
    #[serde(default)]
    pub rehire_reason: Option<String>,
}

/// `PUT /api/v1/alumni/{no}`: changes a former employee's skills or rehire eligibility.
pub async fn alumnus_update(
    State(s): State<AppState>,
    caller: Caller,
    Lang(l): Lang,
    Extension(rid): Extension<RequestId>,
    Path(no): Path<String>,
    Json(b): Json<AlumnusBody>,
) -> ApiResult {
    let a = lizhi_app::alumni::update(
        &s.app,
        &ctx(&caller, &rid),
        &no,
        b.skills.as_deref(),
        b.rehire_eligible,
        b.rehire_reason.as_deref(),
    )
    .await
    .map_err(|e| ApiError::from_app(e, l))?;
    Ok(Json(a).into_response())
}

/// `GET /api/v1/approval-chains`: the chain of every case type in force (configured or shipped).
pub async fn chains(
    State(s): State<AppState>,
    caller: Caller,
    Lang(l): Lang,
    Extension(rid): Extension<RequestId>,
) -> ApiResult {
    let items = case_flow::chains(&s.app, &ctx(&caller, &rid)).await.map_err(|e| ApiError::from_app(e, l))?;
    Ok(Json(serde_json::json!({ "items": items })).into_response())
}

/// Body of a chain change.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainBody {
    /// Only for this entity (code); every entity without its own chain when absent.
    #[serde(default)]
    pub legal_entity: Option<String>,
    /// The steps.
    pub chain: lizhi_core::case::approval::Chain,
}

/// `PUT /api/v1/approval-chains/{case_type}`: sets the chain for cases opened from now on.
pub async fn put_chain(
    State(s): State<AppState>,
    caller: Caller,
    Lang(l): Lang,
    Extension(rid): Extension<RequestId>,
    Path(case_type): Path<String>,
    Json(b): Json<ChainBody>,
) -> ApiResult {
    case_flow::set_chain(&s.app, &ctx(&caller, &rid), &case_type, b.legal_entity.as_deref(), &b.chain)
        .await
        .map_err(|e| ApiError::from_app(e, l))?;
    Ok(Json(serde_json::json!({"case_type": case_type, "legal_entity": b.legal_entity})).into_response())
}

/// Query of the asset register.
#[derive(Debug, Deserialize, Default)]
pub struct AssetParams {
    /// Only this holder.
    pub employee_no: Option<String>,
}

/// `GET /api/v1/assets`: the asset register (or one holder's assets).
pub async fn assets(
    State(s): State<AppState>,
    caller: Caller,
    Lang(l): Lang,
    Extension(rid): Extension<RequestId>,
    Query(p): Query<AssetParams>,
) -> ApiResult {
    let items = lizhi_app::assets::list(&s.app, &ctx(&caller, &rid), p.employee_no.as_deref())
        .await
        .map_err(|e| ApiError::from_app(e, l))?;
    Ok(Json(serde_json::json!({ "items": items })).into_response())
}

/// `PUT /api/v1/assets/{tag}`: registers or changes an asset.
pub async fn asset_put(
    State(s): State<AppState>,
    caller: Caller,
    Lang(l): Lang,
    Extension(rid): Extension<RequestId>,
    Path(tag): Path<String>,
    Json(body): Json<lizhi_app::assets::Asset>,
) -> ApiResult {
    let saved = lizhi_app::assets::save(&s.app, &ctx(&caller, &rid), &tag, &body)
        .await
        .map_err(|e| ApiError::from_app(e, l))?;
    Ok(Json(saved).into_response())
}

/// Query of an attachment upload.
#[derive(Debug, Deserialize, Default)]
pub struct AttachParams {
    /// The file's name.
    pub file_name: String,
}

/// `POST /api/v1/checklist/{id}/attachments?file_name=…`: the file is the body (its `Content-Type` is kept).
// Axum handlers take one argument per extractor; the count is the request shape.
#[allow(clippy::too_many_arguments)]
pub async fn attach(
    State(s): State<AppState>,
    caller: Caller,
    Lang(l): Lang,
    Extension(rid): Extension<RequestId>,
    Path(id): Path<i64>,
    Query(p): Query<AttachParams>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult {
    let content_type = headers.get(axum::http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let attachment = case_flow::attach(&s.app, &ctx(&caller, &rid), id, &p.file_name, content_type, &body)
        .await
        .map_err(|e| ApiError::from_app(e, l))?;
    Ok((StatusCode::CREATED, Json(serde_json::json!({"id": attachment}))).into_response())
}

/// `GET /api/v1/attachments/{id}`: an attached file, as a download.
pub async fn attachment(
    State(s): State<AppState>,
    caller: Caller,
    Lang(l): Lang,
    Extension(rid): Extension<RequestId>,
    Path(id): Path<i64>,
) -> ApiResult {
    use axum::http::header;
    let (info, bytes) =
        case_flow::attachment(&s.app, &ctx(&caller, &rid), id).await.map_err(|e| ApiError::from_app(e, l))?;
    let ascii: String =
        info.file_name.chars().map(|c| if c.is_ascii_alphanumeric() || ".-_".contains(c) { c } else { '_' }).collect();
    let disposition =
        format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{}", crate::pages::url_encode(&info.file_name));
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::HeaderName::from_static("x-content-sha256"), info.sha256),
        ],
        bytes,
    )
        .into_response())
}
