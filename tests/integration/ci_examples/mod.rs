//! The CI examples of `examples/ci/` run for real: every shell step of the GitHub Actions
//! workflows (`run:`) and the `script:` of the GitLab jobs, in order, as CI would run them
//! (`bash -eo pipefail`, `CI=true`, the secrets in the environment), against a real sandbox.
//! Only the installation of partnerctl is skipped: the binary under test is first on `PATH`.
//! Steps that use an action (`uses:`) are checked for what they are given, and their effect is
//! played by the test (an artifact download is a copy of the uploaded paths).
//!
//! - [`runner`]: the runners' part (the example files, their shell steps, expressions).
//! - [`fake_gitlab`]: a stand-in for GitLab's notes API.
//! - [`github`], [`gitlab`]: the workflows and the pipeline, end to end.

mod fake_gitlab;
mod github;
mod gitlab;
mod runner;

use std::path::Path;

use serde_json::{Value as Json, json};

use crate::support::{Api, Sandbox, acme};
use runner::{GitLab, Runner, Workflow};

/// GitHub's limit of one pull-request comment, in characters.
pub(super) const COMMENT_LIMIT: usize = 65_536;

/// The `PARTNERCTL_PLAN_KEY` secret of the tests.
pub(super) const PLAN_KEY: &str =
    "9b3e1d7c5a4f2e8d6c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a0f9e8d";

/// `plan.json` in `dir` with its options edited to `--force` and its digest recomputed as
/// partnerctl computes it: what someone without the key can do to an artifact.
pub(super) fn force_the_saved_plan(dir: &Path) {
    let file = dir.join("plan.json");
    let text = std::fs::read_to_string(&file).unwrap();
    let mut saved: partnerctl::plan::SavedPlan = serde_json::from_str(&text).unwrap();
    assert!(saved.signature.is_some(), "signed");
    saved.options.force = true;
    saved.digest = saved.content_digest();
    std::fs::write(&file, saved.to_json()).unwrap();
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A workspace as after a checkout of a repository whose `config/` is the acme example and
/// whose `policies/` are the example policies with their tests.
pub(super) fn checkout() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(Path::new(&acme()), &dir.path().join("config"));
    copy_dir(
        &crate::support::cli::root().join("examples/policies"),
        &dir.path().join("policies"),
    );
    dir
}

/// A fresh workspace holding `paths` of `from` (an artifact, downloaded; a path ending in `/`
/// is a directory).
pub(super) fn download(from: &Path, paths: &[String]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for p in paths {
        if let Some(sub) = p.strip_suffix('/') {
            copy_dir(&from.join(sub), &dir.path().join(sub));
        } else {
            std::fs::copy(from.join(p), dir.path().join(p)).unwrap_or_else(|e| panic!("{p}: {e}"));
        }
    }
    dir
}

/// A GitLab job's workspace: a checkout of the merge request `mr`'s commit (its `config/` and
/// `policies/`) with `artifacts` of an earlier job downloaded into it (`needs:`).
pub(super) fn job_checkout(mr: &Path, artifacts: &[String]) -> tempfile::TempDir {
    let dir = download(mr, artifacts);
    for sub in ["config", "policies"] {
        copy_dir(&mr.join(sub), &dir.path().join(sub));
    }
    dir
}

/// The customer `contoso`'s live id.
async fn contoso_id(api: &Api) -> String {
    let accounts = api.list_all("/v1/accounts", "AccountPage", 100).await;
    let contoso = accounts
        .iter()
        .find(|a| a["external_key"] == "contoso")
        .expect("customer contoso");
    contoso["id"].as_str().unwrap().to_string()
}

/// Someone invites an admin on customer `contoso` by hand, through the API.
pub(super) async fn invite_an_admin_by_hand(sb: &Sandbox, token: &str) {
    let api = Api::new(&sb.url, token);
    let id = contoso_id(&api).await;
    let body = json!({"email": "intruder@evil.example", "name": "Intruder", "role": "admin"});
    api.post(&format!("/v1/accounts/{id}/users"), body)
        .await
        .status_ok(201, "User");
}

pub(super) fn read_json(path: &Path) -> Json {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// Both CIs, with none of the partner's secrets set.
#[test]
fn without_secrets_every_workflow_and_job_fails_loudly() {
    const REFUSAL: &str = "no endpoint configured and CI is set";
    // The plans name the first secret they miss: the key that would sign them.
    const NO_KEY: &str = "PARTNERCTL_PLAN_KEY is set but empty (in CI: a secret that is not set)";
    // GitHub: secrets that are not set are empty strings.
    let plan = Workflow::load("partnerctl-plan.yml");
    let pr = checkout();
    let mut runner = Runner::new(pr.path(), &[]);
    let runs = runner.run(&plan.run_steps);
    assert_eq!(runs.len(), plan.run_steps.len(), "the comment is made");
    let (name, run) = runs.last().unwrap();
    assert_eq!(run.code, 1, "{name} fails the job");
    run.stdout_contains(
        "::error title=partnerctl plan::partnerctl validate or plan failed (exit 1)",
    );
    let body = std::fs::read_to_string(pr.path().join("plan.md")).unwrap();
    assert!(
        body.starts_with("### partnerctl plan failed (exit 1)"),
        "{body}"
    );
    assert!(body.contains(NO_KEY), "{body}");
    assert!(!pr.path().join("plan.json").exists(), "no plan saved");
    assert!(!pr.path().join(".partnerctl").exists(), "no local sandbox");
    // With the key alone: the endpoint.
    let key = [("PARTNERCTL_PLAN_KEY", PLAN_KEY)];
    Runner::new(pr.path(), &key).run(&plan.run_steps);
    let body = std::fs::read_to_string(pr.path().join("plan.md")).unwrap();
    assert!(body.contains(REFUSAL), "{body}");

    let drift = Workflow::load("partnerctl-drift.yml");
    let runs = Runner::new(pr.path(), &[]).run(&drift.run_steps);
    let (_, run) = runs.last().unwrap();
    assert_eq!(run.code, 1);
    run.stderr_contains(REFUSAL);

    // GitLab: variables that are not set are absent.
    let gitlab = GitLab::load();
    let run = gitlab.run("plan", pr.path(), &[]);
    assert_eq!(run.code, 1);
    let body = std::fs::read_to_string(pr.path().join("plan.md")).unwrap();
    assert!(body.contains(NO_KEY), "{body}");
    assert!(!pr.path().join("plan.json").exists(), "no plan saved");
    assert_eq!(gitlab.run("plan", pr.path(), &key).code, 1);
    let body = std::fs::read_to_string(pr.path().join("plan.md")).unwrap();
    assert!(body.contains(REFUSAL), "{body}");
    let run = gitlab.run("drift", pr.path(), &[]);
    assert_eq!(run.code, 1);
    run.stderr_contains(REFUSAL);
    assert!(!pr.path().join(".partnerctl").exists(), "no local sandbox");
}
