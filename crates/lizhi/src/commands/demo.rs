//! `lizhi demo`: a believable company in a local SQLite file, one login per role, then serve.

use super::{Env, open_url};
use crate::cli::DemoArgs;
use crate::progress::Bar;
use crate::ui::{self, tr};
use anyhow::Result;
use std::process::ExitCode;

/// Seeds (first run only), prints the logins and serves the demo database.
pub async fn run(env: &Env, args: DemoArgs) -> Result<ExitCode> {
    let locale = env.locale;
    let db_path = args.data.join("lizhi.db");
    let url = format!("sqlite://{}", db_path.display());
    let app = open_url(env.config(), &url, locale).await?;
    eprintln!("{} {}", tr(locale, "Demo database:", "演示数据库："), db_path.display());
    let bar = Bar::for_stderr();
    let today = lizhi_app::demo::demo_today(&app);
    let logins =
        lizhi_app::demo::seed_with_date(&app, args.employees, today, &bar).await.map_err(ui::app_error(locale))?;
    bar.finish();
    if logins.is_empty() {
        println!(
            "{}\n\n    lizhi --database-url {url} user reset-password <username>\n",
            tr(
                locale,
                "This demo database existed already; its logins were printed when it was created.\n\
                 Usernames: admin, hr, hr-supervisor, manager, it, finance, facilities, auditor.\n\
                 To get a new password for one of them:",
                "该演示数据库已存在，登录信息已在创建时打印。\n\
                 用户名：admin、hr、hr-supervisor、manager、it、finance、facilities、auditor。\n\
                 如需为其中某个账号生成新密码："
            )
        );
    } else {
        println!(
            "{}",
            tr(
                locale,
                format!(
                    "Created a demo company with {} employees. Demo logins (passwords are random for this database and shown only now):",
                    args.employees
                ),
                format!(
                    "已创建含 {} 名员工的演示公司。演示账号（密码为本数据库随机生成，只显示这一次）：",
                    args.employees
                ),
            )
        );
        let rows: Vec<Vec<String>> =
            logins.iter().map(|l| vec![l.username.clone(), l.password.clone(), l.role.name().to_owned()]).collect();
        let header = [tr(locale, "username", "用户名"), tr(locale, "password", "密码"), tr(locale, "role", "角色")];
        println!("\n{}\n", ui::table(&header.iter().map(String::as_str).collect::<Vec<_>>(), &rows));
        // Only on the seeding run: on later days the demo's attendance has stopped, so everyone would be missing.
        let ctx = lizhi_app::Ctx::system("demo");
        let findings = lizhi_app::risk::scan(&app, &ctx, today, &lizhi_app::risk::RiskQuery::default())
            .await
            .map_err(ui::app_error(locale))?;
        let red = findings.iter().filter(|f| f.assessment.level == lizhi_core::absence::Level::Red).count();
        let yellow = findings.len() - red;
        println!(
            "{}\n",
            tr(
                locale,
                format!("Early warning on {today}: {red} red, {yellow} yellow (see the risk board)."),
                format!("预警（{today}）：红色 {red} 人，黄色 {yellow} 人（见风险看板）。"),
            )
        );
    }
    let bind = env.config().bind.clone();
    super::serve::serve_app(app, env.config(), &bind, locale, true).await
}
