//! Revocation end to end against a real directory: the person's registered account is queued once per
//! request, the worker locks it in `slapd`, reads it back and records the evidence; the person can no longer
//! bind. A system that cannot be reached is retried, a wrong credential fails, and nothing is queued twice.

use crate::ldap::{ADMIN_DN, ADMIN_PW, POLICY, SUFFIX, ZHANG, ZHANG_PW, bind_rc, start};
use lizhi_app::cases::{Command, OpenCase};
use lizhi_app::connectors::ConnectorInput;
use lizhi_app::import::{self, NoProgress};
use lizhi_app::{App, Ctx};
use lizhi_connectors::access_worker::run_due;
use lizhi_connectors::clients::Clients;

/// A fresh database with a small demo company, on the given clock (the system's by default).
pub(crate) async fn seeded(clock: Option<std::sync::Arc<dyn lizhi_app::Clock>>) -> App {
    let url = lizhi_store::testing::fresh_database_url().await.expect("database");
    let app = App::open(&url, 4).await.expect("open");
    let app = match clock {
        Some(clock) => App::with_clock(app.db, clock),
        None => app,
    };
    for (kind, bytes) in lizhi_app::demo::demo_files(10) {
        import::run(&app, &Ctx::system("test"), kind, "seed.csv", &bytes, true, &NoProgress).await.expect("seed");
    }
    app
}

pub(crate) fn directory(url: &str, password: &str, order: i32) -> ConnectorInput {
    let settings = serde_json::json!({"url": url, "bind_dn": ADMIN_DN, "base_dn": SUFFIX, "flavor": "open_ldap",
        "ppolicy_dn": POLICY, "connect_timeout_ms": 2000, "op_timeout_ms": 2000});
    ConnectorInput {
        kind: "ldap".into(),
        name: "Directory".into(),
        settings: settings.as_object().cloned().unwrap_or_default(),
        secret: Some(password.into()),
        revoke_order: Some(order),
        enabled: Some(true),
    }
}

#[tokio::test]
async fn a_confirmed_departure_is_revoked_in_the_directory_and_verified() {
    let Some(slapd) = start().await else { return };
    let app = seeded(None).await;
    let ctx = Ctx::system("test");
    lizhi_app::connectors::put(&app, &ctx, "corp-ad", &directory(&slapd.url(), ADMIN_PW, 10)).await.expect("ad");
    lizhi_app::connectors::put(&app, &ctx, "old-ad", &directory("ldap://127.0.0.1:9/", ADMIN_PW, 20))
        .await
        .expect("dead");
    lizhi_app::connectors::put(&app, &ctx, "bad-ad", &directory(&slapd.url(), "wrong-password", 30))
        .await
        .expect("bad");
    let people = lizhi_app::people::list_employees(&app, &ctx, &Default::default()).await.expect("people");
    let no = people.items[0].employee_no.clone();
    for system in ["corp-ad", "old-ad", "bad-ad"] {
        lizhi_app::connectors::put_identity(&app, &ctx, &no, system, ZHANG, None).await.expect("identity");
    }
    let open =
        OpenCase { employee_no: no, case_type: "absconding".into(), first_absent_date: None, effective_on: None };
    let case = lizhi_app::cases::open(&app, &ctx, &open).await.expect("case");
    // Revocation waits for the confirmed departure; the reversible freeze does not.
    let early = lizhi_app::access::request(&app, &ctx, case, "revoke").await.expect_err("not confirmed yet");
    assert_eq!(early.code(), "invalid_input");
    for channel in ["phone", "phone", "wecom"] {
        let log =
            Command::LogContact { channel: channel.into(), outcome: "no_answer".into(), happened_at: None, note: None };
        lizhi_app::cases::act(&app, &ctx, case, &log).await.expect("contact");
    }
    // The confirmation queues the revocation of every account in its own transaction.
    lizhi_app::cases::act(&app, &ctx, case, &Command::ConfirmDeparture).await.expect("confirm");
    assert_eq!(lizhi_app::access::matrix(&app, &ctx, case).await.expect("matrix").len(), 3);
    assert_eq!(lizhi_app::access::request(&app, &ctx, case, "revoke").await.expect("again"), 0, "queued once");
    assert_eq!(bind_rc(slapd.port, ZHANG, ZHANG_PW).await, Some(0), "still active before the worker runs");

    // First run: only the first system in the revocation order is touched.
    let run = run_due(&app, &Clients::new()).await.expect("run");
    assert_eq!((run.completed, run.retried, run.failed), (1, 0, 0), "{run:?}");
    assert_eq!(bind_rc(slapd.port, ZHANG, ZHANG_PW).await, Some(49), "the bind is refused after the lock");
    let matrix = lizhi_app::access::matrix(&app, &ctx, case).await.expect("matrix");
    let ad = matrix.iter().find(|a| a.connector == "corp-ad" && a.intent == "revoke").expect("ad");
    assert_eq!(
        (ad.connector.as_str(), ad.status.as_str(), ad.verdict.as_deref()),
        ("corp-ad", "completed", Some("verified"))
    );
    assert!(ad.verified_at.is_some() && ad.evidence.as_deref().is_some_and(|e| e.contains("pwdAccountLockedTime")));
    assert!(!ad.evidence.as_deref().unwrap_or_default().contains(ADMIN_PW));
    // Second run: the unreachable directory is queued again; the third waits behind it.
    let run = run_due(&app, &Clients::new()).await.expect("run");
    assert_eq!((run.completed, run.retried, run.failed), (0, 1, 0), "{run:?}");
    let matrix = lizhi_app::access::matrix(&app, &ctx, case).await.expect("matrix");
    let row = |system: &str| matrix.iter().find(|a| a.connector == system && a.intent == "revoke").expect("row");
    assert_eq!((row("old-ad").status.as_str(), row("old-ad").attempts), ("queued", 1), "{:?}", row("old-ad"));
    assert!(row("old-ad").last_error.as_deref().is_some_and(|e| e.contains("retryable")), "{:?}", row("old-ad"));
    assert_eq!(row("bad-ad").attempts, 0, "not touched while an earlier system is pending");
    let checks: Vec<&str> = matrix.iter().filter(|a| a.intent == "verify_revoke").map(|a| a.status.as_str()).collect();
    assert_eq!(checks, ["queued", "queued"], "the revocation is checked again a day and a week later");
}

#[tokio::test]
async fn an_account_re_enabled_after_revocation_is_found_a_day_later_and_raises_the_alarm() {
    use lizhi_app::auth::NewUser;
    use lizhi_core::auth::{Grant, Role};
    let Some(slapd) = start().await else { return };
    let at = chrono::DateTime::parse_from_rfc3339("2026-03-06T10:00:00+08:00").expect("instant").to_utc();
    let clock = std::sync::Arc::new(lizhi_app::FixedClock::new(at));
    let app = seeded(Some(clock.clone())).await;
    let ctx = Ctx::system("test");
    let supervisor = NewUser {
        username: "sup".into(),
        display_name: String::new(),
        password: Some("correct horse battery".into()),
        grants: vec![Grant { role: Role::HrSupervisor, org_unit_id: None }],
    };
    let sup = lizhi_app::auth::create_user(&app, &ctx, supervisor).await.expect("supervisor").user.id;
    lizhi_app::connectors::put(&app, &ctx, "corp-ad", &directory(&slapd.url(), ADMIN_PW, 10)).await.expect("ad");
    let people = lizhi_app::people::list_employees(&app, &ctx, &Default::default()).await.expect("people");
    let no = people.items[0].employee_no.clone();
    lizhi_app::connectors::put_identity(&app, &ctx, &no, "corp-ad", ZHANG, None).await.expect("identity");
    let open = OpenCase {
        employee_no: no,
        case_type: "absconding".into(),
        first_absent_date: Some(chrono::NaiveDate::from_ymd_opt(2026, 3, 2).expect("date")),
        effective_on: None,
    };
    let case = lizhi_app::cases::open(&app, &ctx, &open).await.expect("case");
    assert_eq!(lizhi_app::access::request(&app, &ctx, case, "freeze").await.expect("freeze"), 1);
    assert_eq!(run_due(&app, &Clients::new()).await.expect("run").completed, 1);
    assert_eq!(bind_rc(slapd.port, ZHANG, ZHANG_PW).await, Some(49));
    // Someone unlocks the account in the directory behind Lizhi's back.
    let mut ldap = crate::ldap::admin(slapd.port).await;
    let unlock = vec![ldap3::Mod::Delete("pwdAccountLockedTime", std::collections::HashSet::new())];
    ldap.modify(ZHANG, unlock).await.expect("modify").success().expect("unlock");
    // Not yet due: nothing runs before a day has passed.
    let early = run_due(&app, &Clients::new()).await.expect("run");
    assert_eq!((early.completed, early.drifted), (0, 0), "{early:?}");
    clock.advance(chrono::Duration::hours(25));
    let later = run_due(&app, &Clients::new()).await.expect("run");
    assert_eq!(later.drifted, 1, "{later:?}");
    let matrix = lizhi_app::access::matrix(&app, &ctx, case).await.expect("matrix");
    let check = matrix.iter().find(|a| a.intent == "verify_freeze").expect("the day-later check");
    assert_eq!((check.status.as_str(), check.verdict.as_deref()), ("completed_with_errors", Some("not_revoked")));
    assert!(matrix.iter().any(|a| a.intent == "verify_freeze" && a.status == "queued"), "the week-later check waits");
    let supervisor = Ctx::user(lizhi_app::auth::principal_named(&app, "sup").await.expect("sup"), "t".into());
    let inbox = lizhi_app::reminders::inbox(&app, &supervisor, 50).await.expect("inbox");
    let alarm = inbox.iter().find(|m| m.kind == "access_drift" && m.case_id == Some(case)).expect("the alarm");
    let text = lizhi_app::reminders::message_text(lizhi_app::i18n::Locale::En, alarm);
    assert!(text.contains("corp-ad") && text.contains("active again"), "{text}");
    assert!(sup > 0);
}

#[tokio::test]
async fn the_access_checklist_item_closes_when_every_system_shows_the_revocation() {
    let Some(slapd) = start().await else { return };
    let app = seeded(None).await;
    let ctx = Ctx::system("test");
    lizhi_app::connectors::put(&app, &ctx, "corp-ad", &directory(&slapd.url(), ADMIN_PW, 10)).await.expect("ad");
    let people = lizhi_app::people::list_employees(&app, &ctx, &Default::default()).await.expect("people");
    let no = people.items[1].employee_no.clone();
    lizhi_app::connectors::put_identity(&app, &ctx, &no, "corp-ad", ZHANG, None).await.expect("identity");
    let open =
        OpenCase { employee_no: no, case_type: "absconding".into(), first_absent_date: None, effective_on: None };
    let case = lizhi_app::cases::open(&app, &ctx, &open).await.expect("case");
    for channel in ["phone", "sms", "wecom"] {
        let log =
            Command::LogContact { channel: channel.into(), outcome: "no_answer".into(), happened_at: None, note: None };
        lizhi_app::cases::act(&app, &ctx, case, &log).await.expect("contact");
    }
    lizhi_app::cases::act(&app, &ctx, case, &Command::ConfirmDeparture).await.expect("confirm");
    // The IT item of the generated checklist, written as the generator writes it.
    let item = lizhi_store::checklist::ItemRow {
        id: 0,
        case_id: case,
        position: 1,
        item_key: "revoke_access".into(),
        category: "access".into(),
        label: None,
        asset_id: None,
        owner_user_id: None,
        owner_role: Some("it".into()),
        due_rule: "{}".into(),
        due_on: None,
        after_termination_only: false,
        status: "open".into(),
        note: None,
        completed_at: None,
        completed_by: None,
    };
    let mut tx = app.db.begin().await.expect("tx");
    lizhi_store::checklist::insert(&mut tx.conn(), &[item]).await.expect("item");
    tx.commit().await.expect("commit");
    let mut conn = app.db.acquire().await.expect("conn");
    let item_id = lizhi_store::checklist::of_case(&mut conn.conn(), case).await.expect("items")[0].id;
    drop(conn);
    lizhi_app::access::request(&app, &ctx, case, "revoke").await.expect("revoke");
    let refused = lizhi_app::case_flow::update_item(&app, &ctx, item_id, "done", Some("looks done")).await;
    assert!(matches!(refused, Err(lizhi_app::AppError::Invalid { code: "access_not_verified", .. })), "{refused:?}");
    assert_eq!(run_due(&app, &Clients::new()).await.expect("run").completed, 1);
    let mut conn = app.db.acquire().await.expect("conn");
    let closed = lizhi_store::checklist::of_case(&mut conn.conn(), case).await.expect("items").remove(0);
    assert_eq!((closed.status.as_str(), closed.completed_by.as_deref()), ("done", Some("access-worker")), "{closed:?}");
    assert!(closed.note.as_deref().is_some_and(|n| n.contains("verified")), "{closed:?}");
}

#[tokio::test]
async fn someone_who_returns_before_confirmation_gets_the_frozen_account_back() {
    let Some(slapd) = start().await else { return };
    let at = chrono::DateTime::parse_from_rfc3339("2026-03-06T10:00:00+08:00").expect("instant").to_utc();
    let clock = std::sync::Arc::new(lizhi_app::FixedClock::new(at));
    let app = seeded(Some(clock.clone())).await;
    let ctx = Ctx::system("test");
    lizhi_app::connectors::put(&app, &ctx, "corp-ad", &directory(&slapd.url(), ADMIN_PW, 10)).await.expect("ad");
    let people = lizhi_app::people::list_employees(&app, &ctx, &Default::default()).await.expect("people");
    let no = people.items[2].employee_no.clone();
    lizhi_app::connectors::put_identity(&app, &ctx, &no, "corp-ad", ZHANG, None).await.expect("identity");
    let open =
        OpenCase { employee_no: no, case_type: "absconding".into(), first_absent_date: None, effective_on: None };
    let case = lizhi_app::cases::open(&app, &ctx, &open).await.expect("case");
    lizhi_app::access::request(&app, &ctx, case, "freeze").await.expect("freeze");
    assert_eq!(run_due(&app, &Clients::new()).await.expect("run").completed, 1);
    assert_eq!(bind_rc(slapd.port, ZHANG, ZHANG_PW).await, Some(49), "frozen");
    let back =
        Command::Resolve { resolution: "justified".into(), note: Some("hospital stay, certificate shown".into()) };
    lizhi_app::cases::act(&app, &ctx, case, &back).await.expect("returned");
    assert_eq!(run_due(&app, &Clients::new()).await.expect("run").completed, 1);
    assert_eq!(bind_rc(slapd.port, ZHANG, ZHANG_PW).await, Some(0), "the account works again");
    let matrix = lizhi_app::access::matrix(&app, &ctx, case).await.expect("matrix");
    assert!(matrix.iter().any(|a| a.intent == "unfreeze" && a.verdict.as_deref() == Some("verified")), "{matrix:?}");
    // The freeze's later re-checks were dropped: an account given back is not drift.
    clock.advance(chrono::Duration::days(8));
    let later = run_due(&app, &Clients::new()).await.expect("run");
    assert_eq!((later.completed, later.drifted), (0, 0), "{later:?}");
}
