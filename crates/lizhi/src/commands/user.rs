//! `lizhi user …`: account administration from the shell, above all creating the first admin
//! (there is never a default password) and recovering a locked-out one.

use super::Env;
use crate::cli::{UserCommand, UserCreateArgs, UserNameArg, UserPasswordArgs, UserTokenArgs};
use crate::config::read_secret_line;
use crate::ui::{self, tr};
use anyhow::{Result, anyhow, bail};
use lizhi_app::auth::{self, NewUser};
use lizhi_app::{App, Ctx};
use lizhi_core::auth::Grant;
use lizhi_core::model::User;
use std::collections::HashMap;
use std::process::ExitCode;

/// Dispatches a `user` subcommand.
pub async fn run(env: &Env, cmd: UserCommand) -> Result<ExitCode> {
    // Read a piped password before connecting, so a failing pipe fails fast.
    let password = match &cmd {
        UserCommand::Create(UserCreateArgs { password_stdin: true, .. })
        | UserCommand::ResetPassword(UserPasswordArgs { password_stdin: true, .. }) => Some(read_secret_line()?),
        _ => None,
    };
    let app = env.open().await?;
    let ctx = env.ctx();
    let outcome = match cmd {
        UserCommand::Create(args) => create(env, &app, &ctx, args, password).await,
        UserCommand::ResetPassword(args) => reset(env, &app, &ctx, args, password).await,
        UserCommand::List => list(env, &app, &ctx).await,
        UserCommand::CreateToken(args) => token(env, &app, &ctx, args).await,
        UserCommand::Disable(UserNameArg { username }) => set_disabled(env, &app, &ctx, &username, true).await,
        UserCommand::Enable(UserNameArg { username }) => set_disabled(env, &app, &ctx, &username, false).await,
        UserCommand::Link(args) => link(env, &app, &ctx, &args.username, &args.employee_no).await,
    };
    app.db.close().await;
    outcome.map(|()| ExitCode::SUCCESS)
}

async fn create(env: &Env, app: &App, ctx: &Ctx, args: UserCreateArgs, password: Option<String>) -> Result<()> {
    let locale = env.locale;
    let scoped = args.roles.iter().any(|r| r.is_scoped());
    let org_unit_id = match (&args.org_unit, scoped) {
        (Some(code), true) => {
            let units = lizhi_app::people::list_org_units(app, ctx).await.map_err(ui::app_error(locale))?;
            let unit = units.iter().find(|u| u.code == *code).ok_or_else(|| {
                anyhow!("no org unit has the code {code} (import org units first, or check `lizhi export org-units`)")
            })?;
            Some(unit.id)
        }
        (None, true) => bail!("the manager role is limited to an org subtree: add --org-unit CODE"),
        (Some(_), false) => bail!("--org-unit only applies to the manager role"),
        (None, false) => None,
    };
    let grants: Vec<Grant> = args
        .roles
        .iter()
        .map(|&role| Grant { role, org_unit_id: if role.is_scoped() { org_unit_id } else { None } })
        .collect();
    let created = auth::create_user(
        app,
        ctx,
        NewUser { username: args.username.clone(), display_name: args.name.unwrap_or_default(), password, grants },
    )
    .await
    .map_err(ui::app_error(locale))?;
    let roles: Vec<&str> = created.user.grants.iter().map(|g| g.role.name()).collect();
    println!(
        "{}",
        tr(
            locale,
            format!("Created user {} ({}).", created.user.username, roles.join(", ")),
            format!("已创建用户 {}（{}）。", created.user.username, roles.join("，"))
        )
    );
    if let Some(p) = created.generated_password {
        print_one_time(locale, &created.user.username, &p);
    }
    Ok(())
}

fn print_one_time(locale: lizhi_app::i18n::Locale, username: &str, password: &str) {
    println!(
        "{}\n\n    {password}\n\n{}",
        tr(
            locale,
            "One-time password (shown only now; it is not stored in clear anywhere):",
            "一次性密码（只显示这一次，任何地方都不保存明文）："
        ),
        tr(
            locale,
            format!("Hand it over on a safe channel. Lost it? Run `lizhi user reset-password {username}`."),
            format!("请通过安全渠道交给本人。如遗失，请运行 `lizhi user reset-password {username}`。")
        )
    );
}

async fn reset(env: &Env, app: &App, ctx: &Ctx, args: UserPasswordArgs, password: Option<String>) -> Result<()> {
    let locale = env.locale;
    let generated = auth::reset_password(app, ctx, &args.username, password).await.map_err(|e| match e {
        lizhi_app::AppError::NotFound => anyhow!("no user is called {}", args.username),
        other => ui::app_error(locale)(other),
    })?;
    println!(
        "{}",
        tr(
            locale,
            format!("Password of {} changed; their sessions were ended.", args.username),
            format!("已修改 {} 的密码，并结束其所有会话。", args.username)
        )
    );
    if let Some(p) = generated {
        print_one_time(locale, &args.username, &p);
    }
    Ok(())
}

async fn list(env: &Env, app: &App, ctx: &Ctx) -> Result<()> {
    let locale = env.locale;
    let users = auth::list_users(app, ctx).await.map_err(ui::app_error(locale))?;
    let units: HashMap<i64, String> = lizhi_app::people::list_org_units(app, ctx)
        .await
        .map_err(ui::app_error(locale))?
        .into_iter()
        .map(|u| (u.id, u.code))
        .collect();
    let rows: Vec<Vec<String>> = users
        .iter()
        .map(|u| {
            let roles: Vec<String> = u
                .grants
                .iter()
                .map(|g| match g.org_unit_id {
                    Some(id) => {
                        format!("{}@{}", g.role.name(), units.get(&id).cloned().unwrap_or_else(|| id.to_string()))
                    }
                    None => g.role.name().to_owned(),
                })
                .collect();
            let disabled = if u.disabled { tr(locale, "yes", "是") } else { tr(locale, "no", "否") };
            vec![u.username.clone(), u.display_name.clone(), roles.join(","), disabled]
        })
        .collect();
    let header = [
        tr(locale, "username", "用户名"),
        tr(locale, "name", "姓名"),
        tr(locale, "roles", "角色"),
        tr(locale, "disabled", "已停用"),
    ];
    println!("{}", ui::table(&header.iter().map(String::as_str).collect::<Vec<_>>(), &rows));
    if users.is_empty() {
        println!(
            "\n{}",
            tr(
                locale,
                "No users yet: lizhi user create admin --role admin",
                "尚无用户：lizhi user create admin --role admin"
            )
        );
    }
    Ok(())
}

async fn find_user(env: &Env, app: &App, ctx: &Ctx, username: &str) -> Result<User> {
    auth::list_users(app, ctx)
        .await
        .map_err(ui::app_error(env.locale))?
        .into_iter()
        .find(|u| u.username == username)
        .ok_or_else(|| anyhow!("no user is called {username} (see `lizhi user list`)"))
}

async fn token(env: &Env, app: &App, ctx: &Ctx, args: UserTokenArgs) -> Result<()> {
    let locale = env.locale;
    let user = find_user(env, app, ctx, &args.username).await?;
    if user.disabled {
        bail!("{} is disabled; a token would not work", user.username);
    }
    let (id, secret) = auth::create_token(app, ctx, user.id, &args.name).await.map_err(ui::app_error(locale))?;
    println!(
        "{}\n\n    {secret}\n\n{}",
        tr(
            locale,
            format!(
                "API token #{id} \"{}\" for {} (shown only now; only its hash is stored):",
                args.name, user.username
            ),
            format!("已为 {} 创建 API 令牌 #{id}“{}”（只显示这一次，只保存其哈希）：", user.username, args.name)
        ),
        tr(locale, "Send it as: Authorization: Bearer <token>", "使用方式：Authorization: Bearer <令牌>")
    );
    Ok(())
}

async fn link(env: &Env, app: &App, ctx: &Ctx, username: &str, employee_no: &str) -> Result<()> {
    let user = find_user(env, app, ctx, username).await?;
    auth::link_employee(app, ctx, user.id, Some(employee_no)).await.map_err(ui::app_error(env.locale))?;
    println!(
        "{}",
        tr(
            env.locale,
            format!("Linked {username} to employee {employee_no}."),
            format!("已将 {username} 关联到员工 {employee_no}。")
        )
    );
    Ok(())
}

async fn set_disabled(env: &Env, app: &App, ctx: &Ctx, username: &str, disabled: bool) -> Result<()> {
    let user = find_user(env, app, ctx, username).await?;
    auth::set_disabled(app, ctx, user.id, disabled).await.map_err(ui::app_error(env.locale))?;
    let (en, zh) = if disabled {
        (format!("Disabled {username}; their sessions were ended."), format!("已停用 {username}，并结束其所有会话。"))
    } else {
        (format!("Enabled {username}."), format!("已启用 {username}。"))
    };
    println!("{}", tr(env.locale, en, zh));
    Ok(())
}
