//! The append-only audit log. Each event's `seq` is its leaf index in the Merkle tree, taken from `log_head`
//! inside the writing transaction: the head row stays locked until commit, so positions follow commit order
//! and never leave gaps. Personal values are stored as salted commitments; their openings sit in
//! `audit_openings`, the only part a retention purge may delete. There is deliberately no update or delete of
//! events here, and database triggers refuse both.

use crate::{Conn, StoreError, on_conn};
use chrono::{DateTime, SubsecRound, Utc};
use lizhi_core::evidence::{LogEvent, Opening, commit};
use lizhi_core::model::AuditEvent;
use sqlx::QueryBuilder;
use std::collections::BTreeMap;

/// An audit event to append, with its personal values in the clear (they are committed on the way in).
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
    /// The separation case the event belongs to.
    pub case_id: Option<i64>,
    /// Canonical JSON of the state before.
    pub before: Option<String>,
    /// Canonical JSON of the state after.
    pub after: Option<String>,
    /// SHA-256 (hex) of documents the event attaches.
    pub docs: Vec<String>,
}

/// One event's row: the public leaf and the openings written next to it.
struct Row<'a> {
    leaf: LogEvent,
    write: &'a AuditWrite,
    salts: [[u8; 32]; 4],
}

/// Four fresh 32-byte salts (actor, entity, before, after), from one call to the system generator.
fn salts() -> Result<[[u8; 32]; 4], StoreError> {
    let mut bytes = [0u8; 128];
    getrandom::fill(&mut bytes).map_err(|e| StoreError::NoRandomness(e.to_string()))?;
    let mut salts = [[0u8; 32]; 4];
    for (salt, chunk) in salts.iter_mut().zip(bytes.chunks_exact(32)) {
        salt.copy_from_slice(chunk);
    }
    Ok(salts)
}

/// Appends events, all with one time and request id, inside the caller's transaction; returns their
/// positions. Holds the log head until the caller commits.
pub async fn append(
    c: &mut Conn<'_>,
    writes: &[AuditWrite],
    at: DateTime<Utc>,
    request_id: &str,
) -> Result<std::ops::Range<i64>, StoreError> {
    if writes.is_empty() {
        return Ok(0..0);
    }
    // Both databases keep microseconds: the leaf must hash the same after a round trip.
    let at = at.trunc_subsecs(6);
    let n = writes.len() as i64;
    let end: i64 = on_conn!(c, c => sqlx::query_scalar("UPDATE log_head SET size = size + $1 WHERE id = 1 RETURNING size")
        .bind(n)
        .fetch_one(&mut **c)
        .await?);
    let start = end - n;
    // The previous event of each case, read under the head lock so the chain cannot fork.
    let mut case_last: BTreeMap<i64, Option<u64>> = BTreeMap::new();
    for case in writes.iter().filter_map(|w| w.case_id) {
        if let std::collections::btree_map::Entry::Vacant(slot) = case_last.entry(case) {
            let last: Option<i64> = on_conn!(c, c => sqlx::query_scalar("SELECT MAX(seq) FROM audit_events WHERE case_id = $1")
                .bind(case)
                .fetch_one(&mut **c)
                .await?);
            slot.insert(last.map(|s| s as u64));
        }
    }
    let mut rows = Vec::with_capacity(writes.len());
    for (i, write) in writes.iter().enumerate() {
        let salts = salts()?;
        let seq = (start + i as i64) as u64;
        let case_prev = write.case_id.and_then(|case| case_last.insert(case, Some(seq)).flatten());
        let leaf = LogEvent {
            seq,
            at,
            action: write.action.clone(),
            entity_type: write.entity_type.clone(),
            case: write.case_id,
            case_prev,
            actor: commit(&salts[0], &write.actor),
            entity: commit(&salts[1], &write.entity_key),
            before: write.before.as_ref().map(|v| commit(&salts[2], v)),
            after: write.after.as_ref().map(|v| commit(&salts[3], v)),
            docs: write.docs.clone(),
            request_id: request_id.to_owned(),
        };
        rows.push(Row { leaf, write, salts });
    }
    insert_rows(c, &rows).await?;
    Ok(start..end)
}

async fn insert_rows(c: &mut Conn<'_>, rows: &[Row<'_>]) -> Result<(), StoreError> {
    // 12 and 10 parameters per row: chunks stay below SQLite's 32,766-parameter limit.
    for chunk in rows.chunks(2_000) {
        on_conn!(c, c => {
            let mut qb = QueryBuilder::new(
                "INSERT INTO audit_events (seq, at, action, entity_type, case_id, case_prev, actor_commit, \
                 entity_commit, before_commit, after_commit, docs, request_id) ",
            );
            qb.push_values(chunk, |mut b, r| {
                b.push_bind(r.leaf.seq as i64)
                    .push_bind(r.leaf.at)
                    .push_bind(&r.leaf.action)
                    .push_bind(&r.leaf.entity_type)
                    .push_bind(r.leaf.case)
                    .push_bind(r.leaf.case_prev.map(|p| p as i64))
                    .push_bind(&r.leaf.actor)
                    .push_bind(&r.leaf.entity)
                    .push_bind(&r.leaf.before)
                    .push_bind(&r.leaf.after)
                    .push_bind(r.leaf.docs.join(" "))
                    .push_bind(&r.leaf.request_id);
            });
            qb.build().execute(&mut **c).await?;
            let mut qb = QueryBuilder::new(
                "INSERT INTO audit_openings (seq, entity_type, entity_key, actor_salt, actor, entity_salt, \
                 before_salt, before_value, after_salt, after_value) ",
            );
            qb.push_values(chunk, |mut b, r| {
                b.push_bind(r.leaf.seq as i64)
                    .push_bind(&r.write.entity_type)
                    .push_bind(&r.write.entity_key)
                    .push_bind(r.salts[0].to_vec())
                    .push_bind(&r.write.actor)
                    .push_bind(r.salts[1].to_vec())
                    .push_bind(r.write.before.as_ref().map(|_| r.salts[2].to_vec()))
                    .push_bind(&r.write.before)
                    .push_bind(r.write.after.as_ref().map(|_| r.salts[3].to_vec()))
                    .push_bind(&r.write.after);
            });
            qb.build().execute(&mut **c).await?;
        });
    }
    Ok(())
}

type EventRow = (
    i64,
    DateTime<Utc>,
    String,
    String,
    Option<i64>,
    Option<i64>,
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    String,
);

const EVENT_COLUMNS: &str = "e.seq, e.at, e.action, e.entity_type, e.case_id, e.case_prev, e.actor_commit, \
     e.entity_commit, e.before_commit, e.after_commit, e.docs, e.request_id";

fn to_leaf(row: EventRow) -> LogEvent {
    let (seq, at, action, entity_type, case, case_prev, actor, entity, before, after, docs, request_id) = row;
    LogEvent {
        seq: seq as u64,
        at,
        action,
        entity_type,
        case,
        case_prev: case_prev.map(|p| p as u64),
        actor,
        entity,
        before,
        after,
        docs: docs.split_whitespace().map(str::to_owned).collect(),
        request_id,
    }
}

/// The events with `from ≤ seq < to`, in order (a page of the log for hashing).
pub async fn leaves(c: &mut Conn<'_>, from: i64, to: i64) -> Result<Vec<LogEvent>, StoreError> {
    let rows: Vec<EventRow> = on_conn!(c, c => {
        let mut qb = QueryBuilder::new("SELECT ");
        qb.push(EVENT_COLUMNS).push(" FROM audit_events e WHERE e.seq >= ").push_bind(from);
        qb.push(" AND e.seq < ").push_bind(to).push(" ORDER BY e.seq");
        qb.build_query_as().fetch_all(&mut **c).await?
    });
    Ok(rows.into_iter().map(to_leaf).collect())
}

/// The first position at or after `from` that holds an event.
pub async fn next_seq(c: &mut Conn<'_>, from: i64) -> Result<Option<i64>, StoreError> {
    Ok(on_conn!(c, c => sqlx::query_scalar("SELECT MIN(seq) FROM audit_events WHERE seq >= $1")
        .bind(from)
        .fetch_one(&mut **c)
        .await?))
}

/// The events of a case, or about an employee (by entity key) and their cases, in log order.
pub async fn events_for(
    c: &mut Conn<'_>,
    case_ids: &[i64],
    employee_no: Option<&str>,
) -> Result<Vec<LogEvent>, StoreError> {
    let rows: Vec<EventRow> = on_conn!(c, c => {
        let mut qb = QueryBuilder::new("SELECT ");
        qb.push(EVENT_COLUMNS).push(" FROM audit_events e WHERE e.case_id IN (");
        let mut ids = qb.separated(", ");
        ids.push_bind(-1i64);
        for id in case_ids {
            ids.push_bind(*id);
        }
        qb.push(")");
        if let Some(no) = employee_no {
            qb.push(" OR e.seq IN (SELECT seq FROM audit_openings WHERE entity_type = 'employee' AND entity_key = ");
            qb.push_bind(no.to_owned()).push(")");
        }
        qb.push(" ORDER BY e.seq");
        qb.build_query_as().fetch_all(&mut **c).await?
    });
    Ok(rows.into_iter().map(to_leaf).collect())
}

/// The openings still held for events, by position and field (`actor`, `entity`, `before`, `after`).
pub async fn openings(
    c: &mut Conn<'_>,
    seqs: &[i64],
) -> Result<BTreeMap<i64, BTreeMap<&'static str, Opening>>, StoreError> {
    type R = (i64, Vec<u8>, String, Vec<u8>, String, Option<Vec<u8>>, Option<String>, Option<Vec<u8>>, Option<String>);
    let mut out = BTreeMap::new();
    for chunk in seqs.chunks(5_000) {
        let rows: Vec<R> = on_conn!(c, c => {
            let mut qb = QueryBuilder::new(
                "SELECT seq, actor_salt, actor, entity_salt, entity_key, before_salt, before_value, after_salt, \
                 after_value FROM audit_openings WHERE seq IN (",
            );
            let mut list = qb.separated(", ");
            for seq in chunk {
                list.push_bind(*seq);
            }
            qb.push(")");
            qb.build_query_as().fetch_all(&mut **c).await?
        });
        for (seq, actor_salt, actor, entity_salt, entity_key, before_salt, before, after_salt, after) in rows {
            let open = |salt: &[u8], value: String| Opening { salt: hex::encode(salt), value };
            let mut fields = BTreeMap::new();
            fields.insert("actor", open(&actor_salt, actor));
            fields.insert("entity", open(&entity_salt, entity_key));
            if let (Some(salt), Some(value)) = (before_salt, before) {
                fields.insert("before", open(&salt, value));
            }
            if let (Some(salt), Some(value)) = (after_salt, after) {
                fields.insert("after", open(&salt, value));
            }
            out.insert(seq, fields);
        }
    }
    Ok(out)
}

/// Retention purge: forgets the personal values of every event about one entity. The commitments stay in
/// the log, so it still verifies. Returns how many events were purged.
pub async fn purge_openings(c: &mut Conn<'_>, entity_type: &str, entity_key: &str) -> Result<u64, StoreError> {
    Ok(on_conn!(c, c => sqlx::query("DELETE FROM audit_openings WHERE entity_type = $1 AND entity_key = $2")
        .bind(entity_type)
        .bind(entity_key)
        .execute(&mut **c)
        .await?
        .rows_affected()))
}

/// The log's size as recorded by the writers.
pub async fn head_size(c: &mut Conn<'_>) -> Result<i64, StoreError> {
    Ok(on_conn!(c, c => sqlx::query_scalar("SELECT size FROM log_head WHERE id = 1").fetch_one(&mut **c).await?))
}

/// The newest events, optionally for one entity, newest first, with positions below `before`; personal
/// values come from the openings and are `None` once purged.
pub async fn recent(
    c: &mut Conn<'_>,
    entity: Option<(&str, &str)>,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<AuditEvent>, StoreError> {
    type R = (
        i64,
        DateTime<Utc>,
        Option<String>,
        String,
        String,
        Option<String>,
        Option<i64>,
        Option<String>,
        Option<String>,
        String,
    );
    let rows: Vec<R> = on_conn!(c, c => {
        let mut qb = QueryBuilder::new(
            "SELECT e.seq, e.at, o.actor, e.action, e.entity_type, o.entity_key, e.case_id, e.before_commit, \
             e.after_commit, e.request_id FROM audit_events e LEFT JOIN audit_openings o ON o.seq = e.seq WHERE 1 = 1",
        );
        if let Some((kind, key)) = entity {
            qb.push(" AND o.entity_type = ").push_bind(kind.to_owned()).push(" AND o.entity_key = ").push_bind(key.to_owned());
        }
        if let Some(before) = before {
            qb.push(" AND e.seq < ").push_bind(before);
        }
        qb.push(" ORDER BY e.seq DESC LIMIT ").push_bind(limit);
        qb.build_query_as().fetch_all(&mut **c).await?
    });
    Ok(rows
        .into_iter()
        .map(
            |(
                seq,
                at,
                actor,
                action,
                entity_type,
                entity_key,
                case_id,
                before_commitment,
                after_commitment,
                request_id,
            )| {
                AuditEvent {
                    seq,
                    at,
                    actor,
                    action,
                    entity_type,
                    entity_key,
                    case_id,
                    before_commitment,
                    after_commitment,
                    request_id,
                }
            },
        )
        .collect())
}

/// Number of events.
pub async fn count(c: &mut Conn<'_>) -> Result<i64, StoreError> {
    Ok(on_conn!(c, c => sqlx::query_scalar("SELECT COUNT(*) FROM audit_events").fetch_one(&mut **c).await?))
}

/// Converts the events written before the log became a Merkle tree (migration 5): each gets salted
/// commitments and the next position, in the order they were written, then the old table is dropped.
pub(crate) async fn adopt_legacy(c: &mut Conn<'_>) -> Result<(), StoreError> {
    type R = (DateTime<Utc>, String, String, String, String, Option<String>, Option<String>, String);
    let old: Vec<R> = on_conn!(c, c => sqlx::query_as(
        "SELECT at, actor, action, entity_type, entity_key, before_digest, after_digest, request_id \
         FROM audit_events_v1 ORDER BY id",
    )
    .fetch_all(&mut **c)
    .await?);
    // One request id per legacy row, so group by it to keep the original time and id.
    let mut start = 0;
    while start < old.len() {
        let (at, .., request_id) = &old[start];
        let end = start + old[start..].iter().take_while(|r| r.0 == *at && r.7 == *request_id).count();
        let writes: Vec<AuditWrite> = old[start..end]
            .iter()
            .map(|(_, actor, action, entity_type, entity_key, before, after, _)| AuditWrite {
                actor: actor.clone(),
                action: action.clone(),
                entity_type: entity_type.clone(),
                entity_key: entity_key.clone(),
                case_id: (entity_type == "case").then(|| entity_key.parse().ok()).flatten(),
                // The legacy rows kept only digests of the states: those are what gets committed.
                before: before.clone(),
                after: after.clone(),
                docs: Vec::new(),
            })
            .collect();
        append(c, &writes, *at, request_id).await?;
        start = end;
    }
    on_conn!(c, c => sqlx::query("DROP TABLE audit_events_v1").execute(&mut **c).await.map(|_| ())?);
    Ok(())
}

/// Locks the log head until the caller commits (PostgreSQL; SQLite's write transaction is already
/// exclusive), so key changes and appends do not interleave.
pub async fn lock_head(c: &mut Conn<'_>) -> Result<i64, StoreError> {
    Ok(match c {
        Conn::Postgres(c) => {
            sqlx::query_scalar("SELECT size FROM log_head WHERE id = 1 FOR UPDATE").fetch_one(&mut **c).await?
        }
        Conn::Sqlite(c) => {
            sqlx::query_scalar("UPDATE log_head SET size = size WHERE id = 1 RETURNING size")
                .fetch_one(&mut **c)
                .await?
        }
    })
}
