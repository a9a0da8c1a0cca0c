//! Revocation end to end against a real directory: the person's registered account is queued once per
//! request, the worker locks it in `slapd`, reads it back and records the evidence; the person can no longer
//! bind. A system that cannot be reached is retried, a wrong credential fails, and nothing is queued twice.

use crate::ldap::{ADMIN_DN, ADMIN_PW, POLICY, SUFFIX, ZHANG, ZHANG_PW, bind_rc, start};
use lizhi_app::cases::{Command, OpenCase};
use lizhi_app::connectors::ConnectorInput;
use lizhi_app::import::{self, NoProgress};
use lizhi_app::{App, Ctx};
use lizhi_connectors::access_worker::run_due;

fn directory(url: &str, password: &str, order: i32) -> ConnectorInput {
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
    let url = lizhi_store::testing::fresh_database_url().await.expect("database");
    let app = App::open(&url, 4).await.expect("open");
    let ctx = Ctx::system("test");
    for (kind, bytes) in lizhi_app::demo::demo_files(10) {
        import::run(&app, &ctx, kind, "seed.csv", &bytes, true, &NoProgress).await.expect("seed");
    }
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
    lizhi_app::cases::act(&app, &ctx, case, &Command::ConfirmDeparture).await.expect("confirm");
    assert_eq!(lizhi_app::access::request(&app, &ctx, case, "revoke").await.expect("revoke"), 3);
    assert_eq!(lizhi_app::access::request(&app, &ctx, case, "revoke").await.expect("again"), 0, "queued once");
    assert_eq!(bind_rc(slapd.port, ZHANG, ZHANG_PW).await, Some(0), "still active before the worker runs");

    // First run: only the first system in the revocation order is touched.
    let run = run_due(&app).await.expect("run");
    assert_eq!((run.completed, run.retried, run.failed), (1, 0, 0), "{run:?}");
    assert_eq!(bind_rc(slapd.port, ZHANG, ZHANG_PW).await, Some(49), "the bind is refused after the lock");
    let matrix = lizhi_app::access::matrix(&app, &ctx, case).await.expect("matrix");
    let ad = &matrix[0];
    assert_eq!(
        (ad.connector.as_str(), ad.status.as_str(), ad.verdict.as_deref()),
        ("corp-ad", "completed", Some("verified"))
    );
    assert!(ad.verified_at.is_some() && ad.evidence.as_deref().is_some_and(|e| e.contains("pwdAccountLockedTime")));
    assert!(!ad.evidence.as_deref().unwrap_or_default().contains(ADMIN_PW));
    // Second run: the unreachable directory is queued again; the third waits behind it.
    let run = run_due(&app).await.expect("run");
    assert_eq!((run.completed, run.retried, run.failed), (0, 1, 0), "{run:?}");
    let matrix = lizhi_app::access::matrix(&app, &ctx, case).await.expect("matrix");
    assert_eq!((matrix[1].status.as_str(), matrix[1].attempts), ("queued", 1), "{:?}", matrix[1]);
    assert!(matrix[1].last_error.as_deref().is_some_and(|e| e.contains("retryable")), "{:?}", matrix[1].last_error);
    assert_eq!(matrix[2].attempts, 0, "not touched while an earlier system is pending");
}
