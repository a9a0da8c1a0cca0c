//! LDAP against a real OpenLDAP: Debian's `slapd` (packages `slapd` and `ldap-utils`), started by each test
//! from a private cn=config in a temporary directory, in the foreground, on a free loopback port, with the
//! `ppolicy` overlay and a default policy that has `pwdLockout: TRUE`. Active Directory and 389-DS cannot
//! run here: their lock arithmetic is covered by unit tests of the pure functions.

use ldap3::{LdapConnAsync, Mod, Scope, SearchEntry};
use lizhi_connectors::access::{AccessState, CallError, Intent, Verdict, VerifyMode};
use lizhi_connectors::ldap::{
    Flavor, GroupScope, LdapClient, LdapTarget, LockReading, OPENLDAP_PERMANENT_LOCK, account_control,
};
use std::collections::HashSet;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const SLAPD: &str = "/usr/sbin/slapd";
const SLAPADD: &str = "/usr/sbin/slapadd";
const MODULES: &str = "/usr/lib/ldap";
const SCHEMA: &str = "/etc/ldap/schema";

pub(crate) const SUFFIX: &str = "dc=lizhi,dc=test";
pub(crate) const ADMIN_DN: &str = "cn=admin,dc=lizhi,dc=test";
pub(crate) const ADMIN_PW: &str = "admin-Secret-4711";
pub(crate) const POLICY: &str = "cn=default,ou=policies,dc=lizhi,dc=test";
pub(crate) const ZHANG: &str = "uid=zhangsan,ou=people,dc=lizhi,dc=test";
pub(crate) const ZHANG_PW: &str = "zhang-Pass-0001";
const LI: &str = "uid=lisi,ou=people,dc=lizhi,dc=test";
const LI_PW: &str = "li-Pass-0002";
/// `groupOfNames` (`member`) with both users.
const STAFF: &str = "cn=staff,ou=groups,dc=lizhi,dc=test";
/// `groupOfUniqueNames` (`uniqueMember`) with both users.
const ENGINEERING: &str = "cn=engineering,ou=groups,dc=lizhi,dc=test";

/// A running slapd with its directory; killed on drop.
pub(crate) struct Slapd {
    child: Child,
    pub(crate) port: u16,
    dir: tempfile::TempDir,
}

impl Drop for Slapd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Slapd {
    /// The CA that signed the certificate slapd presents when started with [`start_tls`].
    pub(crate) fn ca(&self) -> std::path::PathBuf {
        self.dir.path().join("ca.pem")
    }

    pub(crate) fn url(&self) -> String {
        format!("ldap://127.0.0.1:{}/", self.port)
    }

    fn target(&self) -> LdapTarget {
        let mut target = LdapTarget::new(&self.url(), ADMIN_DN, ADMIN_PW, SUFFIX, Flavor::OpenLdap);
        target.ppolicy_dn = Some(POLICY.into());
        target.connect_timeout_ms = 2_000;
        target.op_timeout_ms = 2_000;
        target
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("slapd.log")).unwrap_or_default()
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("port")
}

/// The cn=config for one test: modules from Debian's path, the stock schemas, an mdb database in `dir`
/// with a root DN, and the ppolicy overlay (its schema is built into the module since OpenLDAP 2.5).
fn config_ldif(dir: &Path, tls: bool) -> String {
    let d = dir.display();
    let tls = if tls {
        format!("olcTLSCertificateFile: {d}/cert.pem\nolcTLSCertificateKeyFile: {d}/key.pem\n")
    } else {
        String::new()
    };
    format!(
        "dn: cn=config\nobjectClass: olcGlobal\ncn: config\nolcPidFile: {d}/slapd.pid\n{tls}\n\
         dn: cn=module{{0}},cn=config\nobjectClass: olcModuleList\ncn: module{{0}}\nolcModulePath: {MODULES}\n\
         olcModuleLoad: back_mdb\nolcModuleLoad: ppolicy\n\n\
         dn: cn=schema,cn=config\nobjectClass: olcSchemaConfig\ncn: schema\n\n\
         include: file://{SCHEMA}/core.ldif\n\ninclude: file://{SCHEMA}/cosine.ldif\n\n\
         include: file://{SCHEMA}/inetorgperson.ldif\n\n\
         dn: olcDatabase={{-1}}frontend,cn=config\nobjectClass: olcDatabaseConfig\nobjectClass: olcFrontendConfig\n\
         olcDatabase: {{-1}}frontend\n\n\
         dn: olcDatabase={{0}}config,cn=config\nobjectClass: olcDatabaseConfig\nolcDatabase: {{0}}config\n\n\
         dn: olcDatabase={{1}}mdb,cn=config\nobjectClass: olcDatabaseConfig\nobjectClass: olcMdbConfig\n\
         olcDatabase: {{1}}mdb\nolcSuffix: {SUFFIX}\nolcRootDN: {ADMIN_DN}\nolcRootPW: {ADMIN_PW}\n\
         olcDbDirectory: {d}/db\nolcDbMaxSize: 16777216\n\n\
         dn: olcOverlay={{0}}ppolicy,olcDatabase={{1}}mdb,cn=config\nobjectClass: olcOverlayConfig\n\
         objectClass: olcPPolicyConfig\nolcOverlay: {{0}}ppolicy\nolcPPolicyDefault: {POLICY}\n"
    )
}

/// Starts slapd and seeds it, or `None` (with a message) when slapd is not installed here; CI has it.
pub(crate) async fn start() -> Option<Slapd> {
    start_with(false).await
}

/// [`start`], with StartTLS offered under a certificate for 127.0.0.1 signed by a test CA
/// ([`Slapd::ca`]), made with Debian's `openssl`.
pub(crate) async fn start_tls() -> Option<Slapd> {
    start_with(true).await
}

/// A test CA (`ca.pem`) and a server certificate for 127.0.0.1 it signed (`cert.pem`, `key.pem`).
fn make_certificates(dir: &Path) {
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    std::fs::write(dir.join("server.ext"), "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n").expect("ext");
    let steps: [Vec<&str>; 3] = [
        [
            &["req", "-x509"][..],
            &ec,
            &["-days", "1", "-subj", "/CN=Lizhi Test CA", "-keyout", "ca.key", "-out", "ca.pem"],
        ]
        .concat(),
        [&["req"][..], &ec, &["-subj", "/CN=127.0.0.1", "-keyout", "key.pem", "-out", "server.csr"]].concat(),
        vec![
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "1",
            "-extfile",
            "server.ext",
            "-out",
            "cert.pem",
        ],
    ];
    for args in steps {
        let made = Command::new("openssl").args(&args).current_dir(dir).output().expect("openssl");
        assert!(made.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&made.stderr));
    }
}

async fn start_with(tls: bool) -> Option<Slapd> {
    let ppolicy = Path::new(MODULES).join("ppolicy.la");
    let missing: Vec<&str> = [SLAPD, SLAPADD, SCHEMA, ppolicy.to_str().unwrap_or_default()]
        .into_iter()
        .filter(|p| !Path::new(p).exists())
        .collect();
    if !missing.is_empty() {
        assert!(std::env::var_os("CI").is_none(), "slapd is missing on CI: {missing:?}");
        eprintln!("skipping: {missing:?} not installed (apt-get install slapd ldap-utils)");
        return None;
    }
    let begun = Instant::now();
    let mut dir = tempfile::tempdir().expect("tempdir");
    let conf = dir.path().join("slapd.d");
    std::fs::create_dir(&conf).expect("slapd.d");
    std::fs::create_dir(dir.path().join("db")).expect("db");
    if tls {
        make_certificates(dir.path());
    }
    let ldif = dir.path().join("config.ldif");
    std::fs::write(&ldif, config_ldif(dir.path(), tls)).expect("config.ldif");
    let out = Command::new(SLAPADD).arg("-n0").arg("-F").arg(&conf).arg("-l").arg(&ldif).output().expect("slapadd");
    assert!(out.status.success(), "slapadd: {}", String::from_utf8_lossy(&out.stderr));
    // A port picked free may be taken before slapd binds it: try a few.
    for _ in 0..3 {
        let port = free_port();
        let log = std::fs::File::create(dir.path().join("slapd.log")).expect("log");
        let child = Command::new(SLAPD)
            .args(["-d", "0", "-h", &format!("ldap://127.0.0.1:{port}/"), "-F"])
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start slapd");
        let mut slapd = Slapd { child, port, dir };
        if wait_ready(&mut slapd).await {
            let ready = begun.elapsed();
            seed(slapd.port).await;
            eprintln!("slapd on port {port}: ready in {ready:?}, seeded in {:?}", begun.elapsed());
            return Some(slapd);
        }
        eprintln!("slapd did not come up on port {port}: {}", slapd.log());
        let _ = slapd.child.kill();
        let _ = slapd.child.wait();
        dir = std::mem::replace(&mut slapd.dir, tempfile::tempdir().expect("tempdir"));
    }
    panic!("slapd did not start");
}

/// Polls until the admin can bind; `false` when slapd exited (port taken) or 10 s passed.
async fn wait_ready(slapd: &mut Slapd) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if slapd.child.try_wait().ok().flatten().is_some() {
            return false;
        }
        if bind_rc(slapd.port, ADMIN_DN, ADMIN_PW).await == Some(0) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    false
}

/// A simple bind on a fresh connection: the result code, or `None` when nothing answered.
pub(crate) async fn bind_rc(port: u16, dn: &str, password: &str) -> Option<u32> {
    let (conn, mut ldap) = LdapConnAsync::new(&format!("ldap://127.0.0.1:{port}/")).await.ok()?;
    tokio::spawn(conn.drive());
    let rc = ldap.simple_bind(dn, password).await.ok()?.rc;
    let _ = ldap.unbind().await;
    Some(rc)
}

pub(crate) async fn admin(port: u16) -> ldap3::Ldap {
    let (conn, mut ldap) = LdapConnAsync::new(&format!("ldap://127.0.0.1:{port}/")).await.expect("connect");
    tokio::spawn(conn.drive());
    ldap.simple_bind(ADMIN_DN, ADMIN_PW).await.expect("bind").success().expect("admin bind");
    ldap
}

/// An entry's attributes for seeding.
type Attributes = Vec<(&'static str, Vec<&'static str>)>;

/// The tree: the suffix, the policy, two people with clear-text passwords, and two groups (one of each
/// kind) listing both.
async fn seed(port: u16) {
    let mut ldap = admin(port).await;
    let entries: Vec<(&str, Attributes)> = vec![
        (SUFFIX, vec![("objectClass", vec!["dcObject", "organization"]), ("dc", vec!["lizhi"]), ("o", vec!["Lizhi"])]),
        ("ou=policies,dc=lizhi,dc=test", vec![("objectClass", vec!["organizationalUnit"]), ("ou", vec!["policies"])]),
        (
            POLICY,
            vec![
                ("objectClass", vec!["organizationalRole", "pwdPolicy"]),
                ("cn", vec!["default"]),
                ("pwdAttribute", vec!["userPassword"]),
                ("pwdLockout", vec!["TRUE"]),
            ],
        ),
        ("ou=people,dc=lizhi,dc=test", vec![("objectClass", vec!["organizationalUnit"]), ("ou", vec!["people"])]),
        ("ou=groups,dc=lizhi,dc=test", vec![("objectClass", vec!["organizationalUnit"]), ("ou", vec!["groups"])]),
        (
            ZHANG,
            vec![
                ("objectClass", vec!["inetOrgPerson"]),
                ("uid", vec!["zhangsan"]),
                ("cn", vec!["张三"]),
                ("sn", vec!["张"]),
                ("userPassword", vec![ZHANG_PW]),
            ],
        ),
        (
            LI,
            vec![
                ("objectClass", vec!["inetOrgPerson"]),
                ("uid", vec!["lisi"]),
                ("cn", vec!["李四"]),
                ("sn", vec!["李"]),
                ("userPassword", vec![LI_PW]),
            ],
        ),
        (STAFF, vec![("objectClass", vec!["groupOfNames"]), ("cn", vec!["staff"]), ("member", vec![ZHANG, LI])]),
        (
            ENGINEERING,
            vec![
                ("objectClass", vec!["groupOfUniqueNames"]),
                ("cn", vec!["engineering"]),
                ("uniqueMember", vec![ZHANG, LI]),
            ],
        ),
    ];
    for (dn, attrs) in entries {
        let attrs = attrs.into_iter().map(|(a, v)| (a, v.into_iter().collect::<HashSet<_>>())).collect();
        ldap.add(dn, attrs).await.expect("add").success().unwrap_or_else(|e| panic!("add {dn}: {e}"));
    }
    let _ = ldap.unbind().await;
}

/// One attribute of one entry as the admin sees it, asked for by name.
async fn attribute(port: u16, dn: &str, name: &str) -> Vec<String> {
    let mut ldap = admin(port).await;
    let (entries, _) =
        ldap.search(dn, Scope::Base, "(objectClass=*)", vec![name]).await.expect("search").success().expect("ok");
    let entry = SearchEntry::construct(entries.into_iter().next().expect("entry"));
    let mut values: Vec<String> = entry.attrs.into_values().flatten().collect();
    values.sort();
    values
}

fn group_count(evidence: &serde_json::Value) -> usize {
    evidence["groups"].as_array().map_or(usize::MAX, Vec::len)
}

#[tokio::test]
async fn freeze_blocks_the_bind_and_unfreeze_restores_it() {
    let Some(slapd) = start().await else { return };
    let port = slapd.port;
    assert_eq!(bind_rc(port, ZHANG, ZHANG_PW).await, Some(0), "the user can bind before");

    let client = LdapClient::connect(&slapd.target()).await.expect("connect");
    let checked = client.test_connection().await.expect("test connection");
    assert_eq!(checked["authzid"], format!("dn:{ADMIN_DN}"));
    assert_eq!(checked["ppolicy"]["pwdLockout"], true);

    let before = client.read_state(ZHANG).await.expect("read");
    assert_eq!(before.state, AccessState::Active);
    assert_eq!(client.verdict(&before), Verdict::NotRevoked);
    assert_eq!(group_count(&before.evidence), 2, "{}", before.evidence);

    let frozen = client.apply(Intent::Freeze, ZHANG).await.expect("freeze");
    assert_eq!(frozen.state, AccessState::Disabled, "{}", frozen.evidence);
    assert_eq!(client.verdict(&frozen), Verdict::Verified);
    assert_eq!(client.verdict_for(Intent::Freeze, &frozen), Verdict::Verified, "a freeze keeps memberships");
    assert_eq!(frozen.evidence["lock"]["values"][0], OPENLDAP_PERMANENT_LOCK);
    assert_eq!(frozen.evidence["changes"].as_array().map(Vec::len), Some(1));
    assert_eq!(attribute(port, ZHANG, "pwdAccountLockedTime").await, vec![OPENLDAP_PERMANENT_LOCK]);
    // The pitfall: the lock is an operational attribute, invisible to a plain `*` read.
    assert!(attribute(port, ZHANG, "*").await.iter().all(|v| v != OPENLDAP_PERMANENT_LOCK));
    assert_eq!(bind_rc(port, ZHANG, ZHANG_PW).await, Some(49), "a locked account cannot bind");
    assert_eq!(bind_rc(port, LI, LI_PW).await, Some(0), "the other user is untouched");
    assert_eq!(group_count(&frozen.evidence), 2, "a freeze keeps memberships");

    let again = client.apply(Intent::Freeze, ZHANG).await.expect("freeze again");
    assert_eq!(again.state, AccessState::Disabled);
    assert!(again.evidence.get("changes").is_none(), "nothing written twice: {}", again.evidence);

    let thawed = client.apply(Intent::Unfreeze, ZHANG).await.expect("unfreeze");
    assert_eq!(thawed.state, AccessState::Active, "{}", thawed.evidence);
    assert_eq!(client.verdict(&thawed), Verdict::NotRevoked);
    assert!(attribute(port, ZHANG, "pwdAccountLockedTime").await.is_empty());
    assert_eq!(bind_rc(port, ZHANG, ZHANG_PW).await, Some(0), "binds again after unfreeze");
    let again = client.apply(Intent::Unfreeze, ZHANG).await.expect("unfreeze again");
    assert!(again.evidence.get("changes").is_none());
    client.close().await;
}

#[tokio::test]
async fn revoke_locks_and_removes_memberships_and_leaves_the_other_user_alone() {
    let Some(slapd) = start().await else { return };
    let port = slapd.port;
    let client = LdapClient::connect(&slapd.target()).await.expect("connect");

    let revoked = client.apply(Intent::Revoke, ZHANG).await.expect("revoke");
    assert_eq!(revoked.state, AccessState::Disabled, "{}", revoked.evidence);
    assert_eq!(group_count(&revoked.evidence), 0, "{}", revoked.evidence);
    assert_eq!(client.verdict_for(Intent::Revoke, &revoked), Verdict::Verified);
    // Lock + one delete per group.
    assert_eq!(revoked.evidence["changes"].as_array().map(Vec::len), Some(3), "{}", revoked.evidence);
    assert_eq!(bind_rc(port, ZHANG, ZHANG_PW).await, Some(49));
    assert_eq!(attribute(port, STAFF, "member").await, vec![LI]);
    assert_eq!(attribute(port, ENGINEERING, "uniqueMember").await, vec![LI]);

    let other = client.read_state(LI).await.expect("read other");
    assert_eq!(other.state, AccessState::Active);
    assert_eq!(group_count(&other.evidence), 2);
    assert_eq!(bind_rc(port, LI, LI_PW).await, Some(0));

    let twice = client.apply(Intent::Revoke, ZHANG).await.expect("revoke twice");
    assert_eq!(twice.state, AccessState::Disabled);
    assert!(twice.evidence.get("changes").is_none(), "{}", twice.evidence);
    assert_eq!(client.verdict_for(Intent::Revoke, &twice), Verdict::Verified);

    // A frozen account still in a group is not revoked.
    let frozen = client.apply(Intent::Freeze, LI).await.expect("freeze other");
    assert_eq!(client.verdict(&frozen), Verdict::Verified);
    assert_eq!(client.verdict_for(Intent::Revoke, &frozen), Verdict::NotRevoked);

    // Listed groups only, and the account is the last member of a groupOfNames, which OpenLDAP will not
    // leave empty: refused (the lock still happened first) until a stand-in member is configured.
    let mut listed = slapd.target();
    listed.groups = GroupScope::Listed { dns: vec![STAFF.into(), "cn=gone,ou=groups,dc=lizhi,dc=test".into()] };
    let client = LdapClient::connect(&listed).await.expect("connect listed");
    let err = client.apply(Intent::Revoke, LI).await.expect_err("last member");
    assert!(matches!(&err, CallError::Refused { code, retryable: false, .. } if code == "65"), "{err}");
    let state = client.read_state(LI).await.expect("read");
    assert_eq!(client.verdict_for(Intent::Revoke, &state), Verdict::NotRevoked, "{}", state.evidence);
    listed.empty_group_member = Some("cn=nobody,dc=lizhi,dc=test".into());
    let client = LdapClient::connect(&listed).await.expect("connect listed");
    let revoked = client.apply(Intent::Revoke, LI).await.expect("revoke listed");
    assert_eq!(client.verdict_for(Intent::Revoke, &revoked), Verdict::Verified, "{}", revoked.evidence);
    assert_eq!(revoked.evidence["changes"][0]["placeholder_added"], "cn=nobody,dc=lizhi,dc=test");
    assert_eq!(attribute(port, STAFF, "member").await, vec!["cn=nobody,dc=lizhi,dc=test"]);
    assert_eq!(attribute(port, ENGINEERING, "uniqueMember").await, vec![LI], "not a listed group");
}

#[tokio::test]
async fn missing_entries_and_dns_outside_the_target() {
    let Some(slapd) = start().await else { return };
    let client = LdapClient::connect(&slapd.target()).await.expect("connect");
    let gone = "uid=wangwu,ou=people,dc=lizhi,dc=test";
    let missing = client.read_state(gone).await.expect("read missing");
    assert_eq!(missing.state, AccessState::Absent);
    assert_eq!(client.verdict(&missing), Verdict::Verified);
    assert_eq!(VerifyMode::ReadAbsent.judge(missing.state), Verdict::Verified);
    let revoked = client.apply(Intent::Revoke, gone).await.expect("revoking the absent is done");
    assert_eq!(revoked.state, AccessState::Absent);
    let unfreeze = client.apply(Intent::Unfreeze, gone).await.expect_err("cannot unfreeze the absent");
    assert!(matches!(unfreeze, CallError::Refused { retryable: false, .. }), "{unfreeze:?}");
    // A whole missing branch is absent too.
    let branch = client.read_state("uid=x,ou=nowhere,dc=lizhi,dc=test").await.expect("read");
    assert_eq!(branch.state, AccessState::Absent);

    for dn in ["uid=x,dc=example,dc=com", SUFFIX, ADMIN_DN, "not a dn"] {
        let err = client.apply(Intent::Freeze, dn).await.expect_err(dn);
        assert!(matches!(&err, CallError::Refused { code, retryable: false, .. } if code == "out_of_scope"), "{err}");
    }
    assert_eq!(bind_rc(slapd.port, ADMIN_DN, ADMIN_PW).await, Some(0), "the service account was not locked");
}

#[tokio::test]
async fn bad_credentials_and_dead_servers_are_refused_without_leaking_the_password() {
    let Some(slapd) = start().await else { return };
    let mut target = slapd.target();
    target.bind_password = "Wrong-Password-9876".into();
    let err = LdapClient::connect(&target).await.expect_err("wrong password");
    match &err {
        CallError::Refused { code, retryable: false, .. } => assert_eq!(code, "49"),
        other => panic!("{other:?}"),
    }
    assert_eq!(err.code(), "connector_refused");
    for text in [err.to_string(), format!("{err:?}"), format!("{target:?}")] {
        assert!(!text.contains("Wrong-Password"), "{text}");
    }

    target.bind_password = String::new();
    let err = LdapClient::connect(&target).await.expect_err("anonymous");
    assert!(matches!(err, CallError::Refused { retryable: false, .. }), "{err:?}");

    let mut dead = slapd.target();
    dead.url = format!("ldap://127.0.0.1:{}/", free_port());
    let err = LdapClient::connect(&dead).await.expect_err("nobody listens");
    assert!(matches!(err, CallError::Refused { retryable: true, .. }), "{err:?}");

    // Evidence never carries passwords, even after operations on entries that have one.
    let client = LdapClient::connect(&slapd.target()).await.expect("connect");
    let obs = client.apply(Intent::Revoke, ZHANG).await.expect("revoke");
    let text = obs.evidence.to_string() + &client.test_connection().await.expect("test").to_string();
    for secret in [ADMIN_PW, ZHANG_PW] {
        assert!(!text.contains(secret), "{text}");
    }
    assert!(!format!("{client:?}").contains(ADMIN_PW));

    // A stalled server: reads time out as retryable refusals (nothing can have changed).
    let mut quick = slapd.target();
    quick.op_timeout_ms = 300;
    let quick = LdapClient::connect(&quick).await.expect("connect");
    let pid = slapd.child.id().to_string();
    assert!(Command::new("kill").args(["-STOP", &pid]).status().expect("stop").success());
    wait_stopped(&pid).await;
    let started = Instant::now();
    let err = quick.read_state(LI).await.expect_err("stalled");
    assert!(Command::new("kill").args(["-CONT", &pid]).status().expect("cont").success());
    assert!(matches!(&err, CallError::Refused { code, retryable: true, .. } if code == "timeout"), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
}

/// SIGSTOP is asynchronous: waits until every thread of the process shows state `T` in /proc.
async fn wait_stopped(pid: &str) {
    let stopped = || {
        let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).ok()?;
        let mut all = true;
        for task in tasks {
            let stat = std::fs::read_to_string(task.ok()?.path().join("stat")).ok()?;
            // The state follows the parenthesised command name.
            let state = stat.rsplit_once(") ")?.1.chars().next()?;
            all &= state == 'T' || state == 't';
        }
        Some(all)
    };
    for _ in 0..200 {
        if stopped() != Some(false) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("slapd did not stop");
}

#[tokio::test]
async fn a_connection_lost_after_the_modify_was_sent_is_ambiguous() {
    let Some(slapd) = start().await else { return };
    let mut target = slapd.target();
    target.url = format!("ldap://127.0.0.1:{}/", cut_after_modify(slapd.port).await);
    let client = LdapClient::connect(&target).await.expect("connect through the proxy");
    let err = client.apply(Intent::Freeze, ZHANG).await.expect_err("cut");
    assert!(matches!(err, CallError::Ambiguous { .. }), "{err:?}");
    assert_eq!(err.code(), "connector_ambiguous");
    // Reading back (what the worker does before retrying) shows the modify did land.
    let direct = LdapClient::connect(&slapd.target()).await.expect("connect");
    let mut state = direct.read_state(ZHANG).await.expect("read back");
    for _ in 0..50 {
        if state.state == AccessState::Disabled {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        state = direct.read_state(ZHANG).await.expect("read back");
    }
    assert_eq!(state.state, AccessState::Disabled);
}

/// A one-connection TCP proxy to slapd that forwards the first modify request, then cuts the client off
/// before any answer can reach it: "sent, outcome unknown".
async fn cut_after_modify(upstream: u16) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("listen");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        let (client, _) = listener.accept().await.expect("accept");
        let server = tokio::net::TcpStream::connect(("127.0.0.1", upstream)).await.expect("upstream");
        let (mut from_client, to_client) = client.into_split();
        let (mut from_server, mut to_server) = server.into_split();
        let down = tokio::spawn(async move {
            let mut to_client = to_client;
            let _ = tokio::io::copy(&mut from_server, &mut to_client).await;
        });
        while let Some(message) = read_message(&mut from_client).await {
            let modify = op_tag(&message) == Some(0x66);
            if modify {
                // Stop relaying answers (and close the client's side) before the modify reaches slapd.
                down.abort();
                let _ = down.await;
                to_server.write_all(&message).await.expect("forward");
                tokio::time::sleep(Duration::from_millis(300)).await;
                return;
            }
            to_server.write_all(&message).await.expect("forward");
        }
    });
    port
}

/// One BER-framed LDAPMessage (SEQUENCE, definite length), or `None` at end of stream.
async fn read_message(stream: &mut tokio::net::tcp::OwnedReadHalf) -> Option<Vec<u8>> {
    let mut head = [0u8; 2];
    stream.read_exact(&mut head).await.ok()?;
    let mut message = head.to_vec();
    let len = if head[1] & 0x80 == 0 {
        usize::from(head[1])
    } else {
        let mut bytes = vec![0u8; usize::from(head[1] & 0x7f)];
        stream.read_exact(&mut bytes).await.ok()?;
        message.extend(&bytes);
        bytes.iter().fold(0usize, |n, b| n << 8 | usize::from(*b))
    };
    let mut body = vec![0u8; len];
    stream.read_exact(&mut body).await.ok()?;
    message.extend(body);
    Some(message)
}

/// The protocolOp tag of an LDAPMessage: after the SEQUENCE header and the messageID INTEGER.
fn op_tag(message: &[u8]) -> Option<u8> {
    let header = if message.get(1)? & 0x80 == 0 { 2 } else { 2 + usize::from(message[1] & 0x7f) };
    let id_len = usize::from(*message.get(header + 1)?);
    message.get(header + 2 + id_len).copied()
}

#[tokio::test]
async fn a_policy_without_lockout_is_caught_before_it_fakes_a_lock() {
    let Some(slapd) = start().await else { return };
    let mut ldap = admin(slapd.port).await;
    let mods = vec![Mod::Delete("pwdLockout", HashSet::new())];
    ldap.modify(POLICY, mods).await.expect("modify").success().expect("drop pwdLockout");
    let client = LdapClient::connect(&slapd.target()).await.expect("connect");
    let err = client.test_connection().await.expect_err("policy");
    assert!(matches!(&err, CallError::Refused { code, retryable: false, .. } if code == "policy"), "{err}");
    // Why it matters: the attribute is set and reads back as locked, yet the bind still succeeds.
    let frozen = client.apply(Intent::Freeze, ZHANG).await.expect("freeze");
    assert_eq!(frozen.state, AccessState::Disabled);
    assert_eq!(bind_rc(slapd.port, ZHANG, ZHANG_PW).await, Some(0));
}

#[test]
fn active_directory_sets_and_clears_only_the_disable_bit() {
    assert_eq!(account_control(512, true), 514, "NORMAL_ACCOUNT");
    assert_eq!(account_control(514, false), 512);
    assert_eq!(account_control(66048, true), 66050, "NORMAL_ACCOUNT | DONT_EXPIRE_PASSWORD");
    assert_eq!(account_control(66050, false), 66048);
    assert_eq!(account_control(514, true), 514, "idempotent");
    assert_eq!(account_control(512, false), 512);
    let ad = Flavor::ActiveDirectory;
    assert_eq!(ad.lock_attribute(), "userAccountControl");
    assert_eq!(ad.membership_attributes(), ["member"]);
    let change = ad.lock_change(&["66048".into()], true).expect("parse").expect("a change");
    assert_eq!((change.attribute, change.values), ("userAccountControl", vec!["66050".to_owned()]));
    assert_eq!(ad.lock_change(&["66050".into()], true).expect("parse"), None, "already disabled");
    let change = ad.lock_change(&["514".into()], false).expect("parse").expect("a change");
    assert_eq!(change.values, vec!["512".to_owned()]);
    assert_eq!(ad.read_lock(&["66050".into()]), Ok(LockReading::Locked));
    assert_eq!(ad.read_lock(&["66048".into()]), Ok(LockReading::Unlocked));
    assert!(ad.lock_change(&[], true).is_err(), "no userAccountControl: not an AD account");
}

#[test]
fn ds389_locks_with_ns_account_lock() {
    let ds = Flavor::Ds389;
    assert_eq!(ds.lock_attribute(), "nsAccountLock");
    let change = ds.lock_change(&[], true).expect("ok").expect("a change");
    assert_eq!((change.attribute, change.values), ("nsAccountLock", vec!["TRUE".to_owned()]));
    assert_eq!(ds.read_lock(&["true".into()]), Ok(LockReading::Locked));
    assert_eq!(ds.read_lock(&["FALSE".into()]), Ok(LockReading::Unlocked));
    assert_eq!(ds.lock_change(&["TRUE".into()], true).expect("ok"), None);
    let change = ds.lock_change(&["TRUE".into()], false).expect("ok").expect("a change");
    assert!(change.values.is_empty(), "unlock removes the attribute");
    assert_eq!(ds.lock_change(&["FALSE".into()], false).expect("ok"), None);
    assert_eq!(Flavor::OpenLdap.lock_attribute(), "pwdAccountLockedTime");
}

#[test]
fn targets_deserialize_with_defaults_and_hide_the_password() {
    let target: LdapTarget = serde_json::from_value(serde_json::json!({
        "url": "ldaps://dc1.corp.example:636", "bind_dn": "CN=svc-lizhi,OU=Service,DC=corp,DC=example",
        "bind_password": "hunter2", "base_dn": "DC=corp,DC=example", "flavor": "active_directory",
        "groups": {"kind": "listed", "dns": ["CN=VPN,OU=Groups,DC=corp,DC=example"]}
    }))
    .expect("target");
    assert_eq!(target.flavor, Flavor::ActiveDirectory);
    assert_eq!(target.verify, VerifyMode::ReadDisabled);
    assert_eq!(target.op_timeout_ms, 10_000);
    assert!(!format!("{target:?}").contains("hunter2"));
}

#[tokio::test]
async fn a_registered_directory_tests_its_connection_from_settings() {
    let Some(slapd) = start().await else { return };
    let settings = serde_json::json!({"url": slapd.url(), "bind_dn": ADMIN_DN, "base_dn": SUFFIX, "flavor": "open_ldap",
        "ppolicy_dn": POLICY, "connect_timeout_ms": 2000, "op_timeout_ms": 2000});
    let configured =
        lizhi_connectors::configured::Configured::new("ldap", &settings, Some(ADMIN_PW)).expect("configured");
    let checked = configured.test_connection().await.expect("bind and base");
    assert!(checked.contains("pwdLockout"), "{checked}");
    let wrong = lizhi_connectors::configured::Configured::new("ldap", &settings, Some("wrong")).expect("configured");
    let err = wrong.test_connection().await.expect_err("a wrong password is refused");
    assert!(
        matches!(&err, lizhi_connectors::access::CallError::Refused { code, retryable: false, .. } if code == "49"),
        "{err}"
    );
}

#[tokio::test]
async fn starttls_checks_the_directorys_certificate_against_the_configured_ca() {
    let Some(slapd) = start_tls().await else { return };
    let mut target = slapd.target();
    target.starttls = true;
    // The system's roots do not know this self-signed certificate: refused before the password is sent.
    let Err(refused) = LdapClient::connect(&target).await else { panic!("an untrusted certificate was accepted") };
    assert!(refused.to_string().to_lowercase().contains("certificate"), "{refused}");
    target.ca_file = Some(slapd.ca().display().to_string());
    let client = LdapClient::connect(&target).await.expect("trusted through ca_file");
    let frozen = client.apply(Intent::Freeze, ZHANG).await.expect("freeze over TLS");
    assert_eq!(frozen.state, AccessState::Disabled);
    client.close().await;
    assert_eq!(bind_rc(slapd.port, ZHANG, ZHANG_PW).await, Some(49));
    target.ca_file = Some(slapd.dir.path().join("nope.pem").display().to_string());
    assert!(LdapClient::connect(&target).await.is_err(), "a missing CA file is a clear error");
}
