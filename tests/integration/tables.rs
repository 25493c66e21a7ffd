//! Customer tables (`*.csv` in a configuration) end to end: they validate with every problem of
//! every row located by row, column and header, they plan like YAML customers (defaults merged),
//! and `partnerctl import` turns them into YAML that plans exactly the same.

use crate::support::Sandbox;
use crate::support::cli::{partnerctl, root};

const TABLE: &str = "key,name,contact_name,contact_email,country,timezone,admin_email,admin_name,services,label:tier
,Globex Corp,Hank Scorpio,hank@globex.example,,,hank@globex.example,,cards;mobile-id,gold
initech,Initech,Bill L,bill@initech.example,FR,Europe/Paris,,,,
,Zürich Café,Anna,anna@cafe.example,CH,Europe/Zurich,boss@cafe.example,Boss,,silver
";

/// A configuration directory: the acme partner file (with its defaults) and `table` as CSV.
fn config_with(table: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        root().join("examples/acme/partner.yaml"),
        dir.path().join("partner.yaml"),
    )
    .unwrap();
    std::fs::write(dir.path().join("customers.csv"), table).unwrap();
    dir
}

#[test]
fn every_problem_of_every_row_with_its_cell_and_column() {
    let bad = "key,name,contact_name,contact_email,country,timezone,services,colour\n,Globex,Hank,hank@globex,United Kingdom,GMT+1,cards,red\nBad Key,,Bill,bill@initech.example,FR,Europe/Paris,,\n";
    let dir = config_with(bad);
    let run = partnerctl().arg("validate").arg(dir.path()).run().code(1);
    let csv = dir.path().join("customers.csv").display().to_string();
    let lines: Vec<String> = run
        .stderr
        .lines()
        .map(|l| l.replace(&csv, "customers.csv"))
        .collect();
    assert_eq!(
        lines[0],
        "customers.csv:1:8: warning: unknown column `colour` ignored: their cells are not read; the columns of a customer table are key, name, contact_name, contact_email, country, timezone, admin_email, admin_name, services and label:NAME: rename it to one of them, or remove it"
    );
    for want in [
        "customers.csv:2:4: (column contact_email) invalid email address `hank@globex`",
        "customers.csv:2:5: (column country) invalid country `United Kingdom`: expected an ISO 3166-1 alpha-2 code, did you mean `GB`?",
        "customers.csv:2:6: (column timezone) invalid timezone `GMT+1`: expected an IANA name, did you mean `Europe/London` (the time zone of GB)?",
        "customers.csv:3:1: (column key) invalid key `Bad Key`",
        "customers.csv:3:2: (column name) name must not be empty",
    ] {
        assert!(
            lines.iter().any(|l| l.starts_with(want)),
            "{want}\nnot in:\n{}",
            lines.join("\n")
        );
    }
    assert!(lines.last().unwrap().starts_with("5 problems found; "));
    // --strict: the unknown column is a problem too.
    let run = partnerctl()
        .args(["validate", "--strict"])
        .arg(dir.path())
        .run()
        .code(1);
    assert!(
        run.stderr
            .contains("unknown column `colour` refused (--strict)")
    );
    assert!(run.stderr.contains("6 problems found; "), "{}", run.stderr);
    // Without it, the warning alone does not make the configuration invalid.
    let dir = config_with(&TABLE.replace("label:tier", "colour"));
    partnerctl()
        .arg("validate")
        .arg(dir.path())
        .run()
        .success()
        .stderr_contains("warning: unknown column `colour` ignored");
    // A valid country's zones are what a wrong time zone suggests.
    let dir = config_with(
        "name,contact_name,contact_email,country,timezone\nBerlin GmbH,Kai,kai@b.example,DE,GMT+1\n",
    );
    partnerctl()
        .arg("validate")
        .arg(dir.path())
        .run()
        .code(1)
        .stderr_contains("(column timezone) invalid timezone `GMT+1`: expected an IANA name, did you mean one of the time zones of DE: `Europe/Berlin`, `Europe/Busingen`?");
}

fn plan_operations(sb: &Sandbox, token: &str, config: &std::path::Path) -> serde_json::Value {
    let run = partnerctl()
        .arg("plan")
        .env("PARTNERCTL_ENDPOINT", &sb.url)
        .env("PARTNERCTL_TOKEN", token)
        .arg(config)
        .args(["--format", "json"])
        .run()
        .success();
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    v["operations"].clone()
}

#[test]
fn a_table_plans_like_yaml_and_import_writes_the_same_configuration() {
    let sb = Sandbox::start();
    let token = sb.add_partner("Acme Partners", true);
    let table = config_with(TABLE);
    partnerctl()
        .arg("validate")
        .arg(table.path())
        .run()
        .success();
    let from_table = plan_operations(&sb, &token, table.path());
    let addresses: Vec<&str> = from_table
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["address"].as_str().unwrap())
        .collect();
    for a in [
        "customer.globex-corp",
        "customer.globex-corp.user[hank@globex.example]",
        "customer.initech.service[cards]",
        "customer.zurich-cafe.user[boss@cafe.example]",
    ] {
        assert!(addresses.contains(&a), "{a} not in {addresses:#?}");
    }
    // import: YAML beside the same partner file plans exactly the same operations.
    let yaml = tempfile::tempdir().unwrap();
    std::fs::copy(
        table.path().join("partner.yaml"),
        yaml.path().join("partner.yaml"),
    )
    .unwrap();
    partnerctl()
        .arg("import")
        .arg(table.path().join("customers.csv"))
        .arg("-o")
        .arg(yaml.path())
        .run()
        .success()
        .stderr_contains("Imported 3 customer(s)");
    assert_eq!(plan_operations(&sb, &token, yaml.path()), from_table);
    // The schema the YAML's first line refers to is beside it: this version's.
    let written = std::fs::read_to_string(yaml.path().join("customers.yaml")).unwrap();
    assert!(written.starts_with("# yaml-language-server: $schema=partnerctl.schema.json\n"));
    let schema = partnerctl().arg("schema").run().success().stdout;
    assert_eq!(
        std::fs::read_to_string(yaml.path().join("partnerctl.schema.json")).unwrap(),
        schema
    );
    // Again: refused without --force.
    partnerctl()
        .arg("import")
        .arg(table.path().join("customers.csv"))
        .arg("-o")
        .arg(yaml.path())
        .run()
        .code(1)
        .stderr_contains("exists; nothing was written");
}

/// The sheets of `tests/fixtures/sheets/`, as ops people export them (CRLF, a byte order mark,
/// Windows-1252 with semicolons, UTF-16 with tabs, a CRM's extra columns, ragged rows, repeated
/// names, bytes in no encoding, a workbook, a users sheet...), each validated beside the acme
/// partner file: exactly the snapshotted messages, and `import` says the same of each customer
/// table.
#[test]
fn sheets_report_their_problems_and_import_says_the_same() {
    let dir = root().join("tests/fixtures/sheets");
    let mut sheets: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "csv" || e == "xlsx"))
        .collect();
    sheets.sort();
    assert!(sheets.len() >= 9, "{sheets:?}");
    for sheet in sheets {
        let rel = sheet.strip_prefix(root()).unwrap().display().to_string();
        let run = partnerctl()
            .args(["validate", "examples/acme/partner.yaml", &rel])
            .args(["--catalog", "src/sandbox/catalog.json"])
            .run();
        let name = sheet.file_name().unwrap().to_string_lossy().into_owned();
        insta::assert_snapshot!(
            format!("sheet__{name}"),
            format!("exit {}\n{}{}", run.code, run.stdout, run.stderr)
        );
        let out = tempfile::tempdir().unwrap();
        let import = partnerctl()
            .args(["import", &rel, "-o"])
            .arg(out.path())
            .run();
        // Of customer tables: users tables are read with every account by validate, and
        // with the customers imported with them by import (which say so of other accounts).
        let located = |text: &str| -> Vec<String> {
            text.lines()
                .filter(|l| l.starts_with(&rel) && !l.contains("Users!") && !rel.contains("users"))
                .map(str::to_string)
                .collect()
        };
        assert_eq!(located(&import.stderr), located(&run.stderr), "{rel}");
        let problems = run
            .stderr
            .lines()
            .any(|l| l.starts_with(&rel) && !l.contains(": warning: "));
        assert_eq!(
            import.code,
            if problems { 1 } else { 0 },
            "{rel}: {}",
            import.stderr
        );
    }
}
