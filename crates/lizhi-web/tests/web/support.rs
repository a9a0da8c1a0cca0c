//! A fresh app per test: its own database, seeded org, one user per role, served on port 0.

pub use lizhi_app::auth::{self, NewUser};
pub use lizhi_app::import::{self, NoProgress};
pub use lizhi_app::{App, Ctx};
pub use lizhi_core::auth::{Grant, Permission, Role};
pub use lizhi_web::{Access, WebConfig};
pub use reqwest::{Method, StatusCode};
pub use std::collections::HashMap;

pub const PASSWORD: &str = "correct horse battery";

pub struct TestApp {
    pub base: String,
    /// The database, for a second instance on the same data.
    pub url: String,
    pub app: App,
    pub http: reqwest::Client,
}

pub struct Session {
    pub cookie: String,
    pub csrf: String,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(None).await
}

/// Same, served with a clock the test sets (deadlines, reminders).
pub async fn spawn_app_with(clock: Option<std::sync::Arc<dyn lizhi_app::Clock>>) -> TestApp {
    let url = lizhi_store::testing::fresh_database_url().await.expect("db url");
    let mut app = App::open(&url, 4).await.expect("open");
    if let Some(clock) = clock {
        app = App::with_clock(app.db.clone(), clock);
    }
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
    lizhi_app::install_tls_provider();
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    TestApp { base, url, app, http }
}

impl TestApp {
    /// A JSON API call with a bearer token; the body is `null` when the answer is not JSON.
    pub async fn call(
        &self,
        token: &str,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> (StatusCode, serde_json::Value) {
        let mut rb = self.http.request(method, format!("{}{path}", self.base)).bearer_auth(token);
        if let Some(body) = body {
            rb = rb.json(&body);
        }
        let res = rb.send().await.expect("send");
        let status = res.status();
        (status, res.json().await.unwrap_or(serde_json::Value::Null))
    }

    pub async fn session(&self, username: &str) -> Session {
        let s = auth::sign_in(&self.app, username, PASSWORD, "test").await.expect("sign in");
        Session { cookie: format!("{}={}", lizhi_web::SESSION_COOKIE, s.session_id), csrf: s.csrf_token }
    }

    pub async fn token(&self, username: &str) -> String {
        let users = auth::list_users(&self.app, &Ctx::system("test")).await.expect("users");
        let id = users.iter().find(|u| u.username == username).expect("user").id;
        auth::create_token(&self.app, &Ctx::system("test"), id, "t").await.expect("token").1
    }

    pub fn request(&self, method: Method, path: &str, session: Option<&Session>) -> reqwest::RequestBuilder {
        let mut rb = self.http.request(method, format!("{}{}", self.base, path));
        if let Some(s) = session {
            rb = rb.header("cookie", &s.cookie).header("x-csrf-token", &s.csrf);
        }
        rb
    }

    pub async fn import(
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

    pub async fn employee_count(&self, token: &str) -> usize {
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

pub fn fill(path: &str, ids: &HashMap<&str, String>) -> String {
    let mut out = path.to_owned();
    for (k, v) in ids {
        out = out.replace(&format!("{{{k}}}"), v);
    }
    out
}
