//! `lizhi bench --part evidence`: appending a million audit events, signing and verifying the whole log,
//! and exporting and checking the evidence bundle of a case with 500 events spread through that log.
//! Nothing here asserts: it measures and prints.

use crate::bench::{PgScratch, thousands};
use anyhow::{Result, anyhow, ensure};
use lizhi_app::cases::{self, OpenCase};
use lizhi_app::import::{self, NoProgress};
use lizhi_app::{App, Ctx, audit_log, audit_verify, evidence};
use lizhi_store::audit::{self, AuditWrite};
use std::path::Path;
use std::time::Instant;

/// Events appended.
const EVENTS: usize = 1_000_000;
/// Events per transaction (an import's worth).
const BATCH: usize = 10_000;
/// Events of the exported case.
const CASE_EVENTS: usize = 500;

/// Runs the measurements on SQLite, and on PostgreSQL when given.
pub async fn run(work: &Path, postgres: Option<&str>) -> Result<()> {
    println!("\n[evidence] Tamper-evident log: {} events, a case with {CASE_EVENTS} of them", thousands(EVENTS));
    let mut rows = vec![measure("SQLite", &format!("sqlite://{}", work.join("evidence.db").display())).await?];
    if let Some(admin) = postgres {
        let scratch = PgScratch::create(admin, &format!("lizhi_bench_evidence_{}", std::process::id()))?;
        rows.push(measure("PostgreSQL", &scratch.url).await?);
    }
    let header = [
        "backend",
        "append 1M",
        "events/s",
        "first checkpoint",
        "verify log",
        "export bundle",
        "bundle",
        "verify bundle",
    ];
    println!("{}", crate::ui::table(&header, &rows));
    Ok(())
}

fn secs(start: Instant) -> f64 {
    start.elapsed().as_secs_f64()
}

async fn measure(backend: &str, url: &str) -> Result<Vec<String>> {
    let app = App::open(url, 4).await.map_err(|e| anyhow!("cannot open {url}: {e}"))?;
    let ctx = Ctx::system("bench");
    for (kind, bytes) in lizhi_app::demo::demo_files(50) {
        import::run(&app, &ctx, kind, "bench.csv", &bytes, true, &NoProgress).await?;
    }
    let employee = lizhi_app::people::list_employees(&app, &ctx, &Default::default()).await?.items.remove(0);
    let case = OpenCase {
        employee_no: employee.employee_no.clone(),
        case_type: "absconding".into(),
        first_absent_date: Some(app.clock.now().date_naive()),
        effective_on: None,
    };
    let case_id = cases::open(&app, &ctx, &case).await?;
    let mut conn = app.db.acquire().await?;
    let before = audit::head_size(&mut conn.conn()).await? as usize;
    drop(conn);

    // A million events in transactions of 10,000, one in 2,000 belonging to the case.
    let started = Instant::now();
    let case_every = EVENTS / (CASE_EVENTS - 1);
    let mut written = 0;
    while written < EVENTS {
        let writes: Vec<AuditWrite> = (written..(written + BATCH).min(EVENTS))
            .map(|i| {
                let on_case = i % case_every == 0;
                AuditWrite {
                    actor: format!("hr{}", i % 17),
                    action: if on_case { "case.log_contact".into() } else { "employee.update".into() },
                    entity_type: if on_case { "case".into() } else { "employee".into() },
                    entity_key: if on_case { case_id.to_string() } else { format!("C{:05}", i % 50_000) },
                    case_id: on_case.then_some(case_id),
                    before: Some(format!(r#"{{"position":"工程师","grade":{}}}"#, i % 9)),
                    after: Some(format!(r#"{{"position":"高级工程师","grade":{}}}"#, i % 9 + 1)),
                    docs: Vec::new(),
                }
            })
            .collect();
        let mut tx = app.db.begin().await?;
        audit::append(&mut tx.conn(), &writes, app.clock.now(), "bench").await?;
        tx.commit().await?;
        written += writes.len();
    }
    let append = secs(started);

    let started = Instant::now();
    let signed = audit_log::checkpoint(&app).await?.ok_or_else(|| anyhow!("nothing to sign"))?;
    let checkpoint = secs(started);
    ensure!(signed.tree_size as usize == before + EVENTS, "the checkpoint covers {} events", signed.tree_size);

    let started = Instant::now();
    let report = audit_verify::verify(&app, &ctx, None).await?;
    let verify = secs(started);
    ensure!(report.ok(), "the log does not verify: {:?}", report.findings.first());

    let started = Instant::now();
    let bundle = evidence::export_case(&app, &ctx, case_id).await?;
    let export = secs(started);
    let started = Instant::now();
    let checked = evidence::verify_zip(&bundle.bytes, None).map_err(|e| anyhow!("{e}"))?;
    let verify_bundle = secs(started);
    ensure!(checked.passed(), "the bundle does not verify");
    app.db.close().await;
    Ok(vec![
        backend.to_owned(),
        format!("{append:.1} s"),
        thousands((EVENTS as f64 / append) as usize),
        format!("{checkpoint:.2} s"),
        format!("{verify:.2} s"),
        format!("{export:.2} s ({} events)", bundle.events),
        format!("{:.0} KiB", bundle.bytes.len() as f64 / 1024.0),
        format!("{:.0} ms", verify_bundle * 1000.0),
    ])
}
