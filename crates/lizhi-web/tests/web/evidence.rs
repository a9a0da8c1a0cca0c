//! The tamper-evident log end to end: a case's evidence bundle checked by Lizhi's offline verifier and by the
//! independent one in `tools/verify-bundle` (written from the standards only), each tampering caught in its
//! own dimension; RFC 3161 tokens from a local `openssl ts` authority accepted by `openssl ts -verify`; and
//! every kind of change to the stored log named by `audit verify` at its exact position.

use crate::support::*;
use lizhi_app::audit_verify::{self, Finding};
use lizhi_app::evidence::{self, read_zip, verify_zip, write_zip};
use lizhi_core::evidence::bundle::{MANIFEST, Manifest, ManifestFile, sha256_hex};
use lizhi_core::evidence::{Dimension, Outcome};
use lizhi_store::on_conn;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

type Files = BTreeMap<String, Vec<u8>>;

/// An app whose clock stands on Friday 6 March 2026 in Shanghai.
async fn spawn() -> TestApp {
    let at = chrono::DateTime::parse_from_rfc3339("2026-03-06T10:00:00+08:00").expect("instant").to_utc();
    spawn_app_with(Some(std::sync::Arc::new(lizhi_app::FixedClock::new(at)))).await
}

/// A case with contacts, a confirmed departure, a dispatched notice and a generated letter.
async fn case_with_history(t: &TestApp) -> i64 {
    let hr = t.token("hr").await;
    let (_, people) = t.call(&hr, Method::GET, "/api/v1/employees?org_unit=CN-RD&limit=1", None).await;
    let no = people["items"][0]["employee_no"].as_str().expect("employee").to_owned();
    let (status, opened) = t
        .call(
            &hr,
            Method::POST,
            "/api/v1/cases",
            Some(json!({"employee_no": no, "case_type": "absconding", "first_absent_date": "2026-03-02"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{opened}");
    let id = opened["id"].as_i64().expect("id");
    let actions = format!("/api/v1/cases/{id}/actions");
    for channel in ["phone", "phone", "wecom"] {
        let body = json!({"action": "log_contact", "channel": channel, "outcome": "no_answer"});
        assert_eq!(t.call(&hr, Method::POST, &actions, Some(body)).await.0, StatusCode::OK);
    }
    assert_eq!(
        t.call(&hr, Method::POST, &actions, Some(json!({"action": "confirm_departure"}))).await.0,
        StatusCode::OK
    );
    let letter =
        json!({"kind": "return_to_work_notice", "lang": "zh-CN", "fields": {"hr_contact_phone": "021-5555 0100"}});
    let (status, doc) = t.call(&hr, Method::POST, &format!("/api/v1/cases/{id}/documents"), Some(letter)).await;
    assert_eq!(status, StatusCode::CREATED, "{doc}");
    let dispatch = json!({"action": "dispatch_notice", "method": "post", "on": "2026-03-06", "tracking_no": "EMS1"});
    assert_eq!(t.call(&hr, Method::POST, &actions, Some(dispatch)).await.0, StatusCode::OK);
    id
}

fn passes(files: &Files) -> bool {
    verify_zip(&write_zip(files).expect("zip"), None).expect("readable").passed()
}

fn failed_dimensions(files: &Files) -> Vec<&'static str> {
    let report = verify_zip(&write_zip(files).expect("zip"), None).expect("readable");
    report.results.iter().filter(|(_, o)| matches!(o, Outcome::Fail(_))).map(|(d, _)| d.name()).collect()
}

/// Rewrites the manifest so the files dimension passes and a tampering shows in the dimension it targets.
fn refresh_manifest(files: &mut Files) {
    let mut manifest: Manifest = serde_json::from_slice(&files[MANIFEST]).expect("manifest");
    manifest.files = files
        .iter()
        .filter(|(p, _)| p.as_str() != MANIFEST)
        .map(|(p, b)| ManifestFile { path: p.clone(), sha256: sha256_hex(b), size: b.len() as u64 })
        .collect();
    files.insert(MANIFEST.into(), serde_json::to_vec_pretty(&manifest).expect("json"));
}

/// The independent verifier, when a Python with `cryptography` is available (CI installs one).
fn independent_verifier() -> Option<(PathBuf, PathBuf)> {
    let Some(python) = std::env::var_os("LIZHI_TEST_PYTHON").map(PathBuf::from) else {
        assert!(std::env::var_os("CI").is_none(), "CI must set LIZHI_TEST_PYTHON for the independent verifier");
        return None;
    };
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tools/verify-bundle/verify_bundle.py");
    Some((python, script))
}

/// Runs the independent verifier; returns its exit code and output.
fn run_independent(files: &Files, dir: &Path, name: &str) -> Option<(i32, String)> {
    let (python, script) = independent_verifier()?;
    let path = dir.join(name);
    std::fs::write(&path, write_zip(files).expect("zip")).expect("write");
    let out = Command::new(python).arg(script).arg(&path).output().expect("run the independent verifier");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    Some((out.status.code().unwrap_or(-1), text))
}

fn case_event_seqs(files: &Files) -> Vec<u64> {
    files
        .iter()
        .filter(|(p, _)| p.starts_with("events/"))
        .filter(|(_, b)| serde_json::from_slice::<Value>(b).expect("event")["case_prev"].is_u64())
        .map(|(p, _)| p["events/".len()..p.len() - 5].parse().expect("seq"))
        .collect()
}

#[tokio::test]
async fn a_case_bundle_verifies_offline_and_each_tampering_fails_its_dimension() {
    let t = spawn().await;
    let id = case_with_history(&t).await;
    let path = format!("/api/v1/cases/{id}/evidence");
    for (role, expected) in [("hr", StatusCode::FORBIDDEN), ("manager", StatusCode::FORBIDDEN)] {
        let res = t.http.get(format!("{}{path}", t.base)).bearer_auth(t.token(role).await).send().await.expect("get");
        assert_eq!(res.status(), expected, "{role}");
    }
    let res = t.http.get(format!("{}{path}", t.base)).bearer_auth(t.token("auditor").await).send().await.expect("get");
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/zip");
    let bytes = res.bytes().await.expect("zip").to_vec();

    let report = verify_zip(&bytes, None).expect("readable");
    for (dimension, outcome) in &report.results {
        match dimension {
            Dimension::Timestamps => assert!(matches!(outcome, Outcome::Skip(_)), "no authority configured"),
            _ => assert!(matches!(outcome, Outcome::Pass(_)), "{}: {outcome:?}", dimension.name()),
        }
    }
    let files = read_zip(&bytes).expect("files");
    let events: Vec<&String> = files.keys().filter(|p| p.starts_with("events/")).collect();
    assert!(events.len() >= 6, "open, 3 contacts, confirm, letter, dispatch: {events:?}");
    let text: String = events.iter().map(|p| String::from_utf8_lossy(&files[*p]).into_owned()).collect();
    assert!(!text.contains("\"hr\"") && !text.contains("EMS1"), "no personal values in the leaves: {text}");
    let openings: String = files
        .iter()
        .filter(|(p, _)| p.starts_with("openings/"))
        .map(|(_, b)| String::from_utf8_lossy(b).into_owned())
        .collect();
    assert!(
        openings.contains("EMS1") && openings.contains(r#""value": "hr""#),
        "the openings reveal the steps: {openings}"
    );
    let document = files.keys().find(|p| p.starts_with("documents/")).expect("the letter is in the bundle").clone();
    let verify_md = String::from_utf8_lossy(&files["VERIFY.md"]).into_owned();
    assert!(
        verify_md.contains("核验") && verify_md.contains("How to verify") && verify_md.contains("openssl ts -verify")
    );

    let dir = tempfile::tempdir().expect("tmp");
    if let Some((code, out)) = run_independent(&files, dir.path(), "fresh.zip") {
        assert_eq!(code, 0, "the independent verifier accepts a fresh bundle:\n{out}");
    } else {
        eprintln!("LIZHI_TEST_PYTHON not set: the independent verifier is not run (CI sets it)");
    }

    let seqs = case_event_seqs(&files);
    let middle = seqs[seqs.len() / 2];
    let head_size: u64 =
        String::from_utf8_lossy(&files["checkpoint.txt"]).lines().nth(1).expect("size").parse().expect("n");
    type Tamper = Box<dyn Fn(&mut Files)>;
    let cases: Vec<(&str, Tamper, &str)> = vec![
        (
            "a changed event byte",
            Box::new(move |f: &mut Files| {
                let key = format!("events/{middle}.json");
                let text = String::from_utf8(f[&key].clone()).expect("utf-8").replacen("\"case.", "\"Case.", 1);
                f.insert(key, text.into_bytes());
            }),
            "inclusion",
        ),
        (
            "a dropped event with its proof and opening",
            Box::new(move |f: &mut Files| {
                for key in [
                    format!("events/{middle}.json"),
                    format!("proofs/inclusion/{middle}.json"),
                    format!("openings/{middle}.json"),
                ] {
                    f.remove(&key);
                }
            }),
            "events",
        ),
        (
            "a swapped document",
            Box::new(move |f: &mut Files| {
                let mut pdf = f[&document].clone();
                let at = pdf.len() / 2;
                pdf[at] ^= 0x20;
                f.insert(document.clone(), pdf);
            }),
            "events",
        ),
        (
            "a forged checkpoint signature",
            Box::new(|f: &mut Files| {
                let note = String::from_utf8(f["checkpoint.txt"].clone()).expect("note");
                let (body, sig) = note.rsplit_once(' ').expect("signature");
                use base64::Engine;
                let mut blob = base64::engine::general_purpose::STANDARD.decode(sig.trim()).expect("b64");
                blob[10] ^= 1;
                let forged = format!("{body} {}\n", base64::engine::general_purpose::STANDARD.encode(blob));
                let size = forged.lines().nth(1).expect("size").to_owned();
                f.insert("checkpoint.txt".into(), forged.clone().into_bytes());
                f.insert(format!("checkpoints/{size}.txt"), forged.into_bytes());
            }),
            "signatures",
        ),
        (
            "a proof against the wrong tree size",
            Box::new(move |f: &mut Files| {
                let key = format!("proofs/inclusion/{middle}.json");
                let mut proof: Value = serde_json::from_slice(&f[&key]).expect("proof");
                proof["tree_size"] = json!(head_size + 1);
                f.insert(key, serde_json::to_vec(&proof).expect("json"));
            }),
            "inclusion",
        ),
    ];
    for (name, tamper, dimension) in &cases {
        let mut tampered = files.clone();
        tamper(&mut tampered);
        refresh_manifest(&mut tampered);
        let failed = failed_dimensions(&tampered);
        assert!(failed.contains(dimension), "{name}: expected {dimension} to fail, got {failed:?}");
        if let Some((code, out)) = run_independent(&tampered, dir.path(), "tampered.zip") {
            assert_eq!(code, 1, "{name}: the independent verifier must reject it:\n{out}");
            assert!(out.contains(&format!("{dimension}: FAIL")), "{name}:\n{out}");
        }
    }
    // An untouched copy still passes: the failures come from the tampering, not the rezip.
    let mut copy = files.clone();
    refresh_manifest(&mut copy);
    assert!(passes(&copy));
    // Keys obtained separately: the bundle's own keys must be among them.
    let other =
        lizhi_core::evidence::SigningKey::from_seed("someone/else", [5; 32]).expect("key").verifier().to_string();
    let foreign = verify_zip(&bytes, Some(&other)).expect("readable");
    assert!(!foreign.passed());
    let own = String::from_utf8_lossy(&files["keys.txt"]).into_owned();
    assert!(verify_zip(&bytes, Some(&own)).expect("readable").passed());

    // The page offers the bundle to auditors only.
    let auditor = t.session("auditor").await;
    let page = t.request(Method::GET, &format!("/cases/{id}"), Some(&auditor)).send().await.expect("page");
    assert!(page.text().await.expect("html").contains(&format!("/cases/{id}/evidence")));
    let zip = t.request(Method::GET, &format!("/cases/{id}/evidence"), Some(&auditor)).send().await.expect("zip");
    assert_eq!(zip.status(), StatusCode::OK);
    let hr = t.session("hr").await;
    let page = t.request(Method::GET, &format!("/cases/{id}"), Some(&hr)).send().await.expect("page");
    assert!(!page.text().await.expect("html").contains(&format!("/cases/{id}/evidence")));
}

/// Starts `tools/test-peers/tsa.py`; returns the child, its URL and its CA certificate.
fn start_tsa() -> Option<(std::process::Child, String, String)> {
    use std::io::BufRead;
    if Command::new("openssl").arg("version").output().is_err() {
        return None;
    }
    let python = std::env::var_os("LIZHI_TEST_PYTHON").map(PathBuf::from).unwrap_or_else(|| "python3".into());
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tools/test-peers/tsa.py");
    let mut child = Command::new(python)
        .arg(script)
        .args(["--port", "0"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .ok()?;
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take()?).read_line(&mut line).ok()?;
    let rest = line.trim().strip_prefix("TSA ready on ")?;
    let (url, ca) = rest.split_once(" ca=")?;
    Some((child, url.to_owned(), std::fs::read_to_string(ca).ok()?))
}

#[tokio::test]
async fn timestamps_from_a_local_authority_are_stored_whole_and_accepted_by_openssl() {
    let Some((mut tsa, url, ca_pem)) = start_tsa() else {
        assert!(std::env::var_os("CI").is_none(), "CI must install openssl and python3 for the RFC 3161 test");
        eprintln!("openssl or python3 missing: the RFC 3161 test is skipped (CI installs both)");
        return;
    };
    let t = spawn().await;
    let app = App {
        tsa: Some(std::sync::Arc::new(lizhi_app::audit_log::TsaSettings { url, ca_pem: Some(ca_pem) })),
        ..t.app.clone()
    };
    let id = case_with_history(&t).await;
    let auditor = Ctx::user(auth::principal_named(&app, "auditor").await.expect("auditor"), "t".into());
    let bundle = evidence::export_case(&app, &auditor, id).await.expect("bundle");
    let _ = tsa.kill();
    let report = verify_zip(&bundle.bytes, None).expect("readable");
    assert!(matches!(report.outcome(Dimension::Timestamps), Some(Outcome::Pass(_))), "{:?}", report.results);
    assert!(report.passed(), "{:?}", report.results);
    let files = read_zip(&bundle.bytes).expect("files");
    let dir = tempfile::tempdir().expect("tmp");
    for (path, bytes) in &files {
        let target = dir.path().join(path);
        std::fs::create_dir_all(target.parent().expect("parent")).expect("dir");
        std::fs::write(target, bytes).expect("write");
    }
    let verify_md = String::from_utf8_lossy(&files["VERIFY.md"]).into_owned();
    let commands: Vec<&str> = verify_md.lines().filter(|l| l.starts_with("openssl ts -verify")).collect();
    assert!(!commands.is_empty(), "VERIFY.md gives the openssl command:\n{verify_md}");
    for command in commands {
        let args: Vec<&str> = command.split_whitespace().skip(1).collect();
        let out = Command::new("openssl").args(&args).current_dir(dir.path()).output().expect("openssl");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && text.contains("Verification: OK"),
            "{command}: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    if let Some((code, out)) = run_independent(&files, dir.path(), "stamped.zip") {
        assert_eq!(code, 0, "{out}");
    }
    let checked = audit_verify::verify(&app, &auditor, None).await.expect("verify");
    assert!(checked.ok() && checked.timestamps >= 1, "{:?}", checked.findings);
}

/// Runs statements on the database with the append-only guards off, as a database administrator could.
async fn tamper(t: &TestApp, statements: &[&str]) {
    let mut conn = t.app.db.acquire().await.expect("conn");
    let mut c = conn.conn();
    let prelude: &[&str] = match &c {
        lizhi_store::Conn::Sqlite(_) => &[
            "PRAGMA foreign_keys = OFF",
            "DROP TRIGGER IF EXISTS audit_events_append_only_update",
            "DROP TRIGGER IF EXISTS audit_events_append_only_delete",
            "DROP TRIGGER IF EXISTS audit_leaf_hashes_append_only_update",
            "DROP TRIGGER IF EXISTS audit_leaf_hashes_append_only_delete",
            "DROP TRIGGER IF EXISTS log_checkpoints_append_only_update",
            "DROP TRIGGER IF EXISTS log_checkpoints_append_only_delete",
        ],
        lizhi_store::Conn::Postgres(_) => &["SET session_replication_role = replica"],
    };
    for sql in prelude.iter().chain(statements) {
        let sql = sqlx::AssertSqlSafe(sql.to_string());
        on_conn!(&mut c, c => sqlx::raw_sql(sql).execute(&mut **c).await.map(|_| ()).expect("tamper"));
    }
}

/// A log with a case history, fully signed; returns the positions of the case's events.
async fn signed_log(t: &TestApp) -> Vec<u64> {
    case_with_history(t).await;
    lizhi_app::audit_log::checkpoint(&t.app).await.expect("checkpoint");
    let report = audit_verify::verify(&t.app, &Ctx::system("t"), None).await.expect("verify");
    assert!(report.ok() && report.uncovered() == 0, "{:?}", report.findings);
    let mut conn = t.app.db.acquire().await.expect("conn");
    let rows = lizhi_store::audit::leaves(&mut conn.conn(), 0, i64::MAX).await.expect("leaves");
    rows.iter().filter(|e| e.case.is_some()).map(|e| e.seq).collect()
}

async fn findings(t: &TestApp) -> Vec<Finding> {
    let report = audit_verify::verify(&t.app, &Ctx::system("t"), None).await.expect("verify");
    report.findings
}

#[tokio::test]
async fn audit_verify_names_each_kind_of_change_at_its_position() {
    // (what an administrator does, what verify must report first)
    type Statements = Box<dyn Fn(u64, u64) -> Vec<String>>;
    type Expected = Box<dyn Fn(u64) -> Finding>;
    let scenarios: Vec<(&str, Statements, Expected)> = vec![
        (
            "edit",
            Box::new(|k, _| vec![format!("UPDATE audit_events SET action = 'case.forged' WHERE seq = {k}")]),
            Box::new(|k| Finding::Edited { seq: k }),
        ),
        (
            "delete",
            Box::new(|k, _| {
                vec![
                    format!("DELETE FROM audit_openings WHERE seq = {k}"),
                    format!("DELETE FROM audit_events WHERE seq = {k}"),
                ]
            }),
            Box::new(|k| Finding::Missing { seq: k }),
        ),
        (
            "delete and close the gap",
            Box::new(|k, _| {
                vec![
                    format!("DELETE FROM audit_openings WHERE seq = {k}"),
                    format!("DELETE FROM audit_events WHERE seq = {k}"),
                    format!("UPDATE audit_events SET seq = -seq WHERE seq > {k}"),
                    "UPDATE audit_events SET seq = -seq - 1 WHERE seq < 0".into(),
                    "UPDATE log_head SET size = size - 1".into(),
                ]
            }),
            Box::new(|k| Finding::Deleted { seq: k }),
        ),
        (
            "insert in the middle",
            Box::new(|k, _| {
                vec![
                    format!("UPDATE audit_events SET seq = -seq - 1 WHERE seq >= {k}"),
                    "UPDATE audit_events SET seq = -seq WHERE seq < 0".into(),
                    format!(
                        "INSERT INTO audit_events (seq, at, action, entity_type, case_id, case_prev, actor_commit, entity_commit, \
                         before_commit, after_commit, docs, request_id) SELECT {k}, at, 'case.backdated', entity_type, case_id, \
                         case_prev, actor_commit, entity_commit, before_commit, after_commit, docs, 'forged' FROM audit_events WHERE seq = {k} + 1"
                    ),
                    "UPDATE log_head SET size = size + 1".into(),
                ]
            }),
            Box::new(|k| Finding::Inserted { seq: k }),
        ),
        (
            "reorder",
            Box::new(|k, j| {
                vec![
                    format!("UPDATE audit_events SET seq = -1 WHERE seq = {k}"),
                    format!("UPDATE audit_events SET seq = {k} WHERE seq = {j}"),
                    format!("UPDATE audit_events SET seq = {j} WHERE seq = -1"),
                ]
            }),
            Box::new(|k| Finding::Moved { seq: k, signed_at: 0 }),
        ),
        (
            "append past the head",
            Box::new(|_, _| {
                vec![
                    "INSERT INTO audit_events (seq, at, action, entity_type, case_id, case_prev, actor_commit, entity_commit, \
                     before_commit, after_commit, docs, request_id) SELECT seq + 1000, at, action, entity_type, case_id, case_prev, \
                     actor_commit, entity_commit, before_commit, after_commit, docs, request_id FROM audit_events WHERE seq = 0"
                        .into(),
                ]
            }),
            Box::new(|_| Finding::BeyondHead { seq: 0 }),
        ),
    ];
    for (name, statements, expected) in scenarios {
        let t = spawn().await;
        let case_seqs = signed_log(&t).await;
        let (k, j) = (case_seqs[1], case_seqs[case_seqs.len() - 2]);
        let sql = statements(k, j);
        tamper(&t, &sql.iter().map(String::as_str).collect::<Vec<_>>()).await;
        let found = findings(&t).await;
        let first = found.first().unwrap_or_else(|| panic!("{name}: nothing found"));
        match (expected(k), first) {
            (Finding::Moved { seq, .. }, Finding::Moved { seq: at, signed_at }) => {
                assert_eq!((seq, *signed_at), (*at, j), "{name}: {found:?}")
            }
            (Finding::BeyondHead { .. }, Finding::BeyondHead { .. }) => {}
            (want, got) => assert_eq!(&want, got, "{name}: {found:?}"),
        }
    }
}

#[tokio::test]
async fn altered_leaf_hashes_and_checkpoints_and_an_outside_checkpoint_are_caught() {
    let t = spawn().await;
    let case_seqs = signed_log(&t).await;
    let status = lizhi_app::audit_log::status(&t.app, &Ctx::system("t")).await.expect("status");
    let kept_outside = status.note.expect("a checkpoint");
    // Rewriting an event and its stored leaf hash: the signed roots still expose it.
    let k = case_seqs[1];
    tamper(&t, &[&format!("UPDATE audit_events SET action = 'case.forged' WHERE seq = {k}")]).await;
    let mut conn = t.app.db.acquire().await.expect("conn");
    let edited = lizhi_store::audit::leaves(&mut conn.conn(), k as i64, k as i64 + 1).await.expect("leaf").remove(0);
    drop(conn);
    let hash = hex::encode(lizhi_core::merkle::leaf_hash(&edited.to_bytes()));
    let literal = if t.url.starts_with("postgres") { format!("'\\x{hash}'::bytea") } else { format!("X'{hash}'") };
    tamper(&t, &[&format!("UPDATE audit_leaf_hashes SET hash = {literal} WHERE seq = {k}")]).await;
    let found = findings(&t).await;
    assert!(found.iter().any(|f| matches!(f, Finding::LeafHashes { .. })), "{found:?}");
    assert!(
        found.iter().any(|f| matches!(f, Finding::Mismatch { from, size } if *from <= k && k < *size)),
        "{found:?}"
    );
    // A checkpoint note rewritten in the database no longer opens with the log's key.
    tamper(&t, &["UPDATE log_checkpoints SET note = replace(note, '\n\n', '\nextra\n\n')"]).await;
    let found = findings(&t).await;
    assert!(found.iter().any(|f| matches!(f, Finding::Checkpoint { .. })), "{found:?}");
    // Removing the newest events together with their checkpoints is caught by a checkpoint kept outside.
    let t = spawn().await;
    signed_log(&t).await;
    let outside = lizhi_app::audit_log::status(&t.app, &Ctx::system("t")).await.expect("status").note.expect("note");
    let size: i64 = outside.lines().nth(1).expect("size").parse().expect("n");
    tamper(
        &t,
        &[
            &format!("DELETE FROM audit_openings WHERE seq >= {}", size - 2),
            &format!("DELETE FROM audit_events WHERE seq >= {}", size - 2),
            &format!("DELETE FROM audit_leaf_hashes WHERE seq >= {}", size - 2),
            &format!("DELETE FROM log_checkpoints WHERE tree_size >= {}", size - 2),
            &format!("UPDATE log_head SET size = {}", size - 2),
        ],
    )
    .await;
    let inside = audit_verify::verify(&t.app, &Ctx::system("t"), None).await.expect("verify");
    assert!(inside.ok(), "from the inside the shorter log looks whole: {:?}", inside.findings);
    let report = audit_verify::verify(&t.app, &Ctx::system("t"), Some(&outside)).await.expect("verify");
    assert!(report.findings.iter().any(|f| matches!(f, Finding::External { .. })), "{:?}", report.findings);
    assert!(!kept_outside.is_empty());
}

#[tokio::test]
async fn a_purge_forgets_personal_values_but_the_log_and_new_bundles_still_verify() {
    let t = spawn().await;
    let id = case_with_history(&t).await;
    let hr = t.token("hr").await;
    let (_, case) = t.call(&hr, Method::GET, &format!("/api/v1/cases/{id}"), None).await;
    let no = case["employee_no"].as_str().expect("employee").to_owned();
    let purged = lizhi_app::audit_log::purge(&t.app, &Ctx::system("t"), "case", &id.to_string()).await.expect("purge");
    assert!(purged >= 6, "{purged}");
    let report = audit_verify::verify(&t.app, &Ctx::system("t"), None).await.expect("verify");
    assert!(report.ok(), "{:?}", report.findings);
    let auditor = Ctx::user(auth::principal_named(&t.app, "auditor").await.expect("auditor"), "t".into());
    let bundle = evidence::export_case(&t.app, &auditor, id).await.expect("bundle");
    let files = read_zip(&bundle.bytes).expect("files");
    assert!(!files.keys().any(|p| p.starts_with("openings/")), "no openings after the purge");
    assert!(verify_zip(&bundle.bytes, None).expect("readable").passed());
    // The person's own bundle: their cases and the events about them.
    let person = evidence::export_employee(&t.app, &auditor, &no).await.expect("bundle");
    assert!(person.events >= bundle.events);
    assert!(verify_zip(&person.bytes, None).expect("readable").passed());
    // Only administrators purge.
    let hr_ctx = Ctx::user(auth::principal_named(&t.app, "hr").await.expect("hr"), "t".into());
    assert!(lizhi_app::audit_log::purge(&t.app, &hr_ctx, "case", "1").await.is_err());
}

#[tokio::test]
async fn a_lost_instance_secret_stops_signing_until_the_old_key_is_abandoned() {
    let t = spawn().await;
    case_with_history(&t).await;
    lizhi_app::audit_log::checkpoint(&t.app).await.expect("signed with the first secret");
    let restarted = App { secret: lizhi_app::secrets::SecretKey::ephemeral(), ..t.app.clone() };
    let ctx = Ctx::system("t");
    lizhi_app::audit_log::purge(&restarted, &ctx, "employee", "nobody").await.expect("the log still grows");
    let refused = lizhi_app::audit_log::checkpoint(&restarted).await.expect_err("cannot sign");
    assert_eq!(refused.code(), "log_key_unavailable");
    let refused = lizhi_app::audit_log::rotate_key(&restarted, &ctx, lizhi_app::audit_log::Rotation::Handover).await;
    assert_eq!(refused.expect_err("no handover without the old key").code(), "log_key_unavailable");
    lizhi_app::audit_log::rotate_key(&restarted, &ctx, lizhi_app::audit_log::Rotation::Abandon).await.expect("abandon");
    let report = audit_verify::verify(&restarted, &ctx, None).await.expect("verify");
    assert!(report.ok() && report.uncovered() == 0 && report.keys.len() == 2, "{report:?}");
}

#[tokio::test]
async fn the_scheduler_signs_at_least_every_interval_while_the_log_grows() {
    let at = chrono::DateTime::parse_from_rfc3339("2026-03-06T10:00:00+08:00").expect("instant").to_utc();
    let clock = std::sync::Arc::new(lizhi_app::FixedClock::new(at));
    let t = spawn_app_with(Some(clock.clone())).await;
    let every = chrono::Duration::minutes(10);
    let first = lizhi_app::audit_log::checkpoint_if_due(&t.app, every).await.expect("due").expect("signed");
    assert!(lizhi_app::audit_log::checkpoint_if_due(&t.app, every).await.expect("due").is_none(), "nothing new");
    // A sign-in grows the log; it is signed once the interval has passed, not before.
    t.session("hr").await;
    clock.advance(chrono::Duration::minutes(9));
    assert!(lizhi_app::audit_log::checkpoint_if_due(&t.app, every).await.expect("due").is_none(), "too early");
    clock.advance(chrono::Duration::minutes(2));
    let next = lizhi_app::audit_log::checkpoint_if_due(&t.app, every).await.expect("due").expect("signed");
    assert!(next.tree_size > first.tree_size);
    // A case's state change is signed at once, whatever the interval.
    let id = case_with_history(&t).await;
    let status = lizhi_app::audit_log::status(&t.app, &Ctx::system("t")).await.expect("status");
    let mut conn = t.app.db.acquire().await.expect("conn");
    let events = lizhi_store::audit::events_for(&mut conn.conn(), &[id], None).await.expect("events");
    let last_state_change = events.iter().rev().find(|e| e.action == "case.dispatch_notice").expect("dispatch").seq;
    assert!(
        status.signed as u64 > last_state_change,
        "signed through the dispatch: {} vs {last_state_change}",
        status.signed
    );
}
