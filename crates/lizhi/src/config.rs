//! Configuration: defaults in code → optional `lizhi.toml` → `LIZHI_*` environment variables →
//! command-line flags, merged with figment so every command sees the same effective values.

use anyhow::{Context, Result, bail};
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use std::net::ToSocketAddrs;
use std::path::{Path, PathBuf};

/// The file read when `--config` is not given (and only if it exists).
pub const DEFAULT_CONFIG_FILE: &str = "lizhi.toml";
/// Every key a configuration file or `LIZHI_*` variable may set.
pub const KEYS: [&str; 13] = [
    "database_url",
    "bind",
    "public_url",
    "max_connections",
    "log",
    "font_dirs",
    "smtp_url",
    "mail_from",
    "secret_key_file",
    "secret_key",
    "tsa_url",
    "tsa_ca_file",
    "checkpoint_minutes",
];

/// The effective settings.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Which database to use; the scheme picks the backend (`sqlite://…`, `postgres://…`).
    pub database_url: String,
    /// Where the web server listens (`IP:PORT`).
    pub bind: String,
    /// The URL users reach Lizhi at, when behind a proxy; decides Secure cookies and CSRF origins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
    /// Pool size; unset means 8 for SQLite and 10 for PostgreSQL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_connections: Option<u32>,
    /// Log filter in tracing's EnvFilter syntax (`info`, `lizhi_web=debug,info`).
    pub log: String,
    /// Extra folders with fonts for PDF documents, `:`-separated (the system folders are always searched).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub font_dirs: Option<String>,
    /// Mail server for reminders: `smtp://host:25` (a local relay), `smtp+starttls://user:pass@host:587` or
    /// `smtps://user:pass@host:465`; unset = in-app messages only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smtp_url: Option<String>,
    /// Sender of reminder mail (`Lizhi <hr@example.com>`); required with `smtp_url`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mail_from: Option<String>,
    /// File holding the instance secret that seals the audit log's signing key; created on first start.
    /// Unset: `secret.key` next to the SQLite database, or `data/secret.key`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_key_file: Option<String>,
    /// The instance secret itself (32 bytes, base64), for several instances sharing one database; wins over
    /// `secret_key_file`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_key: Option<String>,
    /// RFC 3161 timestamp authority for the audit log's checkpoints (`http://…`); unset = no timestamps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tsa_url: Option<String>,
    /// The timestamp authority's CA certificate (PEM), to check its tokens and ship in evidence bundles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tsa_ca_file: Option<String>,
    /// Longest time between audit log checkpoints while the log grows (minutes, default 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint_minutes: Option<u32>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            database_url: "sqlite://data/lizhi.db".into(),
            bind: "127.0.0.1:8080".into(),
            public_url: None,
            max_connections: None,
            log: "info".into(),
            font_dirs: None,
            smtp_url: None,
            mail_from: None,
            secret_key_file: None,
            secret_key: None,
            tsa_url: None,
            tsa_ca_file: None,
            checkpoint_minutes: None,
        }
    }
}

/// Values given as flags, which win over everything else.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Overrides {
    /// `--database-url`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    /// `--bind`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bind: Option<String>,
    /// `--public-url`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
}

/// Where a configuration value came from, so `check-config` can explain surprises.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Built into the binary.
    Default,
    /// The configuration file.
    File(PathBuf),
    /// A `LIZHI_*` environment variable.
    Env(String),
    /// A command-line flag.
    Flag,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Default => f.write_str("default"),
            Source::File(p) => write!(f, "file {}", p.display()),
            Source::Env(var) => write!(f, "environment {var}"),
            Source::Flag => f.write_str("command line"),
        }
    }
}

/// A loaded configuration and what it was loaded from.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The merged values.
    pub config: Config,
    /// The configuration file used, if any.
    pub file: Option<PathBuf>,
    /// Where each key in [`KEYS`] came from.
    pub sources: Vec<(&'static str, Source)>,
}

impl Loaded {
    /// Where `key` came from.
    pub fn source(&self, key: &str) -> Source {
        self.sources.iter().find(|(k, _)| *k == key).map_or(Source::Default, |(_, s)| s.clone())
    }
}

fn env_var(key: &str) -> String {
    format!("LIZHI_{}", key.to_ascii_uppercase())
}

/// Loads the configuration. `explicit_file` is `--config` (or `LIZHI_CONFIG`); it must exist,
/// whereas the default `lizhi.toml` is read only when present.
pub fn load(explicit_file: Option<&Path>, overrides: &Overrides) -> Result<Loaded> {
    let file = match explicit_file {
        Some(path) => {
            if !path.is_file() {
                bail!("configuration file {} does not exist", path.display());
            }
            Some(path.to_path_buf())
        }
        None => match std::env::var_os("LIZHI_CONFIG").filter(|v| !v.is_empty()) {
            Some(path) => {
                let path = PathBuf::from(path);
                if !path.is_file() {
                    bail!("configuration file {} (from LIZHI_CONFIG) does not exist", path.display());
                }
                Some(path)
            }
            None => Some(PathBuf::from(DEFAULT_CONFIG_FILE)).filter(|p| p.is_file()),
        },
    };
    let mut figment = Figment::from(Serialized::defaults(Config::default()));
    let mut file_figment = Figment::new();
    if let Some(path) = &file {
        figment = figment.merge(Toml::file_exact(path));
        file_figment = file_figment.merge(Toml::file_exact(path));
    }
    figment = figment
        .merge(Env::prefixed("LIZHI_").only(&KEYS).map(|k| k.as_str().to_ascii_lowercase().into()))
        .merge(Serialized::defaults(overrides));
    let config: Config = figment.extract().map_err(|e| {
        let where_ =
            file.as_ref().map(|p| format!(" (file {}, or LIZHI_* variables)", p.display())).unwrap_or_default();
        anyhow::anyhow!("invalid configuration{where_}: {e}")
    })?;
    let flagged = |key: &str| match key {
        "database_url" => overrides.database_url.is_some(),
        "bind" => overrides.bind.is_some(),
        "public_url" => overrides.public_url.is_some(),
        _ => false,
    };
    let sources = KEYS
        .iter()
        .map(|&key| {
            let source = if flagged(key) {
                Source::Flag
            } else if std::env::var_os(env_var(key)).is_some() {
                Source::Env(env_var(key))
            } else if let (Some(path), true) = (&file, file_figment.contains(key)) {
                Source::File(path.clone())
            } else {
                Source::Default
            };
            (key, source)
        })
        .collect();
    Ok(Loaded { config, file, sources })
}

/// The backend a database URL names, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlKind {
    /// `sqlite:`.
    Sqlite,
    /// `postgres:` / `postgresql:`.
    Postgres,
}

impl UrlKind {
    /// Reads the scheme of a database URL.
    pub fn of(url: &str) -> Option<UrlKind> {
        if url.starts_with("sqlite:") {
            Some(UrlKind::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Some(UrlKind::Postgres)
        } else {
            None
        }
    }
}

impl Config {
    /// The reminder mailer, when a mail server is configured.
    pub fn mailer(&self) -> Result<Option<lizhi_connectors::SmtpMailer>, lizhi_connectors::SmtpError> {
        match &self.smtp_url {
            None => Ok(None),
            Some(url) => {
                let from = self.mail_from.as_deref().ok_or(lizhi_connectors::SmtpError::BadFrom)?;
                lizhi_connectors::SmtpMailer::new(url, from).map(Some)
            }
        }
    }

    /// The configured extra font folders.
    pub fn font_dir_list(&self) -> Vec<PathBuf> {
        self.font_dirs
            .as_deref()
            .unwrap_or_default()
            .split(':')
            .filter(|d| !d.trim().is_empty())
            .map(PathBuf::from)
            .collect()
    }

    /// Where the instance secret is kept.
    pub fn secret_key_path(&self) -> PathBuf {
        match &self.secret_key_file {
            Some(path) => PathBuf::from(path),
            None => sqlite_path(&self.database_url)
                .and_then(|db| db.parent().map(|dir| dir.join("secret.key")))
                .unwrap_or_else(|| PathBuf::from("data/secret.key")),
        }
    }

    /// The instance secret: the inline value, else the key file (created on first start).
    pub fn secret(&self) -> Result<lizhi_app::secrets::SecretKey> {
        match &self.secret_key {
            Some(inline) => {
                lizhi_app::secrets::SecretKey::from_base64(inline).map_err(|e| anyhow::anyhow!("secret_key: {e}"))
            }
            None => lizhi_app::secrets::SecretKey::load_or_create(&self.secret_key_path())
                .map_err(|e| anyhow::anyhow!("{e}")),
        }
    }

    /// The timestamp authority, when configured.
    pub fn tsa(&self) -> Result<Option<lizhi_app::audit_log::TsaSettings>> {
        let Some(url) = &self.tsa_url else { return Ok(None) };
        let ca_pem = match &self.tsa_ca_file {
            Some(path) => Some(std::fs::read_to_string(path).with_context(|| format!("tsa_ca_file {path}"))?),
            None => None,
        };
        Ok(Some(lizhi_app::audit_log::TsaSettings { url: url.clone(), ca_pem }))
    }

    /// Longest time between checkpoints.
    pub fn checkpoint_every(&self) -> chrono::Duration {
        chrono::Duration::minutes(i64::from(self.checkpoint_minutes.unwrap_or(10)))
    }

    /// Pool size: the configured one, or the backend's default.
    pub fn max_connections(&self) -> u32 {
        self.max_connections.unwrap_or(match UrlKind::of(&self.database_url) {
            Some(UrlKind::Postgres) => 10,
            _ => 8,
        })
    }

    /// The database URL with any password replaced by `***`, safe for logs and messages.
    pub fn redacted_url(&self) -> String {
        redact_url(&self.database_url)
    }

    /// Every problem with the values, each naming its key and how to fix it (empty when valid).
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if UrlKind::of(&self.database_url).is_none() {
            problems.push(format!(
                "database_url `{}` is not supported: use sqlite://path/to/lizhi.db or postgres://user:password@host/database",
                self.redacted_url()
            ));
        }
        if let Err(e) = self.bind.to_socket_addrs() {
            problems.push(format!(
                "bind `{}` is not an address to listen on (IP:PORT, e.g. 127.0.0.1:8080): {e}",
                self.bind
            ));
        }
        if let Some(url) = &self.public_url {
            let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
            if rest.is_none_or(|r| r.is_empty() || r.contains(char::is_whitespace)) {
                problems.push(format!(
                    "public_url `{url}` must be an http:// or https:// URL, e.g. https://hr.example.com"
                ));
            }
        }
        if let Err(e) = self.mailer() {
            problems.push(format!("smtp_url / mail_from: {e}"));
        }
        for dir in self.font_dir_list() {
            if !dir.is_dir() {
                problems.push(format!("font_dirs: {} is not a folder", dir.display()));
            }
        }
        if let Some(inline) = &self.secret_key
            && lizhi_app::secrets::SecretKey::from_base64(inline).is_err()
        {
            problems.push("secret_key must be 32 bytes in base64 (e.g. from `openssl rand -base64 32`)".into());
        }
        if let Some(url) = &self.tsa_url
            && !url.starts_with("http://")
            && !url.starts_with("https://")
        {
            problems.push(format!("tsa_url `{url}` must be an http:// or https:// URL"));
        }
        if let Some(path) = &self.tsa_ca_file {
            match std::fs::read_to_string(path) {
                Ok(pem) if lizhi_core::tsp::pem_to_der(&pem).is_ok() => {}
                Ok(_) => problems.push(format!("tsa_ca_file {path} holds no PEM certificate")),
                Err(e) => problems.push(format!("tsa_ca_file {path}: {e}")),
            }
        }
        if self.checkpoint_minutes.is_some_and(|n| n == 0 || n > 1440) {
            problems.push("checkpoint_minutes must be between 1 and 1440".into());
        }
        if self.max_connections.is_some_and(|n| n == 0 || n > 1000) {
            problems.push("max_connections must be between 1 and 1000".into());
        }
        if let Err(e) = tracing_subscriber::EnvFilter::try_new(&self.log) {
            problems.push(format!("log `{}` is not a valid filter (e.g. info or lizhi_web=debug,info): {e}", self.log));
        }
        problems
    }

    /// Fails with every problem listed when the values cannot work.
    pub fn validate(&self) -> Result<()> {
        let problems = self.problems();
        if problems.is_empty() { Ok(()) } else { bail!("invalid configuration:\n  - {}", problems.join("\n  - ")) }
    }

    /// The public URL without a trailing slash.
    pub fn public_url(&self) -> Option<String> {
        self.public_url.as_ref().map(|u| u.trim_end_matches('/').to_owned()).filter(|u| !u.is_empty())
    }
}

/// The file a `sqlite:` URL points at (`None` for other backends and in-memory databases).
pub fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or("");
    if path.is_empty() || path.starts_with(":memory:") { None } else { Some(PathBuf::from(path)) }
}

/// Hides the password of a URL's user info (`postgres://user:***@host/db`) before it reaches a
/// log line or a message; URLs without a password are returned as they are.
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_owned();
    };
    let authority_end = url[scheme_end..].find(['/', '?', '#']).map_or(url.len(), |i| scheme_end + i);
    let authority = &url[scheme_end..authority_end];
    match authority.rfind('@') {
        Some(at) => match authority[..at].split_once(':') {
            Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end], &url[scheme_end + at..]),
            None => url.to_owned(),
        },
        None => {
            // libpq also accepts `?password=…` in the query string.
            match url.find("password=") {
                Some(i) => {
                    let end = url[i..].find('&').map_or(url.len(), |j| i + j);
                    format!("{}password=***{}", &url[..i], &url[end..])
                }
                None => url.to_owned(),
            }
        }
    }
}

/// Reads the first line of standard input (a password), without its line ending.
pub fn read_secret_line() -> Result<String> {
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).context("cannot read the password from standard input")?;
    let secret = line.trim_end_matches(['\r', '\n']).to_owned();
    if secret.is_empty() {
        bail!("standard input held no password (expected it on the first line)");
    }
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted_and_nothing_else() {
        assert_eq!(redact_url("postgres://lizhi:s3cr@t@db:5432/hr"), "postgres://lizhi:***@db:5432/hr");
        assert_eq!(redact_url("postgres://lizhi@db/hr"), "postgres://lizhi@db/hr");
        assert_eq!(redact_url("sqlite://data/lizhi.db"), "sqlite://data/lizhi.db");
        assert_eq!(
            redact_url("postgres://db/hr?user=a&password=pw&sslmode=require"),
            "postgres://db/hr?user=a&password=***&sslmode=require"
        );
        assert_eq!(redact_url("sqlite://data/a@b.db"), "sqlite://data/a@b.db");
    }

    #[test]
    fn sqlite_paths_are_found() {
        assert_eq!(sqlite_path("sqlite://data/lizhi.db"), Some(PathBuf::from("data/lizhi.db")));
        assert_eq!(sqlite_path("sqlite:///tmp/x.db?mode=rwc"), Some(PathBuf::from("/tmp/x.db")));
        assert_eq!(sqlite_path("sqlite::memory:"), None);
        assert_eq!(sqlite_path("postgres://a@b/c"), None);
    }

    #[test]
    fn pool_size_follows_the_backend() {
        let mut c = Config::default();
        assert_eq!(c.max_connections(), 8);
        c.database_url = "postgres://x@y/z".into();
        assert_eq!(c.max_connections(), 10);
        c.max_connections = Some(3);
        assert_eq!(c.max_connections(), 3);
    }

    #[test]
    fn the_secret_key_sits_next_to_the_sqlite_database_by_default() {
        let mut c = Config { database_url: "sqlite://var/hr/lizhi.db".into(), ..Config::default() };
        assert_eq!(c.secret_key_path(), PathBuf::from("var/hr/secret.key"));
        c.database_url = "postgres://db/hr".into();
        assert_eq!(c.secret_key_path(), PathBuf::from("data/secret.key"));
        c.secret_key_file = Some("/etc/lizhi/secret.key".into());
        assert_eq!(c.secret_key_path(), PathBuf::from("/etc/lizhi/secret.key"));
    }

    #[test]
    fn problems_name_the_key() {
        let c = Config {
            database_url: "mysql://x".into(),
            bind: "nowhere".into(),
            public_url: Some("hr.example.com".into()),
            max_connections: Some(0),
            log: "info,=[".into(),
            font_dirs: Some("/no/such/fonts".into()),
            smtp_url: Some("http://mail".into()),
            mail_from: None,
            secret_key_file: None,
            secret_key: Some("too short".into()),
            tsa_url: Some("tsa.example.com".into()),
            tsa_ca_file: Some("/no/such/ca.pem".into()),
            checkpoint_minutes: Some(0),
        };
        let p = c.problems().join("\n");
        for key in [
            "database_url",
            "bind",
            "public_url",
            "max_connections",
            "log",
            "font_dirs",
            "smtp_url",
            "secret_key",
            "tsa_url",
            "tsa_ca_file",
            "checkpoint_minutes",
        ] {
            assert!(p.contains(key), "{key} missing in {p}");
        }
        assert!(Config::default().problems().is_empty());
    }
}
