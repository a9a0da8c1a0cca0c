//! The evidence bundle for arbitration: a zip holding a case's (or a person's) log events, the openings of
//! their commitments, the documents they recorded, proofs against one signed checkpoint, the keys, the
//! timestamps and bilingual instructions. `docs/evidence.md` is its specification; [`verify_zip`] checks
//! one offline.

use crate::audit::{change, record};
use crate::audit_log::{self, LogError, PAGE, verifier_keys};
use crate::{App, AppError, Ctx};
use lizhi_core::auth::Permission;
use lizhi_core::evidence::bundle::{
    self, ConsistencyProof, FORMAT, InclusionProof, MANIFEST, Manifest, ManifestFile, Subject, sha256_hex, to_hex,
};
use lizhi_core::evidence::{Checkpoint, LogEvent, Report};
use lizhi_core::merkle::{self, Hash, Levels, leaf_hash};
use lizhi_store::log::{self as log_store, StoredCheckpoint};
use lizhi_store::{Conn, audit, cases, checklist, documents};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};

/// The bundle format's specification, shipped inside every bundle so it explains itself.
const FORMAT_SPEC: &str = include_str!("../../../docs/evidence.md");

/// Largest bundle `verify_zip` reads (uncompressed, all files together).
pub const MAX_BUNDLE_BYTES: u64 = 2 << 30;

/// A finished bundle.
pub struct Bundle {
    /// Suggested file name.
    pub file_name: String,
    /// The zip.
    pub bytes: Vec<u8>,
    /// Number of log events inside.
    pub events: usize,
}

/// The bundle for one case.
pub async fn export_case(app: &App, ctx: &Ctx, case_id: i64) -> Result<Bundle, AppError> {
    ctx.require(Permission::ViewAudit)?;
    let mut conn = app.db.acquire().await?;
    crate::cases::visible_case(&mut conn.conn(), ctx, case_id, false).await?;
    drop(conn);
    let subject = Subject { kind: "case".into(), id: case_id.to_string() };
    build(app, ctx, subject, &[case_id], None).await
}

/// The bundle for one person: every case of theirs and every event about them.
pub async fn export_employee(app: &App, ctx: &Ctx, employee_no: &str) -> Result<Bundle, AppError> {
    ctx.require(Permission::ViewAudit)?;
    let employee = crate::people::get_employee(app, ctx, employee_no).await?;
    let mut conn = app.db.acquire().await?;
    let filter = cases::CaseFilter { employee_id: Some(employee.id), ..cases::CaseFilter::default() };
    let today = app.clock.now().date_naive();
    let case_ids: Vec<i64> =
        cases::list(&mut conn.conn(), &filter, today, 1_000).await?.iter().map(|l| l.case.id).collect();
    drop(conn);
    let subject = Subject { kind: "employee".into(), id: employee_no.to_owned() };
    build(app, ctx, subject, &case_ids, Some(employee_no)).await
}

/// Files of the bundle, by path (sorted, so the zip is laid out the same way every time).
type Files = BTreeMap<String, Vec<u8>>;

async fn build(
    app: &App,
    ctx: &Ctx,
    subject: Subject,
    case_ids: &[i64],
    employee_no: Option<&str>,
) -> Result<Bundle, AppError> {
    // Cover everything up to now, and date it when an authority is configured.
    audit_log::checkpoint(app).await?;
    if let Err(e) = audit_log::timestamp_latest(app).await {
        tracing::warn!(error = %e, "no fresh timestamp for the evidence bundle");
    }
    let mut conn = app.db.acquire().await?;
    let mut c = conn.conn();
    let events = audit::events_for(&mut c, case_ids, employee_no).await?;
    if events.is_empty() {
        return Err(AppError::NotFound);
    }
    let head = log_store::latest_checkpoint(&mut c).await?.ok_or(LogError::NoCheckpoint)?;
    let last = events.last().map_or(0, |e| e.seq);
    if head.tree_size as u64 <= last {
        return Err(LogError::NoCheckpoint.into());
    }
    let first = log_store::first_covering(&mut c, events[0].seq as i64).await?.ok_or(LogError::NoCheckpoint)?;
    let tree = signed_leaves(&mut c, &head).await?;
    let mut files = Files::new();
    add_events(&mut c, &mut files, &events, &tree).await?;
    let consistency = merkle::consistency_proof(first.tree_size as usize, tree.leaves()).unwrap_or_default();
    put_json(
        &mut files,
        "proofs/consistency.json",
        &ConsistencyProof {
            old_tree_size: first.tree_size as u64,
            tree_size: head.tree_size as u64,
            hashes: to_hex(&consistency),
        },
    )?;
    for checkpoint in [&first, &head] {
        files.insert(format!("checkpoints/{}.txt", checkpoint.tree_size), checkpoint.note.clone().into_bytes());
    }
    files.insert("checkpoint.txt".into(), head.note.clone().into_bytes());
    let keys = verifier_keys(&mut c).await?;
    files.insert("keys.txt".into(), keys.iter().map(|k| format!("{k}\n")).collect::<String>().into_bytes());
    let stamped = add_timestamps(app, &mut c, &mut files, &[first.tree_size, head.tree_size]).await?;
    let recorded: BTreeSet<String> = events.iter().flat_map(|e| e.docs.iter().cloned()).collect();
    for case_id in case_ids {
        add_documents(&mut c, &mut files, *case_id, &recorded).await?;
    }
    files.insert("FORMAT.md".into(), FORMAT_SPEC.as_bytes().to_vec());
    let origin = Checkpoint::parse(&head.note).map_err(|e| AppError::Internal(e.to_string()))?.origin;
    files.insert("VERIFY.md".into(), verify_md(&subject, &origin, &first, &head, &stamped, events.len()).into_bytes());
    let created_at = app.clock.now();
    let manifest = Manifest {
        format: FORMAT.into(),
        created_at: created_at.to_rfc3339(),
        subject: subject.clone(),
        origin,
        files: files
            .iter()
            .map(|(path, bytes)| ManifestFile {
                path: path.clone(),
                sha256: sha256_hex(bytes),
                size: bytes.len() as u64,
            })
            .collect(),
    };
    put_json(&mut files, MANIFEST, &manifest)?;
    drop(conn);
    let bytes = write_zip(&files)?;
    let detail = serde_json::json!({"subject": subject.kind, "events": events.len(), "tree_size": head.tree_size,
        "sha256": sha256_hex(&bytes)});
    let mut tx = app.db.begin().await?;
    record(
        app,
        &mut tx.conn(),
        ctx,
        &[change(ctx, "evidence.export", &subject.kind, &subject.id, None, Some(&detail))],
    )
    .await?;
    tx.commit().await?;
    let file_name = format!("lizhi-evidence-{}-{}-{}.zip", subject.kind, subject.id, created_at.format("%Y%m%d%H%M%S"));
    Ok(Bundle { file_name, bytes, events: events.len() })
}

/// The signed leaf hashes up to the head, as a tree checked against its root before any proof is cut from it.
async fn signed_leaves(c: &mut Conn<'_>, head: &StoredCheckpoint) -> Result<Levels, AppError> {
    let size = head.tree_size;
    let mut leaves: Vec<Hash> = Vec::with_capacity(size as usize);
    while (leaves.len() as i64) < size {
        let start = leaves.len() as i64;
        let page = log_store::leaf_hashes(c, start, (start + PAGE).min(size)).await?;
        if page.is_empty() {
            return Err(LogError::Inconsistent(format!("no signed leaf hash at position {start}")).into());
        }
        for (_, hash) in page {
            leaves.push(hash.try_into().map_err(|_| LogError::Inconsistent("leaf hash".into()))?);
        }
    }
    let levels = Levels::new(leaves);
    if levels.root()[..] != head.root[..] {
        return Err(LogError::Inconsistent(
            "the stored leaf hashes do not give the signed head; run `lizhi audit verify`".into(),
        )
        .into());
    }
    Ok(levels)
}

async fn add_events(c: &mut Conn<'_>, files: &mut Files, events: &[LogEvent], tree: &Levels) -> Result<(), AppError> {
    let seqs: Vec<i64> = events.iter().map(|e| e.seq as i64).collect();
    let openings = audit::openings(c, &seqs).await?;
    for event in events {
        let bytes = event.to_bytes();
        let seq = event.seq;
        if tree.leaves().get(seq as usize) != Some(&leaf_hash(&bytes)) {
            let why = format!("the event at position {seq} is not the one signed; run `lizhi audit verify`");
            return Err(LogError::Inconsistent(why).into());
        }
        let path = tree.inclusion_proof(seq as usize).unwrap_or_default();
        let proof = InclusionProof { leaf_index: seq, tree_size: tree.size() as u64, hashes: to_hex(&path) };
        put_json(files, &format!("proofs/inclusion/{seq}.json"), &proof)?;
        files.insert(format!("events/{seq}.json"), bytes);
        if let Some(fields) = openings.get(&(seq as i64)) {
            put_json(files, &format!("openings/{seq}.json"), fields)?;
        }
    }
    Ok(())
}

/// Adds the case's letters and uploads whose SHA-256 an event of the bundle recorded (a file the log never
/// recorded proves nothing, and one whose bytes changed since would fail the check).
async fn add_documents(
    c: &mut Conn<'_>,
    files: &mut Files,
    case_id: i64,
    recorded: &BTreeSet<String>,
) -> Result<(), AppError> {
    for info in documents::of_case(c, case_id).await? {
        if recorded.contains(&info.sha256)
            && let Some((info, pdf, _)) = documents::get(c, info.id).await?
            && recorded.contains(&sha256_hex(&pdf))
        {
            files.insert(format!("documents/{}-{}-{}-{}.pdf", case_id, info.id, info.kind, info.lang), pdf);
        }
    }
    for info in checklist::attachments_of_case(c, case_id).await? {
        if recorded.contains(&info.sha256)
            && let Some((info, _, bytes)) = checklist::attachment_with_content(c, info.id).await?
            && recorded.contains(&sha256_hex(&bytes))
        {
            files.insert(format!("attachments/{}-{}-{}", case_id, info.id, safe_name(&info.file_name)), bytes);
        }
    }
    Ok(())
}

/// A file name safe in a zip on every system: no folders, no control or reserved characters.
fn safe_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| if c.is_control() || "/\\:*?\"<>|".contains(c) { '_' } else { c })
        .collect::<String>()
        .trim_matches(['.', ' '])
        .to_owned();
    if cleaned.is_empty() { "file".into() } else { cleaned }
}

/// Adds the tokens of the given checkpoints with the authority's CA; returns the sizes that have one. Without
/// the CA (`tsa_ca_file` unset) a reader could not check the tokens, so none are added.
async fn add_timestamps(
    app: &App,
    c: &mut Conn<'_>,
    files: &mut Files,
    sizes: &[i64],
) -> Result<Vec<(i64, String)>, AppError> {
    let Some(ca_pem) = app.tsa.as_ref().and_then(|t| t.ca_pem.as_ref()) else { return Ok(Vec::new()) };
    let mut stamped = Vec::new();
    for token in log_store::timestamps(c, Some(sizes)).await? {
        let path = format!("timestamps/{}.tsr", token.tree_size);
        if files.contains_key(&path) {
            continue;
        }
        files.insert(path, token.response);
        stamped.push((token.tree_size, token.gen_time.to_rfc3339()));
    }
    if !stamped.is_empty() {
        files.insert("timestamps/tsa-ca.pem".into(), ca_pem.clone().into_bytes());
    }
    Ok(stamped)
}

fn put_json<T: serde::Serialize>(files: &mut Files, path: &str, value: &T) -> Result<(), AppError> {
    let bytes = serde_json::to_vec_pretty(value).map_err(|e| AppError::Internal(e.to_string()))?;
    files.insert(path.to_owned(), bytes);
    Ok(())
}

/// Packs files into a zip (deflated, fixed timestamps, in path order).
pub fn write_zip(files: &BTreeMap<String, Vec<u8>>) -> Result<Vec<u8>, AppError> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default());
    let io = |e: std::io::Error| AppError::Internal(format!("zip: {e}"));
    for (path, bytes) in files {
        writer.start_file(path.as_str(), options).map_err(|e| AppError::Internal(format!("zip: {e}")))?;
        writer.write_all(bytes).map_err(io)?;
    }
    Ok(writer.finish().map_err(|e| AppError::Internal(format!("zip: {e}")))?.into_inner())
}

/// Why a file is not a readable bundle.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// Not a zip, or a damaged one.
    #[error("not a readable zip file: {0}")]
    Zip(String),
    /// Bigger than [`MAX_BUNDLE_BYTES`] once unpacked.
    #[error("the bundle unpacks to more than {MAX_BUNDLE_BYTES} bytes")]
    TooLarge,
}

/// Reads a bundle's files (no database, no network).
pub fn read_zip(bytes: &[u8]) -> Result<BTreeMap<String, Vec<u8>>, BundleError> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|e| BundleError::Zip(e.to_string()))?;
    let mut files = BTreeMap::new();
    let mut total = 0u64;
    for i in 0..archive.len() {
        let mut file = archive.by_index(i).map_err(|e| BundleError::Zip(e.to_string()))?;
        if file.is_dir() {
            continue;
        }
        let name = file.name().map_err(|e| BundleError::Zip(e.to_string()))?.into_owned();
        let mut content = Vec::new();
        // Read one byte past the budget so an archive that lies about sizes is still caught.
        let budget = MAX_BUNDLE_BYTES.saturating_sub(total) + 1;
        (&mut file).take(budget).read_to_end(&mut content).map_err(|e| BundleError::Zip(e.to_string()))?;
        total += content.len() as u64;
        if total > MAX_BUNDLE_BYTES {
            return Err(BundleError::TooLarge);
        }
        if files.insert(name.clone(), content).is_some() {
            return Err(BundleError::Zip(format!("{name} appears twice")));
        }
    }
    Ok(files)
}

/// Checks a bundle offline, dimension by dimension; `keys` replaces the bundle's own key list with keys
/// obtained separately (from the employer's published keys), so a bundle cannot vouch for itself.
pub fn verify_zip(bytes: &[u8], keys: Option<&str>) -> Result<Report, BundleError> {
    let mut files = read_zip(bytes)?;
    if let Some(keys) = keys {
        let own = files.get("keys.txt").cloned().unwrap_or_default();
        let trusted: Vec<&str> = keys.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
        let foreign =
            String::from_utf8_lossy(&own).lines().any(|l| !l.trim().is_empty() && !trusted.contains(&l.trim()));
        if foreign {
            // Keep the manifest honest (files still match) but sign-check with the trusted keys only.
            files.insert("keys.txt".into(), keys.as_bytes().to_vec());
            let mut report = bundle::verify(&files);
            for (dimension, outcome) in &mut report.results {
                if *dimension == lizhi_core::evidence::Dimension::Files {
                    *outcome = lizhi_core::evidence::Outcome::Fail(
                        "keys.txt holds keys that are not in the trusted list".into(),
                    );
                }
            }
            return Ok(report);
        }
    }
    Ok(bundle::verify(&files))
}

fn verify_md(
    subject: &Subject,
    origin: &str,
    first: &StoredCheckpoint,
    head: &StoredCheckpoint,
    stamped: &[(i64, String)],
    events: usize,
) -> String {
    let root_hex = |c: &StoredCheckpoint| hex::encode(&c.root);
    let mut ts_commands = String::new();
    for (size, _) in stamped {
        let root = if *size == head.tree_size { root_hex(head) } else { root_hex(first) };
        ts_commands.push_str(&format!(
            "openssl ts -verify -digest {root} -in timestamps/{size}.tsr -CAfile timestamps/tsa-ca.pem\n"
        ));
    }
    if ts_commands.is_empty() {
        ts_commands.push_str(
            "# 本证据包没有时间戳 / no timestamp tokens in this bundle. The command would be:\n\
             # openssl ts -verify -digest <root hex> -in timestamps/<size>.tsr -CAfile timestamps/tsa-ca.pem\n",
        );
    }
    let stamp_list = if stamped.is_empty() {
        "—".to_owned()
    } else {
        stamped.iter().map(|(size, at)| format!("{size} @ {at}")).collect::<Vec<_>>().join(", ")
    };
    format!(
        r#"# 证据包核验说明 / How to verify this evidence bundle

对象 / Subject: {kind} {id}
日志 / Log: `{origin}`
事件数 / Events: {events}
签名树头 / Signed tree head: size {head_size}, root `{head_root}`
首个检查点 / First checkpoint: size {first_size}, root `{first_root}`
时间戳 / Timestamps: {stamp_list}

## 中文

本证据包不依赖离职（Lizhi）系统本身即可核验。格式说明见包内 `FORMAT.md`（英文），依据的公开标准为
RFC 9162（Merkle 树）、C2SP signed-note / tlog-checkpoint（签名检查点）、RFC 3161（可信时间戳）。

1. **文件完整**：`MANIFEST.json` 列出了其他每个文件的 SHA-256 和大小。逐一计算（如 `sha256sum 文件`）并比对，
   且包内不应有清单之外的文件。
2. **事件**：`events/<序号>.json` 是日志中第 <序号> 条记录被哈希时的原始字节（键名排序、无空白的 JSON）。
   个人信息以加盐承诺出现：`openings/<序号>.json` 给出盐值与原文，SHA-256(盐 ‖ 原文) 的十六进制应等于事件中对应字段。
   `documents/` 与 `attachments/` 中每个文件的 SHA-256 都应出现在某条事件的 `docs` 中。
3. **包含证明**：对每条事件计算叶哈希 SHA-256(0x00 ‖ 事件字节)，按 `proofs/inclusion/<序号>.json`
   （RFC 9162 §2.1.3.2）逐级计算，结果应等于 `checkpoint.txt` 中的树根；`tree_size` 应等于该检查点的大小。
4. **一致性证明**：`proofs/consistency.json`（RFC 9162 §2.1.4.2）证明第 {first_size} 条时的日志是第 {head_size}
   条时日志的前缀，即其间没有改写历史。
5. **签名**：`checkpoints/` 下每个检查点都带有 Ed25519 签名（C2SP signed-note）。用 `keys.txt` 中的公钥核验。
   **请将 `keys.txt` 与用人单位另行公布或提交的公钥比对**：证据包不能为自己担保。
6. **时间戳**：如有 `timestamps/<大小>.tsr`，它是时间戳机构对该检查点树根的 RFC 3161 回执，可用 OpenSSL 核验：

```
{ts_commands}```

用 Lizhi 离线核验：`lizhi evidence verify 本文件.zip [--keys 公钥文件]`；也可用任何按上述标准独立编写的程序核验。

## English

This bundle can be checked without Lizhi. The format is specified in `FORMAT.md` in this bundle; it rests on
public standards: RFC 9162 (Merkle trees), C2SP signed-note / tlog-checkpoint (signed checkpoints) and RFC 3161
(trusted timestamps).

1. **Files**: `MANIFEST.json` lists every other file with its SHA-256 and size. Recompute each (e.g.
   `sha256sum FILE`) and compare; the bundle must hold no file the manifest does not list.
2. **Events**: `events/<seq>.json` holds the exact bytes hashed as log entry <seq> (JSON, keys sorted, no
   whitespace). Personal data appears as salted commitments: `openings/<seq>.json` gives salt and value, and the
   hex of SHA-256(salt ‖ value) must equal the event's field. Every file under `documents/` and `attachments/`
   must have its SHA-256 in the `docs` of some event.
3. **Inclusion**: hash each event as SHA-256(0x00 ‖ bytes) and fold in `proofs/inclusion/<seq>.json`
   (RFC 9162 §2.1.3.2); the result must be the root in `checkpoint.txt`, and `tree_size` its size.
4. **Consistency**: `proofs/consistency.json` (RFC 9162 §2.1.4.2) proves that the log of {first_size} events is a
   prefix of the log of {head_size} events: nothing in between was rewritten.
5. **Signatures**: every checkpoint under `checkpoints/` carries an Ed25519 signature (C2SP signed-note); check
   them with the keys in `keys.txt`. **Compare `keys.txt` with the keys the employer published or filed
   separately**: a bundle cannot vouch for itself.
6. **Timestamps**: each `timestamps/<size>.tsr` is an RFC 3161 response of a timestamp authority over that
   checkpoint's root. OpenSSL checks it:

```
{ts_commands}```

Offline check with Lizhi: `lizhi evidence verify THIS.zip [--keys KEYS_FILE]`; any program written
independently from the standards above can check it too.
"#,
        kind = subject.kind,
        id = subject.id,
        head_size = head.tree_size,
        head_root = root_hex(head),
        first_size = first.tree_size,
        first_root = root_hex(first),
    )
}
