//! Connector configuration and the accounts employees hold in each system. Secrets are sealed under the
//! instance secret and never shown again; settings hold only what is safe to display.

use crate::audit::{change, record};
use crate::{App, AppError, Ctx};
use lizhi_core::auth::Permission;
use lizhi_core::connector::{ConnectorCode, ConnectorKind};
use lizhi_store::connectors::{self as store, ConnectorWrite, IdentityRow};
use serde::{Deserialize, Serialize};

/// A connector as shown to administrators: never its secret, only whether one is stored.
#[derive(Debug, Clone, Serialize)]
pub struct ConnectorInfo {
    /// Code used in identity imports and URLs.
    pub code: String,
    /// Kind name.
    pub kind: String,
    /// Display name.
    pub name: String,
    /// Non-secret settings (URLs, base DN, verification mode…).
    pub settings: serde_json::Value,
    /// Whether a secret is stored.
    pub has_secret: bool,
    /// Position in the revocation order (lower goes first).
    pub revoke_order: i32,
    /// Whether it is in use.
    pub enabled: bool,
}

/// What an administrator sends to create or change a connector.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectorInput {
    /// Kind name (`ldap`, `scim`, `manual`, `webhook`, `wecom`).
    pub kind: String,
    /// Display name.
    pub name: String,
    /// Non-secret settings, a JSON object.
    #[serde(default)]
    pub settings: serde_json::Map<String, serde_json::Value>,
    /// The secret (bind password, bearer token, app secret); absent keeps the stored one.
    #[serde(default)]
    pub secret: Option<String>,
    /// Position in the revocation order; absent = the kind's default.
    #[serde(default)]
    pub revoke_order: Option<i32>,
    /// Whether it is in use (default true).
    #[serde(default)]
    pub enabled: Option<bool>,
}

/// The purpose a connector's secret is sealed for, so it cannot be moved to another connector.
fn secret_purpose(code: &str) -> String {
    format!("lizhi connector secret {code}")
}

/// Whether a settings key looks like it holds a secret (those go in `secret`, sealed).
fn secret_like(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    ["password", "secret", "token", "credential", "private"].iter().any(|s| key.contains(s))
}

/// A check of a connector's settings with the secret it will use (the new one, else the stored one),
/// returning the problem: the connectors crate builds the client, so a typo is refused when saved rather
/// than when the first departure needs it.
pub type SettingsCheck<'a> = &'a (dyn Fn(&str, &serde_json::Value, Option<&str>) -> Result<(), String> + Sync);

/// Creates or changes a connector (administrators) without checking its settings against the client;
/// returns whether it was created.
pub async fn put(app: &App, ctx: &Ctx, code: &str, input: &ConnectorInput) -> Result<bool, AppError> {
    put_checked(app, ctx, code, input, &|_, _, _| Ok(())).await
}

/// [`put`], refusing settings that `check` finds wrong (as a row error on `settings` with the reason).
pub async fn put_checked(
    app: &App,
    ctx: &Ctx,
    code: &str,
    input: &ConnectorInput,
    check: SettingsCheck<'_>,
) -> Result<bool, AppError> {
    ctx.require(Permission::ManageUsers)?;
    let code = ConnectorCode::parse(code).map_err(|_| AppError::invalid("code", "invalid_code"))?;
    let kind = ConnectorKind::parse(&input.kind).ok_or_else(|| AppError::invalid("kind", "unknown_connector_kind"))?;
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::invalid("name", "required"));
    }
    if let Some(key) = input.settings.keys().find(|k| secret_like(k)) {
        return Err(AppError::invalid(key, "secret_in_settings"));
    }
    let settings = serde_json::Value::Object(input.settings.clone());
    let stored = match &input.secret {
        Some(_) => None,
        None => {
            let mut conn = app.db.acquire().await?;
            let found = store::get_with_secret(&mut conn.conn(), code.as_str()).await?;
            drop(conn);
            match found {
                Some((_, sealed)) => open_secret(app, code.as_str(), sealed)?,
                None => None,
            }
        }
    };
    check(kind.name(), &settings, input.secret.as_deref().or(stored.as_deref())).map_err(|problem| {
        AppError::Rejected(vec![crate::import::RowError {
            row: None,
            column: Some("settings".into()),
            code: "invalid_settings".into(),
            value: Some(problem),
        }])
    })?;
    let write = ConnectorWrite {
        code: code.to_string(),
        kind: kind.name().into(),
        name: name.into(),
        settings: settings.to_string(),
        sealed_secret: input.secret.as_deref().map(|s| app.secret.seal(&secret_purpose(code.as_str()), s.as_bytes())),
        revoke_order: input.revoke_order.unwrap_or_else(|| kind.default_revoke_order()),
        enabled: input.enabled.unwrap_or(true),
    };
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    let created = store::upsert(&mut c, &write, app.clock.now()).await?;
    // The audit event records that a secret was set, never the secret.
    let after = serde_json::json!({"kind": write.kind, "name": write.name, "settings": settings,
        "secret_set": input.secret.is_some(), "revoke_order": write.revoke_order, "enabled": write.enabled});
    record(app, &mut c, ctx, &[change(ctx, "connector.put", "connector", code.as_str(), None, Some(&after))]).await?;
    tx.commit().await?;
    Ok(created)
}

/// Every connector, in revocation order (administrators).
pub async fn list(app: &App, ctx: &Ctx) -> Result<Vec<ConnectorInfo>, AppError> {
    ctx.require(Permission::ManageUsers)?;
    let mut conn = app.db.acquire().await?;
    Ok(store::list(&mut conn.conn())
        .await?
        .into_iter()
        .map(|k| ConnectorInfo {
            code: k.code,
            kind: k.kind,
            name: k.name,
            settings: serde_json::from_str(&k.settings).unwrap_or_default(),
            has_secret: k.has_secret,
            revoke_order: k.revoke_order,
            enabled: k.enabled,
        })
        .collect())
}

/// A connector's secret in clear, for the workers that call the system; never for display.
pub async fn secret(app: &App, code: &str) -> Result<Option<String>, AppError> {
    let mut conn = app.db.acquire().await?;
    let (_, sealed) = store::get_with_secret(&mut conn.conn(), code).await?.ok_or(AppError::NotFound)?;
    open_secret(app, code, sealed)
}

/// Opens a connector's sealed secret as read from its row.
fn open_secret(app: &App, code: &str, sealed: Option<Vec<u8>>) -> Result<Option<String>, AppError> {
    let Some(sealed) = sealed else { return Ok(None) };
    let plain = app.secret.open(&secret_purpose(code), &sealed).map_err(|_| {
        AppError::Internal(format!("the secret of connector {code} does not open with this instance's key"))
    })?;
    String::from_utf8(plain).map(Some).map_err(|_| AppError::Internal("connector secret is not text".into()))
}

/// One registered account, as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Identity {
    /// Connector code.
    pub system: String,
    /// The account's id in that system.
    pub account_id: String,
    /// Its sign-in name, when registered.
    pub user_name: Option<String>,
}

impl From<IdentityRow> for Identity {
    fn from(row: IdentityRow) -> Identity {
        Identity { system: row.system, account_id: row.account_id, user_name: row.user_name }
    }
}

/// An employee's accounts, in revocation order (anyone who may see the employee).
pub async fn identities(app: &App, ctx: &Ctx, employee_no: &str) -> Result<Vec<Identity>, AppError> {
    let employee = crate::people::get_employee(app, ctx, employee_no).await?;
    let mut conn = app.db.acquire().await?;
    Ok(store::identities_of(&mut conn.conn(), employee.id).await?.into_iter().map(Identity::from).collect())
}

/// Every account registered in one connector, as (employee number, account id), for syncs from it.
pub async fn accounts_in(app: &App, ctx: &Ctx, code: &str) -> Result<Vec<(String, String)>, AppError> {
    ctx.require(Permission::ImportData)?;
    let mut conn = app.db.acquire().await?;
    Ok(store::identities(&mut conn.conn())
        .await?
        .into_iter()
        .filter(|i| i.system == code)
        .map(|i| (i.employee_no, i.account_id))
        .collect())
}

/// Registers or changes one account, with the rules of the `identities` import.
pub async fn put_identity(
    app: &App,
    ctx: &Ctx,
    employee_no: &str,
    system: &str,
    account_id: &str,
    user_name: Option<&str>,
) -> Result<bool, AppError> {
    ctx.require(Permission::EditPeople)?;
    let mut record = std::collections::BTreeMap::new();
    record.insert("employee_no".to_owned(), employee_no.to_owned());
    record.insert("system".to_owned(), system.to_owned());
    record.insert("account_id".to_owned(), account_id.to_owned());
    record.insert("user_name".to_owned(), user_name.unwrap_or_default().to_owned());
    let report = crate::import::run_records(app, ctx, crate::import::ImportKind::Identities, &[record], true).await?;
    if report.is_clean() { Ok(report.created == 1) } else { Err(AppError::Rejected(report.errors)) }
}

/// Removes an employee's account in one system; returns whether there was one.
pub async fn delete_identity(app: &App, ctx: &Ctx, employee_no: &str, system: &str) -> Result<bool, AppError> {
    ctx.require(Permission::EditPeople)?;
    let employee = crate::people::get_employee(app, ctx, employee_no).await?;
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    let (connector, _) = store::get_with_secret(&mut c, system).await?.ok_or(AppError::NotFound)?;
    let removed = store::delete_identity(&mut c, employee.id, connector.id).await?;
    if removed {
        let before = serde_json::json!({"system": system});
        record(app, &mut c, ctx, &[change(ctx, "identity.delete", "employee", employee_no, Some(&before), None)])
            .await?;
    }
    tx.commit().await?;
    Ok(removed)
}

/// A connector's kind, settings and secret, for building its client (administrators and workers).
pub async fn config(app: &App, ctx: &Ctx, code: &str) -> Result<(String, serde_json::Value, Option<String>), AppError> {
    ctx.require(Permission::ManageUsers)?;
    let mut conn = app.db.acquire().await?;
    let (row, sealed) = store::get_with_secret(&mut conn.conn(), code).await?.ok_or(AppError::NotFound)?;
    let settings = serde_json::from_str(&row.settings).unwrap_or_default();
    Ok((row.kind, settings, open_secret(app, code, sealed)?))
}
