//! Connectors and identity mapping through the API: secrets sealed and never shown, each person's
//! accounts imported all-or-nothing with row errors, one account per person per system and one person per
//! account.

use crate::support::*;
use lizhi_store::on_conn;
use serde_json::json;

const SECRET: &str = "s3cr3t-bind-password-4711";

#[tokio::test]
async fn connectors_keep_their_secret_sealed_and_identities_import_all_or_nothing() {
    let t = spawn_app().await;
    let (admin, hr) = (t.token("admin").await, t.token("hr").await);
    let ad_settings = json!({"url": "ldap://dc1.corp", "bind_dn": "cn=lizhi,dc=corp", "base_dn": "dc=corp",
        "flavor": "active_directory"});
    let ad = json!({"kind": "ldap", "name": "Corp AD", "settings": ad_settings, "secret": SECRET});
    assert_eq!(t.call(&hr, Method::PUT, "/api/v1/connectors/corp-ad", Some(ad.clone())).await.0, StatusCode::FORBIDDEN);
    assert_eq!(t.call(&admin, Method::PUT, "/api/v1/connectors/corp-ad", Some(ad)).await.0, StatusCode::CREATED);
    let wecom_secret = json!({"contact_sync_secret": "c-secret", "app_secret": "a-secret"}).to_string();
    let wecom = json!({"kind": "wecom", "name": "企业微信", "settings": {"corp_id": "ww1", "agent_id": 1000002},
        "secret": wecom_secret});
    assert_eq!(t.call(&admin, Method::PUT, "/api/v1/connectors/wecom", Some(wecom)).await.0, StatusCode::CREATED);
    // Settings are checked by building the client: an unsigned webhook or a typo is refused with the reason.
    let unsigned = json!({"kind": "webhook", "name": "Payroll", "settings": {"url": "http://payroll.local/hook"}});
    let (status, v) = t.call(&admin, Method::PUT, "/api/v1/connectors/payroll", Some(unsigned)).await;
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_settings")),
        "{v}"
    );
    assert!(v.to_string().contains("invalid_settings"), "{v}");
    let typo = json!({"kind": "webhook", "name": "Payroll", "settings": {"url": "http://payroll.local/hook",
        "events": ["pay.stopped"]}, "secret": "payroll-signing-key-42"});
    assert_eq!(
        t.call(&admin, Method::PUT, "/api/v1/connectors/payroll", Some(typo)).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let hook = json!({"kind": "webhook", "name": "Payroll", "settings": {"url": "http://payroll.local/hook",
        "events": ["pay.stop_requested"]}, "secret": "payroll-signing-key-42"});
    assert_eq!(t.call(&admin, Method::PUT, "/api/v1/connectors/payroll", Some(hook)).await.0, StatusCode::CREATED);
    for (body, code) in [
        (json!({"kind": "ldap", "name": "x", "settings": {"bind_password": "p"}}), "secret_in_settings"),
        (json!({"kind": "fax", "name": "x"}), "unknown_connector_kind"),
    ] {
        let (status, v) = t.call(&admin, Method::PUT, "/api/v1/connectors/bad", Some(body)).await;
        assert_eq!((status, v["error"]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some(code)), "{v}");
    }
    let (status, v) =
        t.call(&admin, Method::PUT, "/api/v1/connectors/Bad_Code", Some(json!({"kind": "ldap", "name": "x"}))).await;
    assert_eq!((status, v["error"]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_code")), "{v}");

    // Listed in revocation order (the directory first, WeCom last), secrets never shown, only that one is set.
    let (_, listed) = t.call(&admin, Method::GET, "/api/v1/connectors", None).await;
    let codes: Vec<&str> =
        listed["items"].as_array().expect("items").iter().filter_map(|k| k["code"].as_str()).collect();
    assert_eq!(codes, ["corp-ad", "payroll", "wecom"]);
    assert_eq!(listed["items"][0]["has_secret"], true);
    assert!(!listed.to_string().contains(SECRET));
    // Sealed in the database: the bytes stored are not the secret, and they open only with the instance key.
    let mut conn = t.app.db.acquire().await.expect("conn");
    let sealed: Vec<u8> = on_conn!(&mut conn.conn(), c => sqlx::query_scalar("SELECT sealed_secret FROM connectors WHERE code = 'corp-ad'")
        .fetch_one(&mut **c).await.expect("row"));
    drop(conn);
    assert!(!sealed.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()));
    assert_eq!(lizhi_app::connectors::secret(&t.app, "corp-ad").await.expect("secret").as_deref(), Some(SECRET));
    let other = App { secret: lizhi_app::secrets::SecretKey::ephemeral(), ..t.app.clone() };
    assert!(lizhi_app::connectors::secret(&other, "corp-ad").await.is_err());
    // Changing settings without a secret keeps the stored one.
    let rename = json!({"kind": "ldap", "name": "Corp AD (DC1)", "settings": ad_settings});
    assert_eq!(t.call(&admin, Method::PUT, "/api/v1/connectors/corp-ad", Some(rename)).await.0, StatusCode::OK);
    assert_eq!(lizhi_app::connectors::secret(&t.app, "corp-ad").await.expect("secret").as_deref(), Some(SECRET));

    // Identities: a bad file is refused whole, every problem named with its row.
    let people = t.employee_count(&hr).await;
    assert!(people > 10);
    let (_, list) = t.call(&hr, Method::GET, "/api/v1/employees?limit=3", None).await;
    let nos: Vec<String> = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| e["employee_no"].as_str().expect("no").to_owned())
        .collect();
    let (a, b, c) = (&nos[0], &nos[1], &nos[2]);
    let bad = format!(
        "employee_no,system,account_id,user_name\n{a},corp-ad,\"CN=A,OU=Staff,DC=corp\",a.user\nNOBODY,corp-ad,x,\n{b},no-such,x,\n\
         {b},payroll,x,\n{a},corp-ad,other,\n{b},wecom,zhangsan,\n{c},wecom,zhangsan,\n"
    );
    let (status, report) = t.import(&hr, "identities", "ids.csv", bad.into_bytes(), false).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{report}");
    let errors: Vec<(u64, &str)> = report["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| (e["row"].as_u64().unwrap_or(0), e["code"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(
        errors,
        [
            (3, "unknown_employee"),
            (4, "unknown_system"),
            (5, "system_without_accounts"),
            (6, "duplicate_in_file"),
            (8, "duplicate_in_file")
        ],
        "{report}"
    );
    let good = format!(
        "employee_no,system,account_id,user_name\n{a},corp-ad,\"CN=A,OU=Staff,DC=corp\",a.user\n{a},wecom,zhangsan,\n{b},wecom,lisi,\n"
    );
    let (status, report) = t.import(&hr, "identities", "ids.csv", good.clone().into_bytes(), false).await;
    assert_eq!((status, report["created"].as_u64()), (StatusCode::OK, Some(3)), "{report}");
    let (_, report) = t.import(&hr, "identities", "ids.csv", good.clone().into_bytes(), false).await;
    assert_eq!(report["applied"], true);
    let (_, again) = t.import(&hr, "identities", "ids.csv", good.into_bytes(), false).await;
    assert_eq!((again["created"].as_u64(), again["unchanged"].as_u64()), (Some(0), Some(3)), "{again}");

    // One person per account: another employee cannot take zhangsan, by file or by API.
    let taken = format!("employee_no,system,account_id\n{c},wecom,zhangsan\n");
    let (_, report) = t.import(&hr, "identities", "ids.csv", taken.into_bytes(), false).await;
    assert_eq!(report["errors"][0]["code"], "account_taken", "{report}");
    let (status, v) = t
        .call(
            &hr,
            Method::PUT,
            &format!("/api/v1/employees/{c}/identities/wecom"),
            Some(json!({"account_id": "zhangsan"})),
        )
        .await;
    assert_eq!((status, v["error"]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("account_taken")), "{v}");
    let (status, _) = t
        .call(
            &hr,
            Method::PUT,
            &format!("/api/v1/employees/{c}/identities/wecom"),
            Some(json!({"account_id": "wangwu"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, mine) = t.call(&hr, Method::GET, &format!("/api/v1/employees/{a}/identities"), None).await;
    let systems: Vec<&str> =
        mine["items"].as_array().expect("items").iter().filter_map(|i| i["system"].as_str()).collect();
    assert_eq!(systems, ["corp-ad", "wecom"], "in revocation order: {mine}");
    assert_eq!(mine["items"][0]["account_id"], "CN=A,OU=Staff,DC=corp");
    assert_eq!(
        t.call(&hr, Method::DELETE, &format!("/api/v1/employees/{a}/identities/wecom"), None).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        t.call(&hr, Method::DELETE, &format!("/api/v1/employees/{a}/identities/wecom"), None).await.0,
        StatusCode::NOT_FOUND
    );
    let it = t.token("it").await;
    assert_eq!(
        t.call(&it, Method::PUT, &format!("/api/v1/employees/{a}/identities/wecom"), Some(json!({"account_id": "z"})))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    // Every change is in the audit log, the account ids only as commitments.
    let events = lizhi_app::audit::recent(&t.app, &Ctx::system("t"), Some(("employee", a.as_str())), None, 50)
        .await
        .expect("audit");
    let actions: Vec<&str> = events.iter().map(|e| e.action.as_str()).collect();
    assert!(actions.contains(&"identity.put") && actions.contains(&"identity.delete"), "{actions:?}");
}

#[tokio::test]
async fn revoking_a_cases_access_is_queued_once_in_revocation_order_after_confirmation() {
    let t = spawn_app().await;
    let (admin, hr, manager) = (t.token("admin").await, t.token("hr").await, t.token("manager").await);
    let wecom_secret = json!({"contact_sync_secret": "c", "app_secret": "a"}).to_string();
    let ad = json!({"url": "ldap://dc1.corp", "bind_dn": "cn=lizhi,dc=corp", "base_dn": "dc=corp", "flavor": "active_directory"});
    for (code, kind, order, settings, secret) in [
        ("wecom", "wecom", 90, json!({"corp_id": "ww1", "agent_id": 1000002}), Some(wecom_secret.as_str())),
        ("corp-ad", "ldap", 10, ad, Some("bind-password")),
        ("door", "manual", 30, json!({"owner": "admin"}), None),
    ] {
        let body = json!({"kind": kind, "name": code, "revoke_order": order, "settings": settings, "secret": secret});
        assert_eq!(
            t.call(&admin, Method::PUT, &format!("/api/v1/connectors/{code}"), Some(body)).await.0,
            StatusCode::CREATED
        );
    }
    let (_, people) = t.call(&hr, Method::GET, "/api/v1/employees?org_unit=CN-RD&limit=1", None).await;
    let no = people["items"][0]["employee_no"].as_str().expect("no").to_owned();
    for (system, account) in [("wecom", "zhangsan"), ("corp-ad", "CN=Zhang,DC=corp"), ("door", "card-7")] {
        let path = format!("/api/v1/employees/{no}/identities/{system}");
        assert_eq!(t.call(&hr, Method::PUT, &path, Some(json!({"account_id": account}))).await.0, StatusCode::CREATED);
    }
    let (_, case) =
        t.call(&hr, Method::POST, "/api/v1/cases", Some(json!({"employee_no": no, "case_type": "absconding"}))).await;
    let id = case["id"].as_i64().expect("id");
    let access = format!("/api/v1/cases/{id}/access");
    let (status, v) = t.call(&hr, Method::POST, &access, Some(json!({"intent": "revoke"}))).await;
    assert_eq!((status, v["error"]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("not_confirmed")), "{v}");
    let (status, v) = t.call(&hr, Method::POST, &access, Some(json!({"intent": "freeze"}))).await;
    assert_eq!((status, v["queued"].as_u64()), (StatusCode::ACCEPTED, Some(2)), "freeze on suspicion: {v}");
    let actions = format!("/api/v1/cases/{id}/actions");
    for channel in ["phone", "phone", "wecom"] {
        t.call(
            &hr,
            Method::POST,
            &actions,
            Some(json!({"action": "log_contact", "channel": channel, "outcome": "no_answer"})),
        )
        .await;
    }
    t.call(&hr, Method::POST, &actions, Some(json!({"action": "confirm_departure"}))).await;
    assert_eq!(
        t.call(&manager, Method::POST, &access, Some(json!({"intent": "revoke"}))).await.0,
        StatusCode::FORBIDDEN
    );
    // The confirmation queued the revocation in its own transaction; "Revoke all" then adds nothing.
    let (status, v) = t.call(&hr, Method::POST, &access, Some(json!({"intent": "revoke"}))).await;
    assert_eq!((status, v["queued"].as_u64()), (StatusCode::ACCEPTED, Some(0)), "{v}");
    let (_, detail) = t.call(&hr, Method::GET, &format!("/api/v1/cases/{id}"), None).await;
    assert!(detail.to_string().contains("card-7"), "the door has no API: a checklist task names the badge: {detail}");
    let (_, matrix) = t.call(&hr, Method::GET, &access, None).await;
    let rows: Vec<(&str, &str, &str)> = matrix["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|r| {
            (r["system"].as_str().unwrap_or(""), r["intent"].as_str().unwrap_or(""), r["status"].as_str().unwrap_or(""))
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("corp-ad", "freeze", "queued"),
            ("corp-ad", "revoke", "queued"),
            ("wecom", "freeze", "queued"),
            ("wecom", "revoke", "queued")
        ],
        "directories first, WeCom last"
    );
    let (status, v) = t.call(&hr, Method::POST, &access, Some(json!({"intent": "delete"}))).await;
    assert_eq!((status, v["error"]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("unknown_intent")));

    // The page: the matrix with live reloading while actions wait, and the one-click form with its tick box.
    let session = t.session("hr").await;
    let page = t.request(Method::GET, &format!("/cases/{id}"), Some(&session)).send().await.expect("page");
    let html = page.text().await.expect("html");
    assert!(
        html.contains("data-live-access") && html.contains("name=\"confirm\"") && html.contains("corp-ad"),
        "{html}"
    );
    let form = |pairs: &[(&str, &str)]| {
        let mut all: Vec<(String, String)> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        all.push(("csrf".into(), session.csrf.clone()));
        all
    };
    let unconfirmed = t
        .request(Method::POST, &format!("/cases/{id}/access"), Some(&session))
        .form(&form(&[("intent", "revoke")]))
        .send()
        .await
        .expect("post");
    assert_eq!(unconfirmed.status(), StatusCode::UNPROCESSABLE_ENTITY, "the tick box is required");
    let confirmed = t
        .request(Method::POST, &format!("/cases/{id}/access"), Some(&session))
        .form(&form(&[("intent", "revoke"), ("confirm", "yes")]))
        .send()
        .await
        .expect("post");
    assert_eq!(confirmed.status(), StatusCode::SEE_OTHER);
    let partial = t.request(Method::GET, &format!("/cases/{id}/access"), Some(&session)).send().await.expect("partial");
    let partial = partial.text().await.expect("html");
    assert!(partial.contains("id=\"access-table\"") && !partial.contains("<html"), "{partial}");
}

const CALLBACK_TOKEN: &str = "lizhi-callback-token";
const AES_KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFA";
const CORP: &str = "ww5f1c0a9e0fa4e000";

/// A signed, encrypted callback as WeCom sends it: (query, body).
fn callback(crypto: &lizhi_connectors::wecom::crypto::CallbackCrypto, xml: &str, at: i64) -> (String, String) {
    let reply = crypto.encrypt(xml, &at.to_string(), "nonce42").expect("encrypt");
    let query = format!("msg_signature={}&timestamp={}&nonce={}", reply.signature, reply.timestamp, reply.nonce);
    (query, reply.xml())
}

fn card_press(from: &str, task_id: &str) -> String {
    format!(
        "<xml><ToUserName><![CDATA[{CORP}]]></ToUserName><FromUserName><![CDATA[{from}]]></FromUserName>\
         <CreateTime>1700000000</CreateTime><MsgType><![CDATA[event]]></MsgType>\
         <Event><![CDATA[template_card_event]]></Event><EventKey><![CDATA[approve]]></EventKey>\
         <TaskId><![CDATA[{task_id}]]></TaskId><CardType><![CDATA[button_interaction]]></CardType>\
         <ResponseCode><![CDATA[press-code-1]]></ResponseCode><AgentID>1000002</AgentID></xml>"
    )
}

#[tokio::test]
async fn a_manager_approves_from_a_wecom_card_and_forged_callbacks_change_nothing() {
    use lizhi_connectors::wecom::crypto::CallbackCrypto;
    let t = spawn_app().await;
    let (admin, hr) = (t.token("admin").await, t.token("hr").await);
    let secret = json!({"contact_sync_secret": "c", "app_secret": "a", "callback_token": CALLBACK_TOKEN,
        "encoding_aes_key": AES_KEY})
    .to_string();
    let wecom = json!({"kind": "wecom", "name": "企业微信", "settings": {"corp_id": CORP, "agent_id": 1000002},
        "secret": secret});
    assert_eq!(t.call(&admin, Method::PUT, "/api/v1/connectors/wecom", Some(wecom)).await.0, StatusCode::CREATED);
    // Testing a connection: a webhook nobody listens to fails with the reason; HR may not test.
    let dead = json!({"kind": "webhook", "name": "Dead", "settings": {"url": "http://127.0.0.1:9/hook"},
        "secret": "dead-hook-signing-key"});
    assert_eq!(t.call(&admin, Method::PUT, "/api/v1/connectors/dead", Some(dead)).await.0, StatusCode::CREATED);
    let (status, tested) = t.call(&admin, Method::POST, "/api/v1/connectors/dead/test", None).await;
    assert_eq!((status, tested["ok"].as_bool()), (StatusCode::OK, Some(false)), "{tested}");
    assert_eq!(tested["error"]["code"], "connector_refused_retryable", "{tested}");
    assert!(tested["error"]["message"].as_str().is_some_and(|m| m.contains("refused (connect)")), "{tested}");
    assert_eq!(t.call(&hr, Method::POST, "/api/v1/connectors/dead/test", None).await.0, StatusCode::FORBIDDEN);
    // The department head ("manager") is an employee with a WeCom account; so is a colleague.
    let (_, people) = t.call(&hr, Method::GET, "/api/v1/employees?org_unit=CN-RD&limit=3", None).await;
    let nos: Vec<String> = people["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| e["employee_no"].as_str().expect("no").to_owned())
        .collect();
    let ctx = Ctx::system("test");
    let manager = auth::principal_named(&t.app, "manager").await.expect("manager");
    auth::link_employee(&t.app, &ctx, manager.user_id, Some(&nos[0])).await.expect("link");
    for (no, userid) in [(&nos[0], "LiSi"), (&nos[2], "WangWu")] {
        let path = format!("/api/v1/employees/{no}/identities/wecom");
        assert_eq!(t.call(&hr, Method::PUT, &path, Some(json!({"account_id": userid}))).await.0, StatusCode::CREATED);
    }
    let (_, case) = t
        .call(
            &hr,
            Method::POST,
            "/api/v1/cases",
            Some(json!({"employee_no": nos[1], "case_type": "resignation",
            "effective_on": "2026-12-31"})),
        )
        .await;
    let id = case["id"].as_i64().expect("id");
    // The first step's approver got a card (queued in the transaction that opened the case).
    let (_, outbox) = t.call(&admin, Method::GET, "/api/v1/outbox?channel=wecom", None).await;
    let card = outbox["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|r| r["idempotency_key"].as_str().is_some_and(|k| k.contains(":approval:")))
        .unwrap_or_else(|| panic!("an approval card: {outbox}"));
    assert_eq!(card["case_id"].as_i64(), Some(id));
    let mut conn = t.app.db.acquire().await.expect("conn");
    let payload: String = on_conn!(&mut conn.conn(), c => sqlx::query_scalar("SELECT payload FROM outbox WHERE id = $1")
        .bind(card["id"].as_i64()).fetch_one(&mut **c).await.expect("payload"));
    drop(conn);
    let card: serde_json::Value = serde_json::from_str(&payload).expect("card");
    assert_eq!(card["to"], json!(["LiSi"]), "only the approver, never the person: {card}");
    assert!(card["title"].as_str().is_some_and(|t| t.starts_with("待您审批") && !t.contains('{')), "{card}");
    let task_id = card["approval"]["task_id"].as_str().expect("task id").to_owned();

    let crypto = CallbackCrypto::new(CALLBACK_TOKEN, AES_KEY, CORP).expect("crypto");
    let now = chrono::Utc::now().timestamp();
    let post = |query: String, body: String| {
        let request = t.request(Method::POST, &format!("/wecom/callback/wecom?{query}"), None).body(body);
        async move { request.send().await.expect("send").status() }
    };
    // URL verification answers the decrypted echostr.
    let echo = crypto.encrypt("echo-4711", &now.to_string(), "n1").expect("echo");
    let url = format!(
        "/wecom/callback/wecom?msg_signature={}&timestamp={}&nonce={}&echostr={}",
        echo.signature,
        echo.timestamp,
        echo.nonce,
        echo.ciphertext.replace('+', "%2B").replace('/', "%2F").replace('=', "%3D")
    );
    let answer = t.request(Method::GET, &url, None).send().await.expect("verify");
    assert_eq!((answer.status(), answer.text().await.expect("text")), (StatusCode::OK, "echo-4711".to_owned()));

    // Forged: a wrong signature, a key WeCom does not hold, a replayed old message, someone else's press.
    let (query, body) = callback(&crypto, &card_press("LiSi", &task_id), now);
    let forged = query.replacen("msg_signature=", "msg_signature=0", 1);
    assert_eq!(post(forged, body.clone()).await, StatusCode::FORBIDDEN);
    let impostor = CallbackCrypto::new("another-token", AES_KEY, CORP).expect("impostor");
    let (q, b) = callback(&impostor, &card_press("LiSi", &task_id), now);
    assert_eq!(post(q, b).await, StatusCode::FORBIDDEN);
    let (q, b) = callback(&crypto, &card_press("LiSi", &task_id), now - 3600);
    assert_eq!(post(q, b).await, StatusCode::FORBIDDEN, "older than the replay window");
    let (q, b) = callback(&crypto, &card_press("WangWu", &task_id), now);
    assert_eq!(post(q, b).await, StatusCode::OK, "authentic, but not the approver: refused quietly, logged");
    assert_eq!(post(query.clone(), "<xml><Encrypt>".into()).await, StatusCode::BAD_REQUEST);
    assert_eq!(decisions(&t, &hr, id).await, 0, "nothing was decided");

    // The approver's press is their decision, and the card's buttons are to become "approved".
    assert_eq!(post(query, body).await, StatusCode::OK);
    assert_eq!(decisions(&t, &hr, id).await, 1);
    let (_, updates) = t.call(&admin, Method::GET, "/api/v1/outbox?channel=wecom_update", None).await;
    let update = &updates["items"][0];
    assert_eq!((update["case_id"].as_i64(), update["recipient"].as_str()), (Some(id), Some("wecom")), "{updates}");
    assert!(update["idempotency_key"].as_str().is_some_and(|k| k.ends_with(":press-code-1")), "{updates}");
    let (_, audit) = t.call(&admin, Method::GET, "/api/v1/audit?limit=50", None).await;
    let text = audit.to_string();
    assert!(text.contains("wecom.card_refused") && text.contains("case.decision"), "{text}");
}

/// How many decisions the case's first approval step has.
async fn decisions(t: &TestApp, token: &str, id: i64) -> usize {
    let (_, case) = t.call(token, Method::GET, &format!("/api/v1/cases/{id}"), None).await;
    case["approvals"][0]["decisions"].as_array().map_or(0, Vec::len)
}
