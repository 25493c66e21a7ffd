//! The stage order, checked: every `crate::` path in `src/` points to a module its stage may
//! use. config → live → policy → plan → provider/apply → render, with `vocab` (the shared
//! words) and `wire` (each vendor dialect's request and response shapes) at the bottom; `api`
//! (the HTTP client) speaks a wire; `policy` knows the configuration but no plan (the edge
//! hands it the plan's JSON document); the sandbox stands beside the providers and depends only
//! on the wires and the vocabulary; the CLI edge may use everything. See ARCHITECTURE.md.

use std::collections::BTreeSet;
use std::path::Path;

/// What each module may import from the crate (besides itself). `None`: anything (the edge).
fn allowed(module: &str) -> Option<&'static [&'static str]> {
    Some(match module {
        "vocab" => &[],
        "wire" => &["vocab"],
        "api" => &["wire"],
        "config" | "live" => &["vocab"],
        "policy" => &["config", "live", "vocab"],
        "plan" => &["access", "config", "live", "policy", "vocab"],
        "provider" => &["api", "live", "plan", "vocab", "wire"],
        "apply" => &["live", "plan", "provider", "vocab"],
        "render" => &[
            "access", "apply", "live", "plan", "policy", "provider", "vocab",
        ],
        "sandbox" => &["vocab", "wire"],
        "export" | "access" => &["config", "live", "vocab"],
        "testkit" => &["config", "live", "sandbox", "vocab", "wire"],
        "cli" | "endpoint" | "output" | "lib" | "main" => return None,
        other => panic!("module `{other}` has no place in the stage order: add it here"),
    })
}

/// What the tests of a module may import besides (checking a result through a later stage).
fn allowed_in_tests(module: &str) -> &'static [&'static str] {
    match module {
        "export" => &["plan"],
        "render" => &["config"],
        _ => &[],
    }
}

fn is_test_file(rel: &Path) -> bool {
    rel.components().any(|c| {
        let c = c.as_os_str().to_string_lossy();
        c == "tests" || c == "tests.rs" || c == "testutil.rs"
    })
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The crate modules a source text names (`crate::plan::…`, `use crate::{a, b}`), outside
/// comments.
fn imports(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or_default();
        let mut rest = code;
        while let Some(i) = rest.find("crate::") {
            rest = &rest[i + "crate::".len()..];
            if let Some(group) = rest.strip_prefix('{') {
                let inner = group.split('}').next().unwrap_or_default();
                out.extend(inner.split(',').filter_map(|p| {
                    let name = p.trim().split("::").next()?.trim();
                    (!name.is_empty()).then(|| name.to_string())
                }));
            } else {
                let name = rest
                    .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .next()
                    .unwrap_or("");
                out.insert(name.to_string());
            }
        }
    }
    out
}

#[test]
fn imports_follow_the_stage_order() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut violations = Vec::new();
    for file in &files {
        let rel = file.strip_prefix(&src).unwrap();
        let first = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy();
        let module = first.trim_end_matches(".rs").to_string();
        let Some(may) = allowed(&module) else {
            continue;
        };
        let text = std::fs::read_to_string(file).unwrap();
        let extra = if is_test_file(rel) {
            allowed_in_tests(&module)
        } else {
            &[]
        };
        let permits = |list: &[&str], used: &str| {
            list.iter()
                .any(|p| used == *p || used.starts_with(&format!("{p}::")))
        };
        for used in imports(&text) {
            let own = used == module || used.starts_with(&format!("{module}::"));
            if !own && !permits(may, &used) && !permits(extra, &used) {
                violations.push(format!(
                    "{}: `{module}` imports `crate::{used}`",
                    rel.display()
                ));
            }
        }
    }
    assert!(
        violations.is_empty(),
        "imports against the stage order:\n{}",
        violations.join("\n")
    );
}

#[test]
fn the_import_reader_sees_groups_and_paths() {
    let text =
        "use crate::{plan::Plan, vocab};\nlet x = crate::live::Snapshot::empty(); // crate::cli\n";
    let got: Vec<String> = imports(text).into_iter().collect();
    assert_eq!(got, ["live", "plan", "vocab"]);
    let got: Vec<String> =
        imports("use crate::wire::nexudus::User;\nuse crate::provider::Target;\n")
            .into_iter()
            .collect();
    assert_eq!(got, ["provider", "wire"]);
}
