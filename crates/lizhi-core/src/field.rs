//! Field-level validation errors with stable codes.
//!
//! Codes are part of the public contract (API responses, import reports, translations), so a
//! variant's code never changes once shipped.

use std::fmt;

/// Why one input value was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldError {
    /// The value is empty but must be present.
    Required,
    /// The value has more characters than allowed.
    TooLong { max: usize },
    /// A code or number uses characters outside its alphabet.
    InvalidCode,
    /// Not a real calendar date written as `YYYY-MM-DD`.
    InvalidDate,
    /// Not a plausible email address.
    InvalidEmail,
    /// Not a plausible phone number.
    InvalidMobile,
    /// Not an ISO 3166-1 alpha-2 country code.
    InvalidCountry,
    /// Not an IANA time zone name.
    InvalidTimeZone,
    /// Not one of the policy profiles Lizhi ships.
    UnknownPolicy,
}

impl FieldError {
    /// The stable machine-readable code, also the suffix of the translation key `error-<code>`.
    pub fn code(&self) -> &'static str {
        match self {
            FieldError::Required => "required",
            FieldError::TooLong { .. } => "too_long",
            FieldError::InvalidCode => "invalid_code",
            FieldError::InvalidDate => "invalid_date",
            FieldError::InvalidEmail => "invalid_email",
            FieldError::InvalidMobile => "invalid_mobile",
            FieldError::InvalidCountry => "invalid_country",
            FieldError::InvalidTimeZone => "invalid_time_zone",
            FieldError::UnknownPolicy => "unknown_policy",
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldError::TooLong { max } => write!(f, "longer than {max} characters"),
            other => f.write_str(other.code()),
        }
    }
}

impl std::error::Error for FieldError {}
