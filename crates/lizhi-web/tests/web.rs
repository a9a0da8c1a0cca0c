//! End-to-end tests of the HTTP layer on a fresh database (SQLite, or PostgreSQL when
//! `LIZHI_TEST_DATABASE_URL` is set) and a real socket on port 0.

use lizhi_app::auth::{self, NewUser};
use lizhi_app::import::{self, NoProgress};
use lizhi_app::{App, Ctx};
use lizhi_core::auth::{Grant, Permission, Role};
use lizhi_web::{Access, WebConfig};
use reqwest::{Method, StatusCode};
use std::collections::HashMap;

const PASSWORD: &str = "correct horse battery";

struct TestApp {
    base: String,
    app: App,
    http: reqwest::Client,
}

struct Session {
    cookie: String,
    csrf: String,
}

async fn spawn_app() -> TestApp {
    let url = lizhi_store::testing::fresh_database_url().await.expect("db url");
    let app = App::open(&url, 4).await.expect("open");
    let ctx = Ctx::system("test");
    for (kind, bytes) in lizhi_app::demo::demo_files(80) {
        let report = import::run(&app, &ctx, kind, "seed.csv", &bytes, true, &NoProgress).await.expect("seed");
        assert!(report.applied, "{report:?}");
    }
    let units = lizhi_app::people::list_org_units(&app, &ctx).await.expect("units");
    let rd = units.iter().find(|u| u.code == "CN-RD").map(|u| u.id);
    for role in Role::ALL {
        let grants = vec![Grant { role, org_unit_id: if role.is_scoped() { rd } else { None } }];
        auth::create_user(
            &app,
            &ctx,
            NewUser {
                username: role.name().into(),
                display_name: String::new(),
                password: Some(PASSWORD.into()),
                grants,
            },
        )
        .await
        .expect("user");
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let served = app.clone();
    tokio::spawn(async move {
        let _ = lizhi_web::serve(served, WebConfig::default(), listener, std::future::pending()).await;
    });
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    TestApp { base, app, http }
}

impl TestApp {
    async fn session(&self, username: &str) -> Session {
        let s = auth::sign_in(&self.app, username, PASSWORD, "test").await.expect("sign in");
        Session { cookie: format!("{}={}", lizhi_web::SESSION_COOKIE, s.session_id), csrf: s.csrf_token }
    }

    async fn token(&self, username: &str) -> String {
        let users = auth::list_users(&self.app, &Ctx::system("test")).await.expect("users");
        let id = users.iter().find(|u| u.username == username).expect("user").id;
        auth::create_token(&self.app, &Ctx::system("test"), id, "t").await.expect("token").1
    }

    fn request(&self, method: Method, path: &str, session: Option<&Session>) -> reqwest::RequestBuilder {
        let mut rb = self.http.request(method, format!("{}{}", self.base, path));
        if let Some(s) = session {
            rb = rb.header("cookie", &s.cookie).header("x-csrf-token", &s.csrf);
        }
        rb
    }

    async fn import(
        &self,
        token: &str,
        kind: &str,
        name: &str,
        body: Vec<u8>,
        dry_run: bool,
    ) -> (StatusCode, serde_json::Value) {
        let res = self
            .http
            .post(format!("{}/api/v1/imports/{kind}?file_name={name}&dry_run={dry_run}", self.base))
            .bearer_auth(token)
            .body(body)
            .send()
            .await
            .expect("send");
        let status = res.status();
        (status, res.json().await.expect("json"))
    }

    async fn employee_count(&self, token: &str) -> usize {
        let res = self
            .http
            .get(format!("{}/api/v1/exports/employees", self.base))
            .bearer_auth(token)
            .send()
            .await
            .expect("send");
        assert_eq!(res.status(), StatusCode::OK);
        let text = res.text().await.expect("text");
        text.lines().filter(|l| !l.trim().is_empty()).count() - 1
    }
}

fn fill(path: &str, ids: &HashMap<&str, String>) -> String {
    let mut out = path.to_owned();
    for (k, v) in ids {
        out = out.replace(&format!("{{{k}}}"), v);
    }
    out
}

#[tokio::test]
async fn every_route_enforces_its_access_for_every_role() {
    let t = spawn_app().await;
    let specs = lizhi_web::routes::table(t.app.clone());
    assert!(specs.len() > 30);
    // Routes with an {id} act on a throwaway user, so the walk cannot end the sessions it uses.
    let victim = auth::create_user(
        &t.app,
        &Ctx::system("test"),
        NewUser {
            username: "victim".into(),
            display_name: String::new(),
            password: None,
            grants: vec![Grant { role: Role::It, org_unit_id: None }],
        },
    )
    .await
    .expect("victim");
    let ids: HashMap<&str, String> =
        [("no", "C00002".to_owned()), ("id", victim.user.id.to_string()), ("kind", "employees".to_owned())]
            .into_iter()
            .collect();
    let mut sessions = Vec::new();
    for role in Role::ALL {
        sessions.push((Some(role), Some(t.session(role.name()).await)));
    }
    sessions.push((None, None));
    for spec in &specs {
        if spec.path == "/logout" {
            continue; // Would end the session used by the rest of the walk; checked below.
        }
        for (role, session) in &sessions {
            let path = fill(spec.path, &ids);
            let res = t.request(spec.method.clone(), &path, session.as_ref()).send().await.expect("send");
            let status = res.status();
            assert!(!status.is_server_error(), "{} {path} as {role:?}: {status}", spec.method);
            let allowed = match (spec.access, role) {
                (Access::Public, _) => continue,
                (_, None) => false,
                (Access::SignedIn, Some(_)) => true,
                (Access::Needs(p), Some(r)) => r.grants(p),
            };
            if allowed {
                assert!(
                    status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN,
                    "{} {path} as {role:?} must be allowed, got {status}",
                    spec.method
                );
            } else if role.is_none() {
                let expected = if spec.is_api() { StatusCode::UNAUTHORIZED } else { StatusCode::SEE_OTHER };
                assert_eq!(status, expected, "{} {path} anonymous", spec.method);
            } else {
                assert_eq!(status, StatusCode::FORBIDDEN, "{} {path} as {role:?} must be refused", spec.method);
            }
        }
    }
    let s = t.session("auditor").await;
    let res = t.request(Method::POST, "/logout", Some(&s)).send().await.expect("logout");
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let after = t.request(Method::GET, "/api/v1/me", Some(&s)).send().await.expect("me");
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED, "the session ended");
}

#[tokio::test]
async fn openapi_documents_exactly_the_api_routes() {
    let t = spawn_app().await;
    let doc: serde_json::Value =
        t.http.get(format!("{}/api/openapi.json", t.base)).send().await.expect("get").json().await.expect("json");
    let documented: std::collections::BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .flat_map(|(path, ops)| {
            ops.as_object().into_iter().flatten().map(move |(m, _)| (m.to_uppercase(), path.clone()))
        })
        .collect();
    let registered: std::collections::BTreeSet<(String, String)> = lizhi_web::routes::table(t.app.clone())
        .into_iter()
        .filter(|s| s.is_api())
        .map(|s| (s.method.to_string(), s.path.to_owned()))
        .collect();
    let missing: Vec<_> = registered.difference(&documented).collect();
    let stale: Vec<_> = documented.difference(&registered).collect();
    assert!(missing.is_empty(), "routes missing from OpenAPI: {missing:?}");
    assert!(stale.is_empty(), "OpenAPI documents routes that do not exist: {stale:?}");
}

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
    assert!(events[0]["before_digest"].is_null() && events[0]["after_digest"].as_str().is_some_and(|d| d.len() == 64));
}

#[tokio::test]
async fn sign_in_needs_the_form_token_and_is_rate_limited() {
    let t = spawn_app().await;
    let form = t.http.get(format!("{}/login", t.base)).send().await.expect("form");
    assert_eq!(form.status(), StatusCode::OK);
    let set_cookie = form.headers().get("set-cookie").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Strict"), "{set_cookie}");
    assert!(!set_cookie.contains("Secure"), "no Secure cookies on plain http");
    for h in ["content-security-policy", "x-content-type-options", "x-frame-options", "referrer-policy"] {
        assert!(form.headers().contains_key(h), "missing {h}");
    }
    let login_cookie = set_cookie.split(';').next().unwrap_or("").to_owned();
    let token = login_cookie.split_once('=').map(|(_, v)| v.to_owned()).unwrap_or_default();
    let post = |cookie: String, csrf: String, password: &'static str| {
        t.http
            .post(format!("{}/login", t.base))
            .header("cookie", cookie)
            .form(&[("username", "hr"), ("password", password), ("csrf", csrf.as_str()), ("next", "/employees")])
            .send()
    };
    let forged = post(String::new(), "guess".into(), PASSWORD).await.expect("forged");
    assert_eq!(forged.status(), StatusCode::FORBIDDEN, "no token, no sign-in");
    let ok = post(login_cookie.clone(), token.clone(), PASSWORD).await.expect("ok");
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    assert_eq!(ok.headers().get("location").and_then(|v| v.to_str().ok()), Some("/employees"));
    let session = ok.headers().get("set-cookie").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    assert!(session.starts_with(lizhi_web::SESSION_COOKIE) && session.contains("HttpOnly"), "{session}");
    for _ in 0..lizhi_app::auth::MAX_FAILURES {
        let bad = post(login_cookie.clone(), token.clone(), "wrong password!").await.expect("bad");
        assert_eq!(bad.status(), StatusCode::UNAUTHORIZED);
    }
    let limited = post(login_cookie.clone(), token.clone(), PASSWORD).await.expect("limited");
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS, "the right password is refused while limited");
}

#[tokio::test]
async fn session_forms_need_the_csrf_token_and_tokens_do_not() {
    let t = spawn_app().await;
    let s = t.session("admin").await;
    let without = t
        .http
        .post(format!("{}/api/v1/users", t.base))
        .header("cookie", &s.cookie)
        .json(&serde_json::json!({"username": "newbie", "roles": [{"role": "hr"}]}))
        .send()
        .await
        .expect("send");
    assert_eq!(without.status(), StatusCode::FORBIDDEN);
    let with = t
        .request(Method::POST, "/api/v1/users", Some(&s))
        .json(&serde_json::json!({"username": "newbie", "roles": [{"role": "hr"}]}))
        .send()
        .await
        .expect("send");
    assert_eq!(with.status(), StatusCode::CREATED);
    let created: serde_json::Value = with.json().await.expect("json");
    assert!(
        created["generated_password"].as_str().is_some_and(|p| p.len() >= 20),
        "a one-time password, never a default"
    );
    let token = t.token("admin").await;
    let by_token = t
        .http
        .post(format!("{}/api/v1/users", t.base))
        .bearer_auth(&token)
        .json(&serde_json::json!({"username": "boss", "roles": [{"role": "manager"}]}))
        .send()
        .await
        .expect("send");
    assert_eq!(by_token.status(), StatusCode::UNPROCESSABLE_ENTITY, "a manager needs an org unit");
    let revoked =
        t.http.get(format!("{}/api/v1/me", t.base)).bearer_auth("lzt_not_a_token").send().await.expect("send");
    assert_eq!(revoked.status(), StatusCode::UNAUTHORIZED);
    let msg: serde_json::Value = t
        .http
        .get(format!("{}/api/v1/employees", t.base))
        .header("accept-language", "zh-CN")
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(msg["error"]["code"], "unauthenticated");
    assert_eq!(msg["error"]["message"], "请先登录。");
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

/// Drives headless Chromium through chromedriver (WebDriver over HTTP, no extra crates).
struct Browser {
    http: reqwest::Client,
    base: String,
    session: String,
    _driver: std::process::Child,
    _profile: tempfile::TempDir,
}

impl Browser {
    async fn start() -> Option<Browser> {
        let driver_path = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists());
        let Some(driver_path) = driver_path else {
            assert!(std::env::var("CI").is_err(), "CI must install chromium-driver");
            eprintln!("skipping browser test: chromedriver not installed");
            return None;
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port();
        let driver = std::process::Command::new(driver_path)
            .arg(format!("--port={port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("chromedriver");
        let http = reqwest::Client::new();
        let base = format!("http://127.0.0.1:{port}");
        for _ in 0..100 {
            if http.get(format!("{base}/status")).send().await.is_ok() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let profile = tempfile::tempdir().expect("profile");
        let caps = serde_json::json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:loggingPrefs": {"browser": "ALL"},
            "goog:chromeOptions": {"binary": "/usr/bin/chromium", "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
                format!("--user-data-dir={}", profile.path().display())]}}}});
        let res: serde_json::Value =
            http.post(format!("{base}/session")).json(&caps).send().await.expect("session").json().await.expect("json");
        let session = res["value"]["sessionId"].as_str().unwrap_or_else(|| panic!("no session: {res}")).to_owned();
        Some(Browser { http, base, session, _driver: driver, _profile: profile })
    }

    async fn cmd(&self, method: Method, path: &str, body: serde_json::Value) -> serde_json::Value {
        let url = format!("{}/session/{}{}", self.base, self.session, path);
        let rb = self.http.request(method.clone(), url);
        let rb = if method == Method::GET { rb } else { rb.json(&body) };
        let res: serde_json::Value = rb.send().await.expect("webdriver").json().await.expect("json");
        res["value"].clone()
    }

    async fn goto(&self, url: &str) {
        self.cmd(Method::POST, "/url", serde_json::json!({"url": url})).await;
    }

    async fn script(&self, js: &str) -> serde_json::Value {
        self.cmd(Method::POST, "/execute/sync", serde_json::json!({"script": js, "args": []})).await
    }

    async fn type_into(&self, css: &str, text: &str) {
        let el = self.cmd(Method::POST, "/element", serde_json::json!({"using": "css selector", "value": css})).await;
        let id = el
            .as_object()
            .and_then(|o| o.values().next())
            .and_then(|v| v.as_str())
            .unwrap_or_else(|| panic!("no {css}: {el}"))
            .to_owned();
        self.cmd(Method::POST, &format!("/element/{id}/value"), serde_json::json!({"text": text})).await;
    }

    async fn severe_logs(&self) -> Vec<String> {
        let logs = self.cmd(Method::POST, "/se/log", serde_json::json!({"type": "browser"})).await;
        logs.as_array()
            .unwrap_or_else(|| panic!("browser log unavailable: {logs}"))
            .iter()
            .filter(|e| e["level"] == "SEVERE" || e["level"] == "WARNING")
            .map(|e| e["message"].as_str().unwrap_or_default().to_owned())
            .collect()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self._driver.kill();
    }
}

#[tokio::test]
async fn login_and_employee_list_load_cleanly_in_chromium_at_phone_and_desktop_widths() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let t = spawn_app().await;
    for (width, height) in [(360, 780), (1280, 900)] {
        browser.cmd(Method::POST, "/window/rect", serde_json::json!({"width": width, "height": height})).await;
        browser.goto(&format!("{}/healthz", t.base)).await;
        browser.cmd(Method::DELETE, "/cookie", serde_json::json!({})).await;
        browser.goto(&format!("{}/login?next=/employees", t.base)).await;
        assert!(
            browser
                .script("return document.querySelector('form input[name=csrf]') !== null")
                .await
                .as_bool()
                .unwrap_or(false)
        );
        browser.type_into("input[name=username]", "hr").await;
        browser.type_into("input[name=password]", PASSWORD).await;
        browser.script("document.querySelector('form[action=\"/login\"]').submit(); return true").await;
        tokio::time::sleep(std::time::Duration::from_millis(400)).await;
        let path = browser.script("return location.pathname").await;
        assert_eq!(path, "/employees", "signed in and redirected at {width}px");
        let rows = browser.script("return document.querySelectorAll('table.list tbody tr').length").await;
        assert!(rows.as_u64().unwrap_or(0) >= 50, "a page of employees at {width}px: {rows}");
        let fits = browser.script("return document.documentElement.scrollWidth <= window.innerWidth + 1").await;
        assert_eq!(fits, true, "no horizontal scrolling at {width}px");
        browser.type_into("input[name=q]", "C00011").await;
        tokio::time::sleep(std::time::Duration::from_millis(900)).await;
        let filtered = browser.script("return document.querySelectorAll('table.list tbody tr').length").await;
        assert_eq!(filtered, 1, "live search replaced the table at {width}px");
        let logs = browser.severe_logs().await;
        let ours: Vec<_> = logs.into_iter().filter(|m| !m.contains("favicon.ico")).collect();
        assert!(ours.is_empty(), "console errors at {width}px: {ours:?}");
    }
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

#[tokio::test]
async fn two_instances_on_one_database_share_sessions_and_limits() {
    let t = spawn_app().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let second = format!("http://{}", listener.local_addr().expect("addr"));
    let app = t.app.clone();
    tokio::spawn(async move {
        let _ = lizhi_web::serve(app, WebConfig::default(), listener, std::future::pending()).await;
    });
    let s = t.session("hr").await;
    let me = t.http.get(format!("{second}/api/v1/me")).header("cookie", &s.cookie).send().await.expect("me");
    assert_eq!(me.status(), StatusCode::OK, "a session from one instance works on another");
    for _ in 0..lizhi_app::auth::MAX_FAILURES {
        let _ = auth::sign_in(&t.app, "finance", "wrong password!", "1.2.3.4").await;
    }
    let limited = auth::sign_in(&t.app, "finance", PASSWORD, "5.6.7.8").await;
    assert!(matches!(limited, Err(lizhi_app::AppError::RateLimited { .. })), "failures are counted in the database");
}

#[tokio::test]
async fn a_one_time_password_must_be_replaced_before_anything_else() {
    let t = spawn_app().await;
    let admin = t.token("admin").await;
    let created: serde_json::Value = t
        .http
        .post(format!("{}/api/v1/users", t.base))
        .bearer_auth(&admin)
        .json(&serde_json::json!({"username": "newhr", "display_name": "New HR", "roles": [{"role": "hr"}, {"role": "finance"}]}))
        .send()
        .await
        .expect("create")
        .json()
        .await
        .expect("json");
    let one_time = created["generated_password"].as_str().expect("one-time password").to_owned();
    assert_eq!(created["user"]["must_change_password"], true);
    let session = auth::sign_in(&t.app, "newhr", &one_time, "test").await.expect("sign in");
    let s =
        Session { cookie: format!("{}={}", lizhi_web::SESSION_COOKIE, session.session_id), csrf: session.csrf_token };
    let blocked = t.request(Method::GET, "/employees", Some(&s)).send().await.expect("employees");
    assert_eq!(blocked.status(), StatusCode::SEE_OTHER);
    assert_eq!(blocked.headers().get("location").and_then(|v| v.to_str().ok()), Some("/account"));
    let change = |current: String, new: &'static str, repeat: &'static str| {
        t.request(Method::POST, "/account/password", Some(&s))
            .form(&[("current", current.as_str()), ("new", new), ("repeat", repeat)])
            .send()
    };
    assert_eq!(
        change("wrong".into(), "a much better secret", "a much better secret").await.expect("x").status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        change(one_time.clone(), "a much better secret", "a different one!!").await.expect("x").status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(change(one_time.clone(), "short", "short").await.expect("x").status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        change(one_time.clone(), "a much better secret", "a much better secret").await.expect("x").status(),
        StatusCode::OK
    );
    let open = t.request(Method::GET, "/employees", Some(&s)).send().await.expect("employees");
    assert_eq!(open.status(), StatusCode::OK, "the session continues after the change");
    assert!(auth::sign_in(&t.app, "newhr", &one_time, "test").await.is_err(), "the one-time password is gone");
    assert!(auth::sign_in(&t.app, "newhr", "a much better secret", "test").await.is_ok());

    let admin_session = t.session("admin").await;
    let id = created["user"]["id"].as_i64().expect("id").to_string();
    let roles = t
        .request(Method::POST, &format!("/users/{id}/roles"), Some(&admin_session))
        .form(&[("role", "auditor")])
        .send()
        .await
        .expect("roles");
    assert_eq!(roles.status(), StatusCode::OK);
    let user =
        auth::get_user(&t.app, &Ctx::system("test"), created["user"]["id"].as_i64().expect("id")).await.expect("user");
    assert_eq!(user.grants.iter().map(|g| g.role).collect::<Vec<_>>(), vec![Role::Auditor]);
}
