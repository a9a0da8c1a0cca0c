//! The vocabulary every identity connector speaks: what Lizhi asks a system to do to one account, what it
//! reads back, and how sure it can be that access is gone. The outbox worker only sees these types, so a
//! retry policy ("read back before retrying an ambiguous failure") is written once for every system.

use serde::{Deserialize, Serialize};

pub use lizhi_core::connector::Intent;

/// An account's access as read from the system itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccessState {
    /// The account can sign in.
    Active,
    /// The account exists but cannot sign in (disabled, locked, `active: false`).
    Disabled,
    /// The system does not know the account (deleted, or never existed).
    Absent,
}

/// One read-back: the state, and what the system answered (secrets removed) as evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    /// What the answer means.
    pub state: AccessState,
    /// The system's answer, redacted (no tokens, passwords or secrets), kept as evidence.
    pub evidence: serde_json::Value,
    /// The system's request id or similar correlation value, when it gives one.
    pub request_id: Option<String>,
}

/// Whether access is gone, judged from a read-back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The read-back shows no access.
    Verified,
    /// The read-back shows access (never revoked, or re-enabled since: drift).
    NotRevoked,
    /// The system could not be asked, or its answer cannot tell.
    Unverifiable,
}

/// How a target proves revocation; configured per target because `active=false` and deletion mean
/// different things in different systems.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VerifyMode {
    /// Reading the account shows it disabled (or gone).
    ReadDisabled,
    /// Reading the account gives "not found".
    ReadAbsent,
    /// A search for active accounts with this identity finds none.
    NoActiveMatch,
}

impl VerifyMode {
    /// The verdict for a state read in this mode.
    pub fn judge(self, state: AccessState) -> Verdict {
        match (self, state) {
            (_, AccessState::Active) => Verdict::NotRevoked,
            (VerifyMode::ReadAbsent, AccessState::Disabled) => Verdict::NotRevoked,
            _ => Verdict::Verified,
        }
    }
}

/// Why a call did not succeed. The split between the two kinds drives the retry policy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// The system answered and refused; nothing changed. `retryable` for rate limits and expired tokens.
    #[error("{system} refused ({code}): {message}")]
    Refused {
        /// Connector kind.
        system: &'static str,
        /// The system's error code, or the HTTP status.
        code: String,
        /// Its message.
        message: String,
        /// Whether trying again later may succeed.
        retryable: bool,
    },
    /// The outcome is unknown (timeout, connection lost after sending, 5xx): read back before retrying.
    #[error("{system}: outcome unknown: {message}")]
    Ambiguous {
        /// Connector kind.
        system: &'static str,
        /// What happened.
        message: String,
    },
}

impl CallError {
    /// Whether trying again may succeed: a refusal that may pass later, or an outcome nobody knows (which
    /// the access worker reads back before acting again).
    pub fn worth_retrying(&self) -> bool {
        match self {
            CallError::Refused { retryable, .. } => *retryable,
            CallError::Ambiguous { .. } => true,
        }
    }

    /// Stable code for logs and the outbox row.
    pub fn code(&self) -> &'static str {
        match self {
            CallError::Refused { retryable: true, .. } => "connector_refused_retryable",
            CallError::Refused { .. } => "connector_refused",
            CallError::Ambiguous { .. } => "connector_ambiguous",
        }
    }
}

/// Whether a JSON key names a secret (`password`, `userPassword`, `access_token`, `client_secret`, `api_key`…).
fn is_secret_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    ["password", "secret", "token", "authorization", "credential"].iter().any(|s| key.contains(s))
        || key == "key"
        || key.ends_with("_key")
}

/// Replaces the values of secret-looking keys in a JSON answer before it is kept as evidence.
pub fn redact(mut value: serde_json::Value) -> serde_json::Value {
    fn walk(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(map) => {
                for (k, v) in map.iter_mut() {
                    if is_secret_key(k) {
                        *v = serde_json::Value::String("***".into());
                    } else {
                        walk(v);
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut value);
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_follow_the_target_mode() {
        assert_eq!(VerifyMode::ReadDisabled.judge(AccessState::Disabled), Verdict::Verified);
        assert_eq!(VerifyMode::ReadDisabled.judge(AccessState::Absent), Verdict::Verified);
        assert_eq!(VerifyMode::ReadAbsent.judge(AccessState::Disabled), Verdict::NotRevoked);
        assert_eq!(VerifyMode::NoActiveMatch.judge(AccessState::Active), Verdict::NotRevoked);
    }

    #[test]
    fn secrets_are_removed_from_evidence() {
        let raw = serde_json::json!({"userid": "zhangsan", "access_token": "abc", "nested": [{"userPassword": "x", "name": "n"}],
            "client_secret": "s", "status": 2});
        let clean = redact(raw);
        assert_eq!(clean["userid"], "zhangsan");
        assert_eq!(clean["status"], 2);
        assert_eq!(clean["access_token"], "***");
        assert_eq!(clean["client_secret"], "***");
        assert_eq!(clean["nested"][0]["userPassword"], "***");
        assert_eq!(clean["nested"][0]["name"], "n");
    }
}
