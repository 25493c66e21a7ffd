//! Sheets round trips through the pure planner: the sheets and YAML files of an export, read
//! as CSV or as a workbook, plan to zero changes against the state they came from.

use super::*;
use crate::config::{Source, load_sources};
use crate::export::{Carries, estate};
use crate::plan::testutil::applied_acme;
use crate::plan::{Options, plan};

fn yaml_sources(export: &SheetExport) -> Vec<Source> {
    export
        .yaml
        .iter()
        .map(|f| Source {
            path: f.path.display().to_string(),
            text: f.text.clone(),
        })
        .collect()
}

fn csv_sources(export: &SheetExport) -> Vec<Source> {
    let mut sources = yaml_sources(export);
    for sheet in [&export.customers, &export.users] {
        sources.push(Source {
            path: format!("{}.csv", sheet.name),
            text: to_csv(sheet),
        });
    }
    sources
}

fn xlsx_sources(export: &SheetExport) -> Vec<Source> {
    let book = to_xlsx(&[&export.customers, &export.users]).unwrap();
    let mut sources = yaml_sources(export);
    for s in crate::config::xlsx::sheets(&book).unwrap() {
        sources.push(Source {
            path: crate::config::sheet_path("customers.xlsx", &s.name),
            text: s.text,
        });
    }
    sources
}

#[test]
fn acme_as_sheets_plans_to_zero_as_csv_and_as_a_workbook() {
    let live = applied_acme();
    let export = sheets(&estate(&live, Carries::default()));
    // Contoso has networks and is protected: its YAML file; the others are rows.
    let yaml: Vec<String> = export
        .yaml
        .iter()
        .map(|f| f.path.display().to_string())
        .collect();
    assert_eq!(yaml, ["partner.yaml", "customers/contoso.yaml"]);
    assert_eq!(
        export.customers.rows.len(),
        3,
        "{:?}",
        export.customers.rows
    );
    assert!(export.users.rows.iter().any(|r| r[0] == "partner"));
    for sources in [csv_sources(&export), xlsx_sources(&export)] {
        let desired = load_sources(&sources).unwrap_or_else(|p| panic!("{p}"));
        let p = plan(&desired, &live, Options::default()).unwrap();
        let actions: Vec<_> = p.operations.iter().map(|o| o.action()).collect();
        assert_eq!(actions, [], "{}", sources.last().unwrap().path);
    }
}

#[test]
fn what_a_row_cannot_hold_or_a_spreadsheet_would_open_as_a_formula_keeps_its_yaml() {
    let mut live = applied_acme();
    // A name a spreadsheet would take for a formula.
    let fabrikam = live
        .accounts
        .iter_mut()
        .find(|a| a.name.starts_with("Fabrikam"))
        .unwrap();
    fabrikam.name = "=HYPERLINK(\"x\")".to_string();
    let export = sheets(&estate(&live, Carries::default()));
    assert!(
        export.yaml.iter().any(|f| f.text.contains("HYPERLINK")),
        "{:?}",
        export.yaml
    );
    let csv = to_csv(&export.customers);
    assert!(!csv.contains("HYPERLINK"), "{csv}");
    for line in csv.lines().chain(to_csv(&export.users).lines()) {
        for cell in line.split(',') {
            assert!(!cell.starts_with(['=', '+', '-', '@']), "{line}");
        }
    }
    let desired = load_sources(&csv_sources(&export)).unwrap_or_else(|p| panic!("{p}"));
    let p = plan(&desired, &live, Options::default()).unwrap();
    assert!(p.operations.is_empty());
}

/// Text a spreadsheet keeps as it is (quotes, delimiters, `_xHHHH_` which a workbook uses for
/// escapes, any script) is written in cells and read back the same, as CSV and as a workbook.
#[test]
fn tricky_text_reads_back_the_same_from_either_format() {
    let mut live = applied_acme();
    let tricky = [
        "Quote \"q\", comma; semicolon",
        "_x0041_ and _x005F_ as written",
        "spaces  inside  kept",
        "Ünïcödé 🎉 中文 עברית",
    ];
    let customers = live
        .accounts
        .iter_mut()
        .filter(|a| a.kind == crate::vocab::AccountKind::Customer);
    for (a, text) in customers.zip(tricky.iter().cycle()) {
        a.name = text.to_string();
        a.labels.insert("note".to_string(), tricky[0].to_string());
    }
    let export = sheets(&estate(&live, Carries::default()));
    assert_eq!(
        export.customers.rows.len(),
        3,
        "{:?}",
        export.customers.rows
    );
    for sources in [csv_sources(&export), xlsx_sources(&export)] {
        let desired = load_sources(&sources).unwrap_or_else(|p| panic!("{p}"));
        let p = plan(&desired, &live, Options::default()).unwrap();
        let addresses: Vec<_> = p.operations.iter().map(|o| o.address.clone()).collect();
        assert_eq!(
            addresses,
            Vec::<String>::new(),
            "{}",
            sources.last().unwrap().path
        );
    }
}

/// A live value longer than a cell holds (which no valid configuration has, but a live state
/// may) keeps its customer's YAML, where validate names it, instead of failing the workbook.
#[test]
fn a_value_longer_than_a_cell_keeps_its_yaml() {
    let mut live = applied_acme();
    let fabrikam = live
        .accounts
        .iter_mut()
        .find(|a| a.name.starts_with("Fabrikam"))
        .unwrap();
    fabrikam
        .labels
        .insert("long".to_string(), "x".repeat(CELL_CHARS + 1));
    let export = sheets(&estate(&live, Carries::default()));
    let long = "x".repeat(CELL_CHARS + 1);
    assert!(export.yaml.iter().any(|f| f.text.contains(&long)));
    assert!(
        export
            .customers
            .rows
            .iter()
            .flatten()
            .all(|c| !c.contains(&long))
    );
    to_xlsx(&[&export.customers, &export.users]).unwrap();
}
