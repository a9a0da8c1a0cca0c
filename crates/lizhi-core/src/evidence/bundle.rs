//! The evidence bundle's files and their offline check, dimension by dimension, with no database and no
//! trust in Lizhi: only the bundle, the standards and the keys it carries.

use super::checkpoint::{Checkpoint, VerifierKey};
use super::leaf::{LogEvent, Opening};
use crate::merkle::{self, Hash};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};

/// Format name in the manifest.
pub const FORMAT: &str = "lizhi-evidence/1";
/// The manifest's path.
pub const MANIFEST: &str = "MANIFEST.json";

/// `MANIFEST.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    /// [`FORMAT`].
    pub format: String,
    /// When the bundle was made (RFC 3339).
    pub created_at: String,
    /// Whose evidence this is.
    pub subject: Subject,
    /// The log's origin, as in its checkpoints.
    pub origin: String,
    /// Every other file.
    pub files: Vec<ManifestFile>,
}

/// The case or employee a bundle is about.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Subject {
    /// `case` or `employee`.
    pub kind: String,
    /// Case id or employee number.
    pub id: String,
}

/// One file of the bundle.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ManifestFile {
    /// Path inside the zip.
    pub path: String,
    /// SHA-256, hex.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
}

/// `proofs/inclusion/<seq>.json`: RFC 9162 audit path, leaf to root.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct InclusionProof {
    /// The leaf's index.
    pub leaf_index: u64,
    /// Size of the tree the path leads to.
    pub tree_size: u64,
    /// The path, hex.
    pub hashes: Vec<String>,
}

/// `proofs/consistency.json`: RFC 9162 consistency proof.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ConsistencyProof {
    /// Size of the older tree.
    pub old_tree_size: u64,
    /// Size of the newer tree.
    pub tree_size: u64,
    /// The proof, hex.
    pub hashes: Vec<String>,
}

/// Hex SHA-256 of bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Hex-encodes proof hashes.
pub fn to_hex(hashes: &[Hash]) -> Vec<String> {
    hashes.iter().map(hex::encode).collect()
}

fn from_hex(hashes: &[String]) -> Option<Vec<Hash>> {
    hashes.iter().map(|h| hex::decode(h).ok().and_then(|b| b.try_into().ok())).collect()
}

/// What a bundle is checked for, in report order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dimension {
    /// Every file is listed with its hash, and nothing else is there.
    Files,
    /// Events are canonical, openings open them, documents are bound to events.
    Events,
    /// Every event is in the tree of the bundle's checkpoint.
    Inclusion,
    /// The first checkpoint is a prefix of the latest.
    Consistency,
    /// Every checkpoint is signed by a key of the log.
    Signatures,
    /// Timestamp tokens cover the checkpoint roots.
    Timestamps,
}

impl Dimension {
    /// All dimensions in report order.
    pub const ALL: [Dimension; 6] = [
        Dimension::Files,
        Dimension::Events,
        Dimension::Inclusion,
        Dimension::Consistency,
        Dimension::Signatures,
        Dimension::Timestamps,
    ];

    /// Stable name.
    pub fn name(self) -> &'static str {
        match self {
            Dimension::Files => "files",
            Dimension::Events => "events",
            Dimension::Inclusion => "inclusion",
            Dimension::Consistency => "consistency",
            Dimension::Signatures => "signatures",
            Dimension::Timestamps => "timestamps",
        }
    }
}

/// The result of one dimension, with what was checked or what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Checked and good.
    Pass(String),
    /// Checked and bad.
    Fail(String),
    /// Nothing to check (no timestamps were requested).
    Skip(String),
}

/// One outcome per dimension.
#[derive(Debug, Clone)]
pub struct Report {
    /// In [`Dimension::ALL`] order.
    pub results: Vec<(Dimension, Outcome)>,
}

impl Report {
    /// Whether no dimension failed.
    pub fn passed(&self) -> bool {
        !self.results.iter().any(|(_, o)| matches!(o, Outcome::Fail(_)))
    }

    /// The outcome of one dimension.
    pub fn outcome(&self, dimension: Dimension) -> Option<&Outcome> {
        self.results.iter().find(|(d, _)| *d == dimension).map(|(_, o)| o)
    }
}

type Check = Result<String, String>;

/// Checks a bundle given as its files (path → bytes).
pub fn verify(files: &BTreeMap<String, Vec<u8>>) -> Report {
    let manifest: Result<Manifest, String> = files
        .get(MANIFEST)
        .ok_or_else(|| "MANIFEST.json is missing".to_owned())
        .and_then(|m| serde_json::from_slice(m).map_err(|e| format!("MANIFEST.json: {e}")));
    let head = files
        .get("checkpoint.txt")
        .ok_or_else(|| "checkpoint.txt is missing".to_owned())
        .and_then(|n| Checkpoint::parse(&String::from_utf8_lossy(n)).map_err(|e| format!("checkpoint.txt: {e}")));
    let outcome = |check: Check| match check {
        Ok(detail) => Outcome::Pass(detail),
        Err(detail) => Outcome::Fail(detail),
    };
    let timestamps = match check_timestamps(files) {
        Ok(None) => Outcome::Skip("no timestamps in the bundle".into()),
        Ok(Some(detail)) => Outcome::Pass(detail),
        Err(detail) => Outcome::Fail(detail),
    };
    Report {
        results: vec![
            (Dimension::Files, outcome(manifest.as_ref().map_err(Clone::clone).and_then(|m| check_files(files, m)))),
            (Dimension::Events, outcome(check_events(files))),
            (Dimension::Inclusion, outcome(head.clone().and_then(|h| check_inclusion(files, &h)))),
            (Dimension::Consistency, outcome(head.and_then(|h| check_consistency(files, &h)))),
            (Dimension::Signatures, outcome(manifest.and_then(|m| check_signatures(files, &m.origin)))),
            (Dimension::Timestamps, timestamps),
        ],
    }
}

fn check_files(files: &BTreeMap<String, Vec<u8>>, manifest: &Manifest) -> Check {
    if manifest.format != FORMAT {
        return Err(format!("unknown format {:?}", manifest.format));
    }
    let mut listed = BTreeSet::new();
    for entry in &manifest.files {
        let bytes = files.get(&entry.path).ok_or_else(|| format!("{} is listed but missing", entry.path))?;
        if bytes.len() as u64 != entry.size || sha256_hex(bytes) != entry.sha256 {
            return Err(format!("{} does not match its SHA-256 in the manifest", entry.path));
        }
        listed.insert(entry.path.as_str());
    }
    if let Some(extra) = files.keys().find(|p| p.as_str() != MANIFEST && !listed.contains(p.as_str())) {
        return Err(format!("{extra} is not in the manifest"));
    }
    Ok(format!("{} files match the manifest", listed.len()))
}

/// The events of the bundle by sequence number, each with its leaf bytes.
fn events(files: &BTreeMap<String, Vec<u8>>) -> Result<BTreeMap<u64, (LogEvent, &[u8])>, String> {
    let mut out = BTreeMap::new();
    for (path, bytes) in files.range("events/".to_owned()..).take_while(|(p, _)| p.starts_with("events/")) {
        let seq: u64 = path["events/".len()..]
            .strip_suffix(".json")
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| format!("{path}: not named <seq>.json"))?;
        let event = LogEvent::parse(bytes).map_err(|e| format!("{path}: {e}"))?;
        if event.seq != seq {
            return Err(format!("{path}: holds entry {}", event.seq));
        }
        out.insert(seq, (event, bytes.as_slice()));
    }
    if out.is_empty() {
        return Err("the bundle holds no events".into());
    }
    Ok(out)
}

fn check_events(files: &BTreeMap<String, Vec<u8>>) -> Check {
    let events = events(files)?;
    let mut opened = 0;
    for (seq, (event, _)) in &events {
        let Some(bytes) = files.get(&format!("openings/{seq}.json")) else { continue };
        let openings: BTreeMap<String, Opening> =
            serde_json::from_slice(bytes).map_err(|e| format!("openings/{seq}.json: {e}"))?;
        for (field, opening) in &openings {
            let commitment = match field.as_str() {
                "actor" => Some(&event.actor),
                "entity" => Some(&event.entity),
                "before" => event.before.as_ref(),
                "after" => event.after.as_ref(),
                _ => None,
            };
            if !commitment.is_some_and(|c| opening.opens(c)) {
                return Err(format!("openings/{seq}.json: {field} does not open the event's commitment"));
            }
            opened += 1;
        }
    }
    for (seq, (event, _)) in &events {
        if let Some(prev) = event.case_prev
            && !events.contains_key(&prev)
        {
            return Err(format!("events/{seq}.json follows event {prev} of its case, which is not in the bundle"));
        }
    }
    let bound: BTreeSet<&str> = events.values().flat_map(|(e, _)| e.docs.iter().map(String::as_str)).collect();
    let mut documents = 0;
    for (path, bytes) in files {
        if path.starts_with("documents/") || path.starts_with("attachments/") {
            if !bound.contains(sha256_hex(bytes).as_str()) {
                return Err(format!("{path} is not the document any event recorded"));
            }
            documents += 1;
        }
    }
    Ok(format!("{} events, {opened} openings, {documents} documents bound to events", events.len()))
}

fn check_inclusion(files: &BTreeMap<String, Vec<u8>>, head: &Checkpoint) -> Check {
    let events = events(files)?;
    for (seq, (_, bytes)) in &events {
        let path = format!("proofs/inclusion/{seq}.json");
        let proof: InclusionProof = files
            .get(&path)
            .ok_or_else(|| format!("{path} is missing"))
            .and_then(|b| serde_json::from_slice(b).map_err(|e| format!("{path}: {e}")))?;
        if proof.leaf_index != *seq || proof.tree_size != head.size {
            return Err(format!("{path}: proves index {} in a tree of {}", proof.leaf_index, proof.tree_size));
        }
        let hashes = from_hex(&proof.hashes).ok_or_else(|| format!("{path}: bad hash"))?;
        if !merkle::verify_inclusion(&merkle::leaf_hash(bytes), *seq, head.size, &hashes, &head.root) {
            return Err(format!("events/{seq}.json is not in the tree of checkpoint.txt"));
        }
    }
    let proofs = files.keys().filter(|p| p.starts_with("proofs/inclusion/")).count();
    if proofs != events.len() {
        return Err(format!("{proofs} inclusion proofs for {} events", events.len()));
    }
    Ok(format!("{} events are in the tree of size {}", events.len(), head.size))
}

fn checkpoint_of_size(files: &BTreeMap<String, Vec<u8>>, size: u64) -> Result<Checkpoint, String> {
    let path = format!("checkpoints/{size}.txt");
    let note = files.get(&path).ok_or_else(|| format!("{path} is missing"))?;
    Checkpoint::parse(&String::from_utf8_lossy(note)).map_err(|e| format!("{path}: {e}"))
}

fn check_consistency(files: &BTreeMap<String, Vec<u8>>, head: &Checkpoint) -> Check {
    let path = "proofs/consistency.json";
    let proof: ConsistencyProof = files
        .get(path)
        .ok_or_else(|| format!("{path} is missing"))
        .and_then(|b| serde_json::from_slice(b).map_err(|e| format!("{path}: {e}")))?;
    if proof.tree_size != head.size {
        return Err(format!("{path} leads to a tree of {}, checkpoint.txt has {}", proof.tree_size, head.size));
    }
    let old = checkpoint_of_size(files, proof.old_tree_size)?;
    let hashes = from_hex(&proof.hashes).ok_or_else(|| format!("{path}: bad hash"))?;
    if !merkle::verify_consistency(old.size, head.size, &old.root, &head.root, &hashes) {
        return Err(format!("the log of size {} is not a prefix of the log of size {}", old.size, head.size));
    }
    Ok(format!("the log of size {} is a prefix of the log of size {}", old.size, head.size))
}

fn check_signatures(files: &BTreeMap<String, Vec<u8>>, origin: &str) -> Check {
    let keys: Vec<VerifierKey> = String::from_utf8_lossy(files.get("keys.txt").ok_or("keys.txt is missing")?)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.parse().map_err(|e| format!("keys.txt: {e}")))
        .collect::<Result<_, String>>()?;
    let head = files.get("checkpoint.txt").ok_or("checkpoint.txt is missing")?;
    let mut checked = 0;
    for (path, note) in files.iter().filter(|(p, _)| p.starts_with("checkpoints/") || p.as_str() == "checkpoint.txt") {
        let (checkpoint, _) =
            Checkpoint::open(&String::from_utf8_lossy(note), &keys).map_err(|e| format!("{path}: {e}"))?;
        if checkpoint.origin != origin {
            return Err(format!("{path}: origin {:?} is not the bundle's log", checkpoint.origin));
        }
        if path.starts_with("checkpoints/") && *path != format!("checkpoints/{}.txt", checkpoint.size) {
            return Err(format!("{path}: holds the checkpoint of size {}", checkpoint.size));
        }
        checked += 1;
    }
    let head_size = Checkpoint::parse(&String::from_utf8_lossy(head)).map_err(|e| e.to_string())?.size;
    if files.get(&format!("checkpoints/{head_size}.txt")) != Some(head) {
        return Err("checkpoint.txt differs from its copy under checkpoints/".into());
    }
    Ok(format!("{checked} checkpoints signed by {} key(s) of {origin}", keys.len()))
}

fn check_timestamps(files: &BTreeMap<String, Vec<u8>>) -> Result<Option<String>, String> {
    let tokens: Vec<(&String, &Vec<u8>)> =
        files.iter().filter(|(p, _)| p.starts_with("timestamps/") && p.ends_with(".tsr")).collect();
    if tokens.is_empty() {
        return Ok(None);
    }
    let anchor = files.get("timestamps/tsa-ca.pem").ok_or("timestamps/tsa-ca.pem is missing").and_then(|pem| {
        crate::tsp::pem_to_der(&String::from_utf8_lossy(pem)).map_err(|_| "tsa-ca.pem is not a certificate")
    })?;
    let mut times = Vec::new();
    for (path, der) in tokens {
        let size: u64 = path["timestamps/".len()..]
            .strip_suffix(".tsr")
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| format!("{path}: not named <size>.tsr"))?;
        let checkpoint = checkpoint_of_size(files, size)?;
        let verified =
            crate::tsp::verify(der, &checkpoint.root, None, Some(&anchor)).map_err(|e| format!("{path}: {e}"))?;
        times.push(format!("{size} at {}", verified.gen_time.to_rfc3339()));
    }
    Ok(Some(format!("{} token(s) over checkpoint roots: {}", times.len(), times.join(", "))))
}
