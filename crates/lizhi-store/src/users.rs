//! Users, their roles, sessions, API tokens and login attempts.

use crate::{Conn, StoreError, on_conn};
use chrono::{DateTime, Utc};
use lizhi_core::auth::{Grant, Role};
use lizhi_core::model::User;
use std::collections::HashMap;

type UserRow = (i64, String, String, Option<String>, bool, bool, Option<i64>, DateTime<Utc>);

/// Roles of one user, or of every user when `user_id` is `None`.
async fn grants_for(c: &mut Conn<'_>, user_id: Option<i64>) -> Result<HashMap<i64, Vec<Grant>>, StoreError> {
    let mut out: HashMap<i64, Vec<Grant>> = HashMap::new();
    let rows: Vec<(i64, String, Option<i64>)> = on_conn!(c, c => {
        let mut qb = sqlx::QueryBuilder::new("SELECT user_id, role, org_unit_id FROM user_roles");
        if let Some(id) = user_id {
            qb.push(" WHERE user_id = ").push_bind(id);
        }
        qb.push(" ORDER BY id");
        qb.build_query_as().fetch_all(&mut **c).await?
    });
    for (user_id, role, org_unit_id) in rows {
        if let Some(role) = Role::parse(&role) {
            out.entry(user_id).or_default().push(Grant { role, org_unit_id });
        }
    }
    Ok(out)
}

fn to_user(
    (id, username, display_name, locale, disabled, must_change_password, employee_id, created_at): UserRow,
    grants: Vec<Grant>,
) -> User {
    User { id, username, display_name, locale, disabled, must_change_password, employee_id, grants, created_at }
}

/// Every user with roles, by username.
pub async fn list(c: &mut Conn<'_>) -> Result<Vec<User>, StoreError> {
    const SQL: &str = "SELECT id, username, display_name, locale, disabled, must_change_password, employee_id, created_at FROM users ORDER BY username";
    let rows: Vec<UserRow> = on_conn!(c, c => sqlx::query_as(SQL).fetch_all(&mut **c).await?);
    let mut grants = grants_for(c, None).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let g = grants.remove(&r.0).unwrap_or_default();
            to_user(r, g)
        })
        .collect())
}

/// How many users exist (an empty installation prints how to create the first admin).
pub async fn count(c: &mut Conn<'_>) -> Result<i64, StoreError> {
    Ok(on_conn!(c, c => sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(&mut **c).await?))
}

/// A user by id.
pub async fn get(c: &mut Conn<'_>, id: i64) -> Result<Option<User>, StoreError> {
    let row: Option<UserRow> = on_conn!(c, c => {
        sqlx::query_as("SELECT id, username, display_name, locale, disabled, must_change_password, employee_id, created_at FROM users WHERE id = $1")
            .bind(id).fetch_optional(&mut **c).await?
    });
    match row {
        Some(r) => {
            let g = grants_for(c, Some(r.0)).await?.remove(&r.0).unwrap_or_default();
            Ok(Some(to_user(r, g)))
        }
        None => Ok(None),
    }
}

/// A user's id, password hash and disabled flag by username, for sign-in.
pub async fn credentials(c: &mut Conn<'_>, username: &str) -> Result<Option<(i64, String, bool)>, StoreError> {
    Ok(on_conn!(c, c => sqlx::query_as("SELECT id, password_hash, disabled FROM users WHERE username = $1")
        .bind(username).fetch_optional(&mut **c).await?))
}

/// Creates a user and returns its id; a taken username is a [`StoreError::Conflict`].
pub async fn create(
    c: &mut Conn<'_>,
    username: &str,
    display_name: &str,
    password_hash: &str,
    must_change: bool,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    Ok(on_conn!(c, c => sqlx::query_scalar(
        "INSERT INTO users (username, display_name, password_hash, disabled, must_change_password, created_at, updated_at) \
         VALUES ($1, $2, $3, FALSE, $4, $5, $5) RETURNING id")
        .bind(username).bind(display_name).bind(password_hash).bind(must_change).bind(now)
        .fetch_one(&mut **c).await.map_err(StoreError::from_write)?))
}

/// Replaces a user's roles.
pub async fn set_grants(c: &mut Conn<'_>, user_id: i64, grants: &[Grant]) -> Result<(), StoreError> {
    on_conn!(c, c => sqlx::query("DELETE FROM user_roles WHERE user_id = $1").bind(user_id).execute(&mut **c).await?.rows_affected());
    for g in grants {
        on_conn!(c, c => sqlx::query("INSERT INTO user_roles (user_id, role, org_unit_id) VALUES ($1, $2, $3)")
            .bind(user_id).bind(g.role.name()).bind(g.org_unit_id).execute(&mut **c).await?.rows_affected());
    }
    Ok(())
}

/// Stores a new password hash.
pub async fn set_password(
    c: &mut Conn<'_>,
    user_id: i64,
    hash: &str,
    must_change: bool,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let n = on_conn!(c, c => sqlx::query(
        "UPDATE users SET password_hash = $1, must_change_password = $2, updated_at = $3 WHERE id = $4")
        .bind(hash).bind(must_change).bind(now).bind(user_id).execute(&mut **c).await?.rows_affected());
    Ok(n == 1)
}

/// The stored password hash of a user (to check the current password before a change).
pub async fn password_hash(c: &mut Conn<'_>, user_id: i64) -> Result<Option<String>, StoreError> {
    Ok(on_conn!(c, c => sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
        .bind(user_id).fetch_optional(&mut **c).await?))
}

/// Ends every session of a user except one (after a password change, keep the current one).
pub async fn delete_other_sessions(c: &mut Conn<'_>, user_id: i64, keep_hash: &str) -> Result<(), StoreError> {
    on_conn!(c, c => sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id_hash <> $2")
        .bind(user_id).bind(keep_hash).execute(&mut **c).await?.rows_affected());
    Ok(())
}

/// Stores the preferred UI language.
pub async fn set_locale(c: &mut Conn<'_>, user_id: i64, locale: &str) -> Result<(), StoreError> {
    on_conn!(c, c => sqlx::query("UPDATE users SET locale = $1 WHERE id = $2")
        .bind(locale).bind(user_id).execute(&mut **c).await?.rows_affected());
    Ok(())
}

/// Enables or disables sign-in (and ends the user's sessions when disabling).
pub async fn set_disabled(
    c: &mut Conn<'_>,
    user_id: i64,
    disabled: bool,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    on_conn!(c, c => sqlx::query("UPDATE users SET disabled = $1, updated_at = $2 WHERE id = $3")
        .bind(disabled).bind(now).bind(user_id).execute(&mut **c).await?.rows_affected());
    if disabled {
        delete_sessions_of(c, user_id).await?;
    }
    Ok(())
}

/// Records a session (only the hash of its id is stored).
pub async fn create_session(
    c: &mut Conn<'_>,
    id_hash: &str,
    user_id: i64,
    csrf_token: &str,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), StoreError> {
    on_conn!(c, c => sqlx::query(
        "INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(id_hash).bind(user_id).bind(csrf_token).bind(now).bind(expires_at).execute(&mut **c).await?.rows_affected());
    Ok(())
}

/// The user id and CSRF token of a live session from an enabled user.
pub async fn find_session(
    c: &mut Conn<'_>,
    id_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<(i64, String)>, StoreError> {
    Ok(on_conn!(c, c => sqlx::query_as(
        "SELECT s.user_id, s.csrf_token FROM sessions s JOIN users u ON u.id = s.user_id \
         WHERE s.id_hash = $1 AND s.expires_at > $2 AND u.disabled = FALSE")
        .bind(id_hash).bind(now).fetch_optional(&mut **c).await?))
}

/// Ends one session.
pub async fn delete_session(c: &mut Conn<'_>, id_hash: &str) -> Result<(), StoreError> {
    on_conn!(c, c => sqlx::query("DELETE FROM sessions WHERE id_hash = $1").bind(id_hash).execute(&mut **c).await?.rows_affected());
    Ok(())
}

/// Ends every session of a user (password reset, disable).
pub async fn delete_sessions_of(c: &mut Conn<'_>, user_id: i64) -> Result<(), StoreError> {
    on_conn!(c, c => sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user_id).execute(&mut **c).await?.rows_affected());
    Ok(())
}

/// Removes expired sessions and old login attempts.
pub async fn purge_expired(
    c: &mut Conn<'_>,
    now: DateTime<Utc>,
    attempts_before: DateTime<Utc>,
) -> Result<(), StoreError> {
    on_conn!(c, c => sqlx::query("DELETE FROM sessions WHERE expires_at <= $1").bind(now).execute(&mut **c).await?.rows_affected());
    on_conn!(c, c => sqlx::query("DELETE FROM login_attempts WHERE at < $1").bind(attempts_before).execute(&mut **c).await?.rows_affected());
    Ok(())
}

/// Stores an API token's hash for a user; returns its id.
pub async fn create_token(
    c: &mut Conn<'_>,
    user_id: i64,
    name: &str,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    Ok(on_conn!(c, c => sqlx::query_scalar(
        "INSERT INTO api_tokens (user_id, name, token_hash, created_at) VALUES ($1, $2, $3, $4) RETURNING id")
        .bind(user_id).bind(name).bind(token_hash).bind(now).fetch_one(&mut **c).await?))
}

/// The owner of a live (not revoked) token from an enabled user, marking it used.
pub async fn use_token(c: &mut Conn<'_>, token_hash: &str, now: DateTime<Utc>) -> Result<Option<i64>, StoreError> {
    let owner: Option<(i64, i64)> = on_conn!(c, c => sqlx::query_as(
        "SELECT t.id, t.user_id FROM api_tokens t JOIN users u ON u.id = t.user_id \
         WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND u.disabled = FALSE")
        .bind(token_hash).fetch_optional(&mut **c).await?);
    if let Some((token_id, _)) = owner {
        on_conn!(c, c => sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
            .bind(now).bind(token_id).execute(&mut **c).await?.rows_affected());
    }
    Ok(owner.map(|(_, user)| user))
}

/// A token as listed to admins (never the secret).
#[derive(Debug, Clone)]
pub struct TokenInfo {
    /// Id.
    pub id: i64,
    /// Owner.
    pub user_id: i64,
    /// Label.
    pub name: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last use.
    pub last_used_at: Option<DateTime<Utc>>,
    /// Revocation time.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Every token of a user.
pub async fn list_tokens(c: &mut Conn<'_>, user_id: i64) -> Result<Vec<TokenInfo>, StoreError> {
    type R = (i64, i64, String, DateTime<Utc>, Option<DateTime<Utc>>, Option<DateTime<Utc>>);
    let rows: Vec<R> = on_conn!(c, c => sqlx::query_as(
        "SELECT id, user_id, name, created_at, last_used_at, revoked_at FROM api_tokens WHERE user_id = $1 ORDER BY id")
        .bind(user_id).fetch_all(&mut **c).await?);
    Ok(rows
        .into_iter()
        .map(|(id, user_id, name, created_at, last_used_at, revoked_at)| TokenInfo {
            id,
            user_id,
            name,
            created_at,
            last_used_at,
            revoked_at,
        })
        .collect())
}

/// Revokes a token; false when it does not exist.
pub async fn revoke_token(c: &mut Conn<'_>, token_id: i64, now: DateTime<Utc>) -> Result<bool, StoreError> {
    let n = on_conn!(c, c => sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
        .bind(now).bind(token_id).execute(&mut **c).await?.rows_affected());
    Ok(n == 1)
}

/// Records a sign-in attempt for rate limiting and forensics.
pub async fn record_attempt(
    c: &mut Conn<'_>,
    username: &str,
    client: &str,
    succeeded: bool,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    on_conn!(c, c => sqlx::query("INSERT INTO login_attempts (username, client, succeeded, at) VALUES ($1, $2, $3, $4)")
        .bind(username).bind(client).bind(succeeded).bind(now).execute(&mut **c).await?.rows_affected());
    Ok(())
}

/// Failed attempts since a time, for a username and for a client address.
pub async fn failures_since(
    c: &mut Conn<'_>,
    username: &str,
    client: &str,
    since: DateTime<Utc>,
) -> Result<(i64, i64), StoreError> {
    let by_user: i64 = on_conn!(c, c => sqlx::query_scalar(
        "SELECT COUNT(*) FROM login_attempts WHERE username = $1 AND succeeded = FALSE AND at > $2")
        .bind(username).bind(since).fetch_one(&mut **c).await?);
    let by_client: i64 = on_conn!(c, c => sqlx::query_scalar(
        "SELECT COUNT(*) FROM login_attempts WHERE client = $1 AND succeeded = FALSE AND at > $2")
        .bind(client).bind(since).fetch_one(&mut **c).await?);
    Ok((by_user, by_client))
}

/// Links a user to the employee they are (or unlinks): approvals escalate along the employee's line
/// manager, and nobody approves a case about themselves.
pub async fn set_employee(
    c: &mut Conn<'_>,
    user_id: i64,
    employee_id: Option<i64>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let sql = "UPDATE users SET employee_id = $2, updated_at = $3 WHERE id = $1";
    on_conn!(c, c => { sqlx::query(sql).bind(user_id).bind(employee_id).bind(now).execute(&mut **c).await?; });
    Ok(())
}
