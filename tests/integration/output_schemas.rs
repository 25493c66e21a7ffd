//! The contracts of the JSON outputs: the committed schemas (`schemas/plan.schema.json`,
//! `schemas/apply-report.schema.json`, `schemas/access-report.schema.json`) are what
//! `partnerctl schema NAME` prints, and the README's tables of their fields are generated from
//! them.

use crate::support::cli::{partnerctl, root};

/// The output documents, by the name `partnerctl schema` takes (also their files' stems).
const DOCUMENTS: [&str; 3] = ["plan", "apply-report", "access-report"];

#[test]
fn committed_output_schemas_are_current() {
    for name in DOCUMENTS {
        let run = partnerctl().args(["schema", name]).run().success();
        let path = format!("schemas/{name}.schema.json");
        let committed = std::fs::read_to_string(root().join(&path))
            .unwrap_or_else(|e| panic!("{path} is committed: {e}"));
        assert!(
            run.stdout == committed,
            "{path} is stale: run `cargo run -q -- schema {name} > {path}`"
        );
    }
    // Without a name: the configuration's, as before.
    let run = partnerctl().arg("schema").run().success();
    let config = partnerctl().args(["schema", "config"]).run().success();
    assert_eq!(run.stdout, config.stdout);
    run.stdout_contains("\"title\": \"partnerctl configuration\"");
}

/// The marker a table of fields follows in the README, and the one that ends it.
fn markers(name: &str) -> (String, &'static str) {
    (
        format!("<!-- fields: schemas/{name}.schema.json -->\n"),
        "<!-- end of fields -->",
    )
}

/// Every field the README lists for a JSON output is in its schema and the other way round,
/// with the schema's type and description: the tables are generated from the committed schemas
/// (`PARTNERCTL_UPDATE_README=1` rewrites them).
#[test]
fn the_readme_tables_of_fields_are_the_schemas() {
    let path = root().join("README.md");
    let mut readme = std::fs::read_to_string(&path).unwrap();
    let update = std::env::var_os("PARTNERCTL_UPDATE_README").is_some_and(|v| !v.is_empty());
    let mut stale = Vec::new();
    for name in DOCUMENTS {
        let schema: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(root().join(format!("schemas/{name}.schema.json"))).unwrap(),
        )
        .unwrap();
        // Blank lines around the table: a markdown table ends at one.
        let table = format!("\n{}\n", partnerctl::render::doc::fields_table(&schema));
        let (start, end) = markers(name);
        let from = readme
            .find(&start)
            .unwrap_or_else(|| panic!("the README has no `{}`", start.trim_end()))
            + start.len();
        let to = from
            + readme[from..]
                .find(end)
                .unwrap_or_else(|| panic!("the README's table of {name} has no `{end}`"));
        if readme[from..to] != table {
            stale.push(name);
            readme.replace_range(from..to, &table);
        }
    }
    if update && !stale.is_empty() {
        std::fs::write(&path, &readme).unwrap();
        return;
    }
    assert!(
        stale.is_empty(),
        "the README's tables of fields of {stale:?} differ from the schemas: run `PARTNERCTL_UPDATE_README=1 cargo test --test integration output_schemas`"
    );
}
