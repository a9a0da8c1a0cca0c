//! Every route × every role, and the OpenAPI document against the routes.

use crate::support::*;

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
