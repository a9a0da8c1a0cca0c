//! One HTTP exchange with a SCIM service and what its answer means for the retry policy, kept apart from the
//! protocol steps so every step maps failures the same way and the bearer token stays in one place.

use super::SYSTEM;
use crate::access::{CallError, redact};
use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode, Url};
use serde_json::{Value, json};
use std::time::Duration;

/// A user or a page of matches is a few kB; anything much larger is not a SCIM answer worth keeping.
const MAX_BODY: usize = 1 << 20;

/// How much of a non-JSON answer (a proxy's HTML page) is kept for the admin to recognise it.
const EXCERPT_CHARS: usize = 200;

/// Headers in which common SCIM services put their correlation id (generic, Okta, Microsoft Entra).
const REQUEST_ID_HEADERS: [&str; 4] = ["x-request-id", "x-okta-request-id", "request-id", "x-correlation-id"];

/// What the connector keeps of one HTTP answer.
pub(super) struct Answer {
    pub status: StatusCode,
    etag: Option<String>,
    pub request_id: Option<String>,
    retry_after: Option<String>,
    location: Option<String>,
    /// The JSON body; `Null` when empty; a short text excerpt when it is not JSON.
    pub body: Value,
    /// Whether `body` was parsed from JSON.
    pub json: bool,
}

impl Answer {
    /// The resource version: the ETag header, else `meta.version` (RFC 7644 §3.14 allows either).
    pub fn etag(&self) -> Option<String> {
        self.etag.clone().or_else(|| self.body.pointer("/meta/version").and_then(Value::as_str).map(str::to_owned))
    }

    /// The answer as evidence: status, version and the redacted body.
    pub fn evidence(&self) -> Value {
        json!({"http_status": self.status.as_u16(), "etag": self.etag(), "answer": redact(self.body.clone())})
    }
}

/// The HTTP client of one target, holding its bearer token as a sensitive header.
pub(super) struct Transport {
    http: reqwest::Client,
    auth: HeaderValue,
}

/// A configuration mistake: retrying cannot help.
pub(super) fn invalid(code: &str, message: impl Into<String>) -> CallError {
    CallError::Refused { system: SYSTEM, code: code.to_owned(), message: message.into(), retryable: false }
}

impl Transport {
    /// Redirects are not followed: a SCIM base URL that redirects is misconfigured (http → https, a login
    /// page), and following it would replay a PATCH or DELETE somewhere unexpected.
    pub fn new(token: &str, timeout: Duration) -> Result<Self, CallError> {
        if token.is_empty() || !token.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(invalid("invalid_config", "the bearer token must be non-empty visible ASCII"));
        }
        if timeout.is_zero() {
            return Err(invalid("invalid_config", "the request timeout must be positive"));
        }
        let mut auth = HeaderValue::from_str(&format!("Bearer {token}"))
            .map_err(|_| invalid("invalid_config", "the bearer token is not a valid header value"))?;
        auth.set_sensitive(true);
        let http = crate::http::client(timeout)
            .map_err(|e| invalid("invalid_config", format!("cannot build the HTTP client: {e}")))?;
        Ok(Transport { http, auth })
    }

    /// Sends one request; any HTTP status is an `Ok` answer, only transport failures are errors.
    pub async fn exchange(
        &self,
        method: Method,
        url: Url,
        body: Option<&Value>,
        if_match: Option<&str>,
    ) -> Result<Answer, CallError> {
        let path = url.path().to_owned();
        let mut request = self
            .http
            .request(method.clone(), url)
            .header(header::AUTHORIZATION, self.auth.clone())
            .header(header::ACCEPT, "application/scim+json, application/json");
        if let Some(tag) = if_match {
            request = request.header(header::IF_MATCH, tag);
        }
        if let Some(body) = body {
            request = request.header(header::CONTENT_TYPE, "application/scim+json").body(body.to_string());
        }
        let mut response = request.send().await.map_err(|e| self.transport_error(&e))?;
        let status = response.status();
        tracing::debug!(system = SYSTEM, %method, path, status = status.as_u16(), "scim call");
        let headers = response.headers();
        let text = |name: &str| text_header(headers, name);
        let mut answer = Answer {
            status,
            etag: text(header::ETAG.as_str()),
            request_id: REQUEST_ID_HEADERS.iter().find_map(|name| text(name)),
            retry_after: text(header::RETRY_AFTER.as_str()),
            location: text(header::LOCATION.as_str()),
            body: Value::Null,
            json: false,
        };
        let mut raw = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| self.transport_error(&e))? {
            if raw.len() + chunk.len() > MAX_BODY {
                answer.body = Value::String(format!("[answer over {MAX_BODY} bytes, not kept]"));
                return Ok(answer);
            }
            raw.extend_from_slice(&chunk);
        }
        if raw.iter().any(|b| !b.is_ascii_whitespace()) {
            match serde_json::from_slice::<Value>(&raw) {
                Ok(value) => (answer.body, answer.json) = (value, true),
                Err(_) => answer.body = Value::String(self.scrub(&excerpt(&String::from_utf8_lossy(&raw)))),
            }
        }
        Ok(answer)
    }

    /// Removes the bearer token from text that came from elsewhere (a server echoing headers back).
    pub fn scrub(&self, text: &str) -> String {
        let token = self.auth.to_str().ok().and_then(|v| v.strip_prefix("Bearer ")).unwrap_or_default();
        if token.len() < 4 { text.to_owned() } else { text.replace(token, "***") }
    }

    /// What a non-success status means: refused (nothing changed) or ambiguous (it may have happened).
    pub fn refusal(&self, answer: &Answer) -> CallError {
        let status = answer.status.as_u16();
        let (scim_type, detail) = error_fields(&answer.body);
        let code = match scim_type {
            Some(kind) => format!("{status}:{kind}"),
            None => status.to_string(),
        };
        let mut message = match detail {
            Some(detail) => detail,
            None => {
                let reason = answer.status.canonical_reason().unwrap_or("unexpected answer");
                match &answer.body {
                    Value::String(text) => format!("{reason}: {text}"),
                    _ => reason.to_owned(),
                }
            }
        };
        if answer.status.is_redirection() {
            let target = answer.location.as_deref().unwrap_or("elsewhere");
            message = format!("redirected to {target}: configure the final SCIM base URL");
        }
        if let Some(wait) = &answer.retry_after {
            message.push_str(&format!(" (Retry-After: {wait})"));
        }
        let message = self.scrub(&message);
        match status {
            // Nothing was done: a rate limit, a request the server never read, a version that moved on.
            408 | 412 | 429 => CallError::Refused { system: SYSTEM, code, message, retryable: true },
            503 if answer.retry_after.is_some() => {
                CallError::Refused { system: SYSTEM, code, message, retryable: true }
            }
            500..=599 => CallError::Ambiguous { system: SYSTEM, message: format!("HTTP {status}: {message}") },
            _ => CallError::Refused { system: SYSTEM, code, message, retryable: false },
        }
    }

    /// A failure before the connection was made changed nothing; after sending, the outcome is unknown.
    fn transport_error(&self, err: &reqwest::Error) -> CallError {
        let mut message = err.to_string();
        let mut source = std::error::Error::source(err);
        while let Some(cause) = source {
            message.push_str(": ");
            message.push_str(&cause.to_string());
            source = cause.source();
        }
        let message = self.scrub(&message);
        if err.is_connect() {
            CallError::Refused { system: SYSTEM, code: "connect".into(), message, retryable: true }
        } else if err.is_builder() {
            invalid("invalid_request", message)
        } else {
            CallError::Ambiguous { system: SYSTEM, message }
        }
    }
}

fn text_header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

fn excerpt(text: &str) -> String {
    let mut out: String = text.chars().take(EXCERPT_CHARS).collect();
    if out.len() < text.len() {
        out.push('…');
    }
    out
}

/// The `scimType` and `detail` of a SCIM error (RFC 7644 §3.12), or the message field of the non-SCIM JSON
/// errors some services send from their gateways.
fn error_fields(body: &Value) -> (Option<String>, Option<String>) {
    let field = |name: &str| body.get(name).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_owned);
    let is_scim = body
        .get("schemas")
        .and_then(Value::as_array)
        .is_some_and(|s| s.iter().any(|v| v.as_str() == Some(super::ERROR_SCHEMA)));
    if is_scim {
        return (field("scimType"), field("detail"));
    }
    let detail = ["detail", "message", "errorSummary", "error_description", "error"].iter().find_map(|n| field(n));
    (None, detail.map(|d| excerpt(&d)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scim_errors_give_type_and_detail() {
        let body = json!({"schemas": [super::super::ERROR_SCHEMA], "status": "400", "scimType": "invalidFilter",
            "detail": "bad filter"});
        assert_eq!(error_fields(&body), (Some("invalidFilter".into()), Some("bad filter".into())));
        let gateway = json!({"errorCode": "E0000047", "errorSummary": "API call exceeded rate limit"});
        assert_eq!(error_fields(&gateway), (None, Some("API call exceeded rate limit".into())));
        assert_eq!(error_fields(&Value::Null), (None, None));
    }

    #[test]
    fn the_token_is_scrubbed_from_messages() {
        let transport = Transport::new("s3cr3t-token", Duration::from_secs(1)).expect("transport");
        assert_eq!(transport.scrub("echo: Bearer s3cr3t-token"), "echo: Bearer ***");
        assert!(Transport::new("two words", Duration::from_secs(1)).is_err());
        assert!(Transport::new("t", Duration::ZERO).is_err());
    }
}
