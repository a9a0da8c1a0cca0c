//! Connectors as the organisation configures them: which kinds exist, the order revocation follows
//! (identity provider and sessions first, WeCom last), and the codes that name them in imports and URLs.

use crate::field::FieldError;
use serde::{Deserialize, Serialize};

/// The kinds of system Lizhi can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectorKind {
    /// A directory: OpenLDAP, Active Directory, 389-DS (often the SSO source).
    Ldap,
    /// A SCIM 2.0 service: an identity provider or a SaaS app.
    Scim,
    /// A system without an API (door access): an owner does it by hand and records the evidence.
    Manual,
    /// An HTTP endpoint told about departures (finance, payroll, ERP, facilities).
    Webhook,
    /// WeCom (企业微信): disabled last, so the team can still be reached while the rest is cut.
    WeCom,
}

impl ConnectorKind {
    /// Every kind, in the default revocation order.
    pub const ALL: [ConnectorKind; 5] =
        [ConnectorKind::Ldap, ConnectorKind::Scim, ConnectorKind::Manual, ConnectorKind::Webhook, ConnectorKind::WeCom];

    /// Stable name.
    pub fn name(self) -> &'static str {
        match self {
            ConnectorKind::Ldap => "ldap",
            ConnectorKind::Scim => "scim",
            ConnectorKind::Manual => "manual",
            ConnectorKind::Webhook => "webhook",
            ConnectorKind::WeCom => "wecom",
        }
    }

    /// Parses [`ConnectorKind::name`].
    pub fn parse(raw: &str) -> Option<ConnectorKind> {
        ConnectorKind::ALL.into_iter().find(|k| k.name() == raw.trim())
    }

    /// Where a connector of this kind sits in the revocation order unless configured otherwise: the
    /// directory behind single sign-on first, then apps, then manual steps and notices, WeCom last.
    pub fn default_revoke_order(self) -> i32 {
        match self {
            ConnectorKind::Ldap => 10,
            ConnectorKind::Scim => 20,
            ConnectorKind::Manual => 30,
            ConnectorKind::Webhook => 40,
            ConnectorKind::WeCom => 90,
        }
    }

    /// Whether employees hold accounts in it (webhooks only receive events).
    pub fn has_accounts(self) -> bool {
        !matches!(self, ConnectorKind::Webhook)
    }
}

/// What Lizhi asks a system to do to one account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Intent {
    /// Reversible: disable the account, keep its data (on suspicion, before confirmation).
    Freeze,
    /// Undo a freeze (the person came back).
    Unfreeze,
    /// Full revocation after confirmation: disable or delete as the target is configured, end sessions,
    /// remove group memberships.
    Revoke,
}

impl Intent {
    /// Every intent.
    pub const ALL: [Intent; 3] = [Intent::Freeze, Intent::Unfreeze, Intent::Revoke];

    /// Stable name (idempotency keys, stored actions, the API).
    pub fn name(self) -> &'static str {
        match self {
            Intent::Freeze => "freeze",
            Intent::Unfreeze => "unfreeze",
            Intent::Revoke => "revoke",
        }
    }

    /// Parses [`Intent::name`].
    pub fn parse(raw: &str) -> Option<Intent> {
        Intent::ALL.into_iter().find(|i| i.name() == raw)
    }
}

/// A connector's code, as used in identity imports and URLs: lowercase letters, digits and `-`, 1–40
/// characters, starting with a letter or digit (`corp-ad`, `feishu-scim`, `wecom`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ConnectorCode(String);

impl ConnectorCode {
    /// Validates a code.
    pub fn parse(raw: &str) -> Result<ConnectorCode, FieldError> {
        let code = raw.trim();
        let valid = !code.is_empty()
            && code.len() <= 40
            && code.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !code.starts_with('-');
        if valid { Ok(ConnectorCode(code.to_owned())) } else { Err(FieldError::InvalidCode) }
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ConnectorCode {
    type Error = FieldError;
    fn try_from(raw: String) -> Result<Self, FieldError> {
        ConnectorCode::parse(&raw)
    }
}

impl From<ConnectorCode> for String {
    fn from(code: ConnectorCode) -> String {
        code.0
    }
}

impl std::fmt::Display for ConnectorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_lowercase_slugs() {
        assert_eq!(ConnectorCode::parse(" corp-ad ").map(|c| c.to_string()), Ok("corp-ad".into()));
        for bad in ["", "Corp", "-ad", "a b", "企业微信", &"x".repeat(41)] {
            assert!(ConnectorCode::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn wecom_comes_last_and_kinds_round_trip() {
        let orders: Vec<i32> = ConnectorKind::ALL.iter().map(|k| k.default_revoke_order()).collect();
        assert!(orders.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(ConnectorKind::ALL.last(), Some(&ConnectorKind::WeCom));
        for kind in ConnectorKind::ALL {
            assert_eq!(ConnectorKind::parse(kind.name()), Some(kind));
        }
        assert!(!ConnectorKind::Webhook.has_accounts());
        for intent in Intent::ALL {
            assert_eq!(Intent::parse(intent.name()), Some(intent));
        }
        assert_eq!(Intent::parse("delete"), None);
    }
}
