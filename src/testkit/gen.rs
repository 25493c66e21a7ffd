//! Generator of large, valid configurations for benchmarks and scale tests (scale "L").
//! Pure: returns file names and texts; callers write them.

use std::fmt::Write as _;

/// How big a generated configuration is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scale {
    /// Customer accounts.
    pub customers: usize,
    /// Networks (each under a different customer, from the first on).
    pub networks: usize,
    /// Sub-accounts per network.
    pub subs_per_network: usize,
    /// Users per customer.
    pub users_per_customer: usize,
    /// Services per customer (cycling through the catalog types), besides the default one.
    pub services_per_customer: usize,
    /// Customers per file.
    pub customers_per_file: usize,
}

impl Scale {
    /// Reference scale "L": 10,000 customers, 1,000 networks × 3 sub-accounts,
    /// 30,000 users, 20,000 services.
    pub const L: Scale = Scale {
        customers: 10_000,
        networks: 1_000,
        subs_per_network: 3,
        users_per_customer: 3,
        services_per_customer: 1,
        customers_per_file: 1_000,
    };
}

const SERVICE_TYPES: [&str; 3] = ["mobile-id", "visitor-management", "access-control"];

/// Generates `partner.yaml` plus `customers-NNNN.yaml` files.
pub fn generate(scale: &Scale) -> Vec<(String, String)> {
    let mut files = vec![(
        "partner.yaml".to_string(),
        "version: 1\npartner:\n  name: Scale Partners\n  users:\n    - { email: ops@scale.example, name: Scale Ops, role: admin }\ndefaults:\n  country: GB\n  timezone: Europe/London\n  services:\n    - { type: cards, settings: { layout_approval: true } }\n".to_string(),
    )];
    let per_file = scale.customers_per_file.max(1);
    let mut text = String::new();
    for c in 0..scale.customers {
        if c % per_file == 0 {
            if !text.is_empty() {
                files.push((format!("customers-{:04}.yaml", c / per_file - 1), text));
            }
            text = String::from("customers:\n");
        }
        let _ = write!(
            text,
            "  - key: c{c:05}\n    name: Customer {c}\n    contact: {{ name: Contact {c}, email: contact{c}@c{c:05}.example }}\n"
        );
        if scale.users_per_customer > 0 {
            text.push_str("    users:\n");
            for u in 0..scale.users_per_customer {
                let role = if u == 0 { "admin" } else { "member" };
                let _ = writeln!(
                    text,
                    "      - {{ email: user{u}@c{c:05}.example, name: User {u} of {c}, role: {role} }}"
                );
            }
        }
        if scale.services_per_customer > 0 {
            text.push_str("    services:\n");
            for s in 0..scale.services_per_customer {
                let t = SERVICE_TYPES[(c + s) % SERVICE_TYPES.len()];
                let _ = writeln!(text, "      - {{ type: {t} }}");
            }
        }
        if c < scale.networks {
            let _ = write!(
                text,
                "    networks:\n      - key: n{c:05}\n        name: Network {c}\n        sub_accounts:\n"
            );
            for s in 0..scale.subs_per_network {
                let _ = writeln!(
                    text,
                    "          - {{ key: s{c:05}-{s}, name: Site {s} of {c} }}"
                );
            }
        }
    }
    if !text.is_empty() {
        let last = (scale.customers - 1) / per_file;
        files.push((format!("customers-{last:04}.yaml"), text));
    }
    files
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Source, load_sources};

    #[test]
    fn generated_config_is_valid_with_expected_counts() {
        let scale = Scale {
            customers: 25,
            networks: 4,
            subs_per_network: 3,
            users_per_customer: 3,
            services_per_customer: 1,
            customers_per_file: 10,
        };
        let files = generate(&scale);
        assert_eq!(files.len(), 4);
        let sources: Vec<Source> = files
            .into_iter()
            .map(|(path, text)| Source { path, text })
            .collect();
        let d = load_sources(&sources).expect("generated config is valid");
        let c = d.counts();
        assert_eq!(c.customers, 25);
        assert_eq!(c.networks, 4);
        assert_eq!(c.sub_accounts, 12);
        assert_eq!(c.users, 1 + 75);
        assert_eq!(c.services, 25 * 2);
    }
}
