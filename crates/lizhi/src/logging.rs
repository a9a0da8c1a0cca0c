//! Logs on stderr: JSON lines for collectors when stderr is not a terminal, a readable format
//! when a person watches. The filter uses tracing's EnvFilter syntax (`LIZHI_LOG`).

use std::io::IsTerminal;
use tracing_subscriber::EnvFilter;

/// Installs the global subscriber; an invalid filter falls back to `info` (the configuration
/// check reports it separately), and a second call is a no-op.
pub fn init(filter: &str) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = if std::io::stderr().is_terminal() {
        builder.try_init()
    } else {
        builder.json().with_current_span(false).with_ansi(false).try_init()
    };
}
