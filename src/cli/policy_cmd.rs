//! Edge: policies as code on the command line. `--policy PATH` (and `--policy-timeout`) of
//! `validate`, `plan` and `apply`: reading the policies before anything is read from the API,
//! evaluating them over the configuration and the plan, and saying what they decided; the
//! policies a saved plan was evaluated with, read again for `apply --plan`; and `partnerctl
//! policy test`. May touch: the policy files named, stdout, stderr.

use std::path::PathBuf;
use std::time::Duration;

use clap::ValueEnum;

use super::{EXIT_ERROR, EXIT_OK, GlobalArgs};
use crate::config::Desired;
use crate::output::{self, print_stdout};
use crate::plan::{self, SavedPlan};
use crate::policy::{self, Outcome, Policies, Selection, TestOutcome};
use crate::provider::Target;
use crate::render::Verdict;
use crate::render::doc::PlanDocument;

/// The policy options of `validate`, `plan` and `apply`.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Policy options")]
pub struct PolicyArgs {
    /// A Rego policy file, or a directory of them (every *.rego below it but the tests,
    /// *_test.rego); repeatable. The rules `deny` and `warn` of package `partnerctl` (or a
    /// package under it) judge the configuration and the plan: a denial refuses the plan.
    /// PARTNERCTL_POLICY takes several paths separated by `:`.
    #[arg(
        long = "policy",
        value_name = "PATH",
        env = "PARTNERCTL_POLICY",
        value_delimiter = ':'
    )]
    pub policies: Vec<PathBuf>,
    /// The longest time the policies may take over one plan, in seconds; an evaluation that
    /// takes longer is stopped, and the plan refused.
    #[arg(long = "policy-timeout", value_name = "SECONDS", env = "PARTNERCTL_POLICY_TIMEOUT", default_value = "5", value_parser = super::global::parse_seconds)]
    pub policy_timeout: Duration,
}

/// `partnerctl policy ...`.
#[derive(Debug, clap::Subcommand)]
pub enum PolicyCommand {
    /// Run the policies' tests: every `test_` rule of the Rego files given (tests included,
    /// *_test.rego), as `opa test` runs them.
    #[command(
        after_help = "Examples:\n  partnerctl policy test examples/policies\n  partnerctl policy test policies/ --timeout 10\n\nA test passes when its rule is defined and not false; it fails when it is undefined or\nfalse, and errs when its evaluation fails or takes longer than --timeout. Tests usually sit\nbeside their policy, in *_test.rego files of a package of their own (package\npartnerctl.admins_test), and give the input with `with input as {...}`.\nExit codes: 0 every test passed, 1 a test failed or erred, or none was found."
    )]
    Test {
        /// Rego files, or directories of them (every *.rego below, tests included).
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
        /// The longest time one test may take, in seconds.
        #[arg(long, value_name = "SECONDS", default_value = "5", value_parser = super::global::parse_seconds)]
        timeout: Duration,
    },
}

/// The policies of a run, ready to judge, with their time budget, the provider the input
/// names, and the configuration's part of the input once converted.
pub(super) struct Judge {
    policies: Option<Policies>,
    budget: Duration,
    provider: String,
    configuration: Option<policy::Input>,
}

/// The name of the provider `--provider` chose, as the input document gives it.
fn provider_name(global: &GlobalArgs) -> String {
    global
        .provider
        .to_possible_value()
        .map_or_else(|| "http".to_string(), |v| v.get_name().to_string())
}

/// Prints every problem of the policies, and what it means: nothing was read or written.
fn report_problems(errors: &policy::PolicyErrors) {
    output::diagnostics(&errors.0);
    let n = errors.0.len();
    output::note(&format!(
        "{n} problem{} found in the policies; nothing was read from or written to the API",
        if n == 1 { "" } else { "s" }
    ));
}

/// The parsed policies of `files`, or `None` after printing every problem.
fn parse(files: Vec<policy::PolicyFile>) -> Option<Policies> {
    match Policies::new(files) {
        Ok(p) => Some(p),
        Err(errors) => {
            report_problems(&errors);
            None
        }
    }
}

impl Judge {
    /// The policies `args` names, read and parsed (nothing to judge without `--policy`);
    /// `None` after printing every problem.
    pub(super) fn load(global: &GlobalArgs, args: &PolicyArgs) -> Option<Judge> {
        let policies = if args.policies.is_empty() {
            None
        } else {
            match Policies::load(&args.policies) {
                Ok(policies) => Some(policies),
                Err(errors) => {
                    report_problems(&errors);
                    return None;
                }
            }
        };
        Some(Judge {
            policies,
            budget: args.policy_timeout,
            provider: provider_name(global),
            configuration: None,
        })
    }

    /// The policies a saved plan was evaluated with, read again: from the paths it recorded,
    /// or from `args` when `--policy` is given. An error, before anything is read from the
    /// API, when one of them cannot be read, or is not as it was when the plan was made (its
    /// content changed, it is missing, or one is new).
    pub(super) fn for_saved(
        global: &GlobalArgs,
        args: &PolicyArgs,
        saved: &SavedPlan,
        file: &std::path::Path,
    ) -> anyhow::Result<Judge> {
        let paths: Vec<PathBuf> = if args.policies.is_empty() {
            saved
                .policies
                .iter()
                .map(|d| PathBuf::from(&d.path))
                .collect()
        } else {
            args.policies.clone()
        };
        let files = if paths.is_empty() {
            Vec::new()
        } else {
            policy::find(&paths, Selection::Policies).map_err(|errors| {
                output::diagnostics(&errors.0);
                anyhow::anyhow!(
                    "{}: the policies the plan was evaluated with cannot all be read; nothing was changed. Run `partnerctl plan -o` again with the policies of now and review that plan",
                    file.display()
                )
            })?
        };
        let now: Vec<policy::Digest> = files.iter().map(policy::PolicyFile::digest).collect();
        if let Err(drifts) = saved.check_policies(&now) {
            for d in &drifts {
                output::error(&format!("{}: {d}", file.display()));
            }
            anyhow::bail!(
                "the policies are not those the plan was evaluated with; nothing was changed. Run `partnerctl plan -o` again with the policies of now, and review that plan"
            );
        }
        let policies =
            if files.is_empty() {
                None
            } else {
                Some(parse(files).ok_or_else(|| {
                    anyhow::anyhow!("the policies do not parse; nothing was changed")
                })?)
            };
        Ok(Judge {
            policies,
            budget: args.policy_timeout,
            provider: provider_name(global),
            configuration: None,
        })
    }

    /// Runs `read` (reading the live state and planning) while the configuration's part of
    /// the policies' input is converted on another thread: the largest part of the input is
    /// ready when the plan is, instead of after it.
    pub(super) fn while_reading<R>(&mut self, desired: &Desired, read: impl FnOnce() -> R) -> R {
        let Some(policies) = &self.policies else {
            return read();
        };
        let (result, configuration) = std::thread::scope(|s| {
            let converting = s.spawn(|| policy::Input::configuration(desired, policies.reach()));
            let result = read();
            (result, converting.join().ok())
        });
        self.configuration = configuration;
        result
    }

    /// Evaluates the policies over `desired` and `plan` (made against `target`, refused for
    /// `refusals`): `Ok(None)` without policies; `Err(())` after printing why they could not
    /// be evaluated (the plan is then refused). What the policies printed goes to stderr.
    pub(super) fn plan(
        &mut self,
        desired: &Desired,
        plan: &plan::Plan,
        target: &Target,
        refusals: Option<&plan::Refusals>,
    ) -> Result<Option<Outcome>, ()> {
        let Some(policies) = &self.policies else {
            return Ok(None);
        };
        // The operations, most of a large plan, converted apart on every core, each made into
        // its document as it is converted.
        let doc = PlanDocument::without_operations(plan, target, Verdict::refusals(refusals));
        let operations = PlanDocument::operations_of(plan);
        let reach = policies.reach();
        let input = self
            .configuration
            .take()
            .unwrap_or_else(|| policy::Input::configuration(desired, reach))
            .with_plan_and_operations(&doc, &operations, &plan.partner, &self.provider, reach);
        // Freed at exit at once, as the configuration and the plan are (it is as large as
        // both together).
        let input = std::mem::ManuallyDrop::new(input);
        self.outcome(policies.evaluate(&input, self.budget))
    }

    /// Evaluates the policies over the configuration alone (`validate`), as [`Judge::plan`].
    pub(super) fn configuration(&self, desired: &Desired) -> Result<Option<Outcome>, ()> {
        let Some(policies) = &self.policies else {
            return Ok(None);
        };
        let reach = policies.reach();
        let input =
            policy::Input::configuration(desired, reach).without_plan(&self.provider, reach);
        let input = std::mem::ManuallyDrop::new(input);
        self.outcome(policies.evaluate(&input, self.budget))
    }

    fn outcome(
        &self,
        evaluated: Result<Outcome, policy::PolicyErrors>,
    ) -> Result<Option<Outcome>, ()> {
        match evaluated {
            Ok(outcome) => {
                for line in &outcome.prints {
                    output::note(&format!("policy print: {line}"));
                }
                Ok(Some(outcome))
            }
            Err(errors) => {
                output::diagnostics(&errors.0);
                output::error(
                    "the policies could not be evaluated, so the plan is refused; nothing was changed",
                );
                Err(())
            }
        }
    }
}

/// The closing line of a plan the policies deny (the denials themselves are in the rendered
/// plan).
pub(super) fn report_denials(outcome: &Outcome) {
    let n = outcome.denials.len();
    output::error(&format!(
        "the policies deny the plan ({n} denial{}); see above. Nothing was changed.",
        if n == 1 { "" } else { "s" }
    ));
}

/// `validate --policy`: the policies' denials and warnings on stderr, for a configuration
/// that is valid otherwise. `true` when a policy denies it.
pub(super) fn report_on_configuration(outcome: &Outcome) -> bool {
    let line = |title: &str, f: &policy::Finding| {
        let at = f
            .address
            .as_deref()
            .map(|a| format!(" — {a}"))
            .unwrap_or_default();
        format!("{title} ({}): {}{at}", f.policy, f.message)
    };
    for f in &outcome.denials {
        output::problems(&line("Policy denial", f));
    }
    for f in &outcome.warnings {
        output::note(&line("Policy warning", f));
    }
    outcome.denied()
}

/// `partnerctl policy test PATH...`: every test, one line each, then a count; exit 1 when
/// any failed or erred, or when there is none.
pub(super) fn run(command: PolicyCommand) -> anyhow::Result<u8> {
    let PolicyCommand::Test { paths, timeout } = command;
    let files = match policy::find(&paths, Selection::WithTests) {
        Ok(files) => files,
        Err(errors) => {
            output::diagnostics(&errors.0);
            return Ok(EXIT_ERROR);
        }
    };
    let results = match policy::run_tests(&files, timeout) {
        Ok(r) => r,
        Err(errors) => {
            output::diagnostics(&errors.0);
            return Ok(EXIT_ERROR);
        }
    };
    if results.is_empty() {
        output::error(&format!(
            "no test found in {} policy file{}: a test is a rule whose name starts with `test_`",
            files.len(),
            if files.len() == 1 { "" } else { "s" }
        ));
        return Ok(EXIT_ERROR);
    }
    let mut out = String::new();
    let (mut passed, mut failed, mut errors) = (0, 0, 0);
    for r in &results {
        let at = format!("{}:{}: {}", r.file, r.line, r.name);
        let line = match &r.outcome {
            TestOutcome::Passed => {
                passed += 1;
                format!("PASS  {at}")
            }
            TestOutcome::Failed => {
                failed += 1;
                format!("FAIL  {at}")
            }
            TestOutcome::Error(message) => {
                errors += 1;
                format!("ERROR {at}: {message}")
            }
        };
        out.push_str(&crate::vocab::rules::escape_hidden_keep_lines(&line));
        out.push('\n');
        if r.outcome != TestOutcome::Passed {
            for p in &r.prints {
                out.push_str(&format!(
                    "        {}\n",
                    crate::vocab::rules::escape_hidden_keep_lines(p)
                ));
            }
        }
    }
    out.push_str(&format!(
        "\n{} test{}: {passed} passed, {failed} failed, {errors} erred\n",
        results.len(),
        if results.len() == 1 { "" } else { "s" },
    ));
    print_stdout(&out)?;
    Ok(if failed + errors == 0 {
        EXIT_OK
    } else {
        EXIT_ERROR
    })
}
