//! Stage `export`, defaults: what customers share moves to `defaults` when that shortens the
//! output without changing what is planned. A default country or timezone is the most common
//! one (customers with another keep theirs); a default label or service must be one every
//! customer has (a default applies to all of them), with the most common value; customers
//! then leave out what equals the default. Pure.

use std::collections::BTreeMap;

use crate::config::{Customer, Defaults, Service};

/// The most common of `values` if it occurs at least twice (ties: the smallest).
fn mode<'a, T: Ord + 'a>(values: impl Iterator<Item = &'a T>) -> Option<&'a T> {
    let mut counts: BTreeMap<&T, usize> = BTreeMap::new();
    for v in values {
        *counts.entry(v).or_default() += 1;
    }
    let best = counts.values().copied().max()?;
    if best < 2 {
        return None;
    }
    counts.into_iter().find(|(_, n)| *n == best).map(|(v, _)| v)
}

/// Settings as text, to compare and count them.
fn settings_text(s: &Service) -> String {
    serde_json::to_string(&s.settings).unwrap_or_default()
}

fn default_labels(customers: &[Customer]) -> BTreeMap<String, String> {
    let Some(first) = customers.first() else {
        return BTreeMap::new();
    };
    let mut out = BTreeMap::new();
    for k in first.labels.keys() {
        if customers.iter().all(|c| c.labels.contains_key(k)) {
            if let Some(v) = mode(customers.iter().map(|c| &c.labels[k])) {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    out
}

fn default_services(customers: &[Customer]) -> Vec<Service> {
    let Some(first) = customers.first() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for s in &first.services {
        let all: Option<Vec<&Service>> = customers
            .iter()
            .map(|c| c.services.iter().find(|x| x.service_type == s.service_type))
            .collect();
        let Some(all) = all else { continue };
        let texts: Vec<String> = all.iter().map(|x| settings_text(x)).collect();
        if let Some(best) = mode(texts.iter()) {
            let pick = all[texts
                .iter()
                .position(|t| t == best)
                .expect("mode is one of them")];
            out.push(pick.clone());
        }
    }
    out
}

/// Moves what customers share into `defaults`; `None` when nothing is shared.
pub fn extract(customers: &mut [Customer]) -> Option<Defaults> {
    let country = mode(customers.iter().filter_map(|c| c.country.as_ref())).cloned();
    let timezone = mode(customers.iter().filter_map(|c| c.timezone.as_ref())).cloned();
    let labels = default_labels(customers);
    let services = default_services(customers);
    for c in customers.iter_mut() {
        if c.country.is_some() && c.country == country {
            c.country = None;
        }
        if c.timezone.is_some() && c.timezone == timezone {
            c.timezone = None;
        }
        c.labels.retain(|k, v| labels.get(k) != Some(v));
        c.services.retain(|s| !services.iter().any(|d| d == s));
    }
    let d = Defaults {
        country,
        timezone,
        labels,
        services,
    };
    (d != Defaults::default()).then_some(d)
}
