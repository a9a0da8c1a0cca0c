//! Employee listing, scope, paging and the pages in both languages.

use crate::support::*;

#[tokio::test]
async fn a_manager_sees_only_their_own_subtree() {
    let t = spawn_app().await;
    let s = t.session("manager").await;
    // C00002 heads CN-RD (the manager's unit); C00016 heads the UK entity.
    let own = t.request(Method::GET, "/api/v1/employees/C00002", Some(&s)).send().await.expect("own");
    assert_eq!(own.status(), StatusCode::OK);
    for path in ["/api/v1/employees/C00016", "/employees/C00016", "/api/v1/employees/C00001"] {
        let res = t.request(Method::GET, path, Some(&s)).send().await.expect("other");
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
    }
    let page: serde_json::Value = t
        .request(Method::GET, "/api/v1/employees?limit=200", Some(&s))
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    let items = page["items"].as_array().expect("items");
    assert!(!items.is_empty());
    for e in items {
        assert!(e["org_unit_code"].as_str().expect("code").starts_with("CN-RD"), "{e}");
        assert!(e["contract_address"].is_null(), "managers do not see notice addresses");
    }
    let hr = t.session("hr").await;
    let all: serde_json::Value = t
        .request(Method::GET, "/api/v1/employees?limit=200", Some(&hr))
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    assert!(all["items"].as_array().expect("items").len() > items.len());
}

#[tokio::test]
async fn employee_list_pages_by_keyset_and_filters() {
    let t = spawn_app().await;
    let token = t.token("hr").await;
    let mut seen = Vec::new();
    let mut after = String::new();
    loop {
        let page: serde_json::Value = t
            .http
            .get(format!("{}/api/v1/employees?limit=7&after={after}", t.base))
            .bearer_auth(&token)
            .send()
            .await
            .expect("page")
            .json()
            .await
            .expect("json");
        for e in page["items"].as_array().expect("items") {
            seen.push(e["employee_no"].as_str().expect("no").to_owned());
        }
        match page["next_after"].as_str() {
            Some(next) => after = next.to_owned(),
            None => break,
        }
    }
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(seen, sorted, "pages are ordered and never repeat");
    assert_eq!(seen.len(), 80);
    let uk: serde_json::Value = t
        .http
        .get(format!("{}/api/v1/employees?legal_entity=UK01&limit=200", t.base))
        .bearer_auth(&token)
        .send()
        .await
        .expect("uk")
        .json()
        .await
        .expect("json");
    let uk_items = uk["items"].as_array().expect("items");
    assert!(uk_items.iter().all(|e| e["legal_entity_code"] == "UK01"));
    assert_eq!(uk["total"].as_u64(), Some(uk_items.len() as u64), "the first page counts what the filter matches");
    let first: serde_json::Value = t
        .http
        .get(format!("{}/api/v1/employees?limit=7&org_unit=CN-RD", t.base))
        .bearer_auth(&token)
        .send()
        .await
        .expect("rd")
        .json()
        .await
        .expect("json");
    let rd_total = first["total"].as_u64().expect("total on the first page");
    assert!(rd_total > 7 && rd_total < 80, "{rd_total}");
    let second: serde_json::Value = t
        .http
        .get(format!(
            "{}/api/v1/employees?limit=7&org_unit=CN-RD&after={}",
            t.base,
            first["next_after"].as_str().expect("next")
        ))
        .bearer_auth(&token)
        .send()
        .await
        .expect("rd2")
        .json()
        .await
        .expect("json");
    assert!(second["total"].is_null(), "later pages skip the count");
    let bad =
        t.http.get(format!("{}/api/v1/employees?status=gone", t.base)).bearer_auth(&token).send().await.expect("bad");
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
}
#[tokio::test]
async fn pages_render_in_both_languages() {
    let t = spawn_app().await;
    let s = t.session("hr").await;
    for (lang, expected) in [("zh-CN", "员工"), ("en", "Employees")] {
        let html = t
            .request(Method::GET, "/employees?q=C0000", Some(&s))
            .header("accept-language", lang)
            .send()
            .await
            .expect("page")
            .text()
            .await
            .expect("html");
        assert!(html.contains(expected) && html.contains("C00001"), "{lang}");
        assert!(html.contains(r#"<small class="muted">9</small>"#), "C00001..C00009 match the prefix");
    }
    let partial = t.request(Method::GET, "/employees?q=C00001&partial=1", Some(&s)).send().await.expect("partial");
    let body = partial.text().await.expect("text");
    assert!(body.starts_with("<table") && body.contains("C00001") && !body.contains("C00002"));
    let detail =
        t.request(Method::GET, "/employees/C00001", Some(&s)).send().await.expect("detail").text().await.expect("text");
    assert!(detail.contains("C00001"));
    let _ = Permission::ViewEmployees;
}

#[tokio::test]
async fn the_employee_form_creates_and_edits_with_errors_shown_in_place() {
    let t = spawn_app().await;
    let s = t.session("hr").await;
    let form = |pairs: Vec<(&'static str, &'static str)>, path: &'static str| {
        let mut all = pairs;
        all.push(("csrf", s.csrf.as_str()));
        t.http.post(format!("{}{path}", t.base)).header("cookie", &s.cookie).form(&all).send()
    };
    let bad = form(
        vec![
            ("employee_no", "F1"),
            ("name", "钱堃"),
            ("legal_entity", "CN01"),
            ("org_unit", "CN-RD-APP"),
            ("hire_date", "2025-13-01"),
        ],
        "/new-employee",
    )
    .await
    .expect("bad");
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = bad.text().await.expect("html");
    assert!(html.contains("YYYY-MM-DD") && html.contains("钱堃"), "the error is shown and the input kept");
    let ok = form(
        vec![
            ("employee_no", "F1"),
            ("name", "钱堃"),
            ("legal_entity", "CN01"),
            ("org_unit", "CN-RD-APP"),
            ("hire_date", "2025-12-01"),
        ],
        "/new-employee",
    )
    .await
    .expect("ok");
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    assert_eq!(ok.headers().get("location").and_then(|v| v.to_str().ok()), Some("/employees/F1"));
    let dup = form(
        vec![
            ("employee_no", "F1"),
            ("name", "x"),
            ("legal_entity", "CN01"),
            ("org_unit", "CN-RD-APP"),
            ("hire_date", "2025-12-01"),
        ],
        "/new-employee",
    )
    .await
    .expect("dup");
    assert_eq!(dup.status(), StatusCode::UNPROCESSABLE_ENTITY, "creating over an existing number is refused");
    let edit = form(
        vec![
            ("name", "钱堃"),
            ("legal_entity", "CN01"),
            ("org_unit", "CN-RD-APP"),
            ("hire_date", "2025-12-01"),
            ("position", "架构师"),
        ],
        "/employees/F1/edit",
    )
    .await
    .expect("edit");
    assert_eq!(edit.status(), StatusCode::SEE_OTHER);
    let detail =
        t.request(Method::GET, "/employees/F1", Some(&s)).send().await.expect("detail").text().await.expect("html");
    assert!(detail.contains("架构师"));
}
