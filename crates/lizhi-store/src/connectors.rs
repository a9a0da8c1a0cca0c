//! Configured connectors and the accounts employees hold in them. Secrets are stored sealed by the caller
//! and never read back by listing functions.

use crate::{Conn, StoreError, on_conn};
use chrono::{DateTime, Utc};

/// A connector as stored, without its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectorRow {
    /// Id.
    pub id: i64,
    /// Code.
    pub code: String,
    /// Kind name.
    pub kind: String,
    /// Display name.
    pub name: String,
    /// Settings (JSON text, no secrets).
    pub settings: String,
    /// Whether a sealed secret is stored.
    pub has_secret: bool,
    /// Position in the revocation order.
    pub revoke_order: i32,
    /// Whether it is in use.
    pub enabled: bool,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

type Row = (i64, String, String, String, String, bool, i32, bool, DateTime<Utc>);

fn to_row((id, code, kind, name, settings, has_secret, revoke_order, enabled, updated_at): Row) -> ConnectorRow {
    ConnectorRow { id, code, kind, name, settings, has_secret, revoke_order, enabled, updated_at }
}

/// Every connector, in revocation order.
pub async fn list(c: &mut Conn<'_>) -> Result<Vec<ConnectorRow>, StoreError> {
    let sql = "SELECT id, code, kind, name, settings, sealed_secret IS NOT NULL, revoke_order, enabled, updated_at \
               FROM connectors ORDER BY revoke_order, code";
    let rows: Vec<Row> = on_conn!(c, c => sqlx::query_as(sql).fetch_all(&mut **c).await?);
    Ok(rows.into_iter().map(to_row).collect())
}

/// A connector and its sealed secret.
pub async fn get_with_secret(
    c: &mut Conn<'_>,
    code: &str,
) -> Result<Option<(ConnectorRow, Option<Vec<u8>>)>, StoreError> {
    type R = (i64, String, String, String, String, bool, i32, bool, DateTime<Utc>, Option<Vec<u8>>);
    let sql = "SELECT id, code, kind, name, settings, sealed_secret IS NOT NULL, revoke_order, enabled, updated_at, \
               sealed_secret FROM connectors WHERE code = $1";
    let row: Option<R> = on_conn!(c, c => sqlx::query_as(sql).bind(code).fetch_optional(&mut **c).await?);
    Ok(row.map(|(id, code, kind, name, settings, has, order, enabled, at, secret)| {
        (to_row((id, code, kind, name, settings, has, order, enabled, at)), secret)
    }))
}

/// What a connector is saved with; `sealed_secret: None` keeps the stored secret.
#[derive(Debug, Clone)]
pub struct ConnectorWrite {
    /// Code.
    pub code: String,
    /// Kind name.
    pub kind: String,
    /// Display name.
    pub name: String,
    /// Settings JSON.
    pub settings: String,
    /// A new sealed secret, or `None` to keep the current one.
    pub sealed_secret: Option<Vec<u8>>,
    /// Position in the revocation order.
    pub revoke_order: i32,
    /// Whether it is in use.
    pub enabled: bool,
}

/// Creates or replaces a connector by code; returns whether it was created.
pub async fn upsert(c: &mut Conn<'_>, w: &ConnectorWrite, now: DateTime<Utc>) -> Result<bool, StoreError> {
    let exists: Option<i64> = on_conn!(c, c => sqlx::query_scalar("SELECT id FROM connectors WHERE code = $1")
        .bind(&w.code).fetch_optional(&mut **c).await?);
    on_conn!(c, c => match exists {
        Some(id) => sqlx::query(
            "UPDATE connectors SET kind = $2, name = $3, settings = $4, sealed_secret = COALESCE($5, sealed_secret), \
             revoke_order = $6, enabled = $7, updated_at = $8 WHERE id = $1",
        )
        .bind(id).bind(&w.kind).bind(&w.name).bind(&w.settings).bind(&w.sealed_secret).bind(w.revoke_order)
        .bind(w.enabled).bind(now)
        .execute(&mut **c).await.map(|_| ())?,
        None => sqlx::query(
            "INSERT INTO connectors (code, kind, name, settings, sealed_secret, revoke_order, enabled, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
        )
        .bind(&w.code).bind(&w.kind).bind(&w.name).bind(&w.settings).bind(&w.sealed_secret).bind(w.revoke_order)
        .bind(w.enabled).bind(now)
        .execute(&mut **c).await.map(|_| ())?,
    });
    Ok(exists.is_none())
}

/// One employee's account in one connector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityRow {
    /// The employee.
    pub employee_id: i64,
    /// Employee number.
    pub employee_no: String,
    /// Connector code.
    pub system: String,
    /// The account's id in that system (WeCom userid, SCIM id, LDAP DN).
    pub account_id: String,
    /// The sign-in name, for verification by search.
    pub user_name: Option<String>,
}

type IdentityTuple = (i64, String, String, String, Option<String>);

fn to_identity((employee_id, employee_no, system, account_id, user_name): IdentityTuple) -> IdentityRow {
    IdentityRow { employee_id, employee_no, system, account_id, user_name }
}

/// Every registered account (an import compares against all of them).
pub async fn identities(c: &mut Conn<'_>) -> Result<Vec<IdentityRow>, StoreError> {
    identities_where(c, None).await
}

/// One employee's accounts, in revocation order.
pub async fn identities_of(c: &mut Conn<'_>, employee_id: i64) -> Result<Vec<IdentityRow>, StoreError> {
    identities_where(c, Some(employee_id)).await
}

async fn identities_where(c: &mut Conn<'_>, employee_id: Option<i64>) -> Result<Vec<IdentityRow>, StoreError> {
    let rows: Vec<IdentityTuple> = on_conn!(c, c => {
        let mut qb = sqlx::QueryBuilder::new(
            "SELECT i.employee_id, e.employee_no, k.code, i.account_id, i.user_name FROM identities i \
             JOIN employees e ON e.id = i.employee_id JOIN connectors k ON k.id = i.connector_id",
        );
        if let Some(id) = employee_id {
            qb.push(" WHERE i.employee_id = ").push_bind(id);
        }
        qb.push(" ORDER BY e.employee_no, k.revoke_order, k.code");
        qb.build_query_as().fetch_all(&mut **c).await?
    });
    Ok(rows.into_iter().map(to_identity).collect())
}

/// Creates or changes accounts, keyed by (employee, connector).
pub async fn upsert_identities(
    c: &mut Conn<'_>,
    rows: &[(i64, i64, String, Option<String>)],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    for (employee_id, connector_id, account_id, user_name) in rows {
        on_conn!(c, c => sqlx::query(
            "INSERT INTO identities (employee_id, connector_id, account_id, user_name, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (employee_id, connector_id) \
             DO UPDATE SET account_id = excluded.account_id, user_name = excluded.user_name, updated_at = excluded.updated_at",
        )
        .bind(employee_id).bind(connector_id).bind(account_id).bind(user_name).bind(now)
        .execute(&mut **c).await.map(|_| ())?);
    }
    Ok(())
}

/// Removes an employee's account in one connector; returns whether there was one.
pub async fn delete_identity(c: &mut Conn<'_>, employee_id: i64, connector_id: i64) -> Result<bool, StoreError> {
    let n = on_conn!(c, c => sqlx::query("DELETE FROM identities WHERE employee_id = $1 AND connector_id = $2")
        .bind(employee_id).bind(connector_id).execute(&mut **c).await?.rows_affected());
    Ok(n > 0)
}

/// The employee holding `account_id` in connector `code` (WeCom userids compare case-insensitively).
pub async fn employee_of_account(c: &mut Conn<'_>, code: &str, account_id: &str) -> Result<Option<i64>, StoreError> {
    let sql = "SELECT i.employee_id FROM identities i JOIN connectors k ON k.id = i.connector_id \
               WHERE k.code = $1 AND LOWER(i.account_id) = LOWER($2)";
    let row: Option<(i64,)> =
        on_conn!(c, c => sqlx::query_as(sql).bind(code).bind(account_id).fetch_optional(&mut **c).await?);
    Ok(row.map(|(id,)| id))
}
