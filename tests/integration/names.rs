//! Names and other free text that would not show as what they are: control characters (ESC,
//! BEL, NUL, CR, LF), bidirectional controls and zero-width characters. `validate` and the
//! sandbox (both dialects) refuse them, located, and their messages show such values escaped.

use serde_json::json;

use crate::support::cli::partnerctl;
use crate::support::nexudus::LOGIN;
use crate::support::{Sandbox, customer_body};

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
