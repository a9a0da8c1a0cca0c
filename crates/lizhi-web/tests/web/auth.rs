//! Sign-in, CSRF, tokens, one-time passwords and several instances.

use crate::support::*;

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
