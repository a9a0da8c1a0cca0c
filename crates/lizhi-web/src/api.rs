//! JSON API handlers under `/api/v1`.
// Axum handlers take one argument per extractor; the count is the request shape, not a smell.
#![allow(clippy::too_many_arguments)]

use crate::AppState;
use crate::caller::{Caller, Lang};
use crate::error::ApiError;
use crate::forms::{DisabledBody, GrantsBody, NewUserBody, TokenBody};
use crate::middleware::RequestId;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, MatchedPath, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use lizhi_app::import::{self, ImportKind, NoProgress};
use lizhi_app::people::{self, EmployeeQuery};
use lizhi_app::{Ctx, auth, export};
use lizhi_core::model::EmployeeStatus;
use lizhi_docs::FileFormat;
use serde::Deserialize;
use std::sync::atomic::Ordering;

pub(crate) type ApiResult = Result<Response, ApiError>;

pub(crate) fn ctx(caller: &Caller, rid: &RequestId) -> Ctx {
    Ctx::user(caller.principal.clone(), rid.0.clone())
}

/// Liveness and database reachability.
pub async fn healthz(State(state): State<AppState>) -> Response {
    match state.app.db.ping().await {
        Ok(()) => Json(serde_json::json!({"status": "ok"})).into_response(),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, Json(serde_json::json!({"status": "database_unavailable"})))
            .into_response(),
    }
}

/// Prometheus text exposition of the request counters.
pub async fn metrics(State(state): State<AppState>) -> Response {
    let m = &state.metrics;
    let body = format!(
        "# HELP lizhi_http_requests_total HTTP requests served.\n# TYPE lizhi_http_requests_total counter\n\
         lizhi_http_requests_total {}\n\
         # HELP lizhi_http_server_errors_total Responses with a 5xx status.\n# TYPE lizhi_http_server_errors_total counter\n\
         lizhi_http_server_errors_total {}\n\
         # HELP lizhi_http_request_duration_seconds_sum Total time spent serving requests.\n# TYPE lizhi_http_request_duration_seconds_sum counter\n\
         lizhi_http_request_duration_seconds_sum {:.6}\n\
         # HELP lizhi_failed_logins_total Failed sign-in attempts.\n# TYPE lizhi_failed_logins_total counter\n\
         lizhi_failed_logins_total {}\n",
        m.requests.load(Ordering::Relaxed),
        m.server_errors.load(Ordering::Relaxed),
        m.duration_micros.load(Ordering::Relaxed) as f64 / 1e6,
        m.failed_logins.load(Ordering::Relaxed),
    );
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}

/// The OpenAPI document.
pub async fn openapi() -> Response {
    Json(crate::openapi::document()).into_response()
}

/// The caller's own account.
pub async fn me(caller: Caller) -> Response {
    Json(serde_json::json!({"user": caller.user, "permissions": crate::openapi::permissions_of(&caller.principal)}))
        .into_response()
}

/// Every legal entity.
pub async fn legal_entities(
    State(s): State<AppState>,
    caller: Caller,
    Lang(l): Lang,
    Extension(rid): Extension<RequestId>,
) -> ApiResult {
    let items = people::list_entities(&s.app, &ctx(&caller, &rid)).await.map_err(|e| ApiError::from_app(e, l))?;
    Ok(Json(serde_json::json!({"items": items})).into_response())
}

/// Visible org units.
pub async fn org_units(
    State(s): State<AppState>,
    caller: Caller,
    Lang(l): Lang,
    Extension(rid): Extension<RequestId>,
) -> ApiResult {
    let items = people::list_org_units(&s.app, &ctx(&caller, &rid)).await.map_err(|e| ApiError::from_app(e, l))?;
    Ok(Json(serde_json::json!({"items": items})).into_response())
}

/// Query string of the employee list.
#[derive(Debug, Deserialize, Default)]
pub struct ListParams {
    /// Search text.
    pub q: Option<String>,
    /// Org unit code.
    pub org_unit: Option<String>,
    /// Legal entity code.
    pub legal_entity: Option<String>,
    /// Status filter.
    pub status: Option<String>,
    /// Cursor.
    pub after: Option<String>,
    /// Cursor.
    pub before: Option<String>,
    /// Page size.
    pub limit: Option<usize>,
    /// `1` = only the table (pages' live search).
    pub partial: Option<String>,
}

impl ListParams {
    /// The use-case query; an unknown status is an error, not a silent "all".
    pub fn to_query(&self) -> Result<EmployeeQuery, lizhi_app::AppError> {
        let status = match self.status.as_deref().filter(|s| !s.is_empty()) {
            None => None,
            Some(s) => Some(EmployeeStatus::parse(s).ok_or(lizhi_app::AppError::invalid("status", "invalid_input"))?),
        };
        Ok(EmployeeQuery {
            q: self.q.clone(),
            org_unit: self.org_unit.clone(),
            legal_entity: self.legal_entity.clone(),
            status,
            after: self.after.clone(),
            before: self.before.clone(),
            limit: self.limit,
        })
    }
}

/// A page of employees.
pub async fn employees(
    State(s): State<AppState>,
    caller: Caller,
    Lang(l): Lang,
    Extension(rid): Extension<RequestId>,
    Query(p): Query<ListParams>,
) -> ApiResult {
    let q = p.to_query().map_err(|e| ApiError::from_app(e, l))?;
    let page = people::list_employees(&s.app, &ctx(&caller, &rid), &q).await.map_err(|e| ApiError::from_app(e, l))?;
    Ok(Json(page).into_response())
}

/// One employee.
pub async fn employee(
    State(s): State<AppState>,
    caller: Caller,
    Lang(l): Lang,
    Extension(rid): Extension<RequestId>,
    Path(no): Path<String>,
) -> ApiResult {
    let e = people::get_employee(&s.app, &ctx(&caller, &rid), &no).await.map_err(|e| ApiError::from_app(e, l))?;
    Ok(Json(e).into_response())
}

/// Query string of an import.
#[derive(Debug, Deserialize, Default)]
pub struct ImportParams {
    /// Only check, write nothing.
    #[serde(default)]
    pub dry_run: bool,
    /// File name (decides CSV vs XLSX when the content type does not).
    pub file_name: Option<String>,
}

/// Checks and applies an import file sent as the raw body.
pub async fn import(
    State(s): State<AppState>,
    caller: Caller,
    Lang(l): Lang,
    Extension(rid): Extension<RequestId>,
    Path(kind): Path<String>,
    Query(p): Query<ImportParams>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let kind = ImportKind::parse(&kind).ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "not_found", l))?;
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let name = p.file_name.unwrap_or_else(|| {
        if content_type.contains("spreadsheetml") { "upload.xlsx".into() } else { "upload.csv".into() }
    });
    let report = import::run(&s.app, &ctx(&caller, &rid), kind, &name, &body, !p.dry_run, &NoProgress)
        .await
        .map_err(|e| ApiError::from_app(e, l))?;
    Ok(report_response(l, &report))
}

/// An import report as JSON, each error with its translated message; 422 when rejected.
fn report_response(l: lizhi_app::i18n::Locale, report: &import::ImportReport) -> Response {
    let errors: Vec<_> = report
        .errors
        .iter()
        .map(|e| {
            let mut v = serde_json::to_value(e).unwrap_or_default();
            v["message"] = lizhi_app::i18n::error_message(l, &e.code, e.column.as_deref(), e.value.as_deref()).into();
            v
        })
        .collect();
    let mut json = serde_json::to_value(report).unwrap_or_default();
    json["errors"] = errors.into();
    let status = if report.is_clean() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    (status, Json(json)).into_response()
}

/// Query string of an export.
#[derive(Debug, Deserialize, Default)]
pub struct ExportParams {
    /// `csv` (default) or `xlsx`.
    pub format: Option<String>,
}

/// Renders an export as a download.
pub async fn export(
    State(s): State<AppState>,
    caller: Caller,
    Lang(l): Lang,
    Extension(rid): Extension<RequestId>,
    Path(kind): Path<String>,
    Query(p): Query<ExportParams>,
) -> ApiResult {
    download(&s, &ctx(&caller, &rid), l, &kind, p.format.as_deref()).await
}

/// Shared by the API and the page route.
pub async fn download(
    s: &AppState,
    ctx: &Ctx,
    l: lizhi_app::i18n::Locale,
    kind: &str,
    format: Option<&str>,
) -> ApiResult {
    let kind = ImportKind::parse(kind).ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "not_found", l))?;
    let format = export_format(format, l)?;
    let bytes = export::export(&s.app, ctx, kind, format).await.map_err(|e| ApiError::from_app(e, l))?;
    Ok(export_response(kind.name(), format, bytes))
}

/// The `format` of an export (`csv` when absent, or `xlsx`).
pub(crate) fn export_format(raw: Option<&str>, l: lizhi_app::i18n::Locale) -> Result<FileFormat, ApiError> {
    match raw.unwrap_or("csv") {
        "csv" => Ok(FileFormat::Csv),
        "xlsx" => Ok(FileFormat::Xlsx),
        _ => Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "unsupported_format", l)),
    }
}

/// An export file as a download named `<name>.<csv|xlsx>`.
pub(crate) fn export_response(name: &str, format: FileFormat, bytes: Vec<u8>) -> Response {
    let disposition = format!("attachment; filename=\"{name}.{}\"", format.extension());
    ([(header::CONTENT_TYPE, format.content_type().to_owned()), (header::CONTENT_DISPOSITION, disposition)], bytes)
        .into_response()
}

/// Every user.
pub async fn users(
    State(s): State<AppState>,
    caller: Caller,
    Lang(l): Lang,
    Extension(rid): Extension<RequestId>,
) -> ApiResult {
    let items = auth::list_users(&s.app, &ctx(&caller, &rid)).await.map_err(|e| ApiError::from_app(e, l))?;
    Ok(Json(serde_json::json!({"items": items})).into_response())
}

/// Creates a user; the generated password (if any) is in the response once.
pub async fn user_create(
    State(s): State<AppState>,
    caller: Caller,
    Lang(l): Lang,
    Extension(rid): Extension<RequestId>,
    Json(body): Json<NewUserBody>,
) -> ApiResult {
    let new = body.into_new_user().map_err(|e| ApiError::from_app(e, l))?;
    let created = auth::create_user(&s.app, &ctx(&caller, &rid), new).await.map_err(|e| ApiError::from_app(e, l))?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

/// Replaces a user's roles.
pub async fn user_roles(
    State(s): State<AppState>,
    caller: Caller,
    Lang(l): Lang,
    Extension(rid): Extension<RequestId>,
    Path(id): Path<i64>,
    Json(body): Json<GrantsBody>,
) -> ApiResult {
    let grants = body.into_grants().map_err(|e| ApiError::from_app(e, l))?;
    let user = auth::set_roles(&s.app, &ctx(&caller, &rid), id, grants).await.map_err(|e| ApiError::from_app(e, l))?;
    Ok(Json(user).into_response())
}

/// Disables or enables a user.
pub async fn user_disabled(
    State(s): State<AppState>,
    caller: Caller,
    Lang(l): Lang,
    Extension(rid): Extension<RequestId>,
    Path(id): Path<i64>,
    Json(body): Json<DisabledBody>,
) -> ApiResult {
    let user = auth::set_disabled(&s.app, &ctx(&caller, &rid), id, body.disabled)
        .await
        .map_err(|e| ApiError::from_app(e, l))?;
    Ok(Json(user).into_response())
}

/// Body of `PUT /api/v1/users/{id}/employee`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmployeeLinkBody {
    /// The employee the user is; `null` unlinks.
    pub employee_no: Option<String>,
}

/// Links a user to the employee they are.
pub async fn user_employee(
    State(s): State<AppState>,
    caller: Caller,
    Lang(l): Lang,
    Extension(rid): Extension<RequestId>,
    Path(id): Path<i64>,
    Json(body): Json<EmployeeLinkBody>,
) -> ApiResult {
    let user = auth::link_employee(&s.app, &ctx(&caller, &rid), id, body.employee_no.as_deref())
        .await
        .map_err(|e| ApiError::from_app(e, l))?;
    Ok(Json(user).into_response())
}

/// Issues an API token; the secret is in the response once.
pub async fn token_create(
    State(s): State<AppState>,
    caller: Caller,
    Lang(l): Lang,
    Extension(rid): Extension<RequestId>,
    Path(id): Path<i64>,
    Json(body): Json<TokenBody>,
) -> ApiResult {
    let (token_id, secret) =
        auth::create_token(&s.app, &ctx(&caller, &rid), id, &body.name).await.map_err(|e| ApiError::from_app(e, l))?;
    Ok((StatusCode::CREATED, Json(serde_json::json!({"id": token_id, "token": secret}))).into_response())
}

/// A user's tokens (no secrets).
pub async fn tokens(
    State(s): State<AppState>,
    caller: Caller,
    Lang(l): Lang,
    Extension(rid): Extension<RequestId>,
    Path(id): Path<i64>,
) -> ApiResult {
    let items = auth::list_tokens(&s.app, &ctx(&caller, &rid), id).await.map_err(|e| ApiError::from_app(e, l))?;
    let items: Vec<_> = items
        .into_iter()
        .map(|t| {
            serde_json::json!({"id": t.id, "user_id": t.user_id, "name": t.name, "created_at": t.created_at,
            "last_used_at": t.last_used_at, "revoked_at": t.revoked_at})
        })
        .collect();
    Ok(Json(serde_json::json!({"items": items})).into_response())
}

/// Revokes a token.
pub async fn token_revoke(
    State(s): State<AppState>,
    caller: Caller,
    Lang(l): Lang,
    Extension(rid): Extension<RequestId>,
    Path(id): Path<i64>,
) -> ApiResult {
    auth::revoke_token(&s.app, &ctx(&caller, &rid), id).await.map_err(|e| ApiError::from_app(e, l))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Query string of the audit listing.
#[derive(Debug, Deserialize, Default)]
pub struct AuditParams {
    /// Entity type filter (with `entity_key`).
    pub entity_type: Option<String>,
    /// Entity key filter.
    pub entity_key: Option<String>,
    /// Events older than this id.
    pub before: Option<i64>,
    /// Page size (≤ 500).
    pub limit: Option<i64>,
}

/// The newest audit events.
pub async fn audit(
    State(s): State<AppState>,
    caller: Caller,
    Lang(l): Lang,
    Extension(rid): Extension<RequestId>,
    Query(p): Query<AuditParams>,
) -> ApiResult {
    let entity = match (&p.entity_type, &p.entity_key) {
        (Some(t), Some(k)) => Some((t.as_str(), k.as_str())),
        _ => None,
    };
    let items = lizhi_app::audit::recent(&s.app, &ctx(&caller, &rid), entity, p.before, p.limit.unwrap_or(100))
        .await
        .map_err(|e| ApiError::from_app(e, l))?;
    Ok(Json(serde_json::json!({"items": items})).into_response())
}

/// Creates or changes one legal entity, org unit or employee with the rules of an import.
async fn save(
    s: &AppState,
    ctx: &Ctx,
    l: lizhi_app::i18n::Locale,
    kind: ImportKind,
    key: &str,
    body: serde_json::Value,
) -> ApiResult {
    let Some(object) = body.as_object() else {
        return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "bad_request", l));
    };
    let mut fields = std::collections::BTreeMap::new();
    for (k, v) in object {
        let text = match v {
            serde_json::Value::Null => String::new(),
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Number(n) => n.to_string(),
            _ => {
                return Err(ApiError {
                    field: Some(k.clone()),
                    ..ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "bad_request", l)
                });
            }
        };
        fields.insert(k.clone(), text);
    }
    let created = import::save_one(&s.app, ctx, kind, key, &fields).await.map_err(|e| ApiError::from_app(e, l))?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    let record = lizhi_app::export::current_row(&s.app, kind, key)
        .await
        .map_err(|e| ApiError::from_app(e, l))?
        .unwrap_or_default();
    let json: serde_json::Map<String, serde_json::Value> = kind
        .all_columns()
        .into_iter()
        .map(str::to_owned)
        .zip(record.into_iter().map(serde_json::Value::from))
        .collect();
    Ok((status, Json(json)).into_response())
}

/// `PUT /api/v1/{legal-entities|org-units|employees}/{key}`: the kind comes from the route.
pub async fn put_record(
    State(s): State<AppState>,
    caller: Caller,
    Lang(l): Lang,
    Extension(rid): Extension<RequestId>,
    route: MatchedPath,
    Path(key): Path<String>,
    Json(body): Json<serde_json::Value>,
) -> ApiResult {
    let kind = ImportKind::ALL
        .into_iter()
        .find(|k| route.as_str().starts_with(&format!("/api/v1/{}/", k.name())))
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "not_found", l))?;
    save(&s, &ctx(&caller, &rid), l, kind, &key, body).await
}

/// Body of a punch push: a batch of clock events.
#[derive(Debug, Deserialize)]
pub struct PunchBatch {
    /// The events, each `{employee_no, punched_at, source}`.
    pub punches: Vec<std::collections::BTreeMap<String, String>>,
}

/// `POST /api/v1/punches`: attendance devices push clock events; all or nothing, idempotent.
/// In the report, `row` is the 1-based position in the `punches` array.
pub async fn push_punches(
    State(s): State<AppState>,
    caller: Caller,
    Lang(l): Lang,
    Extension(rid): Extension<RequestId>,
    Query(p): Query<ImportParams>,
    Json(batch): Json<PunchBatch>,
) -> ApiResult {
    const MAX_BATCH: usize = 100_000;
    if batch.punches.len() > MAX_BATCH {
        return Err(ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "file_too_large", l));
    }
    let report = import::run_records(&s.app, &ctx(&caller, &rid), ImportKind::Punches, &batch.punches, !p.dry_run)
        .await
        .map_err(|e| ApiError::from_app(e, l))?;
    Ok(report_response(l, &report))
}
