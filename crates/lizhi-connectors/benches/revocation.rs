//! Benchmark: from "departure confirmed" to "revoked and verified" in a real directory (`slapd`), two SCIM
//! apps (`scim2-server` tenants) and WeCom (the test suite's fake), through the outbox and the worker loop
//! `lizhi serve` runs; then the outbox's throughput for webhook deliveries. Prints numbers; asserts
//! nothing about speed. Run: `cargo bench -p lizhi-connectors` (needs the peers CI installs; set
//! `LIZHI_TEST_DATABASE_URL` to measure on PostgreSQL).

#[allow(dead_code, unused_imports)]
#[path = "../tests/connectors/ldap.rs"]
mod ldap;
#[allow(dead_code, unused_imports)]
#[path = "../tests/connectors/scim.rs"]
mod scim;
#[allow(dead_code, unused_imports)]
#[path = "../tests/connectors/wecom_fake.rs"]
mod wecom_fake;

use lizhi_app::cases::{Command, OpenCase};
use lizhi_app::connectors::ConnectorInput;
use lizhi_app::import::{self, NoProgress};
use lizhi_app::{App, Ctx};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::time::{Duration, Instant};

const CASES: usize = 100;
const DELIVERIES: usize = 2000;

fn input(kind: &str, settings: Value, secret: Option<&str>, order: i32) -> ConnectorInput {
    ConnectorInput {
        kind: kind.into(),
        name: kind.into(),
        settings: settings.as_object().cloned().unwrap_or_default(),
        secret: secret.map(str::to_owned),
        revoke_order: Some(order),
        enabled: Some(true),
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// Waits until the case's four revocations are completed and verified.
async fn verified(app: &App, ctx: &Ctx, case: i64) {
    loop {
        let matrix = lizhi_app::access::matrix(app, ctx, case).await.expect("matrix");
        let done = matrix
            .iter()
            .filter(|a| a.intent == "revoke" && a.status == "completed" && a.verdict.as_deref() == Some("verified"))
            .count();
        if done == 4 {
            return;
        }
        if let Some(bad) = matrix.iter().find(|a| matches!(a.status.as_str(), "failed" | "completed_with_errors")) {
            panic!("case {case}: {bad:?}");
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let Some(slapd) = ldap::start().await else { return };
    let Some(scim) = scim::start() else { return };
    let fake = wecom_fake::FakeWeCom::start().await;
    let url = lizhi_store::testing::fresh_database_url().await.expect("database");
    let backend = if url.starts_with("postgres") { "PostgreSQL" } else { "SQLite" };
    let mut app = App::open(&url, 8).await.expect("open");
    app.public_url = Some("https://hr.example.com".into());
    let ctx = Ctx::system("bench");
    for (kind, bytes) in lizhi_app::demo::demo_files(CASES + 40) {
        import::run(&app, &ctx, kind, "seed.csv", &bytes, true, &NoProgress).await.expect("seed");
    }
    let directory = json!({"url": slapd.url(), "bind_dn": ldap::ADMIN_DN, "base_dn": ldap::SUFFIX,
        "flavor": "open_ldap", "ppolicy_dn": ldap::POLICY});
    let wecom_secret = json!({"contact_sync_secret": wecom_fake::CONTACT_SECRET, "app_secret": wecom_fake::APP_SECRET});
    let wecom =
        json!({"corp_id": wecom_fake::CORP_ID, "agent_id": wecom_fake::AGENT_ID, "base_url": fake.target().base_url});
    let connectors = [
        ("corp-ad", input("ldap", directory, Some(ldap::ADMIN_PW), 10)),
        ("crm", input("scim", json!({"base_url": scim.base("crm")}), Some(scim::TOKEN), 20)),
        ("wiki", input("scim", json!({"base_url": scim.base("wiki")}), Some(scim::TOKEN), 20)),
        ("wecom", input("wecom", wecom, Some(&wecom_secret.to_string()), 90)),
    ];
    for (code, input) in &connectors {
        lizhi_app::connectors::put(&app, &ctx, code, input).await.expect(code);
    }

    // The accounts: one person per case in every system, registered in Lizhi.
    let people = lizhi_app::people::list_employees(&app, &ctx, &Default::default()).await.expect("people");
    let nos: Vec<String> = people.items.iter().take(CASES).map(|e| e.employee_no.clone()).collect();
    let mut directory = ldap::admin(slapd.port).await;
    lizhi_app::install_tls_provider();
    let http = reqwest::Client::new();
    for (i, no) in nos.iter().enumerate() {
        let uid = format!("bench{i:03}");
        let dn = format!("uid={uid},ou=people,{}", ldap::SUFFIX);
        let attrs: Vec<(&str, HashSet<&str>)> = vec![
            ("objectClass", HashSet::from(["inetOrgPerson"])),
            ("uid", HashSet::from([uid.as_str()])),
            ("cn", HashSet::from([uid.as_str()])),
            ("sn", HashSet::from(["bench"])),
            ("userPassword", HashSet::from(["bench-Pass-0001"])),
        ];
        directory.add(&dn, attrs).await.expect("add").success().expect("added");
        lizhi_app::connectors::put_identity(&app, &ctx, no, "corp-ad", &dn, None).await.expect("identity");
        for tenant in ["crm", "wiki"] {
            let body =
                json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": uid, "active": true});
            let created: Value = http
                .post(format!("{}/Users", scim.base(tenant)))
                .bearer_auth(scim::TOKEN)
                .header("content-type", "application/scim+json")
                .body(body.to_string())
                .send()
                .await
                .expect("create")
                .json()
                .await
                .expect("json");
            let id = created["id"].as_str().expect("id");
            lizhi_app::connectors::put_identity(&app, &ctx, no, tenant, id, None).await.expect("identity");
        }
        fake.add_member(&uid, &uid);
        lizhi_app::connectors::put_identity(&app, &ctx, no, "wecom", &uid, None).await.expect("identity");
    }
    let _ = directory.unbind().await;
    let mut cases = Vec::new();
    for no in &nos {
        let open = OpenCase {
            employee_no: no.clone(),
            case_type: "absconding".into(),
            first_absent_date: None,
            effective_on: None,
        };
        let case = lizhi_app::cases::open(&app, &ctx, &open).await.expect("case");
        for channel in ["phone", "sms", "wecom"] {
            let log = Command::LogContact {
                channel: channel.into(),
                outcome: "no_answer".into(),
                happened_at: None,
                note: None,
            };
            lizhi_app::cases::act(&app, &ctx, case, &log).await.expect("contact");
        }
        cases.push(case);
    }

    // The worker loop of `lizhi serve`, woken by each confirmation.
    let worker = tokio::spawn(lizhi_connectors::worker::run(app.clone(), Default::default(), Duration::from_secs(5)));
    let mut latencies = Vec::new();
    for case in &cases {
        let started = Instant::now();
        lizhi_app::cases::act(&app, &ctx, *case, &Command::ConfirmDeparture).await.expect("confirm");
        verified(&app, &ctx, *case).await;
        latencies.push(started.elapsed());
    }
    latencies.sort();
    println!("revocation benchmark on {backend}, 2 SCIM tenants + slapd + WeCom fake, {CASES} cases one after another");
    println!(
        "  confirm -> revoked and verified in 4 systems: p50 {}, p90 {}, p99 {}, max {}",
        ms(percentile(&latencies, 0.5)),
        ms(percentile(&latencies, 0.9)),
        ms(percentile(&latencies, 0.99)),
        ms(latencies[latencies.len() - 1])
    );

    // Outbox throughput: webhook events to a local endpoint, queued at once, delivered by the same loop.
    let received = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = received.clone();
    let router = axum::Router::new().route(
        "/hook",
        axum::routing::post(move || {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let hook = format!("http://{}/hook", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, router).await });
    lizhi_app::connectors::put(
        &app,
        &ctx,
        "payroll",
        &input("webhook", json!({"url": hook}), Some("bench-signing-key-0001"), 40),
    )
    .await
    .expect("webhook");
    let body = json!({"id": "x", "type": "employee.terminated", "occurred_at": "2026-11-28T00:00:00Z",
        "data": {"case_id": 1, "case_type": "absconding", "state": "terminated", "employee_no": "E1",
        "employee_name": "x", "legal_entity": "CN", "org_unit": "CN-RD", "effective_on": null}})
    .to_string();
    let now = app.clock.now();
    let mut tx = app.db.begin().await.expect("tx");
    for i in 0..DELIVERIES {
        lizhi_store::outbox::enqueue(&mut tx.conn(), "webhook", &format!("bench:{i}"), "payroll", &body, now)
            .await
            .expect("enqueue");
    }
    tx.commit().await.expect("commit");
    let started = Instant::now();
    app.outbox_signal.notify_one();
    while received.load(std::sync::atomic::Ordering::Relaxed) < DELIVERIES {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let elapsed = started.elapsed();
    println!(
        "  outbox: {DELIVERIES} signed webhook deliveries in {} ({:.0}/s, each logged with its answer)",
        ms(elapsed),
        DELIVERIES as f64 / elapsed.as_secs_f64()
    );
    worker.abort();
}
