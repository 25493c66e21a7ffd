//! Plays the CI runners' part: loading the example files, running their shell steps as CI
//! would (`bash -eo pipefail`, `CI=true`, the binary under test first on `PATH`), and the
//! runner-provided pieces the steps rely on (GitHub: step outputs, `${{ }}` expressions in
//! `env:`, the job summary; GitLab: predefined and `variables:`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_yaml::Value;

use crate::support::Sandbox;
use crate::support::cli::{Run, program, root};

fn load(relative: &str) -> Value {
    let text = std::fs::read_to_string(root().join(relative)).expect(relative);
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{relative}: {e}"))
}

/// `value` as a string (scalars as YAML writes them).
pub(super) fn scalar(value: &Value) -> String {
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
pub(super) fn assert_all_succeeded(runs: &[(String, Run)]) {
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
pub(super) struct Workflow {
    pub(super) doc: Value,
    /// The `run:` steps of every job in order, without the installation.
    pub(super) run_steps: Vec<Step>,
}

pub(super) struct Step {
    name: String,
    id: Option<String>,
    run: String,
    /// Workflow, job and step `env:`, in that order (later wins), unresolved.
    env: Vec<(String, String)>,
}

impl Workflow {
    pub(super) fn load(file: &str) -> Workflow {
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
    pub(super) fn uses(&self, action: &str) -> &Value {
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
    pub(super) fn artifact_paths(&self, name: &str) -> Vec<String> {
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
pub(super) struct Runner {
    workspace: PathBuf,
    files: tempfile::TempDir,
    secrets: BTreeMap<String, String>,
    pub(super) outputs: BTreeMap<String, BTreeMap<String, String>>,
    /// Everything the steps appended to `$GITHUB_STEP_SUMMARY`.
    pub(super) summary: String,
}

impl Runner {
    pub(super) fn new(workspace: &Path, secrets: &[(&str, &str)]) -> Runner {
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

    /// The secrets of a sandbox partner, and the key that signs its plans.
    pub(super) fn for_sandbox(workspace: &Path, sb: &Sandbox, token: &str) -> Runner {
        Runner::new(
            workspace,
            &[
                ("PARTNERCTL_ENDPOINT", &sb.url),
                ("PARTNERCTL_TOKEN", token),
                ("PARTNERCTL_PLAN_KEY", super::PLAN_KEY),
            ],
        )
    }

    /// Runs the steps in order until one fails; what each printed, by name.
    pub(super) fn run(&mut self, steps: &[Step]) -> Vec<(String, Run)> {
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

// ---------------------------------------------------------------------------------------------
// GitLab CI/CD

/// `examples/ci/gitlab-ci.yml`.
pub(super) struct GitLab {
    doc: Value,
}

impl GitLab {
    pub(super) fn load() -> GitLab {
        GitLab {
            doc: load("examples/ci/gitlab-ci.yml"),
        }
    }

    pub(super) fn job(&self, name: &str) -> &Value {
        self.doc
            .get(name)
            .unwrap_or_else(|| panic!("no job {name}"))
    }

    /// The paths of a job's artifacts.
    pub(super) fn artifacts(&self, job: &str) -> Vec<String> {
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
    pub(super) fn run(&self, job: &str, dir: &Path, variables: &[(&str, &str)]) -> Run {
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
