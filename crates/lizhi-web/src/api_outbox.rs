//! Operating the connectors (administrators): testing a connection, the outbox with its delivery log, and
//! retrying what failed.

use crate::AppState;
use crate::api::{ApiResult, ctx};
use crate::caller::{Caller, Lang};
use crate::error::ApiError;
use crate::middleware::RequestId;
use axum::Json;
use axum::extract::{Extension, Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use lizhi_app::outbox::DeliveryFilter;
use lizhi_app::{App, AppError, Ctx};
use serde::Deserialize;
use serde_json::json;

/// What a connection test found: `Ok(what was checked)` or the refusal's code and message.
pub async fn test_connection(app: &App, ctx: &Ctx, code: &str) -> Result<Result<String, (String, String)>, AppError> {
    let checked = lizhi_connectors::configured::test_registered(app, ctx, code).await?;
    Ok(checked.map_err(|e| (e.code().to_owned(), e.to_string())))
}

/// `POST /api/v1/connectors/{code}/test`: checks that the system answers with the stored credentials.
pub async fn test(
    State(s): State<AppState>,
    caller: Caller,
    Lang(l): Lang,
    Extension(rid): Extension<RequestId>,
    Path(code): Path<String>,
) -> ApiResult {
    let checked = test_connection(&s.app, &ctx(&caller, &rid), &code).await.map_err(|e| ApiError::from_app(e, l))?;
    Ok(Json(match checked {
        Ok(what) => json!({"ok": true, "checked": what}),
        Err((code, message)) => json!({"ok": false, "error": {"code": code, "message": message}}),
    })
    .into_response())
}

/// Query of `GET /api/v1/outbox`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutboxQuery {
    channel: Option<String>,
    status: Option<String>,
    case_id: Option<i64>,
    limit: Option<i64>,
}

impl OutboxQuery {
    /// The store's filter (empty strings from a form mean "any").
    pub fn filter(&self) -> DeliveryFilter {
        let some = |v: &Option<String>| v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
        DeliveryFilter {
            channel: some(&self.channel),
            status: some(&self.status),
            case_id: self.case_id,
            limit: self.limit.unwrap_or(100),
        }
    }
}

/// `GET /api/v1/outbox`: deliveries (webhook, wecom, email), newest first, with their last answer.
pub async fn list(
    State(s): State<AppState>,
    caller: Caller,
    Lang(l): Lang,
    Extension(rid): Extension<RequestId>,
    Query(q): Query<OutboxQuery>,
) -> ApiResult {
    let items = lizhi_app::outbox::list(&s.app, &ctx(&caller, &rid), &q.filter())
        .await
        .map_err(|e| ApiError::from_app(e, l))?;
    Ok(Json(json!({ "items": items })).into_response())
}

/// `GET /api/v1/outbox/{id}`: one delivery and its delivery log.
pub async fn detail(
    State(s): State<AppState>,
    caller: Caller,
    Lang(l): Lang,
    Extension(rid): Extension<RequestId>,
    Path(id): Path<i64>,
) -> ApiResult {
    let (row, attempts) =
        lizhi_app::outbox::detail(&s.app, &ctx(&caller, &rid), id).await.map_err(|e| ApiError::from_app(e, l))?;
    Ok(Json(json!({ "delivery": row, "attempts": attempts })).into_response())
}

/// `POST /api/v1/outbox/{id}/retry`: sends a failed delivery again, or redelivers a delivered one.
pub async fn retry(
    State(s): State<AppState>,
    caller: Caller,
    Lang(l): Lang,
    Extension(rid): Extension<RequestId>,
    Path(id): Path<i64>,
) -> ApiResult {
    lizhi_app::outbox::retry_delivery(&s.app, &ctx(&caller, &rid), id).await.map_err(|e| ApiError::from_app(e, l))?;
    Ok(StatusCode::ACCEPTED.into_response())
}

/// `GET /api/v1/access-actions`: access actions given up or unconfirmed, newest first.
pub async fn attention(
    State(s): State<AppState>,
    caller: Caller,
    Lang(l): Lang,
    Extension(rid): Extension<RequestId>,
) -> ApiResult {
    let rows = lizhi_app::outbox::needing_attention(&s.app, &ctx(&caller, &rid), 200)
        .await
        .map_err(|e| ApiError::from_app(e, l))?;
    let items: Vec<serde_json::Value> = rows
        .into_iter()
        .map(|r| {
            json!({"id": r.id, "case_id": r.case_id, "system": r.connector, "account_id": r.account_id,
                "intent": r.intent, "status": r.status, "attempts": r.attempts, "last_error": r.last_error,
                "verdict": r.verdict, "updated_at": r.updated_at})
        })
        .collect();
    Ok(Json(json!({ "items": items })).into_response())
}

/// `POST /api/v1/access-actions/{id}/retry`: queues the action again (it reads the account first).
pub async fn retry_action(
    State(s): State<AppState>,
    caller: Caller,
    Lang(l): Lang,
    Extension(rid): Extension<RequestId>,
    Path(id): Path<i64>,
) -> ApiResult {
    lizhi_app::outbox::retry_action(&s.app, &ctx(&caller, &rid), id).await.map_err(|e| ApiError::from_app(e, l))?;
    Ok(StatusCode::ACCEPTED.into_response())
}
