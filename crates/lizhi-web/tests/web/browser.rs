//! Headless Chromium at phone and desktop widths: no console errors, no sideways scrolling.

use crate::support::*;

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
        lizhi_app::install_tls_provider();
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
    // A case with a contact and a confirmed departure, for the case board and page.
    let ctx = Ctx::system("test");
    let open = lizhi_app::cases::OpenCase {
        employee_no: "C00005".into(),
        case_type: "absconding".into(),
        first_absent_date: None,
        effective_on: None,
    };
    let case = lizhi_app::cases::open(&t.app, &ctx, &open).await.expect("case");
    for channel in ["phone", "wecom", "sms"] {
        let log = lizhi_app::cases::Command::LogContact {
            channel: channel.into(),
            outcome: "no_answer".into(),
            happened_at: None,
            note: Some("电话无人接听，微信未回复".into()),
        };
        lizhi_app::cases::act(&t.app, &ctx, case, &log).await.expect("contact");
    }
    // A signed webhook: the confirmation queues an event for it, so the outbox has a row to show.
    let hook = lizhi_app::connectors::ConnectorInput {
        kind: "webhook".into(),
        name: "Payroll 薪资系统".into(),
        settings: serde_json::json!({"url": "http://127.0.0.1:9/hooks/lizhi-departures-and-terminations"})
            .as_object()
            .cloned()
            .unwrap_or_default(),
        secret: Some("payroll-signing-key-0001".into()),
        revoke_order: None,
        enabled: Some(true),
    };
    lizhi_app::connectors::put(&t.app, &ctx, "payroll", &hook).await.expect("webhook");
    lizhi_app::cases::act(&t.app, &ctx, case, &lizhi_app::cases::Command::ConfirmDeparture).await.expect("confirm");
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
        // An HR supervisor: everything HR sees, plus the audit log and the evidence button.
        browser.type_into("input[name=username]", "hr_supervisor").await;
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
        // The risk board and an opened alert (nobody in the seeded company ever punched: all red).
        // The trial run's table: every week of the range, everyone red from the first day.
        for page in [
            "/risk?as_of=2026-03-04",
            "/risk/C00005?as_of=2026-03-04",
            "/risk/trial?from=2026-02-02&to=2026-03-01&profile=CN-default&consecutive_red=5",
        ] {
            browser.goto(&format!("{}{page}", t.base)).await;
            let rows = browser.script("return document.querySelectorAll('table.list tbody tr').length").await;
            assert!(rows.as_u64().unwrap_or(0) >= 1, "{page} at {width}px: {rows}");
            let fits = browser.script("return document.documentElement.scrollWidth <= window.innerWidth + 1").await;
            assert_eq!(fits, true, "no horizontal scrolling on {page} at {width}px");
        }
        browser.goto(&format!("{}/cases", t.base)).await;
        let cards = browser.script("return document.querySelectorAll('.case-card').length").await;
        assert_eq!(cards, 1, "the case board at {width}px");
        let fits = browser.script("return document.documentElement.scrollWidth <= window.innerWidth + 1").await;
        assert_eq!(fits, true, "no horizontal scrolling on the case board at {width}px");
        browser.goto(&format!("{}/cases/{case}", t.base)).await;
        let steps = browser.script("return document.querySelectorAll('table.list tbody tr').length").await;
        assert_eq!(steps, 5, "opened, three contacts, confirmed at {width}px");
        let forms = browser.script("return document.querySelectorAll('details form').length").await;
        assert!(forms.as_u64().unwrap_or(0) >= 3, "next-step forms at {width}px: {forms}");
        let fits = browser.script("return document.documentElement.scrollWidth <= window.innerWidth + 1").await;
        assert_eq!(fits, true, "no horizontal scrolling on the case page at {width}px");
        let evidence = browser
            .script(&format!("return document.querySelector('a[href=\"/cases/{case}/evidence\"]') !== null"))
            .await;
        assert_eq!(evidence, true, "the evidence bundle button at {width}px");
        for page in ["/messages", "/alumni?q=java", "/audit"] {
            browser.goto(&format!("{}{page}", t.base)).await;
            let title =
                browser.script("return document.querySelector('h1') && document.querySelector('h1').textContent").await;
            assert!(title.as_str().is_some_and(|t| !t.is_empty()), "{page} at {width}px");
            let fits = browser.script("return document.documentElement.scrollWidth <= window.innerWidth + 1").await;
            assert_eq!(fits, true, "no horizontal scrolling on {page} at {width}px");
        }
        // An administrator's connector and outbox pages.
        browser.cmd(Method::DELETE, "/cookie", serde_json::json!({})).await;
        browser.goto(&format!("{}/login?next=/connectors", t.base)).await;
        browser.type_into("input[name=username]", "admin").await;
        browser.type_into("input[name=password]", PASSWORD).await;
        browser.script("document.querySelector('form[action=\"/login\"]').submit(); return true").await;
        tokio::time::sleep(std::time::Duration::from_millis(400)).await;
        for (page, marker) in
            [("/connectors", "#connector-payroll textarea"), ("/outbox", "tr.outbox-queued"), ("/outbox/1", "dl.facts")]
        {
            browser.goto(&format!("{}{page}", t.base)).await;
            let found = browser.script(&format!("return document.querySelector('{marker}') !== null")).await;
            assert_eq!(found, true, "{marker} on {page} at {width}px");
            let fits = browser.script("return document.documentElement.scrollWidth <= window.innerWidth + 1").await;
            assert_eq!(fits, true, "no horizontal scrolling on {page} at {width}px");
        }
        let logs = browser.severe_logs().await;
        assert!(logs.is_empty(), "console errors at {width}px: {logs:?}");
    }
}
