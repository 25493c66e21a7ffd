//! Snapshot tests (insta) of the three plan formats for the scenarios.

use super::*;
use crate::plan::testutil::{acme, applied_acme, empty_live, live_account, partner, twins};
use crate::plan::{Options, plan};
use crate::vocab::{Role, UserStatus};

fn target() -> Target {
    Target {
        endpoint: "http://127.0.0.1:7878".into(),
        embedded: true,
    }
}

/// Renders all three formats of one scenario into snapshots named after it; the JSON one is
/// valid against its schema, and holds each operation in the stable form saved plans hold.
fn snapshot_all(name: &str, p: &Plan) {
    let refusals = p.check_safety().err();
    let r = refusals.as_ref();
    insta::assert_snapshot!(
        format!("{name}__text"),
        text(p, &target(), Verdict::refusals(r), false)
    );
    let out = json(p, &target(), Verdict::refusals(r));
    doc::assert_valid(doc::Document::Plan, &out);
    assert_stable_operations(p, &out);
    insta::assert_snapshot!(format!("{name}__json"), out);
    insta::assert_snapshot!(
        format!("{name}__markdown"),
        markdown(p, &target(), Verdict::refusals(r))
    );
}

/// The JSON plan's operations, less their `index` and `symbol`, are the stable form of the
/// plan's operations (what saved plans hold).
fn assert_stable_operations(p: &Plan, out: &str) {
    let v: serde_json::Value = serde_json::from_str(out).unwrap();
    for (op, written) in p.operations.iter().zip(v["operations"].as_array().unwrap()) {
        let mut stable = serde_json::to_value(op).unwrap();
        stable
            .as_object_mut()
            .unwrap()
            .entry("depends_on")
            .or_insert_with(|| serde_json::json!([]));
        let mut written = written.clone();
        let fields = written.as_object_mut().unwrap();
        fields.remove("index");
        fields.remove("symbol");
        assert_eq!(stable, written, "{}", op.address);
    }
}

#[test]
fn empty_partner_to_acme() {
    let p = plan(&acme(), &empty_live(), Options::default()).unwrap();
    snapshot_all("empty_to_acme", &p);
}

#[test]
fn no_changes() {
    let p = plan(&acme(), &applied_acme(), Options::default()).unwrap();
    snapshot_all("no_changes", &p);
}

#[test]
fn renamed_customer_and_changed_settings() {
    let mut d = acme();
    d.customers[1].name = "Fabrikam Incorporated".into();
    d.customers[0].services[0]
        .settings
        .insert("layout_approval".into(), serde_json::json!(true));
    let p = plan(&d, &applied_acme(), Options::default()).unwrap();
    snapshot_all("renamed_customer", &p);
}

#[test]
fn expired_invitation() {
    let mut live = applied_acme();
    for u in live
        .users
        .iter_mut()
        .filter(|u| u.email.starts_with("paris@"))
    {
        u.status = UserStatus::Expired;
    }
    let p = plan(&acme(), &live, Options::default()).unwrap();
    snapshot_all("expired_invitation", &p);
}

#[test]
fn removed_customer_with_and_without_prune_accounts() {
    let mut d = acme();
    d.customers.remove(1); // fabrikam: not protected
    let live = applied_acme();
    let p = plan(&d, &live, Options::default()).unwrap();
    snapshot_all("removed_customer", &p);
    let p = plan(
        &d,
        &live,
        Options {
            prune_accounts: true,
            prune: true,
            ..Options::default()
        },
    )
    .unwrap();
    snapshot_all("removed_customer_pruned", &p);
}

#[test]
fn protected_account_is_kept() {
    let mut d = acme();
    d.customers.remove(0); // contoso: protect: true
    let p = plan(
        &d,
        &applied_acme(),
        Options {
            prune_accounts: true,
            ..Options::default()
        },
    )
    .unwrap();
    snapshot_all("protected_account", &p);
}

#[test]
fn guard_delete_threshold() {
    let mut d = acme();
    for c in &mut d.customers {
        c.users.clear();
    }
    let p = plan(
        &d,
        &applied_acme(),
        Options {
            prune: true,
            ..Options::default()
        },
    )
    .unwrap();
    snapshot_all("guard_delete_threshold", &p);
}

/// Deleting two customers removes their users with them: the refusal names the accounts.
#[test]
fn guard_delete_cascade() {
    let mut d = acme();
    d.customers.truncate(1); // fabrikam and northwind go, with their users
    let p = plan(
        &d,
        &applied_acme(),
        Options {
            prune_accounts: true,
            prune: true,
            ..Options::default()
        },
    )
    .unwrap();
    snapshot_all("guard_delete_cascade", &p);
}

#[test]
fn guard_last_partner_admin() {
    let mut live = applied_acme();
    for u in &mut live.users {
        u.status = UserStatus::Active;
    }
    let mut d = acme();
    d.partner.users[0].role = Role::Member;
    let p = plan(&d, &live, Options::default()).unwrap();
    snapshot_all("guard_last_partner_admin", &p);
}

#[test]
fn guard_not_manageable() {
    let mut live = empty_live();
    live.partner = partner(false);
    let p = plan(&acme(), &live, Options::default()).unwrap();
    snapshot_all("guard_not_manageable", &p);
}

/// A change deep in a sub-account shows under its customer and network, which do not
/// change: the tree a reviewer reads is the one that changes.
#[test]
fn a_deep_change_shows_under_its_ancestry() {
    let mut d = acme();
    d.customers[0].networks[0].sub_accounts[1].users[0].name = "Lyon Front Desk".into();
    let p = plan(&d, &applied_acme(), Options::default()).unwrap();
    let plain = text(&p, &target(), Verdict::default(), false);
    assert!(
        plain.contains("  customer.contoso\n    network.contoso-network\n      sub_account.contoso-lyon\n        ~ update user lyon@contoso.example\n"),
        "{plain}"
    );
    // The ancestors are context: dim, not bold as an account with changes is.
    let coloured = text(&p, &target(), Verdict::default(), true);
    assert!(
        coloured.contains("  \u{1b}[2mcustomer.contoso\u{1b}[0m\n"),
        "{coloured}"
    );
    assert!(
        coloured.contains("      \u{1b}[1msub_account.contoso-lyon\u{1b}[0m\n"),
        "{coloured}"
    );
    snapshot_all("deep_change", &p);
    // A creation deep in the tree, the same.
    let mut d = acme();
    let network = &mut d.customers[0].networks[0];
    let mut nice = network.sub_accounts[1].clone();
    nice.key = "contoso-nice".into();
    nice.name = "Contoso Nice".into();
    nice.users.clear();
    nice.services.clear();
    network.sub_accounts.push(nice);
    let p = plan(&d, &applied_acme(), Options::default()).unwrap();
    let plain = text(&p, &target(), Verdict::default(), false);
    assert!(
        plain.contains("\n\n  customer.contoso\n    network.contoso-network\n    + sub_account.contoso-nice (create)\n"),
        "{plain}"
    );
}

/// Of two customers of the same name, a network's adoption shows under its own customer,
/// which does not change, and not under the other one, which does; the markdown's rows per
/// customer count it there too.
#[test]
fn twins_each_show_their_own_changes() {
    let (d, live) = twins();
    let p = plan(&d, &live, Options::default()).unwrap();
    let plain = text(&p, &target(), Verdict::default(), false);
    assert!(
        plain.contains("\n\n  customer.twin-b\n  > network.twin-b-net (adopt)\n"),
        "{plain}"
    );
    assert_eq!(
        markdown::per_customer(&p),
        [
            "| `customer.twin-a` | 0 | 1 | 0 | 0 |\n",
            "| `customer.twin-b` | 0 | 0 | 0 | 1 |\n"
        ]
    );
    snapshot_all("twins", &p);
}

/// A saved plan shows every change under the same ancestry as the plan did.
#[test]
fn a_saved_plan_shows_the_same_ancestry() {
    let (d, live) = twins();
    let p = plan(&d, &live, Options::default()).unwrap();
    let saved = crate::plan::SavedPlan::new(&p, &[], "http://127.0.0.1:7878", true, None, None);
    let shown = crate::plan::SavedPlan::from_json(&saved.to_json(), None)
        .unwrap()
        .plan();
    assert_eq!(
        text(&shown, &target(), Verdict::default(), false),
        text(&p, &target(), Verdict::default(), false)
    );
    assert_eq!(
        markdown(&shown, &target(), Verdict::default()),
        markdown(&p, &target(), Verdict::default())
    );
}

/// Settings compared key by key: a setting that stays is not shown as removed and added
/// again; changed, added and removed ones each on a line; an object changed on both sides as
/// a diff of its own, other values whole.
#[test]
fn settings_show_key_by_key() {
    let mut d = acme();
    // Contoso's cards: `layout_approval: false` stays, two settings are added.
    let cards = &mut d.customers[0].services[0].settings;
    cards.insert("card_format".into(), serde_json::json!("digital"));
    cards.insert("max_cards_per_user".into(), serde_json::json!(3));
    let mut p = plan(&d, &applied_acme(), Options::default()).unwrap();
    assert_eq!(p.counts(), [(crate::plan::Action::UpdateService, 1)]);
    let plain = text(&p, &target(), Verdict::default(), false);
    assert!(
        plain.contains("    ~ update service cards\n        + card_format: \"digital\"\n        + max_cards_per_user: 3\n          (1 unchanged setting(s) not shown)\n"),
        "{plain}"
    );
    assert!(!plain.contains("layout_approval"), "{plain}");
    // Values the API may hold besides: nested objects and lists.
    let crate::plan::Change::UpdateService { before, after, .. } = &mut p.operations[0].change
    else {
        unreachable!("an update of settings")
    };
    let object = |v: serde_json::Value| v.as_object().unwrap().clone();
    *before = object(serde_json::json!({
        "layout_approval": false,
        "card_format": "cr80",
        "expiry_days": null,
        "limits": { "daily": 5, "monthly": 100, "notify": { "email": "a@contoso.example" } },
        "regions": ["eu"],
        "odd key": 1,
    }));
    *after = object(serde_json::json!({
        "layout_approval": false,
        "card_format": "digital",
        "limits": { "daily": 10, "monthly": 100 },
        "regions": ["eu", "us"],
        "max_cards_per_user": 3,
        "odd key": { "now": "an object" },
    }));
    let plain = text(&p, &target(), Verdict::default(), false);
    let coloured = text(&p, &target(), Verdict::default(), true);
    assert!(coloured.contains("\u{1b}[33m~ card_format: \"cr80\" → \"digital\"\u{1b}[0m"));
    insta::assert_snapshot!("settings_by_key__text", plain);
    insta::assert_snapshot!(
        "settings_by_key__markdown",
        markdown(&p, &target(), Verdict::default())
    );
}

#[test]
fn colour_only_when_asked() {
    let p = plan(&acme(), &empty_live(), Options::default()).unwrap();
    assert!(!text(&p, &target(), Verdict::default(), false).contains('\u{1b}'));
    assert!(text(&p, &target(), Verdict::default(), true).contains("\u{1b}[32m+\u{1b}[0m"));
}

#[test]
fn json_is_parseable_and_complete() {
    let p = plan(&acme(), &empty_live(), Options::default()).unwrap();
    let v: serde_json::Value =
        serde_json::from_str(&json(&p, &target(), Verdict::default())).unwrap();
    assert_eq!(v["format_version"], "1");
    assert_eq!(v["summary"]["writes"], 24);
    let ops = v["operations"].as_array().unwrap();
    assert_eq!(ops.len(), 24);
    for (i, op) in ops.iter().enumerate() {
        assert_eq!(op["index"], i);
        for d in op["depends_on"].as_array().unwrap() {
            assert!(d.as_u64().unwrap() < i as u64);
        }
    }
}

/// Acme applied, plus a hand-made customer and a hand-invited admin; the configuration adds the
/// hand-made customer again under a name with a doubled space.
fn near_miss_plan(refuse: bool) -> Plan {
    let mut live = applied_acme();
    let mut typo = live.accounts[0].clone();
    typo.id = "acc_89ed".into();
    typo.external_key = None;
    typo.name = "Typo Trading".into();
    typo.labels.clear();
    live.accounts.push(typo);
    let contoso = live_account(&mut live, "contoso").id.clone();
    live.users.push(crate::live::User {
        id: "usr_x".into(),
        account_id: contoso,
        email: "intruder@evil.example".into(),
        name: "Someone".into(),
        role: Role::Admin,
        status: UserStatus::Active,
        etag: "e1".into(),
    });
    let mut d = acme();
    let mut extra = d.customers[2].clone();
    extra.key = "typo-trading".into();
    extra.name = "Typo  Trading".into();
    extra.users.clear();
    d.customers.push(extra);
    let options = Options {
        refuse_near_misses: refuse,
        ..Options::default()
    };
    plan(&d, &live, options).unwrap()
}

#[test]
fn unmanaged_by_name_and_a_near_miss() {
    let p = near_miss_plan(false);
    assert_eq!(p.near_misses.len(), 1);
    assert!(p.check_safety().is_ok());
    snapshot_all("near_miss", &p);
    let refused = near_miss_plan(true);
    let r = refused.check_safety().unwrap_err();
    assert!(
        r.to_string().starts_with(
            "1 account(s) to create look like unmanaged live accounts (e.g. customer.typo-trading)"
        ),
        "{r}"
    );
}

#[test]
fn manual_steps_render_as_a_numbered_runbook() {
    let caps = crate::plan::Capabilities {
        create: vec![],
        ..crate::plan::Capabilities::full()
    };
    let words = |op: &crate::plan::Operation, _: Option<&str>| match &op.change {
        crate::plan::Change::Create { fields, .. } => (
            format!("Add {}", op.account.kind().unwrap()),
            vec![format!("Name: {}", fields.name)],
        ),
        _ => unreachable!("only creations are manual"),
    };
    let mut d = acme();
    d.customers.truncate(1);
    let p = crate::plan::with_capabilities(
        plan(&d, &empty_live(), Options::default()).unwrap(),
        &caps,
        &empty_live(),
        words,
    );
    assert_eq!(p.manual.len(), 4);
    snapshot_all("manual_steps", &p);
}

#[test]
fn access_report_in_every_format() {
    let m = crate::access::Model::from_desired(&acme());
    let grants = m.select(None, Some("network.contoso-network")).unwrap();
    for (name, format) in [
        ("text", AccessFormat::Text),
        ("json", AccessFormat::Json),
        ("markdown", AccessFormat::Markdown),
        ("csv", AccessFormat::Csv),
    ] {
        let out = access_report(&grants, "configuration", format);
        if format == AccessFormat::Json {
            doc::assert_valid(doc::Document::AccessReport, &out);
        }
        insta::assert_snapshot!(format!("access__{name}"), out);
    }
}

#[test]
fn access_changes_with_escalations_first() {
    let mut live = applied_acme();
    for u in &mut live.users {
        u.status = UserStatus::Active;
    }
    let mut d = acme();
    // A new partner user, a member made admin, and a user removed.
    d.partner.users.push(crate::config::User {
        email: "new-ops@acme.example".into(),
        name: "New Ops".into(),
        role: Role::Member,
    });
    d.customers[0].users[1].role = Role::Admin;
    d.customers[0].networks[0].users.clear();
    let p = plan(
        &d,
        &live,
        Options {
            prune: true,
            ..Options::default()
        },
    )
    .unwrap();
    let who: Vec<(&str, usize, usize, bool)> = p
        .access
        .iter()
        .map(|c| (c.email.as_str(), c.gains, c.loses, c.escalation.is_some()))
        .collect();
    assert_eq!(
        who,
        [
            ("finance@contoso.example", 0, 0, true),
            ("new-ops@acme.example", 7, 0, true),
            ("network-admin@contoso.example", 0, 3, false),
        ]
    );
    snapshot_all("access_escalation", &p);
}

/// The end-of-apply advice follows the failures' remedies: "run again" only when a re-run can
/// help.
#[test]
fn apply_report_advises_by_remedy() {
    use crate::apply::{Failure, OpState, Report};
    use crate::provider::Remedy;
    let p = plan(&acme(), &empty_live(), Options::default()).unwrap();
    let report = |failures: &[Remedy]| {
        let mut states = vec![OpState::Done; p.operations.len()];
        for (i, r) in failures.iter().enumerate() {
            states[i] = OpState::Failed(Failure {
                message: "refused".into(),
                remedy: *r,
                halts: false,
            });
        }
        apply_report(
            &p,
            &Report {
                states,
                ..Report::nothing()
            },
        )
    };
    let again = "Run `partnerctl apply` again";
    let fix = "The API refused the values of 1 operation(s): fix the configuration";
    let access = "The API refused 1 operation(s) for lack of access";
    let values = report(&[Remedy::FixConfiguration]);
    assert!(values.contains(fix) && !values.contains(again), "{values}");
    let denied = report(&[Remedy::FixAccess]);
    assert!(
        denied.contains(access) && !denied.contains(again),
        "{denied}"
    );
    let transient = report(&[Remedy::Rerun]);
    assert!(
        transient.contains(again) && !transient.contains(fix),
        "{transient}"
    );
    let both = report(&[Remedy::Rerun, Remedy::FixConfiguration]);
    assert!(both.contains(again) && both.contains(fix), "{both}");
    assert!(!report(&[]).contains(again));
}

/// Text from the API or the configuration at its most hostile: spreadsheet formulas, terminal
/// sequences (OSC 8 hyperlink, erase screen, colour, a C1 CSI), bidirectional and zero-width
/// characters, and line breaks carrying HTML, a heading, an image, a table cell, a code span,
/// a mention and an autolink.
const HOSTILE: &str = "=HYPERLINK(\"http://e.example\",\"x\")\u{1b}]8;;http://e.example\u{7}\u{1b}[2J\u{1b}[31m\u{9b}8m\u{202e}\u{2066}\u{200b}\u{feff}\u{2028}\r\n</details>\n# Owned\n![i](http://e.example/i.png) | x | `y` <img src=x> @team www.e.example\t";

/// Acme applied, then everything the plan shows made hostile: the partner's name, a live
/// customer's name and labels (so the plan updates them), a live service's settings, an
/// unmanaged admin, an unmanaged account and a near miss with its name; a hostile manual step.
fn hostile_plan() -> Plan {
    let mut live = applied_acme();
    live.partner.name = HOSTILE.into();
    live_account(&mut live, "fabrikam").name = HOSTILE.into();
    live_account(&mut live, "northwind")
        .labels
        .insert(HOSTILE.into(), HOSTILE.into());
    let contoso = live_account(&mut live, "contoso").id.clone();
    for s in live.services.iter_mut().filter(|s| s.account_id == contoso) {
        s.settings
            .insert(HOSTILE.into(), serde_json::json!(HOSTILE));
    }
    live.users.push(crate::live::User {
        id: "usr_hostile".into(),
        account_id: contoso,
        email: format!("{HOSTILE}@evil.example"),
        name: HOSTILE.into(),
        role: Role::Admin,
        status: UserStatus::Active,
        etag: "e1".into(),
    });
    let mut typo = live.accounts[0].clone();
    typo.id = "acc_89ed".into();
    typo.external_key = None;
    typo.name = format!("Typo Trading{HOSTILE}");
    typo.labels.clear();
    live.accounts.push(typo.clone());
    typo.id = "acc_89ee".into();
    typo.name = "Typo Trading\u{202e}".into();
    live.accounts.push(typo);
    let mut d = acme();
    d.partner.name = HOSTILE.into();
    let mut extra = d.customers[2].clone();
    extra.key = "typo-trading".into();
    extra.name = "Typo Trading".into();
    extra.users.clear();
    d.customers.push(extra);
    let options = Options {
        refuse_near_misses: true,
        ..Options::default()
    };
    let caps = crate::plan::Capabilities {
        create: vec![],
        ..crate::plan::Capabilities::full()
    };
    let words = |_: &crate::plan::Operation, _: Option<&str>| {
        (format!("Add {HOSTILE}"), vec![format!("Name: {HOSTILE}")])
    };
    crate::plan::with_capabilities(plan(&d, &live, options).unwrap(), &caps, &live, words)
}

/// `text` without the palette's own sequences (`ESC [ digits ; m`).
fn without_palette(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find('\u{1b}') {
        out.push_str(&rest[..i]);
        let seq = &rest[i..];
        let end = seq
            .char_indices()
            .skip(2)
            .find(|(_, c)| !(c.is_ascii_digit() || *c == ';'))
            .filter(|(_, c)| *c == 'm' && seq.starts_with("\u{1b}["))
            .map(|(j, _)| j + 1);
        match end {
            Some(j) => rest = &seq[j..],
            None => {
                out.push('\u{1b}');
                rest = &seq[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// No control (but line feeds), bidirectional or zero-width character in `out`.
#[track_caller]
fn assert_nothing_hidden(what: &str, out: &str) {
    let hidden: Vec<char> = out
        .chars()
        .filter(|c| *c != '\n' && crate::vocab::rules::hidden_char(*c))
        .collect();
    assert!(hidden.is_empty(), "{what}: raw {hidden:?} in\n{out}");
}

/// Markdown outside its fenced code blocks, and the code blocks' lines.
fn markdown_parts(md: &str) -> (String, Vec<&str>) {
    let (mut outside, mut code, mut fenced) = (String::new(), Vec::new(), false);
    for line in md.lines() {
        if line.starts_with("```") {
            fenced = !fenced;
        } else if fenced {
            code.push(line);
        } else {
            outside.push_str(line);
            outside.push('\n');
        }
    }
    assert!(!fenced, "an unclosed code block:\n{md}");
    (outside, code)
}

/// `line` without its backslash escapes (a backslash and the character after it) and without
/// the contents of its code spans (which markdown shows literally).
fn unescaped(line: &str) -> String {
    let chars: Vec<char> = line.chars().collect();
    let run = |i: usize| chars[i..].iter().take_while(|c| **c == '`').count();
    let (mut out, mut i) = (String::new(), 0);
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 2,
            '`' => {
                let n = run(i);
                let close = (i + n..chars.len())
                    .find(|&j| run(j) == n && (j == 0 || chars[j - 1] != '`'))
                    .unwrap_or_else(|| panic!("an unclosed code span: {line}"));
                out.push_str("`code`");
                i = close + n;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

/// Markdown that renders hostile text as the literal text it is: no raw hidden characters, no
/// HTML but partnerctl's own `<details>`, no heading, image, link or autolink, and every table
/// row with its own number of cells.
#[track_caller]
fn assert_literal_markdown(what: &str, md: &str) {
    assert_nothing_hidden(what, md);
    let (outside, code) = markdown_parts(md);
    for line in outside.lines() {
        assert!(
            !line.starts_with('#')
                || line.starts_with("### partnerctl plan for `")
                || line.starts_with("### Access ("),
            "{what}: a heading from the data: {line}"
        );
        // Every `<` is partnerctl's HTML or escaped.
        let plain = unescaped(line);
        let html = plain
            .replace("<details><summary>", "")
            .replace("</summary>", "")
            .replace("</details>", "");
        assert!(!html.contains('<'), "{what}: HTML from the data: {line}");
        for syntax in ["![", "](", "http://", "www.", "`y`"] {
            assert!(
                !plain.contains(syntax),
                "{what}: {syntax:?} unescaped: {line}"
            );
        }
        if line.starts_with('|') {
            let cells = line.replace("\\|", "").matches('|').count();
            assert!(
                cells == 3 || cells == 6,
                "{what}: a table row of {cells} pipes: {line}"
            );
        }
    }
    for line in code {
        assert!(!line.trim_start().starts_with("```"), "{what}: {line}");
    }
}

#[test]
fn hostile_names_show_escaped_in_text() {
    let p = hostile_plan();
    let r = p.check_safety().err();
    assert!(r.is_some() && !p.near_misses.is_empty() && !p.manual.is_empty());
    assert!(p.unmanaged.iter().any(|u| u.is_admin()));
    let plain = text(&p, &target(), Verdict::refusals(r.as_ref()), false);
    assert_nothing_hidden("text", &plain);
    assert!(plain.contains("\\u{1b}[2J\\u{1b}[31m\\u{9b}8m\\u{202e}\\u{2066}\\u{200b}\\u{feff}\\u{2028}\\r\\n</details>\\n# Owned"), "{plain}");
    let coloured = text(&p, &target(), Verdict::refusals(r.as_ref()), true);
    assert!(coloured.contains('\u{1b}'));
    assert_eq!(
        without_palette(&coloured),
        plain,
        "an ESC in the coloured text that the palette did not write"
    );
    insta::assert_snapshot!("hostile__text", plain);
}

#[test]
fn hostile_names_render_as_literal_markdown() {
    let p = hostile_plan();
    let r = p.check_safety().err();
    let md = markdown(&p, &target(), Verdict::refusals(r.as_ref()));
    assert_literal_markdown("markdown", &md);
    let short = markdown_within(&p, &target(), Verdict::refusals(r.as_ref()), 3_000, None);
    assert!(short.contains("Shortened to fit a comment"), "{short}");
    assert_literal_markdown("shortened markdown", &short);
    insta::assert_snapshot!("hostile__markdown", md);
}

/// What a policy says comes from its author and from the data it quotes: shown escaped in
/// text, literal in markdown, at the top of both, and as JSON escapes in the JSON plan.
#[test]
fn policy_messages_show_first_and_escaped() {
    let p = plan(&acme(), &empty_live(), Options::default()).unwrap();
    let finding = |message: &str| crate::policy::Finding {
        policy: format!("policies/{HOSTILE}.rego"),
        message: message.to_string(),
        address: Some(HOSTILE.to_string()),
    };
    let outcome = crate::policy::Outcome {
        policies: vec![crate::policy::Digest {
            path: format!("policies/{HOSTILE}.rego"),
            sha256: "0".repeat(64),
        }],
        denials: vec![finding(&format!("denied: {HOSTILE}"))],
        warnings: vec![finding(&format!("careful: {HOSTILE}"))],
        prints: Vec::new(),
    };
    let verdict = Verdict {
        refusals: None,
        policy: Some(&outcome),
    };
    let plain = text(&p, &target(), verdict, false);
    assert_nothing_hidden("text", &plain);
    let denial = plain.find("Policy denial (policies/").expect("the denial");
    let warning = plain
        .find("Policy warning (policies/")
        .expect("the warning");
    let first_change = plain.find("+ customer.").unwrap();
    assert!(denial < warning && warning < first_change, "{plain}");
    let coloured = text(&p, &target(), verdict, true);
    assert_eq!(without_palette(&coloured), plain);
    let md = markdown(&p, &target(), verdict);
    assert_literal_markdown("markdown", &md);
    assert!(md.contains("> **Policy denial** ("), "{md}");
    assert!(
        md.find("> **Policy warning**").unwrap() < md.find("| action | count |").unwrap(),
        "{md}"
    );
    let out = json(&p, &target(), verdict);
    doc::assert_valid(doc::Document::Plan, &out);
    assert_nothing_hidden("json", &out);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        v["policy"]["denials"][0]["message"],
        format!("denied: {HOSTILE}")
    );
    assert_eq!(v["policy"]["warnings"][0]["address"], HOSTILE);
    // Without policies, the JSON plan has no `policy` member.
    let none = json(&p, &target(), Verdict::default());
    assert!(
        serde_json::from_str::<serde_json::Value>(&none)
            .unwrap()
            .get("policy")
            .is_none()
    );
}

#[test]
fn hostile_names_are_json_escapes_that_mean_the_same() {
    let p = hostile_plan();
    let out = json(
        &p,
        &target(),
        Verdict::refusals(p.check_safety().err().as_ref()),
    );
    doc::assert_valid(doc::Document::Plan, &out);
    assert_nothing_hidden("json", &out);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["target"]["partner"]["name"], HOSTILE);
    let report = crate::apply::Report {
        states: vec![crate::apply::OpState::Done; p.operations.len()],
        halted: Some(HOSTILE.into()),
        ..crate::apply::Report::nothing()
    };
    let report = apply_report_json(&p, &target(), &report);
    doc::assert_valid(doc::Document::ApplyReport, &report);
    assert_nothing_hidden("apply report json", &report);
}

/// The end-of-apply report shows addresses and the API's messages escaped.
#[test]
fn hostile_failures_show_escaped_in_the_apply_report() {
    use crate::apply::{Failure, OpState, Report};
    use crate::provider::Remedy;
    let p = hostile_plan();
    let mut states = vec![OpState::Done; p.operations.len()];
    states[0] = OpState::Failed(Failure {
        message: format!("400 validation-failed: /name {HOSTILE}"),
        remedy: Remedy::FixConfiguration,
        halts: false,
    });
    let report = Report {
        states,
        halted: Some(HOSTILE.into()),
        ..Report::nothing()
    };
    let out = apply_report(&p, &report);
    assert_nothing_hidden("apply report", &out);
    assert!(out.contains("/name =HYPERLINK"), "{out}");
}

/// Hostile names and emails in the access report: escaped in text, literal in markdown, never
/// a formula in CSV, `\u` escapes in JSON.
#[test]
fn hostile_names_in_the_access_report() {
    let mut d = acme();
    d.customers[0].name = HOSTILE.into();
    d.customers[0].users[0].name = HOSTILE.into();
    d.customers[0].users[1].name = "+SUM(1,2)".into();
    d.customers[0].users[1].email = "-2+3@evil.example".into();
    d.partner.users[0].name = "@SUM(A1)".into();
    let m = crate::access::Model::from_desired(&d);
    let grants = m.select(None, None).unwrap();
    let text = access_report(&grants, "configuration", AccessFormat::Text);
    assert_nothing_hidden("access text", &text);
    assert!(
        text.contains("\"=HYPERLINK(\\\"http://e.example\\\",\\\"x\\\")\\u{1b}]8;;"),
        "{text}"
    );
    let md = access_report(&grants, "configuration", AccessFormat::Markdown);
    assert_literal_markdown("access markdown", &md);
    let json = access_report(&grants, "configuration", AccessFormat::Json);
    doc::assert_valid(doc::Document::AccessReport, &json);
    assert_nothing_hidden("access json", &json);
    let csv = access_report(&grants, "configuration", AccessFormat::Csv);
    assert_nothing_hidden("access csv", &csv);
    let mut rows = csv::Reader::from_reader(csv.as_bytes());
    let mut neutralised = 0;
    for row in rows.records() {
        for cell in row.unwrap().iter() {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "a formula cell: {cell:?}"
            );
            neutralised += usize::from(cell.starts_with('\''));
        }
    }
    // The hostile customer's name on each of its grants, and the three hostile people's names
    // and the email on theirs.
    assert!(neutralised > 10, "{csv}");
    assert!(
        csv.contains("'=HYPERLINK(\"\"http://e.example\"\""),
        "{csv}"
    );
    assert!(
        csv.contains(",'+SUM(1,2),") || csv.contains(",\"'+SUM(1,2)\","),
        "{csv}"
    );
    assert!(csv.contains(",'-2+3@evil.example,"), "{csv}");
    assert!(csv.contains(",'@SUM(A1),"), "{csv}");
}

/// Operations that wait for a manual step are reported as waiting for it (its number and
/// title), apart from those skipped because a dependency failed, in text and in JSON; with
/// nothing failed, the apply did not end "with errors".
#[test]
fn dependents_of_manual_steps_wait_for_them_in_the_apply_report() {
    use crate::apply::{Failure, OpState, Report};
    let caps = crate::plan::Capabilities {
        create: vec![crate::vocab::AccountKind::Customer],
        ..crate::plan::Capabilities::full()
    };
    let p = crate::plan::with_capabilities(
        plan(&acme(), &empty_live(), Options::default()).unwrap(),
        &caps,
        &empty_live(),
        |op, _| (format!("Add {}", op.address), vec!["Click".to_string()]),
    );
    let index = |address: &str| {
        p.operations
            .iter()
            .position(|o| o.address == address)
            .unwrap()
    };
    // What the apply's walk records: the manual steps, what waits for each, done the rest.
    let states = |fail: Option<usize>| {
        let mut states = vec![OpState::Done; p.operations.len()];
        for (n, m) in p.manual.iter().enumerate() {
            states[m.operation] = OpState::Manual { step: n + 1 };
        }
        if let Some(f) = fail {
            states[f] = OpState::Failed(Failure::transient("503 unavailable"));
        }
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
        Report {
            states,
            ..Report::nothing()
        }
    };
    let waiting = states(None);
    let out = apply_report(&p, &waiting);
    assert!(
        !out.contains("Skipped because a dependency failed"),
        "{out}"
    );
    assert!(
        out.contains("Apply finished up to the manual steps: 15 done, 0 failed, 6 skipped (6 waiting for manual steps), 3 left as manual steps"),
        "{out}"
    );
    assert!(
        out.contains("Waiting for manual steps (6):\n  - network.contoso-network.user[network-admin@contoso.example] (invite) ← manual step 1: Add network.contoso-network\n"),
        "{out}"
    );
    assert!(
        out.contains("  - sub_account.contoso-paris.user[paris@contoso.example] (invite) ← manual step 2: Add sub_account.contoso-paris\n"),
        "{out}"
    );
    insta::assert_snapshot!("apply_report_manual__text", out);
    // A failure besides: its dependents are skipped for it, the others still wait.
    let fabrikam = index("customer.fabrikam");
    let both = states(Some(fabrikam));
    let out = apply_report(&p, &both);
    assert!(
        out.contains(
            "Apply finished with errors: 11 done, 1 failed, 9 skipped (6 waiting for manual steps)"
        ),
        "{out}"
    );
    assert!(
        out.contains("Skipped because a dependency failed (3):\n  - customer.fabrikam.user[ravi@fabrikam.example] (invite) ← customer.fabrikam\n"),
        "{out}"
    );
    assert!(out.contains("Waiting for manual steps (6):"), "{out}");
    let v: serde_json::Value =
        serde_json::from_str(&apply_report_json(&p, &target(), &both)).unwrap();
    assert_eq!(v["summary"]["skipped"], 9);
    assert_eq!(v["summary"]["waiting_for_manual_steps"], 6);
    let op = |address: &str| v["operations"][index(address)].clone();
    let admin = op("network.contoso-network.user[network-admin@contoso.example]");
    assert_eq!(admin["status"], "skipped");
    assert_eq!(admin["skipped_reason"], "waits-for-manual-step");
    assert_eq!(
        admin["skipped_because"],
        serde_json::json!({
            "index": index("network.contoso-network"),
            "address": "network.contoso-network",
            "manual_step": 1,
            "title": "Add network.contoso-network",
        })
    );
    let ravi = op("customer.fabrikam.user[ravi@fabrikam.example]");
    assert_eq!(ravi["status"], "skipped");
    assert_eq!(ravi["skipped_reason"], "dependency-failed");
    assert_eq!(
        ravi["skipped_because"],
        serde_json::json!({ "index": fabrikam, "address": "customer.fabrikam" })
    );
    // The whole JSON report, with every field a report can hold: created ids, a refusal of
    // the values, operations left when the apply stopped starting them.
    let mut full = both;
    full.created = vec![None; p.operations.len()];
    full.created[index("customer.contoso")] = Some("acc_1".into());
    full.states[index("customer.northwind")] = OpState::Failed(Failure {
        message: "422 name: too long".into(),
        remedy: crate::provider::Remedy::FixConfiguration,
        halts: false,
    });
    let last = p.operations.len() - 1;
    full.states[last] = OpState::NotStarted;
    full.halted = Some("--max-writes 20 reached".into());
    full.elapsed = std::time::Duration::from_millis(1500);
    (full.retries, full.throttled, full.min_parallelism) = (3, 1, 4);
    let out = apply_report_json(&p, &target(), &full);
    doc::assert_valid(doc::Document::ApplyReport, &out);
    insta::assert_snapshot!("apply_report_manual__json", out);
}
