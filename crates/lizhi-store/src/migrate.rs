//! A small migrator of our own: both backends carry the same numbered migrations, embedded in the
//! binary, and an applied migration that was edited afterwards is refused by checksum.

use crate::db::{Db, StoreError};
use sha2::{Digest, Sha256};
use sqlx::Row;

/// One schema step, written once per backend under the same number.
pub struct Migration {
    /// Strictly increasing number.
    pub version: i64,
    /// Short name for logs.
    pub name: &'static str,
    /// SQL for SQLite.
    pub sqlite: &'static str,
    /// SQL for PostgreSQL.
    pub postgres: &'static str,
}

/// Every migration, in order.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "foundation",
        sqlite: include_str!("../migrations/sqlite/0001_foundation.sql"),
        postgres: include_str!("../migrations/postgres/0001_foundation.sql"),
    },
    Migration {
        version: 2,
        name: "attendance",
        sqlite: include_str!("../migrations/sqlite/0002_attendance.sql"),
        postgres: include_str!("../migrations/postgres/0002_attendance.sql"),
    },
    Migration {
        version: 3,
        name: "risk_scans",
        sqlite: include_str!("../migrations/sqlite/0003_risk_scans.sql"),
        postgres: include_str!("../migrations/postgres/0003_risk_scans.sql"),
    },
    Migration {
        version: 4,
        name: "cases",
        sqlite: include_str!("../migrations/sqlite/0004_cases.sql"),
        postgres: include_str!("../migrations/postgres/0004_cases.sql"),
    },
    Migration {
        version: 5,
        name: "audit_log",
        sqlite: include_str!("../migrations/sqlite/0005_audit_log.sql"),
        postgres: include_str!("../migrations/postgres/0005_audit_log.sql"),
    },
    Migration {
        version: 6,
        name: "connectors",
        sqlite: include_str!("../migrations/sqlite/0006_connectors.sql"),
        postgres: include_str!("../migrations/postgres/0006_connectors.sql"),
    },
    Migration {
        version: 7,
        name: "deliveries",
        sqlite: include_str!("../migrations/sqlite/0007_deliveries.sql"),
        postgres: include_str!("../migrations/postgres/0007_deliveries.sql"),
    },
];

/// Arbitrary constant shared by all instances to serialise migrations on PostgreSQL.
const PG_LOCK_KEY: i64 = 0x4c_697a_6869; // "Lizhi"

fn checksum(sql: &str) -> String {
    hex::encode(Sha256::digest(sql.as_bytes()))
}

fn check_applied(version: i64, stored: &str, sql: &str) -> Result<(), StoreError> {
    if stored == checksum(sql) {
        Ok(())
    } else {
        Err(StoreError::Migration { version, message: "was edited after it was applied (checksum differs)".into() })
    }
}

fn failed(version: i64) -> impl Fn(sqlx::Error) -> StoreError {
    move |e| StoreError::Migration { version, message: e.to_string() }
}

/// Data a migration derives from what is stored, filled in the migration's own transaction.
async fn backfill(version: i64, c: &mut crate::Conn<'_>) -> Result<(), StoreError> {
    match version {
        3 => {
            crate::summary::rebuild_all(c).await.map_err(|e| StoreError::Migration { version, message: e.to_string() })
        }
        5 => crate::audit::adopt_legacy(c).await.map_err(|e| StoreError::Migration { version, message: e.to_string() }),
        _ => Ok(()),
    }
}

pub(crate) async fn run(db: &Db) -> Result<Vec<i64>, StoreError> {
    let mut applied = Vec::new();
    match db {
        Db::Sqlite(pool) => {
            sqlx::raw_sql(
                "CREATE TABLE IF NOT EXISTS lizhi_migrations (version INTEGER PRIMARY KEY, \
                 name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at TEXT NOT NULL)",
            )
            .execute(pool)
            .await?;
            for m in MIGRATIONS {
                let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
                let stored: Option<String> =
                    sqlx::query_scalar("SELECT checksum FROM lizhi_migrations WHERE version = $1")
                        .bind(m.version)
                        .fetch_optional(&mut *tx)
                        .await?;
                if let Some(stored) = stored {
                    check_applied(m.version, &stored, m.sqlite)?;
                    continue;
                }
                sqlx::raw_sql(m.sqlite).execute(&mut *tx).await.map_err(failed(m.version))?;
                backfill(m.version, &mut crate::Conn::Sqlite(&mut tx)).await?;
                sqlx::query("INSERT INTO lizhi_migrations VALUES ($1, $2, $3, $4)")
                    .bind(m.version)
                    .bind(m.name)
                    .bind(checksum(m.sqlite))
                    .bind(chrono::Utc::now())
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                applied.push(m.version);
            }
        }
        Db::Postgres(pool) => {
            let mut conn = pool.acquire().await?;
            sqlx::query("SELECT pg_advisory_lock($1)").bind(PG_LOCK_KEY).execute(&mut *conn).await?;
            let outcome = async {
                sqlx::raw_sql(
                    "CREATE TABLE IF NOT EXISTS lizhi_migrations (version BIGINT PRIMARY KEY, \
                     name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL)",
                )
                .execute(&mut *conn)
                .await?;
                for m in MIGRATIONS {
                    let row = sqlx::query("SELECT checksum FROM lizhi_migrations WHERE version = $1")
                        .bind(m.version)
                        .fetch_optional(&mut *conn)
                        .await?;
                    if let Some(row) = row {
                        check_applied(m.version, &row.try_get::<String, _>(0)?, m.postgres)?;
                        continue;
                    }
                    let mut tx = sqlx::Connection::begin(&mut *conn).await?;
                    sqlx::raw_sql(m.postgres).execute(&mut *tx).await.map_err(failed(m.version))?;
                    backfill(m.version, &mut crate::Conn::Postgres(&mut tx)).await?;
                    sqlx::query("INSERT INTO lizhi_migrations VALUES ($1, $2, $3, $4)")
                        .bind(m.version)
                        .bind(m.name)
                        .bind(checksum(m.postgres))
                        .bind(chrono::Utc::now())
                        .execute(&mut *tx)
                        .await?;
                    tx.commit().await?;
                    applied.push(m.version);
                }
                Ok::<_, StoreError>(())
            }
            .await;
            sqlx::query("SELECT pg_advisory_unlock($1)").bind(PG_LOCK_KEY).execute(&mut *conn).await?;
            outcome?;
        }
    }
    if !applied.is_empty() {
        tracing::info!(versions = ?applied, "applied migrations");
    }
    Ok(applied)
}
