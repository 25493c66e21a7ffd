//! Talking to an endpoint that misbehaves: bounded waits (`--timeout`, `--read-deadline`),
//! retries announced on stderr (text and `--log-format json`), and the hints for an endpoint
//! without a scheme and for a token the API does not accept.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use crate::support::cli::{Cmd, Run, partnerctl};
use crate::support::{Sandbox, acme};

/// A loopback server that accepts every connection and never answers: the sockets are held
/// open by a thread until the test binary exits. Its base URL.
fn silent_endpoint() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let url = format!("http://{}", listener.local_addr().expect("local address"));
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            match stream {
                Ok(s) => held.push(s),
                Err(_) => return,
            }
        }
    });
    url
}

/// `partnerctl ARGS` against `url` with some token.
fn against(url: &str, args: &[&str]) -> Cmd {
    partnerctl()
        .args(args)
        .env("PARTNERCTL_ENDPOINT", url)
        .env("PARTNERCTL_TOKEN", "some-token")
}

/// Runs it, with its wall time.
fn timed(cmd: Cmd) -> (Run, Duration) {
    let start = Instant::now();
    let run = cmd.run();
    (run, start.elapsed())
}

#[test]
fn a_silent_endpoint_fails_within_timeout_times_attempts_announcing_each_retry() {
    let url = silent_endpoint();
    let (run, took) = timed(against(&url, &["plan", &acme(), "--timeout", "1"]));
    let run = run.code(1);
    eprintln!("plan against a silent endpoint with --timeout 1: {took:?}");
    // The read deadline defaults to --timeout × 8 attempts: 8 s here (4 min 5 s before).
    assert!(took < Duration::from_secs(30), "took {took:?}");
    assert!(took >= Duration::from_secs(2), "took {took:?}");
    run.stderr_contains("WARN GET /v1/partner: no response within 1 s; retrying in ");
    run.stderr_contains("(attempt 2 of 8)");
    run.stderr_contains("error: the live state could not be read within 8 s (the last retry: GET /v1/partner: no response within 1 s)");
    run.stderr_contains("--read-deadline SECONDS");
    assert_eq!(run.stderr.matches("error:").count(), 1, "{}", run.stderr);
    let retries = run.stderr.lines().filter(|l| l.contains(" WARN ")).count();
    assert!(retries >= 2, "{}", run.stderr);
    // Each retry is one line, and only the partner is read until it answers.
    for line in run.stderr.lines().filter(|l| l.contains(" WARN ")) {
        assert!(
            line.contains("WARN GET /v1/partner: no response within 1 s; retrying in "),
            "{line}"
        );
    }
}

#[test]
fn retries_as_json_lines_and_the_deadline_as_a_json_error() {
    let url = silent_endpoint();
    let (run, took) = timed(
        against(
            &url,
            &[
                "plan",
                &acme(),
                "--log-format",
                "json",
                "--read-deadline",
                "2.5",
            ],
        )
        .env("PARTNERCTL_TIMEOUT", "1"),
    );
    let run = run.code(1);
    assert!(took < Duration::from_secs(20), "took {took:?}");
    let lines: Vec<serde_json::Value> = run
        .stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let retry = lines
        .iter()
        .find(|v| v["level"] == "WARN")
        .unwrap_or_else(|| panic!("no retry announced:\n{}", run.stderr));
    assert_eq!(retry["method"], "GET");
    assert_eq!(retry["path"], "/v1/partner");
    assert_eq!(retry["cause"], "timeout");
    assert_eq!(retry["attempt"], 2);
    assert_eq!(retry["attempts"], 8);
    assert!(retry["wait_s"].as_f64().is_some(), "{retry}");
    assert!(
        retry["message"]
            .as_str()
            .is_some_and(|m| m.contains("no response within 1 s; retrying in ")
                && m.contains("(attempt 2 of 8)")),
        "{retry}"
    );
    let last = lines.last().unwrap();
    assert_eq!(last["level"], "ERROR", "{last}");
    assert!(
        last["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("the live state could not be read within 2.5 s")),
        "{last}"
    );
}

#[test]
fn quiet_keeps_retries_silent_and_verbose_adds_their_fields() {
    let url = silent_endpoint();
    let args = ["export", "--timeout", "0.5", "--read-deadline", "1.2"];
    let run = against(&url, &args).arg("-q").run().code(1);
    assert_eq!(
        run.stderr.trim(),
        "error: the live state could not be read within 1.2 s (the last retry: GET /v1/partner: no response within 0.5 s); check that the endpoint answers, or allow longer: --timeout SECONDS for each request, --read-deadline SECONDS for the whole read"
    );
    let run = against(&url, &args).arg("-v").run().code(1);
    run.stderr_contains("WARN GET /v1/partner: no response within 0.5 s; retrying in ");
    run.stderr_contains("cause=\"timeout\"");
    run.stderr_contains("attempts=8");
    run.stderr_contains("operation timed out");
}

#[test]
fn bad_flag_values_are_usage_errors() {
    for bad in ["0", "-3", "soon"] {
        let run = partnerctl()
            .args(["plan", &acme(), &format!("--timeout={bad}")])
            .run()
            .code(1);
        run.stderr_contains("is not a number of seconds greater than 0");
    }
    partnerctl()
        .args(["plan", &acme(), "--log-format", "xml"])
        .run()
        .code(1)
        .stderr_contains("possible values: text, json");
}

#[test]
fn an_endpoint_without_a_scheme_gets_a_guess() {
    let run = against("127.0.0.1:34001", &["plan", &acme()]).run().code(1);
    run.stderr_contains("invalid endpoint `127.0.0.1:34001`: it has no scheme; did you mean `http://127.0.0.1:34001`?");
    run.stderr_contains("plain http:// is allowed only to loopback");
    assert!(!run.stderr.contains("relative URL"), "{}", run.stderr);
    let run = against("api.example.com", &["export"]).run().code(1);
    run.stderr_contains("did you mean `https://api.example.com`?");
}

#[test]
fn a_wrong_token_for_a_local_sandbox_says_where_its_tokens_come_from() {
    let sb = Sandbox::start();
    sb.add_partner("Acme Partners", true);
    let run = against(&sb.url, &["plan", &acme()])
        .env("PARTNERCTL_TOKEN", "not-a-token")
        .run()
        .code(1);
    run.stderr_contains("GET /v1/partner failed: 401 Unauthorized: unknown token");
    run.stderr_contains("this endpoint is a local sandbox: get a token with `partnerctl sandbox partner add --name NAME`");
    run.stderr_contains("put it in PARTNERCTL_TOKEN");
    assert_eq!(
        run.stderr.matches("partner add").count(),
        1,
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("not-a-token"),
        "the token is never echoed"
    );
    assert!(
        !run.stderr.contains("WARN"),
        "a 401 is not retried:\n{}",
        run.stderr
    );
}

#[test]
fn the_embedded_sandbox_honours_the_timeout_flags() {
    // The embedded sandbox answers at once: the flags only bound it.
    let dir = tempfile::tempdir().unwrap();
    let run = partnerctl()
        .args(["plan", &acme(), "--timeout", "5", "--read-deadline", "60"])
        .current_dir(dir.path())
        .run()
        .success();
    run.stdout_contains("Plan: 6 create");
    run.stderr_contains("Using the embedded sandbox");
}

/// Every line of `stderr` is one JSON object with a level and a message.
fn all_json(stderr: &str) -> Vec<serde_json::Value> {
    let lines: Vec<serde_json::Value> = stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    for l in &lines {
        assert!(l["level"].is_string() && l["message"].is_string(), "{l}");
    }
    lines
}

/// Every problem is reported one way: with its place when it has one (text `path:line:col:
/// message`; JSON `file`, `line` and `column` beside the message) and its severity (a table's
/// unknown column is a warning, level `WARN`), and without a place as `error: message`.
#[test]
fn diagnostics_carry_their_place_and_severity_in_text_and_json() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("partner.yaml"),
        "version: 1\npartner: { name: Acme Partners }\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("customers.csv"),
        "name,contact_name,contact_email,country,timezone,colour\nGlobex,Hank,hank@globex.example,GB,Europe/London,red\n",
    )
    .unwrap();
    let validate = |format: &str| {
        partnerctl()
            .current_dir(dir.path())
            .args(["--log-format", format, "validate", "."])
            .run()
            .success()
    };
    let text = validate("text");
    let warning = text.stderr.lines().next().unwrap();
    assert!(
        warning.starts_with("./customers.csv:1:6: warning: unknown column `colour` ignored"),
        "{}",
        text.stderr
    );
    let lines = all_json(&validate("json").stderr);
    assert_eq!(lines[0]["level"], "WARN", "{lines:?}");
    assert_eq!(lines[0]["message"], warning);
    assert_eq!(
        (&lines[0]["file"], &lines[0]["line"], &lines[0]["column"]),
        (&"./customers.csv".into(), &1.into(), &6.into())
    );

    // A planning error with a place, and one without (the token's partner is another).
    std::fs::write(
        dir.path().join("customers.csv"),
        "name,contact_name,contact_email,country,timezone,services\nGlobex,Hank,hank@globex.example,GB,Europe/London,cardz\n",
    )
    .unwrap();
    let sb = Sandbox::start();
    let token = sb.add_partner("Other Partners", true);
    let plan = |format: &str| {
        partnerctl()
            .current_dir(dir.path())
            .args(["--log-format", format, "plan", "."])
            .env("PARTNERCTL_ENDPOINT", &sb.url)
            .env("PARTNERCTL_TOKEN", &token)
            .env("CI", "true")
            .run()
            .code(1)
    };
    let text = plan("text");
    let lines: Vec<&str> = text.stderr.lines().collect();
    assert!(
        lines[0].starts_with("./customers.csv:2:6: (column services) unknown service type `cardz`"),
        "{}",
        text.stderr
    );
    assert!(
        lines[1].starts_with("error: the configuration is for partner `Acme Partners`"),
        "{}",
        text.stderr
    );
    let json = all_json(&plan("json").stderr);
    assert_eq!(json[0]["message"], lines[0]);
    assert_eq!(
        (
            &json[0]["level"],
            &json[0]["file"],
            &json[0]["line"],
            &json[0]["column"]
        ),
        (
            &"ERROR".into(),
            &"./customers.csv".into(),
            &2.into(),
            &6.into()
        )
    );
    assert_eq!(json[1]["level"], "ERROR");
    assert_eq!(
        json[1]["message"],
        lines[1].strip_prefix("error: ").unwrap()
    );
    assert!(json[1].get("file").is_none(), "{}", json[1]);

    // A place's hidden characters reach stderr escaped, in the message and in `file` alike.
    let hostile = tempfile::tempdir().unwrap();
    std::fs::write(
        hostile.path().join("bad\u{202e}.yaml"),
        "version: 1\npartner: { name: P, nmae: x }\n",
    )
    .unwrap();
    let run = partnerctl()
        .current_dir(hostile.path())
        .args(["--log-format", "json", "validate", "bad\u{202e}.yaml"])
        .run()
        .code(1);
    assert!(!run.stderr.contains('\u{202e}'), "{}", run.stderr);
    let json = all_json(&run.stderr);
    assert_eq!(json[0]["file"], "bad\\u{202e}.yaml", "{}", run.stderr);
    assert!(
        json[0]["message"]
            .as_str()
            .unwrap()
            .starts_with("bad\\u{202e}.yaml:2:21: "),
        "{}",
        run.stderr
    );
}

#[test]
fn with_json_logs_every_stderr_line_is_an_object() {
    let dir = tempfile::tempdir().unwrap();
    // The embedded sandbox's notice, the plan for people and the apply summary (stdout carries
    // the JSON apply report), off a terminal.
    let run = crate::support::cli::partnerctl()
        .current_dir(dir.path())
        .args(["--log-format", "json", "apply", &crate::support::acme()])
        .args(["--auto-approve", "--format", "json"])
        .run()
        .success();
    let lines = all_json(&run.stderr);
    assert!(
        lines
            .iter()
            .any(|l| l["message"].as_str().unwrap().starts_with("Apply complete"))
    );
    let _: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    // Configuration problems, then the closing line.
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "version: 1\npartner: { name: P, nmae: x }\n").unwrap();
    let run = crate::support::cli::partnerctl()
        .current_dir(dir.path())
        .args(["--log-format", "json", "plan"])
        .arg(&bad)
        .run()
        .code(1);
    let lines = all_json(&run.stderr);
    assert!(lines.iter().any(|l| {
        l["level"] == "ERROR"
            && l["message"]
                .as_str()
                .unwrap()
                .contains("unknown field `nmae`")
    }));
}
