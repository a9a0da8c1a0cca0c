//! The HTTP client every HTTP connector uses: HTTPS, bounded timeouts, no redirects (a redirected write
//! could replay a credential somewhere unexpected) and a Lizhi user agent.

use std::time::Duration;

/// A client with `timeout` per request and at most 10 s to connect. HTTPS uses rustls with the ring
/// provider (installed here for the process, once) and the system's trusted roots.
pub(crate) fn client(timeout: Duration) -> Result<reqwest::Client, reqwest::Error> {
    lizhi_app::install_tls_provider();
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("lizhi/", env!("CARGO_PKG_VERSION")))
        .build()
}
