//! Access tokens, one per secret, cached until shortly before they expire.
//!
//! WeCom throttles `gettoken` ("不能频繁调用gettoken接口"), so a token is fetched once and shared: callers that
//! find no fresh token queue on the slot's lock and the first one fetches, so ten concurrent calls after an
//! expiry cost one `gettoken` (single flight). A token WeCom rejects early (40001 / 40014 / 42001) is dropped
//! only if it is still the cached one, so a caller holding a stale token cannot throw away a fresh one.

use super::wire::{Answer, Transport, later};
use crate::access::CallError;
use reqwest::Method;
use serde_json::Value;
use std::time::{Duration, Instant};

/// What `gettoken` promises when it says nothing (the documented normal lifetime).
const DEFAULT_LIFETIME: Duration = Duration::from_secs(7200);
/// Refresh at most this long before expiry…
const MAX_EARLY: Duration = Duration::from_secs(300);
/// …and at most this fraction of the lifetime early, for short-lived (test) tokens.
const EARLY_DIVISOR: u32 = 10;

/// Which secret a call uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Credential {
    /// The contact-sync secret (通讯录同步): member writes and `user/list_id`.
    ContactSync,
    /// The Lizhi app's secret: reading members it can see, messages, check-ins.
    App,
}

impl Credential {
    /// For messages: names the secret, never its value.
    pub fn label(self) -> &'static str {
        match self {
            Credential::ContactSync => "contact-sync secret",
            Credential::App => "app secret",
        }
    }
}

struct Cached {
    token: String,
    fresh_until: Instant,
}

/// The token of one secret.
pub(super) struct TokenSlot {
    credential: Credential,
    secret: String,
    cached: tokio::sync::Mutex<Option<Cached>>,
}

impl TokenSlot {
    pub fn new(credential: Credential, secret: String) -> Self {
        TokenSlot { credential, secret, cached: tokio::sync::Mutex::new(None) }
    }

    /// The cached token, or a new one. The lock is held while fetching: that is the single flight.
    pub async fn get(&self, transport: &Transport, corp_id: &str) -> Result<String, CallError> {
        let mut cached = self.cached.lock().await;
        if let Some(fresh) = cached.as_ref().filter(|c| c.fresh_until > Instant::now()) {
            return Ok(fresh.token.clone());
        }
        *cached = None;
        let (token, lifetime) = self.fetch(transport, corp_id).await?;
        let early = (lifetime / EARLY_DIVISOR).min(MAX_EARLY);
        *cached = Some(Cached { token: token.clone(), fresh_until: Instant::now() + (lifetime - early) });
        Ok(token)
    }

    /// Drops `stale` if it is still the cached token.
    pub async fn invalidate(&self, stale: &str) {
        let mut cached = self.cached.lock().await;
        if cached.as_ref().is_some_and(|c| c.token == stale) {
            *cached = None;
        }
    }

    async fn fetch(&self, transport: &Transport, corp_id: &str) -> Result<(String, Duration), CallError> {
        let query = [("corpid", corp_id), ("corpsecret", self.secret.as_str())];
        let answer = transport.exchange(Method::GET, "gettoken", &query, None, &[]).await?;
        if answer.errcode != 0 {
            return Err(self.refusal(&answer));
        }
        let token = answer.body.get("access_token").and_then(Value::as_str).unwrap_or_default();
        if token.is_empty() || !token.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(later("invalid_response", "gettoken answered without a usable access_token"));
        }
        let lifetime = answer
            .body
            .get("expires_in")
            .and_then(Value::as_u64)
            .filter(|s| *s > 0)
            .map_or(DEFAULT_LIFETIME, Duration::from_secs);
        tracing::debug!(
            system = super::SYSTEM,
            credential = self.credential.label(),
            secs = lifetime.as_secs(),
            "token"
        );
        Ok((token.to_owned(), lifetime))
    }

    /// At `gettoken`, 40001 means this secret is wrong: say which one, never its value.
    fn refusal(&self, answer: &Answer) -> CallError {
        match answer.refusal() {
            CallError::Refused { code, message, retryable, .. } => CallError::Refused {
                system: super::SYSTEM,
                code,
                message: format!("getting a token with the {}: {message}", self.credential.label()),
                retryable,
            },
            other => other,
        }
    }
}

impl std::fmt::Debug for TokenSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSlot").field("credential", &self.credential).finish_non_exhaustive()
    }
}
