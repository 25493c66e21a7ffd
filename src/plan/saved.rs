//! Stage `plan`, saved plans (`plan -o FILE`, `apply --plan FILE`): the desired state (config
//! texts), the options, the operations and a digest over all of them. Pure: (de)serialization
//! and digests; the edge reads and writes the file.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{ClassCounts, NearMiss, Operation, Options, Plan, Unmanaged};
use crate::config::Source;
use crate::live::{Limits, PartnerInfo};

/// Version of the saved-plan format.
pub const SAVED_FORMAT_VERSION: &str = "1";

/// A plan written by `plan -o`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedPlan {
    /// Always [`SAVED_FORMAT_VERSION`].
    pub format_version: String,
    /// The partnerctl version that wrote it.
    pub partnerctl_version: String,
    /// The endpoint it was planned against.
    pub endpoint: String,
    /// The partner it was planned for.
    pub partner_id: String,
    /// The planning options.
    pub options: Options,
    /// The configuration files, as read.
    pub sources: Vec<Source>,
    /// The operations.
    pub operations: Vec<Operation>,
    /// The rest of the plan, so that `partnerctl show` renders it exactly as `plan` did
    /// (absent in files of older versions; not part of the digest: apply does not use it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Context>,
    /// `sha256:` digest of everything above except the version strings and endpoint.
    pub digest: String,
}

/// What a plan holds besides its operations, for rendering it again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Context {
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
}

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
}

fn digest_of(partner_id: &str, options: &Options, sources: &[Source], ops: &[Operation]) -> String {
    let body =
        serde_json::to_vec(&(partner_id, options, sources, ops)).expect("plan parts serialize");
    format!("sha256:{:x}", Sha256::digest(&body))
}

impl SavedPlan {
    /// Captures a plan and the configuration it came from.
    pub fn new(plan: &Plan, sources: &[Source], endpoint: &str, embedded: bool) -> Self {
        SavedPlan {
            format_version: SAVED_FORMAT_VERSION.to_string(),
            partnerctl_version: env!("CARGO_PKG_VERSION").to_string(),
            endpoint: endpoint.to_string(),
            partner_id: plan.partner.id.clone(),
            options: plan.options,
            sources: sources.to_vec(),
            operations: plan.operations.clone(),
            context: Some(Context {
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
            }),
            digest: digest_of(&plan.partner.id, &plan.options, sources, &plan.operations),
        }
    }

    /// The digest [`SavedPlan::new`] would record, without copying the plan.
    pub fn digest_of(plan: &Plan, sources: &[Source]) -> String {
        digest_of(&plan.partner.id, &plan.options, sources, &plan.operations)
    }

    /// The file text (pretty JSON, trailing newline).
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("saved plans serialize");
        s.push('\n');
        s
    }

    /// Parses and verifies a plan file.
    pub fn from_json(text: &str) -> Result<Self, SavedPlanError> {
        let version: serde_json::Value =
            serde_json::from_str(text).map_err(|e| SavedPlanError::Malformed(e.to_string()))?;
        match version.get("format_version").and_then(|v| v.as_str()) {
            Some(SAVED_FORMAT_VERSION) => {}
            Some(other) => return Err(SavedPlanError::Version(other.to_string())),
            None => return Err(SavedPlanError::Malformed("no format_version".into())),
        }
        let saved: SavedPlan = serde_json::from_value(version)
            .map_err(|e| SavedPlanError::Malformed(e.to_string()))?;
        let expected = digest_of(
            &saved.partner_id,
            &saved.options,
            &saved.sources,
            &saved.operations,
        );
        if expected != saved.digest {
            return Err(SavedPlanError::Digest);
        }
        Ok(saved)
    }

    /// The plan as it was made (for rendering it again), if the file carries its context.
    pub fn plan(&self) -> Option<Plan> {
        let c = self.context.clone()?;
        Some(Plan {
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
        })
    }

    /// The short digest for messages (`sha256:0123abcd`).
    pub fn short_digest(&self) -> &str {
        &self.digest[..self.digest.len().min(15)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::testutil::{acme, empty_live};
    use crate::plan::{Options, plan};

    #[test]
    fn round_trip_and_tamper_detection() {
        let d = acme();
        let p = plan(&d, &empty_live(), Options::default()).unwrap();
        let saved = SavedPlan::new(&p, &d.sources, "http://127.0.0.1:1", false);
        let text = saved.to_json();
        let back = SavedPlan::from_json(&text).unwrap();
        assert_eq!(back, saved);
        assert_eq!(back.plan().as_ref(), Some(&p));
        assert_eq!(back.operations, p.operations);
        assert_eq!(SavedPlan::digest_of(&p, &d.sources), saved.digest);
        // Messages name the digest by its algorithm and first 8 hex digits.
        let short = saved.short_digest();
        assert!(short.starts_with("sha256:") && short.len() == 15, "{short}");
        assert!(saved.digest.starts_with(short));
        let tampered = text.replace("Contoso Ltd", "Contoso Evil");
        assert!(matches!(
            SavedPlan::from_json(&tampered),
            Err(SavedPlanError::Digest)
        ));
        let other = text.replace("\"format_version\": \"1\"", "\"format_version\": \"9\"");
        assert!(matches!(
            SavedPlan::from_json(&other),
            Err(SavedPlanError::Version(v)) if v == "9"
        ));
        assert!(SavedPlan::from_json("{").is_err());
    }
}
