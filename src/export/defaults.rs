//! Stage `export`, defaults: what customers share moves to `defaults` when that shortens the
//! output without changing what is planned. The default country and timezone are the most
//! common (country, timezone) pair among the customers, so that they always belong together (a
//! customer added later without either gets a place some customer really has); customers with
//! another keep theirs. A default label or service must be one every customer has (a default
//! applies to all of them), with the most common value; customers then leave out what equals
//! the default.
//!
//! Defaults an earlier export chose (read by the edge from the file it replaces) are kept while
//! they still fit: the pair while a customer still has exactly it, a label or service while every
//! customer still has that key or type and one still has that value. So one customer added at
//! the vendor changes its own file, not the defaults and with them every other file. Pure.

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

fn default_labels(customers: &[Customer], previous: Option<&Defaults>) -> BTreeMap<String, String> {
    let Some(first) = customers.first() else {
        return BTreeMap::new();
    };
    let mut out = BTreeMap::new();
    for k in first.labels.keys() {
        if customers.iter().all(|c| c.labels.contains_key(k)) {
            let kept = previous
                .and_then(|p| p.labels.get(k))
                .filter(|v| customers.iter().any(|c| c.labels[k] == **v));
            if let Some(v) = kept.or_else(|| mode(customers.iter().map(|c| &c.labels[k]))) {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    out
}

fn default_services(customers: &[Customer], previous: Option<&Defaults>) -> Vec<Service> {
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
        let kept = previous
            .and_then(|p| p.services.iter().find(|d| d.service_type == s.service_type))
            .map(settings_text)
            .filter(|t| texts.contains(t));
        if let Some(best) = kept.as_ref().or_else(|| mode(texts.iter())) {
            let pick = all[texts
                .iter()
                .position(|t| t == best)
                .expect("mode is one of them")];
            out.push(pick.clone());
        }
    }
    out
}

/// The default country and timezone: `previous`'s pair while a customer still has exactly it,
/// else the pair most customers have (at least two; ties: the smallest).
fn default_place(
    customers: &[Customer],
    previous: Option<&Defaults>,
) -> (Option<String>, Option<String>) {
    let pairs = || {
        customers
            .iter()
            .filter_map(|c| Some((c.country.as_ref()?, c.timezone.as_ref()?)))
    };
    if let Some((country, timezone)) =
        previous.and_then(|p| Some((p.country.as_ref()?, p.timezone.as_ref()?)))
    {
        if pairs().any(|pair| pair == (country, timezone)) {
            return (Some(country.clone()), Some(timezone.clone()));
        }
    }
    let pairs: Vec<(&String, &String)> = pairs().collect();
    match mode(pairs.iter()) {
        Some((country, timezone)) => (Some((*country).clone()), Some((*timezone).clone())),
        None => (None, None),
    }
}

/// Moves what customers share into `defaults`, keeping what `previous` (the defaults of the
/// export being replaced) chose while it still fits; `None` when nothing is shared.
pub fn extract(customers: &mut [Customer], previous: Option<&Defaults>) -> Option<Defaults> {
    let (country, timezone) = default_place(customers, previous);
    let labels = default_labels(customers, previous);
    let services = default_services(customers, previous);
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
