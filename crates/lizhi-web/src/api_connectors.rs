//! Connector configuration (administrators) and the accounts employees hold in each system.

use crate::AppState;
use crate::api::{ApiResult, ctx};
use crate::caller::{Caller, Lang};
use crate::error::ApiError;
use crate::middleware::RequestId;
use axum::Json;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use lizhi_app::AppError;
use lizhi_app::connectors::{self, ConnectorInput};
use serde::Deserialize;

/// `GET /api/v1/connectors`: every connector in revocation order, without secrets.
pub async fn list(
    State(s): State<AppState>,
    caller: Caller,
    Lang(l): Lang,
    Extension(rid): Extension<RequestId>,
) -> ApiResult {
    let items = connectors::list(&s.app, &ctx(&caller, &rid)).await.map_err(|e| ApiError::from_app(e, l))?;
    Ok(Json(serde_json::json!({ "items": items })).into_response())
}

/// `PUT /api/v1/connectors/{code}`: creates or changes a connector; the secret is write-only.
pub async fn put(
    State(s): State<AppState>,
    caller: Caller,
    Lang(l): Lang,
    Extension(rid): Extension<RequestId>,
    Path(code): Path<String>,
    Json(input): Json<ConnectorInput>,
) -> ApiResult {
    let created = save(&s.app, &ctx(&caller, &rid), &code, &input).await.map_err(|e| ApiError::from_app(e, l))?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(serde_json::json!({ "code": code, "created": created }))).into_response())
}

/// Saves a connector after building its client from the new settings and the new (or stored) secret, so a
/// typo in a setting is refused with the reason instead of failing later in the worker.
pub async fn save(
    app: &lizhi_app::App,
    ctx: &lizhi_app::Ctx,
    code: &str,
    input: &ConnectorInput,
) -> Result<bool, AppError> {
    connectors::put_checked(app, ctx, code, input, &lizhi_connectors::configured::check_settings).await
}

/// `GET /api/v1/employees/{no}/identities`: the person's accounts, in revocation order.
pub async fn identities(
    State(s): State<AppState>,
    caller: Caller,
    Lang(l): Lang,
    Extension(rid): Extension<RequestId>,
    Path(no): Path<String>,
) -> ApiResult {
    let items = connectors::identities(&s.app, &ctx(&caller, &rid), &no).await.map_err(|e| ApiError::from_app(e, l))?;
    Ok(Json(serde_json::json!({ "items": items })).into_response())
}

/// Body of `PUT /api/v1/employees/{no}/identities/{system}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityBody {
    /// The account's id in the system.
    pub account_id: String,
    /// Its sign-in name.
    #[serde(default)]
    pub user_name: Option<String>,
}

/// `PUT /api/v1/employees/{no}/identities/{system}`: registers the person's account in one system.
pub async fn put_identity(
    State(s): State<AppState>,
    caller: Caller,
    Lang(l): Lang,
    Extension(rid): Extension<RequestId>,
    Path((no, system)): Path<(String, String)>,
    Json(body): Json<IdentityBody>,
) -> ApiResult {
    let created = connectors::put_identity(
        &s.app,
        &ctx(&caller, &rid),
        &no,
        &system,
        &body.account_id,
        body.user_name.as_deref(),
    )
    .await
    .map_err(|e| ApiError::from_app(e, l))?;
    Ok((if created { StatusCode::CREATED } else { StatusCode::OK }).into_response())
}

/// `DELETE /api/v1/employees/{no}/identities/{system}`: forgets the person's account in one system.
pub async fn delete_identity(
    State(s): State<AppState>,
    caller: Caller,
    Lang(l): Lang,
    Extension(rid): Extension<RequestId>,
    Path((no, system)): Path<(String, String)>,
) -> ApiResult {
    let removed = connectors::delete_identity(&s.app, &ctx(&caller, &rid), &no, &system)
        .await
        .map_err(|e| ApiError::from_app(e, l))?;
    Ok((if removed { StatusCode::NO_CONTENT } else { StatusCode::NOT_FOUND }).into_response())
}

/// Body of `POST /api/v1/cases/{id}/access`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessBody {
    /// `freeze`, `unfreeze` or `revoke`.
    pub intent: String,
}

/// `POST /api/v1/cases/{id}/access`: queues the intent on every registered account of the case's person.
pub async fn request_access(
    State(s): State<AppState>,
    caller: Caller,
    Lang(l): Lang,
    Extension(rid): Extension<RequestId>,
    Path(id): Path<i64>,
    Json(body): Json<AccessBody>,
) -> ApiResult {
    let queued = lizhi_app::access::request(&s.app, &ctx(&caller, &rid), id, &body.intent)
        .await
        .map_err(|e| ApiError::from_app(e, l))?;
    Ok((StatusCode::ACCEPTED, Json(serde_json::json!({ "queued": queued }))).into_response())
}

/// `GET /api/v1/cases/{id}/access`: the case's access actions, system by system, with their evidence.
pub async fn access_matrix(
    State(s): State<AppState>,
    caller: Caller,
    Lang(l): Lang,
    Extension(rid): Extension<RequestId>,
    Path(id): Path<i64>,
) -> ApiResult {
    let rows =
        lizhi_app::access::matrix(&s.app, &ctx(&caller, &rid), id).await.map_err(|e| ApiError::from_app(e, l))?;
    let items: Vec<serde_json::Value> = rows
        .into_iter()
        .map(|r| {
            serde_json::json!({
                "system": r.connector, "system_name": r.connector_name, "account_id": r.account_id,
                "intent": r.intent, "status": r.status, "attempts": r.attempts, "last_error": r.last_error,
                "verdict": r.verdict, "verified_at": r.verified_at, "updated_at": r.updated_at,
                "evidence": r.evidence.and_then(|e| serde_json::from_str::<serde_json::Value>(&e).ok()),
            })
        })
        .collect();
    Ok(Json(serde_json::json!({ "items": items })).into_response())
}
