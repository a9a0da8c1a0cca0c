//! Webhook deliveries to finance, payroll, ERP and facilities systems: a JSON event POSTed with an
//! HMAC-SHA256 signature over the timestamp and the exact body, so a receiver can reject forged and replayed
//! requests (see `docs/webhooks.md`).
//!
//! Headers: `X-Lizhi-Event` (the event name), `X-Lizhi-Delivery` (the event id, stable across retries: the
//! receiver deduplicates on it), `X-Lizhi-Timestamp` (unix seconds) and
//! `X-Lizhi-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`.

use crate::access::CallError;
use reqwest::Url;
use ring::hmac;
use std::time::Duration;

const SYSTEM: &str = "webhook";
/// How much of a receiver's answer is kept in the delivery log.
const ANSWER_EXCERPT: usize = 500;

/// Where events go and the key they are signed with.
pub struct WebhookTarget {
    url: Url,
    key: hmac::Key,
    client: reqwest::Client,
}

/// A receiver's answer to one delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The start of the body (for the delivery log).
    pub excerpt: String,
}

/// What went wrong with a delivery, with the receiver's answer when there was one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Classified for the retry policy.
    pub error: CallError,
    /// The answer, if the receiver answered.
    pub answer: Option<Answer>,
}

/// The signature header's value for a body sent at `timestamp`.
pub fn signature(secret: &[u8], timestamp: i64, body: &str) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    sign(&key, timestamp, body)
}

fn sign(key: &hmac::Key, timestamp: i64, body: &str) -> String {
    let tag = hmac::sign(key, format!("{timestamp}.{body}").as_bytes());
    format!("v1={}", hex::encode(tag.as_ref()))
}

fn refused(code: impl Into<String>, message: impl Into<String>, retryable: bool) -> CallError {
    CallError::Refused { system: SYSTEM, code: code.into(), message: message.into(), retryable }
}

impl WebhookTarget {
    /// A target; the URL must be absolute http(s) and the secret at least 16 bytes.
    pub fn new(url: &str, secret: &str, timeout: Duration) -> Result<WebhookTarget, CallError> {
        let url = Url::parse(url)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
            .ok_or_else(|| refused("invalid_settings", "the webhook URL must be an absolute http(s) URL", false))?;
        if secret.len() < 16 {
            return Err(refused("invalid_settings", "the signing secret must be at least 16 characters", false));
        }
        let client = crate::http::client(timeout).map_err(|e| refused("client", e.to_string(), false))?;
        Ok(WebhookTarget { url, key: hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes()), client })
    }

    /// Where events go.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// POSTs one event. A 2xx answer is a delivery; 410 Gone means the receiver wants no more (not retried);
    /// no connection (nothing sent), any other status, and no answer at all are retried by the caller's
    /// policy (an unanswered request may have arrived: the receiver deduplicates on `delivery_id`).
    pub async fn deliver(&self, event: &str, delivery_id: &str, body: &str, now: i64) -> Result<Answer, Failure> {
        let sent = self
            .client
            .post(self.url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("X-Lizhi-Event", event)
            .header("X-Lizhi-Delivery", delivery_id)
            .header("X-Lizhi-Timestamp", now.to_string())
            .header("X-Lizhi-Signature", sign(&self.key, now, body))
            .body(body.to_owned())
            .send()
            .await;
        let response = match sent {
            Ok(response) => response,
            // Not connected (refused, DNS, TLS handshake or certificate): nothing was sent.
            Err(e) if e.is_connect() => {
                return Err(Failure { error: refused("connect", without_url(&e), true), answer: None });
            }
            Err(e) => {
                let what = if e.is_timeout() { "no answer in time" } else { "no answer" };
                return Err(Failure {
                    error: CallError::Ambiguous { system: SYSTEM, message: format!("{what}: {}", without_url(&e)) },
                    answer: None,
                });
            }
        };
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        let answer = Answer { status, excerpt: text.chars().take(ANSWER_EXCERPT).collect() };
        match status {
            200..=299 => Ok(answer),
            410 => Err(Failure {
                error: refused("410", "the receiver says the endpoint is gone", false),
                answer: Some(answer),
            }),
            _ => Err(Failure {
                error: refused(status.to_string(), format!("the receiver answered HTTP {status}"), true),
                answer: Some(answer),
            }),
        }
    }
}

/// A transport error's text with its causes (an untrusted certificate, a refused connection) and without
/// the URL (it may carry a token in its query).
fn without_url(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut cause = std::error::Error::source(e);
    while let Some(inner) = cause {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        cause = inner.source();
    }
    if let Some(url) = e.url() {
        text = text.replace(url.as_str(), "<url>");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_covers_timestamp_and_body() {
        // The primitive against the widely published HMAC-SHA256 example (key "key", the quick brown fox).
        let known =
            hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, b"key"), b"The quick brown fox jumps over the lazy dog");
        assert_eq!(hex::encode(known.as_ref()), "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8");
        let a = signature(b"0123456789abcdef", 1_700_000_000, r#"{"a":1}"#);
        assert!(a.starts_with("v1=") && a.len() == 3 + 64);
        assert_ne!(a, signature(b"0123456789abcdef", 1_700_000_001, r#"{"a":1}"#), "timestamp is signed");
        assert_ne!(a, signature(b"0123456789abcdef", 1_700_000_000, r#"{"a":2}"#), "body is signed");
        assert_ne!(a, signature(b"0123456789abcdeX", 1_700_000_000, r#"{"a":1}"#), "key matters");
    }

    #[test]
    fn targets_need_a_url_and_a_real_secret() {
        let t = Duration::from_secs(5);
        assert!(WebhookTarget::new("https://erp.example.com/hook", "0123456789abcdef", t).is_ok());
        assert!(WebhookTarget::new("ftp://erp.example.com/hook", "0123456789abcdef", t).is_err());
        assert!(WebhookTarget::new("/hook", "0123456789abcdef", t).is_err());
        assert!(WebhookTarget::new("https://erp.example.com/hook", "short", t).is_err());
    }
}
