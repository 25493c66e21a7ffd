//! The typed documents: their schemas, the sample documents committed under
//! `examples/outputs/`, and the tables of their fields.

use super::*;
use crate::access::Model;
use crate::apply::{Failure, OpState, Report};
use crate::plan::testutil::{acme, applied_acme, live_account};
use crate::plan::{Action, Capabilities, Change, Options, Plan, plan, with_capabilities};
use crate::provider::{Remedy, Target};
use crate::render::{ACCESS_FORMAT_VERSION, JSON_FORMAT_VERSION, REPORT_FORMAT_VERSION};
use crate::render::{AccessFormat, Verdict, access_report, apply_report_json, json};
use crate::vocab::{AccountKind, Role, UserStatus};

fn target() -> Target {
    Target {
        endpoint: "http://127.0.0.1:7878".into(),
        embedded: true,
    }
}

#[test]
fn each_schema_names_its_format_version() {
    for (document, version) in [
        (Document::Plan, JSON_FORMAT_VERSION),
        (Document::ApplyReport, REPORT_FORMAT_VERSION),
        (Document::AccessReport, ACCESS_FORMAT_VERSION),
    ] {
        let schema = document.schema();
        assert_eq!(
            schema["properties"]["format_version"]["const"],
            version,
            "{}",
            document.name()
        );
        assert_eq!(
            schema["$schema"],
            "https://json-schema.org/draft/2020-12/schema",
            "{}",
            document.name()
        );
    }
}

/// The live state: Acme applied, less the network and sub-accounts of Contoso (a person
/// creates them: manual steps), with an admin the configuration does not list, and Ravi's
/// invitation expired. The configuration: Fabrikam renamed, a setting changed, Northwind
/// gone (deleted, with `--prune-accounts`), a new partner user, two new customers.
fn sample_plan() -> Plan {
    let mut live = applied_acme();
    let below: Vec<String> = live
        .accounts
        .iter()
        .filter(|a| a.kind != AccountKind::Customer)
        .map(|a| a.id.clone())
        .collect();
    live.accounts.retain(|a| !below.contains(&a.id));
    live.users.retain(|u| !below.contains(&u.account_id));
    live.services.retain(|s| !below.contains(&s.account_id));
    let contoso = live_account(&mut live, "contoso").id.clone();
    live.users.push(crate::live::User {
        id: "usr_x".into(),
        account_id: contoso,
        email: "someone@elsewhere.example".into(),
        name: "Someone Else".into(),
        role: Role::Admin,
        status: UserStatus::Active,
        etag: "e1".into(),
    });
    for u in live
        .users
        .iter_mut()
        .filter(|u| u.email.starts_with("ravi@"))
    {
        u.status = UserStatus::Expired;
    }
    let mut d = acme();
    d.customers[1].name = "Fabrikam Incorporated".into();
    d.customers[0].services[0]
        .settings
        .insert("layout_approval".into(), serde_json::json!(true));
    d.partner.users.push(crate::config::User {
        email: "new-ops@acme.example".into(),
        name: "New Ops".into(),
        role: Role::Member,
    });
    let northwind = d.customers.remove(2);
    for (key, name) in [("tailspin", "Tailspin Toys"), ("wingtip", "Wingtip Toys")] {
        let mut c = northwind.clone();
        c.key = key.into();
        c.name = name.into();
        for u in &mut c.users {
            u.email = u.email.replace("northwind", key);
        }
        if let Some(contact) = &mut c.contact {
            contact.email = contact.email.replace("northwind", key);
        }
        d.customers.push(c);
    }
    let options = Options {
        prune_accounts: true,
        ..Options::default()
    };
    let caps = Capabilities {
        create: vec![AccountKind::Customer],
        ..Capabilities::full()
    };
    with_capabilities(plan(&d, &live, options).unwrap(), &caps, &live, |op, _| {
        (
            format!("Add {}", op.address),
            vec![format!("Open the dashboard and add {}", op.address)],
        )
    })
}

/// What an apply of [`sample_plan`] reports: the manual steps left to a person and what waits
/// for them, Wingtip's creation refused (what it holds skipped), Tailspin created, the
/// partner's new user not started (the apply halted).
fn sample_report(p: &Plan) -> Report {
    let index = |address: &str| {
        p.operations
            .iter()
            .position(|o| o.address == address)
            .unwrap_or_else(|| panic!("no operation on {address}"))
    };
    let mut states = vec![OpState::Done; p.operations.len()];
    for (n, m) in p.manual.iter().enumerate() {
        states[m.operation] = OpState::Manual { step: n + 1 };
    }
    states[index("customer.wingtip")] = OpState::Failed(Failure {
        message: "422 contact.email: already used by another customer".into(),
        remedy: Remedy::FixConfiguration,
        halts: false,
    });
    states[index("partner.user[new-ops@acme.example]")] = OpState::NotStarted;
    for (i, op) in p.operations.iter().enumerate() {
        let cause = op
            .depends_on
            .iter()
            .find(|&&d| !matches!(states[d], OpState::Done));
        if let (Some(&d), OpState::Done) = (cause, &states[i]) {
            let because = match states[d] {
                OpState::Skipped { because } => because,
                _ => d,
            };
            states[i] = OpState::Skipped { because };
        }
    }
    let mut created = vec![None; p.operations.len()];
    created[index("customer.tailspin")] = Some("acc_7f3a".into());
    Report {
        states,
        elapsed: std::time::Duration::from_millis(2250),
        interrupted: false,
        halted: Some("--max-writes 12 reached".into()),
        retries: 2,
        throttled: 1,
        min_parallelism: 4,
        created,
    }
}

/// The sample plan shows every part of the format.
#[test]
fn the_sample_plan_has_every_kind_of_entry() {
    let p = sample_plan();
    for action in [
        Action::Create,
        Action::Update,
        Action::Delete,
        Action::Invite,
        Action::Resend,
        Action::UpdateService,
    ] {
        assert!(
            p.operations.iter().any(|o| o.action() == action),
            "no {action:?}"
        );
    }
    assert!(
        p.operations
            .iter()
            .any(|o| matches!(o.change, Change::Create { .. }))
    );
    assert!(!p.manual.is_empty(), "manual steps");
    assert!(
        p.access.iter().any(|a| a.escalation.is_some()),
        "an escalation"
    );
    assert!(
        p.unmanaged.iter().any(|u| u.is_admin()),
        "an unmanaged admin"
    );
    let r = sample_report(&p);
    for (what, n) in [
        ("done", r.count(|s| *s == OpState::Done)),
        ("failed", r.count(|s| matches!(s, OpState::Failed(_)))),
        ("skipped", r.count(|s| matches!(s, OpState::Skipped { .. }))),
        ("waiting", crate::render::report::waiting(&r)),
        ("manual", r.count(|s| matches!(s, OpState::Manual { .. }))),
        ("not started", r.count(|s| *s == OpState::NotStarted)),
    ] {
        assert!(n > 0, "no operation {what}");
    }
    assert!(
        r.count(|s| matches!(s, OpState::Skipped { .. })) > crate::render::report::waiting(&r),
        "some skipped for a failure"
    );
}

/// A plan's operations taken apart, one at a time, are the document's own.
#[test]
fn operations_taken_apart_serialize_as_the_document_s() {
    let p = sample_plan();
    let t = target();
    let whole = serde_json::to_value(PlanDocument::new(&p, &t, Verdict::refusals(None))).unwrap();
    let mut apart = serde_json::to_value(PlanDocument::without_operations(
        &p,
        &t,
        Verdict::refusals(None),
    ))
    .unwrap();
    assert_eq!(apart["operations"], serde_json::json!([]));
    apart["operations"] = serde_json::to_value(PlanDocument::operations_of(&p)).unwrap();
    assert_eq!(apart, whole);
}

/// `examples/outputs/`: a plan, an apply report and an access report, as partnerctl writes
/// them, for readers and for the CI's independent validator. Regenerated with
/// `PARTNERCTL_UPDATE_SAMPLES=1 cargo test --lib render::doc`.
#[test]
fn the_committed_samples_are_current() {
    let p = sample_plan();
    let refusals = p.check_safety().err();
    let mut live = applied_acme();
    let contoso = live_account(&mut live, "contoso").id.clone();
    live.users.push(crate::live::User {
        id: "usr_x".into(),
        account_id: contoso,
        email: "someone@elsewhere.example".into(),
        name: "Someone Else".into(),
        role: Role::Admin,
        status: UserStatus::Active,
        etag: "e1".into(),
    });
    let model = Model::from_live(&live, Some(&acme()));
    let grants = model
        .select(None, Some("network.contoso-network"))
        .expect("the network exists");
    // What two policies said: a warning naming where.
    let digest = |path: &str, hex: char| crate::policy::Digest {
        path: path.into(),
        sha256: hex.to_string().repeat(64),
    };
    let policy = crate::policy::Outcome {
        policies: vec![
            digest("policies/free_mail.rego", 'a'),
            digest("policies/size.rego", 'b'),
        ],
        denials: Vec::new(),
        warnings: vec![crate::policy::Finding {
            policy: "policies/size.rego".into(),
            message: "8 invitations in one plan: tell the support desk".into(),
            address: Some("partner".into()),
        }],
        prints: Vec::new(),
    };
    let verdict = Verdict {
        refusals: refusals.as_ref(),
        policy: Some(&policy),
    };
    let samples = [
        (Document::Plan, json(&p, &target(), verdict)),
        (
            Document::ApplyReport,
            apply_report_json(&p, &target(), &sample_report(&p)),
        ),
        (
            Document::AccessReport,
            access_report(&grants, "live state", AccessFormat::Json),
        ),
    ];
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let update = std::env::var_os("PARTNERCTL_UPDATE_SAMPLES").is_some_and(|v| !v.is_empty());
    for (document, text) in samples {
        assert_valid(document, &text);
        let path = root.join(format!("examples/outputs/{}.json", document.name()));
        if update {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &text).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == text,
            "{} is stale: run `PARTNERCTL_UPDATE_SAMPLES=1 cargo test --lib render::doc`",
            path.display()
        );
    }
}

/// The fields tables follow the schemas down through objects, arrays and tagged unions, and
/// name an untagged union's variants in one row.
#[test]
fn fields_tables_list_nested_fields() {
    let plan = fields_table(&Document::Plan.schema());
    for row in [
        "| `operations[].account.type` | `\"partner\"`, `\"account\"` |",
        "| `operations[].account.kind` | `\"customer\"`, `\"network\"`, `\"sub_account\"`, optional |",
        "| `summary.min_seconds` | number or null |",
        "| `unmanaged[].access_risk` | `true`, optional |",
        "| `unmanaged[].type` | string, optional | Its catalog type (for a service). |",
    ] {
        assert!(plan.contains(row), "{row}\n{plan}");
    }
    let before = plan
        .lines()
        .find(|l| l.starts_with("| `operations[].before` |"))
        .unwrap();
    assert!(
        before.contains("A person invited (invitations): `email`, `name`, `role`"),
        "{before}"
    );
    assert!(!plan.contains("operations[].before.name"), "{plan}");
    let access = fields_table(&Document::AccessReport.schema());
    assert!(
        access.contains("| `grants[].source.from` | string, optional |"),
        "{access}"
    );
}

/// The schemas allow no field partnerctl does not write, and no value it cannot write.
#[test]
fn the_schemas_reject_other_documents() {
    let p = sample_plan();
    let valid = |document: Document, v: &serde_json::Value| {
        jsonschema::validator_for(&document.schema())
            .unwrap()
            .is_valid(v)
    };
    let plan: serde_json::Value =
        serde_json::from_str(&json(&p, &target(), Verdict::default())).unwrap();
    assert!(valid(Document::Plan, &plan));
    let report: serde_json::Value =
        serde_json::from_str(&apply_report_json(&p, &target(), &sample_report(&p))).unwrap();
    assert!(valid(Document::ApplyReport, &report));
    let edits: [(Document, &str, serde_json::Value); 10] = [
        (Document::Plan, "/format_version", "2".into()),
        // An invitation has no etag; an operation not failed, no error.
        (Document::Plan, "/operations/0/etag", "e1".into()),
        (Document::ApplyReport, "/operations/0/error", "x".into()),
        (Document::Plan, "/operations/0/action", "rename".into()),
        (Document::Plan, "/operations/0/symbol", "*".into()),
        (Document::Plan, "/summary/by_action/create", 0.into()),
        (Document::Plan, "/unmanaged/0/access_risk", false.into()),
        (Document::ApplyReport, "/operations/0/status", "lost".into()),
        (Document::ApplyReport, "/summary/halted", 1.into()),
        (Document::ApplyReport, "/operations/0/remedy", "pray".into()),
    ];
    for (document, pointer, value) in edits {
        let mut v = if document == Document::Plan {
            plan.clone()
        } else {
            report.clone()
        };
        let (parent, field) = pointer.rsplit_once('/').unwrap();
        v.pointer_mut(parent)
            .unwrap()
            .as_object_mut()
            .unwrap()
            .insert(field.into(), value);
        assert!(!valid(document, &v), "{pointer} accepted");
    }
    // What an action or a status requires.
    let position = |v: &serde_json::Value, field: &str, value: &str| {
        v["operations"]
            .as_array()
            .unwrap()
            .iter()
            .position(|o| o[field] == value)
            .unwrap()
    };
    for (document, at, field) in [
        (
            Document::Plan,
            position(&plan, "action", "create"),
            "parent",
        ),
        (Document::Plan, position(&plan, "action", "delete"), "etag"),
        (
            Document::ApplyReport,
            position(&report, "status", "failed"),
            "remedy",
        ),
        (
            Document::ApplyReport,
            position(&report, "status", "skipped"),
            "skipped_because",
        ),
    ] {
        let mut v = if document == Document::Plan {
            plan.clone()
        } else {
            report.clone()
        };
        v["operations"][at].as_object_mut().unwrap().remove(field);
        assert!(
            !valid(document, &v),
            "operation {at} without {field} accepted"
        );
    }
    for pointer in [
        "",
        "/target",
        "/operations/0",
        "/operations/0/after",
        "/unmanaged/0",
    ] {
        let mut v = plan.clone();
        v.pointer_mut(pointer)
            .unwrap()
            .as_object_mut()
            .unwrap()
            .insert("surprise".into(), true.into());
        assert!(
            !valid(Document::Plan, &v),
            "a field added at {pointer:?} accepted"
        );
    }
}
