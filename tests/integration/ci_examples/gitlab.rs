//! The GitLab pipeline of `examples/ci/gitlab-ci.yml`: a merge request validated, planned and
//! noted, the manual apply job, and the scheduled drift job.

use std::path::Path;

use serde_yaml::Value;

use crate::support::Sandbox;

use super::fake_gitlab::FakeGitLab;
use super::runner::{GitLab, scalar};
use super::{
    COMMENT_LIMIT, PLAN_KEY, checkout, force_the_saved_plan, invite_an_admin_by_hand, job_checkout,
    read_json,
};

#[tokio::test(flavor = "multi_thread")]
async fn gitlab_pipeline_plans_notes_applies_and_detects_drift() {
    let sb = Sandbox::start();
    let token = sb.add_partner("Acme Partners", true);
    let gitlab = GitLab::load();
    let vars = [
        ("PARTNERCTL_ENDPOINT", sb.url.as_str()),
        ("PARTNERCTL_TOKEN", token.as_str()),
        ("PARTNERCTL_PLAN_KEY", PLAN_KEY),
    ];

    // The merge request pipeline: validate and plan.
    let mr = checkout();
    let (body, artifacts) = plan_step(&gitlab, mr.path(), &vars);

    // The note: skipped without a token; with one, made once and then edited in place.
    note_step(&gitlab, mr.path(), &vars, &body);

    // The manual apply job, with the plan job's artifacts (needs: plan).
    apply_step(&gitlab, mr.path(), &artifacts, &vars);

    // The scheduled drift job: no drift, then an admin invited by hand.
    let main = checkout();
    gitlab
        .run("drift", main.path(), &vars)
        .success()
        .stdout_contains("No changes");
    invite_an_admin_by_hand(&sb, &token).await;
    let run = gitlab.run("drift", main.path(), &vars).code(2);
    run.stdout_contains("intruder@evil.example");
    run.stdout_contains("Drift: the live state differs from config/");
}

/// The `validate` and `plan` jobs on the merge request `mr`; the note body and the plan job's
/// artifacts.
fn plan_step(gitlab: &GitLab, mr: &Path, vars: &[(&str, &str)]) -> (String, Vec<String>) {
    gitlab.run("validate", mr, vars).success();
    let run = gitlab.run("plan", mr, vars).success();
    run.stderr_contains("Saved the plan to");
    let body = std::fs::read_to_string(mr.join("plan.md")).unwrap();
    assert!(
        body.starts_with("### partnerctl plan for `Acme Partners`"),
        "{body}"
    );
    assert!(
        body.contains("[the plan job](https://gitlab.example/group/config/-/jobs/99)"),
        "{body}"
    );
    assert!(body.chars().count() <= COMMENT_LIMIT);
    let artifacts = gitlab.artifacts("plan");
    assert_eq!(artifacts, ["plan.json", "plan.md"]);
    (body, artifacts)
}

/// The `plan-note` job: without `GITLAB_API_TOKEN`, then twice against a stand-in API.
fn note_step(gitlab: &GitLab, mr: &Path, vars: &[(&str, &str)], body: &str) {
    let run = gitlab.run("plan-note", mr, vars).success();
    run.stdout_contains("GITLAB_API_TOKEN is not set");
    let api = FakeGitLab::start("glpat-secret");
    let api_url = format!("{}/api/v4", api.url);
    let with_token = [
        vars[0],
        vars[1],
        vars[2],
        ("GITLAB_API_TOKEN", "glpat-secret"),
        ("CI_API_V4_URL", api_url.as_str()),
    ];
    for _ in 0..2 {
        gitlab.run("plan-note", mr, &with_token).success();
    }
    let state = api.snapshot();
    let ours: Vec<&(u64, String)> = state
        .notes
        .iter()
        .filter(|(_, b)| b.starts_with("<!-- partnerctl-plan -->"))
        .collect();
    assert_eq!(ours.len(), 1, "one note: {:?}", state.requests);
    assert_eq!(ours[0].1, format!("<!-- partnerctl-plan -->\n{body}"));
    let notes = "/api/v4/projects/42/merge_requests/7/notes";
    let requests: Vec<String> = state
        .requests
        .iter()
        .map(|r| r.split('?').next().unwrap().to_string())
        .collect();
    assert_eq!(
        requests,
        [
            format!("GET {notes}"),
            format!("POST {notes}"),
            format!("GET {notes}"),
            format!("PUT {notes}/{}", ours[0].0),
        ]
    );
}

/// The `apply` job on a download of `artifacts` from the merge request `mr`.
fn apply_step(gitlab: &GitLab, mr: &Path, artifacts: &[String], vars: &[(&str, &str)]) {
    let needs = &gitlab.job("apply")["needs"];
    assert_eq!(scalar(&needs[0]["job"]), "plan");
    assert_eq!(needs[0]["artifacts"], Value::Bool(true));
    let job = job_checkout(mr, artifacts);
    let run = gitlab.run("apply", job.path(), vars).success();
    run.stdout_contains("24 done, 0 failed, 0 skipped");
    let report = read_json(&job.path().join("apply-report.json"));
    assert_eq!(report["summary"]["done"], 24, "{report}");
    assert_eq!(gitlab.artifacts("apply"), ["apply-report.json"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn gitlab_apply_refuses_a_plan_edited_between_the_jobs() {
    let sb = Sandbox::start();
    let token = sb.add_partner("Acme Partners", true);
    let gitlab = GitLab::load();
    let vars = [
        ("PARTNERCTL_ENDPOINT", sb.url.as_str()),
        ("PARTNERCTL_TOKEN", token.as_str()),
        ("PARTNERCTL_PLAN_KEY", PLAN_KEY),
    ];
    let mr = checkout();
    gitlab.run("plan", mr.path(), &vars).success();

    // The artifact's plan.json edited, its digest recomputed: the signature no longer matches.
    let job = job_checkout(mr.path(), &gitlab.artifacts("plan"));
    force_the_saved_plan(job.path());
    let run = gitlab.run("apply", job.path(), &vars).code(1);
    run.stderr_contains("the plan's signature does not match PARTNERCTL_PLAN_KEY");

    // The reviewed plan, with the key variable missing in the apply job: refused too.
    let job = job_checkout(mr.path(), &gitlab.artifacts("plan"));
    let run = gitlab.run("apply", job.path(), &vars[..2]).code(1);
    run.stderr_contains("PARTNERCTL_PLAN_KEY is set but empty");
    let api = crate::support::Api::new(&sb.url, &token);
    let accounts = api.list_all("/v1/accounts", "AccountPage", 100).await;
    assert!(accounts.is_empty(), "nothing written: {accounts:?}");
}

/// Offboarding by merge request: a person removed from `config/` is a removal in the plan
/// (--prune) and gone after the apply job; the plan job runs whatever the validate job did
/// (`needs: []`), and a configuration that does not validate gives the note its problems.
#[tokio::test(flavor = "multi_thread")]
async fn gitlab_pipeline_offboards_a_person_and_reports_an_invalid_push() {
    let sb = Sandbox::start();
    let token = sb.add_partner("Acme Partners", true);
    let gitlab = GitLab::load();
    let vars = [
        ("PARTNERCTL_ENDPOINT", sb.url.as_str()),
        ("PARTNERCTL_TOKEN", token.as_str()),
        ("PARTNERCTL_PLAN_KEY", PLAN_KEY),
    ];
    let onboard = checkout();
    gitlab.run("plan", onboard.path(), &vars).success();
    let job = job_checkout(onboard.path(), &gitlab.artifacts("plan"));
    gitlab.run("apply", job.path(), &vars).success();

    let mr = checkout();
    let file = mr.path().join("config/customers/contoso.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    let without = text.replace(
        "      - { email: finance@contoso.example, name: Contoso Finance }\n",
        "",
    );
    std::fs::write(&file, &without).unwrap();
    gitlab.run("plan", mr.path(), &vars).success();
    let body = std::fs::read_to_string(mr.path().join("plan.md")).unwrap();
    assert!(body.contains("finance@contoso.example"), "{body}");
    let job = job_checkout(mr.path(), &gitlab.artifacts("plan"));
    gitlab
        .run("apply", job.path(), &vars)
        .success()
        .stdout_contains("1 done, 0 failed, 0 skipped");
    gitlab
        .run("drift", mr.path(), &vars)
        .success()
        .stdout_contains("No changes");

    assert_eq!(gitlab.job("plan")["needs"], Value::Sequence(vec![]));
    std::fs::write(&file, without.replace("country: FR", "country: XX")).unwrap();
    std::fs::remove_file(mr.path().join("plan.json")).unwrap();
    gitlab.run("validate", mr.path(), &vars).code(1);
    gitlab.run("plan", mr.path(), &vars).code(1);
    let body = std::fs::read_to_string(mr.path().join("plan.md")).unwrap();
    assert!(
        body.starts_with("### partnerctl validate failed (exit 1)"),
        "{body}"
    );
    assert!(body.contains("contoso.yaml:8:"), "{body}");
    assert!(!mr.path().join("plan.json").exists(), "no plan kept");
}

/// The policies' tests run first in `validate` and `plan`: a failing one fails both jobs, and
/// the note says which test failed; nothing is planned.
#[test]
fn gitlab_jobs_run_the_policy_tests_first() {
    let sb = Sandbox::start();
    let token = sb.add_partner("Acme Partners", true);
    let gitlab = GitLab::load();
    let vars = [
        ("PARTNERCTL_ENDPOINT", sb.url.as_str()),
        ("PARTNERCTL_TOKEN", token.as_str()),
        ("PARTNERCTL_PLAN_KEY", PLAN_KEY),
    ];
    let mr = checkout();
    let policy = mr.path().join("policies/customer_admins.rego");
    let text = std::fs::read_to_string(&policy).unwrap();
    std::fs::write(&policy, text.replace("user.role == \"admin\"", "true")).unwrap();
    let failing =
        "FAIL  policies/customer_admins_test.rego:21: test_a_customer_with_members_only_is_denied";
    gitlab
        .run("validate", mr.path(), &vars)
        .code(1)
        .stdout_contains(failing);
    gitlab.run("plan", mr.path(), &vars).code(1);
    let body = std::fs::read_to_string(mr.path().join("plan.md")).unwrap();
    assert!(
        body.starts_with("### partnerctl policy test failed (exit 1)"),
        "{body}"
    );
    assert!(body.contains(failing), "{body}");
    assert!(!mr.path().join("plan.json").exists(), "nothing planned");
}
