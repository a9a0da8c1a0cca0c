//! End-to-end tests of the `lizhi` binary: each test runs the real executable against its own
//! temporary SQLite file and, when `LIZHI_TEST_DATABASE_URL` is set, against a fresh PostgreSQL
//! database too (created with `psql`, dropped afterwards).

use lizhi_app::import::ImportKind;
use lizhi_docs::{FileFormat, Table, read_table, write_csv};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

mod connectors;
mod evidence;

const BIN: &str = env!("CARGO_BIN_EXE_lizhi");

/// What a finished `lizhi` run printed.
#[derive(Debug)]
struct Out {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Out {
    fn ok(self) -> Out {
        assert_eq!(self.code, Some(0), "expected success\nstdout:\n{}\nstderr:\n{}", self.stdout, self.stderr);
        self
    }

    fn failed_with(self, code: i32) -> Out {
        assert_eq!(self.code, Some(code), "expected exit {code}\nstdout:\n{}\nstderr:\n{}", self.stdout, self.stderr);
        self
    }

    fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

/// A command for the binary with a clean, predictable environment.
fn lizhi_cmd(cwd: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("LIZHI_") || name == "LC_ALL" || name == "LC_MESSAGES" {
            cmd.env_remove(name);
        }
    }
    cmd.env("LIZHI_LANG", "en").env("LANG", "C").current_dir(cwd);
    cmd
}

fn finish(cmd: &mut Command, stdin: Option<&[u8]>) -> Out {
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn lizhi");
    if let Some(mut pipe) = child.stdin.take() {
        pipe.write_all(stdin.unwrap_or_default()).expect("write stdin");
    }
    let out = child.wait_with_output().expect("wait for lizhi");
    Out {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A PostgreSQL database created for one test and dropped when the test ends.
struct PgDatabase {
    admin_url: String,
    name: String,
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        let _ = Command::new("psql").args([self.admin_url.as_str(), "-qc", &sql]).output();
    }
}

/// `url` with its database name replaced.
fn with_database(url: &str, name: &str) -> String {
    let start = url.find("://").map_or(0, |i| i + 3);
    let (base, query) = match url.find('?') {
        Some(q) => (&url[..q], &url[q..]),
        None => (url, ""),
    };
    let host_end = base[start..].find('/').map_or(base.len(), |i| start + i);
    format!("{}/{name}{query}", &base[..host_end])
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// One test's database (and scratch folder).
struct Db {
    dir: tempfile::TempDir,
    url: String,
    label: &'static str,
    _pg: Option<PgDatabase>,
}

fn sqlite() -> Db {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("data").join("lizhi.db").display());
    Db { dir, url, label: "sqlite", _pg: None }
}

fn postgres() -> Option<Db> {
    let admin_url = std::env::var("LIZHI_TEST_DATABASE_URL").ok().filter(|v| !v.is_empty())?;
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    let name = format!("lizhi_t_{}_{}_{nanos}", std::process::id(), COUNTER.fetch_add(1, Ordering::SeqCst));
    let out = Command::new("psql")
        .args([admin_url.as_str(), "-v", "ON_ERROR_STOP=1", "-qc", &format!("CREATE DATABASE {name}")])
        .output()
        .expect("LIZHI_TEST_DATABASE_URL is set but `psql` cannot be run (install postgresql-client)");
    assert!(out.status.success(), "CREATE DATABASE {name} failed: {}", String::from_utf8_lossy(&out.stderr));
    let url = with_database(&admin_url, &name);
    Some(Db {
        dir: tempfile::tempdir().expect("temp dir"),
        url,
        label: "postgres",
        _pg: Some(PgDatabase { admin_url, name }),
    })
}

/// SQLite always, PostgreSQL as well when configured.
fn backends() -> Vec<Db> {
    let mut all = vec![sqlite()];
    all.extend(postgres());
    all
}

impl Db {
    fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = lizhi_cmd(self.dir.path());
        cmd.arg("--database-url").arg(&self.url).args(args);
        cmd
    }

    fn run(&self, args: &[&str]) -> Out {
        finish(&mut self.cmd(args), None)
    }

    fn run_stdin(&self, args: &[&str], stdin: &[u8]) -> Out {
        finish(&mut self.cmd(args), Some(stdin))
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn write(&self, name: &str, bytes: &[u8]) -> String {
        let path = self.path(name);
        std::fs::write(&path, bytes).expect("write test file");
        path.display().to_string()
    }

    fn export(&self, kind: &str) -> Table {
        let out = self.run(&["export", kind]).ok();
        read_table(out.stdout.as_bytes(), FileFormat::Csv).expect("export is a readable CSV")
    }

    fn employee_count(&self) -> usize {
        self.export("employees").rows.len()
    }

    /// Imports the demo company's entities and org units (what employee files refer to).
    fn import_org(&self) {
        for (kind, bytes) in lizhi_app::demo::demo_files(0).into_iter().take(2) {
            let file = self.write(&format!("{}.csv", kind.name()), &bytes);
            self.run(&["import", kind.name(), &file]).ok();
        }
    }

    /// Imports a whole demo company of `n` employees.
    fn import_demo(&self, n: usize) {
        for (kind, bytes) in lizhi_app::demo::demo_files(n) {
            let file = self.write(&format!("{}.csv", kind.name()), &bytes);
            let out = self.run(&["import", kind.name(), &file]).ok();
            assert!(out.stdout.contains("created"), "[{}] {}", self.label, out.stdout);
        }
    }
}

const EMPLOYEE_HEADER: &[&str] = &[
    "employee_no",
    "name",
    "legal_entity",
    "org_unit",
    "manager_no",
    "hire_date",
    "email",
    "mobile",
    "position",
    "contract_address",
    "work_calendar",
];

fn employee(no: &str, name: &str, manager: &str, hire: &str) -> Vec<String> {
    [no, name, "CN01", "CN-RD-PLT", manager, hire, "", "", "工程师", "上海市浦东新区张江路1号", ""]
        .map(str::to_owned)
        .to_vec()
}

#[test]
fn every_command_has_help() {
    let dir = tempfile::tempdir().expect("temp dir");
    let commands: &[&[&str]] = &[
        &[],
        &["serve"],
        &["demo"],
        &["migrate"],
        &["import"],
        &["export"],
        &["user"],
        &["user", "create"],
        &["user", "reset-password"],
        &["user", "list"],
        &["user", "create-token"],
        &["user", "disable"],
        &["user", "enable"],
        &["backup"],
        &["check-config"],
        &["bench"],
        &["audit", "verify"],
        &["audit", "checkpoint"],
        &["audit", "rotate-key"],
        &["audit", "purge"],
        &["evidence", "export"],
        &["evidence", "verify"],
        &["connectors", "put"],
        &["connectors", "list"],
        &["connectors", "test"],
        &["connectors", "status"],
        &["case", "access"],
    ];
    for path in commands {
        let mut args: Vec<&str> = path.to_vec();
        args.push("--help");
        let out = finish(lizhi_cmd(dir.path()).args(&args), None).ok();
        let usage = format!("Usage: lizhi {}", path.join(" "));
        assert!(out.stdout.contains(usage.trim_end()), "{args:?}:\n{}", out.stdout);
        assert!(
            out.stdout.lines().next().is_some_and(|l| l.len() > 20),
            "{args:?} has no description:\n{}",
            out.stdout
        );
    }
    finish(lizhi_cmd(dir.path()).arg("no-such-command"), None).failed_with(2);
}

#[test]
fn migrate_applies_once_then_reports_up_to_date() {
    for db in backends() {
        let first = db.run(&["migrate"]).ok();
        assert!(first.stdout.contains("Applied migrations: 1"), "[{}] {}", db.label, first.stdout);
        let second = db.run(&["migrate"]).ok();
        assert!(second.stdout.contains("up to date"), "[{}] {}", db.label, second.stdout);
    }
}

#[test]
fn demo_files_import_in_order_and_export_back() {
    for db in backends() {
        db.import_demo(50);
        assert_eq!(db.export("legal-entities").rows.len(), 2, "[{}]", db.label);
        assert_eq!(db.export("org-units").rows.len(), 22, "[{}]", db.label);
        let employees = db.export("employees");
        assert_eq!(employees.rows.len(), 50, "[{}]", db.label);
        let name = employees.column("name").expect("name column");
        assert!(employees.rows.iter().any(|r| { r.get(name).chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)) }));
    }
}

#[test]
fn docs_samples_import_cleanly() {
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/samples");
    let files = ["legal-entities", "org-units", "employees"].map(|k| samples.join(format!("{k}.csv")));
    if !files.iter().all(|f| f.is_file()) {
        eprintln!("docs/samples/*.csv not present: nothing to check");
        return;
    }
    for db in backends() {
        for (kind, file) in ["legal-entities", "org-units", "employees"].iter().zip(&files) {
            let out = db.run(&["import", kind, &file.display().to_string()]).ok();
            assert!(out.stdout.contains("created"), "[{}] {kind}: {}", db.label, out.stdout);
            let expected =
                read_table(&std::fs::read(file).expect("read sample"), FileFormat::Csv).expect("sample parses");
            assert_eq!(db.export(kind).rows.len(), expected.rows.len(), "[{}] {kind}", db.label);
        }
    }
}

#[test]
fn gbk_csv_from_excel_is_decoded() {
    let text = "employee_no,name,legal_entity,org_unit,manager_no,hire_date\r\n\
                G001,王喆,CN01,CN-RD,,2020-01-02\r\n\
                G002,李堃,CN01,CN-RD-PLT,G001,2021-03-04\r\n\
                G003,欧阳子涵,CN01,CN-RD-QA,G001,2022-05-06\r\n";
    let (gbk, _, lossy) = encoding_rs::GBK.encode(text);
    assert!(!lossy, "test data must be representable in GBK");
    assert!(std::str::from_utf8(&gbk).is_err(), "the file must not be valid UTF-8");
    for db in backends() {
        db.import_org();
        let file = db.write("gbk-employees.csv", &gbk);
        let out = db.run(&["import", "employees", &file]).ok();
        assert!(out.stdout.contains("3 created"), "[{}] {}", db.label, out.stdout);
        let exported = db.export("employees");
        let name = exported.column("name").expect("name column");
        let names: Vec<&str> = exported.rows.iter().map(|r| r.get(name)).collect();
        assert_eq!(names, ["王喆", "李堃", "欧阳子涵"], "[{}]", db.label);
    }
}

/// A broken employees file: (description, file bytes, text that must name the place).
fn broken_files() -> Vec<(&'static str, Vec<u8>, Vec<&'static str>)> {
    let good = || vec![employee("E001", "张伟", "", "2019-01-01"), employee("E002", "王喆", "E001", "2020-02-02")];
    let mut header = EMPLOYEE_HEADER.to_vec();
    header[4] = "manager";
    let mut duplicate = good();
    duplicate.push(employee("E001", "李堃", "", "2021-01-01"));
    let mut unknown_manager = good();
    unknown_manager.push(employee("E003", "李堃", "X999", "2021-01-01"));
    let cycle = vec![employee("E001", "张伟", "E002", "2019-01-01"), employee("E002", "王喆", "E001", "2020-02-02")];
    let mut bad_date = good();
    bad_date.push(employee("E003", "李堃", "E001", "2024/13/01"));
    vec![
        ("bad header", write_csv(&header, &good()), vec!["row 1, column manager_no", "missing"]),
        ("duplicate numbers", write_csv(EMPLOYEE_HEADER, &duplicate), vec!["row 4, column employee_no", "E001"]),
        ("unknown manager", write_csv(EMPLOYEE_HEADER, &unknown_manager), vec!["row 4, column manager_no", "X999"]),
        (
            "manager cycle",
            write_csv(EMPLOYEE_HEADER, &cycle),
            vec!["row 2, column manager_no", "row 3, column manager_no", "loop"],
        ),
        ("bad date", write_csv(EMPLOYEE_HEADER, &bad_date), vec!["row 4, column hire_date", "2024/13/01"]),
    ]
}

#[test]
fn broken_files_are_rejected_whole_and_name_the_row() {
    for db in backends() {
        db.import_org();
        for (what, bytes, expected) in broken_files() {
            let file = db.write("broken.csv", &bytes);
            let out = db.run(&["import", "employees", &file]).failed_with(1);
            for text in expected {
                assert!(out.all().contains(text), "[{}] {what}: `{text}` not in\n{}", db.label, out.all());
            }
            assert!(out.stderr.contains("nothing was imported"), "[{}] {what}: {}", db.label, out.stderr);
            assert_eq!(db.employee_count(), 0, "[{}] {what}: rows landed", db.label);
        }
    }
}

#[test]
fn errors_are_translated_for_chinese_operators() {
    let db = sqlite();
    db.import_org();
    let (_, bytes, _) = broken_files().into_iter().find(|(w, _, _)| *w == "bad date").expect("case");
    let file = db.write("broken.csv", &bytes);
    let out = finish(db.cmd(&["import", "employees", &file]).env("LIZHI_LANG", "zh-CN"), None).failed_with(1);
    assert!(out.stdout.contains("第 4 行，列 hire_date：") && out.stdout.contains("日期"), "{}", out.stdout);
}

#[test]
fn dry_run_writes_nothing() {
    for db in backends() {
        db.import_org();
        let rows = vec![employee("E001", "张伟", "", "2019-01-01"), employee("E002", "王喆", "E001", "2020-02-02")];
        let out = db.run_stdin(&["import", "employees", "-", "--dry-run"], &write_csv(EMPLOYEE_HEADER, &rows)).ok();
        assert!(out.stdout.contains("2 would be created"), "[{}] {}", db.label, out.stdout);
        assert_eq!(db.employee_count(), 0, "[{}] dry run wrote rows", db.label);
        // The same file without --dry-run does land, so the check above can tell the difference.
        let out = db.run_stdin(&["import", "employees", "-"], &write_csv(EMPLOYEE_HEADER, &rows)).ok();
        assert!(out.stdout.contains("2 created"), "[{}] {}", db.label, out.stdout);
        assert_eq!(db.employee_count(), 2, "[{}]", db.label);
    }
}

#[test]
fn csv_and_xlsx_exports_import_back_unchanged() {
    for db in backends() {
        db.import_demo(60);
        for (kind, rows) in [("legal-entities", 2), ("org-units", 22), ("employees", 60)] {
            for ext in ["csv", "xlsx"] {
                let file = db.path(&format!("{kind}-export.{ext}")).display().to_string();
                db.run(&["export", kind, "-o", &file]).ok();
                let bytes = std::fs::read(&file).expect("export written");
                assert_eq!(
                    bytes.starts_with(b"PK\x03\x04"),
                    ext == "xlsx",
                    "[{}] {kind}.{ext} has the wrong format",
                    db.label
                );
                let out = db.run(&["import", kind, &file]).ok();
                let expected = format!("{rows} rows — 0 created, 0 updated, {rows} unchanged");
                assert!(out.stdout.contains(&expected), "[{}] {kind}.{ext}: {}", db.label, out.stdout);
            }
        }
        // An explicit --format wins over the file name.
        let odd = db.path("employees.dat").display().to_string();
        db.run(&["export", "employees", "--format", "xlsx", "-o", &odd]).ok();
        assert!(std::fs::read(&odd).expect("written").starts_with(b"PK\x03\x04"));
    }
}

fn one_time_password(stdout: &str) -> String {
    let lines: Vec<&str> = stdout.lines().collect();
    let at = lines.iter().position(|l| l.contains("One-time password")).expect("a one-time password is announced");
    let password = lines.get(at + 2).map(|l| l.trim()).unwrap_or_default();
    assert!(password.len() >= 20 && !password.contains(' '), "unexpected password line in\n{stdout}");
    password.to_owned()
}

#[test]
fn users_are_created_listed_and_reset() {
    let db = sqlite();
    let created =
        db.run(&["user", "create", "alice", "--role", "hr", "--role", "auditor", "--name", "Alice Chen"]).ok();
    let first = one_time_password(&created.stdout);
    let list = db.run(&["user", "list"]).ok();
    let alice = list
        .stdout
        .lines()
        .find(|l| l.starts_with("alice "))
        .unwrap_or_else(|| panic!("alice not listed:\n{}", list.stdout));
    assert!(
        alice.contains("Alice Chen") && alice.contains("hr,auditor") && alice.trim_end().ends_with("no"),
        "{alice}"
    );

    let reset = db.run(&["user", "reset-password", "alice"]).ok();
    assert_ne!(one_time_password(&reset.stdout), first, "a reset must generate a new password");

    // A chosen password is never echoed; a weak one is refused.
    let chosen =
        db.run_stdin(&["user", "create", "bob", "--role", "it", "--password-stdin"], b"correct horse battery\n").ok();
    assert!(
        !chosen.stdout.contains("One-time password") && !chosen.stdout.contains("correct horse"),
        "{}",
        chosen.stdout
    );
    let weak =
        db.run_stdin(&["user", "create", "carol", "--role", "it", "--password-stdin"], b"short\n").failed_with(1);
    assert!(weak.stderr.contains("at least 10 characters"), "{}", weak.stderr);
    let dup = db.run(&["user", "create", "alice", "--role", "it"]).failed_with(1);
    assert!(dup.stderr.contains("already exists"), "{}", dup.stderr);
    let unknown = db.run(&["user", "reset-password", "nobody"]).failed_with(1);
    assert!(unknown.stderr.contains("nobody"), "{}", unknown.stderr);
    db.run(&["user", "create", "x", "--role", "boss"]).failed_with(2);

    db.run(&["user", "disable", "bob"]).ok();
    let list = db.run(&["user", "list"]).ok();
    let bob = list.stdout.lines().find(|l| l.starts_with("bob ")).expect("bob listed");
    assert!(bob.trim_end().ends_with("yes"), "{bob}");

    let token = db.run(&["user", "create-token", "alice", "--name", "payroll"]).ok();
    assert!(token.stdout.contains("lzt_"), "{}", token.stdout);
}

#[test]
fn managers_need_an_org_unit() {
    let db = sqlite();
    db.import_org();
    let missing = db.run(&["user", "create", "mia", "--role", "manager"]).failed_with(1);
    assert!(missing.stderr.contains("--org-unit"), "{}", missing.stderr);
    let unknown = db.run(&["user", "create", "mia", "--role", "manager", "--org-unit", "NOPE"]).failed_with(1);
    assert!(unknown.stderr.contains("NOPE"), "{}", unknown.stderr);
    db.run(&["user", "create", "mia", "--role", "manager", "--org-unit", "CN-RD"]).ok();
    let list = db.run(&["user", "list"]).ok();
    assert!(list.stdout.contains("manager@CN-RD"), "{}", list.stdout);
}

#[test]
fn backup_copies_the_data_and_never_overwrites() {
    let db = sqlite();
    db.import_demo(40);
    let target = db.path("backup.db");
    let target_s = target.display().to_string();
    let out = db.run(&["backup", &target_s]).ok();
    assert!(out.stdout.contains("Backup written"), "{}", out.stdout);
    let copy =
        Db { dir: tempfile::tempdir().expect("dir"), url: format!("sqlite://{target_s}"), label: "backup", _pg: None };
    assert_eq!(copy.employee_count(), 40);
    drop(copy);

    let before = std::fs::read(&target).expect("backup exists");
    let again = db.run(&["backup", &target_s]).failed_with(1);
    assert!(again.stderr.contains("exists already"), "{}", again.stderr);
    assert_eq!(std::fs::read(&target).expect("still there"), before, "the existing file was modified");
}

#[test]
fn backup_of_postgres_points_to_pg_dump() {
    let dir = tempfile::tempdir().expect("dir");
    let out = finish(
        lizhi_cmd(dir.path()).args(["--database-url", "postgres://lizhi:secret@127.0.0.1:1/hr", "backup", "hr.db"]),
        None,
    )
    .failed_with(2);
    assert!(out.stderr.contains("pg_dump \"$LIZHI_DATABASE_URL\""), "{}", out.stderr);
    assert!(!out.all().contains("secret"));
}

#[test]
fn check_config_rejects_unsupported_urls_and_hides_passwords() {
    let dir = tempfile::tempdir().expect("dir");
    let out = finish(lizhi_cmd(dir.path()).args(["--database-url", "mysql://x", "check-config"]), None).failed_with(1);
    assert!(out.stderr.contains("database_url") && out.stderr.contains("not supported"), "{}", out.stderr);

    let out = finish(
        lizhi_cmd(dir.path()).args(["--database-url", "postgres://lizhi:hunter2@127.0.0.1:1/hr", "check-config"]),
        None,
    )
    .failed_with(1);
    assert!(out.stdout.contains("postgres://lizhi:***@127.0.0.1:1/hr"), "{}", out.stdout);
    assert!(!out.all().contains("hunter2"), "password leaked:\n{}", out.all());

    let db = sqlite();
    db.run(&["migrate"]).ok();
    let out = db.run(&["check-config"]).ok();
    assert!(out.stdout.contains("connected"), "{}", out.stdout);
}

#[test]
fn configuration_layers_file_then_env_then_flags() {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(
        dir.path().join("lizhi.toml"),
        "database_url = \"sqlite://from-file.db\"\nbind = \"127.0.0.1:9999\"\nmax_connections = 3\n",
    )
    .expect("write config");
    let show = |cmd: &mut Command| finish(cmd.arg("check-config"), None).ok().stdout;
    let line = |out: &str, key: &str| out.lines().find(|l| l.starts_with(key)).map(str::to_owned).unwrap_or_default();

    let out = show(&mut lizhi_cmd(dir.path()));
    assert!(
        line(&out, "database_url").contains("sqlite://from-file.db")
            && line(&out, "database_url").contains("lizhi.toml"),
        "{out}"
    );
    assert!(line(&out, "bind").contains("127.0.0.1:9999"), "{out}");
    assert!(line(&out, "max_connections").contains('3'), "{out}");

    let out = show(
        lizhi_cmd(dir.path()).env("LIZHI_DATABASE_URL", "sqlite://from-env.db").env("LIZHI_BIND", "127.0.0.1:7777"),
    );
    assert!(
        line(&out, "database_url").contains("from-env.db") && line(&out, "database_url").contains("LIZHI_DATABASE_URL"),
        "{out}"
    );
    assert!(line(&out, "bind").contains("7777"), "{out}");

    let out = show(
        lizhi_cmd(dir.path())
            .env("LIZHI_DATABASE_URL", "sqlite://from-env.db")
            .args(["--database-url", "sqlite://from-flag.db"]),
    );
    assert!(
        line(&out, "database_url").contains("from-flag.db") && line(&out, "database_url").contains("command line"),
        "{out}"
    );

    // Nothing was created by looking.
    assert!(!dir.path().join("from-file.db").exists() && !dir.path().join("from-flag.db").exists());

    std::fs::write(dir.path().join("typo.toml"), "databse_url = \"sqlite://x.db\"\n").expect("write");
    let out = finish(lizhi_cmd(dir.path()).args(["--config", "typo.toml", "check-config"]), None).failed_with(1);
    assert!(out.stderr.contains("databse_url"), "{}", out.stderr);
    let out = finish(lizhi_cmd(dir.path()).args(["--config", "missing.toml", "migrate"]), None).failed_with(1);
    assert!(out.stderr.contains("missing.toml"), "{}", out.stderr);
}

#[test]
fn the_example_configuration_is_valid() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../lizhi.example.toml");
    let dir = tempfile::tempdir().expect("dir");
    let out = finish(lizhi_cmd(dir.path()).arg("--config").arg(&example).arg("check-config"), None).ok();
    let bind = out.stdout.lines().find(|l| l.starts_with("bind")).unwrap_or_default();
    assert!(bind.contains("lizhi.example.toml"), "the example should set bind:\n{}", out.stdout);
}

/// A running `lizhi serve` child, stopped with SIGTERM.
struct Server {
    child: Child,
    url: String,
    /// What the process printed on stdout before it said where it listens.
    banner: String,
    stderr: std::thread::JoinHandle<String>,
}

fn start_server(db: &Db, extra: &[&str]) -> Server {
    let mut args = vec!["serve", "--bind", "127.0.0.1:0"];
    args.extend_from_slice(extra);
    start(db.cmd(&args))
}

/// Spawns a serving command and waits until it prints its address.
fn start(mut cmd: Command) -> Server {
    let mut child =
        cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn lizhi");
    let mut err = child.stderr.take().expect("stderr");
    let stderr = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut banner = String::new();
    let url = loop {
        match lines.next() {
            Some(Ok(line)) if line.contains("listening on") => {
                break line.rsplit(' ').next().unwrap_or_default().to_owned();
            }
            Some(Ok(line)) => {
                banner.push_str(&line);
                banner.push('\n');
            }
            _ => {
                let _ = child.kill();
                panic!("server exited before listening:\n{banner}\n{}", stderr.join().unwrap_or_default());
            }
        }
    };
    // Keep draining stdout so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Server { child, url, banner, stderr }
}

impl Server {
    fn get(&self, path: &str) -> String {
        let addr = self.url.trim_start_matches("http://");
        let mut stream = std::net::TcpStream::connect(addr).expect("connect to the server");
        stream.set_read_timeout(Some(Duration::from_secs(30))).expect("timeout");
        write!(stream, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").expect("send request");
        let mut response = String::new();
        let _ = stream.read_to_string(&mut response);
        response
    }

    /// Sends SIGTERM and returns (exit code, stderr) once the process has ended.
    fn stop(mut self) -> (Option<i32>, String) {
        let pid = self.child.id().to_string();
        let killed = Command::new("kill").args(["-TERM", &pid]).status().expect("run kill");
        assert!(killed.success());
        let deadline = Instant::now() + Duration::from_secs(30);
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                break status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("server did not stop within 30 s of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        (status.code(), self.stderr.join().unwrap_or_default())
    }
}

#[test]
fn serve_explains_the_first_admin_and_stops_on_sigterm() {
    let db = sqlite();
    let server = start_server(&db, &[]);
    assert!(server.url.starts_with("http://127.0.0.1:"), "{}", server.url);
    let response = server.get("/healthz");
    assert!(response.starts_with("HTTP/1.1 200"), "not an HTTP answer: {response}");
    let (code, stderr) = server.stop();
    assert_eq!(code, Some(0), "graceful shutdown must exit 0:\n{stderr}");
    assert_eq!(stderr.matches("lizhi user create admin --role admin").count(), 1, "{stderr}");

    let server = start_server(&db, &["--bootstrap-admin"]);
    let (code, stderr) = server.stop();
    assert_eq!(code, Some(0), "{stderr}");
    let password = stderr
        .lines()
        .find_map(|l| l.trim().strip_prefix("admin / "))
        .unwrap_or_else(|| panic!("no password:\n{stderr}"));
    assert!(password.len() >= 20, "{password}");
    let list = db.run(&["user", "list"]).ok();
    assert!(list.stdout.lines().any(|l| l.starts_with("admin ") && l.contains("admin")), "{}", list.stdout);

    // Once a user exists there is no hint and no second password.
    let server = start_server(&db, &["--bootstrap-admin"]);
    let (_, stderr) = server.stop();
    assert!(!stderr.contains("admin / ") && !stderr.contains("lizhi user create admin"), "{stderr}");
}

#[test]
fn demo_prints_logins_once_and_reuses_its_data() {
    let dir = tempfile::tempdir().expect("dir");
    let demo = || {
        let mut cmd = lizhi_cmd(dir.path());
        cmd.args(["demo", "--data", "demo-data", "--bind", "127.0.0.1:0", "--employees", "30"]);
        cmd
    };
    let server = start(demo());
    assert!(server.get("/healthz").starts_with("HTTP/1.1 200"));
    let banner = server.banner.clone();
    let (code, stderr) = server.stop();
    assert_eq!(code, Some(0), "{stderr}");
    for role in ["admin", "hr", "hr-supervisor", "manager", "it", "finance", "facilities", "auditor"] {
        let line = banner
            .lines()
            .find(|l| l.split_whitespace().next() == Some(role))
            .unwrap_or_else(|| panic!("no login for {role}:\n{banner}"));
        let password = line.split_whitespace().nth(1).unwrap_or_default();
        assert!(password.len() >= 20, "{line}");
    }
    let db = Db {
        dir: tempfile::tempdir().expect("dir"),
        url: format!("sqlite://{}", dir.path().join("demo-data/lizhi.db").display()),
        label: "demo",
        _pg: None,
    };
    assert_eq!(db.employee_count(), 30);

    let server = start(demo());
    let banner = server.banner.clone();
    let (code, stderr) = server.stop();
    assert_eq!(code, Some(0), "{stderr}");
    assert!(banner.contains("existed already") && banner.contains("user reset-password"), "{banner}");
    assert!(!banner.lines().any(|l| l.starts_with("auditor ")), "passwords printed twice:\n{banner}");
    assert_eq!(db.employee_count(), 30, "the second run must not seed again");
}

#[test]
fn postgres_database_names_are_replaced_in_urls() {
    assert_eq!(
        with_database("postgres://postgres@127.0.0.1:5432/postgres", "t1"),
        "postgres://postgres@127.0.0.1:5432/t1"
    );
    assert_eq!(with_database("postgres://u:p@h/db?sslmode=disable", "t2"), "postgres://u:p@h/t2?sslmode=disable");
    assert_eq!(with_database("postgres://h", "t3"), "postgres://h/t3");
}

#[test]
fn import_kinds_cover_the_application() {
    // The CLI's kind list must stay in step with the application's.
    let dir = tempfile::tempdir().expect("dir");
    let help = finish(lizhi_cmd(dir.path()).args(["import", "--help"]), None).ok().stdout;
    for kind in ImportKind::ALL {
        assert!(help.contains(kind.name()), "{} missing from import --help", kind.name());
    }
}

/// The early-warning contract: generated workforces around the 2026 National Day holidays, with
/// make-up workdays, a night-shift roster, punches written in local time and in UTC, leave in every
/// state, and a handful of absconders. Every absconder must turn red on exactly the rule's day and
/// nobody else may ever be red.
#[test]
fn absconders_turn_red_on_exactly_the_rule_day() {
    use chrono::{Datelike, NaiveDate, Weekday};
    let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date");
    let holidays: Vec<NaiveDate> = (1..=7).map(|day| d(&format!("2026-10-{day:02}"))).collect();
    let makeup = [d("2026-09-27"), d("2026-10-10")];
    let calendar_workday = |day: NaiveDate| {
        makeup.contains(&day) || (!holidays.contains(&day) && !matches!(day.weekday(), Weekday::Sat | Weekday::Sun))
    };
    let shifts = ["D", "D", "N", "N", "REST", "REST"];
    let roster_shift = |day: NaiveDate| shifts[(day - d("2026-08-01")).num_days().rem_euclid(6) as usize];
    struct Person {
        no: &'static str,
        hire: &'static str,
        absent: Vec<&'static str>,
        utc: bool,
        rostered: bool,
    }
    let p =
        |no, hire, absent: &[&'static str]| Person { no, hire, absent: absent.to_vec(), utc: false, rostered: false };
    let mut people = vec![
        p("W1", "2020-01-01", &[]),
        p("W2", "2020-01-01", &[]),
        // 3rd absent day is the make-up Saturday 10-10.
        p("A1", "2020-01-01", &["2026-10-08", "2026-10-09", "2026-10-10"]),
        // Absent right after an approved leave (14–18 Sep): red on the 3rd day after it.
        p(
            "A2",
            "2020-01-01",
            &[
                "2026-09-14",
                "2026-09-15",
                "2026-09-16",
                "2026-09-17",
                "2026-09-18",
                "2026-09-21",
                "2026-09-22",
                "2026-09-23",
            ],
        ),
        // Absent two days and back: yellow twice, never red.
        p("B1", "2020-01-01", &["2026-09-21", "2026-09-22"]),
        // Straddling a weekend: Thu, Fri, Mon.
        p("A3", "2020-01-01", &["2026-09-10", "2026-09-11", "2026-09-14"]),
        // Hired mid-window and never came: red on the 3rd scheduled day after the hire date.
        p("A4", "2026-09-16", &["2026-09-16", "2026-09-17", "2026-09-18"]),
        // Pending leave does not excuse.
        p("A5", "2020-01-01", &["2026-09-28", "2026-09-29", "2026-09-30"]),
        // A holiday between absences neither counts nor breaks: 30 Sep, (1–7 Oct), 8, 9 Oct.
        p("A6", "2020-01-01", &["2026-09-30", "2026-10-08", "2026-10-09"]),
    ];
    people.push(Person { no: "U1", hire: "2020-01-01", absent: vec![], utc: true, rostered: false });
    // Night-shift roster (D, D, N, N, REST, REST from 1 Aug): holidays do not apply, so 1 and 2 Oct
    // (rostered D and N) are workdays for R2.
    people.push(Person { no: "R1", hire: "2020-01-01", absent: vec![], utc: false, rostered: true });
    people.push(Person {
        no: "R2",
        hire: "2020-01-01",
        absent: vec!["2026-09-30", "2026-10-01", "2026-10-02", "2026-10-03"],
        utc: false,
        rostered: true,
    });
    let expected_red: Vec<(&str, &str)> = vec![
        ("A1", "2026-10-10"),
        ("A2", "2026-09-23"),
        ("A3", "2026-09-14"),
        ("A4", "2026-09-18"),
        ("A5", "2026-09-30"),
        ("A6", "2026-10-09"),
        ("R2", "2026-10-02"),
    ];

    let mut employees = vec![EMPLOYEE_HEADER.join(",")];
    let mut punches = vec!["employee_no,punched_at,source".to_owned()];
    let mut rosters = vec!["employee_no,date,shift".to_owned()];
    for person in &people {
        employees.push(employee(person.no, person.no, "", person.hire).join(","));
        let mut day = d("2026-08-01").max(d(person.hire));
        while day <= d("2026-10-16") {
            let shift = roster_shift(day);
            if person.rostered {
                rosters.push(format!("{},{day},{shift}", person.no));
            }
            let scheduled = if person.rostered { shift != "REST" } else { calendar_workday(day) };
            if scheduled && !person.absent.contains(&day.to_string().as_str()) {
                let at = match (person.utc, shift) {
                    // 07:30 in Shanghai is 23:30 UTC the day before: the UTC date differs.
                    (true, _) => format!("{}T23:30:00Z", day.pred_opt().expect("day")),
                    (false, "N") if person.rostered => format!("{day}T21:55:00+08:00"),
                    _ => format!("{day}T08:58:00+08:00"),
                };
                punches.push(format!("{},{at},gate", person.no));
            }
            day = day.succ_opt().expect("day");
        }
    }
    let calendar = "calendar,date,kind,name\n".to_owned()
        + &holidays.iter().map(|h| format!("CN01,{h},holiday,国庆节\n")).collect::<String>()
        + &makeup.iter().map(|m| format!("CN01,{m},workday,国庆调休\n")).collect::<String>();
    let leaves = "employee_no,start_date,end_date,type,status\n\
                  A2,2026-09-14,2026-09-18,annual,approved\n\
                  A5,2026-09-28,2026-09-30,personal,pending\n\
                  W2,2026-09-21,2026-09-25,annual,approved\n";

    for db in backends() {
        db.import_org();
        for (kind, body) in [
            ("employees", employees.join("\n")),
            ("calendar", calendar.clone()),
            ("rosters", rosters.join("\n")),
            ("punches", punches.join("\n")),
            ("leaves", leaves.to_owned()),
        ] {
            let file = db.write(&format!("{kind}.csv"), body.as_bytes());
            db.run(&["import", kind, &file]).ok();
        }
        // W2 is on approved leave 21–25 Sep without punches: must stay green.
        let out = db.run(&["risk", "backtest", "--from", "2026-09-07", "--to", "2026-10-16", "--format", "csv"]).ok();
        let table = read_table(out.stdout.as_bytes(), FileFormat::Csv).expect("csv");
        assert_eq!(
            table.headers,
            ["date", "employee_no", "level", "rules", "consecutive_absent_workdays", "first_absent_date"],
            "[{}]",
            db.label
        );
        let col = |name: &str| table.column(name).expect("column");
        let mut first_red: std::collections::BTreeMap<String, String> = Default::default();
        for row in &table.rows {
            if row.get(col("level")) == "red" {
                first_red
                    .entry(row.get(col("employee_no")).to_owned())
                    .or_insert_with(|| row.get(col("date")).to_owned());
                assert!(row.get(col("rules")).split(';').any(|r| r == "consecutive_absence"), "{:?}", row);
            }
        }
        let expected: std::collections::BTreeMap<String, String> =
            expected_red.iter().map(|(no, day)| ((*no).to_owned(), (*day).to_owned())).collect();
        assert_eq!(first_red, expected, "[{}] first red day per employee", db.label);
        let b1: Vec<(String, String)> = table
            .rows
            .iter()
            .filter(|r| r.get(col("employee_no")) == "B1")
            .map(|r| (r.get(col("date")).to_owned(), r.get(col("level")).to_owned()))
            .collect();
        assert_eq!(
            b1,
            [("2026-09-21".to_owned(), "yellow".to_owned()), ("2026-09-22".to_owned(), "yellow".to_owned())],
            "[{}] two days away, then back",
            db.label
        );
        let a1 = table.rows.iter().find(|r| r.get(col("employee_no")) == "A1" && r.get(col("date")) == "2026-10-10");
        let a1 = a1.expect("A1 on the make-up Saturday");
        assert_eq!((a1.get(col("consecutive_absent_workdays")), a1.get(col("first_absent_date"))), ("3", "2026-10-08"));

        // A candidate policy (red on the 2nd day) moves A1's red day forward; a broken one is refused.
        let stricter = db.write("stricter.toml", b"profile = \"CN-default\"\nconsecutive_red = 2\n");
        let out =
            db.run(&["risk", "backtest", "--from", "2026-10-08", "--to", "2026-10-12", "--policy", &stricter]).ok();
        let t2 = read_table(out.stdout.as_bytes(), FileFormat::Csv).expect("csv");
        let a1_red: Vec<&str> =
            t2.rows.iter().filter(|r| r.get(1) == "A1" && r.get(2) == "red").map(|r| r.get(0)).collect();
        assert_eq!(a1_red.first().copied(), Some("2026-10-09"), "[{}] {}", db.label, out.stdout);
        let broken = db.write("broken.toml", b"profile = \"CN-default\"\nconsecutive_red = 2\nyellow_from = 3\n");
        let out =
            db.cmd(&["risk", "backtest", "--from", "2026-10-08", "--to", "2026-10-12", "--policy", &broken]).output();
        let out = out.expect("run");
        assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("yellow"), "{out:?}");

        // The daily scan agrees with the backtest and explains itself.
        let scan = db.run(&["risk", "scan", "--as-of", "2026-10-10", "--format", "json"]).ok();
        let findings: serde_json::Value = serde_json::from_str(&scan.stdout).expect("json");
        let a1 = findings.as_array().expect("array").iter().find(|f| f["employee_no"] == "A1").expect("A1 in the scan");
        assert_eq!(a1["assessment"]["level"], "red");
        let facts: Vec<&str> = a1["assessment"]["explanation"]
            .as_array()
            .expect("facts")
            .iter()
            .filter_map(|f| f["fact"].as_str())
            .collect();
        assert!(facts.contains(&"missing_on") && facts.contains(&"make_up_workday"), "{facts:?}");
    }
}

/// The JSON a `lizhi case …` command printed.
fn case_json(out: &Out) -> serde_json::Value {
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", out.stdout))
}

#[test]
fn an_absconding_case_runs_through_the_cli() {
    let today = chrono::Utc::now().with_timezone(&chrono_tz::Asia::Shanghai).date_naive();
    let days_ago = |n: u64| (today - chrono::Days::new(n)).to_string();
    for db in backends() {
        db.import_demo(30);
        db.run(&["user", "create", "sup", "--role", "hr_supervisor"]).ok();
        db.run(&["user", "create", "head", "--role", "manager", "--org-unit", "CN-RD"]).ok();
        db.run(&["user", "create", "sales", "--role", "manager", "--org-unit", "CN-SALES"]).ok();
        let people = db.export("employees");
        let (no_at, unit_at) = (people.column("employee_no").expect("no"), people.column("org_unit").expect("unit"));
        let no = people.rows.iter().find(|r| r.get(unit_at).starts_with("CN-RD")).expect("someone in R&D").get(no_at);

        let opened = case_json(&db.run(&["case", "open", no]).ok());
        let id = opened["id"].as_i64().expect("id").to_string();
        let act = |args: &[&str]| db.run(&[&["case", "act", &id][..], args].concat());
        let refused = act(&["open_review"]).failed_with(1);
        assert!(refused.stderr.contains("cannot be skipped"), "[{}] {}", db.label, refused.stderr);
        for channel in ["phone", "phone", "wecom"] {
            act(&["log_contact", &format!("channel={channel}"), "outcome=no_answer"]).ok();
        }
        act(&["confirm_departure"]).ok();
        let sent = case_json(
            &act(&["dispatch_notice", "method=post", &format!("on={}", days_ago(20)), "tracking_no=EMS9"]).ok(),
        );
        let notice = sent["notices"][0]["id"].as_i64().expect("notice").to_string();
        let received = case_json(
            &act(&[
                "record_receipt",
                &format!("notice_id={notice}"),
                "outcome=signed",
                &format!("on={}", days_ago(15)),
            ])
            .ok(),
        );
        assert_eq!(received["state"], "awaiting_return", "[{}]", db.label);
        assert!(received["deadline"].as_str().expect("deadline") > days_ago(13).as_str(), "from receipt, not dispatch");
        act(&["open_review"]).ok();

        let early = db.run(&["case", "decide", &id, "approve", "--as", "head"]).failed_with(1);
        assert!(early.stderr.contains("not an approver"), "[{}] {}", db.label, early.stderr);
        db.run(&["case", "decide", &id, "approve", "--as", "sup"]).ok();
        db.run(&["case", "decide", &id, "approve", "--as", "head"]).ok();
        act(&["screen_protected_status", "protected=false"]).ok();
        act(&["notify_union"]).ok();
        act(&["serve_termination"]).failed_with(1);
        act(&["record_union_reply", &format!("on={today}")]).ok();
        act(&["serve_termination"]).ok();
        let served = case_json(&act(&["dispatch_notice", "method=in_person", &format!("on={today}")]).ok());
        let notice = served["notices"][1]["id"].as_i64().expect("notice").to_string();
        let done = case_json(
            &act(&["record_receipt", &format!("notice_id={notice}"), "outcome=signed", &format!("on={today}")]).ok(),
        );
        assert_eq!(
            (done["state"].as_str(), done["effective_on"].as_str()),
            (Some("terminated"), Some(today.to_string().as_str()))
        );

        let list = db.run(&["case", "list", "--state", "terminated"]).ok();
        assert!(list.stdout.contains(no), "[{}] {}", db.label, list.stdout);
        db.run(&["case", "show", &id, "--as", "head"]).ok();
        let hidden = db.run(&["case", "show", &id, "--as", "sales"]).failed_with(1);
        assert!(hidden.stderr.contains("Not found"), "[{}] {}", db.label, hidden.stderr);
    }
}
