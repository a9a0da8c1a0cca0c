//! Waking the outbox workers of every instance. A change that queues outbox work announces it in its own
//! transaction; on PostgreSQL that is a `NOTIFY`, delivered to every listening instance when (and only
//! if) the transaction commits, so another instance's worker starts within milliseconds instead of at its
//! next tick. SQLite has no other instances to tell; the local wake-up covers it.

use crate::{Conn, Db, StoreError};

/// The notification channel.
pub const CHANNEL: &str = "lizhi_outbox";

/// Announces queued outbox work, in the caller's transaction (nothing on SQLite).
pub async fn announce(c: &mut Conn<'_>) -> Result<(), StoreError> {
    if let Conn::Postgres(c) = c {
        sqlx::query("SELECT pg_notify($1, '')").bind(CHANNEL).execute(&mut **c).await?;
    }
    Ok(())
}

/// Listens for announcements: `None` on SQLite.
pub async fn listen(db: &Db) -> Result<Option<sqlx::postgres::PgListener>, StoreError> {
    let Db::Postgres(pool) = db else { return Ok(None) };
    let mut listener = sqlx::postgres::PgListener::connect_with(pool).await?;
    listener.listen(CHANNEL).await?;
    Ok(Some(listener))
}
