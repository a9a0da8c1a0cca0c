//! Just enough DN handling to keep the connector inside its subtree: an account DN must sit below the
//! target's base DN and must not be the service account itself. Comparison is case-insensitive and ignores
//! spaces around separators; anything it cannot parse is refused rather than guessed.

/// A DN as a list of normalised RDNs, leaf first; `None` when it is not a well-formed DN.
pub(crate) fn normalise(dn: &str) -> Option<Vec<String>> {
    let mut rdns = Vec::new();
    let mut current = String::new();
    let mut chars = dn.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                current.push(c);
                current.push(chars.next()?);
            }
            ',' => rdns.push(normalise_rdn(&std::mem::take(&mut current))?),
            _ => current.push(c),
        }
    }
    rdns.push(normalise_rdn(&current)?);
    Some(rdns)
}

/// `type=value` trimmed and lower-cased; multi-valued RDNs (`a=1+b=2`) are kept in their given order.
fn normalise_rdn(rdn: &str) -> Option<String> {
    let (kind, value) = rdn.split_once('=')?;
    let (kind, value) = (kind.trim(), value.trim());
    if kind.is_empty() || value.is_empty() {
        return None;
    }
    Some(format!("{}={}", kind.to_lowercase(), value.to_lowercase()))
}

/// Whether `dn` is strictly below `base`.
pub(crate) fn is_below(dn: &str, base: &str) -> bool {
    match (normalise(dn), normalise(base)) {
        (Some(dn), Some(base)) => dn.len() > base.len() && dn.ends_with(&base),
        _ => false,
    }
}

/// Whether two DNs name the same entry (as far as this normalisation can tell).
pub(crate) fn same(a: &str, b: &str) -> bool {
    matches!((normalise(a), normalise(b)), (Some(a), Some(b)) if a == b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_checks() {
        let base = "ou=People, DC=lizhi,dc=test";
        assert!(is_below("uid=zhangsan,ou=people,dc=lizhi,dc=test", base));
        assert!(is_below("cn=Zhang\\, San , ou=people,dc=lizhi,dc=test", base));
        assert!(!is_below("ou=people,dc=lizhi,dc=test", base), "the base itself is no account");
        assert!(!is_below("uid=x,ou=other,dc=lizhi,dc=test", base));
        assert!(!is_below("uid=x,ou=people,dc=lizhi,dc=test,dc=evil", base));
        assert!(!is_below("garbage", base));
        assert!(!is_below("uid=x,,dc=lizhi,dc=test", "dc=lizhi,dc=test"));
        assert!(same("CN=Admin, dc=lizhi,dc=test", "cn=admin,dc=lizhi,dc=test"));
    }
}
