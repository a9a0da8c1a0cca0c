//! Signing the audit log: the log key (generated on first use, sealed under the instance secret, rotated
//! with a handover signature), checkpoints that extend the previous one and nothing else, and RFC 3161
//! timestamps from a configured authority.

use crate::audit::{change, record};
use crate::{App, AppError, Ctx};
use chrono::{DateTime, Utc};
use lizhi_core::auth::Permission;
use lizhi_core::evidence::{Checkpoint, SigningKey, VerifierKey};
use lizhi_core::merkle::{Frontier, Hash, leaf_hash};
use lizhi_store::log::{self as store, StoredCheckpoint, StoredTimestamp};
use lizhi_store::{Conn, audit, settings};

/// Associated data of the sealed signing seed.
const SEED_PURPOSE: &str = "lizhi audit log signing key";
/// Largest timestamp response accepted.
const MAX_TSA_RESPONSE: usize = 1 << 20;
/// Events read per query while hashing.
pub(crate) const PAGE: i64 = 20_000;

/// Why the log cannot be signed or timestamped.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// The signing key was sealed under another instance secret.
    #[error("the log signing key does not open with this instance's secret key")]
    KeyUnavailable,
    /// What is stored contradicts the last signed checkpoint: signing now would sign a different history.
    #[error("the stored log contradicts its last checkpoint: {0}")]
    Inconsistent(String),
    /// No checkpoint covers what was asked for yet.
    #[error("no signed checkpoint covers this yet")]
    NoCheckpoint,
    /// The timestamp authority failed or answered something unusable.
    #[error("timestamp authority: {0}")]
    Timestamp(String),
}

impl LogError {
    /// Stable code.
    pub fn code(&self) -> &'static str {
        match self {
            LogError::KeyUnavailable => "log_key_unavailable",
            LogError::Inconsistent(_) => "log_inconsistent",
            LogError::NoCheckpoint => "log_no_checkpoint",
            LogError::Timestamp(_) => "timestamp_failed",
        }
    }
}

/// Where timestamps come from.
#[derive(Debug, Clone)]
pub struct TsaSettings {
    /// The authority's RFC 3161 HTTP endpoint.
    pub url: String,
    /// Its CA certificate (PEM), to check tokens and to ship in bundles.
    pub ca_pem: Option<String>,
}

/// The log's name in checkpoints, made once per installation.
pub async fn origin(c: &mut Conn<'_>) -> Result<String, AppError> {
    let fresh = format!("lizhi/audit/{}", hex::encode(crate::random_bytes::<6>()));
    Ok(settings::get_or_insert(c, "log_origin", &fresh).await?)
}

/// Every verifier key, oldest first.
pub async fn verifier_keys(c: &mut Conn<'_>) -> Result<Vec<VerifierKey>, AppError> {
    store::keys(c)
        .await?
        .iter()
        .map(|k| k.verifier.parse().map_err(|e| AppError::Internal(format!("stored log key: {e}"))))
        .collect()
}

/// The active key's verifier, if there is one.
async fn active_key(c: &mut Conn<'_>) -> Result<Option<VerifierKey>, AppError> {
    match store::keys(c).await?.into_iter().find(|k| k.retired_at.is_none()) {
        Some(active) => {
            Ok(Some(active.verifier.parse().map_err(|e| AppError::Internal(format!("stored log key: {e}")))?))
        }
        None => Ok(None),
    }
}

/// Makes the signing key on first start; returns the active key's verifier. Only the first call writes.
pub async fn ensure_key(app: &App) -> Result<VerifierKey, AppError> {
    let mut conn = app.db.acquire().await?;
    if let Some(active) = active_key(&mut conn.conn()).await? {
        return Ok(active);
    }
    drop(conn);
    // Several instances may start together: the head lock lets one of them make the key.
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    audit::lock_head(&mut c).await?;
    if let Some(active) = active_key(&mut c).await? {
        return Ok(active);
    }
    let verifier = new_key(app, &mut c).await?;
    tx.commit().await?;
    Ok(verifier)
}

async fn new_key(app: &App, c: &mut Conn<'_>) -> Result<VerifierKey, AppError> {
    let name = origin(c).await?;
    let key = SigningKey::generate(&name).map_err(|e| AppError::Internal(e.to_string()))?;
    let verifier = key.verifier();
    store::insert_key(c, &verifier.to_string(), &app.secret.seal(SEED_PURPOSE, key.seed()), app.clock.now()).await?;
    tracing::info!(key = %verifier, "audit log signing key created");
    Ok(verifier)
}

fn unseal(app: &App, stored: &store::StoredKey) -> Result<Option<SigningKey>, AppError> {
    let Some(sealed) = &stored.sealed_seed else { return Ok(None) };
    let verifier: VerifierKey =
        stored.verifier.parse().map_err(|e| AppError::Internal(format!("stored log key: {e}")))?;
    let seed = app.secret.open(SEED_PURPOSE, sealed).map_err(|_| LogError::KeyUnavailable)?;
    let seed: [u8; 32] = seed.try_into().map_err(|_| LogError::KeyUnavailable)?;
    let key = SigningKey::from_seed(&verifier.name, seed).map_err(|_| LogError::KeyUnavailable)?;
    if key.verifier() != verifier {
        return Err(LogError::KeyUnavailable.into());
    }
    Ok(Some(key))
}

/// The keys that sign the next checkpoint: the active one, plus any retired since the last checkpoint
/// (the handover signature that lets a verifier follow a rotation).
async fn signers(app: &App, c: &mut Conn<'_>, since: Option<DateTime<Utc>>) -> Result<Vec<SigningKey>, AppError> {
    let mut keys = Vec::new();
    for stored in store::keys(c).await? {
        let handover = stored.retired_at.is_some_and(|retired| since.is_none_or(|since| retired >= since));
        if stored.retired_at.is_none() || handover {
            keys.extend(unseal(app, &stored)?);
        }
    }
    // The active key is last in id order; put it first so it leads the signature lines.
    keys.reverse();
    Ok(keys)
}

/// Checks a stored checkpoint against its own note and frontier before anything is built on it.
fn trusted_frontier(latest: &StoredCheckpoint, keys: &[VerifierKey]) -> Result<Frontier, LogError> {
    let bad = |why: String| LogError::Inconsistent(format!("checkpoint {}: {why}", latest.tree_size));
    let (signed, _) = Checkpoint::open(&latest.note, keys).map_err(|e| bad(e.to_string()))?;
    let hashes: Vec<Hash> = latest
        .frontier
        .chunks(32)
        .map(|h| h.try_into().map_err(|_| bad("frontier".into())))
        .collect::<Result<_, _>>()?;
    let frontier = Frontier::from_parts(latest.tree_size as u64, &hashes).ok_or_else(|| bad("frontier".into()))?;
    if signed.size != latest.tree_size as u64 || signed.root[..] != latest.root[..] || frontier.root() != signed.root {
        return Err(bad("the stored tree head differs from the signed one".into()));
    }
    Ok(frontier)
}

/// Signs a checkpoint over every committed event, extending the last checkpoint; `None` when the log has
/// not grown. Refuses (and changes nothing) when the stored log contradicts the last signature.
pub async fn checkpoint(app: &App) -> Result<Option<StoredCheckpoint>, AppError> {
    ensure_key(app).await?;
    // Most calls find nothing new: answer those without taking the write lock.
    let mut conn = app.db.acquire().await?;
    let grown = audit::head_size(&mut conn.conn()).await?
        > store::latest_checkpoint(&mut conn.conn()).await?.map_or(0, |l| l.tree_size);
    drop(conn);
    if !grown {
        return Ok(None);
    }
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    let head = audit::head_size(&mut c).await?;
    let latest = store::latest_checkpoint(&mut c).await?;
    let from = latest.as_ref().map_or(0, |l| l.tree_size);
    if head <= from {
        return Ok(None);
    }
    let keys = verifier_keys(&mut c).await?;
    let mut frontier = match &latest {
        Some(latest) => trusted_frontier(latest, &keys)?,
        None => Frontier::new(),
    };
    let mut hashes = Vec::with_capacity((head - from) as usize);
    while (from + hashes.len() as i64) < head {
        let start = from + hashes.len() as i64;
        let page = audit::leaves(&mut c, start, (start + PAGE).min(head)).await?;
        for (i, event) in page.iter().enumerate() {
            if event.seq != (start + i as i64) as u64 {
                return Err(LogError::Inconsistent(format!("no event at position {}", start + i as i64)).into());
            }
            let hash = leaf_hash(&event.to_bytes());
            frontier.push(hash);
            hashes.push(hash);
        }
        if page.is_empty() {
            return Err(LogError::Inconsistent(format!("no event at position {start}")).into());
        }
    }
    let origin = origin(&mut c).await?;
    let signed = Checkpoint { origin, size: frontier.size(), root: frontier.root() };
    let signers = signers(app, &mut c, latest.as_ref().map(|l| l.created_at)).await?;
    if signers.is_empty() {
        return Err(LogError::KeyUnavailable.into());
    }
    let stored = StoredCheckpoint {
        tree_size: signed.size as i64,
        root: signed.root.to_vec(),
        frontier: frontier.hashes().concat(),
        note: signed.sign(&signers.iter().collect::<Vec<_>>()),
        created_at: app.clock.now(),
    };
    store::insert_leaf_hashes(&mut c, from, &hashes).await?;
    if !store::insert_checkpoint(&mut c, &stored).await? {
        // Another instance signed this size first; both extend the same signed history.
        return Ok(None);
    }
    tx.commit().await?;
    Ok(Some(stored))
}

/// Signs a checkpoint when the log grew and the last one is older than `every` (the scheduler's call).
pub async fn checkpoint_if_due(app: &App, every: chrono::Duration) -> Result<Option<StoredCheckpoint>, AppError> {
    let mut conn = app.db.acquire().await?;
    let latest = store::latest_checkpoint(&mut conn.conn()).await?;
    drop(conn);
    if latest.is_some_and(|l| l.created_at + every > app.clock.now()) {
        return Ok(None);
    }
    checkpoint(app).await
}

/// Signs after a change that must be covered at once (a case state change); failures are logged, not
/// returned, because the change itself is already committed and the scheduler will sign it later.
pub async fn checkpoint_after_change(app: &App) {
    match checkpoint(app).await {
        Ok(_) => {
            if app.tsa.is_some() {
                let app = app.clone();
                tokio::spawn(async move {
                    if let Err(e) = timestamp_latest(&app).await {
                        tracing::warn!(error = %e, "timestamping the audit log failed; will retry");
                    }
                });
            }
        }
        Err(e) => tracing::warn!(error = %e, code = e.code(), "signing an audit checkpoint failed; will retry"),
    }
}

/// Asks the authority to timestamp the newest checkpoint that has no token yet; returns whether one was
/// stored. A later token also dates every earlier event, so one per run is enough.
pub async fn timestamp_latest(app: &App) -> Result<bool, AppError> {
    let Some(tsa) = app.tsa.as_deref() else { return Ok(false) };
    let mut conn = app.db.acquire().await?;
    let Some(latest) = store::latest_checkpoint(&mut conn.conn()).await? else { return Ok(false) };
    if !store::timestamps(&mut conn.conn(), Some(&[latest.tree_size])).await?.is_empty() {
        return Ok(false);
    }
    drop(conn);
    let token = request_timestamp(tsa, &latest).await?;
    let mut tx = app.db.begin().await?;
    store::insert_timestamp(&mut tx.conn(), &token, app.clock.now()).await?;
    tx.commit().await?;
    Ok(true)
}

async fn request_timestamp(tsa: &TsaSettings, checkpoint: &StoredCheckpoint) -> Result<StoredTimestamp, LogError> {
    let root: Hash = checkpoint.root[..].try_into().map_err(|_| LogError::Inconsistent("root".into()))?;
    let nonce = u64::from_be_bytes(crate::random_bytes()) >> 1;
    let fail = |why: String| LogError::Timestamp(why);
    crate::install_tls_provider();
    let mut response = reqwest::Client::new()
        .post(&tsa.url)
        .header("content-type", "application/timestamp-query")
        .timeout(std::time::Duration::from_secs(15))
        .body(lizhi_core::tsp::request(&root, nonce))
        .send()
        .await
        .map_err(|e| fail(e.to_string()))?;
    if !response.status().is_success() {
        return Err(fail(format!("HTTP {}", response.status())));
    }
    // A timestamp response is a few kilobytes; refuse to buffer whatever a misbehaving server sends.
    let mut der = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| fail(e.to_string()))? {
        der.extend_from_slice(&chunk);
        if der.len() > MAX_TSA_RESPONSE {
            return Err(fail(format!("the response is larger than {MAX_TSA_RESPONSE} bytes")));
        }
    }
    let anchor = match &tsa.ca_pem {
        Some(pem) => Some(lizhi_core::tsp::pem_to_der(pem).map_err(|e| fail(e.to_string()))?),
        None => None,
    };
    let verified =
        lizhi_core::tsp::verify(&der, &root, Some(nonce), anchor.as_deref()).map_err(|e| fail(e.to_string()))?;
    Ok(StoredTimestamp {
        tree_size: checkpoint.tree_size,
        tsa_url: tsa.url.clone(),
        response: der,
        gen_time: verified.gen_time,
    })
}

/// How a key rotation treats the old key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rotation {
    /// The old key co-signs the next checkpoint and is kept sealed.
    Handover,
    /// The old key co-signs, then its sealed secret is erased.
    HandoverAndDestroy,
    /// The old key cannot be opened (the instance secret was lost): it is retired without a handover
    /// signature. Old checkpoints stay verifiable with its published public key.
    Abandon,
}

/// Replaces the signing key. The old key co-signs the next checkpoint, which is made at once, so anyone
/// holding only the old key can follow the log to the new one.
pub async fn rotate_key(app: &App, ctx: &Ctx, rotation: Rotation) -> Result<VerifierKey, AppError> {
    ctx.require(Permission::ManageUsers)?;
    if rotation != Rotation::Abandon {
        ensure_key(app).await?;
    }
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    audit::lock_head(&mut c).await?;
    let old: Vec<_> = store::keys(&mut c).await?.into_iter().filter(|k| k.retired_at.is_none()).collect();
    for key in &old {
        if rotation != Rotation::Abandon {
            unseal(app, key)?;
        }
        store::retire_key(&mut c, key.id, app.clock.now(), rotation == Rotation::Abandon).await?;
    }
    let verifier = new_key(app, &mut c).await?;
    let detail = serde_json::json!({ "new_key": verifier.to_string(), "retired": old.iter().map(|k| &k.verifier).collect::<Vec<_>>() });
    record(app, &mut c, ctx, &[change(ctx, "log.rotate_key", "log_key", &verifier.name, None, Some(&detail))]).await?;
    tx.commit().await?;
    checkpoint(app).await?;
    if rotation == Rotation::HandoverAndDestroy {
        let mut tx = app.db.begin().await?;
        for key in &old {
            store::retire_key(&mut tx.conn(), key.id, app.clock.now(), true).await?;
        }
        tx.commit().await?;
    }
    Ok(verifier)
}

/// The log's state for the audit page: how much is signed, when, by which keys.
#[derive(Debug, Clone)]
pub struct LogStatus {
    /// Events written.
    pub head: i64,
    /// Events covered by the newest checkpoint.
    pub signed: i64,
    /// When the newest checkpoint was signed.
    pub signed_at: Option<DateTime<Utc>>,
    /// The newest checkpoint's note, to keep a copy outside the database.
    pub note: Option<String>,
    /// Verifier keys, oldest first.
    pub keys: Vec<String>,
}

/// The log's state (auditors).
pub async fn status(app: &App, ctx: &Ctx) -> Result<LogStatus, AppError> {
    ctx.require(Permission::ViewAudit)?;
    let mut conn = app.db.acquire().await?;
    let mut c = conn.conn();
    let latest = store::latest_checkpoint(&mut c).await?;
    Ok(LogStatus {
        head: audit::head_size(&mut c).await?,
        signed: latest.as_ref().map_or(0, |l| l.tree_size),
        signed_at: latest.as_ref().map(|l| l.created_at),
        note: latest.map(|l| l.note),
        keys: verifier_keys(&mut c).await?.iter().map(ToString::to_string).collect(),
    })
}

/// Retention purge: forgets the personal values of every event about one entity (administrators). The
/// commitments stay, so the log still verifies; the purge itself is logged.
pub async fn purge(app: &App, ctx: &Ctx, entity_type: &str, entity_key: &str) -> Result<u64, AppError> {
    ctx.require(Permission::ManageUsers)?;
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    let purged = audit::purge_openings(&mut c, entity_type, entity_key).await?;
    let detail = serde_json::json!({ "entity_type": entity_type, "events": purged });
    // The purge event names what was purged only by its type: its key is itself committed and purgeable.
    record(app, &mut c, ctx, &[change(ctx, "audit.purge", entity_type, entity_key, None, Some(&detail))]).await?;
    audit::purge_openings(&mut c, entity_type, entity_key).await?;
    tx.commit().await?;
    Ok(purged)
}
