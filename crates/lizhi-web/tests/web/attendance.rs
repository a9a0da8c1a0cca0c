//! Early-warning inputs: calendars, rosters, punches (file and push API), leave and activity.

use crate::support::*;
use chrono::NaiveDate;

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
}

async fn attendance_days(t: &TestApp, employee_no: &str) -> Vec<NaiveDate> {
    let employee = lizhi_app::people::get_employee(&t.app, &Ctx::system("test"), employee_no).await.expect("employee");
    let mut conn = t.app.db.acquire().await.expect("conn");
    lizhi_store::attendance::attendance_days(&mut conn.conn(), day("2000-01-01"), day("2100-01-01"), Some(employee.id))
        .await
        .expect("days")
        .into_iter()
        .filter(|(id, _)| *id == employee.id)
        .map(|(_, d)| d)
        .collect()
}

fn counts(report: &serde_json::Value) -> (u64, u64, u64) {
    let n = |k: &str| report[k].as_u64().unwrap_or(u64::MAX);
    (n("created"), n("updated"), n("unchanged"))
}

#[tokio::test]
async fn attendance_files_import_idempotently_with_local_attendance_days() {
    let t = spawn_app().await;
    let token = t.token("hr").await;

    let calendar = "calendar,date,kind,name\nCN01,2026-10-01,holiday,国庆节\nCN01,2026-10-02,holiday,国庆节\nCN01,2026-09-27,workday,国庆调休\n";
    let (status, report) = t.import(&token, "calendar", "cal.csv", calendar.into(), false).await;
    assert_eq!((status, counts(&report)), (StatusCode::OK, (3, 0, 0)), "{report}");
    let (_, report) = t.import(&token, "calendar", "cal.csv", calendar.into(), false).await;
    assert_eq!(counts(&report), (0, 0, 3), "re-import changes nothing");
    let renamed = calendar.replace("国庆调休", "调休上班");
    let (_, report) = t.import(&token, "calendar", "cal.csv", renamed.into_bytes(), false).await;
    assert_eq!(counts(&report), (0, 1, 2));

    let rosters = "employee_no,date,shift\nC00010,2026-03-02,D\nC00010,2026-03-03,N\nC00010,2026-03-04,rest\n";
    let (status, report) = t.import(&token, "rosters", "r.csv", rosters.into(), false).await;
    assert_eq!((status, counts(&report)), (StatusCode::OK, (3, 0, 0)), "{report}");

    // 23:30 UTC on 1 March is 2 March in Shanghai; 08:59+08:00 and 00:59Z are the same instant.
    let punches = "employee_no,punched_at,source\nC00002,2026-03-01T23:30:00Z,gate\nC00002,2026-03-02T08:59:00+08:00,gate\n\
                   C00002,2026-03-02T00:59:00Z,gate\nU00016,2026-03-02T00:30:00Z,door\n";
    let (status, report) = t.import(&token, "punches", "p.csv", punches.into(), false).await;
    assert_eq!((status, counts(&report)), (StatusCode::OK, (3, 0, 1)), "{report}");
    assert_eq!(attendance_days(&t, "C00002").await, vec![day("2026-03-02")]);
    assert_eq!(attendance_days(&t, "U00016").await, vec![day("2026-03-02")], "London is on UTC in March");
    let (_, report) = t.import(&token, "punches", "p.csv", punches.into(), false).await;
    assert_eq!(counts(&report), (0, 0, 4), "the same punches again add nothing");

    let pending = "employee_no,start_date,end_date,type,status\nC00003,2026-03-02,2026-03-04,annual,pending\n";
    let (_, report) = t.import(&token, "leaves", "l.csv", pending.into(), false).await;
    assert_eq!(counts(&report), (1, 0, 0), "{report}");
    let approved = pending.replace("pending", "approved");
    let (_, report) = t.import(&token, "leaves", "l.csv", approved.into_bytes(), false).await;
    assert_eq!(counts(&report), (0, 1, 0), "a decision updates the stored leave");

    let activity = "employee_no,date,system,events\nC00004,2026-03-02,OA,12\nC00004,2026-03-02,VPN,3\n";
    let (_, report) = t.import(&token, "activity", "a.csv", activity.into(), false).await;
    assert_eq!(counts(&report), (2, 0, 0), "{report}");
    let (_, report) = t.import(&token, "activity", "a.csv", activity.into(), true).await;
    assert_eq!((counts(&report), report["applied"].as_bool()), ((0, 0, 2), Some(false)), "dry run");

    let audit: serde_json::Value = t
        .http
        .get(format!("{}/api/v1/audit?entity_type=import&entity_key=punches", t.base))
        .bearer_auth(t.token("auditor").await)
        .send()
        .await
        .expect("audit")
        .json()
        .await
        .expect("json");
    assert_eq!(audit["items"].as_array().expect("items").len(), 1, "one audit row for the one file that added punches");
}

#[tokio::test]
async fn broken_attendance_files_land_nothing_and_name_the_row() {
    let t = spawn_app().await;
    let token = t.token("hr").await;
    let cases: Vec<(&str, &str, &str, &str, u64)> = vec![
        (
            "punches",
            "employee_no,punched_at,source\nC00002,2026-03-02T08:59:00+08:00,gate\nNOPE,2026-03-02T08:59:00Z,gate\n",
            "unknown_employee",
            "employee_no",
            3,
        ),
        (
            "punches",
            "employee_no,punched_at,source\nC00002,2026-03-02 08:59,gate\n",
            "invalid_timestamp",
            "punched_at",
            2,
        ),
        (
            "punches",
            "employee_no,punched_at,source\nC00002,2026-03-02T08:59:00,gate\n",
            "invalid_timestamp",
            "punched_at",
            2,
        ),
        (
            "leaves",
            "employee_no,start_date,end_date,type,status\nC00002,2026-03-05,2026-03-04,sick,approved\n",
            "end_before_start",
            "end_date",
            2,
        ),
        (
            "leaves",
            "employee_no,start_date,end_date,type,status\nC00002,2026-03-04,2026-03-05,sick,maybe\n",
            "invalid_leave_status",
            "status",
            2,
        ),
        ("calendar", "calendar,date,kind,name\nCN01,2026-10-01,vacation,国庆节\n", "invalid_day_kind", "kind", 2),
        (
            "rosters",
            "employee_no,date,shift\nC00010,2026-03-02,D\nC00010,2026-03-02,N\n",
            "duplicate_in_file",
            "date",
            3,
        ),
        ("activity", "employee_no,date,system,events\nC00004,2026-03-02,OA,-1\n", "invalid_number", "events", 2),
        ("activity", "employee_no,date,system\nC00004,2026-03-02,OA\n", "missing_column", "events", 1),
    ];
    for (kind, body, code, column, row) in cases {
        let (status, report) = t.import(&token, kind, "broken.csv", body.into(), false).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{kind} {code}: {report}");
        let errors = report["errors"].as_array().expect("errors");
        assert!(
            errors.iter().any(|e| e["code"] == code && e["column"] == column && e["row"].as_u64() == Some(row)),
            "{kind}: expected {code} in {column} at row {row}: {report}"
        );
    }
    assert!(attendance_days(&t, "C00002").await.is_empty(), "the good row of a rejected file was not stored either");
}

#[tokio::test]
async fn devices_push_punches_as_json() {
    let t = spawn_app().await;
    let token = t.token("hr").await;
    let push = |body: serde_json::Value| {
        t.http.post(format!("{}/api/v1/punches", t.base)).bearer_auth(&token).json(&body).send()
    };
    let batch = serde_json::json!({"punches": [
        {"employee_no": "C00005", "punched_at": "2026-03-03T09:01:00+08:00", "source": "gate-2"},
        {"employee_no": "C00005", "punched_at": "2026-03-03T18:05:00+08:00", "source": "gate-2"},
    ]});
    let res = push(batch.clone()).await.expect("push");
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(counts(&res.json().await.expect("json")), (2, 0, 0));
    let again: serde_json::Value = push(batch).await.expect("again").json().await.expect("json");
    assert_eq!(counts(&again), (0, 0, 2), "a retried batch adds nothing");
    let bad = push(serde_json::json!({"punches": [
        {"employee_no": "C00006", "punched_at": "2026-03-03T09:01:00+08:00", "source": "gate-2"},
        {"employee_no": "C00006", "punched_at": "yesterday", "source": "gate-2"},
    ]}))
    .await
    .expect("bad");
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let report: serde_json::Value = bad.json().await.expect("json");
    assert_eq!(
        (report["errors"][0]["code"].as_str(), report["errors"][0]["row"].as_u64()),
        (Some("invalid_timestamp"), Some(2))
    );
    assert!(attendance_days(&t, "C00006").await.is_empty(), "all or nothing");
    let manager = t.token("manager").await;
    let refused = t
        .http
        .post(format!("{}/api/v1/punches", t.base))
        .bearer_auth(&manager)
        .json(&serde_json::json!({"punches": []}))
        .send()
        .await
        .expect("x");
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_risk_scan_is_scoped_like_the_employee_list() {
    let t = spawn_app().await;
    let hr = t.token("hr").await;
    // Nobody in the seeded company has ever punched: by Wednesday everyone is red.
    let http = t.http.clone();
    let url = format!("{}/api/v1/risk?as_of=2026-03-04", t.base);
    let scan = |token: String| {
        let (http, url) = (http.clone(), url.clone());
        async move { http.get(url).bearer_auth(token).send().await.expect("risk") }
    };
    let all: serde_json::Value = scan(hr.clone()).await.json().await.expect("json");
    let items = all["items"].as_array().expect("items");
    assert_eq!(items.len(), 80);
    // Hired 2015–2025 and never seen: each streak runs back to the hire date, far past the scan window.
    for f in items {
        let a = &f["assessment"];
        assert_eq!(a["level"], "red", "{f}");
        assert!(a["first_absent_date"].as_str().is_some_and(|d| d < "2026-01-01"), "{f}");
        assert!(a["consecutive_absent_workdays"].as_u64().is_some_and(|n| n > 40), "{f}");
    }
    let rd: serde_json::Value = t
        .http
        .get(format!("{}/api/v1/employees?org_unit=CN-RD&limit=1", t.base))
        .bearer_auth(&hr)
        .send()
        .await
        .expect("rd")
        .json()
        .await
        .expect("json");
    let mine: serde_json::Value = scan(t.token("manager").await).await.json().await.expect("json");
    let mine = mine["items"].as_array().expect("items");
    assert_eq!(mine.len() as u64, rd["total"].as_u64().expect("total"), "a manager sees their subtree only");
    assert!(mine.iter().all(|f| f["org_unit"].as_str().is_some_and(|u| u.starts_with("CN-RD"))));
    assert_eq!(scan(t.token("it").await).await.status(), StatusCode::FORBIDDEN, "IT does not see absence data");
    // One punch on Wednesday morning clears C00005.
    let push = serde_json::json!({"punches": [{"employee_no": "C00005", "punched_at": "2026-03-04T09:00:00+08:00", "source": "gate"}]});
    t.http.post(format!("{}/api/v1/punches", t.base)).bearer_auth(&hr).json(&push).send().await.expect("push");
    let after: serde_json::Value = scan(hr).await.json().await.expect("json");
    assert!(after["items"].as_array().expect("items").iter().all(|f| f["employee_no"] != "C00005"));
}

#[tokio::test]
async fn the_risk_board_lists_explains_and_records_what_people_do() {
    let t = spawn_app().await;
    let hr = t.session("hr").await;
    // Everyone in CN-RD-QA punched every day but C00005, who stopped after Friday 27 Feb.
    let token = t.token("hr").await;
    let everyone: serde_json::Value = t
        .http
        .get(format!("{}/api/v1/employees?limit=200", t.base))
        .bearer_auth(&token)
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    let numbers: Vec<String> = everyone["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| e["employee_no"].as_str().expect("no").to_owned())
        .collect();
    let mut punches = vec!["employee_no,punched_at,source".to_owned()];
    for day in
        ["2026-02-23", "2026-02-24", "2026-02-25", "2026-02-26", "2026-02-27", "2026-03-02", "2026-03-03", "2026-03-04"]
    {
        for no in &numbers {
            if no == "C00005" && day > "2026-02-27" {
                continue;
            }
            punches.push(format!("{no},{day}T09:00:00+08:00,gate"));
        }
    }
    let (status, report) = t.import(&token, "punches", "p.csv", punches.join("\n").into_bytes(), false).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let board = t.request(Method::GET, "/risk?as_of=2026-03-04", Some(&hr)).send().await.expect("board");
    assert_eq!(board.status(), StatusCode::OK);
    let html = board.text().await.expect("html");
    assert!(html.contains("/risk/C00005?as_of=2026-03-04"), "C00005 is on the board");
    assert_eq!(html.matches("/risk/C0").count() + html.matches("/risk/U0").count(), 1, "and nobody else: {html}");

    let detail = t
        .request(Method::GET, "/risk/C00005?as_of=2026-03-04", Some(&hr))
        .header("accept-language", "zh-CN")
        .send()
        .await;
    let html = detail.expect("detail").text().await.expect("html");
    assert!(html.contains("2026-03-02：应出勤，无打卡，无已批准请假。"), "facts are translated: {html}");
    assert!(html.contains("最后一次有记录是 2026-02-27"), "{html}");
    // A person never seen since hiring: the explanation folds years of missing days into one line.
    let never = t.request(Method::GET, "/risk/C00001?as_of=2026-02-20", Some(&hr)).send().await;
    let html = never.expect("never").text().await.expect("html");
    assert!(
        html.contains("more unexplained scheduled days") && html.matches("scheduled, no punch").count() == 6,
        "{html}"
    );

    let act = |pairs: Vec<(&'static str, String)>| {
        let mut all = pairs;
        all.push(("csrf", hr.csrf.clone()));
        all.push(("as_of", "2026-03-04".into()));
        all.push(("episode", "2026-03-02".into()));
        t.request(Method::POST, "/risk/C00005/actions", Some(&hr)).form(&all).send()
    };
    let contact = act(vec![
        ("kind", "contact".into()),
        ("channel", "phone".into()),
        ("outcome", "no_answer".into()),
        ("at", "2026-03-04T10:15".into()),
        ("note", "两次未接".into()),
    ]);
    assert_eq!(contact.await.expect("contact").status(), StatusCode::SEE_OTHER);
    let future = act(vec![
        ("kind", "contact".into()),
        ("channel", "phone".into()),
        ("outcome", "reached".into()),
        ("at", "2099-01-01T10:00".into()),
    ]);
    assert_eq!(future.await.expect("future").status(), StatusCode::UNPROCESSABLE_ENTITY);
    let no_note = act(vec![("kind", "dismiss".into()), ("reason", "justified".into()), ("note", "".into())]);
    assert_eq!(
        no_note.await.expect("dismiss").status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "a dismissal needs a reason in words"
    );
    let board = t
        .request(Method::GET, "/risk?as_of=2026-03-04", Some(&hr))
        .send()
        .await
        .expect("board")
        .text()
        .await
        .expect("html");
    assert!(board.contains("1 ☎"), "the contact is counted on the board");
    let dismiss = act(vec![
        ("kind", "dismiss".into()),
        ("reason", "data_error".into()),
        ("note", "punches missing from gate 3".into()),
    ]);
    assert_eq!(dismiss.await.expect("dismiss").status(), StatusCode::SEE_OTHER);
    let board = t
        .request(Method::GET, "/risk?as_of=2026-03-04", Some(&hr))
        .send()
        .await
        .expect("board")
        .text()
        .await
        .expect("html");
    assert!(!board.contains("/risk/C00005"), "a dismissed episode leaves the board");
    let all = t.request(Method::GET, "/risk?as_of=2026-03-04&dismissed=1", Some(&hr)).send().await.expect("board");
    assert!(all.text().await.expect("html").contains("/risk/C00005"), "but can be shown");

    let auditor = t.session("auditor").await;
    let refused = t
        .request(Method::POST, "/risk/C00005/actions", Some(&auditor))
        .form(&[("csrf", auditor.csrf.as_str()), ("kind", "escalate"), ("episode", "2026-03-02")])
        .send()
        .await
        .expect("auditor");
    assert_eq!(refused.status(), StatusCode::FORBIDDEN, "auditors read, never act");
}

#[tokio::test]
async fn a_night_shift_clock_out_counts_for_the_night_it_closes() {
    let t = spawn_app().await;
    let token = t.token("hr").await;
    let finding = |as_of: &'static str| {
        let (http, url, token) = (t.http.clone(), format!("{}/api/v1/risk?as_of={as_of}", t.base), token.clone());
        async move {
            let v: serde_json::Value =
                http.get(url).bearer_auth(token).send().await.expect("risk").json().await.expect("json");
            v["items"].as_array().expect("items").iter().find(|f| f["employee_no"] == "C00007").cloned()
        }
    };
    // Nights on Mon 2 and Tue 3 March: in at 22:00 on Monday, out at 06:05 on Tuesday, then gone.
    let punches =
        "employee_no,punched_at,source\nC00007,2026-03-02T22:00:00+08:00,gate\nC00007,2026-03-02T22:05:00Z,gate\n";
    let (status, report) = t.import(&token, "punches", "p.csv", punches.into(), false).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(attendance_days(&t, "C00007").await, vec![day("2026-03-02"), day("2026-03-03")], "no roster yet");

    // The roster says the night's attendance day ends at 08:00: the clock-out moves back to Monday.
    let roster = "employee_no,date,shift,day_ends_at\nC00007,2026-03-02,N,08:00\nC00007,2026-03-03,N,08:00\nC00007,2026-03-04,REST,\n";
    let (status, report) = t.import(&token, "rosters", "r.csv", roster.into(), false).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(attendance_days(&t, "C00007").await, vec![day("2026-03-02")]);
    let tuesday = finding("2026-03-03").await.expect("Tuesday night is unexplained");
    assert_eq!(tuesday["assessment"]["first_absent_date"], "2026-03-03", "{tuesday}");
    assert!(finding("2026-03-02").await.is_none(), "Monday night was worked");

    // Without the cut-off the 06:05 punch is Tuesday's again, and Tuesday looks attended.
    let plain = roster.replace(",N,08:00", ",N,");
    let (status, report) = t.import(&token, "rosters", "r.csv", plain.into_bytes(), false).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(attendance_days(&t, "C00007").await, vec![day("2026-03-02"), day("2026-03-03")]);
    assert!(finding("2026-03-03").await.is_none());

    // Punches imported after the roster are attributed on the way in.
    let (status, _) = t.import(&token, "rosters", "r.csv", roster.into(), false).await;
    assert_eq!(status, StatusCode::OK);
    let later =
        "employee_no,punched_at,source\nC00007,2026-03-03T22:01:00+08:00,gate\nC00007,2026-03-04T05:58:00+08:00,gate\n";
    let (status, report) = t.import(&token, "punches", "p2.csv", later.into(), false).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(attendance_days(&t, "C00007").await, vec![day("2026-03-02"), day("2026-03-03")]);

    // A cut-off after noon, or on a rest day, is refused with the row named.
    let bad = "employee_no,date,shift,day_ends_at\nC00007,2026-03-05,N,13:00\nC00007,2026-03-06,REST,06:00\n";
    let (status, report) = t.import(&token, "rosters", "r.csv", bad.into(), false).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let errors: Vec<(u64, &str)> = report["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| (e["row"].as_u64().unwrap_or(0), e["code"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(errors, vec![(2, "invalid_day_end"), (3, "invalid_day_end")], "{report}");
}
