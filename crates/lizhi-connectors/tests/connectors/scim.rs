//! SCIM 2.0 against a real server: PyPI `scim2-server`, started by the test on a free loopback port with two
//! tenants standing for two SaaS apps (`/crm/v2` and `/wiki/v2`, each with its own users). Transport failures
//! and the HTTP statuses the server cannot be made to send are tested against sockets the test controls.

use lizhi_connectors::access::{AccessState, CallError, Intent, Verdict, VerifyMode};
use lizhi_connectors::scim::{RevokeBy, ScimClient, ScimTarget};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub(crate) const TOKEN: &str = "lizhi-scim-test-token-7f3a";
const TENANTS: [&str; 2] = ["crm", "wiki"];
/// What the `scim2-server` console script runs, for an interpreter whose scripts live elsewhere.
const LAUNCH: &str =
    "import sys\nfrom scim2_server.testserver.cli import main\nsys.argv[0] = 'scim2-server'\nsys.exit(main())";

fn python() -> String {
    std::env::var("LIZHI_TEST_PYTHON").unwrap_or_else(|_| "/var/tmp/lizhi-venv/bin/python".into())
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("port")
}

/// A running scim2-server; killed on drop. Its request log (stderr) shows what the client really sent.
pub(crate) struct ScimServer {
    child: Child,
    port: u16,
    log: tempfile::NamedTempFile,
}

impl Drop for ScimServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl ScimServer {
    pub(crate) fn base(&self, tenant: &str) -> String {
        format!("http://127.0.0.1:{}/{tenant}/v2", self.port)
    }

    /// The statuses the server logged for PATCHes of one user, once it has logged `count` of them (it logs
    /// after answering, so the last line may lag a little).
    pub(crate) fn patch_statuses(&self, tenant: &str, id: &str, count: usize) -> Vec<String> {
        let request = format!("\"PATCH /{tenant}/v2/Users/{id} ");
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let log = std::fs::read_to_string(self.log.path()).expect("server log");
            let statuses: Vec<String> = log
                .lines()
                .filter(|line| line.contains(&request))
                .filter_map(|line| line.rsplit('"').next()?.split_whitespace().next().map(str::to_owned))
                .collect();
            if statuses.len() >= count || Instant::now() > deadline {
                return statuses;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Starts scim2-server with two tenants, or `None` (with a message) when it is not installed; CI has it.
pub(crate) fn start() -> Option<ScimServer> {
    let python = python();
    let installed = Command::new(&python)
        .args(["-c", "import scim2_server.testserver.cli"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !installed {
        assert!(std::env::var_os("CI").is_none(), "scim2-server is missing on CI (LIZHI_TEST_PYTHON={python})");
        eprintln!("skipping: scim2-server not installed for {python} (pip install scim2-server)");
        return None;
    }
    let script = Path::new(&python).with_file_name("scim2-server");
    for attempt in 1..=5 {
        let port = free_port();
        let log = tempfile::NamedTempFile::new().expect("log file");
        let mut command = if script.is_file() {
            Command::new(&script)
        } else {
            let mut c = Command::new(&python);
            c.args(["-c", LAUNCH]);
            c
        };
        command.args(["--hostname", "127.0.0.1", "--port", &port.to_string(), "--bearer-token", TOKEN]);
        for tenant in TENANTS {
            command.args(["--tenant", tenant]);
        }
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(log.reopen().expect("log handle"))
            .spawn()
            .expect("start scim2-server");
        let stdout = child.stdout.take().expect("stdout");
        let (lines, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if lines.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(20);
        while let Ok(line) = rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            if line.contains("Serving SCIM on") {
                return Some(ScimServer { child, port, log });
            }
        }
        // Exited (the port was taken meanwhile) or hung: try another port.
        let _ = child.kill();
        let _ = child.wait();
        let stderr = std::fs::read_to_string(log.path()).unwrap_or_default();
        eprintln!("scim2-server attempt {attempt} on port {port} failed: {}", stderr.trim());
    }
    panic!("scim2-server did not start");
}

fn http() -> reqwest::Client {
    lizhi_app::install_tls_provider();
    reqwest::Client::new()
}

/// Creates a user the way the app's own admin would (plain HTTP, not through the connector).
pub(crate) async fn create_user(base: &str, user_name: &str) -> String {
    let body = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": user_name,
        "displayName": "王喆", "active": true});
    let answer = http()
        .post(format!("{base}/Users"))
        .bearer_auth(TOKEN)
        .header("content-type", "application/scim+json")
        .body(body.to_string())
        .send()
        .await
        .expect("create");
    assert_eq!(answer.status(), 201, "create {user_name}");
    let created: Value = serde_json::from_slice(&answer.bytes().await.expect("body")).expect("json");
    created["id"].as_str().expect("id").to_owned()
}

pub(crate) async fn get_user(base: &str, id: &str) -> (u16, Value) {
    let answer = http().get(format!("{base}/Users/{id}")).bearer_auth(TOKEN).send().await.expect("get");
    let status = answer.status().as_u16();
    (status, serde_json::from_slice(&answer.bytes().await.expect("body")).unwrap_or(Value::Null))
}

pub(crate) async fn raw_patch(base: &str, id: &str, operation: Value, if_match: &str) -> u16 {
    let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [operation]});
    http()
        .patch(format!("{base}/Users/{id}"))
        .bearer_auth(TOKEN)
        .header("content-type", "application/scim+json")
        .header("if-match", if_match)
        .body(body.to_string())
        .send()
        .await
        .expect("patch")
        .status()
        .as_u16()
}

fn client(base: &str, verify: VerifyMode, revoke_by: RevokeBy) -> ScimClient {
    ScimClient::new(ScimTarget { verify, revoke_by, ..ScimTarget::new(base, TOKEN) }).expect("client")
}

fn refused(err: &CallError) -> (&str, bool) {
    match err {
        CallError::Refused { code, retryable, .. } => (code.as_str(), *retryable),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

fn assert_no_token(err: &CallError, token: &str) {
    assert!(!err.to_string().contains(token), "{err}");
    assert!(!format!("{err:?}").contains(token), "{err:?}");
}

#[tokio::test]
async fn scim_freeze_unfreeze_and_revoke_in_two_apps() {
    let Some(server) = start() else { return };
    let (crm_base, wiki_base) = (server.base("crm"), server.base("wiki"));
    // The CRM deletes on revocation and proves it by "not found"; the wiki deactivates and proves it by
    // reading `active: false`.
    let crm = client(&crm_base, VerifyMode::ReadAbsent, RevokeBy::Delete);
    let wiki = client(&wiki_base, VerifyMode::ReadDisabled, RevokeBy::Deactivate);
    crm.test_connection().await.expect("crm connection");
    wiki.test_connection().await.expect("wiki connection");
    let crm_id = create_user(&crm_base, "wang.zhe").await;
    let wiki_id = create_user(&wiki_base, "wang.zhe").await;

    let read = crm.read_state(&crm_id).await.expect("read");
    assert_eq!(read.state, AccessState::Active);
    assert_eq!(read.evidence["http_status"], 200);
    assert_eq!(read.evidence["answer"]["userName"], "wang.zhe");
    assert_eq!(read.evidence["etag"], read.evidence["answer"]["meta"]["version"], "{}", read.evidence);
    assert_eq!(crm.verdict(&read), Verdict::NotRevoked);

    // Freeze on suspicion, then unfreeze: the account is kept.
    let frozen = crm.apply(Intent::Freeze, &crm_id).await.expect("freeze");
    assert_eq!(frozen.state, AccessState::Disabled);
    assert_eq!(get_user(&crm_base, &crm_id).await.1["active"], false, "the app itself shows active:false");
    assert_eq!(crm.verdict(&frozen), Verdict::NotRevoked, "a frozen account still exists in a ReadAbsent app");
    assert_eq!(wiki.read_state(&wiki_id).await.expect("wiki").state, AccessState::Active, "the other app untouched");
    assert_eq!(crm.apply(Intent::Freeze, &crm_id).await.expect("freeze again").state, AccessState::Disabled);
    let thawed = crm.apply(Intent::Unfreeze, &crm_id).await.expect("unfreeze");
    assert_eq!(thawed.state, AccessState::Active);
    assert_eq!(get_user(&crm_base, &crm_id).await.1["active"], true);

    // Revoke by DELETE: read gives 404, verified by "not found"; doing it again is a success.
    let gone = crm.apply(Intent::Revoke, &crm_id).await.expect("revoke");
    assert_eq!(gone.state, AccessState::Absent);
    assert_eq!(gone.evidence["http_status"], 404);
    assert_eq!(get_user(&crm_base, &crm_id).await.0, 404);
    assert_eq!(crm.read_state(&crm_id).await.expect("read").state, AccessState::Absent);
    assert_eq!(crm.verify(&crm_id, "wang.zhe").await.expect("verify"), Verdict::Verified);
    assert_eq!(crm.apply(Intent::Revoke, &crm_id).await.expect("revoke twice").state, AccessState::Absent);
    assert_eq!(crm.apply(Intent::Freeze, &crm_id).await.expect("freeze a gone account").state, AccessState::Absent);
    let err = crm.apply(Intent::Unfreeze, &crm_id).await.expect_err("a deleted account cannot come back");
    assert_eq!(refused(&err), ("404", false));

    // Revoke by PATCH active=false: verified by reading it disabled; twice changes nothing.
    let revoked = wiki.apply(Intent::Revoke, &wiki_id).await.expect("revoke");
    assert_eq!(revoked.state, AccessState::Disabled);
    assert_eq!(wiki.verdict(&revoked), Verdict::Verified);
    assert_eq!(wiki.verify(&wiki_id, "wang.zhe").await.expect("verify"), Verdict::Verified);
    let (_, before) = get_user(&wiki_base, &wiki_id).await;
    assert_eq!(before["active"], false);
    let again = wiki.apply(Intent::Revoke, &wiki_id).await.expect("revoke twice");
    assert_eq!(again.state, AccessState::Disabled);
    let (_, after) = get_user(&wiki_base, &wiki_id).await;
    assert_eq!(before["meta"]["version"], after["meta"]["version"], "the second revoke wrote nothing");
    assert_eq!(before["meta"]["lastModified"], after["meta"]["lastModified"]);
    assert_eq!(again.evidence["etag"], before["meta"]["version"]);

    // Drift: someone re-enables the account in the app; verification notices.
    let version = after["meta"]["version"].as_str().expect("version");
    assert_eq!(
        raw_patch(&wiki_base, &wiki_id, json!({"op": "replace", "path": "active", "value": true}), version).await,
        204
    );
    assert_eq!(wiki.verify(&wiki_id, "wang.zhe").await.expect("verify"), Verdict::NotRevoked);
}

#[tokio::test]
async fn scim_no_active_match_searches_by_an_escaped_user_name() {
    let Some(server) = start() else { return };
    let base = server.base("crm");
    let app = client(&base, VerifyMode::NoActiveMatch, RevokeBy::Deactivate);
    let tricky = r#"o"brien\ops 王喆"#;
    let id = create_user(&base, tricky).await;
    let decoy = create_user(&base, r#"o"brien"#).await;

    assert_eq!(app.find_active(tricky).await.expect("search"), vec![id.clone()]);
    assert_eq!(app.find_active(&tricky.to_uppercase()).await.expect("search"), vec![id.clone()], "case-insensitive");
    assert_eq!(app.verify(&id, tricky).await.expect("verify"), Verdict::NotRevoked);
    // A name built to widen the filter matches nobody, rather than everyone.
    let injection = r#"x" or userName pr or userName eq "y"#;
    assert_eq!(app.find_active(injection).await.expect("search"), Vec::<String>::new());
    assert_eq!(app.find_active("nobody").await.expect("search"), Vec::<String>::new());
    let err = app.find_active(" ").await.expect_err("an empty name proves nothing");
    assert!(!refused(&err).1);

    assert_eq!(app.apply(Intent::Revoke, &id).await.expect("revoke").state, AccessState::Disabled);
    assert_eq!(app.find_active(tricky).await.expect("search"), Vec::<String>::new());
    assert_eq!(app.verify(&id, tricky).await.expect("verify"), Verdict::Verified);
    assert_eq!(app.find_active(r#"o"brien"#).await.expect("search"), vec![decoy], "the namesake keeps access");
}

#[tokio::test]
async fn scim_a_stale_etag_gives_412_and_the_client_reads_again() {
    let Some(server) = start() else { return };
    let base = server.base("wiki");
    let app = client(&base, VerifyMode::ReadDisabled, RevokeBy::Deactivate);
    let id = create_user(&base, "li.lei").await;
    let stale = app.read_state(&id).await.expect("read").evidence["etag"].as_str().expect("etag").to_owned();

    // Between the connector's read and its write, the app's admin edits the account.
    let edit = json!({"op": "replace", "path": "displayName", "value": "李雷"});
    assert_eq!(raw_patch(&base, &id, edit, &stale).await, 204);
    let disable = json!({"op": "replace", "path": "active", "value": false});
    assert_eq!(raw_patch(&base, &id, disable, &stale).await, 412, "the server refuses a stale If-Match");

    let obs = app.patch_active_with_etag(&id, false, &stale).await.expect("recovered");
    assert_eq!(obs.state, AccessState::Disabled);
    assert_ne!(obs.evidence["etag"].as_str(), Some(stale.as_str()));
    let (_, user) = get_user(&base, &id).await;
    assert_eq!((user["active"].clone(), user["displayName"].clone()), (json!(false), json!("李雷")), "no edit lost");
    // The server's own request log: after the two raw PATCHes, the client's stale one got 412 and the
    // one with the re-read version went through.
    assert_eq!(server.patch_statuses("wiki", &id, 4), ["204", "412", "412", "204"]);
}

#[tokio::test]
async fn scim_wrong_token_and_wrong_url_are_refused_and_the_token_never_shows() {
    let Some(server) = start() else { return };
    let base = server.base("crm");
    let id = create_user(&base, "han.meimei").await;
    let wrong = "wrong-token-31415926";
    let bad = ScimClient::new(ScimTarget::new(&base, wrong)).expect("client");
    let err = bad.read_state(&id).await.expect_err("wrong token");
    assert_eq!(refused(&err), ("401", false), "{err}");
    assert_no_token(&err, wrong);
    assert_no_token(&err, TOKEN);
    let err = bad.apply(Intent::Revoke, &id).await.expect_err("wrong token");
    assert_eq!(refused(&err), ("401", false));
    let err = bad.test_connection().await.expect_err("the discovery endpoint is open, the user list is not");
    assert_eq!(refused(&err), ("401", false));
    assert_eq!(get_user(&base, &id).await.1["active"], true, "nothing changed");

    // A typo in the base URL answers 404 for every user: that must never read as "account gone".
    for revoke_by in [RevokeBy::Delete, RevokeBy::Deactivate] {
        let typo = client(&server.base("crn"), VerifyMode::ReadDisabled, revoke_by);
        let err = typo.read_state(&id).await.expect_err("not a SCIM endpoint");
        assert_eq!(refused(&err), ("404", false), "{err}");
        let err = typo.apply(Intent::Revoke, &id).await.expect_err("not a SCIM endpoint");
        assert_eq!(refused(&err), ("404", false), "{err}");
        assert!(typo.verify(&id, "han.meimei").await.is_err());
        assert!(typo.test_connection().await.is_err());
    }
}

#[tokio::test]
async fn scim_transport_failures_are_refused_before_sending_and_ambiguous_after() {
    // Nothing listens: the request never left, so trying again later is safe.
    let closed = ScimTarget {
        timeout: Duration::from_secs(2),
        ..ScimTarget::new(format!("http://127.0.0.1:{}/v2", free_port()), TOKEN)
    };
    let closed = ScimClient::new(closed).expect("client");
    for err in [
        closed.apply(Intent::Revoke, "u1").await.expect_err("closed"),
        closed.test_connection().await.expect_err("closed"),
    ] {
        assert_eq!(refused(&err), ("connect", true), "{err}");
        assert_no_token(&err, TOKEN);
    }

    // Connected and sent, but no answer: the outcome is unknown.
    let silent = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = silent.local_addr().expect("addr").port();
    let target = ScimTarget {
        timeout: Duration::from_millis(300),
        ..ScimTarget::new(format!("http://127.0.0.1:{port}/v2"), TOKEN)
    };
    let slow = ScimClient::new(target).expect("client");
    let started = Instant::now();
    for err in [
        slow.read_state("u1").await.expect_err("timeout"),
        slow.apply(Intent::Revoke, "u1").await.expect_err("timeout"),
    ] {
        assert!(matches!(err, CallError::Ambiguous { .. }), "{err:?}");
        assert_no_token(&err, TOKEN);
    }
    assert!(started.elapsed() < Duration::from_secs(5), "the client timeout applies");
    drop(silent);
}

/// A socket answering every request with one fixed HTTP response.
fn canned(response: String) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().map_while(Result::ok) {
            let mut request = Vec::new();
            let mut buf = [0u8; 4096];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&buf[..n]),
                }
            }
            let _ = stream.write_all(response.as_bytes());
        }
    });
    format!("http://127.0.0.1:{port}/v2")
}

fn response(status: &str, headers: &[&str], body: &str) -> String {
    let mut out = format!("HTTP/1.1 {status}\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    for header in headers {
        out.push_str(header);
        out.push_str("\r\n");
    }
    out.push_str("\r\n");
    out.push_str(body);
    out
}

fn scim_error(status: u16, scim_type: Option<&str>, detail: &str) -> String {
    let mut error = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": status.to_string(),
        "detail": detail});
    if let Some(kind) = scim_type {
        error["scimType"] = json!(kind);
    }
    error.to_string()
}

/// The refusal (code, retryable) a case expects, or `None` for an ambiguous outcome.
type Expected = Option<(&'static str, bool)>;

#[tokio::test]
async fn scim_http_errors_map_to_the_retry_policy() {
    let json = "Content-Type: application/scim+json";
    let cases: Vec<(String, Expected, &str)> = vec![
        (
            response("429 Too Many Requests", &[json, "Retry-After: 7"], &scim_error(429, None, "slow down")),
            Some(("429", true)),
            "Retry-After: 7",
        ),
        (response("503 Service Unavailable", &["Retry-After: 30"], ""), Some(("503", true)), "Service Unavailable"),
        (response("503 Service Unavailable", &[], ""), None, "HTTP 503"),
        (response("500 Internal Server Error", &[json], &scim_error(500, None, "boom")), None, "boom"),
        (
            response("400 Bad Request", &[json], &scim_error(400, Some("invalidValue"), "no")),
            Some(("400:invalidValue", false)),
            "no",
        ),
        (
            response("403 Forbidden", &[json], &scim_error(403, None, "read only app")),
            Some(("403", false)),
            "read only",
        ),
        (
            response("409 Conflict", &[json], &scim_error(409, Some("uniqueness"), "taken")),
            Some(("409:uniqueness", false)),
            "taken",
        ),
        (
            response("302 Found", &["Location: https://login.example.com/"], ""),
            Some(("302", false)),
            "login.example.com",
        ),
        (
            response("200 OK", &["Content-Type: text/html"], "<html>Sign in</html>"),
            Some(("invalid_response", false)),
            "not a SCIM",
        ),
        // A gateway echoing the request headers back must not put the token into the outbox row.
        (
            response("400 Bad Request", &[json], &scim_error(400, None, &format!("bad Authorization: Bearer {TOKEN}"))),
            Some(("400", false)),
            "Bearer ***",
        ),
    ];
    for (answer, expected, text) in cases {
        let app = ScimClient::new(ScimTarget::new(canned(answer.clone()), TOKEN)).expect("client");
        let err = app.read_state("u1").await.expect_err("an error status");
        match expected {
            Some(kind) => assert_eq!(refused(&err), kind, "{answer}"),
            None => assert!(matches!(err, CallError::Ambiguous { .. }), "{answer}: {err:?}"),
        }
        assert!(err.to_string().contains(text), "{err}");
        assert_no_token(&err, TOKEN);
    }
}

#[tokio::test]
async fn scim_a_registered_connector_tests_its_connection_from_settings() {
    let Some(server) = start() else { return };
    let settings = json!({"base_url": server.base("crm"), "verify": "no_active_match", "timeout_secs": 5});
    let configured = lizhi_connectors::configured::Configured::new("scim", &settings, Some(TOKEN)).expect("configured");
    configured.test_connection().await.expect("the service answers with the token");
    let wrong =
        lizhi_connectors::configured::Configured::new("scim", &settings, Some("not-the-token")).expect("configured");
    let err = wrong.test_connection().await.expect_err("a wrong token is refused");
    assert_eq!(refused(&err), ("401", false), "{err}");
}
