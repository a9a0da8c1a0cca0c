//! A connector's client built from what an administrator registered: the kind, the non-secret settings
//! (JSON) and the secret, opened only for the call. One place knows each kind's settings, so the CLI,
//! the admin page and the outbox workers read them the same way.

use crate::access::{AccessState, CallError, Intent, Observation, Verdict, VerifyMode};
use crate::ldap::{LdapClient, LdapTarget};
use crate::scim::{RevokeBy, ScimClient, ScimTarget};
use crate::webhook::WebhookTarget;
use crate::wecom::client::{DEFAULT_BASE_URL, WeComClient, WeComTarget};
use crate::wecom::crypto::CallbackCrypto;
use serde::Deserialize;
use serde_json::Value;
use std::time::Duration;

/// A registered connector, ready to be called.
pub enum Configured {
    /// A SCIM 2.0 service.
    Scim(ScimClient),
    /// A directory; a connection is opened per use (see [`LdapClient`]).
    Ldap(Box<LdapTarget>),
    /// WeCom.
    WeCom(Box<WeComClient>),
    /// Done by a person; nothing to call.
    Manual,
    /// An HTTP endpoint that receives events.
    Webhook(Box<WebhookTarget>),
}

/// `settings` of a SCIM connector; the secret is the bearer token.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScimSettings {
    base_url: String,
    #[serde(default)]
    verify: Option<VerifyMode>,
    #[serde(default)]
    revoke_by: Option<RevokeBy>,
    #[serde(default)]
    timeout_secs: Option<u64>,
}

/// `settings` of a WeCom connector; the secret is `{"contact_sync_secret": …, "app_secret": …}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WeComSettings {
    corp_id: String,
    agent_id: i64,
    /// Whether the scheduler imports check-ins as punches (see `checkins`).
    #[serde(default)]
    #[allow(dead_code)]
    checkin_sync: Option<bool>,
    #[serde(default)]
    base_url: Option<String>,
    #[serde(default)]
    timeout_secs: Option<u64>,
}

/// The WeCom secret: the two API secrets, and the callback's token and EncodingAESKey when callbacks are used.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WeComSecrets {
    contact_sync_secret: String,
    app_secret: String,
    #[serde(default)]
    callback_token: Option<String>,
    #[serde(default)]
    encoding_aes_key: Option<String>,
}

/// `settings` of a webhook; the secret is the HMAC signing key.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WebhookSettings {
    url: String,
    #[serde(default)]
    events: Option<Vec<String>>,
    #[serde(default)]
    timeout_secs: Option<u64>,
}

fn not_callable() -> CallError {
    CallError::Refused {
        system: "connector",
        code: "not_callable".into(),
        message: "manual systems and webhooks have no accounts to call".into(),
        retryable: false,
    }
}

fn invalid(system: &'static str, message: impl Into<String>) -> CallError {
    CallError::Refused { system, code: "invalid_settings".into(), message: message.into(), retryable: false }
}

fn parse<T: for<'de> Deserialize<'de>>(system: &'static str, settings: &Value) -> Result<T, CallError> {
    serde_json::from_value(settings.clone()).map_err(|e| invalid(system, format!("settings: {e}")))
}

fn required<'s>(system: &'static str, secret: Option<&'s str>) -> Result<&'s str, CallError> {
    secret.filter(|s| !s.is_empty()).ok_or_else(|| invalid(system, "no secret is stored for this connector"))
}

impl Configured {
    /// Builds the client for a connector of `kind` (`scim`, `ldap`, `wecom`, `manual`, `webhook`).
    pub fn new(kind: &str, settings: &Value, secret: Option<&str>) -> Result<Configured, CallError> {
        match kind {
            "scim" => {
                let s: ScimSettings = parse("scim", settings)?;
                let mut target = ScimTarget::new(s.base_url, required("scim", secret)?);
                target.verify = s.verify.unwrap_or(target.verify);
                target.revoke_by = s.revoke_by.unwrap_or(target.revoke_by);
                target.timeout = s.timeout_secs.map_or(target.timeout, Duration::from_secs);
                Ok(Configured::Scim(ScimClient::new(target)?))
            }
            "ldap" => {
                // The bind password is the secret; everything else is a setting.
                let mut full =
                    settings.as_object().cloned().ok_or_else(|| invalid("ldap", "settings must be an object"))?;
                full.insert("bind_password".into(), Value::String(required("ldap", secret)?.to_owned()));
                Ok(Configured::Ldap(Box::new(parse("ldap", &Value::Object(full))?)))
            }
            "wecom" => {
                let s: WeComSettings = parse("wecom", settings)?;
                let secrets: WeComSecrets = serde_json::from_str(required("wecom", secret)?).map_err(|_| {
                    invalid("wecom", "the secret must be {\"contact_sync_secret\": \"…\", \"app_secret\": \"…\"}")
                })?;
                let mut target =
                    WeComTarget::new(s.corp_id, secrets.contact_sync_secret, s.agent_id, secrets.app_secret);
                target.base_url = s.base_url.unwrap_or_else(|| DEFAULT_BASE_URL.to_owned());
                target.timeout = s.timeout_secs.map_or(target.timeout, Duration::from_secs);
                Ok(Configured::WeCom(Box::new(WeComClient::new(target)?)))
            }
            "manual" => {
                parse::<lizhi_app::access::ManualSettings>("manual", settings)?;
                Ok(Configured::Manual)
            }
            "webhook" => {
                let s: WebhookSettings = parse("webhook", settings)?;
                if let Some(unknown) = s.events.iter().flatten().find(|e| lizhi_app::events::Event::parse(e).is_none())
                {
                    return Err(invalid("webhook", format!("unknown event {unknown:?}")));
                }
                let timeout = Duration::from_secs(s.timeout_secs.unwrap_or(10));
                Ok(Configured::Webhook(Box::new(WebhookTarget::new(&s.url, required("webhook", secret)?, timeout)?)))
            }
            other => Err(invalid("connector", format!("unknown kind {other:?}"))),
        }
    }

    /// Reads an account's access from the system.
    pub async fn read_state(&self, account: &str) -> Result<Observation, CallError> {
        match self {
            Configured::Scim(client) => client.read_state(account).await,
            Configured::Ldap(target) => {
                let client = LdapClient::connect(target).await?;
                let read = client.read_state(account).await;
                client.close().await;
                read
            }
            Configured::WeCom(client) => client.read_state(account).await,
            Configured::Manual | Configured::Webhook(_) => Err(not_callable()),
        }
    }

    /// Performs `intent` on an account and returns the read-back.
    pub async fn apply(&self, intent: Intent, account: &str) -> Result<Observation, CallError> {
        match self {
            Configured::Scim(client) => client.apply(intent, account).await,
            Configured::Ldap(target) => {
                let client = LdapClient::connect(target).await?;
                let applied = client.apply(intent, account).await;
                client.close().await;
                applied
            }
            Configured::WeCom(client) => client.apply(intent, account).await,
            Configured::Manual | Configured::Webhook(_) => Err(not_callable()),
        }
    }

    /// Whether a read-back shows `intent` done: for freeze and revoke, access gone (judged the way the
    /// target is configured, group memberships included for a directory's revoke); for unfreeze, access back.
    pub fn done(&self, intent: Intent, observation: &Observation) -> Verdict {
        if intent == Intent::Unfreeze {
            return match observation.state {
                AccessState::Active => Verdict::Verified,
                _ => Verdict::NotRevoked,
            };
        }
        match self {
            Configured::Scim(client) => client.verdict(observation),
            Configured::Ldap(target) => target.verdict_for(intent, observation),
            Configured::WeCom(client) => client.verdict(observation),
            Configured::Manual | Configured::Webhook(_) => Verdict::Unverifiable,
        }
    }

    /// Checks that the system answers with these credentials; returns what was checked.
    pub async fn test_connection(&self) -> Result<String, CallError> {
        match self {
            Configured::Scim(client) => client.test_connection().await.map(|()| "SCIM service and token".into()),
            Configured::Ldap(target) => {
                let client = LdapClient::connect(target).await?;
                let checked = client.test_connection().await;
                client.close().await;
                checked.map(|v| format!("directory bind and base: {v}"))
            }
            Configured::WeCom(client) => {
                client.test_connection().await.map(|()| "both WeCom tokens, IP and agent".into())
            }
            Configured::Manual => Ok("nothing to call: a person does it".into()),
            Configured::Webhook(target) => {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
                let body = serde_json::json!({"type": "ping", "occurred_at": now}).to_string();
                match target.deliver("ping", &format!("ping-{now}"), &body, now).await {
                    Ok(answer) => Ok(format!("{} answered {} to a signed ping", target.url(), answer.status)),
                    Err(failure) => Err(failure.error),
                }
            }
        }
    }
}

/// Whether a client can be built from these settings and secret: the check `put_checked` runs before a
/// connector is saved (web and CLI alike), giving the reason when not.
pub fn check_settings(kind: &str, settings: &Value, secret: Option<&str>) -> Result<(), String> {
    Configured::new(kind, settings, secret).map(|_| ()).map_err(|e| e.to_string())
}

/// Tests a registered connector with its stored settings and secret: the outer error is Lizhi's (unknown
/// connector, no right), the inner result what the system said.
pub async fn test_registered(
    app: &lizhi_app::App,
    ctx: &lizhi_app::Ctx,
    code: &str,
) -> Result<Result<String, CallError>, lizhi_app::AppError> {
    let (kind, settings, secret) = lizhi_app::connectors::config(app, ctx, code).await?;
    Ok(match Configured::new(&kind, &settings, secret.as_deref()) {
        Ok(client) => client.test_connection().await,
        Err(e) => Err(e),
    })
}

/// The callback crypto of a WeCom connector (its corp id is the receive id), for the callback endpoint.
pub fn wecom_callback(settings: &Value, secret: Option<&str>) -> Result<CallbackCrypto, CallError> {
    let s: WeComSettings = parse("wecom", settings)?;
    let secrets: WeComSecrets = serde_json::from_str(required("wecom", secret)?)
        .map_err(|_| invalid("wecom", "the secret is not the WeCom secret object"))?;
    let (Some(token), Some(key)) = (secrets.callback_token, secrets.encoding_aes_key) else {
        return Err(invalid("wecom", "callbacks need callback_token and encoding_aes_key in the secret"));
    };
    CallbackCrypto::new(&token, &key, &s.corp_id).map_err(|e| invalid("wecom", e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn code(r: Result<Configured, CallError>) -> String {
        match r {
            Err(CallError::Refused { code, retryable: false, .. }) => code,
            Err(other) => panic!("unexpected {other:?}"),
            Ok(_) => "ok".into(),
        }
    }

    #[test]
    fn settings_and_secrets_are_checked_per_kind() {
        let scim = json!({"base_url": "http://127.0.0.1:9/v2", "revoke_by": "delete"});
        assert_eq!(code(Configured::new("scim", &scim, Some("t"))), "ok");
        assert_eq!(code(Configured::new("scim", &scim, None)), "invalid_settings", "no token");
        assert_eq!(code(Configured::new("scim", &json!({"base_url": "x", "tokn": 1}), Some("t"))), "invalid_settings");
        let ldap =
            json!({"url": "ldap://127.0.0.1:9/", "bind_dn": "cn=admin,dc=x", "base_dn": "dc=x", "flavor": "open_ldap"});
        assert_eq!(code(Configured::new("ldap", &ldap, Some("pw"))), "ok");
        assert_eq!(code(Configured::new("ldap", &json!([1]), Some("pw"))), "invalid_settings");
        let wecom = json!({"corp_id": "ww1", "agent_id": 1000002, "base_url": "http://127.0.0.1:9"});
        let secrets = r#"{"contact_sync_secret": "c", "app_secret": "a"}"#;
        assert_eq!(code(Configured::new("wecom", &wecom, Some(secrets))), "ok");
        assert_eq!(code(Configured::new("wecom", &wecom, Some("just-one"))), "invalid_settings");
        let hook = json!({"url": "http://h/x", "events": ["pay.stop_requested"]});
        assert_eq!(code(Configured::new("webhook", &hook, Some("0123456789abcdef"))), "ok");
        assert_eq!(code(Configured::new("webhook", &hook, None)), "invalid_settings", "unsigned");
        let typo = json!({"url": "http://h/x", "events": ["pay.stopped"]});
        assert_eq!(code(Configured::new("webhook", &typo, Some("0123456789abcdef"))), "invalid_settings");
        assert_eq!(code(Configured::new("manual", &json!({"owner": "facilities"}), None)), "ok");
        assert_eq!(code(Configured::new("manual", &json!({"ownr": "x"}), None)), "invalid_settings");
        assert_eq!(code(Configured::new("fax", &json!({}), None)), "invalid_settings");
    }
}
