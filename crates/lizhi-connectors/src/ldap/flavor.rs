//! What "locked" means in each directory server: the attribute, the values that lock and unlock, and how a
//! read-back is interpreted. Pure functions, so the semantics of servers we cannot run in tests (Active
//! Directory, 389-DS) are at least pinned down by unit tests.

use serde::{Deserialize, Serialize};

/// Which directory server a target is, because each one locks an account through a different attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Flavor {
    /// OpenLDAP with the `ppolicy` overlay: `pwdAccountLockedTime: 000001010000Z` is a permanent
    /// administrative lock (only honoured when the effective policy has `pwdLockout: TRUE`).
    OpenLdap,
    /// Microsoft Active Directory: bit 0x2 (`ACCOUNTDISABLE`) of `userAccountControl`.
    ActiveDirectory,
    /// 389 Directory Server / Red Hat DS / FreeIPA's directory: `nsAccountLock: TRUE`.
    Ds389,
}

/// The `pwdAccountLockedTime` value ppolicy reads as "locked until an administrator unlocks".
pub const OPENLDAP_PERMANENT_LOCK: &str = "000001010000Z";

/// Active Directory's `ACCOUNTDISABLE` bit of `userAccountControl`.
pub const AD_ACCOUNTDISABLE: u32 = 0x2;

/// A change to the lock attribute: replace its values with `values` (none = remove the attribute).
/// Replace rather than add/delete because it is idempotent on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LockChange {
    /// The attribute to replace.
    pub attribute: &'static str,
    /// Its new values; empty removes it.
    pub values: Vec<String>,
}

/// What the lock attribute says about an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LockReading {
    /// No lock: the account can bind.
    Unlocked,
    /// Locked until someone unlocks it.
    Locked,
    /// OpenLDAP lockout after failed binds (a real timestamp): it may expire by policy, so it does not
    /// count as a freeze.
    TemporaryLockout,
}

impl Flavor {
    /// Stable name (evidence, logs).
    pub fn name(self) -> &'static str {
        match self {
            Flavor::OpenLdap => "open_ldap",
            Flavor::ActiveDirectory => "active_directory",
            Flavor::Ds389 => "ds389",
        }
    }

    /// The attribute holding the lock. It is always requested by name: ppolicy's attributes are
    /// operational and a plain `*` search does not return them.
    pub fn lock_attribute(self) -> &'static str {
        match self {
            Flavor::OpenLdap => "pwdAccountLockedTime",
            Flavor::ActiveDirectory => "userAccountControl",
            Flavor::Ds389 => "nsAccountLock",
        }
    }

    /// Group attributes that name members by DN. Active Directory groups only use `member`.
    pub fn membership_attributes(self) -> &'static [&'static str] {
        match self {
            Flavor::ActiveDirectory => &["member"],
            Flavor::OpenLdap | Flavor::Ds389 => &["member", "uniqueMember"],
        }
    }

    /// Interprets the current values of [`Self::lock_attribute`]. An error means the entry is not an account
    /// this flavor can lock (an AD entry without a usable `userAccountControl`).
    pub fn read_lock(self, values: &[String]) -> Result<LockReading, String> {
        match self {
            Flavor::OpenLdap => Ok(if values.is_empty() {
                LockReading::Unlocked
            } else if values.iter().any(|v| v.trim() == OPENLDAP_PERMANENT_LOCK) {
                LockReading::Locked
            } else {
                LockReading::TemporaryLockout
            }),
            Flavor::ActiveDirectory => {
                let uac = parse_account_control(values)?;
                Ok(if uac & AD_ACCOUNTDISABLE != 0 { LockReading::Locked } else { LockReading::Unlocked })
            }
            Flavor::Ds389 => Ok(if values.iter().any(|v| v.trim().eq_ignore_ascii_case("true")) {
                LockReading::Locked
            } else {
                LockReading::Unlocked
            }),
        }
    }

    /// The change that locks (`lock`) or unlocks the account given the attribute's current values, or
    /// `None` when it already is in that state (so repeating a freeze writes nothing).
    pub fn lock_change(self, values: &[String], lock: bool) -> Result<Option<LockChange>, String> {
        let attribute = self.lock_attribute();
        let reading = self.read_lock(values)?;
        let change = |values: Vec<String>| Some(LockChange { attribute, values });
        Ok(match self {
            Flavor::ActiveDirectory => {
                let current = parse_account_control(values)?;
                let next = account_control(current, lock);
                // AD's INTEGER syntax is signed 32-bit; keep its rendering for values with the top bit set.
                (next != current).then(|| LockChange { attribute, values: vec![(next as i32).to_string()] })
            }
            Flavor::OpenLdap | Flavor::Ds389 => match (lock, reading) {
                (true, LockReading::Locked) | (false, LockReading::Unlocked) => None,
                (true, _) => change(vec![self.lock_value().to_owned()]),
                // Unlocking also clears a failed-bind lockout: Unfreeze means "can sign in again".
                (false, _) => change(Vec::new()),
            },
        })
    }

    /// The value that locks, for the flavors that lock by presence of a value.
    fn lock_value(self) -> &'static str {
        match self {
            Flavor::OpenLdap => OPENLDAP_PERMANENT_LOCK,
            Flavor::Ds389 => "TRUE",
            Flavor::ActiveDirectory => "",
        }
    }
}

/// The new `userAccountControl` with `ACCOUNTDISABLE` set (`disabled`) or cleared, every other bit kept:
/// AD packs unrelated flags (password never expires, smart card required, normal account…) in the same
/// integer, so overwriting it with 514 would silently change them.
pub fn account_control(current: u32, disabled: bool) -> u32 {
    if disabled { current | AD_ACCOUNTDISABLE } else { current & !AD_ACCOUNTDISABLE }
}

/// Parses AD's single-valued, signed 32-bit `userAccountControl`.
fn parse_account_control(values: &[String]) -> Result<u32, String> {
    match values {
        [one] => {
            let n: i64 = one.trim().parse().map_err(|_| format!("userAccountControl is not an integer: {one:?}"))?;
            if let Ok(v) = u32::try_from(n) {
                Ok(v)
            } else if let Ok(v) = i32::try_from(n) {
                Ok(v as u32)
            } else {
                Err(format!("userAccountControl out of range: {n}"))
            }
        }
        [] => Err("the entry has no userAccountControl: not an Active Directory account".into()),
        _ => Err("userAccountControl has several values".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ad_keeps_the_top_bit_in_signed_form() {
        let negative = vec![(-2147483136i64).to_string()];
        let change = Flavor::ActiveDirectory.lock_change(&negative, true).expect("parse").expect("change");
        assert_eq!(change.values, vec!["-2147483134".to_owned()]);
        assert!(Flavor::ActiveDirectory.read_lock(&["x".into()]).is_err());
        assert!(Flavor::ActiveDirectory.read_lock(&["1".into(), "2".into()]).is_err());
    }

    #[test]
    fn openldap_timestamps_are_temporary() {
        let reading = Flavor::OpenLdap.read_lock(&["20240101000000Z".into()]).expect("read");
        assert_eq!(reading, LockReading::TemporaryLockout);
        let change = Flavor::OpenLdap.lock_change(&["20240101000000Z".into()], true).expect("ok").expect("some");
        assert_eq!(change.values, vec![OPENLDAP_PERMANENT_LOCK.to_owned()]);
    }
}
