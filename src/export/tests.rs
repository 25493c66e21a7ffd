//! Export round trips through the pure planner: what export writes loads, validates and plans
//! to zero changes against the state it came from (adoptions and re-sent invitations aside).

use super::*;
use crate::config::{Needs, Source, load_sources, load_sources_for};
use crate::live::Snapshot;
use crate::plan::testutil::{applied_acme, simulate};
use crate::plan::{Action, Capabilities, Options, StoredFields, plan, plan_for};
use crate::vocab::UserStatus;

fn load(files: &[File]) -> crate::config::Desired {
    let sources: Vec<Source> = files
        .iter()
        .map(|f| Source {
            path: f.path.display().to_string(),
            text: f.text.clone(),
        })
        .collect();
    load_sources(&sources).unwrap_or_else(|p| panic!("{p}\n{}", files[0].text))
}

fn actions(live: &Snapshot, layout: Layout) -> Vec<Action> {
    let files = files(&estate(live, Carries::default()), layout);
    let p = plan(&load(&files), live, Options::default()).unwrap();
    p.operations.iter().map(|o| o.action()).collect()
}

#[test]
fn acme_exports_to_a_configuration_that_plans_to_zero() {
    let live = applied_acme();
    for layout in [Layout::Single, Layout::PerCustomer] {
        assert_eq!(actions(&live, layout), [], "{layout:?}");
    }
    let e = estate(&live, Carries::default());
    assert_eq!(e.summary.customers, 3);
    assert_eq!(e.summary.pending, 10);
    assert_eq!(e.summary.derived_keys, 0);
    // What all customers share went to defaults; networks leave out what they inherit.
    let d = e.defaults.as_ref().unwrap();
    assert_eq!(
        d.labels.get("managed-by").map(String::as_str),
        Some("partnerctl")
    );
    let contoso = e.customers.iter().find(|c| c.key == "contoso").unwrap();
    assert!(contoso.protect);
    assert!(!contoso.labels.contains_key(crate::vocab::PROTECT_LABEL));
    let network = &contoso.networks[0];
    assert_eq!(
        (network.country.as_ref(), network.timezone.as_ref()),
        (None, None)
    );
}

#[test]
fn unkeyed_accounts_get_keys_and_the_first_apply_only_adopts_and_resends() {
    let mut live = applied_acme();
    for a in &mut live.accounts {
        a.external_key = None;
    }
    // Twins under one parent: pinned by id.
    let mut twin = live.accounts[0].clone();
    twin.id = "acc_twin".into();
    live.accounts.push(twin);
    for u in &mut live.users {
        if u.email.starts_with("paris@") {
            u.status = UserStatus::Expired;
        }
    }
    let e = estate(&live, Carries::default());
    assert_eq!(e.summary.derived_keys, live.accounts.len());
    assert_eq!(e.summary.pinned, 2);
    assert_eq!(e.summary.expired, 1);
    let mut got = actions(&live, Layout::PerCustomer);
    got.sort();
    let mut want = vec![Action::Adopt; live.accounts.len()];
    want.push(Action::Resend);
    assert_eq!(got, want);
    // After that apply, a fresh export plans to zero and keeps the same keys.
    let files1 = files(&e, Layout::PerCustomer);
    let p = plan(&load(&files1), &live, Options::default()).unwrap();
    let after = simulate(&live, &p);
    assert_eq!(actions(&after, Layout::PerCustomer), []);
    let keys = |e: &Estate| {
        e.customers
            .iter()
            .map(|c| c.key.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(keys(&estate(&after, Carries::default())), keys(&e));
}

/// A live customer without a contact (a vendor that carries none) exports without `contact`,
/// never with an empty one: the files load for a provider that stores no contacts and plan to
/// zero there; for the partner API, which needs contacts, each such customer is a located
/// problem.
#[test]
fn customers_without_a_contact_export_without_one() {
    let mut live = applied_acme();
    for a in &mut live.accounts {
        a.contact = None;
    }
    let fs = files(&estate(&live, Carries::default()), Layout::Single);
    assert!(!fs[0].text.contains("contact"), "{}", fs[0].text);
    let sources = [Source {
        path: "e.yaml".into(),
        text: fs[0].text.clone(),
    }];
    let d = load_sources_for(
        &sources,
        None,
        Needs {
            contact: false,
            ..Default::default()
        },
    )
    .unwrap();
    let caps = Capabilities {
        fields: StoredFields {
            contact: false,
            ..StoredFields::all()
        },
        ..Capabilities::full()
    };
    let p = plan_for(&d, &live, Options::default(), &caps).unwrap();
    assert_eq!(p.operations, []);
    let problems = load_sources(&sources).unwrap_err();
    assert_eq!(problems.len(), 3, "{problems}");
    assert!(
        problems
            .iter()
            .all(|p| p.to_string().contains("has no `contact`")),
        "{problems}"
    );
}

#[test]
fn output_is_deterministic_whatever_the_live_order() {
    let live = applied_acme();
    let mut shuffled = live.clone();
    shuffled.accounts.reverse();
    shuffled.users.reverse();
    shuffled.services.reverse();
    for layout in [Layout::Single, Layout::PerCustomer] {
        assert_eq!(
            files(&estate(&live, Carries::default()), layout),
            files(&estate(&shuffled, Carries::default()), layout)
        );
    }
}

#[test]
fn per_customer_files_start_with_the_schema_line() {
    let fs = files(
        &estate(&applied_acme(), Carries::default()),
        Layout::PerCustomer,
    );
    let names: Vec<String> = fs.iter().map(|f| f.path.display().to_string()).collect();
    assert_eq!(
        names,
        [
            "partner.yaml",
            "customers/contoso.yaml",
            "customers/fabrikam.yaml",
            "customers/northwind.yaml"
        ]
    );
    assert!(
        fs[0]
            .text
            .starts_with("# yaml-language-server: $schema=partnerctl.schema.json\n")
    );
    assert!(
        fs[1]
            .text
            .starts_with("# yaml-language-server: $schema=../partnerctl.schema.json\n")
    );
}

/// A vendor like Nexudus: accounts carry no key, no contact, no labels and no services, ids
/// are numbers, and only names are stored.
fn keyless() -> (Snapshot, Capabilities) {
    let mut live = applied_acme();
    live.services.clear();
    let number: std::collections::HashMap<String, String> = live
        .accounts
        .iter()
        .enumerate()
        .map(|(i, a)| (a.id.clone(), (i + 6).to_string()))
        .collect();
    let renumber = |id: &mut String| {
        if let Some(n) = number.get(id.as_str()) {
            id.clone_from(n);
        }
    };
    for a in &mut live.accounts {
        renumber(&mut a.id);
        renumber(&mut a.parent_id);
        a.external_key = None;
        a.contact = None;
        a.labels.clear();
    }
    for u in &mut live.users {
        renumber(&mut u.account_id);
    }
    (live, Capabilities::users_only())
}

fn load_for_keyless(files: &[File]) -> crate::config::Desired {
    let sources: Vec<Source> = files
        .iter()
        .map(|f| Source {
            path: f.path.display().to_string(),
            text: f.text.clone(),
        })
        .collect();
    load_sources_for(
        &sources,
        None,
        Needs {
            contact: false,
            ..Default::default()
        },
    )
    .unwrap_or_else(|p| panic!("{p}\n{}", files[0].text))
}

/// From a provider without keys, every account is pinned to its live id (written as the
/// number it is): the export plans to zero, and a customer renamed at the vendor afterwards is
/// found by its id and renamed back, not created again. Without the pins it would be a new
/// customer.
#[test]
fn without_keys_every_account_is_pinned_and_a_rename_at_the_vendor_is_an_update() {
    let (mut live, caps) = keyless();
    let e = estate(&live, Carries { keys: false });
    assert_eq!(e.summary.derived_keys, live.accounts.len());
    assert_eq!(e.summary.pinned, live.accounts.len());
    let fs = files(&e, Layout::Single);
    let text = &fs[0].text;
    assert!(!text.contains("contact"), "{text}");
    for a in &live.accounts {
        assert!(text.contains(&format!("adopt: {}\n", a.id)), "{text}");
    }
    let desired = load_for_keyless(&fs);
    let p = plan_for(&desired, &live, Options::default(), &caps).unwrap();
    assert_eq!(p.operations, []);
    assert!(p.unmanaged.is_empty());

    let fabrikam = live
        .accounts
        .iter_mut()
        .find(|a| a.name == "Fabrikam Inc")
        .unwrap();
    fabrikam.name = "Fabrikam Renamed".into();
    let p = plan_for(&desired, &live, Options::default(), &caps).unwrap();
    let ops: Vec<(Action, &str)> = p
        .operations
        .iter()
        .map(|o| (o.action(), o.address.as_str()))
        .collect();
    assert_eq!(ops, [(Action::Update, "customer.fabrikam-inc")]);
    let crate::plan::Change::Update { before, after, .. } = &p.operations[0].change else {
        panic!("{:?}", p.operations[0]);
    };
    assert_eq!(
        (before.name.as_str(), after.name.as_str()),
        ("Fabrikam Renamed", "Fabrikam Inc")
    );

    // Without the pins, the renamed customer would be a new one.
    let (original, _) = keyless();
    let unpinned = load_for_keyless(&files(
        &estate(&original, Carries::default()),
        Layout::Single,
    ));
    let p = plan_for(&unpinned, &live, Options::default(), &caps).unwrap();
    assert!(
        p.operations
            .iter()
            .any(|o| (o.action(), o.address.as_str()) == (Action::Create, "customer.fabrikam-inc")),
        "{:#?}",
        p.operations
    );
}

/// A live key is a file name only when it is a valid configuration key: an account whose live
/// key is a path (`../../x`, `/abs/path`), empty or of other characters is exported like one
/// without a key (a key from its name) and pinned to its live id, listed for the edge to say
/// so; every file is then `customers/<valid key>.yaml`, and the first apply only adopts those
/// accounts (setting a valid key), after which the export plans to zero.
#[test]
fn a_live_key_that_is_not_a_valid_key_names_no_file() {
    let mut live = applied_acme();
    let hostile = ["../../x", "/abs/path", "", "Contoso_HQ", "a/b"];
    for (a, bad) in live.accounts.iter_mut().zip(hostile) {
        a.external_key = Some(bad.to_string());
    }
    let e = estate(&live, Carries::default());
    let got: Vec<(&str, &str)> = e
        .invalid_keys
        .iter()
        .map(|k| (k.id.as_str(), k.live_key.as_str()))
        .collect();
    let mut want: Vec<(&str, &str)> = live
        .accounts
        .iter()
        .take(hostile.len())
        .map(|a| (a.id.as_str(), a.external_key.as_deref().unwrap()))
        .collect();
    want.sort();
    assert_eq!(got, want);
    // Not counted as keyless: the summary's keyless accounts are those without any key.
    assert_eq!((e.summary.derived_keys, e.summary.pinned), (0, 0));
    let fs = files(&e, Layout::PerCustomer);
    for f in &fs[1..] {
        let name = f.path.strip_prefix("customers").unwrap();
        let key = name.to_str().unwrap().strip_suffix(".yaml").unwrap();
        assert!(crate::vocab::rules::valid_key(key), "{}", f.path.display());
    }
    let all: String = fs.iter().map(|f| f.text.as_str()).collect();
    for k in &e.invalid_keys {
        assert!(all.contains(&format!("adopt: {}\n", k.id)), "{all}");
        assert!(all.contains(&format!("key: {}\n", k.key)), "{all}");
    }
    let p = plan(&load(&fs), &live, Options::default()).unwrap();
    let mut adopted: Vec<(Action, Option<&str>)> = p
        .operations
        .iter()
        .map(|o| (o.action(), o.account.id()))
        .collect();
    adopted.sort();
    let mut ids: Vec<&str> = e.invalid_keys.iter().map(|k| k.id.as_str()).collect();
    ids.sort();
    assert_eq!(
        adopted,
        ids.iter()
            .map(|id| (Action::Adopt, Some(*id)))
            .collect::<Vec<_>>()
    );
    let after = simulate(&live, &p);
    assert_eq!(actions(&after, Layout::PerCustomer), []);
    assert_eq!(estate(&after, Carries::default()).invalid_keys, []);
}

/// An estate of customers, one per `(country, timezone)` given, keyed `c0`, `c1`…, built from
/// the acme estate's first customer (without labels, networks and sub-accounts).
fn placed(places: &[(&str, &str)]) -> Snapshot {
    let mut live = applied_acme();
    let first = live
        .accounts
        .iter()
        .find(|a| a.kind == crate::vocab::AccountKind::Customer)
        .unwrap()
        .clone();
    live.accounts.clear();
    live.users.clear();
    live.services.clear();
    for (i, (country, timezone)) in places.iter().enumerate() {
        let mut a = first.clone();
        a.id = format!("acc_{i}");
        a.external_key = Some(format!("c{i}"));
        a.name = format!("Customer {i}");
        a.country = Some(country.to_string());
        a.timezone = Some(timezone.to_string());
        a.labels.clear();
        live.accounts.push(a);
    }
    live
}

const FIVE_PLACES: [(&str, &str); 5] = [
    ("GB", "Europe/London"),
    ("FR", "Europe/Paris"),
    ("CH", "Europe/Zurich"),
    ("CN", "Asia/Shanghai"),
    ("IE", "Europe/Dublin"),
];

fn place_of(d: Option<&crate::config::Defaults>) -> (Option<&str>, Option<&str>) {
    d.map_or((None, None), |d| {
        (d.country.as_deref(), d.timezone.as_deref())
    })
}

/// The default country and timezone are one pair customers have, the most common one (ties:
/// the smallest), never the most common country beside an unrelated most common timezone: a
/// customer added without either then gets a place that exists. The export still plans to
/// zero.
#[test]
fn the_default_place_is_the_most_common_pair() {
    let two_each: Vec<(&str, &str)> = FIVE_PLACES.iter().flat_map(|p| [*p, *p]).collect();
    let live = placed(&two_each);
    let e = estate(&live, Carries::default());
    assert_eq!(
        place_of(e.defaults.as_ref()),
        (Some("CH"), Some("Europe/Zurich"))
    );
    assert_eq!(actions(&live, Layout::PerCustomer), []);
    // Most countries are GB and most timezones UTC, but GB on UTC is one customer's only.
    let live = placed(&[
        ("GB", "Europe/London"),
        ("GB", "Europe/London"),
        ("GB", "UTC"),
        ("IS", "UTC"),
        ("IS", "UTC"),
        ("FR", "UTC"),
    ]);
    let e = estate(&live, Carries::default());
    assert_eq!(
        place_of(e.defaults.as_ref()),
        (Some("GB"), Some("Europe/London"))
    );
    assert_eq!(actions(&live, Layout::Single), []);
}

/// A re-export given the defaults of the export it replaces keeps them while they still fit,
/// so one new customer changes its own file only. A pair no customer has any more (or a
/// country and a timezone an older export chose apart), a label value or service settings no
/// customer has, are chosen afresh.
#[test]
fn a_re_export_keeps_the_defaults_that_still_fit() {
    let two_each: Vec<(&str, &str)> = FIVE_PLACES.iter().flat_map(|p| [*p, *p]).collect();
    let mut live = placed(&two_each);
    let cards = |on: bool| crate::live::Service {
        account_id: String::new(),
        service_type: "cards".into(),
        settings: settings(serde_json::json!({ "layout_approval": on })),
        etag: "1".into(),
    };
    for a in &mut live.accounts {
        a.labels.insert("tier".into(), "gold".into());
        live.services.push(crate::live::Service {
            account_id: a.id.clone(),
            ..cards(true)
        });
    }
    let first = estate(&live, Carries::default());
    let before = files(&first, Layout::PerCustomer);
    // One new customer in GB (now the most common country), with another tier and settings.
    let mut new = live.accounts[0].clone();
    new.id = "acc_new".into();
    new.external_key = Some("new".into());
    new.name = "New".into();
    new.labels.insert("tier".into(), "silver".into());
    live.accounts.push(new);
    live.services.push(crate::live::Service {
        account_id: "acc_new".into(),
        ..cards(false)
    });
    // Without the earlier defaults, the default place moves to GB and most files change.
    let fresh = estate(&live, Carries::default());
    assert_eq!(
        place_of(fresh.defaults.as_ref()),
        (Some("GB"), Some("Europe/London"))
    );
    let kept = estate_keeping(&live, Carries::default(), first.defaults.as_ref());
    assert_eq!(kept.defaults, first.defaults);
    let after = files(&kept, Layout::PerCustomer);
    let changed: Vec<String> = after
        .iter()
        .filter(|f| !before.contains(f))
        .map(|f| f.path.display().to_string())
        .collect();
    assert_eq!(changed, ["customers/new.yaml"]);
    assert_eq!(
        plan(&load(&after), &live, Options::default())
            .unwrap()
            .operations,
        []
    );
    // The new customer's tier and settings, once defaults, are kept too.
    let theirs = crate::config::Defaults {
        country: Some("GB".into()),
        timezone: Some("Europe/London".into()),
        labels: [("tier".to_string(), "silver".to_string())].into(),
        services: vec![crate::config::Service {
            service_type: "cards".into(),
            settings: settings(serde_json::json!({ "layout_approval": false })),
            at: Default::default(),
        }],
    };
    let e = estate_keeping(&live, Carries::default(), Some(&theirs));
    assert_eq!(e.defaults.as_ref(), Some(&theirs));
    assert_eq!(actions_keeping(&live, &theirs), []);
    // What no customer has is not kept.
    for (country, timezone) in [("NZ", "Pacific/Auckland"), ("CH", "Asia/Shanghai")] {
        let stale = crate::config::Defaults {
            country: Some(country.into()),
            timezone: Some(timezone.into()),
            labels: [("tier".to_string(), "bronze".to_string())].into(),
            services: vec![crate::config::Service {
                service_type: "cards".into(),
                settings: settings(serde_json::json!({ "card_format": "cr80" })),
                at: Default::default(),
            }],
        };
        let e = estate_keeping(&live, Carries::default(), Some(&stale));
        assert_eq!(e.defaults, fresh.defaults, "{country} {timezone}");
    }
}

fn settings(v: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
    v.as_object().unwrap().clone()
}

fn actions_keeping(live: &Snapshot, previous: &crate::config::Defaults) -> Vec<Action> {
    let e = estate_keeping(live, Carries::default(), Some(previous));
    let p = plan(&load(&files(&e, Layout::Single)), live, Options::default()).unwrap();
    p.operations.iter().map(|o| o.action()).collect()
}
