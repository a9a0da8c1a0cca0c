//! Turning use-case errors into HTTP responses: JSON `{ "error": { "code", "message" } }` for the
//! API, a translated page for the UI.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use lizhi_app::AppError;
use lizhi_app::i18n::{Locale, error_message};

/// An error on its way to the client, with the language to say it in.
#[derive(Debug)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable code.
    pub code: String,
    /// Field, when one is at fault.
    pub field: Option<String>,
    /// Language of the message.
    pub locale: Locale,
    /// Every problem of a rejected record: `{field, code, value, message}`.
    pub details: Vec<serde_json::Value>,
}

impl ApiError {
    /// An error with an explicit status and code.
    pub fn new(status: StatusCode, code: &str, locale: Locale) -> ApiError {
        ApiError { status, code: code.to_owned(), field: None, locale, details: Vec::new() }
    }

    /// Maps a use-case error.
    pub fn from_app(e: AppError, locale: Locale) -> ApiError {
        let status = match &e {
            AppError::Unauthenticated => StatusCode::UNAUTHORIZED,
            AppError::Forbidden => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::BadCredentials => StatusCode::UNAUTHORIZED,
            AppError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Invalid { .. } | AppError::Table(_) | AppError::Rejected(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Conflict(_) | AppError::Case(_) | AppError::Approval(_) => StatusCode::CONFLICT,
            AppError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Letter(e) if e.code() == "no_cjk_font" || e.code() == "font_dir" => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
            AppError::Letter(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Log(lizhi_app::audit_log::LogError::NoCheckpoint) => StatusCode::CONFLICT,
            AppError::Log(lizhi_app::audit_log::LogError::Timestamp(_)) => StatusCode::BAD_GATEWAY,
            AppError::Store(_) | AppError::Internal(_) | AppError::Log(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        if status.is_server_error() {
            tracing::error!(error = %e, "request failed");
        }
        let (code, field, details) = match &e {
            AppError::Invalid { field, code } => (code.to_string(), Some(field.clone()), Vec::new()),
            AppError::Rejected(errors) => {
                let details = errors
                    .iter()
                    .map(|r| {
                        serde_json::json!({"field": r.column, "code": r.code, "value": r.value,
                            "message": error_message(locale, &r.code, None, r.value.as_deref())})
                    })
                    .collect();
                let first = errors.first();
                (
                    first.map_or("invalid_input".to_owned(), |r| r.code.clone()),
                    first.and_then(|r| r.column.clone()),
                    details,
                )
            }
            other => (other.code().to_owned(), None, Vec::new()),
        };
        ApiError { status, code, field, locale, details }
    }

    /// The translated message.
    pub fn message(&self) -> String {
        error_message(self.locale, &self.code, self.field.as_deref(), None)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({
            "error": { "code": self.code, "message": self.message(), "field": self.field, "details": self.details }
        });
        (self.status, Json(body)).into_response()
    }
}
