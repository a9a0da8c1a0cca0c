//! Lizhi's connections to other systems. Each implements a trait of `lizhi-app` or speaks the shared
//! vocabulary of [`access`], so the use cases and the outbox stay free of protocol code.
//!
//! E-mail over SMTP ([`SmtpMailer`]); identity systems: SCIM 2.0 ([`scim`]), LDAP / Active Directory
//! ([`ldap`]); WeCom's server API and callback crypto ([`wecom`]); signed webhooks ([`webhook`]). The workers of the
//! outbox: [`access_worker`] (accounts) and [`deliveries`] (webhooks and WeCom messages).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod access;
pub mod access_worker;
pub mod checkins;
pub mod clients;
pub mod configured;
pub mod deliveries;
mod http;
pub mod ldap;
pub mod scim;
mod smtp;
pub mod webhook;
pub mod wecom;
pub mod worker;

pub use smtp::{SmtpError, SmtpMailer};
