//! LDAP / Active Directory connector: locks a departing employee's directory account and removes their
//! group memberships, speaking the shared vocabulary of [`crate::access`].
//!
//! One [`LdapClient`] is one connection bound as the service account. It does not reconnect by itself: a
//! connection that drops after a modify was sent is an [`CallError::Ambiguous`] outcome, and silently
//! reconnecting would hide that. Open a client per batch of work and drop it afterwards.
//!
//! Locking never ends sessions or tickets already issued (an LDAP bind is checked once, a Kerberos ticket
//! lives on): revoking sessions is a separate step.

mod dn;
mod error;
mod flavor;

pub use flavor::{AD_ACCOUNTDISABLE, Flavor, LockChange, LockReading, OPENLDAP_PERMANENT_LOCK, account_control};

use crate::access::{AccessState, CallError, Intent, Observation, Verdict, VerifyMode, redact};
use error::{Phase, SYSTEM, from_ldap, local, refused};
use ldap3::exop::WhoAmI;
use ldap3::{Ldap, LdapConnAsync, LdapConnSettings, LdapResult, Mod, Scope, SearchEntry};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::time::Duration;

/// Which groups a revocation removes the account from; configured per target because some directories
/// have groups owned by other systems, or clean memberships up themselves (referential integrity).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum GroupScope {
    /// Only these groups; others are left alone.
    Listed {
        /// Group DNs.
        dns: Vec<String>,
    },
    /// Every group under `base` (the target's base DN when absent) whose `member` or `uniqueMember`
    /// names the account.
    Search {
        /// Where to look for groups.
        #[serde(default)]
        base: Option<String>,
    },
    /// Memberships are not touched.
    Keep,
}

impl Default for GroupScope {
    fn default() -> Self {
        GroupScope::Search { base: None }
    }
}

/// One directory to act on. `Debug` hides the password; there is deliberately no `Serialize`, so the
/// target cannot end up in evidence or logs by accident.
#[derive(Clone, Deserialize)]
pub struct LdapTarget {
    /// `ldaps://host:636` (TLS, the system's trusted roots), or `ldap://host:389` with [`starttls`](Self::starttls).
    pub url: String,
    /// Upgrade an `ldap://` connection with StartTLS before binding.
    #[serde(default)]
    pub starttls: bool,
    /// PEM file of the CA(s) the directory's certificate is checked against, for a private CA (an AD
    /// enterprise CA); without it, the system's trusted roots.
    #[serde(default)]
    pub ca_file: Option<String>,
    /// The service account that binds.
    pub bind_dn: String,
    /// Its password.
    pub bind_password: String,
    /// Accounts must sit below this DN; anything else is refused.
    pub base_dn: String,
    /// How the server locks accounts.
    pub flavor: Flavor,
    /// Groups a revocation removes the account from.
    #[serde(default)]
    pub groups: GroupScope,
    /// Put into a `groupOfNames` / `groupOfUniqueNames` when the account was its last member: those classes
    /// require a member, and OpenLDAP refuses to empty them (objectClassViolation). `None` refuses instead,
    /// leaving the last membership for a person to resolve.
    #[serde(default)]
    pub empty_group_member: Option<String>,
    /// OpenLDAP only: the default ppolicy entry, checked by [`LdapClient::test_connection`] for
    /// `pwdLockout: TRUE`, without which `pwdAccountLockedTime` does not stop binds.
    #[serde(default)]
    pub ppolicy_dn: Option<String>,
    /// Time allowed to open the TCP connection.
    #[serde(default = "default_connect_timeout_ms")]
    pub connect_timeout_ms: u64,
    /// Time allowed per operation (bind, search, modify).
    #[serde(default = "default_op_timeout_ms")]
    pub op_timeout_ms: u64,
    /// How a revocation is proven. The connector never deletes entries, so `read_absent` only fits
    /// directories where something else deletes them.
    #[serde(default = "default_verify")]
    pub verify: VerifyMode,
}

fn default_connect_timeout_ms() -> u64 {
    5_000
}

fn default_op_timeout_ms() -> u64 {
    10_000
}

fn default_verify() -> VerifyMode {
    VerifyMode::ReadDisabled
}

impl std::fmt::Debug for LdapTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LdapTarget")
            .field("url", &self.url)
            .field("starttls", &self.starttls)
            .field("ca_file", &self.ca_file)
            .field("bind_dn", &self.bind_dn)
            .field("bind_password", &"***")
            .field("base_dn", &self.base_dn)
            .field("flavor", &self.flavor)
            .field("groups", &self.groups)
            .field("empty_group_member", &self.empty_group_member)
            .field("ppolicy_dn", &self.ppolicy_dn)
            .field("connect_timeout_ms", &self.connect_timeout_ms)
            .field("op_timeout_ms", &self.op_timeout_ms)
            .field("verify", &self.verify)
            .finish()
    }
}

impl LdapTarget {
    /// A target with the defaults: groups searched under the base DN, 5 s to connect, 10 s per operation,
    /// verified by reading the account disabled.
    pub fn new(url: &str, bind_dn: &str, bind_password: &str, base_dn: &str, flavor: Flavor) -> Self {
        LdapTarget {
            url: url.into(),
            starttls: false,
            ca_file: None,
            bind_dn: bind_dn.into(),
            bind_password: bind_password.into(),
            base_dn: base_dn.into(),
            flavor,
            groups: GroupScope::default(),
            empty_group_member: None,
            ppolicy_dn: None,
            connect_timeout_ms: default_connect_timeout_ms(),
            op_timeout_ms: default_op_timeout_ms(),
            verify: default_verify(),
        }
    }

    /// [`LdapClient::verdict`], from the target alone (a read-back can be judged without a connection).
    pub fn verdict(&self, observation: &Observation) -> Verdict {
        if observation.evidence["lock"].get("error").is_some() {
            return Verdict::Unverifiable;
        }
        self.verify.judge(observation.state)
    }

    /// [`LdapClient::verdict_for`], from the target alone.
    pub fn verdict_for(&self, intent: Intent, observation: &Observation) -> Verdict {
        let verdict = self.verdict(observation);
        let groups_left = observation.evidence["groups"].as_array().is_none_or(|g| !g.is_empty());
        if intent == Intent::Revoke && verdict == Verdict::Verified && groups_left {
            return Verdict::NotRevoked;
        }
        verdict
    }
}

/// How many discover-and-remove rounds a revocation makes: server size limits can hide part of a long
/// membership list, and each round removes what the previous one could not see.
const MEMBERSHIP_ROUNDS: usize = 5;

/// A connection bound as the target's service account. See the module docs for why it never reconnects.
#[derive(Debug)]
pub struct LdapClient {
    /// The target, with the password wiped once bound.
    target: LdapTarget,
    ldap: Ldap,
}

/// A TLS configuration that trusts exactly the CA certificates in a PEM file.
fn tls_trusting(file: &str) -> Result<std::sync::Arc<rustls::ClientConfig>, CallError> {
    use rustls::pki_types::{CertificateDer, pem::PemObject};
    let mut roots = rustls::RootCertStore::empty();
    let certs = CertificateDer::pem_file_iter(file).map_err(|e| local("config", format!("ca_file {file}: {e}")))?;
    for cert in certs {
        let cert = cert.map_err(|e| local("config", format!("ca_file {file}: {e}")))?;
        roots.add(cert).map_err(|e| local("config", format!("ca_file {file}: {e}")))?;
    }
    if roots.is_empty() {
        return Err(local("config", format!("ca_file {file} holds no certificate")));
    }
    Ok(std::sync::Arc::new(rustls::ClientConfig::builder().with_root_certificates(roots).with_no_client_auth()))
}

impl LdapClient {
    /// Connects and binds as the service account. An empty password is refused: LDAP treats it as an
    /// anonymous bind that "succeeds" without authenticating.
    pub async fn connect(target: &LdapTarget) -> Result<LdapClient, CallError> {
        if target.bind_password.is_empty() {
            return Err(local("config", "empty bind password (an unauthenticated bind)"));
        }
        if target.url.starts_with("ldap://") && !target.starttls && !is_loopback_url(&target.url) {
            tracing::warn!(url = %target.url, "LDAP without TLS: the bind password crosses the network in clear");
        }
        lizhi_app::install_tls_provider();
        let mut settings = LdapConnSettings::new()
            .set_conn_timeout(Duration::from_millis(target.connect_timeout_ms))
            .set_starttls(target.starttls);
        if let Some(file) = &target.ca_file {
            settings = settings.set_config(tls_trusting(file)?);
        }
        let (conn, ldap) = LdapConnAsync::with_settings(settings, &target.url)
            .await
            .map_err(|e| from_ldap(e, Phase::Connect, "connect"))?;
        tokio::spawn(async move {
            if let Err(e) = conn.drive().await {
                tracing::debug!(error = %e, "LDAP connection ended");
            }
        });
        let mut kept = target.clone();
        kept.bind_password = String::new();
        let client = LdapClient { target: kept, ldap };
        let bound = client
            .handle()
            .simple_bind(&target.bind_dn, &target.bind_password)
            .await
            .map_err(|e| from_ldap(e, Phase::Read, "bind as service account"))?;
        if bound.rc != 0 {
            return Err(refused(&bound, "bind as service account"));
        }
        Ok(client)
    }

    /// Checks the setup before any employee depends on it: the bind identity, that the base DN is readable,
    /// that listed groups exist, and for OpenLDAP that the policy really makes the lock attribute lock.
    /// Returns what it found (no secrets) as evidence.
    pub async fn test_connection(&self) -> Result<Value, CallError> {
        let who = self.handle().extended(WhoAmI).await.map_err(|e| from_ldap(e, Phase::Read, "who am i"))?;
        // Who-am-I is optional for a server; without it the evidence just lacks the identity.
        let authzid = if who.1.rc == 0 { who.0.val.map(|v| String::from_utf8_lossy(&v).into_owned()) } else { None };
        let base = &self.target.base_dn;
        if !self.exists(base, "read base DN").await? {
            return Err(local("32", format!("base DN {base} not found or not visible to the service account")));
        }
        let mut evidence = json!({"system": SYSTEM, "flavor": self.target.flavor.name(), "authzid": authzid,
            "base_dn": base});
        if let GroupScope::Listed { dns } = &self.target.groups {
            for group in dns {
                if !self.exists(group, "read group").await? {
                    return Err(local("32", format!("group {group} not found or not visible")));
                }
            }
            evidence["groups"] = json!(dns);
        }
        if let (Flavor::OpenLdap, Some(policy)) = (self.target.flavor, &self.target.ppolicy_dn) {
            let values = self.read_attribute(policy, "pwdLockout", "read password policy").await?;
            let lockout = values.as_ref().is_some_and(|v| v.iter().any(|v| v.eq_ignore_ascii_case("TRUE")));
            if !lockout {
                return Err(local(
                    "policy",
                    format!("policy {policy} lacks pwdLockout: TRUE, so pwdAccountLockedTime would not block binds"),
                ));
            }
            evidence["ppolicy"] = json!({"dn": policy, "pwdLockout": true});
        }
        Ok(redact(evidence))
    }

    /// Reads whether the account can bind, and which groups (in the configured scope) still list it.
    /// A missing entry is [`AccessState::Absent`].
    pub async fn read_state(&self, dn: &str) -> Result<Observation, CallError> {
        self.check_scope(dn)?;
        let lock = self.read_attribute(dn, self.target.flavor.lock_attribute(), "read account").await?;
        let groups = self.memberships(dn).await?.0;
        Ok(self.observation(dn, lock, groups, Vec::new()))
    }

    /// Freeze locks, Unfreeze unlocks, Revoke locks and removes the group memberships. Idempotent:
    /// nothing already in place is written again, and a membership already gone counts as removed.
    /// Returns a fresh read-back (with the changes made) so the caller can judge it straight away.
    pub async fn apply(&self, intent: Intent, dn: &str) -> Result<Observation, CallError> {
        self.check_scope(dn)?;
        let flavor = self.target.flavor;
        let mut changes = Vec::new();
        match self.read_attribute(dn, flavor.lock_attribute(), "read account").await? {
            None if intent == Intent::Unfreeze => {
                return Err(local("32", format!("cannot unfreeze {dn}: no such entry")));
            }
            // Nothing to lock: the account is gone. A revocation still cleans its memberships, so a
            // re-created entry with the same DN does not inherit them.
            None => {}
            Some(values) => {
                let lock = intent != Intent::Unfreeze;
                let change = flavor.lock_change(&values, lock).map_err(|e| local("not_an_account", e))?;
                if let Some(change) = change {
                    let what = if lock { "lock account" } else { "unlock account" };
                    let mods = vec![Mod::Replace(change.attribute.to_owned(), change.values.iter().cloned().collect())];
                    let result = self.modify(dn, mods, what).await?;
                    if result.rc != 0 {
                        return Err(refused(&result, what));
                    }
                    changes.push(json!({"op": "replace", "dn": dn, "attribute": change.attribute,
                        "values": change.values}));
                }
            }
        }
        if intent == Intent::Revoke {
            self.remove_memberships(dn, &mut changes).await?;
        }
        tracing::info!(dn, intent = intent.name(), changes = changes.len(), "LDAP account updated");
        let lock = self.read_attribute(dn, flavor.lock_attribute(), "read back account").await?;
        let groups = self.memberships(dn).await?.0;
        Ok(self.observation(dn, lock, groups, changes))
    }

    /// Whether the account can still sign in, judged by the target's [`VerifyMode`]. An entry whose lock
    /// attribute cannot be interpreted is `Unverifiable`.
    pub fn verdict(&self, observation: &Observation) -> Verdict {
        self.target.verdict(observation)
    }

    /// [`Self::verdict`] for the intent that was applied: a revocation also needs every membership in
    /// scope gone, a freeze does not (the memberships stay for a possible unfreeze).
    pub fn verdict_for(&self, intent: Intent, observation: &Observation) -> Verdict {
        self.target.verdict_for(intent, observation)
    }

    /// Unbinds politely; dropping the client closes the connection too.
    pub async fn close(self) {
        let mut ldap = self.ldap;
        let _ = ldap.unbind().await;
    }

    /// A handle on the shared connection with the operation timeout armed for its next call.
    fn handle(&self) -> Ldap {
        let mut ldap = self.ldap.clone();
        ldap.with_timeout(Duration::from_millis(self.target.op_timeout_ms));
        ldap
    }

    /// Refuses DNs outside the base DN and the service account itself (locking it would lock Lizhi out).
    fn check_scope(&self, dn: &str) -> Result<(), CallError> {
        if !dn::is_below(dn, &self.target.base_dn) {
            return Err(local("out_of_scope", format!("{dn} is not below {}", self.target.base_dn)));
        }
        if dn::same(dn, &self.target.bind_dn) {
            return Err(local("out_of_scope", format!("{dn} is the service account")));
        }
        Ok(())
    }

    async fn modify(&self, dn: &str, mods: Vec<Mod<String>>, what: &str) -> Result<LdapResult, CallError> {
        self.handle().modify(dn, mods).await.map_err(|e| from_ldap(e, Phase::Write, what))
    }

    /// Whether an entry exists and is visible.
    async fn exists(&self, dn: &str, what: &str) -> Result<bool, CallError> {
        Ok(self.read_attribute(dn, "1.1", what).await?.is_some())
    }

    /// The values of one attribute of one entry (asked for by name), or `None` when there is no such entry.
    async fn read_attribute(&self, dn: &str, attribute: &str, what: &str) -> Result<Option<Vec<String>>, CallError> {
        let result = self
            .handle()
            .search(dn, Scope::Base, "(objectClass=*)", vec![attribute])
            .await
            .map_err(|e| from_ldap(e, Phase::Read, what))?;
        if result.1.rc == 32 {
            return Ok(None);
        }
        if result.1.rc != 0 {
            return Err(refused(&result.1, what));
        }
        let Some(entry) = result.0.into_iter().next() else { return Ok(None) };
        let entry = SearchEntry::construct(entry);
        // Servers answer with their own spelling of the attribute name.
        Ok(Some(
            entry
                .attrs
                .into_iter()
                .filter(|(name, _)| name.eq_ignore_ascii_case(attribute))
                .flat_map(|(_, v)| v)
                .collect(),
        ))
    }

    /// The groups in scope that list `dn`, with the attribute that does; and whether the server cut the
    /// answer short (size limit), in which case more may remain.
    async fn memberships(&self, dn: &str) -> Result<(Vec<(String, &'static str)>, bool), CallError> {
        let (bases, scope) = match &self.target.groups {
            GroupScope::Keep => return Ok((Vec::new(), false)),
            GroupScope::Listed { dns } => (dns.clone(), Scope::Base),
            GroupScope::Search { base } => {
                (vec![base.clone().unwrap_or_else(|| self.target.base_dn.clone())], Scope::Subtree)
            }
        };
        let value = ldap3::ldap_escape(dn);
        let mut found = Vec::new();
        let mut truncated = false;
        for attribute in self.target.flavor.membership_attributes() {
            let filter = format!("({attribute}={value})");
            for base in &bases {
                let result = self
                    .handle()
                    .search(base, scope, &filter, vec!["1.1"])
                    .await
                    .map_err(|e| from_ldap(e, Phase::Read, "find groups"))?;
                match result.1.rc {
                    0 => {}
                    // sizeLimitExceeded: use what came back, the caller goes round again.
                    4 => truncated = true,
                    // A listed group that no longer exists lists nobody.
                    32 if scope == Scope::Base => continue,
                    _ => return Err(refused(&result.1, "find groups")),
                }
                found.extend(result.0.into_iter().map(|e| (SearchEntry::construct(e).dn, *attribute)));
            }
        }
        Ok((found, truncated))
    }

    /// Removes `dn` from every group in scope, going round until none lists it.
    async fn remove_memberships(&self, dn: &str, changes: &mut Vec<Value>) -> Result<(), CallError> {
        for _ in 0..MEMBERSHIP_ROUNDS {
            let (groups, truncated) = self.memberships(dn).await?;
            if groups.is_empty() {
                return Ok(());
            }
            let mut removed = 0;
            for (group, attribute) in groups {
                let what = format!("remove from group {group}");
                let delete = || Mod::Delete(attribute.to_owned(), HashSet::from([dn.to_owned()]));
                let mut result = self.modify(&group, vec![delete()], &what).await?;
                let mut placeholder = None;
                if let (65, Some(stand_in)) = (result.rc, &self.target.empty_group_member) {
                    // The last member: swap in the stand-in within one (atomic) modify.
                    let add = Mod::Add(attribute.to_owned(), HashSet::from([stand_in.clone()]));
                    result = self.modify(&group, vec![delete(), add], &what).await?;
                    placeholder = Some(stand_in);
                }
                if result.rc == 0 {
                    removed += 1;
                    changes.push(json!({"op": "delete_value", "dn": group, "attribute": attribute, "value": dn,
                        "placeholder_added": placeholder}));
                } else if !self.already_removed(&result) {
                    return Err(refused(&result, &what));
                }
            }
            if removed == 0 && !truncated {
                // Listed, yet every delete said "not a member": the stored value differs from the DN
                // (e.g. a uniqueMember with a `#'…'B` suffix). Say so rather than loop.
                return Err(local("membership_remains", format!("groups still list {dn} but refuse to remove it")));
            }
        }
        Err(local("membership_remains", format!("{dn} still listed after {MEMBERSHIP_ROUNDS} rounds")))
    }

    /// Whether a failed member delete means "not a member (any more)": noSuchAttribute, a group deleted
    /// meanwhile, or Active Directory's ERROR_MEMBER_NOT_IN_GROUP (0x561, sent as unwillingToPerform).
    fn already_removed(&self, result: &LdapResult) -> bool {
        match result.rc {
            16 | 32 => true,
            53 => self.target.flavor == Flavor::ActiveDirectory && result.text.starts_with("00000561"),
            _ => false,
        }
    }

    fn observation(
        &self,
        dn: &str,
        lock: Option<Vec<String>>,
        groups: Vec<(String, &'static str)>,
        changes: Vec<Value>,
    ) -> Observation {
        let flavor = self.target.flavor;
        let attribute = flavor.lock_attribute();
        let (state, lock_evidence) = match &lock {
            None => (AccessState::Absent, json!({"attribute": attribute})),
            Some(values) => match flavor.read_lock(values) {
                Ok(LockReading::Locked) => {
                    (AccessState::Disabled, json!({"attribute": attribute, "values": values, "reading": "locked"}))
                }
                Ok(reading) => {
                    (AccessState::Active, json!({"attribute": attribute, "values": values, "reading": reading}))
                }
                // Cannot tell: count it as able to sign in, and let the verdict say "unverifiable".
                Err(e) => (AccessState::Active, json!({"attribute": attribute, "values": values, "error": e})),
            },
        };
        let groups: Vec<Value> = groups.into_iter().map(|(g, a)| json!({"dn": g, "attribute": a})).collect();
        let mut evidence = json!({"system": SYSTEM, "flavor": flavor.name(), "dn": dn, "exists": lock.is_some(),
            "lock": lock_evidence, "groups": groups});
        if !changes.is_empty() {
            evidence["changes"] = Value::Array(changes);
        }
        Observation { state, evidence: redact(evidence), request_id: None }
    }
}

/// Whether an `ldap://` URL points at this machine (where clear text is acceptable).
fn is_loopback_url(url: &str) -> bool {
    let host = url.trim_start_matches("ldap://");
    ["127.", "localhost", "[::1]"].iter().any(|p| host.starts_with(p))
}
