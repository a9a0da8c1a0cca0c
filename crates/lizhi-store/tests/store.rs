//! Storage tests. They run on SQLite, and on PostgreSQL when `LIZHI_TEST_DATABASE_URL` is set.

use lizhi_store::testing::{fresh_database_url, on_postgres};
use lizhi_store::{Db, MIGRATIONS, StoreError, on_conn};
use std::collections::{BTreeMap, BTreeSet};

async fn fresh() -> Db {
    let url = fresh_database_url().await.expect("fresh database");
    let db = Db::connect(&url, 4).await.expect("connect");
    db.migrate().await.expect("migrate");
    db
}

/// Tables and their columns as declared in a migration file (`CREATE TABLE x ( col type, … )`,
/// SQLite's `) WITHOUT ROWID` included).
fn declared(sql: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mut out = BTreeMap::new();
    let mut rest = sql;
    while let Some(at) = rest.find("CREATE TABLE ") {
        rest = &rest[at + "CREATE TABLE ".len()..];
        let name = rest.split_whitespace().next().unwrap_or_default().trim_matches('(').to_owned();
        let body_start = rest.find('(').expect("table body");
        let body_end = rest.find("\n)").expect("table end");
        let columns = rest[body_start + 1..body_end]
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .filter_map(|l| l.split_whitespace().next())
            .map(str::to_owned)
            .collect();
        out.insert(name, columns);
    }
    out
}

#[test]
fn both_backends_declare_the_same_tables_and_columns() {
    for m in MIGRATIONS {
        let sqlite = declared(m.sqlite);
        let postgres = declared(m.postgres);
        assert!(!sqlite.is_empty(), "migration {} declares no table", m.version);
        assert_eq!(sqlite, postgres, "migration {} differs between backends", m.version);
    }
    let versions: Vec<i64> = MIGRATIONS.iter().map(|m| m.version).collect();
    assert!(versions.windows(2).all(|w| w[0] < w[1]), "versions must increase: {versions:?}");
}

async fn live_columns(db: &Db) -> BTreeMap<String, BTreeSet<String>> {
    let mut conn = db.acquire().await.expect("conn");
    let mut c = conn.conn();
    let rows: Vec<(String, String)> = on_conn!(&mut c, c => sqlx::query_as(
            if matches!(db, Db::Sqlite(_)) {
                "SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p \
                 WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'"
            } else {
                "SELECT table_name::text, column_name::text FROM information_schema.columns WHERE table_schema = 'public'"
            },
        )
        .fetch_all(&mut **c)
        .await
        .expect("columns"));
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (table, column) in rows {
        out.entry(table).or_default().insert(column);
    }
    out
}

#[tokio::test]
async fn live_schema_matches_the_other_backend() {
    let db = fresh().await;
    let live = live_columns(&db).await;
    assert!(live.contains_key("employees") && live.contains_key("lizhi_migrations"));
    if on_postgres() {
        // Compare with a real SQLite database built by the same migrations.
        let dir = tempfile::tempdir().expect("tmp");
        let sqlite = Db::connect(&format!("sqlite://{}/p.db", dir.path().display()), 1).await.expect("sqlite");
        sqlite.migrate().await.expect("migrate");
        assert_eq!(live, live_columns(&sqlite).await);
    } else {
        let declared_tables: BTreeSet<String> =
            MIGRATIONS.iter().flat_map(|m| declared(m.sqlite).into_keys()).collect();
        let live_tables: BTreeSet<String> = live.keys().filter(|t| *t != "lizhi_migrations").cloned().collect();
        assert_eq!(declared_tables, live_tables);
    }
}

#[tokio::test]
async fn migrating_again_applies_nothing_and_concurrent_starts_agree() {
    let url = fresh_database_url().await.expect("url");
    let first = Db::connect(&url, 2).await.expect("connect");
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let u = url.clone();
        tasks.push(tokio::spawn(async move {
            let db = Db::connect(&u, 2).await.expect("connect");
            db.migrate().await
        }));
    }
    let mut applied_total = 0;
    for t in tasks {
        applied_total += t.await.expect("join").expect("migrate").len();
    }
    assert_eq!(applied_total, MIGRATIONS.len(), "each migration applied exactly once");
    assert!(first.migrate().await.expect("again").is_empty());
}

#[tokio::test]
async fn an_edited_migration_is_refused() {
    let db = fresh().await;
    let mut tx = db.begin().await.expect("tx");
    on_conn!(&mut tx.conn(), c => sqlx::query("UPDATE lizhi_migrations SET checksum = 'x' WHERE version = 1")
        .execute(&mut **c).await.expect("tamper").rows_affected());
    tx.commit().await.expect("commit");
    match db.migrate().await {
        Err(StoreError::Migration { version: 1, .. }) => {}
        other => panic!("expected a migration error, got {other:?}"),
    }
}

#[tokio::test]
async fn audit_rows_cannot_be_changed_or_deleted() {
    let db = fresh().await;
    let mut tx = db.begin().await.expect("tx");
    let row = lizhi_store::audit::AuditWrite {
        actor: "t".into(),
        action: "x.create".into(),
        entity_type: "x".into(),
        entity_key: "1".into(),
        before_digest: None,
        after_digest: Some("ab".into()),
    };
    lizhi_store::audit::append(&mut tx.conn(), &[row], chrono::Utc::now(), "r1").await.expect("append");
    tx.commit().await.expect("commit");
    for sql in ["UPDATE audit_events SET actor = 'mallory'", "DELETE FROM audit_events"] {
        let mut tx = db.begin().await.expect("tx");
        let outcome =
            on_conn!(&mut tx.conn(), c => sqlx::raw_sql(sql).execute(&mut **c).await.map(|r| r.rows_affected()));
        assert!(outcome.is_err(), "{sql} must be refused");
    }
    let mut conn = db.acquire().await.expect("conn");
    assert_eq!(lizhi_store::audit::count(&mut conn.conn()).await.expect("count"), 1);
}

#[tokio::test]
async fn backup_writes_a_consistent_copy_or_refuses_on_postgres() {
    let db = fresh().await;
    let dir = tempfile::tempdir().expect("tmp");
    let target = dir.path().join("copy.db");
    let outcome = db.backup_to(&target.display().to_string()).await;
    if on_postgres() {
        assert!(outcome.is_err());
    } else {
        outcome.expect("backup");
        let copy = Db::connect(&format!("sqlite://{}", target.display()), 1).await.expect("open copy");
        assert!(copy.migrate().await.expect("copy is migrated").is_empty());
    }
}

#[tokio::test]
async fn unsupported_urls_are_refused_with_the_password_hidden() {
    match Db::connect("mysql://root:secret@localhost/x", 1).await {
        Err(StoreError::UnsupportedUrl(shown)) => assert!(!shown.contains("secret"), "{shown}"),
        other => panic!("expected refusal, got {other:?}"),
    }
}
