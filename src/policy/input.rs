//! Stage `policy`, the input document policies see as `input`:
//!
//! ```json
//! { "configuration": { "partner": {...}, "customers": [...] },
//!   "plan": { ...the plan as `plan --format json` writes it... },
//!   "target": { "partner": { "id", "name", "manageable", "support_level" }, "provider": "http" } }
//! ```
//!
//! The configuration is the one loaded (files and tables merged, `defaults` applied), in the
//! shape of the configuration files with every field written: lists and maps empty rather
//! than left out, `role` always there, `null` where nothing is set. `validate` evaluates
//! without a plan and without a partner (nothing is read from the API): `plan` and
//! `target.partner` are then absent.
//!
//! Each part is converted with what the policies can reach of it ([`Reach`]): a member no
//! policy can reach is left out, which none of them can tell. Pure.

use std::collections::BTreeMap;

use regorus::Value;
use serde::{Serialize, Serializer};

use crate::config::{AdoptId, Contact, Customer, Desired, Network, Service, SubAccount, User};
use crate::live::PartnerInfo;

use super::reach::Reach;

/// The input document, converted for the engine. Its configuration is converted first, on
/// its own (the largest part, known before anything is read from the API: the edge converts it
/// while the live state is read); the plan and the target are added once known.
#[derive(Debug, Clone)]
pub struct Input(Value);

/// The fewest operations converted on a thread of their own.
const MIN_SLICE: usize = 2048;

/// Converts a document to the engine's value, with what `reach` reaches of it.
fn convert(document: &impl Serialize, reach: &Reach) -> Value {
    super::value::to_value(document, reach)
        .expect("partnerctl's documents convert: their maps have string keys")
}

impl Input {
    /// The configuration as loaded, alone: `{"configuration": ...}`, with what `reach` (of
    /// the whole input) reaches of it.
    pub fn configuration(desired: &Desired, reach: &Reach) -> Input {
        #[derive(Serialize)]
        struct Doc<'a> {
            configuration: Configuration<'a>,
        }
        Input(convert(
            &Doc {
                configuration: Configuration::new(desired),
            },
            reach,
        ))
    }

    /// With member `name`, `document` converted with what `reach` (of the whole input)
    /// reaches of it; without it when nothing is.
    fn insert(mut self, name: &str, document: &impl Serialize, reach: &Reach) -> Input {
        if let Some(reach) = reach.member(name) {
            let value = convert(document, reach);
            if let Ok(members) = self.0.as_object_mut() {
                members.insert(Value::from(name), value);
            }
        }
        self
    }

    /// With the plan (as `plan --format json` writes it), made for `partner` through
    /// `provider`; `reach` is what the policies reach of the whole input.
    pub fn with_plan(
        self,
        plan: &impl Serialize,
        partner: &PartnerInfo,
        provider: &str,
        reach: &Reach,
    ) -> Input {
        let target = Target {
            partner: Some(partner),
            provider,
        };
        self.insert("plan", plan, reach)
            .insert("target", &target, reach)
    }

    /// [`Input::with_plan`] for a plan whose operations are given apart, as `operations` (a
    /// large plan has tens of thousands): `plan`'s own `operations` member is replaced by them,
    /// converted in slices on as many threads as there are cores.
    pub fn with_plan_and_operations<O: Serialize + Sync>(
        self,
        plan: &impl Serialize,
        operations: &[O],
        partner: &PartnerInfo,
        provider: &str,
        reach: &Reach,
    ) -> Input {
        // Operations no policy reaches leave the plan as `plan` is.
        let Some((plan_reach, each)) = reach
            .member("plan")
            .and_then(|r| Some((r, r.member("operations")?.element())))
        else {
            return self.with_plan(plan, partner, provider, reach);
        };
        let threads = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        let slice = operations.len().div_ceil(threads).max(MIN_SLICE);
        let (mut plan, converted) = std::thread::scope(|s| {
            let slices: Vec<_> = operations
                .chunks(slice)
                .map(|part| s.spawn(move || super::value::to_values(part, each)))
                .collect();
            let plan = convert(plan, plan_reach);
            let mut all = Vec::with_capacity(operations.len());
            for part in slices {
                match part.join() {
                    Ok(values) => all.extend(
                        values
                            .expect("partnerctl's documents convert: their maps have string keys"),
                    ),
                    Err(panic) => std::panic::resume_unwind(panic),
                }
            }
            (plan, all)
        });
        if let Ok(members) = plan.as_object_mut() {
            members.insert(Value::from("operations"), Value::from(converted));
        }
        let target = Target {
            partner: Some(partner),
            provider,
        };
        let mut input = self.insert("target", &target, reach);
        if let Ok(members) = input.0.as_object_mut() {
            members.insert(Value::from("plan"), plan);
        }
        input
    }

    /// Without a plan (`validate`): the target names the provider only; `reach` is what
    /// the policies reach of the whole input.
    pub fn without_plan(self, provider: &str, reach: &Reach) -> Input {
        let target = Target {
            partner: None,
            provider,
        };
        self.insert("target", &target, reach)
    }

    /// Any document as the input (the tests' inputs), with what `reach` reaches of it.
    #[cfg(test)]
    pub(super) fn of(document: &impl Serialize, reach: &Reach) -> Input {
        Input(convert(document, reach))
    }

    /// The document, for an engine (a new reference to it).
    pub(super) fn value(&self) -> Value {
        self.0.clone()
    }

    /// The document as JSON (members in the order of their names).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::from_str(&self.0.to_json_str().expect("a document converts back"))
            .expect("regorus writes JSON")
    }
}

/// Where the plan is made: the partner (absent for `validate`) and the provider.
#[derive(Debug, Serialize)]
pub struct Target<'a> {
    /// The partner the token belongs to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partner: Option<&'a PartnerInfo>,
    /// The provider (`http`, `nexudus`).
    pub provider: &'a str,
}

/// The configuration as loaded.
#[derive(Debug)]
pub struct Configuration<'a>(&'a Desired);

impl<'a> Configuration<'a> {
    /// The document of `desired`.
    pub fn new(desired: &'a Desired) -> Self {
        Configuration(desired)
    }
}

impl Serialize for Configuration<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Doc<'a> {
            partner: PartnerDoc<'a>,
            #[serde(serialize_with = "customers")]
            customers: &'a [Customer],
        }
        #[derive(Serialize)]
        struct PartnerDoc<'a> {
            name: &'a str,
            users: &'a [User],
        }
        let d = self.0;
        Doc {
            partner: PartnerDoc {
                name: &d.partner.name,
                users: &d.partner.users,
            },
            customers: &d.customers,
        }
        .serialize(s)
    }
}

/// An account's fields, every one written.
#[derive(Serialize)]
struct Account<'a> {
    key: &'a str,
    adopt: Option<&'a AdoptId>,
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    contact: Option<Option<&'a Contact>>,
    country: Option<&'a str>,
    timezone: Option<&'a str>,
    protect: bool,
    labels: &'a BTreeMap<String, String>,
    users: &'a [User],
    #[serde(serialize_with = "services")]
    services: &'a [Service],
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "networks")]
    networks: Option<&'a [Network]>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "sub_accounts"
    )]
    sub_accounts: Option<&'a [SubAccount]>,
}

fn customers<S: Serializer>(all: &&[Customer], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(all.iter().map(|c| Account {
        key: &c.key,
        adopt: c.adopt.as_ref(),
        name: &c.name,
        contact: Some(c.contact.as_ref()),
        country: c.country.as_deref(),
        timezone: c.timezone.as_deref(),
        protect: c.protect,
        labels: &c.labels,
        users: &c.users,
        services: &c.services,
        networks: Some(&c.networks),
        sub_accounts: None,
    }))
}

fn networks<S: Serializer>(all: &Option<&[Network]>, s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(all.unwrap_or_default().iter().map(|n| Account {
        key: &n.key,
        adopt: n.adopt.as_ref(),
        name: &n.name,
        contact: None,
        country: n.country.as_deref(),
        timezone: n.timezone.as_deref(),
        protect: n.protect,
        labels: &n.labels,
        users: &n.users,
        services: &n.services,
        networks: None,
        sub_accounts: Some(&n.sub_accounts),
    }))
}

fn sub_accounts<S: Serializer>(all: &Option<&[SubAccount]>, s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(all.unwrap_or_default().iter().map(|a| Account {
        key: &a.key,
        adopt: a.adopt.as_ref(),
        name: &a.name,
        contact: None,
        country: a.country.as_deref(),
        timezone: a.timezone.as_deref(),
        protect: a.protect,
        labels: &a.labels,
        users: &a.users,
        services: &a.services,
        networks: None,
        sub_accounts: None,
    }))
}

fn services<S: Serializer>(all: &&[Service], s: S) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct Doc<'a> {
        #[serde(rename = "type")]
        service_type: &'a str,
        settings: &'a serde_json::Map<String, serde_json::Value>,
    }
    s.collect_seq(all.iter().map(|x| Doc {
        service_type: &x.service_type,
        settings: &x.settings,
    }))
}
