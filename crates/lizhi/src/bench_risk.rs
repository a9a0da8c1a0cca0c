//! `lizhi bench`, early-warning part: importing a million punches, the daily scan of 100,000
//! employees with 120 days of history, a 120-day backtest of 10,000 employees, and the risk board
//! served at 100,000 employees.
//!
//! History that is not itself under test is written straight through the store (the same writes
//! the imports end with, summaries included), so preparing 100,000 people × 120 days stays in
//! minutes. Nothing here asserts: it measures and prints.

use crate::bench::{ServerChild, Target, load, load_measured, ms, percentile, thousands, wait_healthy};
use anyhow::{Context, Result, anyhow, ensure};
use chrono::{Datelike, Days, NaiveDate, TimeZone, Utc};
use lizhi_app::auth::{self, NewUser};
use lizhi_app::import::{self, ImportKind, NoProgress};
use lizhi_app::risk::RiskQuery;
use lizhi_app::risk_board::BoardQuery;
use lizhi_app::{App, Ctx};
use lizhi_core::auth::{Grant, Role};
use lizhi_store::attendance::{self as store, ActivityRow, Punch};
use std::path::Path;
use std::time::{Duration, Instant};

/// Days of history behind the scan and the backtest.
const HISTORY_DAYS: u64 = 120;
/// Employees in the scan and board measurement.
const SCAN_EMPLOYEES: usize = 100_000;
/// Employees in the punch import and the backtest.
const IMPORT_EMPLOYEES: usize = 10_000;
/// Punches in the timed import.
const IMPORT_PUNCHES: usize = 1_000_000;

/// One generated employee.
struct Person {
    id: i64,
    no: String,
    zone: chrono_tz::Tz,
}

/// A deterministic workforce pattern: most people come every weekday; one in a hundred missed
/// yesterday (yellow), one in a thousand has been gone a week (red), one in fifty is quiet online.
fn absent(index: usize, day: NaiveDate, last: NaiveDate) -> bool {
    let back = (last - day).num_days();
    (index % 100 == 3 && back == 0) || (index % 1000 == 7 && back < 7)
}

fn weekday(day: NaiveDate) -> bool {
    day.weekday().num_days_from_monday() < 5
}

/// Runs the early-warning measurements and prints the table. `work` is a scratch folder;
/// `keep` is a folder whose prepared databases are reused from one run to the next.
pub async fn run(work: &Path, keep: Option<&Path>, postgres: Option<&str>, exe: &Path) -> Result<()> {
    println!("\n[4/4] Early warning (history generated up to yesterday)");
    let last = Utc::now().date_naive().pred_opt().context("date")?;
    let history_from = last.checked_sub_days(Days::new(HISTORY_DAYS - 1)).context("date")?;
    let data = keep.unwrap_or(work);
    let mut rows = Vec::new();

    // (a) A million punches through `lizhi import punches`' code path, always on a fresh database.
    rows.extend(punch_import_rows(work, last, postgres).await?);

    // (b) The backtest: 10,000 employees with 120 days.
    let app = prepared(&data.join(format!("backtest-{last}.db")), IMPORT_EMPLOYEES, history_from, last).await?;
    let started = Instant::now();
    let findings =
        lizhi_app::risk::backtest(&app, &Ctx::system("bench"), history_from, last, &RiskQuery::default()).await?;
    rows.push(row(
        "backtest 120 days × 10,000 employees",
        started.elapsed().as_secs_f64(),
        "—",
        &format!("{} findings", thousands(findings.len())),
    ));
    app.db.close().await;

    // (c) The daily scan of 100,000 employees and (d) the board at that size.
    let scan_db = data.join(format!("scan-{last}.db"));
    let app = prepared(&scan_db, SCAN_EMPLOYEES, history_from, last).await?;
    let ctx = Ctx::system("bench");
    let mut scans = Vec::new();
    let mut alerts = 0;
    for entity in ["CN01", "UK01"] {
        let started = Instant::now();
        let scan = lizhi_app::risk_scan::scan_now(&app, &ctx, entity, Some(last)).await?;
        scans.push(started.elapsed().as_secs_f64());
        alerts += scan.red.unwrap_or(0) + scan.yellow.unwrap_or(0);
    }
    rows.push(row(
        "daily scan, 100,000 employees × 120 days (SQLite)",
        scans.iter().sum(),
        "≤ 2 s",
        &format!("CN01 {:.2} s + UK01 {:.2} s, {} alerts stored", scans[0], scans[1], thousands(alerts as usize)),
    ));
    let mut board = Vec::new();
    for _ in 0..21 {
        let started = Instant::now();
        let b = lizhi_app::risk_board::board(&app, &ctx, None, &BoardQuery::default()).await?;
        board.push(started.elapsed());
        ensure!(!b.items.is_empty(), "the board is empty");
    }
    board.sort();
    rows.push(row(
        "risk board data at 100,000 employees (in process, median of 21)",
        board[board.len() / 2].as_secs_f64(),
        "—",
        "",
    ));
    rows.push(case_board(&app).await?);
    let (session, detail) = board_user(&app).await?;
    app.db.close().await;
    let url = format!("sqlite://{}", scan_db.display());
    rows.extend(board_over_http(exe, &url, &session, &detail).await?);
    println!("{}", crate::ui::table(&["measurement", "seconds", "target", "notes"], &rows));
    Ok(())
}

/// Cases on the 100,000-employee database for the case board measurement.
const BOARD_CASES: usize = 2_000;

/// Times the case board's data (every case visible to HR with its open and overdue item counts) at
/// 100,000 employees and [`BOARD_CASES`] cases of 11 checklist items each, seeded once into the kept database.
async fn case_board(app: &App) -> Result<Vec<String>> {
    use lizhi_store::cases::{self as cases_store, NewCase};
    use lizhi_store::checklist::{self as items, ItemRow};
    let ctx = Ctx::system("bench");
    let query = lizhi_app::cases::BoardQuery { limit: Some(1_000), ..Default::default() };
    if lizhi_app::cases::list(app, &ctx, &query).await?.is_empty() {
        let mut tx = app.db.begin().await?;
        let mut c = tx.conn();
        let people = lizhi_store::employees::index(&mut c).await?;
        let chosen: Vec<i64> = people.iter().map(|(_, id, _)| *id).take(BOARD_CASES).collect();
        let now = Utc::now();
        let states = ["contacting", "return_notice_serving", "awaiting_return", "case_review", "terminated", "closed"];
        for (i, employee_id) in chosen.iter().enumerate() {
            let e = lizhi_store::employees::get_by_id(&mut c, *employee_id).await?.context("employee")?;
            let case = NewCase {
                employee_id: e.id,
                legal_entity_id: e.legal_entity_id,
                org_unit_id: e.org_unit_id,
                case_type: "absconding".into(),
                state: states[i % states.len()].into(),
                policy: "{}".into(),
                policy_version: 1,
                owner_user_id: None,
                first_absent_date: None,
                last_working_day: None,
                effective_on: None,
                opened_by: "bench".into(),
            };
            let id = cases_store::insert(&mut c, &case, now).await?;
            let rows: Vec<ItemRow> = (0..11)
                .map(|k| ItemRow {
                    id: 0,
                    case_id: id,
                    position: k,
                    item_key: "revoke_access".into(),
                    category: "access".into(),
                    label: None,
                    asset_id: None,
                    owner_user_id: None,
                    owner_role: None,
                    due_rule: "{}".into(),
                    due_on: now.date_naive().checked_sub_days(Days::new(k as u64)),
                    after_termination_only: false,
                    status: if k % 3 == 0 { "done".into() } else { "open".into() },
                    note: None,
                    completed_at: None,
                    completed_by: None,
                })
                .collect();
            items::insert(&mut c, &rows).await?;
        }
        tx.commit().await?;
    }
    let mut times = Vec::new();
    for _ in 0..21 {
        let started = Instant::now();
        let lines = lizhi_app::cases::list(app, &ctx, &query).await?;
        times.push(started.elapsed());
        ensure!(lines.len() == 1_000, "the board lists {} cases", lines.len());
    }
    times.sort();
    Ok(row(
        "case board data, 1,000 newest of 2,000 cases at 100,000 employees (median of 21)",
        times[times.len() / 2].as_secs_f64(),
        "—",
        "open and overdue item counts per case",
    ))
}

/// Runs only the timed punch import and prints its rows.
pub async fn punches_only(work: &Path, postgres: Option<&str>) -> Result<()> {
    let last = Utc::now().date_naive().pred_opt().context("date")?;
    let rows = punch_import_rows(work, last, postgres).await?;
    println!("{}", crate::ui::table(&["measurement", "seconds", "target", "notes"], &rows));
    Ok(())
}

/// Times a million punches imported into a fresh SQLite database, and into PostgreSQL when given.
async fn punch_import_rows(work: &Path, last: NaiveDate, postgres: Option<&str>) -> Result<Vec<Vec<String>>> {
    let mut rows = Vec::new();
    let import_db = work.join(format!("import-{}.db", std::process::id()));
    let url = format!("sqlite://{}", import_db.display());
    let (secs, size) = time_punch_import(&url, last).await.context("SQLite punch import")?;
    rows.push(row("import 1,000,000 punches (SQLite)", secs, "≤ 3 s", &format!("{size:.0} MiB CSV")));
    remove_sqlite(&import_db);
    if let Some(admin) = postgres {
        let db = crate::bench::PgScratch::create(admin, &format!("lizhi_bench_{}_punches", std::process::id()))?;
        let (secs, _) = time_punch_import(&db.url, last).await.context("PostgreSQL punch import")?;
        rows.push(row("import 1,000,000 punches (PostgreSQL)", secs, "—", ""));
    }
    Ok(rows)
}

/// A database with `n` employees and their history, prepared once and reused when it exists. It is
/// prepared under another name and renamed when complete, so an interrupted run leaves nothing
/// half-made to reuse.
async fn prepared(path: &Path, n: usize, from: NaiveDate, to: NaiveDate) -> Result<App> {
    if !path.exists() {
        let partial = path.with_extension("partial");
        remove_sqlite(&partial);
        let started = Instant::now();
        let app = open(&format!("sqlite://{}", partial.display())).await?;
        seed_people(&app, n).await?;
        let people = load_people(&app).await?;
        fill_history(&app, &people, from, to).await?;
        app.db.close().await;
        // Closing checkpoints the WAL; were one left, it must travel with the file.
        for suffix in ["", "-wal"] {
            let from = format!("{}{suffix}", partial.display());
            if Path::new(&from).exists() {
                std::fs::rename(&from, format!("{}{suffix}", path.display()))
                    .with_context(|| format!("cannot rename {from}"))?;
            }
        }
        println!(
            "  (prepared {} employees × {HISTORY_DAYS} days of punches and activity in {:.0} s: {})",
            thousands(people.len()),
            started.elapsed().as_secs_f64(),
            path.display()
        );
    }
    open(&format!("sqlite://{}", path.display())).await
}

fn remove_sqlite(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

fn row(what: &str, secs: f64, target: &str, notes: &str) -> Vec<String> {
    vec![what.into(), format!("{secs:.3}"), target.into(), notes.into()]
}

async fn open(url: &str) -> Result<App> {
    App::open(url, 8).await.map_err(|e| anyhow!("cannot open {url}: {e}"))
}

/// Imports the generated company (entities, units, employees) untimed.
async fn seed_people(app: &App, n: usize) -> Result<()> {
    let ctx = Ctx::system("bench");
    for (kind, bytes) in lizhi_app::demo::demo_files(n) {
        let report = import::run(app, &ctx, kind, "bench.csv", &bytes, true, &NoProgress).await?;
        ensure!(report.is_clean(), "the generated {} file was rejected", kind.name());
    }
    Ok(())
}

/// Every employee with their employer's time zone, by employee number.
async fn load_people(app: &App) -> Result<Vec<Person>> {
    let ctx = Ctx::system("bench");
    let entities = lizhi_app::people::list_entities(app, &ctx).await?;
    let mut conn = app.db.acquire().await?;
    let mut out: Vec<Person> = lizhi_store::employees::index(&mut conn.conn())
        .await?
        .into_iter()
        .map(|(no, id, entity)| {
            let zone = entities
                .iter()
                .find(|e| e.id == entity)
                .and_then(|e| e.time_zone.parse().ok())
                .unwrap_or(chrono_tz::UTC);
            Person { id, no, zone }
        })
        .collect();
    out.sort_by(|a, b| a.no.cmp(&b.no));
    Ok(out)
}

/// The in and out punches of one person on one day (09:00 and 18:00 local).
fn day_punches(p: &Person, day: NaiveDate) -> [(chrono::DateTime<Utc>, &'static str); 2] {
    let at = |h: u32| {
        p.zone.with_ymd_and_hms(day.year(), day.month(), day.day(), h, 0, 0).single().map_or_else(
            || Utc.from_utc_datetime(&day.and_hms_opt(h, 0, 0).unwrap_or_default()),
            |t| t.with_timezone(&Utc),
        )
    };
    [(at(9), "gate-in"), (at(18), "gate-out")]
}

/// Times the import of exactly one million punches: two a day for 10,000 people over the most
/// recent 50 weekdays.
async fn time_punch_import(url: &str, last: NaiveDate) -> Result<(f64, f64)> {
    let app = open(url).await?;
    seed_people(&app, IMPORT_EMPLOYEES).await?;
    let people = load_people(&app).await?;
    // Day by day back from yesterday, everyone who came (the same absences as the history), until
    // exactly a million punches.
    let mut csv = String::with_capacity(IMPORT_PUNCHES * 48);
    csv.push_str("employee_no,punched_at,source\n");
    let mut written = 0;
    let mut day = last;
    while written < IMPORT_PUNCHES {
        if weekday(day) {
            for (index, p) in people.iter().enumerate().filter(|(i, _)| !absent(*i, day, last)) {
                for (at, source) in day_punches(p, day) {
                    if written == IMPORT_PUNCHES {
                        break;
                    }
                    // Half in the local offset, half in UTC, as devices and exports mix them.
                    let stamp = if index % 2 == 0 {
                        at.with_timezone(&p.zone).to_rfc3339()
                    } else {
                        at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                    };
                    csv.push_str(&format!("{},{stamp},{source}\n", p.no));
                    written += 1;
                }
            }
        }
        day = day.pred_opt().context("date")?;
    }
    let started = Instant::now();
    let report =
        import::run(&app, &Ctx::system("bench"), ImportKind::Punches, "punches.csv", csv.as_bytes(), true, &NoProgress)
            .await?;
    let secs = started.elapsed().as_secs_f64();
    ensure!(report.is_clean() && report.created == IMPORT_PUNCHES, "punch import: {:?}", report.errors.first());
    app.db.close().await;
    Ok((secs, csv.len() as f64 / 1_048_576.0))
}

/// Punches and activity for every weekday in the range (skipping what the pattern says is
/// absent), written through the store in transactions of 200,000 rows.
async fn fill_history(app: &App, people: &[Person], from: NaiveDate, to: NaiveDate) -> Result<()> {
    let now = Utc::now();
    let mut punches = Vec::new();
    let mut activity = Vec::new();
    for (index, p) in people.iter().enumerate() {
        let mut day = from;
        while day <= to {
            if weekday(day) && !absent(index, day, to) {
                for (at, source) in day_punches(p, day) {
                    punches.push(Punch {
                        employee_id: p.id,
                        punched_at: at,
                        source: source.into(),
                        attendance_day: day,
                    });
                }
                let events = if index % 50 == 11 { 2 } else { 20 + (index % 17) as i64 };
                activity.push(ActivityRow { employee_id: p.id, day, system: "OA".into(), events });
            }
            day = day.succ_opt().context("date")?;
        }
        if punches.len() + activity.len() >= 200_000 || index + 1 == people.len() {
            let mut tx = app.db.begin().await?;
            store::insert_punches(&mut tx.conn(), &punches, now).await?;
            store::upsert_activity(&mut tx.conn(), &activity, now).await?;
            tx.commit().await?;
            punches.clear();
            activity.clear();
        }
    }
    Ok(())
}

/// An HR user with a session, and one red employee to open.
async fn board_user(app: &App) -> Result<(String, String)> {
    let ctx = Ctx::system("bench");
    let password = auth::new_secret("");
    auth::create_user(
        app,
        &ctx,
        NewUser {
            // A kept database already has the previous runs' users.
            username: format!("bench-hr-{}", std::process::id()),
            display_name: "Benchmark HR".into(),
            password: Some(password.clone()),
            grants: vec![Grant { role: Role::Hr, org_unit_id: None }],
        },
    )
    .await?;
    let session = auth::sign_in(app, &format!("bench-hr-{}", std::process::id()), &password, "127.0.0.1").await?;
    let board = lizhi_app::risk_board::board(app, &ctx, None, &BoardQuery::default()).await?;
    let first = board.items.first().map(|i| i.finding.employee_no.clone()).context("no alert to open")?;
    Ok((session.session_id, first))
}

/// `GET /risk` and one alert opened, served by a child server: latency and server CPU.
async fn board_over_http(exe: &Path, url: &str, session: &str, detail: &str) -> Result<Vec<Vec<String>>> {
    let server = ServerChild::start(exe, url).await?;
    let client = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()?;
    wait_healthy(&client, &server.base, Duration::from_secs(15)).await?;
    let cookie = ("cookie", format!("{}={session}", lizhi_web::SESSION_COOKIE));
    let target = Target { url: format!("{}/risk", server.base), header: cookie.clone() };
    let _ = load(&client, &target, 20, 2).await;
    let (result, cpu) = load_measured(&client, &target, 200, 2, &server).await?;
    let detail = Target { url: format!("{}/risk/{detail}", server.base), header: cookie };
    let (opened, detail_cpu) = load_measured(&client, &detail, 50, 2, &server).await?;
    server.stop();
    ensure!(
        result.errors == 0 && opened.errors == 0,
        "GET /risk failed: {:?}",
        result.first_error.or(opened.first_error)
    );
    Ok(vec![
        vec![
            "GET /risk at 100,000 employees (child server, server CPU per request)".into(),
            format!("{:.4}", cpu / 1000.0),
            "≤ 10 ms".into(),
            format!(
                "p50 {:.1} ms, p99 {:.1} ms at 2 connections",
                ms(percentile(&result.latencies, 0.5)),
                ms(percentile(&result.latencies, 0.99))
            ),
        ],
        vec![
            "GET /risk/{no}: one alert opened (server CPU per request)".into(),
            format!("{:.4}", detail_cpu / 1000.0),
            "—".into(),
            format!("p50 {:.1} ms", ms(percentile(&opened.latencies, 0.5))),
        ],
    ])
}
