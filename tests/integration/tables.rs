//! Sheets (`*.csv` and `*.xlsx` in a configuration: customer tables and users tables) end to
//! end: they validate with every problem of every row located by row, column and header, they
//! plan like YAML customers (defaults merged), `partnerctl import` turns them into YAML that
//! plans exactly the same, a workbook applies and then plans no changes, and the estate exported
//! as sheets (`export --format csv|xlsx`) reads back to a plan with no changes.

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
    let import = || {
        partnerctl()
            .arg("import")
            .arg(table.path().join("customers.csv"))
            .arg("-o")
            .arg(yaml.path())
    };
    import()
        .run()
        .code(1)
        .stderr_contains("exists; nothing was written");
    // A link in the output's place, even one to nowhere, is something there: refused without
    // --force, replaced (never written through) with it.
    #[cfg(unix)]
    {
        let out = yaml.path().join("customers.yaml");
        let elsewhere = tempfile::tempdir().unwrap();
        let target = elsewhere.path().join("created-through-link.yaml");
        std::fs::remove_file(&out).unwrap();
        std::os::unix::fs::symlink(&target, &out).unwrap();
        import()
            .run()
            .code(1)
            .stderr_contains("exists; nothing was written");
        assert!(!target.exists());
        import().arg("--force").run().success();
        assert!(!target.exists(), "written through a link to nowhere");
        assert!(std::fs::symlink_metadata(&out).unwrap().is_file());
        assert_eq!(std::fs::read_to_string(&out).unwrap(), written);
    }
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

/// A workbook of 500 customers as a CRM exports it (keys given, derived from names, or
/// numbers; countries left to the defaults or given; services, a label, admins) and a users
/// sheet (users of customers, and of the partner).
fn crm_workbook(path: &std::path::Path) {
    let mut book = rust_xlsxwriter::Workbook::new();
    let customers = book.add_worksheet();
    customers.set_name("Customers").unwrap();
    let header = [
        "Key",
        "Name",
        "Contact_Name",
        "Contact_Email",
        "Country",
        "Timezone",
        "Admin_Email",
        "Services",
        "Label:tier",
    ];
    for (c, h) in header.iter().enumerate() {
        customers.write_string(0, c as u16, *h).unwrap();
    }
    let mut users = vec![vec![
        "account".to_string(),
        "email".to_string(),
        "name".to_string(),
        "role".to_string(),
    ]];
    users.push(vec![
        "partner".to_string(),
        "audit@acme.example".to_string(),
        "Acme Audit".to_string(),
        String::new(),
    ]);
    for i in 0..500u32 {
        let r = i + 1;
        let name = if i % 3 == 0 {
            format!("Café {i} Zürich")
        } else {
            format!("Customer {i} Ltd")
        };
        let key = match i % 5 {
            // Derived from the name.
            0 => deunicode::deunicode(&name).to_lowercase().replace(' ', "-"),
            1 => {
                customers.write_number(r, 0, f64::from(10_000 + i)).unwrap();
                (10_000 + i).to_string()
            }
            _ => {
                let key = format!("c{i:03}");
                customers.write_string(r, 0, &key).unwrap();
                key
            }
        };
        let cells = [
            (1, name.clone()),
            (2, format!("Contact {i}")),
            (3, format!("contact{i}@customer{i}.example")),
            (
                4,
                if i % 3 == 1 {
                    "FR".into()
                } else {
                    String::new()
                },
            ),
            (
                5,
                if i % 3 == 1 {
                    "Europe/Paris".into()
                } else {
                    String::new()
                },
            ),
            (
                6,
                if i % 4 == 0 {
                    format!("admin{i}@customer{i}.example")
                } else {
                    String::new()
                },
            ),
            (
                7,
                if i % 2 == 0 {
                    "cards; mobile-id".into()
                } else {
                    String::new()
                },
            ),
            (8, ["gold", "silver", ""][i as usize % 3].to_string()),
        ];
        for (c, text) in cells {
            if !text.is_empty() {
                customers.write_string(r, c, &text).unwrap();
            }
        }
        if i % 10 == 0 || i % 10 == 3 {
            users.push(vec![
                key,
                format!("user{i}@customer{i}.example"),
                format!("User {i}"),
                if i % 20 == 0 { "admin" } else { "" }.to_string(),
            ]);
        }
    }
    let sheet = book.add_worksheet();
    sheet.set_name("Users").unwrap();
    for (r, row) in users.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            sheet.write_string(r as u32, c as u16, cell).unwrap();
        }
    }
    book.save(path).unwrap();
}

/// A CRM's workbook of 500 customers and a users sheet plans, applies, and then plans no
/// changes; the estate exported as CSV and as a workbook reads back (as a configuration
/// directory) to a plan with no changes too.
#[test]
fn a_workbook_applies_and_its_estate_exported_as_sheets_plans_no_changes() {
    let sb = Sandbox::start();
    let token = sb.add_partner("Acme Partners", true);
    let against = |subcommand: &str| {
        partnerctl()
            .arg(subcommand)
            .env("PARTNERCTL_ENDPOINT", &sb.url)
            .env("PARTNERCTL_TOKEN", &token)
    };
    let config = config_with("");
    std::fs::remove_file(config.path().join("customers.csv")).unwrap();
    crm_workbook(&config.path().join("crm.xlsx"));
    partnerctl()
        .arg("validate")
        .arg(config.path())
        .run()
        .success()
        .stdout_contains(
            "valid: 500 customers, 0 networks, 0 sub-accounts, 228 users, 750 services (3 files)",
        );
    let operations = plan_operations(&sb, &token, config.path());
    let addresses: Vec<&str> = operations
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["address"].as_str().unwrap())
        .collect();
    for a in [
        "customer.cafe-0-zurich",
        "customer.10001.service[cards]",
        "customer.c002",
        "customer.customer-10-ltd.user[user10@customer10.example]",
        "customer.c013.user[user13@customer13.example]",
        "partner.user[audit@acme.example]",
    ] {
        assert!(addresses.contains(&a), "{a} not in the plan");
    }
    against("apply")
        .arg(config.path())
        .arg("--auto-approve")
        .run()
        .success();
    against("plan")
        .arg(config.path())
        .arg("--detailed-exitcode")
        .run()
        .success()
        .stdout_contains("No changes");

    let out = tempfile::tempdir().unwrap();
    for format in ["csv", "xlsx"] {
        let dir = out.path().join(format);
        let run = against("export")
            .args(["--format", format, "-o"])
            .arg(&dir)
            .run()
            .success();
        run.stderr_contains("Exported 500 customer(s)");
        run.stderr_contains("500 customer(s) are rows of the customer sheet");
        let mut files: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        files.sort();
        let sheets: &[&str] = if format == "csv" {
            &["customers.csv", "users.csv"]
        } else {
            &["customers.xlsx"]
        };
        let mut want: Vec<&str> = sheets.to_vec();
        want.extend(["partner.yaml", "partnerctl.schema.json"]);
        want.sort();
        assert_eq!(files, want);
        partnerctl()
            .arg("validate")
            .arg(&dir)
            .run()
            .success()
            .stdout_contains("valid: 500 customers");
        against("plan")
            .arg(&dir)
            .arg("--detailed-exitcode")
            .run()
            .success()
            .stdout_contains("No changes");
    }
    // The workbook is not written where the CSV sheets are: the directory would read both.
    let csv = out.path().join("csv");
    against("export")
        .args(["--format", "xlsx", "--force", "-o"])
        .arg(&csv)
        .run()
        .code(1)
        .stderr_contains(
            "users.csv are there, and a configuration directory reads every sheet in it",
        );
    assert!(!csv.join("customers.xlsx").exists());
    against("export")
        .args(["--format", "csv"])
        .run()
        .code(1)
        .stderr_contains("--format csv writes several files (partner.yaml and the sheets): name a directory with -o DIR");
}
