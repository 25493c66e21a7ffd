//! Stage `plan`, saved plans (`plan -o FILE`, `apply --plan FILE`): the desired state (config
//! texts), the options, the operations, what the plan showed besides (the policies' warnings
//! included), the partner and the endpoint it is bound to, and the policies it was evaluated
//! with (path and digest), under a digest of the whole file (and an HMAC-SHA256 signature when
//! a key is given). Pure: (de)serialization, digests, signatures and the checks of a saved plan
//! against the options, partner, endpoint and policies of the apply; the edge reads and writes
//! the file, the key and the policies.
//!
//! The digest and the signature cover the file's canonical bytes: its JSON without the
//! `digest` and `signature` members, every object's members sorted by their names' UTF-8
//! bytes, no whitespace, strings and numbers as `serde_json` writes them. Any edit to what
//! `show` renders or `apply` uses therefore changes them.

use std::collections::BTreeMap;

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{
    AccountRef, ClassCounts, DEFAULT_MAX_DELETE_PERCENT, DEFAULT_MAX_UPDATE_PERCENT, NearMiss,
    Operation, Options, Plan, Unmanaged,
};
use crate::config::Source;
use crate::live::{Limits, PartnerInfo};
use crate::policy::{Digest as PolicyDigest, Finding, Outcome};

/// Version of the saved-plan format: "2" binds the plan to its partner and endpoint, and
/// covers the whole file by its digest.
pub const SAVED_FORMAT_VERSION: &str = "2";

/// How a saved plan records the embedded sandbox as its endpoint (what `--endpoint` takes).
pub const EMBEDDED_ENDPOINT: &str = "local";

/// A plan written by `plan -o`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedPlan {
    /// Always [`SAVED_FORMAT_VERSION`].
    pub format_version: String,
    /// The partnerctl version that wrote it.
    pub partnerctl_version: String,
    /// The endpoint it is bound to, as [`bound_endpoint`] writes it.
    pub endpoint: String,
    /// The id of the partner it is bound to.
    pub partner_id: String,
    /// The planning options.
    pub options: Options,
    /// The configuration files, as read.
    pub sources: Vec<Source>,
    /// The operations.
    pub operations: Vec<Operation>,
    /// The policy files the plan was evaluated with (`--policy`), by path and digest:
    /// `apply --plan` evaluates them again, and refuses when one changed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<PolicyDigest>,
    /// The rest of the plan, so that `partnerctl show` renders it exactly as `plan` did.
    pub context: Context,
    /// `sha256:` digest of the file's canonical bytes.
    pub digest: String,
    /// `hmac-sha256:` signature of the same bytes, when the plan was saved with a key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
}

/// What a plan holds besides its operations, for rendering it again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Context {
    /// The endpoint's URL as the plan showed it.
    pub endpoint: String,
    /// Whether the endpoint was the embedded sandbox.
    pub embedded: bool,
    /// The partner planned against.
    pub partner: PartnerInfo,
    /// Unmanaged live objects.
    pub unmanaged: Vec<Unmanaged>,
    /// Near-miss warnings.
    #[serde(default)]
    pub near_misses: Vec<NearMiss>,
    /// The `--target` addresses.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<String>,
    /// Access changes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub access: Vec<super::AccessChange>,
    /// Manual steps.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub manual: Vec<super::ManualStep>,
    /// Changes the provider does not manage.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unsupported: Vec<String>,
    /// Changes inside customers the partner may not manage.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub closed: Vec<(String, String)>,
    /// Matching pending invitations.
    pub pending_invitations: usize,
    /// Live object counts.
    pub live: ClassCounts,
    /// Ids of the partner's active admins.
    pub partner_admins: Vec<String>,
    /// API limits.
    pub limits: Limits,
    /// What reading the live state took.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read: Option<crate::live::ReadCost>,
    /// The parents of the accounts the operations act on or in, and of their ancestors.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub parents: BTreeMap<String, AccountRef>,
    /// The policies' warnings.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policy_warnings: Vec<Finding>,
}

/// The key that signs saved plans and verifies their signatures (`PARTNERCTL_PLAN_KEY`).
#[derive(Clone)]
pub struct PlanKey(Vec<u8>);

impl PlanKey {
    /// A key of these bytes; `None` when there are none.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Option<PlanKey> {
        let bytes = bytes.into();
        (!bytes.is_empty()).then_some(PlanKey(bytes))
    }

    fn mac(&self, body: &[u8]) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes keys of any size");
        mac.update(body);
        mac
    }
}

impl std::fmt::Debug for PlanKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PlanKey(…)")
    }
}

/// The prefix of a signature.
const SIGNATURE_PREFIX: &str = "hmac-sha256:";

/// Why a saved plan cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SavedPlanError {
    /// Not JSON of the expected shape.
    #[error("not a partnerctl plan file: {0}")]
    Malformed(String),
    /// Another format version.
    #[error(
        "plan file format {0} is not supported by this partnerctl (it reads format {SAVED_FORMAT_VERSION}); re-run `partnerctl plan -o`"
    )]
    Version(String),
    /// The digest does not match the content.
    #[error(
        "plan file digest mismatch: the file was modified after `partnerctl plan -o` wrote it; re-run `partnerctl plan -o`"
    )]
    Digest,
    /// A key is set and the plan carries no signature.
    #[error(
        "the plan is not signed, and PARTNERCTL_PLAN_KEY is set: it was saved without the key, or its signature was removed; re-run `partnerctl plan -o` with PARTNERCTL_PLAN_KEY set"
    )]
    Unsigned,
    /// The signature is not the key's for this content.
    #[error(
        "the plan's signature does not match PARTNERCTL_PLAN_KEY: the file was modified after `partnerctl plan -o` signed it, or it was signed with another key; re-run `partnerctl plan -o` with this key"
    )]
    Signature,
}

/// Why a saved plan does not apply here: another endpoint or partner.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BindingError {
    /// The apply would go to another endpoint.
    #[error(
        "the plan was saved against {} and would now be applied to {}; point PARTNERCTL_ENDPOINT (or --endpoint) at {}, or run `partnerctl plan -o` against this endpoint and review that plan",
        describe_endpoint(saved),
        describe_endpoint(now),
        describe_endpoint(saved)
    )]
    Endpoint {
        /// The saved endpoint.
        saved: String,
        /// The endpoint of this run.
        now: String,
    },
    /// The token is another partner's.
    #[error(
        "the plan was saved for partner \"{saved_name}\" (id {saved_id}), and the token is now of partner \"{now_name}\" (id {now_id}); use a token of partner {saved_id} in PARTNERCTL_TOKEN, or run `partnerctl plan -o` with this token and review that plan"
    )]
    Partner {
        /// The saved partner's name.
        saved_name: String,
        /// The saved partner's id.
        saved_id: String,
        /// The name of the token's partner.
        now_name: String,
        /// The id of the token's partner.
        now_id: String,
    },
}

/// A policy of `apply --plan` that is not one the saved plan was evaluated with, as it was.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyDrift {
    /// Its content changed.
    #[error(
        "the policy {path} changed since the plan was made (sha256 {} then, {} now)",
        short(saved),
        short(now)
    )]
    Changed {
        /// The policy file.
        path: String,
        /// Its digest in the saved plan.
        saved: String,
        /// Its digest now.
        now: String,
    },
    /// The plan was evaluated with it, and it is not among the policies now.
    #[error(
        "the plan was evaluated with the policy {path}, which is not among the policies given now (removed, or not in a --policy path)"
    )]
    Missing {
        /// The policy file.
        path: String,
    },
    /// It is given now, and the plan was not evaluated with it.
    #[error("the policy {path} is given now, and the plan was not evaluated with it")]
    New {
        /// The policy file.
        path: String,
    },
}

/// The first 12 hex digits of a digest, for messages.
fn short(sha256: &str) -> &str {
    &sha256[..sha256.len().min(12)]
}

/// An endpoint as messages name it.
fn describe_endpoint(endpoint: &str) -> String {
    if endpoint == EMBEDDED_ENDPOINT {
        "the embedded sandbox (`--endpoint local`)".to_string()
    } else {
        endpoint.to_string()
    }
}

/// The endpoint a saved plan is bound to: [`EMBEDDED_ENDPOINT`] for the embedded sandbox;
/// else the URL's scheme, host and port (the scheme's default written out) and its path
/// without a trailing slash, leaving out any user, password, query and fragment. A text that
/// is not a URL is kept as it is, trimmed.
pub fn bound_endpoint(url: &str, embedded: bool) -> String {
    if embedded {
        return EMBEDDED_ENDPOINT.to_string();
    }
    let url = url.trim();
    let Ok(parsed) = url::Url::parse(url) else {
        return url.to_string();
    };
    let Some(host) = parsed.host_str() else {
        return url.to_string();
    };
    let port = parsed
        .port_or_known_default()
        .map(|p| format!(":{p}"))
        .unwrap_or_default();
    format!(
        "{}://{host}{port}{}",
        parsed.scheme(),
        parsed.path().trim_end_matches('/')
    )
}

/// An option that lowers a guard: a plan saved with it is applied only when it is given again
/// to `apply --plan`, with the same value.
pub struct GuardOption {
    /// The flag.
    pub flag: &'static str,
    /// The option as given on the command line (`--max-delete-percent 50`), `None` at its
    /// default.
    pub given: fn(&Options) -> Option<String>,
    /// Whether the options lower the guard with it.
    pub lowers: fn(&Options) -> bool,
}

/// Every option that lowers a guard, one entry each.
pub const GUARD_OPTIONS: &[GuardOption] = &[
    GuardOption {
        flag: "--force",
        given: |o| o.force.then(|| "--force".to_string()),
        lowers: |o| o.force,
    },
    GuardOption {
        flag: "--max-delete-percent",
        given: |o| {
            (o.max_delete_percent != DEFAULT_MAX_DELETE_PERCENT)
                .then(|| format!("--max-delete-percent {}", o.max_delete_percent))
        },
        lowers: |o| o.max_delete_percent > DEFAULT_MAX_DELETE_PERCENT,
    },
    GuardOption {
        flag: "--max-update-percent",
        given: |o| {
            (o.max_update_percent != DEFAULT_MAX_UPDATE_PERCENT)
                .then(|| format!("--max-update-percent {}", o.max_update_percent))
        },
        lowers: |o| o.max_update_percent > DEFAULT_MAX_UPDATE_PERCENT,
    },
];

/// A guard option of `apply --plan` that is not the saved plan's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OptionError {
    /// The plan was saved with an option lowering a guard, and it was not given again.
    #[error("the plan was saved with `{saved}`, which lowers a guard: give `{saved}` again")]
    NotGiven {
        /// The saved option.
        saved: String,
    },
    /// The option was given with another value.
    #[error(
        "the plan was saved with `{saved}`, not `{given}`: give `{saved}`, or run `partnerctl plan -o` again with `{given}`"
    )]
    Differs {
        /// The saved option.
        saved: String,
        /// The one given.
        given: String,
    },
    /// The option was given, and the plan was saved without it.
    #[error(
        "`{given}` was given, and the plan was saved without it: a saved plan is applied with the options it was reviewed with; leave out {flag}, or run `partnerctl plan -o` again with it"
    )]
    NotSaved {
        /// The option given.
        given: String,
        /// Its flag.
        flag: &'static str,
    },
}

/// The file's canonical bytes (see the module's documentation).
fn canonical_bytes(file: &Value) -> Vec<u8> {
    fn write(value: &Value, out: &mut Vec<u8>) {
        match value {
            Value::Object(members) => {
                let mut members: Vec<(&String, &Value)> = members.iter().collect();
                members.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
                out.push(b'{');
                for (i, (name, member)) in members.into_iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    serde_json::to_writer(&mut *out, name).expect("strings serialize");
                    out.push(b':');
                    write(member, out);
                }
                out.push(b'}');
            }
            Value::Array(items) => {
                out.push(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    write(item, out);
                }
                out.push(b']');
            }
            scalar => serde_json::to_writer(&mut *out, scalar).expect("scalars serialize"),
        }
    }
    let mut file = file.clone();
    if let Value::Object(members) = &mut file {
        members.shift_remove("digest");
        members.shift_remove("signature");
    }
    let mut out = Vec::new();
    write(&file, &mut out);
    out
}

fn sha256(body: &[u8]) -> String {
    format!("sha256:{:x}", Sha256::digest(body))
}

fn sign(key: &PlanKey, body: &[u8]) -> String {
    let tag = key.mac(body).finalize().into_bytes();
    format!("{SIGNATURE_PREFIX}{tag:x}")
}

/// Lower-case or upper-case hex digits as bytes.
fn from_hex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Is `signature` the key's for `body`? (Compared in constant time.)
fn verify(key: &PlanKey, body: &[u8], signature: &str) -> bool {
    signature
        .strip_prefix(SIGNATURE_PREFIX)
        .and_then(from_hex)
        .is_some_and(|tag| key.mac(body).verify_slice(&tag).is_ok())
}

/// A digest of the partner, the options, the configuration and the operations: the seed of
/// the idempotency keys of an apply that plans by itself (a saved plan's is its digest).
pub fn plan_digest(plan: &Plan, sources: &[Source]) -> String {
    let body = serde_json::to_vec(&(&plan.partner.id, plan.options, sources, &plan.operations))
        .expect("plan parts serialize");
    sha256(&body)
}

impl SavedPlan {
    /// Captures a plan and the configuration it came from, bound to its partner and to the
    /// endpoint `endpoint` (its URL as shown; `embedded` for the embedded sandbox), and signed
    /// with `key` when there is one.
    /// `policy` is what the policies said, when the plan was evaluated with some.
    pub fn new(
        plan: &Plan,
        sources: &[Source],
        endpoint: &str,
        embedded: bool,
        policy: Option<&Outcome>,
        key: Option<&PlanKey>,
    ) -> Self {
        let mut saved = SavedPlan {
            format_version: SAVED_FORMAT_VERSION.to_string(),
            partnerctl_version: env!("CARGO_PKG_VERSION").to_string(),
            endpoint: bound_endpoint(endpoint, embedded),
            partner_id: plan.partner.id.clone(),
            options: plan.options,
            sources: sources.to_vec(),
            operations: plan.operations.clone(),
            policies: policy.map(|o| o.policies.clone()).unwrap_or_default(),
            context: Context {
                endpoint: endpoint.to_string(),
                embedded,
                partner: plan.partner.clone(),
                unmanaged: plan.unmanaged.clone(),
                near_misses: plan.near_misses.clone(),
                targets: plan.targets.clone(),
                access: plan.access.clone(),
                manual: plan.manual.clone(),
                unsupported: plan.unsupported.clone(),
                closed: plan.closed.clone(),
                pending_invitations: plan.pending_invitations,
                live: plan.live,
                partner_admins: plan.partner_admins.clone(),
                limits: plan.limits,
                read: plan.read,
                parents: plan.parents.clone(),
                policy_warnings: policy.map(|o| o.warnings.clone()).unwrap_or_default(),
            },
            digest: String::new(),
            signature: None,
        };
        saved.seal(key);
        saved
    }

    fn canonical_bytes(&self) -> Vec<u8> {
        canonical_bytes(&serde_json::to_value(self).expect("saved plans serialize"))
    }

    /// The digest of the plan's content as it is now (what [`SavedPlan::seal`] records).
    pub fn content_digest(&self) -> String {
        sha256(&self.canonical_bytes())
    }

    /// Records the digest of the content as it is now, and its signature with `key` (none
    /// without a key).
    pub fn seal(&mut self, key: Option<&PlanKey>) {
        let body = self.canonical_bytes();
        self.digest = sha256(&body);
        self.signature = key.map(|k| sign(k, &body));
    }

    /// The file text (pretty JSON, trailing newline).
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("saved plans serialize");
        s.push('\n');
        s
    }

    /// Parses a plan file and verifies its digest over the whole file, and with `key` its
    /// signature (which must then be there). Without a key, a signature is not checked: the
    /// caller decides what a signed plan without the key means ([`SavedPlan::is_signed`]).
    pub fn from_json(text: &str, key: Option<&PlanKey>) -> Result<Self, SavedPlanError> {
        let file: Value =
            serde_json::from_str(text).map_err(|e| SavedPlanError::Malformed(e.to_string()))?;
        match file.get("format_version").and_then(|v| v.as_str()) {
            Some(SAVED_FORMAT_VERSION) => {}
            Some(other) => return Err(SavedPlanError::Version(other.to_string())),
            None => return Err(SavedPlanError::Malformed("no format_version".into())),
        }
        let body = canonical_bytes(&file);
        let saved: SavedPlan =
            serde_json::from_value(file).map_err(|e| SavedPlanError::Malformed(e.to_string()))?;
        if sha256(&body) != saved.digest {
            return Err(SavedPlanError::Digest);
        }
        if let Some(key) = key {
            match &saved.signature {
                None => return Err(SavedPlanError::Unsigned),
                Some(s) if !verify(key, &body, s) => return Err(SavedPlanError::Signature),
                Some(_) => {}
            }
        }
        Ok(saved)
    }

    /// Does the file carry a signature?
    pub fn is_signed(&self) -> bool {
        self.signature.is_some()
    }

    /// The plan as it was made (for rendering it again).
    pub fn plan(&self) -> Plan {
        let c = self.context.clone();
        Plan {
            partner: c.partner,
            options: self.options,
            operations: self.operations.clone(),
            unmanaged: c.unmanaged,
            near_misses: c.near_misses,
            targets: c.targets,
            access: c.access,
            manual: c.manual,
            unsupported: c.unsupported,
            closed: c.closed,
            pending_invitations: c.pending_invitations,
            live: c.live,
            partner_admins: c.partner_admins,
            limits: c.limits,
            read: c.read,
            addresses: Default::default(),
            parents: c.parents,
            private: Default::default(),
            closed_records: false,
        }
    }

    /// What the policies said when the plan was made (its warnings; a denied plan is never
    /// saved), for rendering it again; `None` when it was made without policies.
    pub fn policy_outcome(&self) -> Option<Outcome> {
        (!self.policies.is_empty()).then(|| Outcome {
            policies: self.policies.clone(),
            warnings: self.context.policy_warnings.clone(),
            ..Outcome::default()
        })
    }

    /// The policies of `apply --plan` (`now`, path and digest), against those the plan was
    /// evaluated with: the same files, each with the same content. Every difference is named.
    pub fn check_policies(&self, now: &[PolicyDigest]) -> Result<(), Vec<PolicyDrift>> {
        let now_by_path: BTreeMap<&str, &str> = now
            .iter()
            .map(|d| (d.path.as_str(), d.sha256.as_str()))
            .collect();
        let saved_by_path: BTreeMap<&str, &str> = self
            .policies
            .iter()
            .map(|d| (d.path.as_str(), d.sha256.as_str()))
            .collect();
        let mut drifts = Vec::new();
        for (path, saved) in &saved_by_path {
            match now_by_path.get(path) {
                None => drifts.push(PolicyDrift::Missing {
                    path: path.to_string(),
                }),
                Some(now) if now != saved => drifts.push(PolicyDrift::Changed {
                    path: path.to_string(),
                    saved: saved.to_string(),
                    now: now.to_string(),
                }),
                Some(_) => {}
            }
        }
        for path in now_by_path.keys() {
            if !saved_by_path.contains_key(path) {
                drifts.push(PolicyDrift::New {
                    path: path.to_string(),
                });
            }
        }
        if drifts.is_empty() {
            Ok(())
        } else {
            Err(drifts)
        }
    }

    /// The short digest for messages (`sha256:0123abcd`).
    pub fn short_digest(&self) -> &str {
        &self.digest[..self.digest.len().min(15)]
    }

    /// Refuses an apply to another endpoint than the saved one (`endpoint` as
    /// [`bound_endpoint`] writes it).
    pub fn check_endpoint(&self, endpoint: &str) -> Result<(), BindingError> {
        if self.endpoint == endpoint {
            return Ok(());
        }
        Err(BindingError::Endpoint {
            saved: self.endpoint.clone(),
            now: endpoint.to_string(),
        })
    }

    /// Refuses an apply for another partner than the saved one.
    pub fn check_partner(&self, partner: &PartnerInfo) -> Result<(), BindingError> {
        if self.partner_id == partner.id {
            return Ok(());
        }
        Err(BindingError::Partner {
            saved_name: self.context.partner.name.clone(),
            saved_id: self.partner_id.clone(),
            now_name: partner.name.clone(),
            now_id: partner.id.clone(),
        })
    }

    /// The options of `apply --plan` that lower a guard, against the saved ones: every saved
    /// option that lowers a guard must be given again with the same value, and none given
    /// otherwise. `given`'s other options are not looked at: the command line refuses them
    /// with a saved plan.
    pub fn check_options(&self, given: &Options) -> Result<(), Vec<OptionError>> {
        // Every option is either the plan's own or one of `GUARD_OPTIONS`: an option added to
        // `Options` stops this from compiling until it is sorted here.
        let Options {
            prune: _,
            prune_accounts: _,
            refuse_near_misses: _,
            force: _,
            max_delete_percent: _,
            max_update_percent: _,
        } = given;
        let errors: Vec<OptionError> = GUARD_OPTIONS
            .iter()
            .filter_map(|option| {
                let saved = (option.given)(&self.options);
                let now = (option.given)(given);
                match (saved, now) {
                    (s, n) if s == n => None,
                    (Some(_), None) if !(option.lowers)(&self.options) => None,
                    (Some(saved), None) => Some(OptionError::NotGiven { saved }),
                    (Some(saved), Some(given)) => Some(OptionError::Differs { saved, given }),
                    (None, Some(given)) => Some(OptionError::NotSaved {
                        given,
                        flag: option.flag,
                    }),
                    (None, None) => None,
                }
            })
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// The saved options that lower a guard, as `apply --plan` must be given them.
    pub fn guard_flags(&self) -> Vec<String> {
        GUARD_OPTIONS
            .iter()
            .filter(|o| (o.lowers)(&self.options))
            .filter_map(|o| (o.given)(&self.options))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::testutil::{acme, empty_live};
    use crate::plan::{Options, plan};

    fn saved(options: Options, key: Option<&PlanKey>) -> (Plan, SavedPlan) {
        let d = acme();
        let p = plan(&d, &empty_live(), options).unwrap();
        let s = SavedPlan::new(&p, &d.sources, "http://127.0.0.1:1/", false, None, key);
        (p, s)
    }

    /// `text` as JSON, changed by `edit`, written back as a plan file would be.
    fn edited(text: &str, edit: impl FnOnce(&mut Value)) -> String {
        let mut file: Value = serde_json::from_str(text).unwrap();
        edit(&mut file);
        serde_json::to_string_pretty(&file).unwrap()
    }

    #[test]
    fn round_trip() {
        let (p, saved) = saved(Options::default(), None);
        let text = saved.to_json();
        let back = SavedPlan::from_json(&text, None).unwrap();
        assert_eq!(back, saved);
        assert_eq!(back.plan(), p);
        assert_eq!(back.endpoint, "http://127.0.0.1:1");
        assert_eq!(back.context.endpoint, "http://127.0.0.1:1/");
        assert_eq!(back.partner_id, p.partner.id);
        assert!(!back.is_signed());
        // Messages name the digest by its algorithm and first 8 hex digits.
        let short = saved.short_digest();
        assert!(short.starts_with("sha256:") && short.len() == 15, "{short}");
        assert!(saved.digest.starts_with(short));
        assert_eq!(saved.content_digest(), saved.digest);
    }

    #[test]
    fn the_digest_covers_the_whole_file() {
        let (_, saved) = saved(Options::default(), None);
        let text = saved.to_json();
        type Edit = fn(&mut Value);
        let edits: [(&str, Edit); 7] = [
            ("a name in the configuration", |f| {
                let s = f["sources"][0]["text"].as_str().unwrap().to_string();
                f["sources"][0]["text"] = Value::from(s.replace("Acme", "Evil"));
            }),
            ("options.force", |f| {
                f["options"]["force"] = Value::from(true)
            }),
            ("the partner shown", |f| {
                f["context"]["partner"]["name"] = Value::from("Another Partner")
            }),
            ("the access changes shown", |f| {
                f["context"]["access"] = Value::Array(Vec::new())
            }),
            ("the endpoint", |f| {
                f["endpoint"] = Value::from("http://127.0.0.1:2")
            }),
            ("the version that wrote it", |f| {
                f["partnerctl_version"] = Value::from("9.9.9")
            }),
            ("a member added", |f| f["context"]["extra"] = Value::from(1)),
        ];
        for (what, edit) in edits {
            let bad = edited(&text, edit);
            assert_ne!(bad, text, "{what}: edited");
            assert!(
                matches!(
                    SavedPlan::from_json(&bad, None),
                    Err(SavedPlanError::Digest)
                ),
                "{what}"
            );
        }
        // Layout and member order are not content.
        let reordered = edited(&text, |f| {
            let members = f.as_object_mut().unwrap();
            let options = members.shift_remove("options").unwrap();
            members.insert("options".into(), options);
        });
        let compact =
            serde_json::to_string(&serde_json::from_str::<Value>(&reordered).unwrap()).unwrap();
        assert_eq!(
            SavedPlan::from_json(&compact, None).unwrap(),
            saved,
            "the same content"
        );
    }

    #[test]
    fn an_edit_with_the_digest_recomputed_the_old_way_is_refused() {
        let (_, saved) = saved(Options::default(), None);
        let bad = edited(&saved.to_json(), |f| {
            f["options"]["force"] = Value::from(true);
            let old = serde_json::to_vec(&(
                &f["partner_id"],
                &f["options"],
                &f["sources"],
                &f["operations"],
            ))
            .unwrap();
            f["digest"] = Value::from(sha256(&old));
        });
        assert!(matches!(
            SavedPlan::from_json(&bad, None),
            Err(SavedPlanError::Digest)
        ));
    }

    #[test]
    fn other_versions_and_malformed_files_are_refused() {
        let (_, saved) = saved(Options::default(), None);
        let text = saved.to_json();
        for version in ["1", "9"] {
            let other = text.replace(
                "\"format_version\": \"2\"",
                &format!("\"format_version\": \"{version}\""),
            );
            assert!(matches!(
                SavedPlan::from_json(&other, None),
                Err(SavedPlanError::Version(v)) if v == version
            ));
        }
        let err = SavedPlan::from_json(&text.replace("\"2\"", "\"1\""), None).unwrap_err();
        assert!(
            err.to_string().contains("re-run `partnerctl plan -o`"),
            "{err}"
        );
        assert!(SavedPlan::from_json("{", None).is_err());
    }

    #[test]
    fn signatures() {
        let key = PlanKey::new("k3y").unwrap();
        let other = PlanKey::new("another key").unwrap();
        let (_, signed) = saved(Options::default(), Some(&key));
        let text = signed.to_json();
        assert!(signed.is_signed());
        assert!(
            signed
                .signature
                .as_ref()
                .unwrap()
                .starts_with("hmac-sha256:")
        );
        assert_eq!(SavedPlan::from_json(&text, Some(&key)).unwrap(), signed);
        // Without the key, the digest is checked and the signature left to the caller.
        assert!(SavedPlan::from_json(&text, None).unwrap().is_signed());
        assert!(matches!(
            SavedPlan::from_json(&text, Some(&other)),
            Err(SavedPlanError::Signature)
        ));
        // An edit with the digest recomputed: the signature no longer matches.
        let mut forged = signed.clone();
        forged.options.force = true;
        forged.digest = forged.content_digest();
        assert!(SavedPlan::from_json(&forged.to_json(), None).is_ok());
        assert!(matches!(
            SavedPlan::from_json(&forged.to_json(), Some(&key)),
            Err(SavedPlanError::Signature)
        ));
        // The signature removed, or never made.
        let mut stripped = signed.clone();
        stripped.signature = None;
        assert!(matches!(
            SavedPlan::from_json(&stripped.to_json(), Some(&key)),
            Err(SavedPlanError::Unsigned)
        ));
        let (_, unsigned) = saved(Options::default(), None);
        assert!(matches!(
            SavedPlan::from_json(&unsigned.to_json(), Some(&key)),
            Err(SavedPlanError::Unsigned)
        ));
        // Garbage in the signature is a mismatch, not a panic.
        for junk in [
            "hmac-sha256:zz",
            "hmac-sha256:abc",
            "sha256:00",
            "",
            "hmac-sha256:é",
        ] {
            let mut bad = signed.clone();
            bad.signature = Some(junk.to_string());
            assert!(matches!(
                SavedPlan::from_json(&bad.to_json(), Some(&key)),
                Err(SavedPlanError::Signature)
            ));
        }
        assert!(PlanKey::new("").is_none());
        assert_eq!(format!("{key:?}"), "PlanKey(…)");
    }

    #[test]
    fn endpoints_are_bound_normalised() {
        let cases = [
            ("https://api.example.com", "https://api.example.com:443"),
            ("https://api.example.com/", "https://api.example.com:443"),
            (
                "HTTPS://API.Example.com:443/v1/",
                "https://api.example.com:443/v1",
            ),
            (
                "https://user:pw@api.example.com/v1?x=1#f",
                "https://api.example.com:443/v1",
            ),
            ("http://127.0.0.1:7878", "http://127.0.0.1:7878"),
            ("http://[::1]:80/", "http://[::1]:80"),
            (" 127.0.0.1:7878 ", "127.0.0.1:7878"),
        ];
        for (url, bound) in cases {
            assert_eq!(bound_endpoint(url, false), bound, "{url}");
        }
        assert_eq!(bound_endpoint("http://127.0.0.1:5555", true), "local");
        let (_, saved) = saved(Options::default(), None);
        assert!(saved.check_endpoint("http://127.0.0.1:1").is_ok());
        let err = saved.check_endpoint("local").unwrap_err().to_string();
        assert!(
            err.contains(
                "saved against http://127.0.0.1:1 and would now be applied to the embedded sandbox"
            ),
            "{err}"
        );
    }

    #[test]
    fn the_partner_is_bound() {
        let (p, saved) = saved(Options::default(), None);
        assert!(saved.check_partner(&p.partner).is_ok());
        let other = PartnerInfo {
            id: "ptn_other".into(),
            ..p.partner.clone()
        };
        let err = saved.check_partner(&other).unwrap_err().to_string();
        assert!(err.contains(&format!("(id {})", p.partner.id)), "{err}");
        assert!(err.contains("(id ptn_other)"), "{err}");
        assert!(err.contains(&format!("\"{}\"", p.partner.name)), "{err}");
    }

    #[test]
    fn options_lowering_a_guard_must_be_given_again() {
        let default = Options::default();
        let forced = Options {
            force: true,
            ..default
        };
        let raised = |n| Options {
            max_delete_percent: n,
            ..default
        };
        let (_, plain) = saved(default, None);
        assert_eq!(plain.check_options(&default), Ok(()));
        assert!(plain.guard_flags().is_empty());
        assert_eq!(
            plain.check_options(&forced),
            Err(vec![OptionError::NotSaved {
                given: "--force".into(),
                flag: "--force"
            }])
        );
        assert!(
            plain.check_options(&raised(10)).is_err(),
            "stricter, not saved"
        );

        let (_, f) = saved(forced, None);
        assert_eq!(f.guard_flags(), ["--force"]);
        let err = f.check_options(&default).unwrap_err();
        assert_eq!(
            err,
            [OptionError::NotGiven {
                saved: "--force".into()
            }]
        );
        assert!(
            err[0].to_string().contains("give `--force` again"),
            "{}",
            err[0]
        );
        assert_eq!(f.check_options(&forced), Ok(()));

        let (_, r) = saved(raised(50), None);
        assert_eq!(r.guard_flags(), ["--max-delete-percent 50"]);
        assert_eq!(
            r.check_options(&default),
            Err(vec![OptionError::NotGiven {
                saved: "--max-delete-percent 50".into()
            }])
        );
        assert_eq!(
            r.check_options(&raised(60)),
            Err(vec![OptionError::Differs {
                saved: "--max-delete-percent 50".into(),
                given: "--max-delete-percent 60".into()
            }])
        );
        assert_eq!(r.check_options(&raised(50)), Ok(()));

        // A stricter saved option lowers nothing: it need not be given again.
        let (_, strict) = saved(raised(10), None);
        assert!(strict.guard_flags().is_empty());
        assert_eq!(strict.check_options(&default), Ok(()));
        assert_eq!(strict.check_options(&raised(10)), Ok(()));

        // Both at once: each is named.
        let (_, both) = saved(
            Options {
                force: true,
                max_delete_percent: 40,
                ..default
            },
            None,
        );
        assert_eq!(both.check_options(&default).unwrap_err().len(), 2);
        assert_eq!(both.guard_flags(), ["--force", "--max-delete-percent 40"]);
    }
}
