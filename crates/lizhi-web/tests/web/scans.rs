//! Daily scans: one per entity and local day however many instances run, crashed claims taken
//! over, stored alerts behind the board, scans started by hand, and trial runs of a policy.

use crate::support::*;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use lizhi_app::risk_scan::{self, LEASE};
use lizhi_app::{Clock, FixedClock, risk_trial};
use lizhi_store::risk_scans::{self as store, NewScan};
use std::sync::Arc;

fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339).expect("instant").with_timezone(&Utc)
}

fn day(s: &str) -> NaiveDate {
    s.parse().expect("date")
}

/// Another server process on the same database, with its own pool and a hand-set clock.
async fn instance(t: &TestApp, clock: &Arc<FixedClock>) -> App {
    let db = lizhi_store::Db::connect(&t.url, 4).await.expect("second pool");
    App::with_clock(db, clock.clone())
}

#[tokio::test]
async fn each_entity_is_scanned_once_a_day_at_its_local_time_by_one_instance() {
    let t = spawn_app().await;
    // 05:30 in Shanghai on Thursday 5 March is 21:30 on Wednesday in London.
    let clock = Arc::new(FixedClock::new(at("2026-03-05T05:30:00+08:00")));
    let (a, b) = (instance(&t, &clock).await, instance(&t, &clock).await);
    let ran = risk_scan::run_due(&a, "a").await.expect("run");
    assert_eq!(ran.len(), 1, "only London's 06:00 has passed: {ran:?}");
    assert_eq!((ran[0].legal_entity.as_str(), ran[0].as_of), ("UK01", day("2026-03-03")));

    clock.advance(Duration::minutes(30));
    let (ra, rb) = tokio::join!(risk_scan::run_due(&a, "a"), risk_scan::run_due(&b, "b"));
    let ran: Vec<_> = ra.expect("a").into_iter().chain(rb.expect("b")).collect();
    assert_eq!(ran.len(), 1, "two instances, one scan: {ran:?}");
    let cn = &ran[0];
    assert_eq!((cn.legal_entity.as_str(), cn.as_of, cn.status.as_str()), ("CN01", day("2026-03-04"), "done"));
    // Nobody in the seeded company ever punched: everyone in CN01 is red.
    let token = t.token("hr").await;
    let cn_people: serde_json::Value = t
        .http
        .get(format!("{}/api/v1/employees?legal_entity=CN01&limit=1", t.base))
        .bearer_auth(&token)
        .send()
        .await
        .expect("people")
        .json()
        .await
        .expect("json");
    assert_eq!(cn.red, cn_people["total"].as_i64());
    assert!(risk_scan::run_due(&a, "a").await.expect("again").is_empty(), "the slot is used up for the day");

    // The board reads the stored scans.
    let board: serde_json::Value = t
        .http
        .get(format!("{}/api/v1/risk/board?legal_entity=CN01", t.base))
        .bearer_auth(&token)
        .send()
        .await
        .expect("board")
        .json()
        .await
        .expect("json");
    assert_eq!(board["sources"][0]["scan"]["id"], cn.id, "{board}");
    assert_eq!(board["items"].as_array().map(Vec::len), cn.red.map(|n| n as usize));

    // An instance claims Friday's scan and dies: nobody runs it until its lease is over.
    clock.advance(Duration::days(1));
    let slot = "daily:CN01:2026-03-06";
    let cn_id = lizhi_app::people::list_entities(&a, &Ctx::system("t"))
        .await
        .expect("entities")
        .into_iter()
        .find(|e| e.code == "CN01")
        .expect("CN01")
        .id;
    {
        let mut conn = a.db.acquire().await.expect("conn");
        let claim =
            NewScan { slot, legal_entity_id: cn_id, as_of: day("2026-03-05"), origin: "schedule", claimed_by: "dead" };
        let now = clock.now();
        store::claim(&mut conn.conn(), &claim, now, now + LEASE).await.expect("claim").expect("free slot");
    }
    let ran = risk_scan::run_due(&b, "b").await.expect("run");
    assert!(ran.iter().all(|s| s.legal_entity != "CN01"), "the live claim is respected: {ran:?}");
    clock.advance(LEASE + Duration::minutes(1));
    let ran = risk_scan::run_due(&b, "b").await.expect("run");
    let taken = ran.iter().find(|s| s.legal_entity == "CN01").expect("taken over");
    assert_eq!((taken.attempts, taken.claimed_by.as_str(), taken.status.as_str()), (2, "b", "done"));
    // The dead instance, were it to wake up, can no longer write its result.
    let mut conn = a.db.acquire().await.expect("conn");
    let scan = store::by_slot(&mut conn.conn(), slot).await.expect("read").expect("scan");
    assert!(!store::finish(&mut conn.conn(), scan.id, "dead", &[], clock.now()).await.expect("finish"));
}

#[tokio::test]
async fn a_scan_started_by_hand_is_stored_and_shown_on_the_board() {
    let t = spawn_app().await;
    let hr = t.token("hr").await;
    let post = |token: String, body: serde_json::Value| {
        t.http.post(format!("{}/api/v1/risk/scans", t.base)).bearer_auth(token).json(&body).send()
    };
    let ok = post(hr.clone(), serde_json::json!({"legal_entity": "UK01", "as_of": "2026-03-04"})).await.expect("scan");
    assert_eq!(ok.status(), StatusCode::OK);
    let scan: serde_json::Value = ok.json().await.expect("json");
    assert_eq!((scan["status"].as_str(), scan["origin"].as_str()), (Some("done"), Some("manual")));
    assert!(scan["red"].as_i64().is_some_and(|n| n > 0), "{scan}");
    let refused = post(t.token("it").await, serde_json::json!({"legal_entity": "UK01"})).await.expect("it");
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let unknown = post(hr.clone(), serde_json::json!({"legal_entity": "XX99"})).await.expect("unknown");
    assert_eq!(unknown.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let future = post(hr.clone(), serde_json::json!({"legal_entity": "UK01", "as_of": "2099-01-01"})).await;
    let future: serde_json::Value = future.expect("future").json().await.expect("json");
    assert_eq!(future["error"]["code"], "day_not_over", "{future}");

    let history: serde_json::Value = t
        .http
        .get(format!("{}/api/v1/risk/scans", t.base))
        .bearer_auth(&hr)
        .send()
        .await
        .expect("history")
        .json()
        .await
        .expect("json");
    assert_eq!(history["items"][0]["id"], scan["id"]);
    let session = t.session("hr").await;
    let page = t.request(Method::GET, "/risk?legal_entity=UK01", Some(&session)).send().await.expect("board");
    let html = page.text().await.expect("html");
    assert!(html.contains("manual scan as of 2026-03-04"), "{html}");
    // CN01 has no stored scan for that day: the board says it evaluated it on the spot.
    let page = t.request(Method::GET, "/risk?as_of=2026-03-04", Some(&session)).send().await.expect("board");
    let html = page.text().await.expect("html");
    assert!(html.contains("no stored scan as of 2026-03-04: evaluated now"), "{html}");
}

#[tokio::test]
async fn a_trial_run_counts_alerts_per_week_under_the_candidate_and_the_policy_in_force() {
    let t = spawn_app().await;
    let token = t.token("hr").await;
    // Everyone punches every weekday of February and March 2026, except C00005 after Friday 27 Feb.
    let export = t.http.get(format!("{}/api/v1/exports/employees", t.base)).bearer_auth(&token).send().await;
    let text = export.expect("export").text().await.expect("csv");
    let numbers: Vec<&str> =
        text.lines().skip(1).filter_map(|l| l.split(',').next()).filter(|n| !n.is_empty()).collect();
    let mut punches = vec!["employee_no,punched_at,source".to_owned()];
    let mut d = day("2026-02-02");
    while d <= day("2026-03-31") {
        if chrono::Datelike::weekday(&d).num_days_from_monday() < 5 {
            for no in &numbers {
                if *no == "C00005" && d > day("2026-02-27") {
                    continue;
                }
                punches.push(format!("{no},{d}T09:00:00+08:00,gate"));
            }
        }
        d = d.succ_opt().expect("next");
    }
    let (status, report) = t.import(&token, "punches", "p.csv", punches.join("\n").into_bytes(), false).await;
    assert_eq!(status, StatusCode::OK, "{report}");

    // In force (CN-default): raised Mon 2 March, red on the 3rd day (Wed 4 March).
    // Candidate: red on the 8th day, Wed 11 March.
    let ctx = Ctx::system("t");
    let mut candidate = lizhi_core::policy::Policy::defaults(lizhi_core::values::PolicyProfile::CnDefault);
    candidate.consecutive_red = 8;
    let run = risk_trial::trial(&t.app, &ctx, day("2026-02-16"), day("2026-03-15"), Some("CN01".into()), candidate)
        .await
        .expect("trial");
    let weeks: Vec<(String, usize, usize, usize, usize)> = run
        .weeks
        .iter()
        .map(|w| (w.week_start.to_string(), w.current.alerts, w.current.red, w.candidate.alerts, w.candidate.red))
        .collect();
    assert_eq!(
        weeks,
        vec![
            ("2026-02-16".into(), 0, 0, 0, 0),
            ("2026-02-23".into(), 0, 0, 0, 0),
            ("2026-03-02".into(), 1, 1, 1, 0),
            ("2026-03-09".into(), 0, 0, 0, 1),
        ]
    );

    // The page shows the same, and refuses a candidate whose yellow comes after its red.
    let session = t.session("hr").await;
    let url =
        "/risk/trial?legal_entity=CN01&from=2026-02-16&to=2026-03-15&profile=CN-default&consecutive_red=8&activity=1";
    let html = t.request(Method::GET, url, Some(&session)).send().await.expect("page").text().await.expect("html");
    assert!(html.contains("<tr><td>2026-03-02</td><td>1</td><td>1</td><td>1</td><td>0</td></tr>"), "{html}");
    let bad = "/risk/trial?from=2026-02-16&to=2026-03-15&yellow_from=5&consecutive_red=3";
    let html = t.request(Method::GET, bad, Some(&session)).send().await.expect("page").text().await.expect("html");
    assert!(html.contains("Yellow must come on or before the red day."), "{html}");
    let long = "/risk/trial?from=2026-01-01&to=2026-06-30";
    let html = t.request(Method::GET, long, Some(&session)).send().await.expect("page").text().await.expect("html");
    assert!(html.contains("at most 92 days"), "{html}");
}

#[tokio::test]
async fn each_entity_sets_its_scan_time_and_a_file_without_the_column_keeps_it() {
    let t = spawn_app().await;
    let token = t.token("hr").await;
    let entities = |token: String| {
        let url = format!("{}/api/v1/legal-entities", t.base);
        let http = t.http.clone();
        async move {
            let v: serde_json::Value =
                http.get(url).bearer_auth(token).send().await.expect("get").json().await.expect("json");
            v
        }
    };
    let time_of = |v: &serde_json::Value, code: &str| {
        let items = v["items"].as_array().or_else(|| v.as_array()).cloned().unwrap_or_default();
        items.iter().find(|e| e["code"] == code).map(|e| e["scan_time"].as_str().unwrap_or_default().to_owned())
    };
    assert_eq!(time_of(&entities(token.clone()).await, "CN01").as_deref(), Some("06:00"), "the default");

    let bad = "code,name,country,time_zone,policy,scan_time\nCN01,离职科技（上海）有限公司,CN,Asia/Shanghai,CN-default,25:00\n";
    let (status, report) = t.import(&token, "legal-entities", "e.csv", bad.into(), false).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(report["errors"][0]["code"], "invalid_time_of_day", "{report}");

    let good = bad.replace("25:00", "7:30");
    let (status, report) = t.import(&token, "legal-entities", "e.csv", good.into_bytes(), false).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(time_of(&entities(token.clone()).await, "CN01").as_deref(), Some("07:30"));
    let without = "code,name,country,time_zone,policy\nCN01,离职科技（上海）有限公司,CN,Asia/Shanghai,CN-default\n";
    let (status, report) = t.import(&token, "legal-entities", "e.csv", without.into(), false).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["unchanged"], 1, "{report}");
    assert_eq!(time_of(&entities(token).await, "CN01").as_deref(), Some("07:30"), "kept");
}
