//! The CI examples of `examples/ci/` run for real: every shell step of the GitHub Actions
//! workflows (`run:`) and the `script:` of the GitLab jobs, in order, as CI would run them
//! (`bash -eo pipefail`, `CI=true`, the secrets in the environment), against a real sandbox.
//! Only the installation of partnerctl is skipped: the binary under test is first on `PATH`.
//! Steps that use an action (`uses:`) are checked for what they are given, and their effect is
//! played by the test (an artifact download is a copy of the uploaded paths).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use serde_json::{Value as Json, json};
use serde_yaml::Value;

use crate::support::cli::{Run, program, root};
use crate::support::{Api, Sandbox, acme};

/// GitHub's limit of one pull-request comment, in characters.
const COMMENT_LIMIT: usize = 65_536;

fn load(relative: &str) -> Value {
    let text = std::fs::read_to_string(root().join(relative)).expect(relative);
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{relative}: {e}"))
}

/// `value` as a string (scalars as YAML writes them).
fn scalar(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        other => panic!("not a scalar: {other:?}"),
    }
}

fn string_map(value: Option<&Value>) -> Vec<(String, String)> {
    value
        .and_then(Value::as_mapping)
        .map(|m| m.iter().map(|(k, v)| (scalar(k), scalar(v))).collect())
        .unwrap_or_default()
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

/// A workspace as after a checkout of a repository whose `config/` is the acme example.
fn checkout() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(Path::new(&acme()), &dir.path().join("config"));
    dir
}

/// A fresh workspace holding `paths` of `from` (an artifact, downloaded).
fn download(from: &Path, paths: &[String]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for p in paths {
        std::fs::copy(from.join(p), dir.path().join(p)).unwrap_or_else(|e| panic!("{p}: {e}"));
    }
    dir
}

/// `PATH` with the directory of the binary under test first (what the install step provides).
fn path_with_partnerctl() -> String {
    let bin = Path::new(env!("CARGO_BIN_EXE_partnerctl"))
        .parent()
        .unwrap();
    match std::env::var("PATH") {
        Ok(path) => format!("{}:{path}", bin.display()),
        Err(_) => bin.display().to_string(),
    }
}

/// One shell step as CI runs it: `bash -eo pipefail -c SCRIPT` in `dir`, with `CI=true`, the
/// binary under test on `PATH`, and `env` (nothing else of the test's environment).
fn bash(dir: &Path, script: &str, env: &[(String, String)]) -> Run {
    let mut cmd = program("bash")
        .args(["--noprofile", "--norc", "-eo", "pipefail", "-c", script])
        .current_dir(dir)
        .env("PATH", path_with_partnerctl())
        .env("CI", "true");
    for (k, v) in env {
        cmd = cmd.env(k, v);
    }
    cmd.run()
}

/// Asserts that every step succeeded, showing the first that did not.
#[track_caller]
fn assert_all_succeeded(runs: &[(String, Run)]) {
    for (name, run) in runs {
        assert_eq!(
            run.code, 0,
            "step {name:?} failed\n--- stdout\n{}\n--- stderr\n{}",
            run.stdout, run.stderr
        );
    }
}

// ---------------------------------------------------------------------------------------------
// GitHub Actions

/// A workflow of `examples/ci/github/`.
struct Workflow {
    doc: Value,
    /// The `run:` steps of every job in order, without the installation.
    run_steps: Vec<Step>,
}

struct Step {
    name: String,
    id: Option<String>,
    run: String,
    /// Workflow, job and step `env:`, in that order (later wins), unresolved.
    env: Vec<(String, String)>,
}

impl Workflow {
    fn load(file: &str) -> Workflow {
        let doc = load(&format!("examples/ci/github/{file}"));
        let mut run_steps = Vec::new();
        let mut installs = 0;
        let jobs = doc["jobs"].as_mapping().expect("jobs");
        for (job_name, job) in jobs {
            for step in job["steps"].as_sequence().expect("steps") {
                let Some(run) = step.get("run").map(scalar) else {
                    continue;
                };
                let id = step.get("id").map(scalar);
                let name = step.get("name").map_or_else(|| run.clone(), scalar);
                if id.as_deref() == Some("install") {
                    installs += 1;
                    assert!(run.contains("partnerctl"), "{file}: {run}");
                    continue;
                }
                assert!(
                    !run.contains("${{"),
                    "{file}: step {name:?} has an expression in its shell text (pass it through env:)"
                );
                assert!(
                    step.get("if").is_none(),
                    "{file}: step {name:?}: a condition on a run step is not played by this test"
                );
                let mut env = string_map(doc.get("env"));
                env.extend(string_map(job.get("env")));
                env.extend(string_map(step.get("env")));
                run_steps.push(Step {
                    name: format!("{}/{name}", scalar(job_name)),
                    id,
                    run,
                    env,
                });
            }
        }
        assert_eq!(installs, 1, "{file}: one step with `id: install`");
        assert!(!run_steps.is_empty(), "{file}: no run steps");
        Workflow { doc, run_steps }
    }

    /// The single step that uses `action` (`owner/name`, any version).
    fn uses(&self, action: &str) -> &Value {
        let prefix = format!("{action}@");
        let found: Vec<&Value> = self.doc["jobs"]
            .as_mapping()
            .unwrap()
            .values()
            .flat_map(|job| job["steps"].as_sequence().unwrap())
            .filter(|s| {
                s.get("uses")
                    .is_some_and(|u| scalar(u).starts_with(&prefix))
            })
            .collect();
        assert_eq!(found.len(), 1, "one step uses {action}");
        found[0]
    }

    /// The `path:` of the step uploading the artifact `name`, one path a line.
    fn artifact_paths(&self, name: &str) -> Vec<String> {
        let upload = self.uses("actions/upload-artifact");
        assert_eq!(scalar(&upload["with"]["name"]), name);
        scalar(&upload["with"]["path"])
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect()
    }
}

/// Plays a GitHub runner's part for `run:` steps: a workspace, the secrets, step outputs
/// (`$GITHUB_OUTPUT`, read back for `${{ steps.ID.outputs.KEY }}`) and the job summary.
struct Runner {
    workspace: PathBuf,
    files: tempfile::TempDir,
    secrets: BTreeMap<String, String>,
    outputs: BTreeMap<String, BTreeMap<String, String>>,
    /// Everything the steps appended to `$GITHUB_STEP_SUMMARY`.
    summary: String,
}

impl Runner {
    fn new(workspace: &Path, secrets: &[(&str, &str)]) -> Runner {
        Runner {
            workspace: workspace.to_path_buf(),
            files: tempfile::tempdir().unwrap(),
            secrets: secrets
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            outputs: BTreeMap::new(),
            summary: String::new(),
        }
    }

    /// The secrets of a sandbox partner.
    fn for_sandbox(workspace: &Path, sb: &Sandbox, token: &str) -> Runner {
        Runner::new(
            workspace,
            &[
                ("PARTNERCTL_ENDPOINT", &sb.url),
                ("PARTNERCTL_TOKEN", token),
            ],
        )
    }

    /// Runs the steps in order until one fails; what each printed, by name.
    fn run(&mut self, steps: &[Step]) -> Vec<(String, Run)> {
        let mut runs = Vec::new();
        for (i, step) in steps.iter().enumerate() {
            let output = self.files.path().join(format!("output-{i}"));
            let summary = self.files.path().join(format!("summary-{i}"));
            std::fs::write(&output, "").unwrap();
            std::fs::write(&summary, "").unwrap();
            let mut env: Vec<(String, String)> = [
                ("GITHUB_ACTIONS", "true".to_string()),
                ("GITHUB_OUTPUT", output.display().to_string()),
                ("GITHUB_STEP_SUMMARY", summary.display().to_string()),
                ("GITHUB_SERVER_URL", "https://github.com".to_string()),
                ("GITHUB_REPOSITORY", "example/partner-config".to_string()),
                ("GITHUB_RUN_ID", "1234".to_string()),
                ("GITHUB_WORKSPACE", self.workspace.display().to_string()),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
            env.extend(step.env.iter().map(|(k, v)| (k.clone(), self.resolve(v))));
            let run = bash(&self.workspace, &step.run, &env);
            if let Some(id) = &step.id {
                let text = std::fs::read_to_string(&output).unwrap();
                self.outputs.insert(id.clone(), parse_outputs(&text));
            }
            self.summary
                .push_str(&std::fs::read_to_string(&summary).unwrap());
            let failed = run.code != 0;
            runs.push((step.name.clone(), run));
            if failed {
                break;
            }
        }
        runs
    }

    /// An `env:` value with its `${{ }}` expressions evaluated.
    fn resolve(&self, value: &str) -> String {
        let mut out = String::new();
        let mut rest = value;
        while let Some(start) = rest.find("${{") {
            out.push_str(&rest[..start]);
            let end = start + rest[start..].find("}}").expect("closing }}");
            out.push_str(&self.eval(rest[start + 3..end].trim()));
            rest = &rest[end + 2..];
        }
        out.push_str(rest);
        out
    }

    fn eval(&self, expr: &str) -> String {
        if let Some(name) = expr.strip_prefix("secrets.") {
            // GitHub: a secret that is not set is the empty string.
            return self.secrets.get(name).cloned().unwrap_or_default();
        }
        if let Some(path) = expr.strip_prefix("steps.") {
            let (id, key) = path.split_once(".outputs.").expect("steps.ID.outputs.KEY");
            return self
                .outputs
                .get(id)
                .and_then(|o| o.get(key))
                .cloned()
                .unwrap_or_default();
        }
        panic!("an expression this test does not evaluate in a run step's env: {expr}")
    }
}

/// `$GITHUB_OUTPUT`: `key=value` lines and `key<<DELIMITER` blocks.
fn parse_outputs(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if let Some((key, delimiter)) = line.split_once("<<") {
            let value: Vec<&str> = lines.by_ref().take_while(|l| *l != delimiter).collect();
            out.insert(key.to_string(), value.join("\n"));
        } else if let Some((key, value)) = line.split_once('=') {
            out.insert(key.to_string(), value.to_string());
        }
    }
    out
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
async fn invite_an_admin_by_hand(sb: &Sandbox, token: &str) {
    let api = Api::new(&sb.url, token);
    let id = contoso_id(&api).await;
    let body = json!({"email": "intruder@evil.example", "name": "Intruder", "role": "admin"});
    api.post(&format!("/v1/accounts/{id}/users"), body)
        .await
        .status_ok(201, "User");
}

fn read_json(path: &Path) -> Json {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn github_workflows_plan_a_pull_request_apply_it_when_merged_and_detect_drift() {
    let sb = Sandbox::start();
    let token = sb.add_partner("Acme Partners", true);
    let plan = Workflow::load("partnerctl-plan.yml");
    let apply = Workflow::load("partnerctl-apply.yml");
    let drift = Workflow::load("partnerctl-drift.yml");

    // The pull request: validate, plan, the comment body and the saved plan.
    let pr = checkout();
    let mut runner = Runner::for_sandbox(pr.path(), &sb, &token);
    let runs = runner.run(&plan.run_steps);
    assert_all_succeeded(&runs);
    assert_eq!(runs.len(), plan.run_steps.len());
    assert_eq!(runner.outputs["plan"]["exitcode"], "2", "changes to make");
    let sticky = plan.uses("marocchino/sticky-pull-request-comment");
    assert!(!scalar(&sticky["with"]["header"]).is_empty(), "one comment");
    let body_file = scalar(&sticky["with"]["path"]);
    let body = std::fs::read_to_string(pr.path().join(&body_file)).unwrap();
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
        &std::fs::read_to_string(pr.path().join("plan.json")).unwrap(),
    )
    .expect("a valid saved plan");
    assert_eq!(saved.operations.len(), 24);

    // The merge: the apply workflow downloads exactly that artifact and applies it.
    let artifact = plan.artifact_paths("partnerctl-plan");
    assert!(artifact.contains(&"plan.json".to_string()), "{artifact:?}");
    assert!(artifact.contains(&body_file), "{artifact:?}");
    let fetch = apply.uses("dawidd6/action-download-artifact");
    assert_eq!(scalar(&fetch["with"]["workflow"]), "partnerctl-plan.yml");
    assert_eq!(scalar(&fetch["with"]["name"]), "partnerctl-plan");
    assert_eq!(
        scalar(&fetch["with"]["pr"]),
        "${{ github.event.pull_request.number }}"
    );
    assert!(scalar(&apply.doc["jobs"]["apply"]["if"]).contains("merged"));
    let merged = download(pr.path(), &artifact);
    let mut runner = Runner::for_sandbox(merged.path(), &sb, &token);
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

    // The nightly drift check: nothing to report.
    let main = checkout();
    let mut runner = Runner::for_sandbox(main.path(), &sb, &token);
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

    // An admin invited by hand is drift: the job fails with exit 2.
    invite_an_admin_by_hand(&sb, &token).await;
    let mut runner = Runner::for_sandbox(main.path(), &sb, &token);
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
    api.customer("contoso").await;
    let merged = download(pr.path(), &plan.artifact_paths("partnerctl-plan"));
    let runs = Runner::for_sandbox(merged.path(), &sb, &token).run(&apply.run_steps);
    let (_, run) = runs.last().unwrap();
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    run.stderr_contains("plan is stale");
    let accounts = api.list_all("/v1/accounts", "AccountPage", 100).await;
    assert_eq!(accounts.len(), 1, "nothing written: {accounts:?}");
}

#[test]
fn without_secrets_every_workflow_and_job_fails_loudly() {
    const REFUSAL: &str = "no endpoint configured and CI is set";
    // GitHub: secrets that are not set are empty strings.
    let plan = Workflow::load("partnerctl-plan.yml");
    let pr = checkout();
    let mut runner = Runner::new(pr.path(), &[]);
    let runs = runner.run(&plan.run_steps);
    assert_eq!(runs.len(), plan.run_steps.len(), "the comment is made");
    let (name, run) = runs.last().unwrap();
    assert_eq!(run.code, 1, "{name} fails the job");
    run.stdout_contains("::error title=partnerctl plan::partnerctl plan failed (exit 1)");
    let body = std::fs::read_to_string(pr.path().join("plan.md")).unwrap();
    assert!(
        body.starts_with("### partnerctl plan failed (exit 1)"),
        "{body}"
    );
    assert!(body.contains(REFUSAL), "{body}");
    assert!(!pr.path().join(".partnerctl").exists(), "no local sandbox");

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
    assert!(body.contains(REFUSAL), "{body}");
    let run = gitlab.run("drift", pr.path(), &[]);
    assert_eq!(run.code, 1);
    run.stderr_contains(REFUSAL);
    assert!(!pr.path().join(".partnerctl").exists(), "no local sandbox");
}

// ---------------------------------------------------------------------------------------------
// GitLab CI/CD

/// `examples/ci/gitlab-ci.yml`.
struct GitLab {
    doc: Value,
}

impl GitLab {
    fn load() -> GitLab {
        GitLab {
            doc: load("examples/ci/gitlab-ci.yml"),
        }
    }

    fn job(&self, name: &str) -> &Value {
        self.doc
            .get(name)
            .unwrap_or_else(|| panic!("no job {name}"))
    }

    /// The paths of a job's artifacts.
    fn artifacts(&self, job: &str) -> Vec<String> {
        self.job(job)["artifacts"]["paths"]
            .as_sequence()
            .expect("artifacts.paths")
            .iter()
            .map(scalar)
            .collect()
    }

    /// Runs the `script:` of `job` in `dir` as a runner would in a merge request pipeline
    /// (`drift`: a scheduled one): the lines in one `bash -eo pipefail`, with the global and
    /// the job's `variables:`, the predefined variables the scripts use, and `variables`.
    fn run(&self, job: &str, dir: &Path, variables: &[(&str, &str)]) -> Run {
        let script: Vec<String> = self.job(job)["script"]
            .as_sequence()
            .expect("script")
            .iter()
            .map(scalar)
            .collect();
        let source = if job == "drift" {
            "schedule"
        } else {
            "merge_request_event"
        };
        let mut env: Vec<(String, String)> = [
            ("GITLAB_CI", "true"),
            ("CI_PIPELINE_SOURCE", source),
            ("CI_PROJECT_ID", "42"),
            ("CI_MERGE_REQUEST_IID", "7"),
            ("CI_API_V4_URL", "http://127.0.0.1:9/api/v4"),
            (
                "CI_JOB_URL",
                "https://gitlab.example/group/config/-/jobs/99",
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        env.push(("CI_PROJECT_DIR".into(), dir.display().to_string()));
        env.extend(string_map(self.doc.get("variables")));
        env.extend(string_map(self.job(job).get("variables")));
        env.extend(
            variables
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string())),
        );
        bash(dir, &script.join("\n"), &env)
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn gitlab_pipeline_plans_notes_applies_and_detects_drift() {
    let sb = Sandbox::start();
    let token = sb.add_partner("Acme Partners", true);
    let gitlab = GitLab::load();
    let vars = [
        ("PARTNERCTL_ENDPOINT", sb.url.as_str()),
        ("PARTNERCTL_TOKEN", token.as_str()),
    ];

    // The merge request pipeline: validate and plan.
    let mr = checkout();
    gitlab.run("validate", mr.path(), &vars).success();
    let run = gitlab.run("plan", mr.path(), &vars).success();
    run.stderr_contains("Saved the plan to");
    let body = std::fs::read_to_string(mr.path().join("plan.md")).unwrap();
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

    // The note: skipped without a token; with one, made once and then edited in place.
    let run = gitlab.run("plan-note", mr.path(), &vars).success();
    run.stdout_contains("GITLAB_API_TOKEN is not set");
    let api = FakeGitLab::start("glpat-secret");
    let api_url = format!("{}/api/v4", api.url);
    let with_token = [
        vars[0],
        vars[1],
        ("GITLAB_API_TOKEN", "glpat-secret"),
        ("CI_API_V4_URL", api_url.as_str()),
    ];
    for _ in 0..2 {
        gitlab.run("plan-note", mr.path(), &with_token).success();
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

    // The manual apply job, with the plan job's artifacts (needs: plan).
    let needs = &gitlab.job("apply")["needs"];
    assert_eq!(scalar(&needs[0]["job"]), "plan");
    assert_eq!(needs[0]["artifacts"], Value::Bool(true));
    let job = download(mr.path(), &artifacts);
    let run = gitlab.run("apply", job.path(), &vars).success();
    run.stdout_contains("24 done, 0 failed, 0 skipped");
    let report = read_json(&job.path().join("apply-report.json"));
    assert_eq!(report["summary"]["done"], 24, "{report}");
    assert_eq!(gitlab.artifacts("apply"), ["apply-report.json"]);

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

/// A stand-in for GitLab's merge request notes API (project 42, merge request 7) on
/// `127.0.0.1:0`: lists, creates and edits notes, and records each request.
struct FakeGitLab {
    url: String,
    state: Arc<Mutex<NotesState>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

#[derive(Clone, Default)]
struct NotesState {
    /// `(id, body)`, oldest first.
    notes: Vec<(u64, String)>,
    /// `METHOD /path?query`.
    requests: Vec<String>,
}

impl FakeGitLab {
    fn start(token: &str) -> FakeGitLab {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(NotesState {
            // A note by someone else, already there.
            notes: vec![(1, "Looks good to me".to_string())],
            requests: Vec::new(),
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (state, stop, token) = (state.clone(), stop.clone(), token.to_string());
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    serve(stream.unwrap(), &state, &token);
                }
            })
        };
        FakeGitLab {
            url,
            state,
            stop,
            thread: Some(thread),
        }
    }

    /// The notes and the requests so far.
    fn snapshot(&self) -> NotesState {
        self.state.lock().unwrap().clone()
    }
}

impl Drop for FakeGitLab {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop, which then sees `stop`.
        let _ = TcpStream::connect(self.url.trim_start_matches("http://"));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// One request of one connection.
fn serve(stream: TcpStream, state: &Mutex<NotesState>, token: &str) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    let mut parts = line.split_whitespace();
    let (method, target) = (
        parts.next().unwrap_or("").to_string(),
        parts.next().unwrap_or("").to_string(),
    );
    let mut headers = BTreeMap::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).unwrap();
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let mut out = stream;
    if headers
        .get("expect")
        .is_some_and(|e| e.eq_ignore_ascii_case("100-continue"))
    {
        out.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").unwrap();
    }
    let length: usize = headers
        .get("content-length")
        .map_or(0, |l| l.parse().unwrap());
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();

    let mut state = state.lock().unwrap();
    state.requests.push(format!("{method} {target}"));
    let notes = "/api/v4/projects/42/merge_requests/7/notes";
    let path = target.split('?').next().unwrap_or("");
    let (status, reply) = if headers.get("private-token").map(String::as_str) != Some(token) {
        (401, json!({"message": "401 Unauthorized"}))
    } else if method == "GET" && path == notes {
        let mut list: Vec<Json> = state
            .notes
            .iter()
            .map(|(id, b)| json!({"id": id, "body": b, "system": false}))
            .collect();
        // A system note ("added 1 commit") that quotes the marker is never ours.
        list.push(
            json!({"id": 1000, "body": "<!-- partnerctl-plan --> added 1 commit", "system": true}),
        );
        (200, Json::Array(list))
    } else if method == "POST" && path == notes {
        let text = note_body(&body);
        let id = state.notes.iter().map(|n| n.0).max().unwrap_or(0) + 1;
        state.notes.push((id, text.clone()));
        (201, json!({"id": id, "body": text}))
    } else if let Some(id) = path
        .strip_prefix(&format!("{notes}/"))
        .and_then(|id| id.parse::<u64>().ok())
        .filter(|_| method == "PUT")
    {
        let text = note_body(&body);
        match state.notes.iter_mut().find(|n| n.0 == id) {
            Some(note) => {
                note.1 = text.clone();
                (200, json!({"id": id, "body": text}))
            }
            None => (404, json!({"message": "404 Not found"})),
        }
    } else {
        (404, json!({"message": "404 Not found"}))
    };
    drop(state);
    let reply = reply.to_string();
    let _ = write!(
        out,
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{reply}",
        reply.len()
    );
}

/// The `body` of a JSON request.
fn note_body(body: &[u8]) -> String {
    let v: Json = serde_json::from_slice(body).expect("a JSON body");
    v["body"].as_str().expect("body").to_string()
}
