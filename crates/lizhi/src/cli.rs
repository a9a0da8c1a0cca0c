//! The command line: every subcommand, flag and help text in one place, so `--help` and
//! docs/cli.md describe the same surface.

use clap::{Args, Parser, Subcommand, ValueEnum};
use lizhi_app::import::ImportKind;
use lizhi_core::auth::Role;
use lizhi_docs::FileFormat;
use std::path::PathBuf;

/// Lizhi (离职): self-hosted HR offboarding — the web server and the operator's tools.
///
/// Without a command, `lizhi` runs the web server (`lizhi serve`). Settings come from built-in
/// defaults, then ./lizhi.toml (or --config FILE), then LIZHI_* environment variables, then flags.
#[derive(Debug, Parser)]
#[command(name = "lizhi", version, propagate_version = true)]
#[command(after_help = "Start here:  lizhi demo        (a demo company on http://127.0.0.1:8080)\n\
                        Docs:        docs/cli.md, docs/configuration.md")]
pub struct Cli {
    /// Database to use: sqlite://path/to/lizhi.db or postgres://user:password@host/db
    /// [env: LIZHI_DATABASE_URL] [default: sqlite://data/lizhi.db]
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,

    /// TOML configuration file [env: LIZHI_CONFIG] [default: ./lizhi.toml when it exists]
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// What to do (default: serve).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web server (the default when no command is given).
    ///
    /// Applies pending migrations, then serves the pages and the /api/v1 JSON API until Ctrl-C or
    /// SIGTERM. Several instances may share one PostgreSQL database.
    Serve(ServeArgs),
    /// Create a demo company in a local SQLite file, print its logins and serve it.
    ///
    /// Two legal entities (Shanghai, London), an org tree and N generated employees, plus one
    /// login per role with a random password printed once. Running it again reuses the data.
    Demo(DemoArgs),
    /// Apply pending database migrations and print which versions were applied.
    Migrate,
    /// Check a CSV or XLSX file and import it: every row or none.
    ///
    /// Problems are listed as `row N, column C: message` and nothing is written; the exit code
    /// is then 1. Import kinds in order: legal-entities, org-units, employees.
    Import(ImportArgs),
    /// Export data in the import layout (CSV or XLSX), so it can be edited and imported back.
    Export(ExportArgs),
    /// Create users, reset passwords, issue API tokens, list accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Write a consistent copy of the SQLite database (PostgreSQL: use pg_dump).
    Backup(BackupArgs),
    /// Print the effective configuration (secrets hidden) and test the database connection.
    CheckConfig,
    /// Absence scans and backtests (early warning).
    #[command(subcommand)]
    Risk(RiskCommand),
    /// Separation cases: open, list, show, act on them and approve them.
    ///
    /// Actions follow the same rules as the web pages and the API; a refused step prints the rule's
    /// message and exits with 1.
    #[command(subcommand)]
    Case(CaseCommand),
    /// The tamper-evident audit log: verify it, sign a checkpoint, rotate the signing key, purge personal data.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Evidence bundles for arbitration: export one for a case or a person, verify one offline.
    #[command(subcommand)]
    Evidence(EvidenceCommand),
    /// Connected systems (directories, SCIM apps, WeCom, webhooks, manual systems): register and list them.
    ///
    /// Each employee's account in each system is registered with `lizhi import identities FILE`.
    #[command(subcommand)]
    Connectors(ConnectorsCommand),
    /// Measure import speed, page latency, server CPU, memory and start-up time.
    ///
    /// Prints numbers, never pass/fail. Build with --release first: debug builds are many times
    /// slower. With --database-url postgres://… the import is measured on PostgreSQL too.
    Bench(BenchArgs),
}

/// `lizhi case …`
#[derive(Debug, Subcommand)]
pub enum CaseCommand {
    /// Cases, newest first, as a table (or JSON).
    List(CaseListArgs),
    /// Open a case for an employee and print it as JSON.
    Open(CaseOpenArgs),
    /// Print one case (timeline, contacts, notices, approvals, checklist) as JSON.
    Show(CaseShowArgs),
    /// Act on a case: `lizhi case act 7 dispatch_notice method=post on=2026-03-02 tracking_no=EMS1`.
    ///
    /// ACTION is one of log_contact, confirm_departure, dispatch_notice, record_receipt, next_notice,
    /// open_review, screen_protected_status, notify_union, record_union_reply, serve_termination, skip,
    /// resolve, convert_to_resignation, terminate, close, cancel. FIELDS are KEY=VALUE pairs as in the
    /// API (numbers and true/false are read as such).
    Act(CaseActArgs),
    /// Record an approval decision as a user: `lizhi case decide 7 approve --as wang`.
    Decide(CaseDecideArgs),
    /// Freeze, unfreeze or revoke every registered account of the case's person (revoke after the departure
    /// is confirmed); prints the access actions as JSON. The scheduler's worker performs them.
    Access(CaseAccessArgs),
}

/// Flags of `lizhi case access`.
#[derive(Debug, Args)]
pub struct CaseAccessArgs {
    /// Case id.
    pub id: i64,
    /// freeze, unfreeze or revoke.
    pub intent: String,
    #[command(flatten)]
    pub who: ActAs,
}

/// `lizhi audit …`
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Recompute the log from the database and check it against every signed checkpoint and timestamp.
    ///
    /// Prints the first bad position and what is wrong there (edited, missing, inserted, reordered);
    /// exits with 1 when anything is wrong.
    Verify(AuditVerifyArgs),
    /// Sign a checkpoint over every event now and print it (keep a copy outside Lizhi).
    Checkpoint,
    /// Replace the log's signing key; the old key co-signs the next checkpoint.
    RotateKey(RotateKeyArgs),
    /// Retention purge: forget the personal values of every event about one entity.
    ///
    /// The events keep their salted commitments, so the log still verifies; bundles made afterwards
    /// carry no openings for them.
    Purge(AuditPurgeArgs),
}

/// Flags of `lizhi audit verify`.
#[derive(Debug, Args)]
pub struct AuditVerifyArgs {
    /// A checkpoint kept outside the database (e.g. `checkpoint.txt` from an evidence bundle): the log must
    /// still match it.
    #[arg(long, value_name = "FILE")]
    pub checkpoint: Option<PathBuf>,
}

/// Flags of `lizhi audit rotate-key`.
#[derive(Debug, Args)]
pub struct RotateKeyArgs {
    /// Erase the old key's secret after the handover checkpoint (its signatures stay verifiable).
    #[arg(long)]
    pub destroy_old: bool,
    /// The old key cannot be opened (the instance secret was lost): retire it without a handover signature.
    #[arg(long, conflicts_with = "destroy_old")]
    pub abandon_old: bool,
}

/// Flags of `lizhi audit purge`.
#[derive(Debug, Args)]
pub struct AuditPurgeArgs {
    /// Entity type, e.g. `employee`.
    pub entity_type: String,
    /// Its key, e.g. the employee number.
    pub entity_key: String,
}

/// `lizhi connectors …`
#[derive(Debug, Subcommand)]
pub enum ConnectorsCommand {
    /// Create or change a connector; the secret is read from standard input and stored sealed.
    Put(ConnectorPutArgs),
    /// The connectors in revocation order (secrets are never shown).
    List,
    /// Check that a connector's system answers with its stored settings and secret; exit 1 if not.
    Test(ConnectorTestArgs),
    /// Access actions per connector and status, and outbox deliveries (webhook, WeCom, e-mail) per status.
    Status,
    /// Import WeCom check-ins as punches for every employee with a WeCom account: `--from 2026-03-01
    /// --to 2026-03-07` (at most 92 days; re-running changes nothing).
    SyncCheckins(ConnectorSyncArgs),
}

/// Flags of `lizhi connectors sync-checkins`.
#[derive(Debug, Args)]
pub struct ConnectorSyncArgs {
    /// The WeCom connector's code.
    pub code: String,
    /// First day (YYYY-MM-DD).
    #[arg(long)]
    pub from: chrono::NaiveDate,
    /// Last day (YYYY-MM-DD), inclusive.
    #[arg(long)]
    pub to: chrono::NaiveDate,
}

/// Flags of `lizhi connectors test`.
#[derive(Debug, Args)]
pub struct ConnectorTestArgs {
    /// The connector's code.
    pub code: String,
}

/// Flags of `lizhi connectors put`.
#[derive(Debug, Args)]
pub struct ConnectorPutArgs {
    /// Code used in identity imports (`corp-ad`, `feishu-scim`, `wecom`).
    pub code: String,
    /// ldap, scim, manual, webhook or wecom.
    #[arg(long)]
    pub kind: String,
    /// Display name.
    #[arg(long)]
    pub name: String,
    /// A non-secret setting, KEY=VALUE (repeatable): `--setting url=ldap://dc1 --setting base_dn=dc=corp`.
    #[arg(long = "setting", value_name = "KEY=VALUE")]
    pub settings: Vec<String>,
    /// Read the secret (password, token) from the first line of standard input.
    #[arg(long)]
    pub secret_stdin: bool,
    /// Position in the revocation order (lower goes first; default by kind, WeCom last).
    #[arg(long)]
    pub order: Option<i32>,
    /// Register it switched off.
    #[arg(long)]
    pub disabled: bool,
}

/// `lizhi evidence …`
#[derive(Debug, Subcommand)]
pub enum EvidenceCommand {
    /// Write the evidence bundle (zip) of a case, or of a person with --employee.
    Export(EvidenceExportArgs),
    /// Check a bundle offline, with no database: files, events, inclusion, consistency, signatures, timestamps.
    Verify(EvidenceVerifyArgs),
}

/// Flags of `lizhi evidence export`.
#[derive(Debug, Args)]
pub struct EvidenceExportArgs {
    /// Case id (or the employee number with --employee).
    pub subject: String,
    /// The subject is an employee number: every case of theirs and every event about them.
    #[arg(long)]
    pub employee: bool,
    /// Output file.
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
    #[command(flatten)]
    pub who: ActAs,
}

/// Flags of `lizhi evidence verify`.
#[derive(Debug, Args)]
pub struct EvidenceVerifyArgs {
    /// The bundle.
    pub file: PathBuf,
    /// The log's verifier keys obtained separately (one per line); the bundle's own keys must be among them.
    #[arg(long, value_name = "FILE")]
    pub keys: Option<PathBuf>,
}

/// Acting as a named user instead of the operator.
#[derive(Debug, Args)]
pub struct ActAs {
    /// Act as this user (their roles and scope apply); the operator otherwise.
    #[arg(long = "as", value_name = "USER")]
    pub as_user: Option<String>,
}

/// Flags of `lizhi case list`.
#[derive(Debug, Args)]
pub struct CaseListArgs {
    /// Only this state.
    #[arg(long)]
    pub state: Option<String>,
    /// Only this type.
    #[arg(long = "type", value_name = "TYPE")]
    pub case_type: Option<String>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub who: ActAs,
}

/// Flags of `lizhi case open`.
#[derive(Debug, Args)]
pub struct CaseOpenArgs {
    /// The employee.
    pub employee_no: String,
    /// absconding, resignation, mutual_agreement, dismissal, contract_expiry, retirement or death.
    #[arg(long = "type", value_name = "TYPE", default_value = "absconding")]
    pub case_type: String,
    /// Absconding: the first unexplained day (default: the latest alert's).
    #[arg(long, value_name = "DATE")]
    pub first_absent_date: Option<chrono::NaiveDate>,
    /// Other types: the planned last day.
    #[arg(long, value_name = "DATE")]
    pub effective_on: Option<chrono::NaiveDate>,
    #[command(flatten)]
    pub who: ActAs,
}

/// Flags of `lizhi case show`.
#[derive(Debug, Args)]
pub struct CaseShowArgs {
    /// Case id.
    pub id: i64,
    #[command(flatten)]
    pub who: ActAs,
}

/// Flags of `lizhi case act`.
#[derive(Debug, Args)]
pub struct CaseActArgs {
    /// Case id.
    pub id: i64,
    /// The action.
    pub action: String,
    /// KEY=VALUE fields of the action.
    pub fields: Vec<String>,
    #[command(flatten)]
    pub who: ActAs,
}

/// Flags of `lizhi case decide`.
#[derive(Debug, Args)]
pub struct CaseDecideArgs {
    /// Case id.
    pub id: i64,
    /// approve or reject.
    pub decision: String,
    /// Why (required when rejecting).
    #[arg(long)]
    pub comment: Option<String>,
    #[command(flatten)]
    pub who: ActAs,
}

/// `lizhi risk …`
#[derive(Debug, Subcommand)]
pub enum RiskCommand {
    /// Who is yellow or red at the end of a day, with the rules that fired and why.
    Scan(RiskScanArgs),
    /// Replay the rules over a date range: every non-green employee on every date (trial runs of a policy).
    ///
    /// CSV columns: date,employee_no,level,rules,consecutive_absent_workdays,first_absent_date
    /// (`rules` separated by `;`).
    Backtest(RiskBacktestArgs),
}

/// Output of `lizhi risk`.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum RiskFormat {
    /// One line per finding, the columns documented on `backtest`.
    Csv,
    /// An array of findings with the full explanation.
    Json,
}

/// Flags shared by `risk scan` and `risk backtest`.
#[derive(Debug, Args)]
pub struct RiskCommon {
    /// Only this legal entity (code).
    #[arg(long, value_name = "CODE")]
    pub legal_entity: Option<String>,

    /// A candidate policy (TOML, starting from the defaults of the `profile` it names) instead of each
    /// entity's profile.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
}

/// Flags of `lizhi risk scan`.
#[derive(Debug, Args)]
pub struct RiskScanArgs {
    /// The day to evaluate, through its end (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub as_of: chrono::NaiveDate,

    /// Output format.
    #[arg(long, value_enum, default_value_t = RiskFormat::Json)]
    pub format: RiskFormat,

    #[command(flatten)]
    pub common: RiskCommon,
}

/// Flags of `lizhi risk backtest`.
#[derive(Debug, Args)]
pub struct RiskBacktestArgs {
    /// First day to evaluate (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub from: chrono::NaiveDate,

    /// Last day to evaluate, inclusive (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub to: chrono::NaiveDate,

    /// Output format.
    #[arg(long, value_enum, default_value_t = RiskFormat::Csv)]
    pub format: RiskFormat,

    #[command(flatten)]
    pub common: RiskCommon,
}

/// Flags of `lizhi serve`.
#[derive(Debug, Args, Default)]
pub struct ServeArgs {
    /// Address to listen on, IP:PORT [env: LIZHI_BIND] [default: 127.0.0.1:8080]
    #[arg(long, value_name = "ADDR")]
    pub bind: Option<String>,

    /// Public base URL when behind a proxy, e.g. https://hr.example.com [env: LIZHI_PUBLIC_URL]
    #[arg(long, value_name = "URL")]
    pub public_url: Option<String>,

    /// When no user exists yet, create `admin` and print its one-time password (once).
    #[arg(long)]
    pub bootstrap_admin: bool,

    /// Do not run the daily risk scans from this instance (another instance, or a dedicated one,
    /// runs them; scans are claimed per slot, so running them everywhere is safe too).
    #[arg(long)]
    pub no_scheduler: bool,
}

/// Flags of `lizhi demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Folder of the demo database (created when missing; reused when it exists).
    #[arg(long, value_name = "DIR", default_value = "data-demo")]
    pub data: PathBuf,

    /// Address to listen on, IP:PORT [env: LIZHI_BIND] [default: 127.0.0.1:8080]
    #[arg(long, value_name = "ADDR")]
    pub bind: Option<String>,

    /// How many employees to generate in a new demo database.
    #[arg(long, value_name = "N", default_value_t = 2000)]
    pub employees: usize,
}

/// What an import or export file holds (mirrors [`ImportKind`] for clap).
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Kind {
    /// code, name, country, time_zone, policy
    LegalEntities,
    /// code, name, parent_code, legal_entity
    OrgUnits,
    /// employee_no, name, legal_entity, org_unit, manager_no, hire_date, …
    Employees,
    /// calendar, date, kind (holiday | workday), name
    Calendar,
    /// employee_no, date, shift (a shift code or REST)
    Rosters,
    /// employee_no, punched_at (RFC 3339 with offset), source
    Punches,
    /// employee_no, start_date, end_date, type, status (approved | pending | rejected)
    Leaves,
    /// employee_no, date, system, events
    Activity,
    /// employee_no, system (a connector code), account_id, user_name
    Identities,
}

impl From<Kind> for ImportKind {
    fn from(kind: Kind) -> ImportKind {
        match kind {
            Kind::LegalEntities => ImportKind::LegalEntities,
            Kind::OrgUnits => ImportKind::OrgUnits,
            Kind::Employees => ImportKind::Employees,
            Kind::Calendar => ImportKind::Calendar,
            Kind::Rosters => ImportKind::Rosters,
            Kind::Punches => ImportKind::Punches,
            Kind::Leaves => ImportKind::Leaves,
            Kind::Activity => ImportKind::Activity,
            Kind::Identities => ImportKind::Identities,
        }
    }
}

/// What can be exported: the people and organisation kinds, in their import layout.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ExportKind {
    /// code, name, country, time_zone, policy
    LegalEntities,
    /// code, name, parent_code, legal_entity
    OrgUnits,
    /// employee_no, name, legal_entity, org_unit, manager_no, hire_date, …
    Employees,
}

impl From<ExportKind> for ImportKind {
    fn from(kind: ExportKind) -> ImportKind {
        match kind {
            ExportKind::LegalEntities => ImportKind::LegalEntities,
            ExportKind::OrgUnits => ImportKind::OrgUnits,
            ExportKind::Employees => ImportKind::Employees,
        }
    }
}

/// Flags of `lizhi import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// What the file holds.
    pub kind: Kind,

    /// CSV (UTF-8, GBK/GB18030 or UTF-16) or XLSX file; `-` reads standard input.
    pub file: PathBuf,

    /// Check everything and print what would change, but write nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// A file format on the command line.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    /// UTF-8 CSV with a byte order mark (opens correctly in Excel).
    Csv,
    /// Excel workbook.
    Xlsx,
}

impl From<Format> for FileFormat {
    fn from(format: Format) -> FileFormat {
        match format {
            Format::Csv => FileFormat::Csv,
            Format::Xlsx => FileFormat::Xlsx,
        }
    }
}

/// Flags of `lizhi export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// What to export.
    pub kind: ExportKind,

    /// File format [default: from the -o file's extension, else csv]
    #[arg(long, value_name = "FORMAT")]
    pub format: Option<Format>,

    /// Write to this file instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// `lizhi user …`.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user; without --password-stdin a one-time password is generated and printed once.
    Create(UserCreateArgs),
    /// Set a new password (generated and printed once, or read from stdin) and end the user's sessions.
    ResetPassword(UserPasswordArgs),
    /// List every user with names, roles and whether the account is disabled.
    List,
    /// Issue an API token (`Authorization: Bearer lzt_…`); the secret is printed once.
    CreateToken(UserTokenArgs),
    /// Disable a user: they cannot sign in and their sessions end at once.
    Disable(UserNameArg),
    /// Re-enable a disabled user.
    Enable(UserNameArg),
    /// Link a user to the employee they are (approvals escalate to that employee's manager).
    Link(UserLinkArgs),
}

/// Flags of `lizhi user create`.
#[derive(Debug, Args)]
pub struct UserCreateArgs {
    /// Login name: 2–64 letters, digits or . _ - @
    pub username: String,

    /// Role to grant; repeat for several: admin, hr, hr_supervisor, manager, it, finance,
    /// facilities, auditor
    #[arg(long = "role", value_name = "ROLE", required = true, value_parser = parse_role)]
    pub roles: Vec<Role>,

    /// Org unit code a manager role is limited to (that unit and everything below it).
    #[arg(long, value_name = "CODE")]
    pub org_unit: Option<String>,

    /// Display name [default: the username]
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,

    /// Read the password from the first line of standard input instead of generating one.
    #[arg(long)]
    pub password_stdin: bool,
}

/// Flags of `lizhi user reset-password`.
#[derive(Debug, Args)]
pub struct UserPasswordArgs {
    /// Whose password to reset.
    pub username: String,

    /// Read the new password from the first line of standard input instead of generating one.
    #[arg(long)]
    pub password_stdin: bool,
}

/// Flags of `lizhi user create-token`.
#[derive(Debug, Args)]
pub struct UserTokenArgs {
    /// The user the token acts as (it carries that user's roles).
    pub username: String,

    /// A label to recognise the token by later (e.g. the system that uses it).
    #[arg(long, value_name = "NAME", default_value = "cli")]
    pub name: String,
}

/// A single username argument.
#[derive(Debug, Args)]
pub struct UserNameArg {
    /// The user.
    pub username: String,
}

/// Flags of `lizhi user link`.
#[derive(Debug, Args)]
pub struct UserLinkArgs {
    /// The user.
    pub username: String,
    /// The employee number.
    pub employee_no: String,
}

/// Flags of `lizhi backup`.
#[derive(Debug, Args)]
pub struct BackupArgs {
    /// Where to write the copy; must not exist yet.
    pub file: PathBuf,
}

/// Flags of `lizhi bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Employee counts to time the import with, comma-separated.
    #[arg(long, value_name = "N,N", value_delimiter = ',', default_value = "10000,100000")]
    pub employees: Vec<usize>,

    /// Requests per endpoint in the HTTP test.
    #[arg(long, value_name = "N", default_value_t = 2000)]
    pub requests: usize,

    /// Concurrent connections in the HTTP test.
    #[arg(long, value_name = "N", default_value_t = 16)]
    pub connections: usize,

    /// Which measurements to run.
    #[arg(long, value_enum, default_value_t = BenchPart::All)]
    pub part: BenchPart,

    /// Keep the prepared early-warning databases in DIR and reuse them on later runs (the
    /// 100,000-employee history takes minutes to generate).
    #[arg(long, value_name = "DIR")]
    pub data: Option<std::path::PathBuf>,
}

/// Parts of `lizhi bench`.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum BenchPart {
    /// Everything.
    All,
    /// Employee imports, HTTP pages, memory and start-up.
    Foundation,
    /// Early warning: punch import, daily scan, backtest, risk board.
    Risk,
    /// Only the timed punch import (quick, for tuning the import path).
    Punches,
    /// The tamper-evident log: append a million events, sign and verify the log, export a 500-event bundle.
    Evidence,
}

/// Parses a role name for clap, listing the valid ones on error.
fn parse_role(raw: &str) -> Result<Role, String> {
    Role::parse(raw).ok_or_else(|| {
        let names: Vec<&str> = Role::ALL.iter().map(|r| r.name()).collect();
        format!("unknown role `{raw}` (expected one of: {})", names.join(", "))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn kinds_match_the_application_names() {
        for kind in Kind::value_variants() {
            let name = kind.to_possible_value().map(|v| v.get_name().to_owned());
            assert_eq!(name.as_deref(), Some(ImportKind::from(*kind).name()));
        }
        assert_eq!(Kind::value_variants().len(), ImportKind::ALL.len(), "every kind can be imported");
        for kind in ExportKind::value_variants() {
            let name = kind.to_possible_value().map(|v| v.get_name().to_owned());
            assert_eq!(name.as_deref(), Some(ImportKind::from(*kind).name()));
            assert!(ImportKind::from(*kind).is_people());
        }
    }

    #[test]
    fn roles_parse_and_unknown_roles_are_listed() {
        assert_eq!(parse_role("hr_supervisor"), Ok(Role::HrSupervisor));
        let err = parse_role("boss").unwrap_err();
        assert!(err.contains("auditor"), "{err}");
    }
}
