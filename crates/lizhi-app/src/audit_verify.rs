//! `lizhi audit verify`: recomputes every leaf from the stored events and holds the tree against every
//! signed checkpoint and timestamp. When something differs it names the first bad position and what
//! happened there, using the leaf hashes stored as signed (themselves checked against the signed roots).

use crate::audit_log::{PAGE, verifier_keys};
use crate::{App, AppError, Ctx};
use lizhi_core::auth::Permission;
use lizhi_core::evidence::{Checkpoint, LogEvent, VerifierKey};
use lizhi_core::merkle::{Frontier, Hash, leaf_hash};
use lizhi_store::log as store;
use lizhi_store::{Conn, audit};
use std::collections::BTreeMap;

/// Something wrong in the stored log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// No event at a position below the head: deleted.
    Missing { seq: u64 },
    /// The event at `seq` is not the one signed there: changed in place.
    Edited { seq: u64 },
    /// The event at `seq` was signed at position `signed_at`: events were reordered.
    Moved { seq: u64, signed_at: u64 },
    /// An event at `seq` that was never signed; the later ones are shifted up by one.
    Inserted { seq: u64 },
    /// The event signed at `seq` is gone; the later ones are shifted down by one.
    Deleted { seq: u64 },
    /// An event past the head the writers recorded: added outside Lizhi.
    BeyondHead { seq: u64 },
    /// The tree recomputed from the events does not have the signed head; the first bad position could not
    /// be narrowed further than `from..size`.
    Mismatch { size: u64, from: u64 },
    /// A checkpoint whose note, signature or stored columns are wrong.
    Checkpoint { size: u64, detail: String },
    /// The stored leaf hashes do not give the signed head (they were altered).
    LeafHashes { size: u64 },
    /// A timestamp token that does not check out.
    Timestamp { size: u64, detail: String },
    /// A checkpoint seen outside the database that the log no longer matches.
    External { size: u64, detail: String },
}

impl Finding {
    /// The log position the finding is about, for ordering.
    pub fn position(&self) -> u64 {
        match self {
            Finding::Missing { seq }
            | Finding::Edited { seq }
            | Finding::Moved { seq, .. }
            | Finding::Inserted { seq }
            | Finding::Deleted { seq }
            | Finding::BeyondHead { seq } => *seq,
            Finding::Mismatch { from, .. } => *from,
            Finding::Checkpoint { size, .. }
            | Finding::LeafHashes { size }
            | Finding::Timestamp { size, .. }
            | Finding::External { size, .. } => size.saturating_sub(1),
        }
    }
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Finding::Missing { seq } => write!(f, "position {seq}: the event is missing (deleted)"),
            Finding::Edited { seq } => write!(f, "position {seq}: the event differs from the signed one (edited)"),
            Finding::Moved { seq, signed_at } => {
                write!(f, "position {seq}: holds the event signed at position {signed_at} (reordered)")
            }
            Finding::Inserted { seq } => {
                write!(f, "position {seq}: an event that was never signed (inserted; later events shifted)")
            }
            Finding::Deleted { seq } => {
                write!(f, "position {seq}: the signed event is gone (deleted; later events shifted)")
            }
            Finding::BeyondHead { seq } => write!(f, "position {seq}: past the log head (added outside Lizhi)"),
            Finding::Mismatch { size, from } => {
                write!(
                    f,
                    "checkpoint {size}: the events do not give the signed head (an event in {from}..{size} changed)"
                )
            }
            Finding::Checkpoint { size, detail } => write!(f, "checkpoint {size}: {detail}"),
            Finding::LeafHashes { size } => write!(f, "checkpoint {size}: the stored leaf hashes were altered"),
            Finding::Timestamp { size, detail } => write!(f, "timestamp of checkpoint {size}: {detail}"),
            Finding::External { size, detail } => write!(f, "outside checkpoint {size}: {detail}"),
        }
    }
}

/// What the check found.
#[derive(Debug, Clone, Default)]
pub struct LogReport {
    /// Events stored.
    pub events: u64,
    /// The head the writers recorded.
    pub head: u64,
    /// Checkpoints checked.
    pub checkpoints: usize,
    /// Size of the newest valid checkpoint.
    pub signed_size: u64,
    /// Timestamp tokens checked.
    pub timestamps: usize,
    /// The log's keys.
    pub keys: Vec<String>,
    /// Problems, first position first.
    pub findings: Vec<Finding>,
}

impl LogReport {
    /// Whether nothing is wrong.
    pub fn ok(&self) -> bool {
        self.findings.is_empty()
    }

    /// Events newer than the newest checkpoint: not yet protected by a signature.
    pub fn uncovered(&self) -> u64 {
        self.head.saturating_sub(self.signed_size)
    }
}

/// Checks the whole log; `external` is a checkpoint note kept outside the database (from a bundle).
pub async fn verify(app: &App, ctx: &Ctx, external: Option<&str>) -> Result<LogReport, AppError> {
    ctx.require(Permission::ViewAudit)?;
    // One snapshot: events committed while the check runs are neither half-seen nor mistaken for insertions.
    let mut snapshot = app.db.begin_snapshot().await?;
    let mut c = snapshot.conn();
    let keys = verifier_keys(&mut c).await?;
    let mut report = LogReport {
        head: audit::head_size(&mut c).await?.max(0) as u64,
        keys: keys.iter().map(ToString::to_string).collect(),
        ..LogReport::default()
    };
    let checkpoints = trusted_checkpoints(&mut c, &keys, &mut report).await?;
    let computed = recompute(&mut c, &mut report).await?;
    let signed = signed_hashes(&mut c, &checkpoints, &mut report).await?;
    compare(&mut c, &checkpoints, &computed, &signed, &mut report).await?;
    if let Some(note) = external {
        check_external(note, &keys, &computed, &mut report);
    }
    check_timestamps(app, &mut c, &checkpoints, &mut report).await?;
    report.findings.sort_by_key(Finding::position);
    Ok(report)
}

/// Checkpoints whose note opens with the log's keys and agrees with its stored columns.
async fn trusted_checkpoints(
    c: &mut Conn<'_>,
    keys: &[VerifierKey],
    report: &mut LogReport,
) -> Result<BTreeMap<u64, Checkpoint>, AppError> {
    let mut trusted = BTreeMap::new();
    for stored in store::checkpoints(c).await? {
        report.checkpoints += 1;
        let size = stored.tree_size as u64;
        match Checkpoint::open(&stored.note, keys) {
            Ok((checkpoint, _)) if checkpoint.size == size && checkpoint.root[..] == stored.root[..] => {
                trusted.insert(size, checkpoint);
            }
            Ok(_) => {
                report.findings.push(Finding::Checkpoint { size, detail: "stored columns differ from the note".into() })
            }
            Err(e) => report.findings.push(Finding::Checkpoint { size, detail: e.to_string() }),
        }
    }
    report.signed_size = trusted.keys().next_back().copied().unwrap_or(0);
    Ok(trusted)
}

/// Leaf hashes recomputed from the events, by position below the head (`None` where no event is stored);
/// events past the head are reported, not kept.
async fn recompute(c: &mut Conn<'_>, report: &mut LogReport) -> Result<Vec<Option<Hash>>, AppError> {
    let mut computed: Vec<Option<Hash>> = vec![None; report.head as usize];
    let mut from = 0i64;
    // Pages by position; a stretch of missing positions is skipped in one step.
    while let Some(next) = audit::next_seq(c, from).await? {
        for event in audit::leaves(c, next, next + PAGE).await? {
            report.events += 1;
            match computed.get_mut(event.seq as usize) {
                Some(slot) => *slot = Some(leaf_hash(&event.to_bytes())),
                None => report.findings.push(Finding::BeyondHead { seq: event.seq }),
            }
        }
        from = next + PAGE;
    }
    Ok(computed)
}

/// The leaf hashes stored as signed, if they agree with every trusted checkpoint.
async fn signed_hashes(
    c: &mut Conn<'_>,
    checkpoints: &BTreeMap<u64, Checkpoint>,
    report: &mut LogReport,
) -> Result<Option<Vec<Hash>>, AppError> {
    let Some(&size) = checkpoints.keys().next_back() else { return Ok(None) };
    let mut hashes = Vec::with_capacity(size as usize);
    while (hashes.len() as u64) < size {
        let start = hashes.len() as i64;
        let page = store::leaf_hashes(c, start, (start + PAGE).min(size as i64)).await?;
        if page.is_empty() {
            break;
        }
        for (seq, hash) in page {
            match <[u8; 32]>::try_from(hash.as_slice()) {
                Ok(hash) if seq as usize == hashes.len() => hashes.push(hash),
                _ => {
                    report.findings.push(Finding::LeafHashes { size });
                    return Ok(None);
                }
            }
        }
    }
    let mut frontier = Frontier::new();
    for hash in &hashes {
        frontier.push(*hash);
        if let Some(checkpoint) = checkpoints.get(&frontier.size())
            && checkpoint.root != frontier.root()
        {
            report.findings.push(Finding::LeafHashes { size: frontier.size() });
            return Ok(None);
        }
    }
    Ok((hashes.len() as u64 == size).then_some(hashes))
}

/// Holds the recomputed tree against each signed head and names the first bad position.
async fn compare(
    c: &mut Conn<'_>,
    checkpoints: &BTreeMap<u64, Checkpoint>,
    computed: &[Option<Hash>],
    signed: &Option<Vec<Hash>>,
    report: &mut LogReport,
) -> Result<(), AppError> {
    let mut frontier = Frontier::new();
    let mut previous = 0;
    let mut first_bad = None;
    for (&size, checkpoint) in checkpoints {
        while frontier.size() < size {
            frontier.push(computed.get(frontier.size() as usize).copied().flatten().unwrap_or([0; 32]));
        }
        if frontier.root() != checkpoint.root {
            first_bad = Some((previous, size));
            break;
        }
        previous = size;
    }
    let Some((from, size)) = first_bad else {
        for seq in previous..report.head {
            if computed.get(seq as usize).copied().flatten().is_none() {
                report.findings.push(Finding::Missing { seq });
            }
        }
        return Ok(());
    };
    let Some(signed) = signed else {
        report.findings.push(Finding::Mismatch { size, from });
        return Ok(());
    };
    let Some(p) = (from..size).find(|&p| computed.get(p as usize).copied().flatten() != Some(signed[p as usize]))
    else {
        report.findings.push(Finding::Mismatch { size, from });
        return Ok(());
    };
    report.findings.push(classify(c, p, computed, signed).await?);
    Ok(())
}

/// What happened at the first position whose event is not the signed one.
async fn classify(c: &mut Conn<'_>, p: u64, computed: &[Option<Hash>], signed: &[Hash]) -> Result<Finding, AppError> {
    if computed.get(p as usize).copied().flatten().is_none() {
        return Ok(Finding::Missing { seq: p });
    }
    let event = audit::leaves(c, p as i64, p as i64 + 1).await?.pop();
    let next = audit::leaves(c, p as i64 + 1, p as i64 + 2).await?.pop();
    let rehash = |event: &LogEvent, seq: u64| leaf_hash(&LogEvent { seq, ..event.clone() }.to_bytes());
    let signed_at = |seq: u64| signed.get(seq as usize).copied();
    // The next stored event is the one signed here: this one was inserted, or swapped with it.
    let next_was_here = next.as_ref().is_some_and(|n| Some(rehash(n, p)) == signed_at(p));
    if let Some(event) = &event {
        if signed_at(p + 1) == Some(rehash(event, p + 1)) {
            return Ok(if next_was_here {
                Finding::Moved { seq: p, signed_at: p + 1 }
            } else {
                Finding::Deleted { seq: p }
            });
        }
        if let Some(q) = (0..signed.len() as u64).find(|&q| q != p && signed_at(q) == Some(rehash(event, q))) {
            return Ok(Finding::Moved { seq: p, signed_at: q });
        }
    }
    Ok(if next_was_here { Finding::Inserted { seq: p } } else { Finding::Edited { seq: p } })
}

fn check_external(note: &str, keys: &[VerifierKey], computed: &[Option<Hash>], report: &mut LogReport) {
    let (checkpoint, _) = match Checkpoint::open(note, keys) {
        Ok(opened) => opened,
        Err(e) => {
            let size = Checkpoint::parse(note).map(|c| c.size).unwrap_or(0);
            report.findings.push(Finding::External { size, detail: format!("not signed by this log's keys: {e}") });
            return;
        }
    };
    let size = checkpoint.size;
    if (computed.len() as u64) < size {
        let detail = format!("the log holds only {} events: later ones were removed", computed.len());
        report.findings.push(Finding::External { size, detail });
        return;
    }
    let mut frontier = Frontier::new();
    for hash in &computed[..size as usize] {
        frontier.push(hash.unwrap_or([0; 32]));
    }
    if frontier.root() != checkpoint.root {
        report
            .findings
            .push(Finding::External { size, detail: "the log's first events no longer give this head".into() });
    }
}

async fn check_timestamps(
    app: &App,
    c: &mut Conn<'_>,
    checkpoints: &BTreeMap<u64, Checkpoint>,
    report: &mut LogReport,
) -> Result<(), AppError> {
    let anchor = match app.tsa.as_ref().and_then(|t| t.ca_pem.as_deref()) {
        Some(pem) => Some(lizhi_core::tsp::pem_to_der(pem).map_err(|e| AppError::Internal(e.to_string()))?),
        None => None,
    };
    for token in store::timestamps(c, None).await? {
        report.timestamps += 1;
        let size = token.tree_size as u64;
        let Some(checkpoint) = checkpoints.get(&size) else {
            report.findings.push(Finding::Timestamp { size, detail: "its checkpoint is not valid".into() });
            continue;
        };
        if let Err(e) = lizhi_core::tsp::verify(&token.response, &checkpoint.root, None, anchor.as_deref()) {
            report.findings.push(Finding::Timestamp { size, detail: e.to_string() });
        }
    }
    Ok(())
}
