//! Small key/value settings shared by every instance (e.g. the instance secret).

use crate::{Conn, StoreError, on_conn};

/// A setting's value.
pub async fn get(c: &mut Conn<'_>, key: &str) -> Result<Option<String>, StoreError> {
    Ok(on_conn!(c, c => sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
        .bind(key).fetch_optional(&mut **c).await?))
}

/// Stores `value` unless the key is set already; returns the value in force (first writer wins,
/// so several instances starting together agree).
pub async fn get_or_insert(c: &mut Conn<'_>, key: &str, value: &str) -> Result<String, StoreError> {
    on_conn!(c, c => sqlx::query("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
        .bind(key).bind(value).execute(&mut **c).await?.rows_affected());
    Ok(get(c, key).await?.unwrap_or_else(|| value.to_owned()))
}
