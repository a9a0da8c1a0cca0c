//! SCIM 2.0 client (RFC 7643 / RFC 7644) for deprovisioning a departing employee's account in a SaaS app.
//!
//! Every write reads the account first (for its ETag and for idempotency) and reads it back afterwards, so the
//! outbox worker gets an [`Observation`] to judge instead of trusting a 2xx. A 404 only counts as "absent"
//! once the `/Users` endpoint itself answered, so a mistyped base URL can never verify a revocation.

mod wire;

use crate::access::{AccessState, CallError, Intent, Observation, Verdict, VerifyMode};
use reqwest::{Method, StatusCode, Url};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::time::Duration;
use wire::{Answer, Transport, invalid};

/// Connector kind in [`CallError`]s.
pub const SYSTEM: &str = "scim";

/// RFC 7644 §3.12.
const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
/// RFC 7644 §3.5.2.
const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
/// Matches asked for per page when searching by user name.
const PAGE_SIZE: usize = 100;
/// One user name should match a handful of accounts; more pages than this means the filter was not applied.
const MAX_PAGES: usize = 10;

/// What a revocation does in the app; it differs per app, so it is configured per target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RevokeBy {
    /// PATCH `active=false`: reversible, the app keeps the account and its data.
    Deactivate,
    /// DELETE: terminal; some apps delete the person's data with the account.
    Delete,
}

/// One SaaS app reached over SCIM. The token is never printed (`Debug` hides it).
#[derive(Clone)]
pub struct ScimTarget {
    /// The SCIM root, e.g. `https://app.example.com/scim/v2` (the URL `/Users` hangs under).
    pub base_url: String,
    /// The app's static bearer token for Lizhi.
    pub bearer_token: String,
    /// How a revocation is proven in this app.
    pub verify: VerifyMode,
    /// Whether Revoke deactivates or deletes.
    pub revoke_by: RevokeBy,
    /// Limit for one HTTP request, answer included.
    pub timeout: Duration,
}

impl ScimTarget {
    /// Long enough for slow SaaS APIs, short enough that the outbox worker is not held up.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

    /// A target that deactivates on Revoke and verifies by reading the account.
    pub fn new(base_url: impl Into<String>, bearer_token: impl Into<String>) -> Self {
        ScimTarget {
            base_url: base_url.into(),
            bearer_token: bearer_token.into(),
            verify: VerifyMode::ReadDisabled,
            revoke_by: RevokeBy::Deactivate,
            timeout: Self::DEFAULT_TIMEOUT,
        }
    }
}

impl std::fmt::Debug for ScimTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScimTarget")
            .field("base_url", &self.base_url)
            .field("bearer_token", &"***")
            .field("verify", &self.verify)
            .field("revoke_by", &self.revoke_by)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// A client for one [`ScimTarget`]; cheap to share, one connection pool per target.
pub struct ScimClient {
    transport: Transport,
    base: Url,
    verify: VerifyMode,
    revoke_by: RevokeBy,
}

impl std::fmt::Debug for ScimClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScimClient")
            .field("base", &self.base.as_str())
            .field("verify", &self.verify)
            .field("revoke_by", &self.revoke_by)
            .finish_non_exhaustive()
    }
}

/// A read of one account with the version to write against.
struct Read {
    observation: Observation,
    etag: Option<String>,
}

impl ScimClient {
    /// Checks the configuration up front, so a bad target fails on the admin page rather than in the outbox.
    pub fn new(target: ScimTarget) -> Result<ScimClient, CallError> {
        let base = Url::parse(target.base_url.trim())
            .map_err(|e| invalid("invalid_config", format!("the SCIM base URL is not a URL: {e}")))?;
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() || base.host().is_none() {
            return Err(invalid("invalid_config", "the SCIM base URL must be http(s)://host/path"));
        }
        if !base.username().is_empty() || base.password().is_some() {
            return Err(invalid("invalid_config", "put no credentials in the SCIM base URL; use the bearer token"));
        }
        if base.query().is_some() || base.fragment().is_some() {
            return Err(invalid("invalid_config", "the SCIM base URL must have no query or fragment"));
        }
        if target.verify == VerifyMode::ReadAbsent && target.revoke_by == RevokeBy::Deactivate {
            return Err(invalid(
                "invalid_config",
                "verifying by \"not found\" needs revocation by DELETE: a deactivated account is still found",
            ));
        }
        let transport = Transport::new(&target.bearer_token, target.timeout)?;
        Ok(ScimClient { transport, base, verify: target.verify, revoke_by: target.revoke_by })
    }

    /// Reads one account: 404 is [`AccessState::Absent`], `active: false` is [`AccessState::Disabled`].
    /// A user without an `active` attribute counts as active: nothing shows it cannot sign in.
    pub async fn read_state(&self, id: &str) -> Result<Observation, CallError> {
        Ok(self.read(id).await?.observation)
    }

    /// Ids of the active accounts whose `userName` equals `user_name` (case-insensitively, as RFC 7643
    /// defines `userName`), for [`VerifyMode::NoActiveMatch`].
    pub async fn find_active(&self, user_name: &str) -> Result<Vec<String>, CallError> {
        if user_name.trim().is_empty() {
            return Err(invalid("invalid_user_name", "an empty user name would match nobody and prove nothing"));
        }
        let filter = eq_filter("userName", user_name);
        let mut active = Vec::new();
        let mut seen = 0;
        for _ in 0..MAX_PAGES {
            let mut url = self.url(&["Users"]);
            url.query_pairs_mut()
                .append_pair("filter", &filter)
                .append_pair("startIndex", &(seen + 1).to_string())
                .append_pair("count", &PAGE_SIZE.to_string());
            let answer = self.transport.exchange(Method::GET, url, None, None).await?;
            if answer.status != StatusCode::OK || !answer.json {
                return Err(self.unexpected(&answer, "a search"));
            }
            let resources = answer.body.get("Resources").or_else(|| answer.body.get("resources"));
            let page = resources.and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
            for resource in page {
                let name = resource.get("userName").and_then(Value::as_str).unwrap_or_default();
                if !names_match(name, user_name) {
                    return Err(invalid(
                        "filter_ignored",
                        "the service answered a userName filter with other users: it cannot verify by search",
                    ));
                }
                if access_of(resource) == AccessState::Active {
                    let id = resource.get("id").and_then(Value::as_str).unwrap_or_default();
                    active.push(id.to_owned());
                }
            }
            seen += page.len();
            let total = answer.body.get("totalResults").and_then(Value::as_u64).unwrap_or(0);
            if page.is_empty() || seen as u64 >= total {
                return Ok(active);
            }
        }
        Err(invalid("too_many_matches", format!("more than {} accounts match one user name", PAGE_SIZE * MAX_PAGES)))
    }

    /// Carries out an intent and returns the read-back. Idempotent: an account already in the asked state, or
    /// already gone for Freeze and Revoke, is a success with no write.
    pub async fn apply(&self, intent: Intent, id: &str) -> Result<Observation, CallError> {
        match (intent, self.revoke_by) {
            (Intent::Revoke, RevokeBy::Delete) => self.delete(id).await,
            (Intent::Freeze | Intent::Revoke, _) => self.set_active(id, false).await,
            (Intent::Unfreeze, _) => self.set_active(id, true).await,
        }
    }

    /// Whether a read-back proves revocation in this target's [`VerifyMode`].
    pub fn verdict(&self, obs: &Observation) -> Verdict {
        self.verify.judge(obs.state)
    }

    /// Asks the app whether access is gone: by reading `id`, or by searching `user_name` for
    /// [`VerifyMode::NoActiveMatch`]. An error means the caller records [`Verdict::Unverifiable`].
    pub async fn verify(&self, id: &str, user_name: &str) -> Result<Verdict, CallError> {
        match self.verify {
            VerifyMode::NoActiveMatch => {
                let active = self.find_active(user_name).await?;
                Ok(if active.is_empty() { Verdict::Verified } else { Verdict::NotRevoked })
            }
            mode => Ok(mode.judge(self.read_state(id).await?.state)),
        }
    }

    /// For the admin page: the service answers as SCIM and accepts the token. The discovery endpoint needs no
    /// authentication (RFC 7644 §4), so the token is checked with a one-result list of `/Users`.
    pub async fn test_connection(&self) -> Result<(), CallError> {
        let answer = self.transport.exchange(Method::GET, self.url(&["ServiceProviderConfig"]), None, None).await?;
        if answer.status != StatusCode::OK || !answer.json {
            return Err(self.unexpected(&answer, "the service provider configuration"));
        }
        self.check_users_endpoint().await
    }

    /// Runs the PATCH step of [`apply`](Self::apply) from a given version, so tests can make the version
    /// stale and watch the 412 recovery.
    #[doc(hidden)]
    pub async fn patch_active_with_etag(&self, id: &str, active: bool, etag: &str) -> Result<Observation, CallError> {
        self.patch_active(id, active, Some(etag.to_owned())).await
    }

    async fn set_active(&self, id: &str, active: bool) -> Result<Observation, CallError> {
        let before = self.read(id).await?;
        if let Some(done) = settled(before.observation.clone(), active)? {
            return Ok(done);
        }
        self.patch_active(id, active, before.etag).await
    }

    /// PATCH `active` with `If-Match` when the service versions its resources; on 412 (someone changed the
    /// account meanwhile) reads again and retries once.
    async fn patch_active(&self, id: &str, active: bool, mut etag: Option<String>) -> Result<Observation, CallError> {
        let body = json!({
            "schemas": [PATCH_SCHEMA],
            "Operations": [{"op": "replace", "path": "active", "value": active}],
        });
        let mut retried = false;
        loop {
            let url = self.user_url(id)?;
            let answer = self.transport.exchange(Method::PATCH, url, Some(&body), etag.as_deref()).await?;
            match answer.status {
                s if s.is_success() => return self.read_back(id).await,
                // Gone meanwhile: nothing was changed, so the read keeps its own error kinds.
                StatusCode::NOT_FOUND if !active => return self.read_state(id).await,
                StatusCode::PRECONDITION_FAILED if !retried => {
                    retried = true;
                    let now = self.read(id).await?;
                    if let Some(done) = settled(now.observation, active)? {
                        return Ok(done);
                    }
                    etag = now.etag;
                }
                _ => return Err(self.transport.refusal(&answer)),
            }
        }
    }

    async fn delete(&self, id: &str) -> Result<Observation, CallError> {
        let answer = self.transport.exchange(Method::DELETE, self.user_url(id)?, None, None).await?;
        if answer.status.is_success() {
            self.read_back(id).await
        } else if answer.status == StatusCode::NOT_FOUND {
            // Already gone, or a wrong base URL: the read tells which, and nothing was changed.
            self.read_state(id).await
        } else {
            Err(self.transport.refusal(&answer))
        }
    }

    /// The read after a write: a failure here says nothing about the write, so it can only be ambiguous.
    async fn read_back(&self, id: &str) -> Result<Observation, CallError> {
        self.read_state(id).await.map_err(|e| CallError::Ambiguous {
            system: SYSTEM,
            message: format!("the change was sent, but reading it back failed: {e}"),
        })
    }

    async fn read(&self, id: &str) -> Result<Read, CallError> {
        let answer = self.transport.exchange(Method::GET, self.user_url(id)?, None, None).await?;
        match answer.status {
            StatusCode::OK if answer.json && answer.body.is_object() => Ok(Read {
                observation: Observation {
                    state: access_of(&answer.body),
                    evidence: answer.evidence(),
                    request_id: answer.request_id.clone(),
                },
                etag: answer.etag(),
            }),
            StatusCode::NOT_FOUND => {
                self.check_users_endpoint().await?;
                let observation = Observation {
                    state: AccessState::Absent,
                    evidence: answer.evidence(),
                    request_id: answer.request_id.clone(),
                };
                Ok(Read { observation, etag: None })
            }
            _ => Err(self.unexpected(&answer, "a user")),
        }
    }

    /// Proves the base URL and token reach a real `/Users` endpoint, so its 404s mean "no such user".
    async fn check_users_endpoint(&self) -> Result<(), CallError> {
        let mut url = self.url(&["Users"]);
        url.query_pairs_mut().append_pair("startIndex", "1").append_pair("count", "1");
        let answer = self.transport.exchange(Method::GET, url, None, None).await?;
        match answer.status {
            StatusCode::OK if answer.json => Ok(()),
            StatusCode::NOT_FOUND => Err(invalid("404", "no SCIM /Users endpoint at this base URL: check the URL")),
            _ => Err(self.unexpected(&answer, "the user list")),
        }
    }

    /// A refusal for an error status, or for a success that is not the JSON asked for.
    fn unexpected(&self, answer: &Answer, what: &str) -> CallError {
        if answer.status.is_success() {
            invalid("invalid_response", format!("HTTP {} without {what} as JSON: not a SCIM service?", answer.status))
        } else {
            self.transport.refusal(answer)
        }
    }

    fn user_url(&self, id: &str) -> Result<Url, CallError> {
        if id.is_empty() || id == "." || id == ".." {
            return Err(invalid("invalid_id", format!("{id:?} is not a SCIM resource id")));
        }
        Ok(self.url(&["Users", id]))
    }

    /// The base URL with path segments appended (percent-encoded, so an id cannot escape `/Users/`).
    fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }
}

/// The observation when the account is already where `active` asks, so no write is needed.
fn settled(observation: Observation, active: bool) -> Result<Option<Observation>, CallError> {
    match (observation.state, active) {
        (AccessState::Absent, true) => Err(invalid("404", "the account no longer exists: it cannot be re-enabled")),
        (AccessState::Absent | AccessState::Disabled, false) | (AccessState::Active, true) => Ok(Some(observation)),
        _ => Ok(None),
    }
}

/// `active` per RFC 7643 §4.1.1, also accepting the "true"/"false" strings some services send.
fn access_of(user: &Value) -> AccessState {
    let active = match user.get("active") {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => !s.eq_ignore_ascii_case("false"),
        _ => true,
    };
    if active { AccessState::Active } else { AccessState::Disabled }
}

/// `attr eq "value"` with the value as a JSON string (RFC 7644 §3.4.2.2), so quotes and backslashes in a
/// name cannot change the filter.
fn eq_filter(attribute: &str, value: &str) -> String {
    format!("{attribute} eq {}", Value::String(value.to_owned()))
}

/// `userName` is case-insensitive (RFC 7643 §4.1.1); full Unicode folding is left to the server.
fn names_match(found: &str, asked: &str) -> bool {
    found == asked || found.to_lowercase() == asked.to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_values_are_json_strings() {
        assert_eq!(eq_filter("userName", "zhang"), r#"userName eq "zhang""#);
        assert_eq!(eq_filter("userName", r#"o"brien\x"#), r#"userName eq "o\"brien\\x""#);
        assert_eq!(eq_filter("userName", "王喆\n"), "userName eq \"王喆\\n\"");
    }

    #[test]
    fn active_is_read_conservatively() {
        assert_eq!(access_of(&json!({"active": false})), AccessState::Disabled);
        assert_eq!(access_of(&json!({"active": "False"})), AccessState::Disabled);
        assert_eq!(access_of(&json!({"active": true})), AccessState::Active);
        assert_eq!(access_of(&json!({"userName": "x"})), AccessState::Active);
    }

    #[test]
    fn bad_targets_are_refused_and_the_token_is_not_printed() {
        let mut target = ScimTarget::new("http://127.0.0.1:1/v2", "tok-12345");
        assert!(!format!("{target:?}").contains("tok-12345"));
        let client = ScimClient::new(target.clone()).expect("client");
        assert_eq!(client.url(&["Users", "a/b"]).as_str(), "http://127.0.0.1:1/v2/Users/a%2Fb");
        assert!(!format!("{client:?}").contains("tok-12345"));
        target.verify = VerifyMode::ReadAbsent;
        assert!(ScimClient::new(target.clone()).is_err(), "deactivation is never 'not found'");
        for url in ["ftp://h/v2", "http://u:p@h/v2", "http://h/v2?x=1", "not a url"] {
            assert!(ScimClient::new(ScimTarget::new(url, "tok-12345")).is_err(), "{url}");
        }
        let slash = ScimClient::new(ScimTarget::new("http://h/scim/v2/", "t")).expect("client");
        assert_eq!(slash.url(&["Users"]).as_str(), "http://h/scim/v2/Users");
    }
}
