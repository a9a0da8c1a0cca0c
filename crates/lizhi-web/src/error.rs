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
}

impl ApiError {
    /// An error with an explicit status and code.
    pub fn new(status: StatusCode, code: &str, locale: Locale) -> ApiError {
        ApiError {
            status,
            code: code.to_owned(),
            field: None,
            locale,
        }
    }

    /// Maps a use-case error.
    pub fn from_app(e: AppError, locale: Locale) -> ApiError {
        let status = match &e {
            AppError::Unauthenticated => StatusCode::UNAUTHORIZED,
            AppError::Forbidden => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::BadCredentials => StatusCode::UNAUTHORIZED,
            AppError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Invalid { .. } | AppError::Table(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        if status.is_server_error() {
            tracing::error!(error = %e, "request failed");
        }
        let (code, field) = match &e {
            AppError::Invalid { field, code } => (code.to_string(), Some(field.clone())),
            other => (other.code().to_owned(), None),
        };
        ApiError {
            status,
            code,
            field,
            locale,
        }
    }

    /// The translated message.
    pub fn message(&self) -> String {
        error_message(self.locale, &self.code, self.field.as_deref(), None)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({
            "error": { "code": self.code, "message": self.message(), "field": self.field }
        });
        (self.status, Json(body)).into_response()
    }
}
