//! The only crate that speaks SQL.
//!
//! One [`Db`] enum holds a real pool per backend (SQLite or PostgreSQL) instead of sqlx's `Any`
//! driver, which loses dates and JSON. Queries are written once with `$N` placeholders (both
//! backends accept them) and dispatched to the right driver by the [`on_conn!`] macro.

pub mod audit;
mod db;
pub mod employees;
pub mod imports;
mod migrate;
pub mod org;
pub mod settings;
pub mod users;

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
