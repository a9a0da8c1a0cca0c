//! "一处操作，全线响应" end to end with every peer: one confirmation cuts access in a real directory
//! (`slapd`), two SCIM apps (`scim2-server` tenants) and WeCom (the fake), verifies each by reading it back,
//! tells finance by a signed webhook and the manager and HR by WeCom cards (never the person), and creates
//! the door-access task. Lost answers cause no duplicate, a worker killed mid-action causes no second side
//! effect, and an account re-enabled behind Lizhi's back raises the alarm.

use crate::access::{directory, seeded};
use crate::ldap::{ADMIN_PW, ZHANG, ZHANG_PW, bind_rc};
use crate::scim::{ScimServer, TOKEN, create_user, get_user, raw_patch};
use crate::wecom_fake::{AGENT_ID, APP_SECRET, CONTACT_SECRET, CORP_ID, FakeWeCom};
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use lizhi_app::auth::NewUser;
use lizhi_app::cases::{Command, OpenCase};
use lizhi_app::connectors::ConnectorInput;
use lizhi_app::{App, Ctx, FixedClock};
use lizhi_connectors::clients::Clients;
use lizhi_connectors::{access_worker, deliveries};
use lizhi_core::auth::{Grant, Role};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub(crate) const HOOK_SECRET: &str = "finance-hook-signing-key-0001";

/// One request the webhook receiver got.
#[derive(Debug, Clone)]
pub(crate) struct Received {
    pub event: String,
    pub delivery: String,
    pub signed: bool,
    pub body: Value,
}

/// A finance system's webhook endpoint: checks the signature as docs/webhooks.md tells receivers to, keeps
/// every request, and can answer the first one too late (the sender gives up: a lost response).
pub(crate) struct HookReceiver {
    pub url: String,
    pub received: Arc<Mutex<Vec<Received>>>,
    pub answer_late_once: Arc<AtomicBool>,
}

impl HookReceiver {
    pub(crate) async fn start() -> HookReceiver {
        let received: Arc<Mutex<Vec<Received>>> = Arc::default();
        let answer_late_once: Arc<AtomicBool> = Arc::default();
        let (log, late) = (received.clone(), answer_late_once.clone());
        let handler = move |headers: HeaderMap, body: Bytes| {
            let (log, late) = (log.clone(), late.clone());
            async move {
                let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
                let text = String::from_utf8_lossy(&body).into_owned();
                let timestamp: i64 = header("x-lizhi-timestamp").parse().unwrap_or(0);
                let expected = lizhi_connectors::webhook::signature(HOOK_SECRET.as_bytes(), timestamp, &text);
                log.lock().expect("log").push(Received {
                    event: header("x-lizhi-event"),
                    delivery: header("x-lizhi-delivery"),
                    signed: expected == header("x-lizhi-signature"),
                    body: serde_json::from_str(&text).unwrap_or(Value::Null),
                });
                if late.swap(false, Ordering::SeqCst) {
                    tokio::time::sleep(Duration::from_millis(2500)).await;
                }
                (StatusCode::OK, "ok")
            }
        };
        let router = axum::Router::new().route("/hook", axum::routing::post(handler));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
        tokio::spawn(async move { axum::serve(listener, router).await });
        HookReceiver { url, received, answer_late_once }
    }

    pub(crate) fn of_event(&self, event: &str) -> Vec<Received> {
        self.received.lock().expect("log").iter().filter(|r| r.event == event).cloned().collect()
    }
}

pub(crate) fn input(kind: &str, name: &str, settings: Value, secret: Option<&str>, order: i32) -> ConnectorInput {
    ConnectorInput {
        kind: kind.into(),
        name: name.into(),
        settings: settings.as_object().cloned().unwrap_or_default(),
        secret: secret.map(str::to_owned),
        revoke_order: Some(order),
        enabled: Some(true),
    }
}

pub(crate) fn wecom_input(fake: &FakeWeCom, order: i32) -> ConnectorInput {
    let secret = json!({"contact_sync_secret": CONTACT_SECRET, "app_secret": APP_SECRET}).to_string();
    let settings =
        json!({"corp_id": CORP_ID, "agent_id": AGENT_ID, "base_url": fake.target().base_url, "timeout_secs": 1});
    input("wecom", "WeCom", settings, Some(&secret), order)
}

/// Runs both workers until nothing is left to do soon, moving the clock over retry backoffs.
pub(crate) async fn drain(app: &App, clients: &Clients, clock: &FixedClock) {
    let mut idle = 0;
    for _ in 0..60 {
        let access = access_worker::run_due(app, clients).await.expect("access worker");
        let sent = deliveries::run_due(app, clients).await.expect("delivery worker");
        if access == Default::default() && sent == Default::default() {
            idle += 1;
            if idle == 4 {
                return;
            }
            clock.advance(chrono::Duration::minutes(3));
        } else {
            idle = 0;
        }
    }
    panic!("the workers never ran out of work");
}

struct World {
    _slapd: crate::ldap::Slapd,
    scim: ScimServer,
    fake: FakeWeCom,
    hook: HookReceiver,
    app: App,
    clock: Arc<FixedClock>,
    ctx: Ctx,
    /// The absconding employee, their manager, and the HR supervisor's own employee record.
    person: String,
    manager: String,
}

async fn world() -> Option<World> {
    let slapd = crate::ldap::start().await?;
    let scim = crate::scim::start()?;
    let fake = FakeWeCom::start().await;
    let hook = HookReceiver::start().await;
    let at = chrono::DateTime::parse_from_rfc3339("2026-03-06T10:00:00+08:00").expect("instant").to_utc();
    let clock = Arc::new(FixedClock::new(at));
    let mut app = seeded(Some(clock.clone())).await;
    app.public_url = Some("https://hr.example.com".into());
    let ctx = Ctx::system("test");
    let put = |code: &'static str, input: ConnectorInput| {
        let (app, ctx) = (app.clone(), ctx.clone());
        async move { lizhi_app::connectors::put(&app, &ctx, code, &input).await.expect(code) }
    };
    put("corp-ad", directory(&slapd.url(), ADMIN_PW, 10)).await;
    let scim_settings = |tenant: &str| json!({"base_url": scim.base(tenant), "timeout_secs": 2});
    // The server's two tenants, "crm" and "wiki", are the two SaaS apps.
    put("app-a", input("scim", "App A", scim_settings("crm"), Some(TOKEN), 20)).await;
    put("app-b", input("scim", "App B", scim_settings("wiki"), Some(TOKEN), 20)).await;
    put("wecom", wecom_input(&fake, 90)).await;
    put(
        "door",
        input("manual", "Door access", json!({"owner": "facility", "instructions": "Block the badge"}), None, 30),
    )
    .await;
    let hook_settings = json!({"url": hook.url, "timeout_secs": 1});
    put("finance", input("webhook", "Payroll", hook_settings, Some(HOOK_SECRET), 40)).await;
    // The person has a line manager; an HR supervisor is another employee with a Lizhi account.
    let people = lizhi_app::people::list_employees(&app, &ctx, &Default::default()).await.expect("people");
    let person = people.items.iter().find(|e| e.manager_no.is_some()).expect("someone with a manager");
    let manager = person.manager_no.clone().expect("manager");
    let hr = people.items.iter().find(|e| e.employee_no != person.employee_no && e.employee_no != manager).expect("hr");
    for (username, role, employee) in
        [("sup", Role::HrSupervisor, Some(hr.employee_no.as_str())), ("facility", Role::Facilities, None)]
    {
        let new = NewUser {
            username: username.into(),
            display_name: username.into(),
            password: Some("correct horse battery".into()),
            grants: vec![Grant { role, org_unit_id: None }],
        };
        let user = lizhi_app::auth::create_user(&app, &ctx, new).await.expect("user").user;
        lizhi_app::auth::link_employee(&app, &ctx, user.id, employee).await.expect("link");
    }
    let identities = [
        (person.employee_no.as_str(), "corp-ad", ZHANG.to_owned()),
        (person.employee_no.as_str(), "app-a", create_user(&scim.base("crm"), "zhangsan").await),
        (person.employee_no.as_str(), "app-b", create_user(&scim.base("wiki"), "zhangsan").await),
        (person.employee_no.as_str(), "wecom", "ZhangSan".to_owned()),
        (person.employee_no.as_str(), "door", "badge-1001".to_owned()),
        (manager.as_str(), "wecom", "manager01".to_owned()),
        (hr.employee_no.as_str(), "wecom", "hrsup01".to_owned()),
    ];
    for (no, system, account) in identities {
        lizhi_app::connectors::put_identity(&app, &ctx, no, system, &account, None).await.expect("identity");
    }
    for (userid, name) in [("zhangsan", "张三"), ("manager01", "经理"), ("hrsup01", "人事主管")] {
        fake.add_member(userid, name);
    }
    let person = person.employee_no.clone();
    Some(World { _slapd: slapd, scim, fake, hook, app, clock, ctx, person, manager })
}

async fn confirmed_case(w: &World) -> i64 {
    let open = OpenCase {
        employee_no: w.person.clone(),
        case_type: "absconding".into(),
        first_absent_date: None,
        effective_on: None,
    };
    let case = lizhi_app::cases::open(&w.app, &w.ctx, &open).await.expect("case");
    for channel in ["phone", "sms", "wecom"] {
        let log =
            Command::LogContact { channel: channel.into(), outcome: "no_answer".into(), happened_at: None, note: None };
        lizhi_app::cases::act(&w.app, &w.ctx, case, &log).await.expect("contact");
    }
    lizhi_app::cases::act(&w.app, &w.ctx, case, &Command::ConfirmDeparture).await.expect("confirm");
    case
}

fn account(matrix: &[lizhi_store::access::ActionView], system: &str) -> String {
    matrix.iter().find(|a| a.connector == system).expect(system).account_id.clone()
}

#[tokio::test]
async fn one_confirmation_revokes_verifies_and_tells_everyone_once() {
    let Some(w) = world().await else { return };
    let clients = Clients::new();
    // Testing the webhook sends a signed ping.
    let tested = clients.get(&w.app, "finance").await.expect("client").test_connection().await.expect("ping");
    assert!(tested.contains("200"), "{tested}");
    assert!(w.hook.of_event("ping").iter().all(|r| r.signed) && w.hook.of_event("ping").len() == 1);
    // WeCom's answer to the first card and the finance system's first answer are lost.
    w.fake.lose_next_response("message/send", Duration::from_millis(2500));
    w.hook.answer_late_once.store(true, Ordering::SeqCst);
    let case = confirmed_case(&w).await;
    drain(&w.app, &clients, &w.clock).await;

    // Every system: done, read back and verified, with evidence.
    let matrix = lizhi_app::access::matrix(&w.app, &w.ctx, case).await.expect("matrix");
    let revokes: Vec<_> = matrix.iter().filter(|a| a.intent == "revoke").collect();
    assert_eq!(revokes.len(), 4, "directory, two apps, WeCom: {matrix:?}");
    for action in &revokes {
        assert_eq!((action.status.as_str(), action.verdict.as_deref()), ("completed", Some("verified")), "{action:?}");
        assert!(action.evidence.as_deref().is_some_and(|e| e.len() > 10 && !e.contains(TOKEN)), "{action:?}");
    }
    assert_eq!(bind_rc(w._slapd.port, ZHANG, ZHANG_PW).await, Some(49), "the directory refuses the bind");
    for (tenant, system) in [("crm", "app-a"), ("wiki", "app-b")] {
        let (_, user) = get_user(&w.scim.base(tenant), &account(&matrix, system)).await;
        assert_eq!(user["active"], json!(false), "{tenant}: {user}");
    }
    assert_eq!(w.fake.status("zhangsan"), Some(2), "WeCom member disabled");

    // Finance got the confirmation once (the retry after the lost answer has the same delivery id), signed.
    let confirmed = w.hook.of_event("employee.departure_confirmed");
    assert!(!confirmed.is_empty() && confirmed.iter().all(|r| r.signed), "{confirmed:?}");
    let ids: std::collections::HashSet<&str> = confirmed.iter().map(|r| r.delivery.as_str()).collect();
    assert_eq!(ids.len(), 1, "one event, possibly delivered twice under one id: {confirmed:?}");
    assert_eq!(confirmed[0].body["data"]["employee_no"], json!(w.person));
    assert!(w.hook.of_event("pay.stop_requested").is_empty(), "pay stops only once termination is effective");

    // The manager and HR were told once, although WeCom's first answer was lost; the person never.
    assert_eq!(w.fake.delivered("manager01"), 1, "{:?}", w.fake.titles("manager01"));
    assert_eq!(w.fake.delivered("hrsup01"), 1);
    assert_eq!(w.fake.delivered("zhangsan"), 0, "an absconding employee is not messaged");
    assert!(w.fake.calls("message/send") >= 2 && w.fake.duplicates() >= 1, "the retry was deduplicated by WeCom");
    // The case page's "who was told": one card for both (they read Chinese), one event for finance.
    let told = lizhi_app::outbox::of_case(&w.app, &w.ctx, case).await.expect("told");
    let card = told.iter().find(|t| t.channel == "wecom").expect("the card");
    assert_eq!(
        (card.event.as_str(), card.recipients, card.status.as_str()),
        ("employee.departure_confirmed", 2, "completed")
    );
    let hook = told.iter().find(|t| t.channel == "webhook").expect("the event");
    assert_eq!((hook.target.as_str(), hook.recipients), ("finance", 1));

    // The door has no API: a task for facilities, closed only with written evidence.
    let mut conn = w.app.db.acquire().await.expect("conn");
    let items = lizhi_store::checklist::of_case(&mut conn.conn(), case).await.expect("items");
    drop(conn);
    let door = items.iter().find(|i| i.item_key == "manual_access").expect("door task");
    assert_eq!(door.label.as_deref(), Some("Door access: badge-1001"));
    let facility = Ctx::user(lizhi_app::auth::principal_named(&w.app, "facility").await.expect("facility"), "t".into());
    let bare = lizhi_app::case_flow::update_item(&w.app, &facility, door.id, "done", None).await;
    assert!(matches!(bare, Err(lizhi_app::AppError::Invalid { code: "evidence_required", .. })), "{bare:?}");
    lizhi_app::case_flow::update_item(
        &w.app,
        &facility,
        door.id,
        "done",
        Some("badge 1001 blocked in the door system"),
    )
    .await
    .expect("done with evidence");

    // Someone re-enables the account in App A: the day-later check raises the alarm.
    let app_a = w.scim.base("crm");
    let id = account(&matrix, "app-a");
    let (_, user) = get_user(&app_a, &id).await;
    let version = user["meta"]["version"].as_str().unwrap_or("*").to_owned();
    let reenabled = raw_patch(&app_a, &id, json!({"op": "replace", "path": "active", "value": true}), &version).await;
    assert!(matches!(reenabled, 200 | 204), "{reenabled}");
    w.clock.advance(chrono::Duration::hours(25));
    let run = access_worker::run_due(&w.app, &clients).await.expect("re-verify");
    assert_eq!(run.drifted, 1, "{run:?}");
    let sup = Ctx::user(lizhi_app::auth::principal_named(&w.app, "sup").await.expect("sup"), "t".into());
    let inbox = lizhi_app::reminders::inbox(&w.app, &sup, 50).await.expect("inbox");
    assert!(inbox.iter().any(|m| m.kind == "access_drift" && m.case_id == Some(case)), "{inbox:?}");
    assert!(!w.manager.is_empty());
}

#[tokio::test]
async fn a_worker_killed_between_the_call_and_the_commit_does_not_repeat_the_effect() {
    let Some(w) = world().await else { return };
    // WeCom at the same step as the apps, so one claim takes both.
    lizhi_app::connectors::put(&w.app, &w.ctx, "wecom", &wecom_input(&w.fake, 20)).await.expect("wecom");
    // The directory is left out of this run (it is not what is tested here).
    let mut directory_off = directory("ldap://127.0.0.1:9/", ADMIN_PW, 10);
    directory_off.enabled = Some(false);
    lizhi_app::connectors::put(&w.app, &w.ctx, "corp-ad", &directory_off).await.expect("directory off");
    let case = confirmed_case(&w).await;
    let app_b = w.scim.base("wiki");
    let matrix = lizhi_app::access::matrix(&w.app, &w.ctx, case).await.expect("matrix");
    let scim_id = account(&matrix, "app-b");
    let (_, before) = get_user(&app_b, &scim_id).await;
    let version_before = before["meta"]["version"].clone();

    // A worker claims the actions, performs them in the systems… and dies before recording anything.
    let now = w.app.clock.now();
    let mut tx = w.app.db.begin().await.expect("tx");
    let claimed =
        lizhi_store::access::claim(&mut tx.conn(), 20, now, now + chrono::Duration::minutes(5)).await.expect("claim");
    tx.commit().await.expect("commit");
    let clients = Clients::new();
    for action in claimed.iter().filter(|a| a.connector == "app-b" || a.connector == "wecom") {
        let client = clients.get(&w.app, &action.connector).await.expect("client");
        client.apply(lizhi_connectors::access::Intent::Revoke, &action.account_id).await.expect("the effect lands");
    }
    let (_, after_crash) = get_user(&app_b, &scim_id).await;
    assert_ne!(after_crash["meta"]["version"], version_before, "the PATCH landed");
    let updates_after_crash = w.fake.calls("user/update");
    assert_eq!(updates_after_crash, 1);

    // The lease runs out; another worker takes over, reads back first and finds the work done.
    w.clock.advance(chrono::Duration::minutes(6));
    drain(&w.app, &clients, &w.clock).await;
    let (_, after) = get_user(&app_b, &scim_id).await;
    assert_eq!(after["meta"]["version"], after_crash["meta"]["version"], "the ETag moved once");
    assert_eq!(w.scim.patch_statuses("wiki", &scim_id, 1).len(), 1, "one PATCH in the server's log");
    assert_eq!(w.fake.calls("user/update"), updates_after_crash, "WeCom was not asked again");
    let matrix = lizhi_app::access::matrix(&w.app, &w.ctx, case).await.expect("matrix");
    for system in ["app-a", "app-b", "wecom"] {
        let action = matrix.iter().find(|a| a.connector == system && a.intent == "revoke").expect(system);
        assert_eq!((action.status.as_str(), action.verdict.as_deref()), ("completed", Some("verified")), "{action:?}");
    }
}

#[tokio::test]
async fn wecom_check_ins_become_punches_once_and_missed_ones_do_not() {
    let fake = FakeWeCom::start().await;
    let app = seeded(None).await;
    let ctx = Ctx::system("test");
    let mut settings = wecom_input(&fake, 90);
    settings.settings.insert("checkin_sync".into(), json!(true));
    lizhi_app::connectors::put(&app, &ctx, "wecom", &settings).await.expect("wecom");
    let people = lizhi_app::people::list_employees(&app, &ctx, &Default::default()).await.expect("people");
    let (first, second) = (people.items[0].employee_no.clone(), people.items[1].employee_no.clone());
    lizhi_app::connectors::put_identity(&app, &ctx, &first, "wecom", "ZhangSan", None).await.expect("identity");
    lizhi_app::connectors::put_identity(&app, &ctx, &second, "wecom", "lisi", None).await.expect("identity");
    // 2026-03-06 09:00 and 18:00 in Beijing; someone nobody registered; a day outside the period.
    let morning = 1_772_758_800;
    fake.seed_checkin("zhangsan", "上班打卡", morning);
    fake.seed_checkin("zhangsan", "下班打卡", morning + 9 * 3600);
    fake.seed_checkin("lisi", "上班打卡", morning + 60);
    fake.seed_checkin("stranger", "上班打卡", morning);
    fake.seed_checkin("zhangsan", "上班打卡", morning - 40 * 86_400);
    let day = chrono::NaiveDate::from_ymd_opt(2026, 3, 6).expect("day");
    let clients = Clients::new();
    let report = lizhi_connectors::checkins::sync(&app, &ctx, &clients, "wecom", day, day).await.expect("sync");
    assert_eq!((report.employees, report.import.created), (2, 3), "{report:?}");
    let again = lizhi_connectors::checkins::sync(&app, &ctx, &clients, "wecom", day, day).await.expect("again");
    assert_eq!(again.import.created, 0, "importing again changes nothing: {again:?}");
    let mut conn = app.db.acquire().await.expect("conn");
    let punches = lizhi_store::attendance::punches_between(
        &mut conn.conn(),
        day.pred_opt().expect("d"),
        day.succ_opt().expect("d"),
    )
    .await
    .expect("punches");
    assert_eq!(punches.len(), 3, "{punches:?}");
    assert!(punches.iter().all(|p| p.source.starts_with("wecom-")), "{punches:?}");
    // One call covered both users and the day; a span beyond 92 days is refused before any call.
    assert_eq!(fake.checkin_requests().len(), 2, "{:?}", fake.checkin_requests());
    let far = day + chrono::Duration::days(120);
    assert!(lizhi_connectors::checkins::sync(&app, &ctx, &clients, "wecom", day, far).await.is_err());
}

#[tokio::test]
async fn a_card_some_recipients_cannot_get_is_delivered_with_errors_that_name_them() {
    let Some(w) = world().await else { return };
    w.fake.set_unlicensed("hrsup01");
    let case = confirmed_case(&w).await;
    drain(&w.app, &Clients::new(), &w.clock).await;
    assert_eq!((w.fake.delivered("manager01"), w.fake.delivered("hrsup01")), (1, 0));
    let filter = lizhi_app::outbox::DeliveryFilter {
        case_id: Some(case),
        channel: Some("wecom".into()),
        limit: 10,
        ..Default::default()
    };
    let rows = lizhi_app::outbox::list(&w.app, &w.ctx, &filter).await.expect("outbox");
    let card = rows.iter().find(|r| r.idempotency_key.contains("departure_confirmed")).expect("the card");
    assert_eq!(card.status, "completed_with_errors", "{card:?}");
    assert!(card.last_error.as_deref().is_some_and(|e| e.contains("hrsup01")), "{card:?}");
    assert!(card.evidence.as_deref().is_some_and(|e| e.contains("unlicensed_users")), "{card:?}");
}

#[tokio::test]
async fn on_postgresql_a_commit_on_one_instance_wakes_the_worker_of_another() {
    let url = lizhi_store::testing::fresh_database_url().await.expect("database");
    if !url.starts_with("postgres") {
        return; // SQLite has one instance; its own commits wake its worker directly.
    }
    let hook = HookReceiver::start().await;
    let first = App::open(&url, 4).await.expect("first instance");
    let ctx = Ctx::system("test");
    for (kind, bytes) in lizhi_app::demo::demo_files(10) {
        lizhi_app::import::run(&first, &ctx, kind, "seed.csv", &bytes, true, &lizhi_app::import::NoProgress)
            .await
            .expect("seed");
    }
    let settings = json!({"url": hook.url, "timeout_secs": 2});
    lizhi_app::connectors::put(&first, &ctx, "finance", &input("webhook", "Payroll", settings, Some(HOOK_SECRET), 40))
        .await
        .expect("webhook");
    // The second instance's worker ticks once an hour: only the notification can wake it in time.
    // Instances share the database and the instance secret (which opens the connectors' secrets).
    let mut second = App::open(&url, 4).await.expect("second instance");
    second.secret = first.secret.clone();
    let worker = tokio::spawn(lizhi_connectors::worker::run(second, Default::default(), Duration::from_secs(3600)));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let people = lizhi_app::people::list_employees(&first, &ctx, &Default::default()).await.expect("people");
    let open = OpenCase {
        employee_no: people.items[0].employee_no.clone(),
        case_type: "absconding".into(),
        first_absent_date: None,
        effective_on: None,
    };
    let case = lizhi_app::cases::open(&first, &ctx, &open).await.expect("case");
    for channel in ["phone", "sms", "wecom"] {
        let log =
            Command::LogContact { channel: channel.into(), outcome: "no_answer".into(), happened_at: None, note: None };
        lizhi_app::cases::act(&first, &ctx, case, &log).await.expect("contact");
    }
    lizhi_app::cases::act(&first, &ctx, case, &Command::ConfirmDeparture).await.expect("confirm");
    let started = std::time::Instant::now();
    while hook.of_event("employee.departure_confirmed").is_empty() && started.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    worker.abort();
    assert_eq!(hook.of_event("employee.departure_confirmed").len(), 1, "delivered by the other instance's worker");
}

#[tokio::test]
async fn a_pressed_approval_card_is_updated_once_with_the_press_code() {
    let fake = FakeWeCom::start().await;
    let app = seeded(None).await;
    let ctx = Ctx::system("test");
    lizhi_app::connectors::put(&app, &ctx, "wecom", &wecom_input(&fake, 90)).await.expect("wecom");
    fake.add_member("manager01", "经理");
    let code = fake.press("Manager01");
    let update = lizhi_app::events::CardUpdate {
        connector: "wecom".into(),
        userid: "Manager01".into(),
        response_code: code.clone(),
        replace_name: "已同意".into(),
    };
    assert!(lizhi_app::wecom_approvals::queue_card_update(&app, &update, None).await.expect("queued"));
    assert!(!lizhi_app::wecom_approvals::queue_card_update(&app, &update, None).await.expect("once"), "one per code");
    let clients = Clients::new();
    assert_eq!(deliveries::run_due(&app, &clients).await.expect("run").delivered, 1);
    assert_eq!(fake.card_updates(), [("manager01".to_owned(), "已同意".to_owned())]);
    // A code WeCom does not know (used, expired) is refused and not retried.
    let stale = lizhi_app::events::CardUpdate { response_code: "rc-unknown".into(), ..update };
    lizhi_app::wecom_approvals::queue_card_update(&app, &stale, None).await.expect("queued");
    let run = deliveries::run_due(&app, &clients).await.expect("run");
    assert_eq!((run.delivered, run.failed), (0, 1), "{run:?}");
    assert_eq!(fake.card_updates().len(), 1);
}
