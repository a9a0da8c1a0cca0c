//! Connector tests against real peers started by the tests themselves: an SMTP server (PyPI `aiosmtpd`),
//! SCIM 2.0 servers (PyPI `scim2-server`), OpenLDAP (`slapd`), and PyPI `wechatpy` for the WeCom callback
//! crypto. A test whose peer is missing says so and skips; CI installs every peer.

mod access;
mod e2e;
mod ldap;
mod scim;
mod smtp;
mod tls;
mod wecom;
mod wecom_api;
mod wecom_fake;
