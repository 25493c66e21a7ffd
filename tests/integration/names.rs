//! Names and other free text that would not show as what they are: control characters (ESC,
//! BEL, NUL, CR, LF), bidirectional controls and zero-width characters, and spreadsheet
//! formulas. `validate` and the sandbox (both dialects) refuse the characters, located; and a
//! live state that holds such names anyway (written before the rule, or by another API) comes
//! out inert in every output: CSV cells start no formula, markdown renders them as literal
//! text, text shows the characters escaped and no terminal sequence reaches stdout.

use std::path::Path;

use serde_json::{Value, json};

use crate::support::cli::{Cmd, partnerctl};
use crate::support::nexudus::LOGIN;
use crate::support::{Api, Sandbox, acme, customer_body};

/// Is `c` a character no output may carry raw: the shared rule.
fn hidden(c: char) -> bool {
    partnerctl::vocab::rules::hidden_char(c)
}

/// `out` with no hidden character but line feeds.
#[track_caller]
fn assert_nothing_hidden(what: &str, out: &str) {
    let raw: Vec<char> = out.chars().filter(|c| *c != '\n' && hidden(*c)).collect();
    assert!(raw.is_empty(), "{what}: raw {raw:?} in\n{out}");
}

/// The hostile names given to hand-invited people, by email: formulas a spreadsheet would run,
/// and a name whose line breaks carry markdown and HTML and whose ESC sequences would hyperlink
/// and clear a terminal.
const PEOPLE: [(&str, &str); 5] = [
    (
        "eve@evil.example",
        "=HYPERLINK(\"http://evil.example/x\",\"Review OK\")",
    ),
    ("plus@evil.example", "+1+cmd|' /C calc'!A0"),
    ("minus@evil.example", "-2+3"),
    ("at@evil.example", "@SUM(1+1)*cmd|' /C calc'!A0"),
    (
        "multi@evil.example",
        "Ops\n</details>\n\n# Approved\n\n![x](http://evil.example/pixel.png)\u{1b}]8;;http://evil.example\u{7}click\u{1b}]8;;\u{7}\u{1b}[2J\u{202e}nimda\u{200b}",
    ),
];

/// Fabrikam's live name, as a store written before the rule may hold it.
const FABRIKAM: &str = "Fabrikam\u{1b}[8m Inc\u{9b}0m\u{2066}\r\n| x | y |";

/// Rewrites, in a stopped sandbox's database, the names the API now refuses: the people's of
/// [`PEOPLE`] and Fabrikam's.
fn write_hostile_names(db: &Path) {
    let conn = rusqlite::Connection::open(db).expect("open the sandbox database");
    for (email, name) in PEOPLE {
        let n = conn
            .execute(
                "UPDATE users SET doc = json_set(doc, '$.name', ?1) WHERE email_lc = ?2",
                [name, email],
            )
            .unwrap();
        assert_eq!(n, 1, "{email}");
    }
    let n = conn
        .execute(
            "UPDATE accounts SET doc = json_set(doc, '$.name', ?1) WHERE external_key = 'fabrikam'",
            [FABRIKAM],
        )
        .unwrap();
    assert_eq!(n, 1);
}

fn against(url: &str, token: &str) -> Cmd {
    partnerctl()
        .env("PARTNERCTL_ENDPOINT", url)
        .env("PARTNERCTL_TOKEN", token)
}

/// Acme applied, hand-invited people on Contoso, then their names and Fabrikam's made hostile
/// in the store: every output of `access --live` and `plan` is safe to open.
#[tokio::test(flavor = "multi_thread")]
async fn hostile_live_names_are_inert_in_every_output() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sandbox.db");
    let mut sb = Sandbox::start_on(&db, &[]);
    let token = sb.add_partner("Acme Partners", true);
    against(&sb.url, &token)
        .args(["apply", &acme(), "--auto-approve"])
        .run()
        .success();
    let api = Api::new(&sb.url, &token);
    let accounts = api.list_all("/v1/accounts", "AccountPage", 100).await;
    let contoso = accounts
        .iter()
        .find(|a| a["external_key"] == "contoso")
        .unwrap();
    let path = format!("/v1/accounts/{}/users", contoso["id"].as_str().unwrap());
    for (email, _) in PEOPLE {
        let body = json!({"email": email, "name": "Placeholder", "role": "admin"});
        api.post(&path, body).await.status_ok(201, "User");
    }
    sb.kill9();
    write_hostile_names(&db);
    let mut sb = Sandbox::start_on(&db, &[]);
    let run = |args: &[&str]| against(&sb.url, &token).args(args).run();

    // CSV: no cell starts a formula; the hostile names are there, after an apostrophe.
    let csv = run(&["access", &acme(), "--live", "--format", "csv"]).success();
    assert_nothing_hidden("csv", &csv.stdout);
    let mut reader = csv::Reader::from_reader(csv.stdout.as_bytes());
    let headers = reader.headers().unwrap().clone();
    let name_col = headers.iter().position(|h| h == "name").unwrap();
    let mut names = Vec::new();
    for row in reader.records() {
        let row = row.unwrap();
        for cell in &row {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "a formula cell {cell:?} in\n{}",
                csv.stdout
            );
        }
        names.push(row[name_col].to_string());
    }
    for (_, name) in &PEOPLE[..4] {
        assert!(names.contains(&format!("'{name}")), "{name} in {names:?}");
    }

    // Markdown: the line breaks, HTML, heading and image of a name stay inside its table cell.
    let md = run(&["access", &acme(), "--live", "--format", "markdown"]).success();
    assert_nothing_hidden("markdown", &md.stdout);
    for line in md.stdout.lines() {
        assert!(
            !line.starts_with("# ") && !line.starts_with("</details>"),
            "{line}"
        );
        assert!(!line.contains("![") && !line.contains("http://"), "{line}");
        if line.starts_with('|') {
            assert_eq!(line.replace("\\|", "").matches('|').count(), 6, "{line}");
        }
    }
    assert!(
        md.stdout
            .contains("Ops\\\\n\\</details\\>\\\\n\\\\n# Approved"),
        "{}",
        md.stdout
    );

    // Text: the characters escaped, in the access report and in the plan.
    let text = run(&["access", &acme(), "--live", "--user", "multi@evil.example"]).success();
    assert_nothing_hidden("access text", &text.stdout);
    text.stdout_contains("\\u{1b}]8;;http://evil.example\\u{7}click\\u{1b}]8;;\\u{7}\\u{1b}[2J\\u{202e}nimda\\u{200b}\"");
    let plan = run(&["plan", &acme(), "--color", "always"]).code(0);
    plan.stdout_contains(
        "name: \"Fabrikam\\u{1b}[8m Inc\\u{9b}0m\\u{2066}\\r\\n| x | y |\" → \"Fabrikam Inc\"",
    );
    plan.stdout_contains("multi@evil.example \"Ops\\n</details>\\n\\n# Approved");
    // With colour, every ESC is the palette's: `ESC [ digits ; m`.
    for (i, _) in plan.stdout.match_indices('\u{1b}') {
        let seq: String = plan.stdout[i + 1..]
            .chars()
            .take_while(|c| *c != 'm')
            .collect();
        assert!(
            seq.starts_with('[') && seq[1..].chars().all(|c| c.is_ascii_digit() || c == ';'),
            "an ESC that is not the palette's: {:?}",
            &plan.stdout[i..(i + 20).min(plan.stdout.len())]
        );
    }
    let plain: String = plan.stdout.replace('\u{1b}', "");
    assert_nothing_hidden("plan text", &plain);
    let md = run(&["plan", &acme(), "--format", "markdown"]).code(0);
    assert_nothing_hidden("plan markdown", &md.stdout);
    let json = run(&["plan", &acme(), "--format", "json"]).code(0);
    assert_nothing_hidden("plan json", &json.stdout);
    let v: Value = serde_json::from_str(&json.stdout).unwrap();
    let before = v["operations"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|op| op["before"]["name"].as_str())
        .unwrap();
    assert_eq!(before, FABRIKAM, "JSON escapes decode to the live name");

    // An error that quotes a live name: the partner's, which no longer matches the
    // configuration's. Its terminal sequences (a window title) reach stderr escaped.
    sb.kill9();
    let conn = rusqlite::Connection::open(&db).unwrap();
    let partner = "Acme Partners\u{1b}]0;pwned\u{7}\u{202e}";
    conn.execute("UPDATE partners SET name = ?1", [partner])
        .unwrap();
    drop(conn);
    let sb = Sandbox::start_on(&db, &[]);
    let run = against(&sb.url, &token)
        .args(["plan", &acme()])
        .run()
        .code(1);
    run.stderr_contains(
        "but the token belongs to partner `Acme Partners\\u{1b}]0;pwned\\u{7}\\u{202e}`",
    );
    assert_nothing_hidden("stderr", &run.stderr);
    let json = against(&sb.url, &token)
        .args(["--log-format", "json", "plan", &acme()])
        .run()
        .code(1);
    assert_nothing_hidden("JSON stderr", &json.stderr);
}

/// `validate` refuses control, bidirectional and zero-width characters in names, emails and
/// labels, each problem where it is written, and its messages show the values escaped.
#[test]
fn validate_refuses_hidden_characters_where_they_are() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("hostile.yaml");
    std::fs::write(
        &file,
        r#"version: 1
partner:
  name: "Acme\e[2J Partners"
  users:
    - { email: "ops@acme.example", name: "Acme\u202EOps" }
customers:
  - key: contoso
    name: "Contoso\nLtd"
    contact: { name: "Jane\u200BDoe", email: "jane\uFEFF@contoso.example" }
    country: GB
    timezone: Europe/London
    labels: { "tier\0": "gold", note: "a\aBEL" }
    "protect\e[8m\n": true
    users:
      - { email: "jane@contoso.example", name: "Jane\rDoe" }
      - { email: "it@contoso.example", name: "IT\u2066Desk\u2069" }
"#,
    )
    .unwrap();
    let run = partnerctl()
        .arg("validate")
        .arg(&file)
        .args(["--catalog", "src/sandbox/catalog.json"])
        .run()
        .code(1);
    assert_nothing_hidden("stderr", &run.stderr);
    let path = file.display().to_string();
    for (at, message) in [
        (
            "3:9",
            r#"name "Acme\u{1b}[2J Partners" contains ESC (escape, which starts terminal control sequences) (U+001B) at character 5"#,
        ),
        (
            "5:42",
            r#"user name "Acme\u{202e}Ops" contains a bidirectional control (U+202E) at character 5"#,
        ),
        (
            "8:11",
            r#"name "Contoso\nLtd" contains a line feed (U+000A) at character 8"#,
        ),
        (
            "9:22",
            r#"contact name "Jane\u{200b}Doe" contains a zero-width space (U+200B) at character 5"#,
        ),
        (
            "9:46",
            r#"email "jane\u{feff}@contoso.example" contains a zero-width no-break space (byte order mark) (U+FEFF) at character 5"#,
        ),
        (
            "12:15",
            r#"label key "tier\0" contains NUL (U+0000) at character 5"#,
        ),
        (
            "12:39",
            r#"the value of label `note` "a\u{7}BEL" contains BEL (bell) (U+0007) at character 2"#,
        ),
        (
            "15:48",
            r#"user name "Jane\rDoe" contains a carriage return (U+000D) at character 5"#,
        ),
        (
            "16:46",
            r#"user name "IT\u{2066}Desk\u{2069}" contains a bidirectional control (U+2066) at character 3"#,
        ),
    ] {
        run.stderr_contains(&format!("{path}:{at}: {message}; remove it"));
    }
    assert_eq!(
        run.stderr.matches("; remove it").count(),
        9,
        "{}",
        run.stderr
    );
    // A message that quotes what was written shows it escaped too, on its one line.
    run.stderr_contains(&format!(
        "{path}:13:5: unknown field `protect\\u{{1b}}[8m\\n`"
    ));
}

/// The partner API refuses the characters in every name, email and label, each field by its
/// pointer, without echoing them raw.
#[tokio::test]
async fn the_partner_api_refuses_hidden_characters() {
    let sb = Sandbox::start();
    let api = sb.partner("Acme", true);
    let mut body = customer_body("contoso");
    body["name"] = json!("Contoso\u{202e}");
    body["contact"] = json!({"name": "Jane\u{1b}[2J", "email": "jane\u{200b}@contoso.example"});
    body["labels"] = json!({"tier\u{0}": "gold", "note": "a\nb"});
    let e = api
        .post("/v1/accounts", body)
        .await
        .err(400, "validation-failed");
    let mut found: Vec<(String, String)> = e["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["pointer"].as_str().unwrap().into(),
                f["message"].as_str().unwrap().into(),
            )
        })
        .collect();
    found.sort();
    let rule = "must not contain control, bidirectional or zero-width characters; found";
    assert_eq!(
        found,
        [
            (
                "/contact/email",
                "a zero-width space (U+200B) at character 5"
            ),
            (
                "/contact/name",
                "ESC (escape, which starts terminal control sequences) (U+001B) at character 5"
            ),
            ("/labels/note", "a line feed (U+000A) at character 2"),
            ("/labels/tier\u{0}", "NUL (U+0000) at character 5"),
            ("/name", "a bidirectional control (U+202E) at character 8"),
        ]
        .map(|(p, m)| (p.to_string(), format!("{rule} {m}")))
    );
    let c = api.customer("contoso").await;
    let id = c["id"].as_str().unwrap();
    let etag = c["etag"].as_str().unwrap();
    let e = api
        .patch(
            &format!("/v1/accounts/{id}"),
            json!({"name": "Contoso\r\nLtd"}),
            Some(etag),
        )
        .await
        .err(400, "validation-failed");
    assert_eq!(e["errors"][0]["pointer"], "/name");
    let e = api
        .post(
            &format!("/v1/accounts/{id}/users"),
            json!({"email": "ann@contoso.example", "name": "Ann\u{7}\u{feff}"}),
        )
        .await
        .err(400, "validation-failed");
    assert_eq!(e["errors"][0]["pointer"], "/name");
    // The partner's own name, given to the admin command.
    let run = sb
        .admin(&["partner", "add", "--name", "Evil\u{2067}Corp"])
        .code(1);
    assert!(run.stderr.contains("U+2067"), "{}", run.stderr);
    assert_nothing_hidden("stderr", &run.stderr);
}

/// The Nexudus dialect refuses them too: its writes go through the store's rules.
#[tokio::test]
async fn the_nexudus_dialect_refuses_hidden_characters() {
    let sb = Sandbox::nexudus(&[]);
    let nx = sb.nexudus_partner("Acme", LOGIN);
    for name in ["Ann\u{202e}", "Ann\u{1b}[2J", "Ann\nSmith", "A\u{200d}nn"] {
        let body = json!({"FullName": name, "Email": "ann@example.com"});
        let e = nx.post("/api/sys/users", body).await.refused(400);
        let text = e.to_string();
        assert!(
            text.contains("control, bidirectional or zero-width"),
            "{name:?}: {text}"
        );
    }
    let body = json!({"FullName": "Ann", "Email": "ann@example.com"});
    nx.post("/api/sys/users", body).await.written();
}

/// An API whose refusal quotes terminal sequences (a window title, a screen clear, a
/// right-to-left override): the error that ends the command shows them escaped, in text and in
/// JSON logs.
#[test]
fn an_api_error_that_quotes_terminal_sequences_reaches_stderr_escaped() {
    use crate::support::fake::{Fake, Reply};
    let detail = "partner \u{1b}]0;pwned\u{7}\u{1b}[2J\u{202e}lanruoj is suspended";
    let fake = Fake::start(move |_, _| {
        Reply::json(
            403,
            json!({"type": "about:blank", "title": "Forbidden", "status": 403, "code": "forbidden", "detail": detail}),
        )
        .header("Content-Type", "application/problem+json")
    });
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("partner.yaml"),
        "version: 1\npartner:\n  name: Acme Partners\n",
    )
    .unwrap();
    for format in ["text", "json"] {
        let run = partnerctl()
            .args(["--log-format", format, "plan"])
            .arg(dir.path())
            .env("PARTNERCTL_ENDPOINT", &fake.url)
            .env("PARTNERCTL_TOKEN", "t")
            .run()
            .code(1);
        assert_nothing_hidden(format, &run.stderr);
        assert!(run.stderr.contains("]0;pwned"), "{format}: {}", run.stderr);
    }
}
