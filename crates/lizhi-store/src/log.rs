//! The signed side of the audit log: signing keys (sealed), checkpoints with the frontier the next one
//! extends, and timestamp tokens. Checkpoints are append-only like the events.

use crate::{Conn, StoreError, on_conn};
use chrono::{DateTime, Utc};

/// A log key as stored: its public verifier string and the sealed seed (gone once destroyed).
#[derive(Debug, Clone)]
pub struct StoredKey {
    /// Row id.
    pub id: i64,
    /// `name+keyid+base64` verifier key.
    pub verifier: String,
    /// The seed sealed under the instance secret.
    pub sealed_seed: Option<Vec<u8>>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it stopped signing; `None` for the active key.
    pub retired_at: Option<DateTime<Utc>>,
}

/// Every key, oldest first.
pub async fn keys(c: &mut Conn<'_>) -> Result<Vec<StoredKey>, StoreError> {
    type R = (i64, String, Option<Vec<u8>>, DateTime<Utc>, Option<DateTime<Utc>>);
    let rows: Vec<R> = on_conn!(c, c => sqlx::query_as(
        "SELECT id, verifier, sealed_seed, created_at, retired_at FROM log_keys ORDER BY id",
    )
    .fetch_all(&mut **c)
    .await?);
    Ok(rows
        .into_iter()
        .map(|(id, verifier, sealed_seed, created_at, retired_at)| StoredKey {
            id,
            verifier,
            sealed_seed,
            created_at,
            retired_at,
        })
        .collect())
}

/// Adds a key.
pub async fn insert_key(
    c: &mut Conn<'_>,
    verifier: &str,
    sealed_seed: &[u8],
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    on_conn!(c, c => sqlx::query("INSERT INTO log_keys (verifier, sealed_seed, created_at) VALUES ($1, $2, $3)")
        .bind(verifier)
        .bind(sealed_seed)
        .bind(at)
        .execute(&mut **c)
        .await
        .map(|_| ())?);
    Ok(())
}

/// Retires a key; with `destroy` its sealed seed is erased too (its checkpoints stay verifiable).
pub async fn retire_key(c: &mut Conn<'_>, id: i64, at: DateTime<Utc>, destroy: bool) -> Result<(), StoreError> {
    on_conn!(c, c => sqlx::query(
        "UPDATE log_keys SET retired_at = COALESCE(retired_at, $2), \
         sealed_seed = CASE WHEN $3 THEN NULL ELSE sealed_seed END WHERE id = $1",
    )
    .bind(id)
    .bind(at)
    .bind(destroy)
    .execute(&mut **c)
    .await
    .map(|_| ())?);
    Ok(())
}

/// A stored checkpoint.
#[derive(Debug, Clone)]
pub struct StoredCheckpoint {
    /// Tree size.
    pub tree_size: i64,
    /// Tree head.
    pub root: Vec<u8>,
    /// Frontier hashes (32 bytes each, largest subtree first).
    pub frontier: Vec<u8>,
    /// The signed note.
    pub note: String,
    /// When it was signed.
    pub created_at: DateTime<Utc>,
}

type CheckpointRow = (i64, Vec<u8>, Vec<u8>, String, DateTime<Utc>);

fn to_checkpoint((tree_size, root, frontier, note, created_at): CheckpointRow) -> StoredCheckpoint {
    StoredCheckpoint { tree_size, root, frontier, note, created_at }
}

/// The newest checkpoint.
pub async fn latest_checkpoint(c: &mut Conn<'_>) -> Result<Option<StoredCheckpoint>, StoreError> {
    let row: Option<CheckpointRow> = on_conn!(c, c => sqlx::query_as(
        "SELECT tree_size, root, frontier, note, created_at FROM log_checkpoints ORDER BY tree_size DESC LIMIT 1",
    )
    .fetch_optional(&mut **c)
    .await?);
    Ok(row.map(to_checkpoint))
}

/// Every checkpoint, smallest first.
pub async fn checkpoints(c: &mut Conn<'_>) -> Result<Vec<StoredCheckpoint>, StoreError> {
    let rows: Vec<CheckpointRow> = on_conn!(c, c => sqlx::query_as(
        "SELECT tree_size, root, frontier, note, created_at FROM log_checkpoints ORDER BY tree_size",
    )
    .fetch_all(&mut **c)
    .await?);
    Ok(rows.into_iter().map(to_checkpoint).collect())
}

/// The first checkpoint covering position `seq` (its size is above `seq`).
pub async fn first_covering(c: &mut Conn<'_>, seq: i64) -> Result<Option<StoredCheckpoint>, StoreError> {
    let row: Option<CheckpointRow> = on_conn!(c, c => sqlx::query_as(
        "SELECT tree_size, root, frontier, note, created_at FROM log_checkpoints WHERE tree_size > $1 \
         ORDER BY tree_size LIMIT 1",
    )
    .bind(seq)
    .fetch_optional(&mut **c)
    .await?);
    Ok(row.map(to_checkpoint))
}

/// Stores a checkpoint; `Ok(false)` when one of that size exists already (another instance signed it).
pub async fn insert_checkpoint(c: &mut Conn<'_>, checkpoint: &StoredCheckpoint) -> Result<bool, StoreError> {
    let done = on_conn!(c, c => sqlx::query(
        "INSERT INTO log_checkpoints (tree_size, root, frontier, note, created_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (tree_size) DO NOTHING",
    )
    .bind(checkpoint.tree_size)
    .bind(&checkpoint.root)
    .bind(&checkpoint.frontier)
    .bind(&checkpoint.note)
    .bind(checkpoint.created_at)
    .execute(&mut **c)
    .await?
    .rows_affected());
    Ok(done == 1)
}

/// A stored timestamp token.
#[derive(Debug, Clone)]
pub struct StoredTimestamp {
    /// The checkpoint it covers.
    pub tree_size: i64,
    /// The authority asked.
    pub tsa_url: String,
    /// The whole DER `TimeStampResp`.
    pub response: Vec<u8>,
    /// The time the authority vouches for.
    pub gen_time: DateTime<Utc>,
}

/// Stores a timestamp token.
pub async fn insert_timestamp(c: &mut Conn<'_>, t: &StoredTimestamp, at: DateTime<Utc>) -> Result<(), StoreError> {
    on_conn!(c, c => sqlx::query(
        "INSERT INTO log_timestamps (tree_size, tsa_url, response, gen_time, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(t.tree_size)
    .bind(&t.tsa_url)
    .bind(&t.response)
    .bind(t.gen_time)
    .bind(at)
    .execute(&mut **c)
    .await
    .map(|_| ())?);
    Ok(())
}

/// Timestamp tokens, for checkpoints of the given sizes or all when `None`.
pub async fn timestamps(c: &mut Conn<'_>, sizes: Option<&[i64]>) -> Result<Vec<StoredTimestamp>, StoreError> {
    type R = (i64, String, Vec<u8>, DateTime<Utc>);
    let rows: Vec<R> = on_conn!(c, c => {
        let mut qb = sqlx::QueryBuilder::new("SELECT tree_size, tsa_url, response, gen_time FROM log_timestamps");
        if let Some(sizes) = sizes {
            qb.push(" WHERE tree_size IN (");
            let mut list = qb.separated(", ");
            list.push_bind(-1i64);
            for size in sizes {
                list.push_bind(*size);
            }
            qb.push(")");
        }
        qb.push(" ORDER BY tree_size, id");
        qb.build_query_as().fetch_all(&mut **c).await?
    });
    Ok(rows
        .into_iter()
        .map(|(tree_size, tsa_url, response, gen_time)| StoredTimestamp { tree_size, tsa_url, response, gen_time })
        .collect())
}

/// Checkpoints that have no timestamp yet, oldest first (for retrying an unreachable authority).
pub async fn untimestamped(c: &mut Conn<'_>, limit: i64) -> Result<Vec<StoredCheckpoint>, StoreError> {
    let rows: Vec<CheckpointRow> = on_conn!(c, c => sqlx::query_as(
        "SELECT tree_size, root, frontier, note, created_at FROM log_checkpoints k WHERE NOT EXISTS \
         (SELECT 1 FROM log_timestamps t WHERE t.tree_size = k.tree_size) ORDER BY tree_size LIMIT $1",
    )
    .bind(limit)
    .fetch_all(&mut **c)
    .await?);
    Ok(rows.into_iter().map(to_checkpoint).collect())
}

/// Stores the leaf hashes of positions `start..` as signed by a new checkpoint.
pub async fn insert_leaf_hashes(c: &mut Conn<'_>, start: i64, hashes: &[[u8; 32]]) -> Result<(), StoreError> {
    for (n, chunk) in hashes.chunks(10_000).enumerate() {
        let first = start + (n * 10_000) as i64;
        on_conn!(c, c => {
            let mut qb = sqlx::QueryBuilder::new("INSERT INTO audit_leaf_hashes (seq, hash) ");
            qb.push_values(chunk.iter().enumerate(), |mut b, (i, hash)| {
                b.push_bind(first + i as i64).push_bind(hash.to_vec());
            });
            qb.push(" ON CONFLICT (seq) DO NOTHING");
            qb.build().execute(&mut **c).await.map(|_| ())?
        });
    }
    Ok(())
}

/// Stored leaf hashes with `from ≤ seq < to`, in order, with their positions.
pub async fn leaf_hashes(c: &mut Conn<'_>, from: i64, to: i64) -> Result<Vec<(i64, Vec<u8>)>, StoreError> {
    Ok(
        on_conn!(c, c => sqlx::query_as("SELECT seq, hash FROM audit_leaf_hashes WHERE seq >= $1 AND seq < $2 ORDER BY seq")
        .bind(from)
        .bind(to)
        .fetch_all(&mut **c)
        .await?),
    )
}
