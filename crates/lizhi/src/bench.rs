//! `lizhi bench`: numbers an operator can compare with docs/performance.md — import speed, page
//! latency under concurrency, server CPU per request, resident memory and start-up time.
//!
//! The server under test is a child `lizhi serve` process with its own database, so its CPU time
//! and memory are read from `/proc/<pid>` without the load generator's share mixed in. Nothing
//! here asserts: it measures and prints.

use crate::cli::{BenchArgs, BenchPart};
use crate::commands::Env;
use crate::config::{UrlKind, redact_url};
use anyhow::{Context, Result, anyhow, bail, ensure};
use lizhi_app::auth::{self, NewUser};
use lizhi_app::import::{self, ImportKind, MAX_UPLOAD_BYTES, NoProgress};
use lizhi_app::{App, Ctx};
use lizhi_core::auth::{Grant, Role};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Employees in the database the HTTP test runs against.
const HTTP_EMPLOYEES: usize = 10_000;
/// Requests per endpoint sent before measuring, to fill caches and open connections.
const WARM_UP: usize = 50;
/// How many times the start-up is measured (the median is reported).
const STARTS: usize = 5;

/// Runs every part of the benchmark and prints the tables.
pub async fn run(env: &Env, args: BenchArgs) -> Result<ExitCode> {
    ensure!(args.connections > 0 && args.requests > 0, "--requests and --connections must be at least 1");
    if cfg!(debug_assertions) {
        eprintln!("warning: this is a debug build; numbers will be far worse than production.");
        eprintln!("         use: cargo run --release -p lizhi -- bench\n");
    }
    let work = WorkDir::create()?;
    println!("Lizhi benchmark — {} build, {} CPUs, {}", build_kind(), cpus(), os_line());

    let exe = std::env::current_exe().context("cannot find the lizhi executable")?;
    let postgres =
        (UrlKind::of(&env.config().database_url) == Some(UrlKind::Postgres)).then(|| env.config().database_url.clone());
    match args.part {
        BenchPart::Risk => {
            crate::bench_risk::run(work.path(), args.data.as_deref(), postgres.as_deref(), &exe).await?;
            return Ok(ExitCode::SUCCESS);
        }
        BenchPart::Punches => {
            crate::bench_risk::punches_only(work.path(), postgres.as_deref()).await?;
            return Ok(ExitCode::SUCCESS);
        }
        BenchPart::Evidence => {
            crate::bench_evidence::run(work.path(), postgres.as_deref()).await?;
            return Ok(ExitCode::SUCCESS);
        }
        BenchPart::All | BenchPart::Foundation => {}
    }

    // (1) Imports.
    println!("\n[1/4] Import of generated employees (timed: the employees file only, applied in one transaction)");
    let mut rows = Vec::new();
    for &n in &args.employees {
        let files = lizhi_app::demo::demo_files(n);
        let size = files.iter().find(|(k, _)| *k == ImportKind::Employees).map_or(0, |(_, b)| b.len());
        if size > MAX_UPLOAD_BYTES {
            rows.push(vec![
                "any".into(),
                thousands(n),
                format!(
                    "skipped: file is {:.1} MiB, above the {} MiB import limit",
                    mib(size as u64),
                    MAX_UPLOAD_BYTES >> 20
                ),
            ]);
            continue;
        }
        let url = format!("sqlite://{}", work.path().join(format!("import-{n}.db")).display());
        let secs = time_import(&url, 8, n, &files).await.with_context(|| format!("SQLite import of {n} employees"))?;
        rows.push(import_row("SQLite", n, size, secs));
        if let Some(admin_url) = &postgres {
            let db = PgScratch::create(admin_url, &format!("lizhi_bench_{}_{n}", std::process::id()))?;
            let secs = time_import(&db.url, 10, n, &files)
                .await
                .with_context(|| format!("PostgreSQL import of {n} employees"))?;
            rows.push(import_row("PostgreSQL", n, size, secs));
        }
    }
    println!("{}", crate::ui::table(&["backend", "employees", "file", "seconds", "rows/s"], &rows));
    if postgres.is_none() {
        println!("(PostgreSQL: run with --database-url postgres://… to measure it too)");
    }

    // (2) HTTP under load and (3) memory, against a child server.
    println!(
        "\n[2/4] HTTP: child `lizhi serve`, {} employees, {} connections, {} requests per endpoint",
        thousands(HTTP_EMPLOYEES),
        args.connections,
        thousands(args.requests)
    );
    let db_path = work.path().join("http.db");
    let url = format!("sqlite://{}", db_path.display());
    let fixture = prepare_http_database(&url).await.context("preparing the HTTP test database")?;
    let server = ServerChild::start(&exe, &url).await?;
    let client = reqwest::Client::builder()
        .no_proxy()
        // A redirect (to /login) means the session was refused: count it as an error.
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(args.connections)
        .timeout(Duration::from_secs(30))
        .build()
        .context("cannot build the HTTP client")?;
    let endpoints = [
        ("GET /employees (HTML list)", "/employees".to_owned(), Auth::Cookie),
        ("GET /employees/{no} (HTML detail)", format!("/employees/{}", fixture.detail_no), Auth::Cookie),
        ("GET /api/v1/employees?limit=50", "/api/v1/employees?limit=50".to_owned(), Auth::Bearer),
    ];
    let mut rows = Vec::new();
    let mut notes = Vec::new();
    for (label, path, auth) in endpoints {
        let target = Target {
            url: format!("{}{path}", server.base),
            header: match auth {
                Auth::Cookie => ("cookie", format!("{}={}", lizhi_web::SESSION_COOKIE, fixture.session)),
                Auth::Bearer => ("authorization", format!("Bearer {}", fixture.token)),
            },
        };
        let label = label.replace("{no}", &fixture.detail_no);
        let warm = load(&client, &target, WARM_UP, args.connections).await;
        if warm.errors == WARM_UP {
            rows.push(vec![label, "-".into(), "-".into(), "-".into(), "-".into(), "-".into(), "unavailable".into()]);
            notes.push(format!("{path}: {}", warm.first_error.unwrap_or_default()));
            continue;
        }
        let (result, cpu_ms) = load_measured(&client, &target, args.requests, args.connections, &server).await?;
        if let Some(e) = &result.first_error {
            notes.push(format!("{path}: {} errors, first: {e}", result.errors));
        }
        rows.push(vec![
            label,
            format!("{:.1}", ms(percentile(&result.latencies, 0.50))),
            format!("{:.1}", ms(percentile(&result.latencies, 0.99))),
            format!("{:.0}", args.requests as f64 / result.wall.as_secs_f64()),
            format!("{cpu_ms:.2}"),
            format!("{:.1}", result.bytes as f64 / 1024.0 / (args.requests - result.errors).max(1) as f64),
            result.errors.to_string(),
        ]);
    }
    println!(
        "{}",
        crate::ui::table(&["endpoint", "p50 ms", "p99 ms", "req/s", "server CPU ms/req", "KiB/resp", "errors"], &rows)
    );
    for note in notes {
        println!("  note: {note}");
    }
    let rss = rss_kib(server.pid())?;
    println!("\n[3/4] Server memory and start-up");
    println!("resident memory (VmRSS) after the load: {:.1} MiB", rss as f64 / 1024.0);
    server.stop();

    // (4) Start-up to the first 200 on /healthz, on the already migrated database.
    let mut starts = Vec::new();
    for _ in 0..STARTS {
        let started = Instant::now();
        let server = ServerChild::start(&exe, &url).await?;
        let ok = wait_healthy(&client, &server.base, Duration::from_secs(15)).await;
        let elapsed = started.elapsed();
        server.stop();
        match ok {
            Ok(()) => starts.push(elapsed),
            Err(e) => {
                println!("start-up: /healthz never answered 200 ({e})");
                break;
            }
        }
    }
    if !starts.is_empty() {
        starts.sort();
        println!(
            "start-up to first 200 on /healthz: median {:.0} ms, max {:.0} ms ({} starts, {} employees)",
            ms(starts[starts.len() / 2]),
            ms(starts[starts.len() - 1]),
            starts.len(),
            thousands(HTTP_EMPLOYEES)
        );
    }
    println!(
        "\nTargets (docs/performance.md): 10k import ≤ 0.5 s; list page ≤ 5 ms server CPU and p99 ≤ 50 ms at 16 connections; start ≤ 0.3 s; RSS ≤ 60 MiB."
    );
    if args.part == BenchPart::All {
        crate::bench_risk::run(work.path(), args.data.as_deref(), postgres.as_deref(), &exe).await?;
        crate::bench_evidence::run(work.path(), postgres.as_deref()).await?;
    }
    Ok(ExitCode::SUCCESS)
}

fn import_row(backend: &str, n: usize, size: usize, secs: f64) -> Vec<String> {
    vec![
        backend.into(),
        thousands(n),
        format!("{:.1} MiB", mib(size as u64)),
        format!("{secs:.2}"),
        thousands((n as f64 / secs) as usize),
    ]
}

/// Imports entities and org units untimed, then times the employees file.
async fn time_import(url: &str, pool: u32, n: usize, files: &[(ImportKind, Vec<u8>)]) -> Result<f64> {
    let app = App::open(url, pool).await.map_err(|e| anyhow!("cannot open {}: {e}", redact_url(url)))?;
    let ctx = Ctx::system("bench");
    let mut seconds = None;
    for (kind, bytes) in files {
        let started = Instant::now();
        let report = import::run(&app, &ctx, *kind, "bench.csv", bytes, true, &NoProgress).await?;
        let elapsed = started.elapsed().as_secs_f64();
        ensure!(report.is_clean(), "the generated {} file was rejected: {:?}", kind.name(), report.errors.first());
        if *kind == ImportKind::Employees {
            ensure!(report.created == n, "expected {n} created employees, got {}", report.created);
            seconds = Some(elapsed);
        }
    }
    app.db.close().await;
    seconds.ok_or_else(|| anyhow!("no employees file was generated"))
}

/// What the HTTP test signs in with.
struct Fixture {
    session: String,
    token: String,
    detail_no: String,
}

enum Auth {
    Cookie,
    Bearer,
}

/// Seeds 10,000 employees, an HR user with a session and an API token.
async fn prepare_http_database(url: &str) -> Result<Fixture> {
    let app = App::open(url, 4).await.map_err(|e| anyhow!("cannot open {url}: {e}"))?;
    let ctx = Ctx::system("bench");
    for (kind, bytes) in lizhi_app::demo::demo_files(HTTP_EMPLOYEES) {
        let report = import::run(&app, &ctx, kind, "bench.csv", &bytes, true, &NoProgress).await?;
        ensure!(report.is_clean(), "the generated {} file was rejected", kind.name());
    }
    let password = auth::new_secret("");
    let created = auth::create_user(
        &app,
        &ctx,
        NewUser {
            username: "bench-hr".into(),
            display_name: "Benchmark HR".into(),
            password: Some(password.clone()),
            grants: vec![Grant { role: Role::Hr, org_unit_id: None }],
        },
    )
    .await?;
    let session = auth::sign_in(&app, "bench-hr", &password, "127.0.0.1").await?;
    let (_, token) = auth::create_token(&app, &ctx, created.user.id, "bench").await?;
    // C00042 is the brief's example; the generator may have put a UK employee at that number.
    let mut detail_no = "C00042".to_owned();
    if lizhi_app::people::get_employee(&app, &ctx, &detail_no).await.is_err() {
        let page = lizhi_app::people::list_employees(
            &app,
            &ctx,
            &lizhi_app::people::EmployeeQuery { after: Some("C00041".into()), limit: Some(1), ..Default::default() },
        )
        .await?;
        detail_no = page.items.first().map(|e| e.employee_no.clone()).ok_or_else(|| anyhow!("no employee to show"))?;
    }
    app.db.close().await;
    Ok(Fixture { session: session.session_id, token, detail_no })
}

/// A URL and the one header that authenticates it.
pub(crate) struct Target {
    pub(crate) url: String,
    pub(crate) header: (&'static str, String),
}

/// What a load run measured.
pub(crate) struct LoadResult {
    pub(crate) latencies: Vec<Duration>,
    /// Response body bytes received in all.
    bytes: u64,
    pub(crate) errors: usize,
    pub(crate) first_error: Option<String>,
    wall: Duration,
}

/// [`load`] against a child server, with the server's CPU milliseconds per request.
pub(crate) async fn load_measured(
    client: &reqwest::Client,
    target: &Target,
    n: usize,
    connections: usize,
    server: &ServerChild,
) -> Result<(LoadResult, f64)> {
    let before = cpu_ticks(server.pid())?;
    let result = load(client, target, n, connections).await;
    let ticks = cpu_ticks(server.pid())?.saturating_sub(before);
    Ok((result, ticks as f64 * 1000.0 / clock_ticks_per_second() as f64 / n as f64))
}

/// Sends `n` GETs over `connections` concurrent workers; every response body is read in full.
pub(crate) async fn load(client: &reqwest::Client, target: &Target, n: usize, connections: usize) -> LoadResult {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::with_capacity(connections);
    for _ in 0..connections {
        let (client, next) = (client.clone(), next.clone());
        let (url, (name, value)) = (target.url.clone(), target.header.clone());
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut bytes = 0u64;
            let mut errors = 0;
            let mut first_error = None;
            while next.fetch_add(1, Ordering::Relaxed) < n {
                let t = Instant::now();
                let outcome = match client.get(&url).header(name, &value).send().await {
                    Ok(resp) => {
                        let status = resp.status();
                        match resp.bytes().await {
                            Ok(body) if status.is_success() => {
                                bytes += body.len() as u64;
                                Ok(())
                            }
                            Ok(body) => {
                                Err(format!("HTTP {status}: {}", String::from_utf8_lossy(&body[..body.len().min(120)])))
                            }
                            Err(e) => Err(e.to_string()),
                        }
                    }
                    Err(e) => Err(e.to_string()),
                };
                latencies.push(t.elapsed());
                if let Err(e) = outcome {
                    errors += 1;
                    first_error.get_or_insert(e);
                }
            }
            (latencies, bytes, errors, first_error)
        }));
    }
    let mut result =
        LoadResult { latencies: Vec::with_capacity(n), bytes: 0, errors: 0, first_error: None, wall: Duration::ZERO };
    for worker in workers {
        match worker.await {
            Ok((latencies, bytes, errors, first_error)) => {
                result.latencies.extend(latencies);
                result.bytes += bytes;
                result.errors += errors;
                if result.first_error.is_none() {
                    result.first_error = first_error;
                }
            }
            Err(e) => {
                result.errors += 1;
                result.first_error.get_or_insert(format!("worker failed: {e}"));
            }
        }
    }
    result.wall = started.elapsed();
    result.latencies.sort();
    result
}

/// The `p`-quantile of sorted durations (nearest rank).
pub(crate) fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// Polls `/healthz` until it answers 200.
pub(crate) async fn wait_healthy(client: &reqwest::Client, base: &str, limit: Duration) -> Result<()> {
    let deadline = Instant::now() + limit;
    let mut last = String::from("no answer");
    while Instant::now() < deadline {
        match client.get(format!("{base}/healthz")).send().await {
            Ok(resp) if resp.status().is_success() => return Ok(()),
            Ok(resp) => last = format!("HTTP {}", resp.status()),
            Err(e) => last = e.to_string(),
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    bail!("{last}")
}

/// A `lizhi serve` child process on a free loopback port.
pub(crate) struct ServerChild {
    child: std::process::Child,
    pub(crate) base: String,
}

impl ServerChild {
    /// Spawns the server and waits for the line that says where it listens.
    pub(crate) async fn start(exe: &Path, url: &str) -> Result<ServerChild> {
        let mut child = Command::new(exe)
            .args(["--database-url", url, "serve", "--bind", "127.0.0.1:0", "--no-scheduler"])
            .env("LIZHI_LANG", "en")
            .env("LIZHI_LOG", "warn")
            .env_remove("LIZHI_PUBLIC_URL")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("cannot start {}", exe.display()))?;
        let stdout = child.stdout.take().ok_or_else(|| anyhow!("no stdout pipe"))?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if !sent && let Some(url) = line.strip_prefix("Lizhi is listening on ") {
                    let _ = tx.send(url.trim().to_owned());
                    sent = true;
                }
            }
        });
        let base = tokio::task::spawn_blocking(move || rx.recv_timeout(Duration::from_secs(60)))
            .await
            .context("waiting for the server")?;
        match base {
            Ok(base) => Ok(ServerChild { child, base }),
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                bail!("the server did not report a listening address (run `lizhi serve` by hand to see why)")
            }
        }
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Ends the child (its database is scratch, so no graceful shutdown is needed).
    pub(crate) fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServerChild {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// User + system CPU time of a process, in clock ticks (`/proc/<pid>/stat` fields 14 and 15).
pub(crate) fn cpu_ticks(pid: u32) -> Result<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).context("cannot read /proc (Linux only)")?;
    // The command name may contain spaces; fields are counted after its closing parenthesis.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).ok_or_else(|| anyhow!("unexpected /proc/{pid}/stat"))?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |i: usize| {
        fields.get(i).and_then(|v| v.parse::<u64>().ok()).ok_or_else(|| anyhow!("unexpected /proc/{pid}/stat"))
    };
    Ok(field(11)? + field(12)?)
}

/// Resident memory of a process in KiB (`VmRSS` of `/proc/<pid>/status`).
fn rss_kib(pid: u32) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).context("cannot read /proc (Linux only)")?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| anyhow!("no VmRSS in /proc/{pid}/status"))
}

/// `USER_HZ`, the unit of /proc CPU times (100 on every common Linux build).
pub(crate) fn clock_ticks_per_second() -> u64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .filter(|&t| t > 0)
        .unwrap_or(100)
}

fn cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn build_kind() -> &'static str {
    if cfg!(debug_assertions) { "debug" } else { "release" }
}

fn os_line() -> String {
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("model name").map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned()))
        })
        .unwrap_or_default();
    format!("Linux {} {cpu}", kernel.trim())
}

pub(crate) fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// `12345` → `12,345`.
pub(crate) fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A scratch folder removed when the benchmark ends.
struct WorkDir(PathBuf);

impl WorkDir {
    fn create() -> Result<WorkDir> {
        let path = std::env::temp_dir().join(format!("lizhi-bench-{}", std::process::id()));
        std::fs::create_dir_all(&path).with_context(|| format!("cannot create {}", path.display()))?;
        Ok(WorkDir(path))
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A PostgreSQL database created for one measurement and dropped afterwards (with `psql`, the
/// client every PostgreSQL installation has, over the configured URL as maintenance connection).
pub(crate) struct PgScratch {
    admin_url: String,
    name: String,
    pub(crate) url: String,
}

impl PgScratch {
    pub(crate) fn create(admin_url: &str, name: &str) -> Result<PgScratch> {
        let out = Command::new("psql")
            .args([admin_url, "-v", "ON_ERROR_STOP=1", "-qc", &format!("CREATE DATABASE {name}")])
            .output()
            .context("cannot run psql (install the PostgreSQL client to benchmark PostgreSQL)")?;
        ensure!(out.status.success(), "CREATE DATABASE {name} failed: {}", String::from_utf8_lossy(&out.stderr).trim());
        Ok(PgScratch { admin_url: admin_url.to_owned(), name: name.to_owned(), url: with_database(admin_url, name) })
    }
}

impl Drop for PgScratch {
    fn drop(&mut self) {
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        let _ = Command::new("psql").args([self.admin_url.as_str(), "-qc", &sql]).output();
    }
}

/// `url` with its database name replaced by `name` (query parameters kept).
fn with_database(url: &str, name: &str) -> String {
    let start = url.find("://").map_or(0, |i| i + 3);
    let (base, query) = url.find('?').map_or((url, ""), |q| (&url[..q], &url[q..]));
    let host_end = base[start..].find('/').map_or(base.len(), |i| start + i);
    format!("{}/{name}{query}", &base[..host_end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let d: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&d, 0.50), Duration::from_millis(50));
        assert_eq!(percentile(&d, 0.99), Duration::from_millis(99));
        assert_eq!(percentile(&d[..1], 0.99), Duration::from_millis(1));
        assert_eq!(percentile(&[], 0.5), Duration::ZERO);
    }

    #[test]
    fn numbers_get_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(10_000), "10,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn database_names_are_swapped() {
        assert_eq!(with_database("postgres://p@h:5432/postgres", "b"), "postgres://p@h:5432/b");
        assert_eq!(with_database("postgres://p@h/x?sslmode=disable", "b"), "postgres://p@h/b?sslmode=disable");
    }

    #[test]
    fn this_process_has_cpu_time_and_memory() {
        let pid = std::process::id();
        assert!(rss_kib(pid).is_ok_and(|kib| kib > 0));
        assert!(cpu_ticks(pid).is_ok());
    }
}
