//! E-mail over SMTP with lettre: plain (a relay on the same host), STARTTLS or implicit TLS, chosen by the
//! URL scheme. Passwords never reach logs or error messages.

use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use lizhi_app::mail::Mailer;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// Why a mail configuration was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmtpError {
    /// The URL is not `smtp://`, `smtp+starttls://` or `smtps://` with a host.
    BadUrl,
    /// The sender address is not an e-mail address.
    BadFrom,
}

impl std::fmt::Display for SmtpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SmtpError::BadUrl => {
                f.write_str("smtp_url must be smtp://, smtp+starttls:// or smtps://[user:password@]host[:port]")
            }
            SmtpError::BadFrom => f.write_str("mail_from must be an e-mail address, e.g. \"Lizhi <hr@example.com>\""),
        }
    }
}

impl std::error::Error for SmtpError {}

/// Sends e-mail through one SMTP server.
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

/// Percent-decoding for the user and password of a URL.
fn decode(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Some(Ok(b)) = raw.get(i + 1..i + 3).map(|h| u8::from_str_radix(h, 16))
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl SmtpMailer {
    /// A mailer for `url` sending as `from`.
    pub fn new(url: &str, from: &str) -> Result<SmtpMailer, SmtpError> {
        let from: Mailbox = from.parse().map_err(|_| SmtpError::BadFrom)?;
        let (scheme, rest) = url.split_once("://").ok_or(SmtpError::BadUrl)?;
        let (auth, host_port) = match rest.trim_end_matches('/').rsplit_once('@') {
            Some((auth, hp)) => (Some(auth), hp),
            None => (None, rest.trim_end_matches('/')),
        };
        let (host, port) = match host_port.rsplit_once(':') {
            Some((h, p)) => (h, Some(p.parse::<u16>().map_err(|_| SmtpError::BadUrl)?)),
            None => (host_port, None),
        };
        if host.is_empty() {
            return Err(SmtpError::BadUrl);
        }
        let builder = match scheme {
            "smtp" => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host).port(port.unwrap_or(25)),
            "smtp+starttls" => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)
                .map_err(|_| SmtpError::BadUrl)?
                .port(port.unwrap_or(587)),
            "smtps" => AsyncSmtpTransport::<Tokio1Executor>::relay(host)
                .map_err(|_| SmtpError::BadUrl)?
                .port(port.unwrap_or(465)),
            _ => return Err(SmtpError::BadUrl),
        };
        let builder = match auth.and_then(|a| a.split_once(':')) {
            Some((user, password)) => builder.credentials(Credentials::new(decode(user), decode(password))),
            None => builder,
        };
        Ok(SmtpMailer { transport: builder.timeout(Some(Duration::from_secs(20))).build(), from })
    }
}

impl Mailer for SmtpMailer {
    fn send<'a>(
        &'a self,
        to: &'a str,
        subject: &'a str,
        body: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>> {
        Box::pin(async move {
            let to: Mailbox = to.parse().map_err(|_| format!("not an e-mail address: {to}"))?;
            let message = Message::builder()
                .from(self.from.clone())
                .to(to)
                .subject(subject)
                .header(ContentType::TEXT_PLAIN)
                .body(body.to_owned())
                .map_err(|e| format!("message: {e}"))?;
            self.transport.send(message).await.map(|_| ()).map_err(|e| format!("smtp: {e}"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked_and_decoded() {
        assert!(SmtpMailer::new("smtp://127.0.0.1:2525", "Lizhi <hr@example.com>").is_ok());
        assert!(SmtpMailer::new("smtp+starttls://u%40x:p%3Ass@mail.example.com", "hr@example.com").is_ok());
        assert!(SmtpMailer::new("smtps://mail.example.com:465", "hr@example.com").is_ok());
        assert_eq!(SmtpMailer::new("http://x", "hr@example.com").err(), Some(SmtpError::BadUrl));
        assert_eq!(SmtpMailer::new("smtp://:25", "hr@example.com").err(), Some(SmtpError::BadUrl));
        assert_eq!(SmtpMailer::new("smtp://h:port", "hr@example.com").err(), Some(SmtpError::BadUrl));
        assert_eq!(SmtpMailer::new("smtp://h", "not an address").err(), Some(SmtpError::BadFrom));
        assert_eq!(decode("u%40x"), "u@x");
        assert_eq!(decode("p%3Ass%"), "p:ss%");
    }
}
