//! The GitHub Actions workflows of `examples/ci/github/`: a pull request planned, merged and
//! applied, then checked for drift; and a plan gone stale between review and merge.

use std::path::Path;

use crate::support::{Api, Sandbox};

use super::runner::{Runner, Workflow, assert_all_succeeded, scalar};
use super::{
    COMMENT_LIMIT, checkout, download, force_the_saved_plan, invite_an_admin_by_hand, read_json,
};

#[tokio::test(flavor = "multi_thread")]
async fn github_workflows_plan_a_pull_request_apply_it_when_merged_and_detect_drift() {
    let sb = Sandbox::start();
    let token = sb.add_partner("Acme Partners", true);
    let plan = Workflow::load("partnerctl-plan.yml");
    let apply = Workflow::load("partnerctl-apply.yml");
    let drift = Workflow::load("partnerctl-drift.yml");

    // The pull request: validate, plan, the comment body and the saved plan.
    let pr = checkout();
    let body_file = plan_step(&plan, pr.path(), &sb, &token);

    // The merge: the apply workflow downloads exactly that artifact and applies it.
    apply_step(&plan, &apply, pr.path(), &body_file, &sb, &token);

    // The nightly drift check: nothing to report.
    let main = checkout();
    no_drift_step(&drift, main.path(), &sb, &token);

    // An admin invited by hand is drift: the job fails with exit 2.
    invite_an_admin_by_hand(&sb, &token).await;
    drift_step(&drift, main.path(), &sb, &token);
}

/// Runs the plan workflow on the pull request `pr` and checks the comment and the saved plan;
/// the comment body's file.
fn plan_step(plan: &Workflow, pr: &Path, sb: &Sandbox, token: &str) -> String {
    let mut runner = Runner::for_sandbox(pr, sb, token);
    let runs = runner.run(&plan.run_steps);
    assert_all_succeeded(&runs);
    assert_eq!(runs.len(), plan.run_steps.len());
    assert_eq!(runner.outputs["plan"]["exitcode"], "2", "changes to make");
    let sticky = plan.uses("marocchino/sticky-pull-request-comment");
    assert!(!scalar(&sticky["with"]["header"]).is_empty(), "one comment");
    let body_file = scalar(&sticky["with"]["path"]);
    let body = std::fs::read_to_string(pr.join(&body_file)).unwrap();
    assert!(
        body.starts_with("### partnerctl plan for `Acme Partners`"),
        "{body}"
    );
    assert!(body.contains("customer.contoso"), "{body}");
    assert!(
        body.contains("Saved plan: `plan.json` in the `partnerctl-plan` artifact of [this run](https://github.com/example/partner-config/actions/runs/1234)"),
        "{body}"
    );
    assert!(body.chars().count() <= COMMENT_LIMIT);
    assert!(runner.summary.contains(&body), "the job summary shows it");
    let saved = partnerctl::plan::SavedPlan::from_json(
        &std::fs::read_to_string(pr.join("plan.json")).unwrap(),
        Some(&partnerctl::plan::PlanKey::new(super::PLAN_KEY).unwrap()),
    )
    .expect("a valid saved plan, signed with the key");
    assert_eq!(saved.operations.len(), 24);
    let policies: Vec<&str> = saved.policies.iter().map(|d| d.path.as_str()).collect();
    assert_eq!(
        policies,
        [
            "policies/change_limit.rego",
            "policies/customer_admins.rego",
            "policies/free_mail.rego",
            "policies/partner_admins.rego",
        ],
        "evaluated with the policies of the pull request"
    );
    body_file
}

/// Checks what the apply workflow downloads (the plan artifact of `pr`, with `body_file`),
/// then runs it on that download.
fn apply_step(
    plan: &Workflow,
    apply: &Workflow,
    pr: &Path,
    body_file: &str,
    sb: &Sandbox,
    token: &str,
) {
    let artifact = plan.artifact_paths("partnerctl-plan");
    assert!(artifact.contains(&"plan.json".to_string()), "{artifact:?}");
    assert!(artifact.contains(&"policies/".to_string()), "{artifact:?}");
    assert!(artifact.contains(&body_file.to_string()), "{artifact:?}");
    let fetch = apply.uses("dawidd6/action-download-artifact");
    assert_eq!(scalar(&fetch["with"]["workflow"]), "partnerctl-plan.yml");
    assert_eq!(scalar(&fetch["with"]["name"]), "partnerctl-plan");
    assert_eq!(
        scalar(&fetch["with"]["pr"]),
        "${{ github.event.pull_request.number }}"
    );
    assert!(scalar(&apply.doc["jobs"]["apply"]["if"]).contains("merged"));
    let merged = download(pr, &artifact);
    let mut runner = Runner::for_sandbox(merged.path(), sb, token);
    let runs = runner.run(&apply.run_steps);
    assert_all_succeeded(&runs);
    runs.last()
        .unwrap()
        .1
        .stdout_contains("24 done, 0 failed, 0 skipped");
    let report = read_json(&merged.path().join("apply-report.json"));
    assert_eq!(report["summary"]["success"], true, "{report}");
    assert_eq!(report["summary"]["done"], 24, "{report}");
    let uploaded = apply.artifact_paths("partnerctl-apply-report");
    assert_eq!(uploaded, ["apply-report.json"]);
}

/// The drift workflow on `main` when the live state matches: every step succeeds.
fn no_drift_step(drift: &Workflow, main: &Path, sb: &Sandbox, token: &str) {
    let mut runner = Runner::for_sandbox(main, sb, token);
    let runs = runner.run(&drift.run_steps);
    assert_all_succeeded(&runs);
    runs.last().unwrap().1.stdout_contains("No changes");
    assert!(
        runner
            .summary
            .contains("partnerctl plan for `Acme Partners`"),
        "{}",
        runner.summary
    );
}

/// The drift workflow on `main` after the admin invited by hand: its last step fails with 2.
fn drift_step(drift: &Workflow, main: &Path, sb: &Sandbox, token: &str) {
    let mut runner = Runner::for_sandbox(main, sb, token);
    let runs = runner.run(&drift.run_steps);
    let (name, run) = runs.last().unwrap();
    assert_eq!(
        runs.len(),
        drift.run_steps.len(),
        "only the last step fails"
    );
    assert_eq!(run.code, 2, "{name}\n{}\n{}", run.stdout, run.stderr);
    run.stdout_contains("intruder@evil.example");
    run.stdout_contains("::error title=partnerctl drift::");
    assert!(
        runner.summary.contains("intruder@evil.example"),
        "{}",
        runner.summary
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn github_apply_refuses_a_stale_plan_and_writes_nothing() {
    let sb = Sandbox::start();
    let token = sb.add_partner("Acme Partners", true);
    let plan = Workflow::load("partnerctl-plan.yml");
    let apply = Workflow::load("partnerctl-apply.yml");
    let pr = checkout();
    assert_all_succeeded(&Runner::for_sandbox(pr.path(), &sb, &token).run(&plan.run_steps));

    // Between review and merge, someone creates contoso by hand (under another name).
    let api = Api::new(&sb.url, &token);
    let contoso = api.customer("contoso").await;
    let merged = download(pr.path(), &plan.artifact_paths("partnerctl-plan"));
    let runs = Runner::for_sandbox(merged.path(), &sb, &token).run(&apply.run_steps);
    let (_, run) = runs.last().unwrap();
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    run.stderr_contains("plan is stale: ");
    run.stderr_contains(&format!(
        "\n  - customer.contoso (create): it exists now (customer {}, named \"Customer contoso\")\n",
        contoso["id"].as_str().unwrap()
    ));
    let accounts = api.list_all("/v1/accounts", "AccountPage", 100).await;
    assert_eq!(accounts.len(), 1, "nothing written: {accounts:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn github_apply_refuses_a_plan_edited_between_the_workflows() {
    let sb = Sandbox::start();
    let token = sb.add_partner("Acme Partners", true);
    let plan = Workflow::load("partnerctl-plan.yml");
    let apply = Workflow::load("partnerctl-apply.yml");
    let pr = checkout();
    assert_all_succeeded(&Runner::for_sandbox(pr.path(), &sb, &token).run(&plan.run_steps));
    let api = Api::new(&sb.url, &token);

    // The artifact's plan.json edited, its digest recomputed: the signature no longer matches.
    let merged = download(pr.path(), &plan.artifact_paths("partnerctl-plan"));
    force_the_saved_plan(merged.path());
    let runs = Runner::for_sandbox(merged.path(), &sb, &token).run(&apply.run_steps);
    let (_, run) = runs.last().unwrap();
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    run.stderr_contains("the plan's signature does not match PARTNERCTL_PLAN_KEY");

    // The reviewed plan, with the key secret missing in the apply workflow: refused too.
    let merged = download(pr.path(), &plan.artifact_paths("partnerctl-plan"));
    let secrets = [
        ("PARTNERCTL_ENDPOINT", sb.url.as_str()),
        ("PARTNERCTL_TOKEN", token.as_str()),
    ];
    let runs = Runner::new(merged.path(), &secrets).run(&apply.run_steps);
    let (_, run) = runs.last().unwrap();
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    run.stderr_contains("PARTNERCTL_PLAN_KEY is set but empty");
    let accounts = api.list_all("/v1/accounts", "AccountPage", 100).await;
    assert!(accounts.is_empty(), "nothing written: {accounts:?}");
}

/// Offboarding is a pull request too: a person removed from `config/` is planned as a removal
/// (the plan runs with --prune), removed when the pull request is merged, and the nightly drift
/// check finds nothing. A push whose configuration does not validate replaces the comment with
/// the problems, and keeps no plan.
#[tokio::test(flavor = "multi_thread")]
async fn github_workflows_offboard_a_person_and_report_an_invalid_push() {
    let sb = Sandbox::start();
    let token = sb.add_partner("Acme Partners", true);
    let plan = Workflow::load("partnerctl-plan.yml");
    let apply = Workflow::load("partnerctl-apply.yml");
    let drift = Workflow::load("partnerctl-drift.yml");
    let onboard = checkout();
    let body_file = plan_step(&plan, onboard.path(), &sb, &token);
    apply_step(&plan, &apply, onboard.path(), &body_file, &sb, &token);

    // The pull request removing Contoso Finance.
    let pr = checkout();
    let file = pr.path().join("config/customers/contoso.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    let without = text.replace(
        "      - { email: finance@contoso.example, name: Contoso Finance }\n",
        "",
    );
    assert_ne!(text, without);
    std::fs::write(&file, &without).unwrap();
    let mut runner = Runner::for_sandbox(pr.path(), &sb, &token);
    assert_all_succeeded(&runner.run(&plan.run_steps));
    assert_eq!(runner.outputs["plan"]["exitcode"], "2");
    let body = std::fs::read_to_string(pr.path().join(&body_file)).unwrap();
    assert!(body.contains("finance@contoso.example"), "{body}");
    let merged = download(pr.path(), &plan.artifact_paths("partnerctl-plan"));
    let runs = Runner::for_sandbox(merged.path(), &sb, &token).run(&apply.run_steps);
    assert_all_succeeded(&runs);
    runs.last()
        .unwrap()
        .1
        .stdout_contains("1 done, 0 failed, 0 skipped");
    let api = Api::new(&sb.url, &token);
    let users = api.list_all("/v1/users", "UserPage", 100).await;
    assert!(
        !users
            .iter()
            .any(|u| u["email"] == "finance@contoso.example"),
        "{users:?}"
    );
    let main = pr;
    no_drift_step(&drift, main.path(), &sb, &token);

    // A push that does not validate: the comment shows the problem, no plan is kept.
    std::fs::write(&file, without.replace("country: FR", "country: XX")).unwrap();
    std::fs::remove_file(main.path().join("plan.json")).ok();
    let mut runner = Runner::for_sandbox(main.path(), &sb, &token);
    let runs = runner.run(&plan.run_steps);
    assert_eq!(
        runs.len(),
        plan.run_steps.len(),
        "the comment step is reached"
    );
    assert_eq!(runner.outputs["plan"]["exitcode"], "1");
    let body = std::fs::read_to_string(main.path().join(&body_file)).unwrap();
    assert!(
        body.starts_with("### partnerctl validate failed (exit 1)"),
        "{body}"
    );
    assert!(body.contains("contoso.yaml:8:"), "{body}");
    assert!(!main.path().join("plan.json").exists(), "no plan kept");
}

/// The policies in `policies/` judge a pull request: a failing policy test, then a plan a
/// policy denies, each fail the job with the reason in the comment, and keep no plan.
#[tokio::test(flavor = "multi_thread")]
async fn github_plan_comments_a_failing_policy_test_and_a_policy_denial() {
    let sb = Sandbox::start();
    let token = sb.add_partner("Acme Partners", true);
    let plan = Workflow::load("partnerctl-plan.yml");
    let body_file = scalar(&plan.uses("marocchino/sticky-pull-request-comment")["with"]["path"]);

    // A policy whose test fails: the comment shows the test, and nothing is planned.
    let pr = checkout();
    let policy = pr.path().join("policies/free_mail.rego");
    let text = std::fs::read_to_string(&policy).unwrap();
    std::fs::write(&policy, text.replace("\"gmail.com\", ", "")).unwrap();
    let mut runner = Runner::for_sandbox(pr.path(), &sb, &token);
    let runs = runner.run(&plan.run_steps);
    assert_eq!(runner.outputs["plan"]["exitcode"], "1");
    assert_eq!(runs.last().unwrap().1.code, 1, "the job fails");
    let body = std::fs::read_to_string(pr.path().join(&body_file)).unwrap();
    assert!(
        body.starts_with("### partnerctl policy test failed (exit 1)"),
        "{body}"
    );
    assert!(
        body.contains("FAIL  policies/free_mail_test.rego:18: test_a_gmail_invitation_is_denied_with_its_address"),
        "{body}"
    );
    assert!(!pr.path().join("plan.json").exists(), "no plan kept");

    // Policies as they are, and a configuration inviting a free-mail address: denied, the
    // refused plan in the comment with the denial at its top.
    std::fs::write(&policy, &text).unwrap();
    let file = pr.path().join("config/customers/others.yaml");
    let config = std::fs::read_to_string(&file).unwrap();
    std::fs::write(
        &file,
        config.replace("it@northwind.example", "northwind.it@gmail.com"),
    )
    .unwrap();
    let mut runner = Runner::for_sandbox(pr.path(), &sb, &token);
    runner.run(&plan.run_steps);
    assert_eq!(runner.outputs["plan"]["exitcode"], "1");
    let body = std::fs::read_to_string(pr.path().join(&body_file)).unwrap();
    assert!(
        body.starts_with("### partnerctl plan failed (exit 1)"),
        "{body}"
    );
    assert!(
        body.contains("the policies deny the plan (1 denial); see above"),
        "{body}"
    );
    assert!(
        body.contains(
            "> **Policy denial** (`policies/free_mail.rego`): an invitation to northwind.it@gmail.com"
        ),
        "{body}"
    );
    assert!(
        body.contains("### partnerctl plan for `Acme Partners`"),
        "{body}"
    );
    assert!(body.chars().count() <= COMMENT_LIMIT);
    assert!(!pr.path().join("plan.json").exists(), "no plan kept");
    let api = Api::new(&sb.url, &token);
    assert!(
        api.list_all("/v1/accounts", "AccountPage", 100)
            .await
            .is_empty()
    );
}
