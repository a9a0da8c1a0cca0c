//! Imports (API and pages) and single-record saves: all or nothing, with row-level errors.

use crate::support::*;

const HEADER: &str = "employee_no,name,legal_entity,org_unit,manager_no,hire_date";

#[tokio::test]
async fn imports_apply_completely_or_not_at_all() {
    let t = spawn_app().await;
    let token = t.token("hr").await;
    let before = t.employee_count(&token).await;

    let good = format!(
        "{HEADER},email\nN1,王喆,CN01,CN-RD-PLT,C00002,2024-03-01,n1@x.cn\nN2,李堃,CN01,CN-RD-PLT,N1,2024-03-02,\n"
    );
    let (status, report) = t.import(&token, "employees", "good.csv", good.clone().into_bytes(), true).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(t.employee_count(&token).await, before, "a dry run lands nothing");
    let (status, report) = t.import(&token, "employees", "good.csv", good.clone().into_bytes(), false).await;
    assert_eq!((status, report["created"].as_u64()), (StatusCode::OK, Some(2)), "{report}");
    let (_, again) = t.import(&token, "employees", "good.csv", good.into_bytes(), false).await;
    assert_eq!((again["created"].as_u64(), again["unchanged"].as_u64()), (Some(0), Some(2)), "{again}");
    let after_good = t.employee_count(&token).await;
    assert_eq!(after_good, before + 2);

    // Reports before their (new) managers, and a stored employee moved under a new one.
    let later = format!(
        "{HEADER}\nL3,甲,CN01,CN-RD,L2,2024-01-01\nC00003,郭军,CN01,CN-RD-PLT,L1,2020-01-01\nL2,乙,CN01,CN-RD,L1,2024-01-01\nL1,丙,CN01,CN-RD,,2024-01-01\n"
    );
    let (status, report) = t.import(&token, "employees", "later.csv", later.into_bytes(), false).await;
    assert_eq!((status, report["created"].as_u64()), (StatusCode::OK, Some(3)), "{report}");
    let l3: serde_json::Value = t
        .http
        .get(format!("{}/api/v1/employees/L3", t.base))
        .bearer_auth(&token)
        .send()
        .await
        .expect("l3")
        .json()
        .await
        .expect("json");
    assert_eq!(l3["manager_no"], "L2");
    let c3: serde_json::Value = t
        .http
        .get(format!("{}/api/v1/employees/C00003", t.base))
        .bearer_auth(&token)
        .send()
        .await
        .expect("c3")
        .json()
        .await
        .expect("json");
    assert_eq!(c3["manager_no"], "L1");
    let after_good = after_good + 3;

    let gbk = encoding_rs::GBK.encode(&format!("{HEADER}\nN3,张三丰,CN01,CN-RD-APP,,2023-01-09\n")).0.into_owned();
    let (status, report) = t.import(&token, "employees", "gbk.csv", gbk, false).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let n3: serde_json::Value = t
        .http
        .get(format!("{}/api/v1/employees/N3", t.base))
        .bearer_auth(&token)
        .send()
        .await
        .expect("n3")
        .json()
        .await
        .expect("json");
    assert_eq!(n3["name"], "张三丰");

    let broken: Vec<(&str, String, &str, u64)> = vec![
        (
            "bad header",
            "employee_no,name,legal_entity,org_unit,manager,hire_date\nB1,x,CN01,CN-RD,,2024-01-01\n".into(),
            "missing_column",
            1,
        ),
        (
            "duplicate",
            format!("{HEADER}\nB1,x,CN01,CN-RD,,2024-01-01\nB1,y,CN01,CN-RD,,2024-01-01\n"),
            "duplicate_in_file",
            3,
        ),
        ("unknown manager", format!("{HEADER}\nB1,x,CN01,CN-RD,NOPE,2024-01-01\n"), "unknown_manager", 2),
        (
            "cycle",
            format!("{HEADER}\nB1,x,CN01,CN-RD,B2,2024-01-01\nB2,y,CN01,CN-RD,B1,2024-01-01\n"),
            "manager_cycle",
            2,
        ),
        ("bad date", format!("{HEADER}\nB1,x,CN01,CN-RD,,2024/01/05\n"), "invalid_date", 2),
        ("wrong entity", format!("{HEADER}\nB1,x,UK01,CN-RD,,2024-01-05\n"), "org_unit_entity_mismatch", 2),
        ("cycle through stored", format!("{HEADER}\nC00002,x,CN01,CN-RD,N2,2024-01-05\n"), "manager_cycle", 2),
    ];
    let audit_rows = || async {
        let mut conn = t.app.db.acquire().await.expect("conn");
        lizhi_store::audit::count(&mut conn.conn()).await.expect("count")
    };
    let audit_before = audit_rows().await;
    for (label, body, code, row) in broken {
        let (status, report) = t.import(&token, "employees", "broken.csv", body.into_bytes(), false).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{label}: {report}");
        let errors = report["errors"].as_array().expect("errors");
        assert!(
            errors.iter().any(|e| e["code"] == code
                && e["row"].as_u64() == Some(row)
                && e["message"].as_str().is_some_and(|m| !m.is_empty())),
            "{label}: expected {code} at row {row}: {report}"
        );
        assert_eq!(report["applied"], false);
    }
    assert_eq!(audit_rows().await, audit_before, "no audit row without a change");
    assert_eq!(t.employee_count(&token).await, after_good + 1, "broken files landed nothing");

    let xlsx = lizhi_docs::write_xlsx(
        "employees",
        &HEADER.split(',').collect::<Vec<_>>(),
        &[vec!["X1".into(), "Olivia Chen".into(), "UK01".into(), "UK-ENG-WEB".into(), "".into(), "2022-05-05".into()]],
    )
    .expect("xlsx");
    let (status, report) = t.import(&token, "employees", "people.xlsx", xlsx.clone(), false).await;
    assert_eq!((status, report["created"].as_u64()), (StatusCode::OK, Some(1)), "{report}");
    let (status, report) = t.import(&token, "employees", "cut.xlsx", xlsx[..xlsx.len() / 2].to_vec(), false).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(report["errors"][0]["code"], "malformed_xlsx", "{report}");

    let audit: serde_json::Value = t
        .http
        .get(format!("{}/api/v1/audit?entity_type=employee&entity_key=N1", t.base))
        .bearer_auth(t.token("auditor").await)
        .send()
        .await
        .expect("audit")
        .json()
        .await
        .expect("json");
    let events = audit["items"].as_array().expect("items");
    assert_eq!(events.len(), 1, "one create, nothing for the unchanged re-import: {audit}");
    assert_eq!(events[0]["actor"], "hr");
    assert!(
        events[0]["before_commitment"].is_null()
            && events[0]["after_commitment"].as_str().is_some_and(|d| d.len() == 64)
    );
}
#[tokio::test]
async fn single_records_follow_the_import_rules() {
    let t = spawn_app().await;
    let token = t.token("hr").await;
    let put = |path: String, body: serde_json::Value| {
        t.http.put(format!("{}{path}", t.base)).bearer_auth(&token).json(&body).send()
    };

    let created = put(
        "/api/v1/employees/P1".into(),
        serde_json::json!({"name": "周喆", "legal_entity": "CN01", "org_unit": "CN-RD-QA",
        "manager_no": "C00002", "hire_date": "2025-02-03", "email": "p1@lizhi.cn"}),
    )
    .await
    .expect("create");
    assert_eq!(created.status(), StatusCode::CREATED);
    let changed =
        put("/api/v1/employees/P1".into(), serde_json::json!({"position": "测试工程师"})).await.expect("change");
    assert_eq!(changed.status(), StatusCode::OK);
    let body: serde_json::Value = changed.json().await.expect("json");
    assert_eq!(
        (body["position"].as_str(), body["email"].as_str(), body["name"].as_str()),
        (Some("测试工程师"), Some("p1@lizhi.cn"), Some("周喆"))
    );

    let bad = put("/api/v1/employees/P1".into(), serde_json::json!({"hire_date": "03/02/2025", "email": "nope"}))
        .await
        .expect("bad");
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let err: serde_json::Value = bad.json().await.expect("json");
    let codes: Vec<&str> =
        err["error"]["details"].as_array().expect("details").iter().filter_map(|d| d["code"].as_str()).collect();
    assert!(codes.contains(&"invalid_date") && codes.contains(&"invalid_email"), "{err}");

    let cycle = put("/api/v1/employees/C00002".into(), serde_json::json!({"manager_no": "P1"})).await.expect("cycle");
    assert_eq!(cycle.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let err: serde_json::Value = cycle.json().await.expect("json");
    assert_eq!(err["error"]["code"], "manager_cycle", "{err}");

    let unit_cycle =
        put("/api/v1/org-units/CN".into(), serde_json::json!({"parent_code": "CN-RD-QA"})).await.expect("unit");
    assert_eq!(unit_cycle.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let err: serde_json::Value = unit_cycle.json().await.expect("json");
    assert_eq!(err["error"]["code"], "org_cycle", "{err}");

    let moved =
        put("/api/v1/org-units/CN-RD-QA".into(), serde_json::json!({"parent_code": "CN-OPS", "name": "质量保障"}))
            .await
            .expect("move");
    assert_eq!(moved.status(), StatusCode::OK);
    let units: serde_json::Value = t
        .http
        .get(format!("{}/api/v1/org-units", t.base))
        .bearer_auth(&token)
        .send()
        .await
        .expect("units")
        .json()
        .await
        .expect("json");
    let qa = units["items"].as_array().expect("items").iter().find(|u| u["code"] == "CN-RD-QA").expect("qa").clone();
    let ops = units["items"].as_array().expect("items").iter().find(|u| u["code"] == "CN-OPS").expect("ops").clone();
    assert_eq!(qa["depth"], 2);
    assert!(qa["path"].as_str().expect("path").starts_with(ops["path"].as_str().expect("path")), "{qa} under {ops}");

    let wrong_entity =
        put("/api/v1/org-units/CN-RD-QA".into(), serde_json::json!({"legal_entity": "UK01", "parent_code": "UK"}))
            .await
            .expect("move entity");
    assert_eq!(wrong_entity.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let err: serde_json::Value = wrong_entity.json().await.expect("json");
    assert_eq!(err["error"]["code"], "org_unit_has_employees", "{err}");

    let entity = put(
        "/api/v1/legal-entities/US01".into(),
        serde_json::json!({"name": "Lizhi Inc.", "country": "US",
        "time_zone": "America/Los_Angeles", "policy": "US-generic"}),
    )
    .await
    .expect("entity");
    assert_eq!(entity.status(), StatusCode::CREATED);
    let auditor = t.token("auditor").await;
    let refused = t
        .http
        .put(format!("{}/api/v1/employees/P1", t.base))
        .bearer_auth(&auditor)
        .json(&serde_json::json!({"name": "x"}))
        .send()
        .await
        .expect("auditor");
    assert_eq!(refused.status(), StatusCode::FORBIDDEN, "auditors never write");
}
#[tokio::test]
async fn the_import_page_previews_then_commits() {
    let t = spawn_app().await;
    let s = t.session("hr").await;
    let upload = |body: String| {
        let part = reqwest::multipart::Part::bytes(body.into_bytes()).file_name("people.csv");
        let form = reqwest::multipart::Form::new().text("kind", "employees").part("file", part);
        t.http.post(format!("{}/imports?csrf={}", t.base, s.csrf)).header("cookie", &s.cookie).multipart(form).send()
    };
    let res = upload(format!("{HEADER}\nU1,Ada Lovelace,UK01,UK-ENG-DATA,,2021-06-01\n")).await.expect("upload");
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let preview_path = res.headers().get("location").and_then(|v| v.to_str().ok()).expect("location").to_owned();
    let preview =
        t.request(Method::GET, &preview_path, Some(&s)).send().await.expect("preview").text().await.expect("html");
    assert!(preview.contains("commit"), "a clean file offers the commit button");
    let missing = t.request(Method::GET, "/api/v1/employees/U1", Some(&s)).send().await.expect("get");
    assert_eq!(missing.status(), StatusCode::NOT_FOUND, "a preview changes nothing");
    let commit = t.request(Method::POST, &format!("{preview_path}/commit"), Some(&s)).send().await.expect("commit");
    assert_eq!(commit.status(), StatusCode::OK);
    let found = t.request(Method::GET, "/api/v1/employees/U1", Some(&s)).send().await.expect("get");
    assert_eq!(found.status(), StatusCode::OK);

    let res = upload(format!("{HEADER}\nU2,Bad Date,UK01,UK-ENG-DATA,,2021-02-30\n")).await.expect("upload");
    let path = res.headers().get("location").and_then(|v| v.to_str().ok()).expect("location").to_owned();
    let html = t.request(Method::GET, &path, Some(&s)).send().await.expect("preview").text().await.expect("html");
    assert!(html.contains("hire_date") && !html.contains("/commit\""), "errors listed, no commit button");
    let forced = t.request(Method::POST, &format!("{path}/commit"), Some(&s)).send().await.expect("commit");
    assert_eq!(forced.status(), StatusCode::OK);
    let absent = t.request(Method::GET, "/api/v1/employees/U2", Some(&s)).send().await.expect("get");
    assert_eq!(absent.status(), StatusCode::NOT_FOUND, "committing a rejected file still lands nothing");
    let no_csrf =
        t.http.post(format!("{}{path}/commit", t.base)).header("cookie", &s.cookie).send().await.expect("forged");
    assert_eq!(no_csrf.status(), StatusCode::FORBIDDEN);
}
