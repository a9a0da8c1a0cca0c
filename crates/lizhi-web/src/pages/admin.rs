//! User administration and the audit trail.
#![allow(clippy::too_many_arguments)]

use super::*;

pub(super) async fn users_page(
    s: &AppState,
    l: Locale,
    caller: &Caller,
    rid: &RequestId,
    secret: Option<(String, String)>,
    error: Option<String>,
) -> Response {
    let ctx = ctx(caller, rid);
    let users = match auth::list_users(&s.app, &ctx).await {
        Ok(u) => u,
        Err(e) => return app_error_page(e, l, caller),
    };
    let units = people::list_org_units(&s.app, &ctx).await.unwrap_or_default();
    let tr = Tr(l);
    let rows = users
        .into_iter()
        .map(|u| UserRow {
            id: u.id,
            roles: roles_label(l, &u.grants),
            role_flags: Role::ALL
                .iter()
                .map(|r| (r.name(), tr.t(&format!("role-{}", r.name())), u.grants.iter().any(|g| g.role == *r)))
                .collect(),
            org_unit_id: u.grants.iter().find_map(|g| g.org_unit_id),
            username: u.username,
            display_name: u.display_name,
            disabled: u.disabled,
        })
        .collect();
    render(&UsersPage {
        chrome: chrome(l, Some(caller), "users-title", "/users"),
        users: rows,
        roles: Role::ALL.iter().map(|r| (r.name(), tr.t(&format!("role-{}", r.name())))).collect(),
        units: units.into_iter().map(|u| (u.id, format!("{}{}", "· ".repeat(u.depth as usize), u.name))).collect(),
        secret,
        error,
    })
}

/// Users administration.
pub async fn users(
    State(s): State<AppState>,
    Lang(l): Lang,
    caller: Caller,
    Extension(rid): Extension<RequestId>,
) -> Response {
    users_page(&s, l, &caller, &rid, None, None).await
}

/// Creates a user from the form and shows the one-time password.
pub async fn user_create(
    State(s): State<AppState>,
    Lang(l): Lang,
    caller: Caller,
    Extension(rid): Extension<RequestId>,
    body: Bytes,
) -> Response {
    let f = form(&body);
    let Some(role) = Role::parse(&f("role")) else {
        return users_page(&s, l, &caller, &rid, None, Some(i18n::error_message(l, "unknown_role", None, None))).await;
    };
    let org_unit_id = f("org_unit").parse::<i64>().ok().filter(|_| role.is_scoped());
    let new = auth::NewUser {
        username: f("username"),
        display_name: f("display_name"),
        password: None,
        grants: vec![Grant { role, org_unit_id }],
    };
    match auth::create_user(&s.app, &ctx(&caller, &rid), new).await {
        Ok(created) => {
            let label = i18n::t_args(l, "users-one-time-password", &[("user", &created.user.username)]);
            users_page(&s, l, &caller, &rid, created.generated_password.map(|p| (label, p)), None).await
        }
        Err(e) => {
            let api = ApiError::from_app(e, l);
            users_page(&s, l, &caller, &rid, None, Some(api.message())).await
        }
    }
}

/// Replaces a user's roles from the form.
pub async fn user_roles(
    State(s): State<AppState>,
    Lang(l): Lang,
    caller: Caller,
    Extension(rid): Extension<RequestId>,
    Path(id): Path<i64>,
    body: Bytes,
) -> Response {
    let pairs = form_pairs(&body);
    let org_unit_id = pairs.iter().find(|(k, _)| k == "org_unit").and_then(|(_, v)| v.parse::<i64>().ok());
    let grants: Vec<Grant> = pairs
        .iter()
        .filter(|(k, _)| k == "role")
        .filter_map(|(_, v)| Role::parse(v))
        .map(|role| Grant { role, org_unit_id: if role.is_scoped() { org_unit_id } else { None } })
        .collect();
    let error = auth::set_roles(&s.app, &ctx(&caller, &rid), id, grants)
        .await
        .err()
        .map(|e| ApiError::from_app(e, l).message());
    users_page(&s, l, &caller, &rid, None, error).await
}

/// Disables or enables a user from the form.
pub async fn user_disabled(
    State(s): State<AppState>,
    Lang(l): Lang,
    caller: Caller,
    Extension(rid): Extension<RequestId>,
    Path(id): Path<i64>,
    body: Bytes,
) -> Response {
    let disabled = form(&body)("disabled") == "true";
    let error = auth::set_disabled(&s.app, &ctx(&caller, &rid), id, disabled)
        .await
        .err()
        .map(|e| ApiError::from_app(e, l).message());
    users_page(&s, l, &caller, &rid, None, error).await
}

/// Resets a user's password to a generated one, shown once.
pub async fn user_password(
    State(s): State<AppState>,
    Lang(l): Lang,
    caller: Caller,
    Extension(rid): Extension<RequestId>,
    Path(id): Path<i64>,
) -> Response {
    let c = ctx(&caller, &rid);
    let outcome = match auth::get_user(&s.app, &c, id).await {
        Ok(user) => auth::reset_password(&s.app, &c, &user.username, None).await.map(|p| (user.username, p)),
        Err(e) => Err(e),
    };
    match outcome {
        Ok((username, Some(p))) => {
            let label = i18n::t_args(l, "users-one-time-password", &[("user", &username)]);
            users_page(&s, l, &caller, &rid, Some((label, p)), None).await
        }
        Ok((_, None)) => users_page(&s, l, &caller, &rid, None, None).await,
        Err(e) => users_page(&s, l, &caller, &rid, None, Some(ApiError::from_app(e, l).message())).await,
    }
}

/// Issues an API token for a user, shown once.
pub async fn user_token(
    State(s): State<AppState>,
    Lang(l): Lang,
    caller: Caller,
    Extension(rid): Extension<RequestId>,
    Path(id): Path<i64>,
    body: Bytes,
) -> Response {
    let name = form(&body)("name");
    let name = if name.is_empty() { "api".to_owned() } else { name };
    match auth::create_token(&s.app, &ctx(&caller, &rid), id, &name).await {
        Ok((_, secret)) => users_page(&s, l, &caller, &rid, Some((i18n::t(l, "users-token-once"), secret)), None).await,
        Err(e) => users_page(&s, l, &caller, &rid, None, Some(ApiError::from_app(e, l).message())).await,
    }
}

/// Query of the audit page.
#[derive(Debug, serde::Deserialize, Default)]
pub struct AuditQuery {
    before: Option<i64>,
}

/// The audit trail, newest first.
pub async fn audit(
    State(s): State<AppState>,
    Lang(l): Lang,
    caller: Caller,
    Extension(rid): Extension<RequestId>,
    Query(q): Query<AuditQuery>,
) -> Response {
    const PAGE: i64 = 100;
    let events = match lizhi_app::audit::recent(&s.app, &ctx(&caller, &rid), None, q.before, PAGE).await {
        Ok(e) => e,
        Err(e) => return app_error_page(e, l, &caller),
    };
    let log = match lizhi_app::audit_log::status(&s.app, &ctx(&caller, &rid)).await {
        Ok(status) => status,
        Err(e) => return app_error_page(e, l, &caller),
    };
    let older_href =
        (events.len() as i64 == PAGE).then(|| events.last().map(|e| format!("/audit?before={}", e.seq))).flatten();
    let purged = i18n::t(l, "audit-purged");
    let events = events
        .into_iter()
        .map(|e| AuditRow {
            id: e.seq,
            at: e.at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
            actor: e.actor.unwrap_or_else(|| purged.clone()),
            action: e.action,
            entity: format!("{} {}", e.entity_type, e.entity_key.unwrap_or_else(|| purged.clone())),
            digest: e
                .after_commitment
                .or(e.before_commitment)
                .map(|d| d[..16.min(d.len())].to_owned())
                .unwrap_or_default(),
        })
        .collect();
    let log = AuditLogPanel {
        head: log.head,
        signed: log.signed,
        signed_at: log.signed_at.map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string()).unwrap_or_default(),
        note: log.note.unwrap_or_default(),
        keys: log.keys,
    };
    render(&AuditPage { chrome: chrome(l, Some(&caller), "audit-title", "/audit"), events, older_href, log })
}
