//! WeCom (企业微信) server API client: disable a departing employee's account and read it back, notify managers
//! with text cards, and read check-in records.
//!
//! Two credentials, because WeCom splits them:
//! - the **contact-sync secret** (通讯录同步) is the only one allowed to write members (`user/update`) and to
//!   list member ids (`user/list_id`);
//! - the **app secret** (Lizhi's self-built app, with its agent id) reads members, sends messages and queries
//!   check-ins.
//!
//! Read-back caveat: since 2022-08-15, `user/get` refuses the contact-sync secret from newly added IPs, so
//! [`read_state`](WeComClient::read_state) uses the app token, which only sees members inside the app's
//! visibility (可见范围): the app must be visible to everyone Lizhi may offboard, or the read is refused (60011)
//! and the revocation cannot be verified. [`exists`](WeComClient::exists) is the fallback: `user/list_id` with the
//! contact-sync secret proves that a member is gone, but cannot tell disabled from active.
//!
//! Revocation is always `enable: 0` (status 2, reversible): Lizhi never deletes a member, because deletion is
//! irreversible and removes a bound business mailbox with its mail.
//!
//! Every call needs this server's IP on WeCom's allow-lists (errcode 60020 otherwise), and production needs
//! `https://qyapi.weixin.qq.com`, which needs a TLS-enabled reqwest; tests use `http://127.0.0.1`.

mod checkin;
mod notify;
mod pacing;
mod token;
mod wire;

pub use checkin::CheckinRecord;
pub use notify::SendReport;
pub use pacing::{Pacing, RateLimit};

use crate::access::{AccessState, CallError, Intent, Observation, Verdict, VerifyMode, redact};
use pacing::Pacer;
use reqwest::{Method, Url};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::time::Duration;
use token::{Credential, TokenSlot};
use wire::{Answer, Transport, invalid};

/// Connector kind in [`CallError`]s.
pub const SYSTEM: &str = "wecom";

/// WeCom's API host; tests point [`WeComTarget::base_url`] at a local fake instead.
pub const DEFAULT_BASE_URL: &str = "https://qyapi.weixin.qq.com";

/// `user/list_id` page size: the documented maximum.
const LIST_PAGE: u32 = 10_000;
/// Pages before `user/list_id` is given up on (ten million ids: a cursor that never ends).
const MAX_LIST_PAGES: usize = 1_000;
/// A userid is 1 to 64 bytes.
const MAX_USERID: usize = 64;

/// One WeCom corporation as Lizhi reaches it. `Debug` hides both secrets.
#[derive(Clone)]
pub struct WeComTarget {
    /// The API root, [`DEFAULT_BASE_URL`] in production.
    pub base_url: String,
    /// The corporation id (`ww…`).
    pub corp_id: String,
    /// The contact-sync secret, for member writes and `user/list_id`.
    pub contact_sync_secret: String,
    /// The agent id of Lizhi's app, for messages.
    pub agent_id: i64,
    /// The app's secret, for reads, messages and check-ins.
    pub app_secret: String,
    /// Limit for one HTTP request, answer included.
    pub timeout: Duration,
    /// Client-side pacing under WeCom's limits.
    pub pacing: Pacing,
}

impl WeComTarget {
    /// WeCom answers in well under a second; this leaves room for a slow network without holding the outbox.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15);

    /// A target on the production host with the default timeout and pacing.
    pub fn new(
        corp_id: impl Into<String>,
        contact_sync_secret: impl Into<String>,
        agent_id: i64,
        app_secret: impl Into<String>,
    ) -> Self {
        WeComTarget {
            base_url: DEFAULT_BASE_URL.to_owned(),
            corp_id: corp_id.into(),
            contact_sync_secret: contact_sync_secret.into(),
            agent_id,
            app_secret: app_secret.into(),
            timeout: Self::DEFAULT_TIMEOUT,
            pacing: Pacing::default(),
        }
    }
}

impl std::fmt::Debug for WeComTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WeComTarget")
            .field("base_url", &self.base_url)
            .field("corp_id", &self.corp_id)
            .field("contact_sync_secret", &"***")
            .field("agent_id", &self.agent_id)
            .field("app_secret", &"***")
            .field("timeout", &self.timeout)
            .field("pacing", &self.pacing)
            .finish()
    }
}

/// A client for one [`WeComTarget`]: shares tokens and pacing between all its callers, so keep one per target.
pub struct WeComClient {
    transport: Transport,
    corp_id: String,
    agent_id: i64,
    contacts: TokenSlot,
    app: TokenSlot,
    pacing: Pacing,
    members: Pacer,
    checkin_calls: Pacer,
}

impl std::fmt::Debug for WeComClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WeComClient")
            .field("corp_id", &self.corp_id)
            .field("agent_id", &self.agent_id)
            .finish_non_exhaustive()
    }
}

impl WeComClient {
    /// Checks the configuration up front, so a bad target fails on the admin page rather than in the outbox.
    pub fn new(target: WeComTarget) -> Result<WeComClient, CallError> {
        let base = Url::parse(target.base_url.trim())
            .map_err(|e| invalid("invalid_config", format!("the WeCom API base URL is not a URL: {e}")))?;
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() || base.host().is_none() {
            return Err(invalid("invalid_config", "the WeCom API base URL must be http(s)://host"));
        }
        if !base.username().is_empty() || base.password().is_some() || base.query().is_some() {
            return Err(invalid("invalid_config", "the WeCom API base URL must have no credentials or query"));
        }
        if target.corp_id.trim().is_empty() || target.agent_id <= 0 {
            return Err(invalid("invalid_config", "the corp id and a positive agent id are required"));
        }
        for (name, secret) in [("contact-sync", &target.contact_sync_secret), ("app", &target.app_secret)] {
            if secret.is_empty() || !secret.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(invalid("invalid_config", format!("the {name} secret must be non-empty visible ASCII")));
            }
        }
        let secrets = vec![target.contact_sync_secret.clone(), target.app_secret.clone()];
        let transport = Transport::new(base, target.timeout, secrets)?;
        let margin = target.pacing.margin;
        Ok(WeComClient {
            transport,
            corp_id: target.corp_id.trim().to_owned(),
            agent_id: target.agent_id,
            contacts: TokenSlot::new(Credential::ContactSync, target.contact_sync_secret),
            app: TokenSlot::new(Credential::App, target.app_secret),
            members: Pacer::new(&target.pacing.per_member, margin),
            checkin_calls: Pacer::new(&[target.pacing.checkin_calls], margin),
            pacing: target.pacing,
        })
    }

    /// Reads one member with the **app** token (`user/get`). Status 1 (active) and 4 (not activated yet: the
    /// account is enabled and the person can still join and sign in) are [`AccessState::Active`]; 2 (disabled)
    /// and 5 (quit the corporation) are [`AccessState::Disabled`]; errcode 60111 (no such userid) is
    /// [`AccessState::Absent`]. An unknown status counts as active: nothing shows access is gone.
    pub async fn read_state(&self, userid: &str) -> Result<Observation, CallError> {
        check_userid(userid)?;
        let answer = self.call(Credential::App, Method::GET, "user/get", &[("userid", userid)], None).await?;
        let state = match answer.errcode {
            0 => match answer.body.get("status").and_then(Value::as_i64) {
                Some(2 | 5) => AccessState::Disabled,
                Some(_) => AccessState::Active,
                None => return Err(invalid("invalid_response", "user/get answered without a member status")),
            },
            wire::USER_NOT_FOUND => AccessState::Absent,
            _ => return Err(answer.refusal()),
        };
        let evidence = json!({
            "api": "user/get",
            "credential": "app",
            "errcode": answer.errcode,
            "errmsg": answer.errmsg,
            "userid": answer.body.get("userid"),
            "status": answer.body.get("status"),
        });
        Ok(Observation { state, evidence: redact(evidence), request_id: answer.hint() })
    }

    /// Whether `userid` is a member, from `user/list_id` with the contact-sync secret: the fallback when the app
    /// cannot see the person. `false` proves the account is gone; `true` says nothing about disabled or active.
    pub async fn exists(&self, userid: &str) -> Result<bool, CallError> {
        check_userid(userid)?;
        let mut cursor: Option<String> = None;
        let mut seen = HashSet::new();
        for _ in 0..MAX_LIST_PAGES {
            let body = match &cursor {
                Some(cursor) => json!({"cursor": cursor, "limit": LIST_PAGE}),
                None => json!({"limit": LIST_PAGE}),
            };
            let page =
                self.call(Credential::ContactSync, Method::POST, "user/list_id", &[], Some(&body)).await?.ok()?;
            let entries = page.get("dept_user").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
            let found = entries
                .iter()
                .filter_map(|e| e.get("userid").and_then(Value::as_str))
                .any(|id| id.eq_ignore_ascii_case(userid));
            if found {
                return Ok(true);
            }
            match page.get("next_cursor").and_then(Value::as_str).filter(|c| !c.is_empty()) {
                None => return Ok(false),
                Some(next) if !seen.insert(next.to_owned()) => {
                    return Err(invalid("invalid_response", "user/list_id repeated a cursor"));
                }
                Some(next) => cursor = Some(next.to_owned()),
            }
        }
        Err(invalid("too_many_pages", format!("user/list_id gave more than {MAX_LIST_PAGES} pages")))
    }

    /// Carries out an intent with `user/update` (contact-sync token) and returns the read-back. Freeze and
    /// Revoke both set `enable: 0`, Unfreeze sets `enable: 1`; a member is never deleted. Idempotent: the
    /// write is repeated as is (WeCom keeps a disabled member disabled), and a member already gone counts as
    /// done for Freeze and Revoke. The write goes first so that a read credential problem never blocks a
    /// disable.
    pub async fn apply(&self, intent: Intent, userid: &str) -> Result<Observation, CallError> {
        check_userid(userid)?;
        let enable = matches!(intent, Intent::Unfreeze);
        let body = json!({"userid": userid, "enable": i32::from(enable)});
        let answer = self.call(Credential::ContactSync, Method::POST, "user/update", &[], Some(&body)).await?;
        match answer.errcode {
            0 => self.read_back(userid).await,
            // Nothing was changed, so the read keeps its own error kinds.
            wire::USER_NOT_FOUND if !enable => self.read_state(userid).await,
            wire::USER_NOT_FOUND => Err(invalid("60111", "the member no longer exists: it cannot be re-enabled")),
            _ => Err(answer.refusal()),
        }
    }

    /// Whether a read-back proves revocation: disabled, quit or absent is verified, active is not.
    pub fn verdict(&self, obs: &Observation) -> Verdict {
        VerifyMode::ReadDisabled.judge(obs.state)
    }

    /// For the admin page: both secrets give tokens, and each credential is accepted from this server's IP
    /// (`user/list_id` for the contact-sync secret, `agent/get` of the configured agent id for the app).
    pub async fn test_connection(&self) -> Result<(), CallError> {
        self.contacts.get(&self.transport, &self.corp_id).await?;
        self.app.get(&self.transport, &self.corp_id).await?;
        let probe = json!({"limit": 1});
        self.call(Credential::ContactSync, Method::POST, "user/list_id", &[], Some(&probe)).await?.ok()?;
        let agent = self.agent_id.to_string();
        self.call(Credential::App, Method::GET, "agent/get", &[("agentid", &agent)], None).await?.ok()?;
        Ok(())
    }

    /// One API call with a cached token. A token WeCom rejects (40001 / 40014 / 42001: expired or revoked
    /// early) is dropped, and the call is retried once with a fresh one: the rejection means nothing was done.
    async fn call(
        &self,
        credential: Credential,
        method: Method,
        api: &str,
        query: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Result<Answer, CallError> {
        let slot = match credential {
            Credential::ContactSync => &self.contacts,
            Credential::App => &self.app,
        };
        let mut refreshed = false;
        loop {
            let token = slot.get(&self.transport, &self.corp_id).await?;
            let mut full = Vec::with_capacity(query.len() + 1);
            full.push(("access_token", token.as_str()));
            full.extend_from_slice(query);
            let answer = self.transport.exchange(method.clone(), api, &full, body, &[token.as_str()]).await?;
            if !matches!(answer.errcode, wire::INVALID_SECRET | wire::INVALID_TOKEN | wire::EXPIRED_TOKEN) {
                return Ok(answer);
            }
            slot.invalidate(&token).await;
            if refreshed {
                let message = format!(
                    "{api}: WeCom refused a fresh token of the {} too; WeCom said: {}",
                    credential.label(),
                    answer.errmsg
                );
                return Err(wire::later(&answer.errcode.to_string(), message));
            }
            tracing::info!(system = SYSTEM, api, errcode = answer.errcode, "wecom token refused; refreshing once");
            refreshed = true;
        }
    }

    /// The read after a write: a failure here says nothing about the write, so it can only be ambiguous.
    async fn read_back(&self, userid: &str) -> Result<Observation, CallError> {
        self.read_state(userid).await.map_err(|e| CallError::Ambiguous {
            system: SYSTEM,
            message: format!("the change was sent, but reading it back failed: {e}"),
        })
    }
}

/// How long to wait before retrying a refusal of this client, when it says: 60 s after WeCom's frequency
/// limit (45009), the pacing wait after a send that would have exceeded a member's window.
pub fn retry_after_secs(err: &CallError) -> Option<u64> {
    let CallError::Refused { system: SYSTEM, retryable: true, message, .. } = err else { return None };
    let rest = message.split("retry after ").nth(1)?;
    rest.split(" s").next()?.parse().ok()
}

/// A userid is 1 to 64 bytes of visible ASCII and never contains `|`, WeCom's list separator.
fn check_userid(userid: &str) -> Result<(), CallError> {
    let ok =
        !userid.is_empty() && userid.len() <= MAX_USERID && userid.bytes().all(|b| b.is_ascii_graphic() && b != b'|');
    if ok { Ok(()) } else { Err(invalid("invalid_userid", format!("{userid:?} is not a WeCom userid"))) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> WeComTarget {
        let mut target = WeComTarget::new("ww0123", "contact-sync-s3cr3t", 1_000_002, "app-s3cr3t");
        target.base_url = "http://127.0.0.1:9".into();
        target
    }

    #[test]
    fn secrets_are_not_printed_and_bad_targets_are_refused() {
        let target = target();
        let printed = format!("{target:?}");
        assert!(!printed.contains("s3cr3t") && printed.contains("ww0123"), "{printed}");
        let client = WeComClient::new(target.clone()).expect("client");
        assert!(!format!("{client:?}").contains("s3cr3t"));
        for url in ["ftp://h", "http://u:p@h", "http://h/?x=1", "not a url"] {
            let mut bad = target.clone();
            bad.base_url = url.into();
            assert!(WeComClient::new(bad).is_err(), "{url}");
        }
        let mut bad = target.clone();
        bad.agent_id = 0;
        assert!(WeComClient::new(bad).is_err());
        let mut bad = target;
        bad.app_secret = "with space".into();
        assert!(WeComClient::new(bad).is_err());
    }

    #[test]
    fn userids_and_retry_hints() {
        assert!(check_userid("zhang.san-01").is_ok());
        for bad in ["", "a|b", "a b", &"x".repeat(65)] {
            assert!(check_userid(bad).is_err(), "{bad:?}");
        }
        let limit = wire::later("45009", "API frequency limit; retry after 60 s; WeCom said: x");
        assert_eq!(retry_after_secs(&limit), Some(60));
        assert_eq!(retry_after_secs(&invalid("60020", "retry after 5 s")), None);
        let other = CallError::Refused {
            system: "scim",
            code: "429".into(),
            message: "retry after 5 s".into(),
            retryable: true,
        };
        assert_eq!(retry_after_secs(&other), None);
    }
}
