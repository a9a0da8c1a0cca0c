//! Newtypes that can only hold valid values: parse once at the edge, trust everywhere after.

use crate::field::FieldError;
use chrono::NaiveDate;
use serde::{Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

fn required(raw: &str) -> Result<&str, FieldError> {
    let value = raw.trim();
    if value.is_empty() { Err(FieldError::Required) } else { Ok(value) }
}

fn max_chars(value: &str, max: usize) -> Result<(), FieldError> {
    if value.chars().count() > max { Err(FieldError::TooLong { max }) } else { Ok(()) }
}

fn code_chars(value: &str, extra: &[char]) -> Result<(), FieldError> {
    if value.chars().all(|c| c.is_ascii_alphanumeric() || extra.contains(&c)) {
        Ok(())
    } else {
        Err(FieldError::InvalidCode)
    }
}

macro_rules! string_newtype {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// The validated text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl FromStr for $name {
            type Err = FieldError;
            fn from_str(raw: &str) -> Result<Self, FieldError> {
                Self::parse(raw)
            }
        }
    };
}

string_newtype!(
    /// A legal entity's short code (`CN01`), the key imports upsert by.
    EntityCode
);
string_newtype!(
    /// An org unit's code, unique across the installation so files can reference it.
    OrgUnitCode
);
string_newtype!(
    /// An employee number as HR systems and badges print it; the key imports upsert by.
    EmployeeNo
);
string_newtype!(
    /// A syntactically plausible email address (delivery is proven elsewhere).
    Email
);
string_newtype!(
    /// A phone number kept as typed (digits, leading `+`, spaces, dashes).
    Mobile
);
string_newtype!(
    /// An ISO 3166-1 alpha-2 country code in upper case.
    CountryCode
);
string_newtype!(
    /// An IANA time zone name that chrono-tz knows, so attendance days can be computed.
    TimeZoneName
);

impl EntityCode {
    /// Accepts 1–32 characters of `A–Z a–z 0–9 _ - .`.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let v = required(raw)?;
        max_chars(v, 32)?;
        code_chars(v, &['_', '-', '.'])?;
        Ok(Self(v.to_owned()))
    }
}

impl OrgUnitCode {
    /// Accepts 1–32 characters of `A–Z a–z 0–9 _ - .`.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let v = required(raw)?;
        max_chars(v, 32)?;
        code_chars(v, &['_', '-', '.'])?;
        Ok(Self(v.to_owned()))
    }
}

impl EmployeeNo {
    /// Accepts 1–32 characters of `A–Z a–z 0–9 _ -`.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let v = required(raw)?;
        max_chars(v, 32)?;
        code_chars(v, &['_', '-'])?;
        Ok(Self(v.to_owned()))
    }
}

impl Email {
    /// One `@` with a non-empty local part and a dotted domain, no spaces, at most 254 characters.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let v = required(raw)?;
        max_chars(v, 254)?;
        let valid = match v.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !v.chars().any(char::is_whitespace)
            }
            None => false,
        };
        if valid { Ok(Self(v.to_owned())) } else { Err(FieldError::InvalidEmail) }
    }
}

impl Mobile {
    /// 7–20 digits, an optional leading `+`, and spaces or dashes between digits.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let v = required(raw)?;
        let body = v.strip_prefix('+').unwrap_or(v);
        let digits = body.chars().filter(char::is_ascii_digit).count();
        let allowed = body.chars().all(|c| c.is_ascii_digit() || c == ' ' || c == '-');
        if allowed && (7..=20).contains(&digits) { Ok(Self(v.to_owned())) } else { Err(FieldError::InvalidMobile) }
    }
}

impl CountryCode {
    /// Two ASCII letters, stored upper case.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let v = required(raw)?;
        if v.len() == 2 && v.chars().all(|c| c.is_ascii_alphabetic()) {
            Ok(Self(v.to_ascii_uppercase()))
        } else {
            Err(FieldError::InvalidCountry)
        }
    }
}

impl TimeZoneName {
    /// Any zone in the IANA database shipped with chrono-tz.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let v = required(raw)?;
        v.parse::<chrono_tz::Tz>().map_err(|_| FieldError::InvalidTimeZone)?;
        Ok(Self(v.to_owned()))
    }

    /// The zone itself, for computing local attendance days.
    pub fn tz(&self) -> chrono_tz::Tz {
        // Construction already proved the name parses.
        self.0.parse().unwrap_or(chrono_tz::UTC)
    }
}

/// A calendar date written strictly as `YYYY-MM-DD` (what every import format uses).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct WorkDate(NaiveDate);

impl WorkDate {
    /// Refuses other layouts (`2024/1/5`, `05-01-2024`) instead of guessing the order of fields.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let v = required(raw)?;
        let b = v.as_bytes();
        let shaped = b.len() == 10
            && b[4] == b'-'
            && b[7] == b'-'
            && b.iter().enumerate().all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
        if !shaped {
            return Err(FieldError::InvalidDate);
        }
        NaiveDate::parse_from_str(v, "%Y-%m-%d").map(Self).map_err(|_| FieldError::InvalidDate)
    }

    /// Wraps a date that is already known to be valid.
    pub fn from_date(date: NaiveDate) -> Self {
        Self(date)
    }

    /// The underlying chrono date.
    pub fn date(self) -> NaiveDate {
        self.0
    }
}

impl fmt::Display for WorkDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format("%Y-%m-%d"))
    }
}

/// The policy profiles Lizhi ships; each legal entity names one. Later issues attach parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicyProfile {
    /// Mainland China defaults (LCL art. 39(2) process, 3 consecutive days red).
    CnDefault,
    /// United States, at-will, 3 no-call/no-show shifts.
    UsGeneric,
    /// United Kingdom: contact, letters, hearing, dismissal with appeal.
    Uk,
    /// India: standing orders, notice to resume, show-cause, enquiry.
    In,
}

impl PolicyProfile {
    /// Every profile, in display order.
    pub const ALL: [PolicyProfile; 4] =
        [PolicyProfile::CnDefault, PolicyProfile::UsGeneric, PolicyProfile::Uk, PolicyProfile::In];

    /// The name used in files, the database and the API.
    pub fn name(self) -> &'static str {
        match self {
            PolicyProfile::CnDefault => "CN-default",
            PolicyProfile::UsGeneric => "US-generic",
            PolicyProfile::Uk => "UK",
            PolicyProfile::In => "IN",
        }
    }

    /// Parses a profile name exactly as [`PolicyProfile::name`] writes it.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let v = required(raw)?;
        Self::ALL.into_iter().find(|p| p.name() == v).ok_or(FieldError::UnknownPolicy)
    }
}

impl fmt::Display for PolicyProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_accept_their_alphabet_and_refuse_others() {
        assert_eq!(EmployeeNo::parse(" E-1001 ").map(|e| e.0), Ok("E-1001".to_owned()));
        assert_eq!(EmployeeNo::parse("E 1001"), Err(FieldError::InvalidCode));
        assert_eq!(EmployeeNo::parse("E.1"), Err(FieldError::InvalidCode));
        assert_eq!(EntityCode::parse("cn.sh-01").map(|e| e.0), Ok("cn.sh-01".to_owned()));
        assert_eq!(OrgUnitCode::parse(""), Err(FieldError::Required));
        assert_eq!(OrgUnitCode::parse(&"x".repeat(33)), Err(FieldError::TooLong { max: 32 }));
        assert_eq!(EmployeeNo::parse("张三"), Err(FieldError::InvalidCode));
    }

    #[test]
    fn dates_are_strict_iso() {
        assert_eq!(WorkDate::parse("2024-02-29").map(|d| d.to_string()), Ok("2024-02-29".into()));
        for bad in ["2023-02-29", "2024/01/05", "2024-1-5", "05-01-2024", "2024-01-05T00:00", "x"] {
            assert_eq!(WorkDate::parse(bad), Err(FieldError::InvalidDate), "{bad}");
        }
    }

    #[test]
    fn contact_values() {
        assert!(Email::parse("li.na@example.cn").is_ok());
        for bad in ["li.na", "a@b", "a@@b.cn", "@b.cn", "a b@c.cn", "a@.cn"] {
            assert_eq!(Email::parse(bad), Err(FieldError::InvalidEmail), "{bad}");
        }
        assert!(Mobile::parse("+86 138-0013-8000").is_ok());
        assert_eq!(Mobile::parse("12345"), Err(FieldError::InvalidMobile));
        assert_eq!(Mobile::parse("138a0013800"), Err(FieldError::InvalidMobile));
    }

    #[test]
    fn country_zone_policy() {
        assert_eq!(CountryCode::parse("cn").map(|c| c.0), Ok("CN".into()));
        assert_eq!(CountryCode::parse("CHN"), Err(FieldError::InvalidCountry));
        assert_eq!(TimeZoneName::parse("Asia/Shanghai").map(|t| t.tz()), Ok(chrono_tz::Asia::Shanghai));
        assert_eq!(TimeZoneName::parse("Asia/Beijing"), Err(FieldError::InvalidTimeZone));
        assert_eq!(PolicyProfile::parse("UK"), Ok(PolicyProfile::Uk));
        assert_eq!(PolicyProfile::parse("cn-default"), Err(FieldError::UnknownPolicy));
        for p in PolicyProfile::ALL {
            assert_eq!(PolicyProfile::parse(p.name()), Ok(p));
        }
    }
}
