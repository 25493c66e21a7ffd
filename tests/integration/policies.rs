//! Policies as code end to end against the real sandbox binary: each example policy of
//! `examples/policies` denies a plan that breaks it and allows one that does not; a denial
//! stops `apply` before any write (the live state read back through the API); a saved plan is
//! applied only with the policies it was evaluated with, unchanged; a policy that does not
//! parse is located before the API is read; an evaluation past its budget is stopped; policies
//! reach neither the network nor the environment; `validate` judges the configuration alone;
//! `partnerctl policy test` runs the examples' tests.

use std::path::Path;
use std::time::Duration;

use crate::apply::{apply, dump, path_str, with_target};
use crate::support::cli::{Cmd, Run, partnerctl, root};
use crate::support::fake::{Fake, Reply};
use crate::support::{Sandbox, assert_matches_schema};

/// An example policy, as the tests' working directory reaches it.
fn example(name: &str) -> String {
    format!("examples/policies/{name}.rego")
}

/// A customer of the test configuration: key `key`, one user `email` of `role`, the labels
/// given (YAML flow mapping, or empty).
fn customer(key: &str, email: &str, role: &str, labels: &str) -> String {
    let labels = if labels.is_empty() {
        String::new()
    } else {
        format!("    labels: {{ {labels} }}\n")
    };
    format!(
        "  - key: {key}\n    name: Customer {key}\n    contact: {{ name: Contact, email: contact@{key}.example }}\n{labels}    users:\n      - {{ email: {email}, name: User of {key}, role: {role} }}\n"
    )
}

/// A configuration of partner "Acme Partners" with the partner users `partner_users` (YAML
/// list items) and `customers` (from [`customer`]).
fn estate(partner_users: &str, customers: &[String]) -> String {
    format!(
        "version: 1\npartner:\n  name: Acme Partners\n  users:\n{partner_users}defaults:\n  country: GB\n  timezone: Europe/London\ncustomers:\n{}",
        customers.concat()
    )
}

const PARTNER_USERS: &str = "    - { email: ops@acme.example, name: Acme Ops, role: admin }\n    - { email: support@acme.example, name: Acme Support }\n";

/// Three customers, each with an admin of its own: every example policy allows it.
fn fine() -> String {
    estate(
        PARTNER_USERS,
        &[
            customer("contoso", "jane@contoso.example", "admin", ""),
            customer("fabrikam", "ravi@fabrikam.example", "admin", ""),
            customer("northwind", "ana@northwind.example", "admin", ""),
        ],
    )
}

/// `text` written to `name` in `dir`; its path.
fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path_str(&path)
}

fn plan(sb: &Sandbox, token: &str) -> Cmd {
    with_target(partnerctl().arg("plan"), sb, token)
}

/// `cmd` with `--policy` for each of `policies`.
fn with_policies(mut cmd: Cmd, policies: &[&str]) -> Cmd {
    for p in policies {
        cmd = cmd.args(["--policy", p]);
    }
    cmd
}

#[test]
fn each_example_policy_denies_a_plan_that_breaks_it_and_allows_one_that_does_not() {
    let sb = Sandbox::start();
    let token = sb.add_partner("Acme Partners", true);
    let dir = tempfile::tempdir().unwrap();
    let fine = write(dir.path(), "fine.yaml", &fine());
    let many: Vec<String> = (1..=6)
        .map(|i| customer(&format!("c{i}"), &format!("boss@c{i}.example"), "admin", ""))
        .collect();
    let labelled: Vec<String> = (1..=6)
        .map(|i| {
            let label = if i <= 2 { "change-approved: CHG-7" } else { "" };
            customer(
                &format!("c{i}"),
                &format!("boss@c{i}.example"),
                "admin",
                label,
            )
        })
        .collect();
    let cases = [
        (
            "partner_admins",
            estate(
                &format!(
                    "{PARTNER_USERS}    - {{ email: Helper@Contractor.example, name: Helper, role: admin }}\n"
                ),
                &[customer("contoso", "jane@contoso.example", "admin", "")],
            ),
            "partner admin Helper@Contractor.example is not from the partner's own domain (acme.example): make them a member, or an admin of the customers they work for — partner.user[helper@contractor.example]",
        ),
        (
            "customer_admins",
            estate(
                PARTNER_USERS,
                &[
                    customer("contoso", "jane@contoso.example", "admin", ""),
                    customer("fabrikam", "ravi@fabrikam.example", "member", ""),
                ],
            ),
            "customer fabrikam (Customer fabrikam) has no admin: give one of its users `role: admin` — customer.fabrikam",
        ),
        (
            "change_limit",
            estate(PARTNER_USERS, &many),
            "the plan changes 6 customers without the label change-approved, more than 5 (c1, c2, c3, c4, c5, c6): split the change, or label each customer it changes with `change-approved: <ticket>`",
        ),
        (
            "free_mail",
            estate(
                PARTNER_USERS,
                &[customer("contoso", "Jane.Doe@gmail.com", "admin", "")],
            ),
            "an invitation to Jane.Doe@gmail.com, an address of the free-mail provider gmail.com: invite a work address — customer.contoso.user[jane.doe@gmail.com]",
        ),
    ];
    for (name, broken, message) in cases {
        let policy = example(name);
        let broken = write(dir.path(), &format!("{name}.yaml"), &broken);
        let out = path_str(&dir.path().join(format!("{name}.plan.json")));
        let run = with_policies(plan(&sb, &token), &[&policy])
            .args([&broken, "-o", &out])
            .run()
            .code(1);
        run.stdout_contains(&format!("Policy denial ({policy}): {message}"));
        run.stderr_contains(
            "the policies deny the plan (1 denial); see above. Nothing was changed.",
        );
        run.stderr_contains("a refused plan is never saved");
        assert!(
            !Path::new(&out).exists(),
            "{name}: a denied plan is not saved"
        );
        // Denials come first, above the changes.
        let denial = run.stdout.find("Policy denial").unwrap();
        assert!(denial < run.stdout.find("+ customer.").unwrap(), "{name}");

        with_policies(plan(&sb, &token), &[&policy])
            .args([&fine, "-o", &out])
            .run()
            .success();
        assert!(Path::new(&out).exists(), "{name}: an allowed plan is saved");
    }
    // Six customers changed, two of them labelled: four count, within the limit.
    let labelled = write(
        dir.path(),
        "labelled.yaml",
        &estate(PARTNER_USERS, &labelled),
    );
    with_policies(plan(&sb, &token), &[&example("change_limit")])
        .arg(&labelled)
        .run()
        .success();
    // The whole directory, as a pipeline gives it: the fine estate passes all four.
    let run = with_policies(plan(&sb, &token), &["examples/policies"])
        .args([&fine, "--format", "json"])
        .run()
        .success();
    assert_matches_schema("plan", &run.stdout);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let evaluated: Vec<&str> = doc["policy"]["policies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        evaluated,
        [
            "examples/policies/change_limit.rego",
            "examples/policies/customer_admins.rego",
            "examples/policies/free_mail.rego",
            "examples/policies/partner_admins.rego",
        ],
        "the tests beside them are not policies"
    );
    assert_eq!(doc["policy"]["denials"], serde_json::json!([]));
    assert!(dump(&sb, &token).accounts.is_empty(), "plans write nothing");
}

#[test]
fn a_denial_stops_apply_before_any_write() {
    let sb = Sandbox::start();
    let token = sb.add_partner("Acme Partners", true);
    let dir = tempfile::tempdir().unwrap();
    let mut customers = vec![
        customer("contoso", "jane@contoso.example", "admin", ""),
        customer("fabrikam", "ravi@fabrikam.example", "admin", ""),
    ];
    customers.push(customer("tailspin", "kim@hotmail.com", "admin", ""));
    let config = write(
        dir.path(),
        "estate.yaml",
        &estate(PARTNER_USERS, &customers),
    );
    let report = path_str(&dir.path().join("report.json"));
    let run = apply(
        &sb,
        &token,
        &[
            &config,
            "--auto-approve",
            "--policy",
            "examples/policies",
            "--report",
            &report,
        ],
    )
    .code(1);
    run.stdout_contains(
        "Policy denial (examples/policies/free_mail.rego): an invitation to kim@hotmail.com",
    );
    run.stderr_contains("the policies deny the plan (1 denial); see above. Nothing was changed.");
    assert!(!run.stdout.contains("Apply complete"), "{}", run.stdout);
    let live = dump(&sb, &token);
    assert!(
        live.accounts.is_empty() && live.users.is_empty(),
        "zero writes"
    );
    assert!(
        !Path::new(&report).exists(),
        "no report of an apply that never began"
    );

    // Allowed: applied, and the next plan with the same policies has nothing to do.
    let fine = write(dir.path(), "fine.yaml", &fine());
    apply(
        &sb,
        &token,
        &[&fine, "--auto-approve", "--policy", "examples/policies"],
    )
    .success()
    .stdout_contains("Apply complete");
    with_policies(plan(&sb, &token), &["examples/policies"])
        .args([&fine, "--detailed-exitcode"])
        .run()
        .success();
}

/// Copies the example policies (not their tests) to `dir`.
fn copy_policies(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    for name in [
        "change_limit",
        "customer_admins",
        "free_mail",
        "partner_admins",
    ] {
        std::fs::copy(root().join(example(name)), dir.join(format!("{name}.rego"))).unwrap();
    }
}

#[test]
fn apply_plan_refuses_when_a_policy_changed_is_missing_or_new() {
    let sb = Sandbox::start();
    let token = sb.add_partner("Acme Partners", true);
    let dir = tempfile::tempdir().unwrap();
    let policies = dir.path().join("policies");
    copy_policies(&policies);
    let config = write(dir.path(), "fine.yaml", &fine());
    let file = path_str(&dir.path().join("plan.json"));
    let given = path_str(&policies);
    with_policies(plan(&sb, &token), &[&given])
        .args([&config, "-o", &file])
        .run()
        .success();
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(saved["policies"].as_array().unwrap().len(), 4);
    let free_mail = policies.join("free_mail.rego");
    let shown = path_str(&free_mail);
    let original = std::fs::read_to_string(&free_mail).unwrap();
    let apply_plan = |extra: &[&str]| {
        let mut args = vec!["--plan", file.as_str()];
        args.extend_from_slice(extra);
        let run = apply(&sb, &token, &args);
        let live = dump(&sb, &token);
        assert!(
            live.accounts.is_empty() && live.users.is_empty(),
            "zero writes"
        );
        run
    };

    // Changed: refused, whether the policies come from the plan's record or from --policy.
    std::fs::write(
        &free_mail,
        original.replace("\"gmail.com\", ", "\"gmail.com\", \"contoso.example\", "),
    )
    .unwrap();
    for extra in [&[][..], &["--policy", given.as_str()][..]] {
        let run = apply_plan(extra).code(1);
        run.stderr_contains(&format!(
            "{file}: the policy {shown} changed since the plan was made (sha256 "
        ));
        run.stderr_contains(
            "the policies are not those the plan was evaluated with; nothing was changed",
        );
    }
    // Missing: deleted (read from the plan's record, it cannot be read; in a directory given,
    // it is not there).
    std::fs::remove_file(&free_mail).unwrap();
    apply_plan(&[])
        .code(1)
        .stderr_contains(&format!("{shown}: cannot read the policy"));
    apply_plan(&["--policy", &given]).code(1).stderr_contains(&format!(
        "the plan was evaluated with the policy {shown}, which is not among the policies given now"
    ));
    // New: a policy the plan was not evaluated with.
    std::fs::write(&free_mail, &original).unwrap();
    let extra = write(
        &policies,
        "extra.rego",
        "package partnerctl.extra\n\nwarn contains \"new\" if { true }\n",
    );
    apply_plan(&["--policy", &given])
        .code(1)
        .stderr_contains(&format!(
            "the policy {extra} is given now, and the plan was not evaluated with it"
        ));
    std::fs::remove_file(&extra).unwrap();

    // As they were: evaluated again over what is applied, and applied.
    apply(&sb, &token, &["--plan", &file])
        .success()
        .stdout_contains("Apply complete");
    assert_eq!(dump(&sb, &token).accounts.len(), 3);
}

#[test]
fn apply_plan_evaluates_the_policies_again_over_what_it_applies() {
    let sb = Sandbox::start();
    let token = sb.add_partner("Acme Partners", true);
    let dir = tempfile::tempdir().unwrap();
    let config = write(dir.path(), "fine.yaml", &fine());
    let policy = write(
        dir.path(),
        "seen.rego",
        "package partnerctl.seen\n\nwarn contains sprintf(\"%d operations judged\", [n]) if {\n  n := count(input.plan.operations)\n  print(\"judging\", n, \"operations for\", input.target.partner.name)\n}\n",
    );
    let file = path_str(&dir.path().join("plan.json"));
    plan(&sb, &token)
        .args([&config, "--policy", &policy, "-o", &file])
        .run()
        .success()
        .stderr_contains(&format!(
            "policy print: {policy}:5: judging 8 operations for Acme Partners"
        ));
    let run = apply(&sb, &token, &["--plan", &file]).success();
    run.stderr_contains(&format!(
        "policy print: {policy}:5: judging 8 operations for Acme Partners"
    ));
    run.stdout_contains(&format!("Policy warning ({policy}): 8 operations judged"));
    run.stdout_contains("Apply complete: 8 done");
}

#[test]
fn a_policy_that_does_not_parse_is_located_before_the_api_is_read() {
    let fake = Fake::start(|_, _| Reply::status(500));
    let dir = tempfile::tempdir().unwrap();
    let bad = write(
        dir.path(),
        "bad.rego",
        "package partnerctl\n\ndeny contains msg if {\n  msg := \n}\n",
    );
    let config = write(dir.path(), "fine.yaml", &fine());
    let bad_config = write(
        dir.path(),
        "bad.yaml",
        &fine().replace("role: admin", "role: boss"),
    );
    let missing = path_str(&dir.path().join("missing.rego"));
    for command in ["plan", "apply"] {
        let run = partnerctl()
            .args([command, &config, "--policy", &bad, "--policy", &missing])
            .args(["--auto-approve"].iter().filter(|_| command == "apply"))
            .env("PARTNERCTL_ENDPOINT", &fake.url)
            .env("PARTNERCTL_TOKEN", "t")
            .env("CI", "true")
            .run()
            .code(1);
        run.stderr_contains(&format!("{bad}:4:7: expecting `}}` while parsing set"));
        run.stderr_contains(&format!("{missing}: cannot read the policy"));
        run.stderr_contains(
            "2 problems found in the policies; nothing was read from or written to the API",
        );
    }
    // A bad configuration and a bad policy: both reported.
    let run = partnerctl()
        .args(["plan", &bad_config, "--policy", &bad])
        .env("PARTNERCTL_ENDPOINT", &fake.url)
        .env("PARTNERCTL_TOKEN", "t")
        .env("CI", "true")
        .run()
        .code(1);
    run.stderr_contains(&format!("{bad}:4:7:"));
    run.stderr_contains("bad.yaml:");
    assert!(
        fake.received().is_empty(),
        "no request: {:?}",
        fake.received()
    );
}

#[test]
fn an_endless_evaluation_is_stopped_within_the_budget_and_nothing_is_written() {
    let sb = Sandbox::start();
    let token = sb.add_partner("Acme Partners", true);
    let dir = tempfile::tempdir().unwrap();
    let config = write(dir.path(), "fine.yaml", &fine());
    // Ten billion products: far longer than any budget.
    let slow = write(
        dir.path(),
        "slow.rego",
        "package partnerctl.slow\n\ndeny contains msg if {\n  n := count([x | some a in numbers.range(1, 100000); some b in numbers.range(1, 100000); x := a * b])\n  msg := sprintf(\"%d products\", [n])\n}\n",
    );
    let run = with_target(partnerctl().arg("apply"), &sb, &token)
        .args([
            &config,
            "--auto-approve",
            "--policy",
            &slow,
            "--policy-timeout",
            "0.5",
        ])
        .spawn()
        // A guard against a hang, not a measure: the budget is half a second.
        .wait_within(Duration::from_secs(120))
        .code(1);
    run.stderr_contains(&format!(
        "{slow}: evaluating data.partnerctl.slow.deny was stopped: the policies took longer than --policy-timeout (0.5 s); make the policy cheaper, or raise --policy-timeout"
    ));
    run.stderr_contains(
        "the policies could not be evaluated, so the plan is refused; nothing was changed",
    );
    assert!(dump(&sb, &token).accounts.is_empty(), "zero writes");
}

#[test]
fn policies_reach_neither_the_network_nor_the_environment() {
    let sb = Sandbox::start();
    let token = sb.add_partner("Acme Partners", true);
    let listener = Fake::start(|_, _| Reply::status(200).body("{}"));
    let dir = tempfile::tempdir().unwrap();
    let config = write(dir.path(), "fine.yaml", &fine());
    let cases = [
        (
            "http.rego",
            format!(
                "package partnerctl.http\n\ndeny contains \"reached\" if {{\n  r := http.send({{\"method\": \"get\", \"url\": \"{}/\"}})\n  r.status_code == 200\n}}\n",
                listener.url
            ),
            "could not find function http.send",
        ),
        (
            "env.rego",
            "package partnerctl.env\n\nwarn contains v if {\n  v := opa.runtime().env.PARTNERCTL_TOKEN\n}\n".to_string(),
            "could not find function opa.runtime",
        ),
    ];
    for (name, text, message) in cases {
        let policy = write(dir.path(), name, &text);
        let run = plan(&sb, &token)
            .args([&config, "--policy", &policy])
            .run()
            .code(1);
        run.stderr_contains(&format!("{policy}:4:"));
        run.stderr_contains(message);
        assert!(!run.stdout.contains(&token) && !run.stderr.contains(&token));
    }
    assert!(
        listener.received().is_empty(),
        "no request reached the listener"
    );
}

#[test]
fn validate_judges_the_configuration_alone() {
    let dir = tempfile::tempdir().unwrap();
    let no_admin = write(
        dir.path(),
        "no-admin.yaml",
        &estate(
            PARTNER_USERS,
            &[customer("fabrikam", "ravi@gmail.com", "member", "")],
        ),
    );
    let run = partnerctl()
        .args(["validate", &no_admin])
        .env("PARTNERCTL_POLICY", "examples/policies")
        .run()
        .code(1);
    run.stderr_contains("Policy denial (examples/policies/customer_admins.rego): customer fabrikam (Customer fabrikam) has no admin");
    run.stderr_contains("1 policy denial of the configuration");
    // Free mail is judged on the plan's invitations: nothing to judge without a plan.
    assert!(!run.stderr.contains("free_mail"), "{}", run.stderr);

    let fine = write(dir.path(), "fine.yaml", &fine());
    let warn = write(
        dir.path(),
        "count.rego",
        "package partnerctl.count\n\nwarn contains sprintf(\"%d customers\", [count(input.configuration.customers)]) if {\n  not input.plan\n  input.target.provider == \"http\"\n}\n",
    );
    let run = partnerctl()
        .args(["validate", &fine])
        .env("PARTNERCTL_POLICY", format!("examples/policies:{warn}"))
        .run()
        .success();
    run.stdout_contains("valid: 3 customers");
    run.stderr_contains(&format!("Policy warning ({warn}): 3 customers"));
}

#[test]
fn warnings_are_shown_first_kept_in_the_json_plan_and_in_a_saved_plan() {
    let sb = Sandbox::start();
    let token = sb.add_partner("Acme Partners", true);
    let dir = tempfile::tempdir().unwrap();
    let config = write(dir.path(), "fine.yaml", &fine());
    let warn = write(
        dir.path(),
        "size.rego",
        "package partnerctl.size\n\nwarn contains {\"msg\": sprintf(\"%d invitations\", [count(invites)]), \"address\": \"partner\"} if {\n  invites := [op | some op in input.plan.operations; op.action == \"invite\"]\n  count(invites) > 2\n}\n",
    );
    let line = format!("Policy warning ({warn}): 5 invitations — partner");
    let run = plan(&sb, &token)
        .args([&config, "--policy", &warn])
        .run()
        .success();
    run.stdout_contains(&line);
    assert!(run.stdout.find(&line).unwrap() < run.stdout.find("+ customer.").unwrap());
    let run = plan(&sb, &token)
        .args([&config, "--policy", &warn, "--format", "markdown"])
        .run()
        .success();
    run.stdout_contains(&format!(
        "> **Policy warning** (`{warn}`): 5 invitations — `partner`"
    ));
    let run = plan(&sb, &token)
        .args([&config, "--policy", &warn, "--format", "json"])
        .run()
        .success();
    assert_matches_schema("plan", &run.stdout);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        doc["policy"]["warnings"],
        serde_json::json!([{ "policy": warn, "message": "5 invitations", "address": "partner" }])
    );
    let file = path_str(&dir.path().join("plan.json"));
    plan(&sb, &token)
        .args([&config, "--policy", &warn, "-o", &file])
        .run()
        .success();
    partnerctl()
        .args(["show", &file])
        .run()
        .success()
        .stdout_contains(&line);
}

/// `partnerctl policy test PATH...`.
fn policy_test(paths: &[&str]) -> Run {
    partnerctl().args(["policy", "test"]).args(paths).run()
}

#[test]
fn policy_test_passes_on_the_examples_and_fails_on_a_failing_test() {
    let run = policy_test(&["examples/policies"]).success();
    run.stdout_contains("PASS  examples/policies/free_mail_test.rego:");
    let total = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("PASS  "))
        .count();
    assert!(total >= 16, "{}", run.stdout);
    run.stdout_contains(&format!("{total} tests: {total} passed, 0 failed, 0 erred"));

    let dir = tempfile::tempdir().unwrap();
    copy_policies(dir.path());
    let broken = write(
        dir.path(),
        "broken_test.rego",
        "package partnerctl.broken_test\n\nimport data.partnerctl.free_mail\n\ntest_gmail_is_allowed if {\n  count(free_mail.deny) == 0 with input as {\"plan\": {\"operations\": [{\"action\": \"invite\", \"address\": \"partner.user[a@gmail.com]\", \"after\": {\"email\": \"a@gmail.com\"}}]}}\n}\n\ntest_passes if { true }\n",
    );
    let run = policy_test(&[&path_str(dir.path())]).code(1);
    run.stdout_contains(&format!("FAIL  {broken}:5: test_gmail_is_allowed"));
    run.stdout_contains(&format!("PASS  {broken}:9: test_passes"));
    run.stdout_contains("2 tests: 1 passed, 1 failed, 0 erred");

    // No test at all is a failure too, and a test file that does not parse is located.
    let empty = tempfile::tempdir().unwrap();
    copy_policies(empty.path());
    policy_test(&[&path_str(empty.path())])
        .code(1)
        .stderr_contains("no test found in 4 policy files");
    let bad = write(
        empty.path(),
        "bad_test.rego",
        "package partnerctl.bad_test\n\ntest_x if {\n",
    );
    policy_test(&[&path_str(empty.path())])
        .code(1)
        .stderr_contains(&format!("{bad}:"));
}
