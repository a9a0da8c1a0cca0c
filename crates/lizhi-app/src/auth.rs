//! Passwords, sign-in with rate limiting, sessions, API tokens and user administration.

use crate::audit::{change, record};
use crate::{App, AppError, Ctx, random_bytes};
use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Duration;
use lizhi_core::auth::{Grant, Permission, Principal, Role};
use lizhi_core::model::User;
use lizhi_store::users as store;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// How long a session lives without signing in again.
pub const SESSION_TTL_HOURS: i64 = 12;
/// Failed sign-ins allowed per username or client in [`RATE_WINDOW_MINUTES`].
pub const MAX_FAILURES: i64 = 5;
/// The rate-limit window.
pub const RATE_WINDOW_MINUTES: i64 = 15;
/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 10;

/// Hashes a password with argon2id and a fresh salt (PHC string).
pub fn hash_password(password: &str) -> Result<String, AppError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|_| AppError::invalid("password", "hash_failed"))
}

fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// A random secret, URL-safe, with a prefix that says what it is (helps secret scanners).
pub fn new_secret(prefix: &str) -> String {
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(random_bytes::<32>()))
}

/// SHA-256 hex of a secret: what the database keeps instead of the secret itself.
pub fn secret_hash(secret: &str) -> String {
    secret_hash_bytes(secret.as_bytes())
}

/// SHA-256 hex of bytes.
pub fn secret_hash_bytes(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn check_password_strength(password: &str, username: &str) -> Result<(), AppError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AppError::invalid("password", "password_too_short"));
    }
    if password.eq_ignore_ascii_case(username) {
        return Err(AppError::invalid("password", "password_is_username"));
    }
    Ok(())
}

fn check_username(username: &str) -> Result<(), AppError> {
    let ok = (2..=64).contains(&username.len())
        && username.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if ok { Ok(()) } else { Err(AppError::invalid("username", "invalid_username")) }
}

/// A new session: the cookie value (shown once) and its CSRF token.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// Raw session id for the cookie; only its hash is stored.
    pub session_id: String,
    /// Token every form of this session must echo.
    pub csrf_token: String,
    /// The signed-in user.
    pub user_id: i64,
}

/// Checks a username and password, enforcing the failure rate limit, and opens a session.
pub async fn sign_in(app: &App, username: &str, password: &str, client: &str) -> Result<NewSession, AppError> {
    let now = app.clock.now();
    let username = username.trim();
    let mut tx = app.db.begin().await?;
    let since = now - Duration::minutes(RATE_WINDOW_MINUTES);
    let (by_user, by_client) = store::failures_since(&mut tx.conn(), username, client, since).await?;
    if by_user >= MAX_FAILURES || by_client >= MAX_FAILURES * 4 {
        return Err(AppError::RateLimited { retry_after_secs: (RATE_WINDOW_MINUTES * 60) as u64 });
    }
    let creds = store::credentials(&mut tx.conn(), username).await?;
    // Hash even for unknown users so timing does not reveal which usernames exist.
    let (user_id, ok) = match &creds {
        Some((id, phc, disabled)) => (*id, verify_password(password, phc) && !disabled),
        None => {
            let _ = verify_password(password, dummy_hash());
            (0, false)
        }
    };
    store::record_attempt(&mut tx.conn(), username, client, ok, now).await?;
    if !ok {
        tx.commit().await?;
        return Err(AppError::BadCredentials);
    }
    let session = NewSession { session_id: new_secret("lzs_"), csrf_token: new_secret(""), user_id };
    let expires = now + Duration::hours(SESSION_TTL_HOURS);
    store::create_session(
        &mut tx.conn(),
        &secret_hash(&session.session_id),
        user_id,
        &session.csrf_token,
        now,
        expires,
    )
    .await?;
    let ctx = Ctx { principal: None, actor: username.to_owned(), request_id: crate::new_request_id() };
    let info = serde_json::json!({"client": client, "expires_at": expires});
    record(app, &mut tx.conn(), &ctx, &[change(&ctx, "session.sign_in", "user", username, None, Some(&info))]).await?;
    tx.commit().await?;
    Ok(session)
}

/// An argon2id hash of a random string, verified against when the username is unknown.
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hash_password(&new_secret("")).unwrap_or_default())
}

/// The principal and CSRF token behind a session cookie, if it is live.
pub async fn session_principal(app: &App, session_id: &str) -> Result<Option<(Principal, String, User)>, AppError> {
    let mut conn = app.db.acquire().await?;
    let mut c = conn.conn();
    let Some((user_id, csrf)) = store::find_session(&mut c, &secret_hash(session_id), app.clock.now()).await? else {
        return Ok(None);
    };
    Ok(store::get(&mut c, user_id).await?.map(|u| (principal_of(&u), csrf, u)))
}

/// The principal behind an API token, if it is live.
pub async fn token_principal(app: &App, token: &str) -> Result<Option<(Principal, User)>, AppError> {
    let mut conn = app.db.acquire().await?;
    let mut c = conn.conn();
    let Some(user_id) = store::use_token(&mut c, &secret_hash(token), app.clock.now()).await? else {
        return Ok(None);
    };
    Ok(store::get(&mut c, user_id).await?.filter(|u| !u.disabled).map(|u| (principal_of(&u), u)))
}

/// The principal of an enabled user by name, for the operator's `--as USER` on the command line.
pub async fn principal_named(app: &App, username: &str) -> Result<Principal, AppError> {
    let mut conn = app.db.acquire().await?;
    let users = store::list(&mut conn.conn()).await?;
    users.iter().find(|u| u.username == username.trim() && !u.disabled).map(principal_of).ok_or(AppError::NotFound)
}

pub(crate) fn principal_of(user: &User) -> Principal {
    Principal { user_id: user.id, username: user.username.clone(), grants: user.grants.clone() }
}

/// Ends a session.
pub async fn sign_out(app: &App, ctx: &Ctx, session_id: &str) -> Result<(), AppError> {
    let mut tx = app.db.begin().await?;
    store::delete_session(&mut tx.conn(), &secret_hash(session_id)).await?;
    let info = serde_json::json!({"signed_out_at": app.clock.now()});
    record(app, &mut tx.conn(), ctx, &[change(ctx, "session.sign_out", "user", &ctx.actor, None, Some(&info))]).await?;
    tx.commit().await?;
    Ok(())
}

/// Remembers the UI language a user picked.
pub async fn set_locale(app: &App, ctx: &Ctx, locale: &str) -> Result<(), AppError> {
    let principal = ctx.principal.as_ref().ok_or(AppError::Unauthenticated)?;
    let mut tx = app.db.begin().await?;
    store::set_locale(&mut tx.conn(), principal.user_id, locale).await?;
    let info = serde_json::json!({"locale": locale});
    record(app, &mut tx.conn(), ctx, &[change(ctx, "user.set_locale", "user", &principal.username, None, Some(&info))])
        .await?;
    tx.commit().await?;
    Ok(())
}

/// What an admin submits to create a user.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Login name.
    pub username: String,
    /// Shown name.
    pub display_name: String,
    /// Initial password; `None` generates a one-time password that is returned once.
    pub password: Option<String>,
    /// Roles.
    pub grants: Vec<Grant>,
}

/// A created user and, when generated, its one-time password.
#[derive(Debug, Clone, Serialize)]
pub struct CreatedUser {
    /// The user.
    pub user: User,
    /// Generated password, shown once and never stored in clear.
    pub generated_password: Option<String>,
}

fn check_grants(grants: &[Grant]) -> Result<(), AppError> {
    if grants.is_empty() {
        return Err(AppError::invalid("roles", "required"));
    }
    for g in grants {
        if g.role.is_scoped() && g.org_unit_id.is_none() {
            return Err(AppError::invalid("org_unit", "manager_needs_org_unit"));
        }
    }
    Ok(())
}

/// Creates a user (admins only).
pub async fn create_user(app: &App, ctx: &Ctx, new: NewUser) -> Result<CreatedUser, AppError> {
    ctx.require(Permission::ManageUsers)?;
    let username = new.username.trim().to_owned();
    check_username(&username)?;
    check_grants(&new.grants)?;
    let (password, generated) = match new.password {
        Some(p) => {
            check_password_strength(&p, &username)?;
            (p, None)
        }
        None => {
            let p = new_secret("");
            (p.clone(), Some(p))
        }
    };
    let hash = hash_password(&password)?;
    let display =
        if new.display_name.trim().is_empty() { username.clone() } else { new.display_name.trim().to_owned() };
    let mut tx = app.db.begin().await?;
    let id = store::create(&mut tx.conn(), &username, &display, &hash, generated.is_some(), app.clock.now()).await?;
    store::set_grants(&mut tx.conn(), id, &new.grants).await?;
    let user = store::get(&mut tx.conn(), id).await?.ok_or(AppError::NotFound)?;
    record(app, &mut tx.conn(), ctx, &[change(ctx, "user.create", "user", &username, None, Some(&user))]).await?;
    tx.commit().await?;
    Ok(CreatedUser { user, generated_password: generated })
}

/// Replaces a user's roles (admins only).
pub async fn set_roles(app: &App, ctx: &Ctx, user_id: i64, grants: Vec<Grant>) -> Result<User, AppError> {
    ctx.require(Permission::ManageUsers)?;
    check_grants(&grants)?;
    let mut tx = app.db.begin().await?;
    let before = store::get(&mut tx.conn(), user_id).await?.ok_or(AppError::NotFound)?;
    store::set_grants(&mut tx.conn(), user_id, &grants).await?;
    let after = store::get(&mut tx.conn(), user_id).await?.ok_or(AppError::NotFound)?;
    record(
        app,
        &mut tx.conn(),
        ctx,
        &[change(ctx, "user.set_roles", "user", &after.username, Some(&before), Some(&after))],
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// Disables or re-enables a user; disabling ends their sessions at once.
pub async fn set_disabled(app: &App, ctx: &Ctx, user_id: i64, disabled: bool) -> Result<User, AppError> {
    ctx.require(Permission::ManageUsers)?;
    if ctx.principal.as_ref().is_some_and(|p| p.user_id == user_id) && disabled {
        return Err(AppError::invalid("user", "cannot_disable_self"));
    }
    let mut tx = app.db.begin().await?;
    let before = store::get(&mut tx.conn(), user_id).await?.ok_or(AppError::NotFound)?;
    store::set_disabled(&mut tx.conn(), user_id, disabled, app.clock.now()).await?;
    let after = store::get(&mut tx.conn(), user_id).await?.ok_or(AppError::NotFound)?;
    let action = if disabled { "user.disable" } else { "user.enable" };
    record(app, &mut tx.conn(), ctx, &[change(ctx, action, "user", &after.username, Some(&before), Some(&after))])
        .await?;
    tx.commit().await?;
    Ok(after)
}

/// Links a user account to an employee (or unlinks it with `None`), for approval escalation along the line
/// manager and the own-case rule.
pub async fn link_employee(app: &App, ctx: &Ctx, user_id: i64, employee_no: Option<&str>) -> Result<User, AppError> {
    ctx.require(Permission::ManageUsers)?;
    let mut tx = app.db.begin().await?;
    let before = store::get(&mut tx.conn(), user_id).await?.ok_or(AppError::NotFound)?;
    let employee = match employee_no.map(str::trim).filter(|n| !n.is_empty()) {
        Some(no) => Some(
            lizhi_store::employees::get_by_no(&mut tx.conn(), no)
                .await?
                .ok_or_else(|| AppError::invalid("employee_no", "unknown_employee"))?
                .id,
        ),
        None => None,
    };
    store::set_employee(&mut tx.conn(), user_id, employee, app.clock.now()).await?;
    let after = store::get(&mut tx.conn(), user_id).await?.ok_or(AppError::NotFound)?;
    record(
        app,
        &mut tx.conn(),
        ctx,
        &[change(ctx, "user.link_employee", "user", &after.username, Some(&before), Some(&after))],
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// Sets a new password (given, or generated and returned once) and ends the user's sessions.
pub async fn reset_password(
    app: &App,
    ctx: &Ctx,
    username: &str,
    password: Option<String>,
) -> Result<Option<String>, AppError> {
    ctx.require(Permission::ManageUsers)?;
    let (password, generated) = match password {
        Some(p) => {
            check_password_strength(&p, username)?;
            (p, None)
        }
        None => {
            let p = new_secret("");
            (p.clone(), Some(p))
        }
    };
    let hash = hash_password(&password)?;
    let mut tx = app.db.begin().await?;
    let (id, _, _) = store::credentials(&mut tx.conn(), username).await?.ok_or(AppError::NotFound)?;
    store::set_password(&mut tx.conn(), id, &hash, generated.is_some(), app.clock.now()).await?;
    store::delete_sessions_of(&mut tx.conn(), id).await?;
    let marker = serde_json::json!({"password_changed_at": app.clock.now()});
    record(app, &mut tx.conn(), ctx, &[change(ctx, "user.reset_password", "user", username, None, Some(&marker))])
        .await?;
    tx.commit().await?;
    Ok(generated)
}

/// Changes the caller's own password after checking the current one; other sessions end.
pub async fn change_own_password(
    app: &App,
    ctx: &Ctx,
    session_id: Option<&str>,
    current: &str,
    new: &str,
) -> Result<(), AppError> {
    let principal = ctx.principal.as_ref().ok_or(AppError::Unauthenticated)?;
    check_password_strength(new, &principal.username)?;
    if current == new {
        return Err(AppError::invalid("password", "password_unchanged"));
    }
    let hash = hash_password(new)?;
    let mut tx = app.db.begin().await?;
    let stored = store::password_hash(&mut tx.conn(), principal.user_id).await?.ok_or(AppError::NotFound)?;
    if !verify_password(current, &stored) {
        return Err(AppError::invalid("current_password", "bad_credentials"));
    }
    store::set_password(&mut tx.conn(), principal.user_id, &hash, false, app.clock.now()).await?;
    match session_id {
        Some(sid) => store::delete_other_sessions(&mut tx.conn(), principal.user_id, &secret_hash(sid)).await?,
        None => store::delete_sessions_of(&mut tx.conn(), principal.user_id).await?,
    }
    let marker = serde_json::json!({"password_changed_at": app.clock.now(), "by": "self"});
    record(
        app,
        &mut tx.conn(),
        ctx,
        &[change(ctx, "user.change_password", "user", &principal.username, None, Some(&marker))],
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Every user (admins only).
pub async fn list_users(app: &App, ctx: &Ctx) -> Result<Vec<User>, AppError> {
    ctx.require(Permission::ManageUsers)?;
    let mut conn = app.db.acquire().await?;
    Ok(store::list(&mut conn.conn()).await?)
}

/// One user (admins only).
pub async fn get_user(app: &App, ctx: &Ctx, user_id: i64) -> Result<User, AppError> {
    ctx.require(Permission::ManageUsers)?;
    let mut conn = app.db.acquire().await?;
    store::get(&mut conn.conn(), user_id).await?.ok_or(AppError::NotFound)
}

/// Whether the installation has no user yet (first start).
pub async fn no_users_yet(app: &App) -> Result<bool, AppError> {
    let mut conn = app.db.acquire().await?;
    Ok(store::count(&mut conn.conn()).await? == 0)
}

/// Creates the first admin with a one-time password, only while no user exists.
pub async fn bootstrap_admin(app: &App, username: &str) -> Result<Option<String>, AppError> {
    if !no_users_yet(app).await? {
        return Ok(None);
    }
    let created = create_user(
        app,
        &Ctx::system("bootstrap"),
        NewUser {
            username: username.to_owned(),
            display_name: "Administrator".into(),
            password: None,
            grants: vec![Grant { role: Role::Admin, org_unit_id: None }],
        },
    )
    .await?;
    Ok(created.generated_password)
}

/// Issues an API token for a user (admins only); the secret is returned once.
pub async fn create_token(app: &App, ctx: &Ctx, user_id: i64, name: &str) -> Result<(i64, String), AppError> {
    ctx.require(Permission::ManageUsers)?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::invalid("name", "required"));
    }
    let secret = new_secret("lzt_");
    let mut tx = app.db.begin().await?;
    let user = store::get(&mut tx.conn(), user_id).await?.ok_or(AppError::NotFound)?;
    let id = store::create_token(&mut tx.conn(), user_id, name, &secret_hash(&secret), app.clock.now()).await?;
    let info = serde_json::json!({"token_id": id, "name": name});
    record(app, &mut tx.conn(), ctx, &[change(ctx, "token.create", "user", &user.username, None, Some(&info))]).await?;
    tx.commit().await?;
    Ok((id, secret))
}

/// A user's tokens, without secrets (admins only).
pub async fn list_tokens(app: &App, ctx: &Ctx, user_id: i64) -> Result<Vec<store::TokenInfo>, AppError> {
    ctx.require(Permission::ManageUsers)?;
    let mut conn = app.db.acquire().await?;
    Ok(store::list_tokens(&mut conn.conn(), user_id).await?)
}

/// Revokes a token (admins only).
pub async fn revoke_token(app: &App, ctx: &Ctx, token_id: i64) -> Result<(), AppError> {
    ctx.require(Permission::ManageUsers)?;
    let mut tx = app.db.begin().await?;
    if !store::revoke_token(&mut tx.conn(), token_id, app.clock.now()).await? {
        return Err(AppError::NotFound);
    }
    let info = serde_json::json!({"token_id": token_id});
    record(app, &mut tx.conn(), ctx, &[change(ctx, "token.revoke", "token", &token_id.to_string(), None, Some(&info))])
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Deletes expired sessions and old attempts; run periodically.
pub async fn housekeeping(app: &App) -> Result<(), AppError> {
    let now = app.clock.now();
    let mut tx = app.db.begin().await?;
    store::purge_expired(&mut tx.conn(), now, now - Duration::days(30)).await?;
    tx.commit().await?;
    Ok(())
}
