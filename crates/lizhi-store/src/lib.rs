//! The only crate that speaks SQL.
//!
//! One [`Db`] enum holds a real pool per backend (SQLite or PostgreSQL) instead of sqlx's `Any`
//! driver, which loses dates and JSON. Queries are written once with `$N` placeholders (both
//! backends accept them) and dispatched to the right driver by the [`on_conn!`] macro.

pub mod access;
pub mod alumni;
pub mod approvals;
pub mod assets;
pub mod attendance;
pub mod audit;
pub mod cases;
pub mod checklist;
pub mod connectors;
mod db;
pub mod documents;
pub mod employees;
pub mod imports;
pub mod log;
mod migrate;
pub mod notifications;
pub mod org;
pub mod outbox;
pub mod risk_scans;
pub mod settings;
pub mod summary;
pub mod users;
pub mod wake;

pub use db::{Backend, Conn, Db, PooledConn, StoreError, Tx};
pub use migrate::{MIGRATIONS, Migration};

/// Runs the same query code against whichever backend a [`Conn`] holds.
///
/// `$c` is bound to `&mut &mut XConnection`; pass `&mut **$c` to sqlx executors.
#[macro_export]
macro_rules! on_conn {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            $crate::Conn::Sqlite($c) => $body,
            $crate::Conn::Postgres($c) => $body,
        }
    };
}

pub mod testing {
    //! Fresh databases for tests: a temp SQLite file, or a new PostgreSQL database when
    //! `LIZHI_TEST_DATABASE_URL` points at a server (every test gets its own, never shared state).

    use std::sync::atomic::{AtomicU64, Ordering};

    static COUNTER: AtomicU64 = AtomicU64::new(0);

    fn unique() -> String {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        format!("{}_{}_{}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed), nanos)
    }

    /// Whether tests run against PostgreSQL.
    pub fn on_postgres() -> bool {
        std::env::var("LIZHI_TEST_DATABASE_URL").is_ok_and(|u| !u.is_empty())
    }

    /// A URL to a new, empty database of the backend under test.
    pub async fn fresh_database_url() -> Result<String, crate::StoreError> {
        match std::env::var("LIZHI_TEST_DATABASE_URL") {
            Ok(admin) if !admin.is_empty() => {
                let name = format!("lizhi_test_{}", unique());
                let pool = sqlx::postgres::PgPoolOptions::new().max_connections(1).connect(&admin).await?;
                // A database name cannot be a bind parameter; `name` is made of [a-z0-9_] only.
                let sql = format!("CREATE DATABASE {name}");
                sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&pool).await?;
                pool.close().await;
                let base = admin.split('?').next().unwrap_or(&admin);
                let cut = base.rfind('/').unwrap_or(base.len());
                Ok(format!("{}/{}", &base[..cut], name))
            }
            _ => {
                let dir = std::env::temp_dir().join(format!("lizhi-test-{}", unique()));
                Ok(format!("sqlite://{}/lizhi.db", dir.display()))
            }
        }
    }
}
