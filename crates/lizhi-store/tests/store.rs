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

/// Scratch tables of a SQLite rebuild (SQLite cannot change a constraint: create `x_rebuilt`, copy, drop
/// `x`, rename): they end up under the old name, which PostgreSQL changes in place.
fn rebuilt(sql: &str) -> BTreeSet<String> {
    declared(sql)
        .into_keys()
        .filter(|t| {
            let created = sql.find(&format!("CREATE TABLE {t} "));
            let renamed = sql.find(&format!("ALTER TABLE {t} RENAME TO "));
            matches!((created, renamed), (Some(c), Some(r)) if c < r)
        })
        .collect()
}

#[test]
fn both_backends_declare_the_same_tables_and_columns() {
    for m in MIGRATIONS {
        let mut sqlite = declared(m.sqlite);
        for scratch in rebuilt(m.sqlite) {
            sqlite.remove(&scratch);
        }
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
        let scratch: BTreeSet<String> = MIGRATIONS.iter().flat_map(|m| rebuilt(m.sqlite)).collect();
        let declared_tables: BTreeSet<String> =
            MIGRATIONS.iter().flat_map(|m| declared(m.sqlite).into_keys()).filter(|t| !scratch.contains(t)).collect();
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

fn write(action: &str, key: &str) -> lizhi_store::audit::AuditWrite {
    lizhi_store::audit::AuditWrite {
        actor: "hr.li".into(),
        action: action.into(),
        entity_type: "employee".into(),
        entity_key: key.into(),
        case_id: None,
        before: None,
        after: Some(r#"{"name":"王喆"}"#.into()),
        docs: Vec::new(),
    }
}

#[tokio::test]
async fn audit_rows_cannot_be_changed_or_deleted() {
    let db = fresh().await;
    let mut tx = db.begin().await.expect("tx");
    lizhi_store::audit::append(&mut tx.conn(), &[write("x.create", "E1")], chrono::Utc::now(), "r1")
        .await
        .expect("append");
    lizhi_store::log::insert_leaf_hashes(&mut tx.conn(), 0, &[[1; 32]]).await.expect("hashes");
    tx.commit().await.expect("commit");
    for sql in [
        "UPDATE audit_events SET action = 'forged'",
        "DELETE FROM audit_events",
        "UPDATE audit_leaf_hashes SET hash = hash",
        "DELETE FROM audit_leaf_hashes",
    ] {
        let mut tx = db.begin().await.expect("tx");
        let outcome =
            on_conn!(&mut tx.conn(), c => sqlx::raw_sql(sql).execute(&mut **c).await.map(|r| r.rows_affected()));
        assert!(outcome.is_err(), "{sql} must be refused");
    }
    let mut conn = db.acquire().await.expect("conn");
    assert_eq!(lizhi_store::audit::count(&mut conn.conn()).await.expect("count"), 1);
}

#[tokio::test]
async fn positions_are_gap_free_and_personal_values_are_only_committed() {
    let db = fresh().await;
    for (n, request) in [(2, "r1"), (3, "r2")] {
        let mut tx = db.begin().await.expect("tx");
        let writes: Vec<_> = (0..n).map(|i| write("employee.update", &format!("E{i}"))).collect();
        lizhi_store::audit::append(&mut tx.conn(), &writes, chrono::Utc::now(), request).await.expect("append");
        tx.commit().await.expect("commit");
    }
    // A rolled-back append gives its positions back.
    let mut tx = db.begin().await.expect("tx");
    lizhi_store::audit::append(&mut tx.conn(), &[write("x", "E9")], chrono::Utc::now(), "r3").await.expect("append");
    drop(tx);
    let mut conn = db.acquire().await.expect("conn");
    let mut c = conn.conn();
    assert_eq!(lizhi_store::audit::head_size(&mut c).await.expect("head"), 5);
    let leaves = lizhi_store::audit::leaves(&mut c, 0, 100).await.expect("leaves");
    assert_eq!(leaves.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![0, 1, 2, 3, 4]);
    let text = String::from_utf8(leaves[0].to_bytes()).expect("utf-8");
    assert!(!text.contains("E0") && !text.contains("hr.li") && !text.contains("王喆"), "{text}");
    let openings = lizhi_store::audit::openings(&mut c, &[0, 1]).await.expect("openings");
    assert!(openings[&0]["entity"].opens(&leaves[0].entity) && openings[&0]["entity"].value == "E0");
    assert!(openings[&1]["after"].opens(leaves[1].after.as_deref().expect("after")));
    // The purge forgets the values; the commitments stay.
    assert_eq!(lizhi_store::audit::purge_openings(&mut c, "employee", "E0").await.expect("purge"), 2);
    let after = lizhi_store::audit::openings(&mut c, &[0, 1, 2]).await.expect("openings");
    assert_eq!(after.keys().copied().collect::<Vec<_>>(), vec![1]);
    assert_eq!(lizhi_store::audit::leaves(&mut c, 0, 100).await.expect("leaves"), leaves);
}

#[tokio::test]
async fn events_written_before_the_merkle_log_are_adopted_in_order() {
    use sha2::{Digest, Sha256};
    let url = fresh_database_url().await.expect("fresh database");
    let db = Db::connect(&url, 2).await.expect("connect");
    let mut tx = db.begin().await.expect("tx");
    let mut c = tx.conn();
    let ts = if on_postgres() { "TIMESTAMPTZ" } else { "TEXT" };
    let create = format!(
        "CREATE TABLE lizhi_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at {ts} NOT NULL)"
    );
    on_conn!(&mut c, c => sqlx::raw_sql(sqlx::AssertSqlSafe(create)).execute(&mut **c).await.map(|_| ()).expect("table"));
    for m in &MIGRATIONS[..4] {
        let sql = if on_postgres() { m.postgres } else { m.sqlite };
        on_conn!(&mut c, c => sqlx::raw_sql(sql).execute(&mut **c).await.map(|_| ()).expect("old migration"));
        on_conn!(&mut c, c => sqlx::query("INSERT INTO lizhi_migrations VALUES ($1, $2, $3, $4)")
            .bind(m.version).bind(m.name).bind(hex::encode(Sha256::digest(sql.as_bytes()))).bind(chrono::Utc::now())
            .execute(&mut **c).await.map(|_| ()).expect("record"));
    }
    for (actor, key, at) in [
        ("hr.li", "E1", "2026-03-02T01:00:00Z"),
        ("hr.li", "E2", "2026-03-02T01:00:00Z"),
        ("cli:root", "7", "2026-03-03T02:00:00Z"),
    ] {
        let at: chrono::DateTime<chrono::Utc> = at.parse().expect("time");
        let kind = if key == "7" { "case" } else { "employee" };
        on_conn!(&mut c, c => sqlx::query("INSERT INTO audit_events (at, actor, action, entity_type, entity_key, before_digest, after_digest, request_id) VALUES ($1, $2, 'x.update', $3, $4, NULL, 'ab12', $5)")
            .bind(at).bind(actor).bind(kind).bind(key).bind(format!("req-{key}"))
            .execute(&mut **c).await.map(|_| ()).expect("legacy row"));
    }
    tx.commit().await.expect("commit");
    let later: Vec<i64> = MIGRATIONS[4..].iter().map(|m| m.version).collect();
    assert_eq!(db.migrate().await.expect("migrate"), later);
    let mut conn = db.acquire().await.expect("conn");
    let mut c = conn.conn();
    let leaves = lizhi_store::audit::leaves(&mut c, 0, 10).await.expect("leaves");
    assert_eq!(leaves.len(), 3);
    assert_eq!(leaves[2].case, Some(7));
    assert_eq!(leaves[0].request_id, "req-E1");
    assert_eq!(leaves[2].at, "2026-03-03T02:00:00Z".parse::<chrono::DateTime<chrono::Utc>>().expect("time"));
    let openings = lizhi_store::audit::openings(&mut c, &[0, 2]).await.expect("openings");
    assert_eq!(openings[&2]["actor"].value, "cli:root");
    assert_eq!(openings[&0]["after"].value, "ab12");
    assert_eq!(lizhi_store::audit::head_size(&mut c).await.expect("head"), 3);
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
