//! Pools, connections and transactions for both backends.

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgConnection, PgPool, Postgres, Sqlite, SqliteConnection, SqlitePool, Transaction};
use std::str::FromStr;
use std::time::Duration;

/// Everything that can go wrong below the use cases.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database URL names no backend Lizhi supports.
    #[error("unsupported database URL (expected sqlite://… or postgres://…): {0}")]
    UnsupportedUrl(String),
    /// The data folder for SQLite could not be created.
    #[error("cannot create the database folder {path}: {source}")]
    Folder { path: String, source: std::io::Error },
    /// A migration failed or an applied one was edited.
    #[error("migration {version}: {message}")]
    Migration { version: i64, message: String },
    /// A unique constraint refused the write.
    #[error("already exists: {0}")]
    Conflict(String),
    /// Stored data does not have the shape Lizhi writes (edited by hand, or a bug).
    #[error("stored data is malformed: {0}")]
    Corrupt(String),
    /// The operating system gave no random bytes (for salts).
    #[error("no randomness: {0}")]
    NoRandomness(String),
    /// Anything else the driver reported.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

impl StoreError {
    /// Stable code for API responses and logs.
    pub fn code(&self) -> &'static str {
        match self {
            StoreError::UnsupportedUrl(_) => "unsupported_database_url",
            StoreError::Folder { .. } => "database_folder",
            StoreError::Migration { .. } => "migration_failed",
            StoreError::Conflict(_) => "conflict",
            StoreError::Corrupt(_) => "corrupt_data",
            StoreError::NoRandomness(_) => "no_randomness",
            StoreError::Database(_) => "database_error",
        }
    }

    /// Turns a unique-constraint violation into [`StoreError::Conflict`], leaving others as they are.
    pub fn from_write(err: sqlx::Error) -> StoreError {
        if let sqlx::Error::Database(db) = &err
            && db.is_unique_violation()
        {
            return StoreError::Conflict(db.message().to_owned());
        }
        StoreError::Database(err)
    }
}

/// Which engine a [`Db`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded file database, the zero-config default.
    Sqlite,
    /// Server database for several instances.
    Postgres,
}

/// A connection pool for one of the two backends.
#[derive(Debug, Clone)]
pub enum Db {
    /// SQLite pool.
    Sqlite(SqlitePool),
    /// PostgreSQL pool.
    Postgres(PgPool),
}

/// A borrowed connection of either backend; repositories take `&mut Conn` so the same function
/// works inside a transaction or on a plain pooled connection.
pub enum Conn<'a> {
    /// SQLite connection.
    Sqlite(&'a mut SqliteConnection),
    /// PostgreSQL connection.
    Postgres(&'a mut PgConnection),
}

impl Conn<'_> {
    /// An aggregate that packs the selected rows of `columns` into one JSON array of arrays, as
    /// text. The drivers hand rows over one at a time at several microseconds each, so reads of
    /// tens of thousands of rows ask the database for a few packed values instead.
    pub(crate) fn json_rows(&self, columns: &str) -> String {
        match self {
            Conn::Sqlite(_) => format!("CAST(json_group_array(json_array({columns})) AS TEXT)"),
            Conn::Postgres(_) => format!("CAST(json_agg(json_build_array({columns})) AS TEXT)"),
        }
    }
}

/// An open write transaction; dropped without [`Tx::commit`] it rolls back.
pub enum Tx {
    /// SQLite transaction started with `BEGIN IMMEDIATE`.
    Sqlite(Transaction<'static, Sqlite>),
    /// PostgreSQL transaction.
    Postgres(Transaction<'static, Postgres>),
}

/// A connection checked out of the pool for reads.
pub enum PooledConn {
    /// SQLite.
    Sqlite(sqlx::pool::PoolConnection<Sqlite>),
    /// PostgreSQL.
    Postgres(sqlx::pool::PoolConnection<Postgres>),
}

impl Db {
    /// Opens a pool for `url`, creating the SQLite file and its folder when missing.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Db, StoreError> {
        if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
                // A large import touches far more than the default 2 MiB of pages; spilling them
                // mid-transaction and reading them back made a million punches three times slower.
                // Pages are allocated only when used, so idle connections stay small.
                .pragma("cache_size", "-65536")
                // Statement journals (one per multi-row insert) in memory, not in temp files.
                .pragma("temp_store", "memory");
            if let Some(parent) = options.get_filename().parent()
                && !parent.as_os_str().is_empty()
            {
                std::fs::create_dir_all(parent)
                    .map_err(|source| StoreError::Folder { path: parent.display().to_string(), source })?;
            }
            let pool = SqlitePoolOptions::new()
                .max_connections(max_connections.max(1))
                .acquire_timeout(Duration::from_secs(15))
                .connect_with(options)
                .await?;
            Ok(Db::Sqlite(pool))
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let options = PgConnectOptions::from_str(url)?;
            let pool = PgPoolOptions::new()
                .max_connections(max_connections.max(1))
                .acquire_timeout(Duration::from_secs(5))
                .connect_with(options)
                .await?;
            Ok(Db::Postgres(pool))
        } else {
            Err(StoreError::UnsupportedUrl(redact_url(url)))
        }
    }

    /// The engine behind this pool.
    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// Starts a write transaction (`BEGIN IMMEDIATE` on SQLite so it cannot fail half-way with BUSY).
    pub async fn begin(&self) -> Result<Tx, StoreError> {
        Ok(match self {
            Db::Sqlite(pool) => Tx::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?),
            Db::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }

    /// Starts a read-only transaction that sees one snapshot throughout (a deferred transaction in SQLite's
    /// WAL mode, REPEATABLE READ on PostgreSQL), for checks that read a lot while others keep writing.
    /// Dropping it rolls back.
    pub async fn begin_snapshot(&self) -> Result<Tx, StoreError> {
        Ok(match self {
            Db::Sqlite(pool) => Tx::Sqlite(pool.begin_with("BEGIN DEFERRED").await?),
            Db::Postgres(pool) => {
                Tx::Postgres(pool.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").await?)
            }
        })
    }

    /// Checks out a connection for reads.
    pub async fn acquire(&self) -> Result<PooledConn, StoreError> {
        Ok(match self {
            Db::Sqlite(pool) => PooledConn::Sqlite(pool.acquire().await?),
            Db::Postgres(pool) => PooledConn::Postgres(pool.acquire().await?),
        })
    }

    /// Applies pending migrations; safe when several instances start together.
    pub async fn migrate(&self) -> Result<Vec<i64>, StoreError> {
        crate::migrate::run(self).await
    }

    /// Closes every connection (lets SQLite checkpoint its WAL).
    pub async fn close(&self) {
        match self {
            Db::Sqlite(pool) => pool.close().await,
            Db::Postgres(pool) => pool.close().await,
        }
    }

    /// Whether the database answers a trivial query (for `/healthz`).
    pub async fn ping(&self) -> Result<(), StoreError> {
        match self {
            Db::Sqlite(pool) => sqlx::query("SELECT 1").execute(pool).await.map(drop)?,
            Db::Postgres(pool) => sqlx::query("SELECT 1").execute(pool).await.map(drop)?,
        }
        Ok(())
    }

    /// Writes a consistent copy of a SQLite database to `target` with `VACUUM INTO`.
    ///
    /// PostgreSQL is refused: `pg_dump` is the right tool there and the error says so.
    pub async fn backup_to(&self, target: &str) -> Result<(), StoreError> {
        match self {
            Db::Sqlite(pool) => {
                sqlx::query("VACUUM INTO $1").bind(target).execute(pool).await?;
                Ok(())
            }
            Db::Postgres(_) => {
                Err(StoreError::UnsupportedUrl("backup of PostgreSQL is done with pg_dump (see README)".into()))
            }
        }
    }
}

impl Tx {
    /// The transaction's connection.
    pub fn conn(&mut self) -> Conn<'_> {
        match self {
            Tx::Sqlite(tx) => Conn::Sqlite(&mut *tx),
            Tx::Postgres(tx) => Conn::Postgres(&mut *tx),
        }
    }

    /// Makes every write of the transaction durable at once.
    pub async fn commit(self) -> Result<(), StoreError> {
        match self {
            Tx::Sqlite(tx) => tx.commit().await?,
            Tx::Postgres(tx) => tx.commit().await?,
        }
        Ok(())
    }
}

impl PooledConn {
    /// The connection.
    pub fn conn(&mut self) -> Conn<'_> {
        match self {
            PooledConn::Sqlite(c) => Conn::Sqlite(&mut *c),
            PooledConn::Postgres(c) => Conn::Postgres(&mut *c),
        }
    }
}

/// Hides a password in a URL before it reaches a message or a log.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{}:***{}", &url[..scheme + 3], user, &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}
