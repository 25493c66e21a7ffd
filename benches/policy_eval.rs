//! Times the parts of a plan's policy evaluation, outside `plan`: the policies read and parsed
//! (and what they reach of the input found), the configuration's half of
//! the input converted, the plan's half converted (the plan's JSON document, from a plan saved
//! by `plan -o`), and the policies evaluated over that input, all together and each file
//! alone; medians of the process's CPU time (user + system) and of the wall time. For finding
//! where the policies' time goes on a large plan (`benches/policy_scale.sh` makes the
//! configuration and the sandbox to plan against).
//!
//! `cargo run --release --example policy-eval -- CONFIG_DIR SAVED_PLAN POLICY_DIR [RUNS]`

use std::path::PathBuf;
use std::time::{Duration, Instant};

use partnerctl::plan::SavedPlan;
use partnerctl::policy::{Input, Policies, Reach};
use partnerctl::provider::Target;
use partnerctl::render::Verdict;
use partnerctl::render::doc::PlanDocument;

/// As the binary: mimalloc.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The process's CPU time so far (user + system).
fn cpu() -> Duration {
    // SAFETY: getrusage writes the struct it is given.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let time = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    time(usage.ru_utime) + time(usage.ru_stime)
}

/// The medians of `runs` runs of `f`: `CPU ms (wall ms)`.
fn median(runs: usize, mut f: impl FnMut()) -> String {
    let (mut cpus, mut walls): (Vec<Duration>, Vec<Duration>) = (0..runs)
        .map(|_| {
            let (start, began) = (cpu(), Instant::now());
            f();
            (cpu() - start, began.elapsed())
        })
        .unzip();
    cpus.sort();
    walls.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    format!(
        "CPU {:.1} ms (wall {:.1} ms)",
        ms(cpus[runs / 2]),
        ms(walls[runs / 2])
    )
}

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [config, plan, policies, rest @ ..] = args.as_slice() else {
        eprintln!("usage: policy-eval CONFIG_DIR SAVED_PLAN POLICY_DIR [RUNS]");
        return std::process::ExitCode::FAILURE;
    };
    let runs: usize = rest.first().and_then(|r| r.parse().ok()).unwrap_or(5);
    let desired = match partnerctl::config::load(&[PathBuf::from(config)]) {
        Ok(d) => d,
        Err(problems) => {
            eprintln!("{problems}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let text = std::fs::read_to_string(plan).expect("the saved plan reads");
    let saved = SavedPlan::from_json(&text, None).expect("a saved plan");
    let plan = saved.plan();
    let target = Target {
        endpoint: saved.context.endpoint.clone(),
        embedded: saved.context.embedded,
    };
    println!("{} operations", plan.operations.len());
    let dir = PathBuf::from(policies);
    let ms = median(runs, || {
        Policies::load(std::slice::from_ref(&dir)).expect("the policies load");
    });
    println!("policies read, parsed and scanned: {ms}");
    let all = Policies::load(std::slice::from_ref(&dir)).expect("the policies load");
    // What the four policies reach of the input, as `plan` converts it (EVERYTHING=1: all).
    let everything = Reach::everything();
    let reach = if std::env::var_os("EVERYTHING").is_some() {
        &everything
    } else {
        all.reach()
    };
    let ms = median(runs, || {
        std::mem::forget(Input::configuration(&desired, reach));
    });
    println!("configuration converted: {ms}");
    let configuration = Input::configuration(&desired, reach);
    // As `plan` makes it: the operations converted apart, on every core.
    let make = |configuration: Input| {
        let doc = PlanDocument::without_operations(&plan, &target, Verdict::refusals(None));
        let operations = PlanDocument::operations_of(&plan);
        configuration.with_plan_and_operations(&doc, &operations, &plan.partner, "http", reach)
    };
    let ms = median(runs, || std::mem::forget(make(configuration.clone())));
    println!("plan document made and converted: {ms}");
    let input = make(configuration);
    if let Ok(dump) = std::env::var("POLICY_EVAL_DUMP") {
        std::fs::write(dump, input.to_json().to_string()).expect("the input is written");
    }

    let budget = Duration::from_secs(60);
    let ms = median(runs, || {
        all.evaluate(&input, budget).expect("evaluates");
    });
    let outcome = all.evaluate(&input, budget).expect("evaluates");
    println!(
        "all policies: {ms} ({} denials, {} warnings)",
        outcome.denials.len(),
        outcome.warnings.len()
    );
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("a directory")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension().is_some_and(|e| e == "rego")
                && !p.to_string_lossy().ends_with("_test.rego")
        })
        .collect();
    files.sort();
    for file in files {
        let one = Policies::load(std::slice::from_ref(&file)).expect("the policy loads");
        let ms = median(runs, || {
            one.evaluate(&input, budget).expect("evaluates");
        });
        println!("  {}: {ms}", file.display());
    }
    std::mem::forget(input);
    std::process::ExitCode::SUCCESS
}
