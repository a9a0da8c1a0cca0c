//! Lizhi's connections to other systems. Each implements a trait of `lizhi-app`, so the use cases and the
//! outbox stay free of protocol code.
//!
//! For now: e-mail over SMTP ([`SmtpMailer`]).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod smtp;

pub use smtp::{SmtpError, SmtpMailer};
