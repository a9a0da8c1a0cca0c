//! The append-only audit table. There is deliberately no update or delete function here, and
//! database triggers refuse both.

use crate::{Conn, StoreError, on_conn};
use chrono::{DateTime, Utc};
use lizhi_core::model::AuditEvent;
use sqlx::QueryBuilder;

/// An audit row to append.
#[derive(Debug, Clone)]
pub struct AuditWrite {
    /// Actor label.
    pub actor: String,
    /// Action name.
    pub action: String,
    /// Entity type.
    pub entity_type: String,
    /// Entity natural key.
    pub entity_key: String,
    /// Digest before.
    pub before_digest: Option<String>,
    /// Digest after.
    pub after_digest: Option<String>,
}

/// Appends rows, all with one time and request id, inside the caller's transaction.
pub async fn append(
    c: &mut Conn<'_>,
    rows: &[AuditWrite],
    at: DateTime<Utc>,
    request_id: &str,
) -> Result<(), StoreError> {
    match c {
        // Array parameters keep a 10,000-row import to one statement on PostgreSQL.
        Conn::Postgres(pg) => {
            let col = |f: fn(&AuditWrite) -> String| rows.iter().map(f).collect::<Vec<_>>();
            let opt = |f: fn(&AuditWrite) -> Option<String>| rows.iter().map(f).collect::<Vec<_>>();
            sqlx::query(
                "INSERT INTO audit_events (at, actor, action, entity_type, entity_key, before_digest, after_digest, request_id) \
                 SELECT $1, t.actor, t.action, t.kind, t.key, t.before, t.after, $2 \
                 FROM UNNEST($3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[]) \
                 WITH ORDINALITY AS t(actor, action, kind, key, before, after, n) ORDER BY t.n",
            )
            .bind(at)
            .bind(request_id)
            .bind(col(|r| r.actor.clone()))
            .bind(col(|r| r.action.clone()))
            .bind(col(|r| r.entity_type.clone()))
            .bind(col(|r| r.entity_key.clone()))
            .bind(opt(|r| r.before_digest.clone()))
            .bind(opt(|r| r.after_digest.clone()))
            .execute(&mut **pg)
            .await?;
        }
        Conn::Sqlite(lite) => {
            for chunk in rows.chunks(500) {
                let mut qb = QueryBuilder::new(
                    "INSERT INTO audit_events (at, actor, action, entity_type, entity_key, before_digest, after_digest, request_id) ",
                );
                qb.push_values(chunk, |mut b, r| {
                    b.push_bind(at)
                        .push_bind(&r.actor)
                        .push_bind(&r.action)
                        .push_bind(&r.entity_type)
                        .push_bind(&r.entity_key)
                        .push_bind(&r.before_digest)
                        .push_bind(&r.after_digest)
                        .push_bind(request_id);
                });
                qb.build().execute(&mut **lite).await?;
            }
        }
    }
    Ok(())
}

/// The newest events, optionally for one entity, newest first, with ids below `before`.
pub async fn recent(
    c: &mut Conn<'_>,
    entity: Option<(&str, &str)>,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<AuditEvent>, StoreError> {
    type R = (i64, DateTime<Utc>, String, String, String, String, Option<String>, Option<String>, String);
    let rows: Vec<R> = on_conn!(c, c => {
        let mut qb = QueryBuilder::new(
            "SELECT id, at, actor, action, entity_type, entity_key, before_digest, after_digest, request_id \
             FROM audit_events WHERE 1 = 1",
        );
        if let Some((kind, key)) = entity {
            qb.push(" AND entity_type = ").push_bind(kind.to_owned()).push(" AND entity_key = ").push_bind(key.to_owned());
        }
        if let Some(before) = before {
            qb.push(" AND id < ").push_bind(before);
        }
        qb.push(" ORDER BY id DESC LIMIT ").push_bind(limit);
        qb.build_query_as().fetch_all(&mut **c).await?
    });
    Ok(rows
        .into_iter()
        .map(|(id, at, actor, action, entity_type, entity_key, before_digest, after_digest, request_id)| AuditEvent {
            id,
            at,
            actor,
            action,
            entity_type,
            entity_key,
            before_digest,
            after_digest,
            request_id,
        })
        .collect())
}

/// Number of audit rows.
pub async fn count(c: &mut Conn<'_>) -> Result<i64, StoreError> {
    Ok(on_conn!(c, c => sqlx::query_scalar("SELECT COUNT(*) FROM audit_events").fetch_one(&mut **c).await?))
}
