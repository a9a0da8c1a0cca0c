//! From `ldap3` errors and LDAP result codes to [`CallError`]. What matters is whether a modify may have
//! reached the server: an LDAP modify is atomic per entry, so any result code means "not applied", while a
//! timeout or a dropped connection after sending means "unknown".

use crate::access::CallError;
use ldap3::{LdapError, LdapResult};

/// Connector kind in errors.
pub(crate) const SYSTEM: &str = "ldap";

/// Where a failure happened, which decides whether its outcome can be unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Opening the TCP connection: nothing sent.
    Connect,
    /// Bind, search, who-am-I: no side effects worth a read-back.
    Read,
    /// A modify: if it was sent and no answer came back, it may have been applied.
    Write,
}

/// Result codes where trying again later may succeed.
fn retryable_code(rc: u32) -> bool {
    // timeLimitExceeded, adminLimitExceeded, busy, unavailable
    matches!(rc, 3 | 11 | 51 | 52)
}

/// RFC 4511 name of a result code, for messages.
pub(crate) fn code_name(rc: u32) -> &'static str {
    match rc {
        0 => "success",
        1 => "operationsError",
        2 => "protocolError",
        3 => "timeLimitExceeded",
        4 => "sizeLimitExceeded",
        7 => "authMethodNotSupported",
        8 => "strongerAuthRequired",
        10 => "referral",
        11 => "adminLimitExceeded",
        13 => "confidentialityRequired",
        16 => "noSuchAttribute",
        17 => "undefinedAttributeType",
        19 => "constraintViolation",
        20 => "attributeOrValueExists",
        21 => "invalidAttributeSyntax",
        32 => "noSuchObject",
        34 => "invalidDNSyntax",
        48 => "inappropriateAuthentication",
        49 => "invalidCredentials",
        50 => "insufficientAccessRights",
        51 => "busy",
        52 => "unavailable",
        53 => "unwillingToPerform",
        64 => "namingViolation",
        65 => "objectClassViolation",
        68 => "entryAlreadyExists",
        80 => "other",
        _ => "unknown",
    }
}

/// The server answered `result` to `what` with a non-success code.
pub(crate) fn refused(result: &LdapResult, what: &str) -> CallError {
    let mut message = format!("{what}: {}", code_name(result.rc));
    if !result.text.is_empty() {
        message.push_str(": ");
        message.push_str(result.text.trim());
    }
    if !result.refs.is_empty() {
        message.push_str(&format!(" (referral to {})", result.refs.join(", ")));
    }
    CallError::Refused { system: SYSTEM, code: result.rc.to_string(), message, retryable: retryable_code(result.rc) }
}

/// A refusal that never reached the server (configuration, out-of-scope DN).
pub(crate) fn local(code: &str, message: impl Into<String>) -> CallError {
    CallError::Refused { system: SYSTEM, code: code.into(), message: message.into(), retryable: false }
}

/// Maps a failed call. The library's messages carry no credentials (the bind password is never
/// formatted), so they are safe to keep.
pub(crate) fn from_ldap(err: LdapError, phase: Phase, what: &str) -> CallError {
    let transport = |code: &str, message: String| CallError::Refused {
        system: SYSTEM,
        code: code.into(),
        message: format!("{what}: {message}"),
        retryable: true,
    };
    match err {
        LdapError::LdapResult { result } => refused(&result, what),
        LdapError::UrlParsing { .. } | LdapError::UnknownScheme(_) | LdapError::AddNoValues => {
            local("config", format!("{what}: {err}"))
        }
        // The request never left this process.
        LdapError::OpSend { .. } => transport("connection_closed", err.to_string()),
        LdapError::Timeout { .. } | LdapError::ResultRecv { .. } | LdapError::Io { .. } | LdapError::EndOfStream
            if phase == Phase::Write =>
        {
            CallError::Ambiguous { system: SYSTEM, message: format!("{what}: sent, then {err}: read back first") }
        }
        LdapError::Timeout { .. } => transport("timeout", err.to_string()),
        other => transport(if phase == Phase::Connect { "connect" } else { "connection_lost" }, other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(rc: u32) -> LdapError {
        LdapError::LdapResult {
            result: LdapResult { rc, matched: String::new(), text: "x".into(), refs: Vec::new(), ctrls: Vec::new() },
        }
    }

    #[test]
    fn codes_split_into_retryable_and_not() {
        for (rc, retry) in [(49, false), (50, false), (53, false), (51, true), (52, true)] {
            match from_ldap(result(rc), Phase::Write, "modify") {
                CallError::Refused { retryable, code, .. } => {
                    assert_eq!(retryable, retry, "{rc}");
                    assert_eq!(code, rc.to_string());
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn lost_answers_to_writes_are_ambiguous_but_not_to_reads() {
        let lost = || LdapError::Io { source: std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset") };
        assert!(matches!(from_ldap(lost(), Phase::Write, "modify"), CallError::Ambiguous { .. }));
        assert!(matches!(from_ldap(lost(), Phase::Read, "search"), CallError::Refused { retryable: true, .. }));
        assert!(matches!(from_ldap(LdapError::EndOfStream, Phase::Write, "m"), CallError::Ambiguous { .. }));
    }
}
