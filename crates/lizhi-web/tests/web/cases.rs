//! Separation cases driven through the API: the absconding process step by step, with the clock moved by hand
//! so periods run from the recorded receipt and land on workdays around holidays.

use crate::support::*;
use chrono::{DateTime, Duration, Utc};
use lizhi_app::FixedClock;
use serde_json::{Value, json};
use std::sync::Arc;

fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339).expect("instant").with_timezone(&Utc)
}

struct Api<'a> {
    t: &'a TestApp,
}

impl Api<'_> {
    async fn call(&self, token: &str, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        self.t.call(token, method, path, body).await
    }

    /// An action that must succeed; returns the case.
    async fn ok(&self, token: &str, case: i64, body: Value) -> Value {
        let (status, v) =
            self.call(token, Method::POST, &format!("/api/v1/cases/{case}/actions"), Some(body.clone())).await;
        assert_eq!(status, StatusCode::OK, "{body} → {v}");
        v
    }

    /// An action that must be refused with this code.
    async fn refused(&self, token: &str, case: i64, body: Value, code: &str) {
        let (status, v) =
            self.call(token, Method::POST, &format!("/api/v1/cases/{case}/actions"), Some(body.clone())).await;
        assert_eq!((status, v["error"]["code"].as_str()), (StatusCode::CONFLICT, Some(code)), "{body} → {v}");
        assert!(!v["error"]["message"].as_str().unwrap_or_default().is_empty());
    }

    async fn decide(&self, token: &str, case: i64, decision: &str) -> (StatusCode, Value) {
        let body = json!({"decision": decision, "comment": "checked the evidence"});
        self.call(token, Method::POST, &format!("/api/v1/cases/{case}/decisions"), Some(body)).await
    }

    async fn case(&self, token: &str, case: i64) -> Value {
        let (status, v) = self.call(token, Method::GET, &format!("/api/v1/cases/{case}"), None).await;
        assert_eq!(status, StatusCode::OK, "{v}");
        v
    }

    async fn first_employee_of(&self, token: &str, unit: &str, skip: usize) -> String {
        let (_, v) = self.call(token, Method::GET, &format!("/api/v1/employees?org_unit={unit}&limit=10"), None).await;
        v["items"][skip]["employee_no"].as_str().expect("employee").to_owned()
    }
}

fn item<'v>(case: &'v Value, key: &str) -> &'v Value {
    case["checklist"].as_array().expect("checklist").iter().find(|i| i["key"] == key).unwrap_or_else(|| panic!("{key}"))
}

#[tokio::test]
async fn an_absconding_case_runs_from_contact_to_close_and_refuses_every_shortcut() {
    // Monday 2 March 2026, 10:00 in Shanghai.
    let clock = Arc::new(FixedClock::new(at("2026-03-02T10:00:00+08:00")));
    let t = spawn_app_with(Some(clock.clone())).await;
    let api = Api { t: &t };
    let (hr, supervisor, manager) = (t.token("hr").await, t.token("hr_supervisor").await, t.token("manager").await);
    // Monday 9 March is a holiday in this test's calendar, so a period ending on it ends on Tuesday 10 March.
    let calendar = "calendar,date,kind,name\nCN01,2026-03-09,holiday,测试假日\n";
    let (status, report) = t.import(&hr, "calendar", "cal.csv", calendar.into(), false).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let no = api.first_employee_of(&hr, "CN-RD", 0).await;
    // A door system without an API, and payroll listening for the stop-pay event only.
    let admin = t.token("admin").await;
    let door = json!({"kind": "manual", "name": "Door", "settings": {"owner": "facilities"}});
    assert_eq!(api.call(&admin, Method::PUT, "/api/v1/connectors/door", Some(door)).await.0, StatusCode::CREATED);
    let payroll = json!({"kind": "webhook", "name": "Payroll", "secret": "payroll-signing-key-01",
        "settings": {"url": "http://127.0.0.1:9/hook", "events": ["pay.stop_requested"]}});
    assert_eq!(api.call(&admin, Method::PUT, "/api/v1/connectors/payroll", Some(payroll)).await.0, StatusCode::CREATED);
    let badge = json!({"account_id": "badge-0042"});
    let path = format!("/api/v1/employees/{no}/identities/door");
    assert_eq!(api.call(&hr, Method::PUT, &path, Some(badge)).await.0, StatusCode::CREATED);
    let pay_events = || async {
        let (_, rows) = api.call(&admin, Method::GET, "/api/v1/outbox?channel=webhook", None).await;
        rows["items"].as_array().map_or(0, |items| {
            items
                .iter()
                .filter(|r| r["idempotency_key"].as_str().is_some_and(|k| k.contains("pay.stop_requested")))
                .count()
        })
    };

    let (status, opened) =
        api.call(&hr, Method::POST, "/api/v1/cases", Some(json!({"employee_no": no, "case_type": "absconding"}))).await;
    assert_eq!(status, StatusCode::CREATED, "{opened}");
    let id = opened["id"].as_i64().expect("id");
    assert_eq!(opened["state"], "contacting");
    let (status, again) =
        api.call(&hr, Method::POST, "/api/v1/cases", Some(json!({"employee_no": no, "case_type": "absconding"}))).await;
    assert_eq!(
        (status, again["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("conflict")),
        "one case in progress"
    );

    // Skipped steps are refused.
    api.refused(&hr, id, json!({"action": "open_review"}), "action_not_allowed").await;
    api.refused(&hr, id, json!({"action": "serve_termination"}), "action_not_allowed").await;
    api.refused(&hr, id, json!({"action": "confirm_departure"}), "contact_attempts_insufficient").await;
    for channel in ["phone", "phone", "wecom"] {
        api.ok(&hr, id, json!({"action": "log_contact", "channel": channel, "outcome": "no_answer"})).await;
    }
    let confirmed = api.ok(&hr, id, json!({"action": "confirm_departure"})).await;
    assert_eq!(confirmed["state"], "return_notice_serving");
    assert_eq!(item(&confirmed, "manual_access")["label"], "Door: badge-0042", "the door task, for facilities");
    assert_eq!(pay_events().await, 0, "pay stops only once termination is effective");
    assert_eq!(confirmed["confirmed_by"], "hr");
    assert!(confirmed["confirmed_at"].is_string(), "the evidence chain starts with a server timestamp");

    // Dispatched Monday, received Friday: the 3 days run from Friday, and Monday 9 March is a holiday.
    let sent = api
        .ok(&hr, id, json!({"action": "dispatch_notice", "method": "post", "on": "2026-03-02", "tracking_no": "EMS1"}))
        .await;
    let notice = sent["notices"][0]["id"].as_i64().expect("notice");
    clock.advance(Duration::days(4));
    api.refused(&hr, id, json!({"action": "open_review"}), "action_not_allowed").await;
    let received = api
        .ok(&hr, id, json!({"action": "record_receipt", "notice_id": notice, "outcome": "signed", "on": "2026-03-06"}))
        .await;
    assert_eq!(
        (received["state"].as_str(), received["deadline"].as_str()),
        (Some("awaiting_return"), Some("2026-03-10"))
    );
    clock.advance(Duration::days(4)); // Tuesday 10 March: the last day still counts.
    api.refused(&hr, id, json!({"action": "open_review"}), "deadline_not_reached").await;
    clock.advance(Duration::days(1));
    let review = api.ok(&hr, id, json!({"action": "open_review"})).await;
    assert_eq!(review["state"], "case_review");

    // The fast track: HR supervisor, then the department head; the head cannot go first.
    api.refused(&hr, id, json!({"action": "notify_union"}), "approvals_pending").await;
    let (status, v) = api.decide(&manager, id, "approve").await;
    assert_eq!((status, v["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("not_an_approver")), "{v}");
    assert_eq!(api.decide(&supervisor, id, "approve").await.0, StatusCode::OK);
    assert_eq!(api.decide(&manager, id, "approve").await.0, StatusCode::OK);
    let approved = api.case(&hr, id).await;
    assert_eq!(approved["approved_on"], "2026-03-11");
    // Law-derived deadlines wait for termination; the stop-pay signal cannot be given before it.
    assert!(item(&approved, "file_transfer")["due_on"].is_null());
    let stop_pay = item(&approved, "stop_pay_signal")["id"].as_i64().expect("item");
    let finance = t.token("finance").await;
    let (status, v) = api
        .call(&finance, Method::PUT, &format!("/api/v1/checklist/{stop_pay}"), Some(json!({"status": "done"})))
        .await;
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("not_before_termination"))
    );

    api.refused(&hr, id, json!({"action": "notify_union"}), "protected_status_not_screened").await;
    api.ok(
        &hr,
        id,
        json!({"action": "screen_protected_status", "protected": false, "note": "no pregnancy, no medical leave"}),
    )
    .await;
    api.refused(&hr, id, json!({"action": "skip", "step": "union", "reason": "hurry"}), "step_required_by_policy")
        .await;
    api.refused(&hr, id, json!({"action": "notify_union"}), "approver_required").await;
    let union = api.ok(&supervisor, id, json!({"action": "notify_union"})).await;
    assert_eq!((union["state"].as_str(), union["deadline"].as_str()), (Some("union_notified"), Some("2026-03-18")));
    api.refused(&supervisor, id, json!({"action": "serve_termination"}), "union_wait_running").await;
    clock.advance(Duration::days(1));
    api.ok(&hr, id, json!({"action": "record_union_reply", "on": "2026-03-12", "note": "no objection"})).await;
    api.ok(&supervisor, id, json!({"action": "serve_termination"})).await;
    let served = api.ok(&hr, id, json!({"action": "dispatch_notice", "method": "in_person", "on": "2026-03-12"})).await;
    let notice = served["notices"][1]["id"].as_i64().expect("notice");
    let done = api
        .ok(&hr, id, json!({"action": "record_receipt", "notice_id": notice, "outcome": "refused", "on": "2026-03-12"}))
        .await;
    assert_eq!((done["state"].as_str(), done["effective_on"].as_str()), (Some("terminated"), Some("2026-03-12")));
    assert_eq!(pay_events().await, 1, "payroll is told to stop pay once, at termination");
    // 12 March + 15 = Friday 27 March; + 30 = Saturday 11 April → Monday 13 April.
    assert_eq!(item(&done, "file_transfer")["due_on"], "2026-03-27");
    assert_eq!(item(&done, "housing_fund_transfer")["due_on"], "2026-04-13");
    assert_eq!(item(&done, "termination_certificate")["due_on"], "2026-03-12");
    let (_, employee) = api.call(&hr, Method::GET, &format!("/api/v1/employees/{no}"), None).await;
    assert_eq!(employee["status"], "departed");

    // Close only when every item is done or waived.
    api.refused(&hr, id, json!({"action": "close"}), "checklist_open").await;
    let (status, _) = api
        .call(&finance, Method::PUT, &format!("/api/v1/checklist/{stop_pay}"), Some(json!({"status": "done"})))
        .await;
    assert_eq!(status, StatusCode::OK, "the owner completes it after termination");
    let (_, tasks) = api.call(&finance, Method::GET, "/api/v1/me/tasks", None).await;
    assert!(tasks["items"].as_array().expect("items").iter().all(|i| i["id"] != stop_pay));
    for i in done["checklist"].as_array().expect("items") {
        let item_id = i["id"].as_i64().expect("id");
        if item_id != stop_pay {
            let body = json!({"status": "waived", "note": "handled outside Lizhi in this test"});
            let (status, v) = api.call(&hr, Method::PUT, &format!("/api/v1/checklist/{item_id}"), Some(body)).await;
            assert_eq!(status, StatusCode::OK, "{v}");
        }
    }
    let (status, v) = api
        .call(
            &hr,
            Method::POST,
            &format!("/api/v1/cases/{id}/actions"),
            Some(json!({"action": "close", "rehire_eligible": true})),
        )
        .await;
    assert_eq!((status, v["error"]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("reason_required")));
    let closed = api.ok(&hr, id, json!({"action": "close", "skills": "Java， 供应链, java"})).await;
    assert_eq!((closed["state"].as_str(), closed["rehire_eligible"].as_bool()), (Some("closed"), Some(false)));
    // The alumni pool: found by skill, not eligible by default, changed only with a reason.
    let (_, pool) = api.call(&hr, Method::GET, "/api/v1/alumni?q=%E4%BE%9B%E5%BA%94", None).await;
    assert_eq!(pool["items"][0]["employee_no"].as_str(), Some(no.as_str()));
    assert_eq!(pool["items"][0]["skills"], json!(["Java", "供应链"]));
    assert_eq!(pool["items"][0]["rehire_eligible"], false);
    let (_, none) = api.call(&hr, Method::GET, "/api/v1/alumni?q=cobol", None).await;
    assert_eq!(none["items"].as_array().map(Vec::len), Some(0));
    let path = format!("/api/v1/alumni/{no}");
    let (status, v) = api.call(&hr, Method::PUT, &path, Some(json!({"rehire_eligible": true}))).await;
    assert_eq!((status, v["error"]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("reason_required")));
    let body = json!({"rehire_eligible": true, "rehire_reason": "absence explained later: family emergency"});
    let (status, v) = api.call(&hr, Method::PUT, &path, Some(body)).await;
    assert_eq!((status, v["rehire_eligible"].as_bool()), (StatusCode::OK, Some(true)), "{v}");
    let (_, eligible) = api.call(&hr, Method::GET, "/api/v1/alumni?eligible=true", None).await;
    assert_eq!(eligible["items"].as_array().map(Vec::len), Some(1));
    let actions: Vec<&str> =
        closed["events"].as_array().expect("events").iter().filter_map(|e| e["action"].as_str()).collect();
    assert_eq!(actions.first(), Some(&"open"));
    assert_eq!(actions.last(), Some(&"close"));

    // Scope: the R&D manager sees the case; a manager of Sales gets 404, not 403.
    let units = lizhi_app::people::list_org_units(&t.app, &Ctx::system("test")).await.expect("units");
    let sales = units.iter().find(|u| u.code == "CN-SALES").map(|u| u.id);
    let other = NewUser {
        username: "sales_head".into(),
        display_name: String::new(),
        password: Some(PASSWORD.into()),
        grants: vec![Grant { role: Role::Manager, org_unit_id: sales }],
    };
    auth::create_user(&t.app, &Ctx::system("test"), other).await.expect("user");
    let sales_head = t.token("sales_head").await;
    assert_eq!(api.call(&manager, Method::GET, &format!("/api/v1/cases/{id}"), None).await.0, StatusCode::OK);
    assert_eq!(api.call(&sales_head, Method::GET, &format!("/api/v1/cases/{id}"), None).await.0, StatusCode::NOT_FOUND);
    let (_, board) = api.call(&sales_head, Method::GET, "/api/v1/cases", None).await;
    assert_eq!(board["items"].as_array().map(Vec::len), Some(0));
    let (_, board) = api.call(&hr, Method::GET, "/api/v1/cases?state=closed", None).await;
    assert_eq!(board["items"][0]["id"].as_i64(), Some(id));
    let csv = t.http.get(format!("{}/api/v1/cases/export", t.base)).bearer_auth(&hr).send().await.expect("export");
    let table = lizhi_docs::read_table(&csv.bytes().await.expect("bytes"), lizhi_docs::FileFormat::Csv).expect("csv");
    let (state, no_at) = (table.column("state").expect("state"), table.column("employee_no").expect("no"));
    assert_eq!((table.rows[0].get(state), table.rows[0].get(no_at)), ("closed", no.as_str()));
    let xlsx =
        t.http.get(format!("{}/api/v1/cases/export?format=xlsx", t.base)).bearer_auth(&hr).send().await.expect("xlsx");
    let table =
        lizhi_docs::read_table(&xlsx.bytes().await.expect("bytes"), lizhi_docs::FileFormat::Xlsx).expect("xlsx");
    assert_eq!(table.rows.len(), 1);
    let res = t.http.get(format!("{}/api/v1/cases/export", t.base)).bearer_auth(&manager).send().await.expect("m");
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "exports need the export right");
}

#[tokio::test]
async fn a_return_ends_the_termination_path_and_a_resignation_converts_the_case() {
    let clock = Arc::new(FixedClock::new(at("2026-03-02T10:00:00+08:00")));
    let t = spawn_app_with(Some(clock.clone())).await;
    let api = Api { t: &t };
    let hr = t.token("hr").await;
    let back = api.first_employee_of(&hr, "CN-RD", 1).await;
    let quits = api.first_employee_of(&hr, "CN-RD", 2).await;
    // Facilities listen for departures and returns only.
    let admin = t.token("admin").await;
    let hook = json!({"kind": "webhook", "name": "Facilities", "secret": "facilities-signing-key",
        "settings": {"url": "http://127.0.0.1:9/hook", "events": ["employee.departure_confirmed", "employee.returned"]}});
    assert_eq!(api.call(&admin, Method::PUT, "/api/v1/connectors/facilities", Some(hook)).await.0, StatusCode::CREATED);
    let open = |no: String| json!({"employee_no": no, "case_type": "absconding"});
    let (_, a) = api.call(&hr, Method::POST, "/api/v1/cases", Some(open(back.clone()))).await;
    let a = a["id"].as_i64().expect("id");
    for channel in ["phone", "sms", "visit"] {
        api.ok(&hr, a, json!({"action": "log_contact", "channel": channel, "outcome": "no_answer"})).await;
    }
    api.ok(&hr, a, json!({"action": "confirm_departure"})).await;
    let sent = api.ok(&hr, a, json!({"action": "dispatch_notice", "method": "post", "on": "2026-03-02"})).await;
    let notice = sent["notices"][0]["id"].as_i64().expect("notice");
    api.refused(
        &hr,
        a,
        json!({"action": "record_receipt", "notice_id": notice, "outcome": "signed", "on": "2026-03-03"}),
        "receipt_date_invalid",
    )
    .await;
    api.refused(
        &hr,
        a,
        json!({"action": "dispatch_notice", "method": "public_notice", "on": "2026-03-02", "reason": "gone"}),
        "public_notice_needs_failed_service",
    )
    .await;
    let returned = api
        .ok(&hr, a, json!({"action": "resolve", "resolution": "discipline_only", "note": "came back on day 4"}))
        .await;
    assert_eq!(
        (returned["state"].as_str(), returned["resolution"].as_str()),
        (Some("returned"), Some("discipline_only"))
    );
    api.refused(&hr, a, json!({"action": "confirm_departure"}), "action_not_allowed").await;
    let (_, told) = api.call(&admin, Method::GET, &format!("/api/v1/outbox?case_id={a}"), None).await;
    let mut events: Vec<&str> = told["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|r| r["idempotency_key"].as_str()?.split(':').nth(2))
        .collect();
    events.sort_unstable();
    assert_eq!(events, ["employee.departure_confirmed", "employee.returned"], "{told}");
    let (status, _) = api.call(&hr, Method::POST, "/api/v1/cases", Some(open(back))).await;
    assert_eq!(status, StatusCode::CREATED, "a finished case leaves room for a new one");

    let (_, b) = api.call(&hr, Method::POST, "/api/v1/cases", Some(open(quits))).await;
    let b = b["id"].as_i64().expect("id");
    let converted = api
        .ok(&hr, b, json!({"action": "convert_to_resignation", "received_on": "2026-03-02", "probation": false}))
        .await;
    assert_eq!(converted["state"], "converted");
    let resignation = converted["converted_to"].as_i64().expect("new case");
    let r = api.case(&hr, resignation).await;
    assert_eq!(
        (r["case_type"].as_str(), r["state"].as_str(), r["effective_on"].as_str()),
        (Some("resignation"), Some("open"), Some("2026-04-01"))
    );
    assert_eq!(r["approvals"][0]["name"], "department_head", "a resignation starts with the department head");

    // A chain configured for CN01 applies to cases opened from then on.
    let admin = t.token("admin").await;
    let chain = |user: &str| {
        json!({"legal_entity": "CN01", "chain": {"steps": [
        {"name": "cfo", "approvers": [{"user": user}], "mode": "all_of", "due_workdays": 3}]}})
    };
    let path = "/api/v1/approval-chains/mutual_agreement";
    let (status, v) = api.call(&admin, Method::PUT, path, Some(chain("nobody"))).await;
    assert_eq!((status, v["error"]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("unknown_user")));
    assert_eq!(api.call(&hr, Method::PUT, path, Some(chain("admin"))).await.0, StatusCode::FORBIDDEN);
    assert_eq!(api.call(&admin, Method::PUT, path, Some(chain("admin"))).await.0, StatusCode::OK);
    let (_, chains) = api.call(&hr, Method::GET, "/api/v1/approval-chains", None).await;
    let configured = chains["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|c| c["case_type"] == "mutual_agreement" && c["legal_entity"] == "CN01");
    assert_eq!(configured.map(|c| c["default"].clone()), Some(json!(false)));
    let other = api.first_employee_of(&hr, "CN-RD", 3).await;
    let body = json!({"employee_no": other, "case_type": "mutual_agreement", "effective_on": "2026-04-30"});
    let (_, agreed) = api.call(&hr, Method::POST, "/api/v1/cases", Some(body)).await;
    assert_eq!(
        (agreed["approvals"][0]["name"].as_str(), agreed["approvals"][0]["assignees"][0].as_str()),
        (Some("cfo"), Some("admin"))
    );
}

#[tokio::test]
async fn the_case_pages_drive_steps_show_refusals_and_hide_other_departments() {
    let t = spawn_app().await;
    let api = Api { t: &t };
    let hr = t.token("hr").await;
    let no = api.first_employee_of(&hr, "CN-RD", 0).await;
    let session = t.session("hr").await;
    let form = |pairs: &[(&str, &str)], s: &Session| {
        let mut all: Vec<(String, String)> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        all.push(("csrf".into(), s.csrf.clone()));
        all
    };
    let res = t
        .request(Method::POST, "/cases", Some(&session))
        .form(&form(&[("employee_no", &no), ("case_type", "absconding")], &session))
        .send()
        .await
        .expect("open");
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let location = res.headers()["location"].to_str().expect("location").to_owned();
    let refused = t
        .request(Method::POST, &format!("{location}/actions"), Some(&session))
        .form(&form(&[("action", "confirm_departure")], &session))
        .send()
        .await
        .expect("confirm");
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    let html = refused.text().await.expect("html");
    assert!(html.contains("role=\"alert\"") && html.contains("contact attempts"), "the page says why");
    let logged = t
        .request(Method::POST, &format!("{location}/actions"), Some(&session))
        .form(&form(
            &[("action", "log_contact"), ("channel", "phone"), ("outcome", "no_answer"), ("note", "")],
            &session,
        ))
        .send()
        .await
        .expect("log");
    assert_eq!(logged.status(), StatusCode::SEE_OTHER);
    let page = t
        .request(Method::GET, &location, Some(&session))
        .header("accept-language", "zh-CN")
        .send()
        .await
        .expect("page");
    let html = page.text().await.expect("html");
    assert!(html.contains("联系中") && html.contains("登记联系记录"), "zh-CN page");
    assert!(!html.contains("value=\"skip\""), "CN-default switches no step off, so nothing can be skipped");
    let shanghai = chrono::Utc::now().with_timezone(&chrono_tz::Asia::Shanghai).format("%Y-%m-%d").to_string();
    assert!(html.contains(&format!("<td>{shanghai} ")), "timeline times are local to the entity");
    let board =
        t.request(Method::GET, "/cases", Some(&session)).send().await.expect("board").text().await.expect("html");
    assert!(board.contains(&location), "the board links the case");
    let missing = t
        .request(Method::POST, "/cases/999999/actions", Some(&session))
        .form(&form(&[("action", "open_review")], &session));
    assert_eq!(missing.send().await.expect("missing").status(), StatusCode::NOT_FOUND);
    // The R&D manager sees the case, but may not act on it; the auditor reads it.
    let manager = t.session("manager").await;
    assert_eq!(t.request(Method::GET, &location, Some(&manager)).send().await.expect("m").status(), StatusCode::OK);
    let act = t
        .request(Method::POST, &format!("{location}/actions"), Some(&manager))
        .form(&form(&[("action", "open_review")], &manager))
        .send()
        .await
        .expect("act");
    assert_eq!(act.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn reminders_fire_once_per_rule_and_overdue_approvals_escalate_to_the_approvers_manager() {
    let clock = Arc::new(FixedClock::new(at("2026-03-02T10:00:00+08:00")));
    let t = spawn_app_with(Some(clock.clone())).await;
    let api = Api { t: &t };
    let (hr, admin) = (t.token("hr").await, t.token("admin").await);
    // The HR supervisor is an employee whose line manager has an account too.
    let (_, people) = api.call(&hr, Method::GET, "/api/v1/employees?org_unit=CN-RD&limit=50", None).await;
    let with_manager = people["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|e| e["manager_no"].is_string())
        .expect("someone with a manager");
    let (sup_no, boss_no) =
        (with_manager["employee_no"].as_str().expect("no"), with_manager["manager_no"].as_str().expect("mgr"));
    let subject = people["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| e["employee_no"].as_str().expect("no"))
        .find(|n| *n != sup_no && *n != boss_no)
        .expect("subject")
        .to_owned();
    let units = lizhi_app::people::list_org_units(&t.app, &Ctx::system("test")).await.expect("units");
    let cn = units.iter().find(|u| u.code == "CN").map(|u| u.id);
    let boss = NewUser {
        username: "boss".into(),
        display_name: String::new(),
        password: Some(PASSWORD.into()),
        grants: vec![Grant { role: Role::Manager, org_unit_id: cn }],
    };
    auth::create_user(&t.app, &Ctx::system("test"), boss).await.expect("boss");
    let users = auth::list_users(&t.app, &Ctx::system("test")).await.expect("users");
    let id_of = |name: &str| users.iter().find(|u| u.username == name).expect("user").id;
    for (user, no) in [("hr_supervisor", sup_no), ("boss", boss_no)] {
        let path = format!("/api/v1/users/{}/employee", id_of(user));
        let (status, v) = api.call(&admin, Method::PUT, &path, Some(json!({"employee_no": no}))).await;
        assert_eq!(status, StatusCode::OK, "{v}");
    }
    let (status, v) = api
        .call(
            &admin,
            Method::PUT,
            &format!("/api/v1/users/{}/employee", id_of("boss")),
            Some(json!({"employee_no": "NOPE"})),
        )
        .await;
    assert_eq!((status, v["error"]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("unknown_employee")));

    // The subject holds a laptop: the checklist will carry its return.
    let laptop = json!({"kind": "laptop", "description": "ThinkPad X1 SN123", "employee_no": subject, "assigned_on": "2025-01-06"});
    let (status, v) = api.call(&hr, Method::PUT, "/api/v1/assets/LT-0042", Some(laptop)).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let (status, v) = api
        .call(&hr, Method::PUT, "/api/v1/assets/LT-0043", Some(json!({"kind": "spaceship", "description": "x"})))
        .await;
    assert_eq!((status, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("kind")));
    // A manager sees the assets held in their subtree only.
    let (_, mine) = api.call(&t.token("manager").await, Method::GET, "/api/v1/assets", None).await;
    assert_eq!(mine["items"].as_array().map(Vec::len), Some(1));
    let sales = units.iter().find(|u| u.code == "CN-SALES").map(|u| u.id);
    let other = NewUser {
        username: "sales_head".into(),
        display_name: String::new(),
        password: Some(PASSWORD.into()),
        grants: vec![Grant { role: Role::Manager, org_unit_id: sales }],
    };
    auth::create_user(&t.app, &Ctx::system("test"), other).await.expect("sales head");
    let (_, theirs) = api.call(&t.token("sales_head").await, Method::GET, "/api/v1/assets", None).await;
    assert_eq!(theirs["items"].as_array().map(Vec::len), Some(0));
    // A dismissal: HR supervisor first (2 workdays, due Wednesday 4 March), then the department head.
    let body = json!({"employee_no": subject, "case_type": "dismissal", "effective_on": "2026-03-31"});
    let (status, case) = api.call(&hr, Method::POST, "/api/v1/cases", Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{case}");
    let id = case["id"].as_i64().expect("id");
    assert_eq!(case["approvals"][0]["due_on"], "2026-03-04");
    // With a mail server configured, each new message is also queued as e-mail to the linked employee.
    let mailing = App { mail_enabled: true, ..t.app.clone() };
    let first = lizhi_app::reminders::run(&mailing).await.expect("run");
    assert_eq!((first.sent, first.escalated), (1, 0), "the supervisor is told once");
    let mut conn = t.app.db.acquire().await.expect("conn");
    let queued = lizhi_store::outbox::counts(&mut conn.conn(), lizhi_app::mail::CHANNEL).await.expect("outbox");
    let (_, sup_employee) = api.call(&hr, Method::GET, &format!("/api/v1/employees/{sup_no}"), None).await;
    let expected = if sup_employee["email"].is_string() { vec![("queued".to_owned(), 1)] } else { vec![] };
    assert_eq!(queued, expected, "one e-mail for the one new message");
    drop(conn);
    assert_eq!(lizhi_app::reminders::run(&t.app).await.expect("again").sent, 0, "nothing twice");
    let sup = t.token("hr_supervisor").await;
    let (_, inbox) = api.call(&sup, Method::GET, "/api/v1/me/messages", None).await;
    assert_eq!(inbox["items"][0]["kind"], "approval_pending");
    assert!(inbox["items"][0]["text"].as_str().expect("text").contains(&format!("#{id}")));

    clock.advance(Duration::days(2)); // Wednesday: due today, not overdue yet.
    assert_eq!(lizhi_app::reminders::run(&t.app).await.expect("wed").sent, 0);
    clock.advance(Duration::days(1)); // Thursday: overdue, escalated to the supervisor's manager.
    let late = lizhi_app::reminders::run(&t.app).await.expect("thu");
    assert_eq!((late.sent, late.escalated), (2, 1));
    assert_eq!(lizhi_app::reminders::run(&t.app).await.expect("thu again").sent, 0, "once a day");
    clock.advance(Duration::days(1));
    let friday = lizhi_app::reminders::run(&t.app).await.expect("fri");
    assert_eq!(
        (friday.sent, friday.escalated),
        (2, 0),
        "the overdue reminder is daily, for both assignees; no second escalation"
    );
    let boss = t.token("boss").await;
    let (_, tasks) = api.call(&boss, Method::GET, "/api/v1/me/tasks", None).await;
    assert_eq!(tasks["approvals"][0]["case_id"].as_i64(), Some(id));
    assert_eq!(api.decide(&boss, id, "approve").await.0, StatusCode::OK, "the escalated manager may decide");
    let after = api.case(&hr, id).await;
    assert!(after["events"].as_array().expect("events").iter().any(|e| e["action"] == "approval_escalated"));
    let (_, read) = api.call(&sup, Method::POST, "/api/v1/me/messages/read", None).await;
    assert_eq!(read["marked"].as_u64(), Some(3));
    // The department head approves; the checklist appears and its first deadline is reminded once.
    assert_eq!(api.decide(&t.token("manager").await, id, "approve").await.0, StatusCode::OK);
    let approved = api.case(&hr, id).await;
    assert_eq!(approved["state"], "approved");
    assert_eq!(item(&approved, "revoke_access")["due_on"], "2026-03-09");
    let ret = item(&approved, "return_asset");
    assert!(ret["label"].as_str().expect("label").contains("LT-0042"));
    let facilities = t.token("facilities").await;
    let photo = b"\x89PNG fake photo of the returned laptop".to_vec();
    let upload = |token: &str, bytes: Vec<u8>| {
        t.http
            .post(format!("{}/api/v1/checklist/{}/attachments?file_name=%E5%BD%92%E8%BF%98.png", t.base, ret["id"]))
            .bearer_auth(token)
            .header("content-type", "image/png")
            .body(bytes)
            .send()
    };
    let res = upload(&facilities, photo.clone()).await.expect("upload");
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = upload(&t.token("it").await, photo.clone()).await.expect("upload by a stranger");
    assert_eq!(res.status(), StatusCode::NOT_FOUND, "someone else's item looks missing");
    let res = upload(&facilities, vec![0u8; lizhi_app::case_flow::MAX_ATTACHMENT_BYTES + 1]).await.expect("big");
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let with_file = api.case(&hr, id).await;
    let file = &item(&with_file, "return_asset")["attachments"][0];
    assert_eq!(file["file_name"], "归还.png");
    let res =
        t.http.get(format!("{}/api/v1/attachments/{}", t.base, file["id"])).bearer_auth(&hr).send().await.expect("get");
    let sha = res.headers()["x-content-sha256"].to_str().expect("sha").to_owned();
    assert_eq!(res.bytes().await.expect("bytes").to_vec(), photo);
    assert_eq!(file["sha256"].as_str(), Some(sha.as_str()));
    let (status, _) = api
        .call(
            &facilities,
            Method::PUT,
            &format!("/api/v1/checklist/{}", ret["id"]),
            Some(json!({"status": "done", "note": "收回，完好"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "the facilities owner records the return");
    let (_, held) = api.call(&hr, Method::GET, &format!("/api/v1/assets?employee_no={subject}"), None).await;
    assert_eq!(held["items"][0]["status"], "returned", "the register follows the item");
    clock.advance(Duration::days(3)); // Monday 9 March.
    lizhi_app::reminders::run(&t.app).await.expect("mon");
    let (_, it_inbox) = api.call(&t.token("it").await, Method::GET, "/api/v1/me/messages", None).await;
    let kinds: Vec<&str> =
        it_inbox["items"].as_array().expect("items").iter().filter_map(|m| m["kind"].as_str()).collect();
    assert_eq!(kinds, ["item_due"]);
}

/// The text of a PDF as poppler's `pdftotext` extracts it (CI installs poppler-utils).
fn pdf_text(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("doc.pdf");
    std::fs::write(&path, pdf).expect("write");
    let out = std::process::Command::new("pdftotext")
        .args(["-layout", path.to_str().expect("path"), "-"])
        .output()
        .expect("pdftotext must be installed (poppler-utils)");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8")
}

#[tokio::test]
async fn case_documents_are_filled_from_the_case_hashed_and_readable_in_chinese() {
    let clock = Arc::new(FixedClock::new(at("2026-03-06T10:00:00+08:00")));
    let t = spawn_app_with(Some(clock.clone())).await;
    let api = Api { t: &t };
    let hr = t.token("hr").await;
    let no = api.first_employee_of(&hr, "CN-RD", 0).await;
    let (_, employee) = api.call(&hr, Method::GET, &format!("/api/v1/employees/{no}"), None).await;
    let name = employee["name"].as_str().expect("name").to_owned();
    let body = json!({"employee_no": no, "case_type": "absconding", "first_absent_date": "2026-03-02"});
    let (_, case) = api.call(&hr, Method::POST, "/api/v1/cases", Some(body)).await;
    let id = case["id"].as_i64().expect("id");
    let docs = format!("/api/v1/cases/{id}/documents");

    let (status, v) =
        api.call(&hr, Method::POST, &docs, Some(json!({"kind": "return_to_work_notice", "lang": "zh-CN"}))).await;
    assert_eq!((status, v["error"]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("missing_field")), "{v}");
    let (status, v) =
        api.call(&hr, Method::POST, &docs, Some(json!({"kind": "termination_certificate", "lang": "zh-CN"}))).await;
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("not_before_termination"))
    );
    let fields = json!({"hr_contact_phone": "021-5555 0100"});
    let (status, doc) = api
        .call(
            &hr,
            Method::POST,
            &docs,
            Some(json!({"kind": "return_to_work_notice", "lang": "zh-CN", "fields": fields})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{doc}");
    let res =
        t.http.get(format!("{}/api/v1/documents/{}", t.base, doc["id"])).bearer_auth(&hr).send().await.expect("pdf");
    assert_eq!(res.headers()["content-type"], "application/pdf");
    let header_sha = res.headers()["x-content-sha256"].to_str().expect("sha").to_owned();
    let pdf = res.bytes().await.expect("bytes");
    use sha2::Digest;
    assert_eq!(hex::encode(sha2::Sha256::digest(&pdf)), header_sha);
    assert_eq!(doc["sha256"].as_str(), Some(header_sha.as_str()), "the hash recorded is the hash of the bytes");
    let text = pdf_text(&pdf);
    let flat: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    for expected in ["催告返岗通知书", &name, "2026年3月2日", "2026年3月5日", "021-55550100", "第三十九条"]
    {
        assert!(flat.contains(expected), "{expected} missing from:\n{text}");
    }
    assert!(!flat.contains("2026年3月6日前"), "today is not an absent day yet");
    let after = api.case(&hr, id).await;
    let event = after["events"].as_array().expect("events").iter().find(|e| e["action"] == "document").expect("event");
    assert_eq!(event["detail"]["sha256"].as_str(), Some(header_sha.as_str()));
    let html = t
        .http
        .get(format!("{}/api/v1/documents/{}?format=html", t.base, doc["id"]))
        .bearer_auth(t.token("auditor").await)
        .send()
        .await
        .expect("html")
        .text()
        .await
        .expect("text");
    assert!(html.contains(&name) && html.contains("@page"), "print-ready HTML");
    let it = t.token("it").await;
    let res =
        t.http.get(format!("{}/api/v1/documents/{}", t.base, doc["id"])).bearer_auth(&it).send().await.expect("it");
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    // An admin's template: checked when saved, used from then on.
    let admin = t.token("admin").await;
    let path = "/api/v1/document-templates/return_to_work_notice/en";
    let (status, v) =
        api.call(&admin, Method::PUT, path, Some(json!({"body": "# Notice\n\n{{employee_nmae}}\n"}))).await;
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("unknown_placeholder")),
        "{v}"
    );
    let custom = lizhi_docs::letters::LetterKind::ReturnToWorkNotice
        .builtin_template(lizhi_docs::letters::Lang::En)
        .replacen("\n\n", "\n\nCUSTOM-WORDING-7\n\n", 1);
    let (status, _) = api.call(&admin, Method::PUT, path, Some(json!({"body": custom}))).await;
    assert_eq!(status, StatusCode::OK);
    let (_, doc) = api
        .call(&hr, Method::POST, &docs, Some(json!({"kind": "return_to_work_notice", "lang": "en", "fields": fields})))
        .await;
    let pdf =
        t.http.get(format!("{}/api/v1/documents/{}", t.base, doc["id"])).bearer_auth(&hr).send().await.expect("pdf");
    let text = pdf_text(&pdf.bytes().await.expect("bytes"));
    assert!(text.contains("CUSTOM-WORDING-7") && text.contains("2 March 2026"), "{text}");
}
