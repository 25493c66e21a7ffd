//! Saved plans against the real sandbox binary: what a plan file is bound to (its partner, its
//! endpoint, the options that lowered a guard), that a refused plan is never saved, and that
//! an edited file is refused (by its digest, and with `PARTNERCTL_PLAN_KEY` by its signature).
//! Every refusal is checked to have written nothing, through the API.

use std::path::Path;

use serde_json::Value;
use sha2::Digest;

use crate::apply::{apply, dump, path_str, with_target};
use crate::support::cli::{Cmd, Run, partnerctl, root};
use crate::support::{Api, Sandbox, acme};

/// `partnerctl plan` against `sb` as the partner of `token`, with `CI` set.
fn plan(sb: &Sandbox, token: &str) -> Cmd {
    with_target(partnerctl().arg("plan"), sb, token)
}

/// The live id of the token's partner, read through the API.
fn partner_id(sb: &Sandbox, token: &str) -> String {
    let api = Api::new(&sb.url, token);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let partner = rt.block_on(api.get("/v1/partner")).ok("Partner");
    partner["id"].as_str().unwrap().to_string()
}

fn read(file: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap()
}

fn write(file: &Path, doc: &Value) {
    std::fs::write(file, serde_json::to_string_pretty(doc).unwrap()).unwrap();
}

/// The digest as partnerctl computed it before it covered the whole file: SHA-256 of the
/// partner id, options, configuration and operations.
fn old_digest(doc: &Value) -> String {
    let parts = (
        &doc["partner_id"],
        &doc["options"],
        &doc["sources"],
        &doc["operations"],
    );
    let body = serde_json::to_vec(&parts).unwrap();
    format!("sha256:{:x}", sha2::Sha256::digest(&body))
}

#[test]
fn a_saved_plan_is_refused_for_another_partner_of_the_same_name() {
    let sb = Sandbox::start();
    let ours = sb.add_partner("Acme Partners", true);
    let theirs = sb.add_partner("Acme Partners", true);
    let dir = tempfile::tempdir().unwrap();
    let file = path_str(&dir.path().join("plan.json"));
    plan(&sb, &ours)
        .args([&acme(), "-o", &file])
        .run()
        .success();
    let (our_id, their_id) = (partner_id(&sb, &ours), partner_id(&sb, &theirs));
    assert_ne!(our_id, their_id);

    let run = apply(&sb, &theirs, &["--plan", &file]).code(1);
    run.stderr_contains(&format!(
        "the plan was saved for partner \"Acme Partners\" (id {our_id}), and the token is now of partner \"Acme Partners\" (id {their_id})"
    ));
    run.stderr_contains(&format!(
        "use a token of partner {our_id} in PARTNERCTL_TOKEN"
    ));
    run.stderr_contains("Nothing was changed.");
    assert!(dump(&sb, &theirs).accounts.is_empty(), "zero writes");
    assert!(dump(&sb, &ours).accounts.is_empty(), "zero writes");

    // The partner it was saved for: applied.
    apply(&sb, &ours, &["--plan", &file])
        .success()
        .stdout_contains("Apply complete: 24 done");
}

#[test]
fn a_saved_plan_is_refused_against_another_endpoint() {
    // A second sandbox on a copy of the first one's database: the same partner (id, name and
    // token) and the same live state, at another address.
    let dir = tempfile::tempdir().unwrap();
    let mut first = Sandbox::start();
    let token = first.add_partner("Acme Partners", true);
    let file = path_str(&dir.path().join("plan.json"));
    plan(&first, &token)
        .args([&acme(), "-o", &file])
        .run()
        .success();
    first.kill9();
    let copy = dir.path().join("copy.db");
    std::fs::copy(&first.db, &copy).unwrap();
    let wal = |db: &Path| db.with_file_name(format!("{}-wal", db.file_name().unwrap().display()));
    if wal(&first.db).exists() {
        std::fs::copy(wal(&first.db), wal(&copy)).unwrap();
    }
    let second = Sandbox::start_on(&copy, &[]);
    assert_ne!(second.url, first.url);

    let run = apply(&second, &token, &["--plan", &file]).code(1);
    run.stderr_contains(&format!(
        "the plan was saved against {} and would now be applied to {};",
        first.url, second.url
    ));
    run.stderr_contains(&format!(
        "point PARTNERCTL_ENDPOINT (or --endpoint) at {}",
        first.url
    ));
    assert!(dump(&second, &token).accounts.is_empty(), "zero writes");

    // A plan of the embedded sandbox is bound to it, not to a URL.
    let local = tempfile::tempdir().unwrap();
    let embedded = partnerctl()
        .current_dir(local.path())
        .args(["plan", &acme(), "-o", "plan.json"])
        .run()
        .success();
    embedded.stderr_contains("Using the embedded sandbox");
    assert_eq!(read(&local.path().join("plan.json"))["endpoint"], "local");
    let run = with_target(partnerctl().arg("apply"), &second, &token)
        .current_dir(local.path())
        .args(["--plan", "plan.json"])
        .run()
        .code(1);
    run.stderr_contains(&format!(
        "the plan was saved against the embedded sandbox (`--endpoint local`) and would now be applied to {};",
        second.url
    ));
    assert!(dump(&second, &token).accounts.is_empty(), "zero writes");
}

/// The acme example without any of Contoso's users, in a new directory (keep it alive).
fn acme_without_contoso_users() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let from = root().join("examples/acme");
    std::fs::create_dir_all(dir.path().join("customers")).unwrap();
    for f in ["partner.yaml", "customers/others.yaml"] {
        std::fs::copy(from.join(f), dir.path().join(f)).unwrap();
    }
    let contoso = std::fs::read_to_string(from.join("customers/contoso.yaml")).unwrap();
    let kept: Vec<&str> = contoso
        .lines()
        .filter(|l| !l.trim_start().starts_with("- { email:") && !l.contains("users:"))
        .collect();
    assert_eq!(
        contoso.lines().count() - kept.len(),
        7,
        "five users and the lists holding them"
    );
    std::fs::write(dir.path().join("customers/contoso.yaml"), kept.join("\n")).unwrap();
    let cfg = path_str(dir.path());
    (dir, cfg)
}

/// A sandbox where the acme example was applied (10 invitations), its token, and the acme
/// example without Contoso's users: pruning with it removes 5 of the 10 invitations (50 %),
/// over the 25 % of the delete guard.
fn applied_acme_and_a_pruning_config() -> (Sandbox, String, tempfile::TempDir, String) {
    let sb = Sandbox::start();
    let token = sb.add_partner("Acme Partners", true);
    apply(&sb, &token, &[&acme(), "--auto-approve"]).success();
    let (dir, cfg) = acme_without_contoso_users();
    (sb, token, dir, cfg)
}

#[test]
fn a_refused_plan_is_never_saved() {
    let (sb, token, _cfg_dir, cfg) = applied_acme_and_a_pruning_config();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plan.json");
    let run = plan(&sb, &token)
        .args([&cfg, "--prune", "-o", &path_str(&file)])
        .run()
        .code(1);
    run.stdout_contains("deleting 5 of 10 users (50%) exceeds --max-delete-percent 25");
    run.stderr_contains(&format!(
        "the plan was not saved to {}: a refused plan is never saved.",
        file.display()
    ));
    assert!(!file.exists(), "no file");
    // Nor does it replace an existing plan.
    plan(&sb, &token)
        .args([&acme(), "-o", &path_str(&file)])
        .run()
        .success();
    let before = std::fs::read(&file).unwrap();
    plan(&sb, &token)
        .args([&cfg, "--prune", "-o", &path_str(&file)])
        .run()
        .code(1);
    assert_eq!(std::fs::read(&file).unwrap(), before, "unchanged");
}

#[test]
fn the_options_that_lowered_a_guard_are_given_again_to_apply_a_saved_plan() {
    let (sb, token, _cfg_dir, cfg) = applied_acme_and_a_pruning_config();
    let dir = tempfile::tempdir().unwrap();
    let file = path_str(&dir.path().join("plan.json"));
    let live = dump(&sb, &token);

    // Saved with a raised --max-delete-percent: that option, with its value, and no other.
    plan(&sb, &token)
        .args([&cfg, "--prune", "--max-delete-percent", "50", "-o", &file])
        .run()
        .success();
    let run = apply(&sb, &token, &["--plan", &file, "--force"]).code(1);
    run.stderr_contains("the plan was saved with `--max-delete-percent 50`, which lowers a guard: give `--max-delete-percent 50` again");
    run.stderr_contains("`--force` was given, and the plan was saved without it");
    let run = apply(
        &sb,
        &token,
        &["--plan", &file, "--max-delete-percent", "60"],
    )
    .code(1);
    run.stderr_contains(
        "the plan was saved with `--max-delete-percent 50`, not `--max-delete-percent 60`",
    );
    // --prune is the plan's own: never given again.
    apply(&sb, &token, &["--plan", &file, "--prune"])
        .code(1)
        .stderr_contains("cannot be combined with --plan: they are part of the reviewed plan");
    assert_eq!(dump(&sb, &token), live, "zero writes");

    // Saved with --force: refused without it, naming it; applied with it.
    let run = plan(&sb, &token)
        .args([&cfg, "--prune", "--force", "-o", &file])
        .run()
        .success();
    run.stderr_contains(&format!("run `partnerctl apply --plan {file} --force`"));
    let run = apply(&sb, &token, &["--plan", &file]).code(1);
    run.stderr_contains(
        "the plan was saved with `--force`, which lowers a guard: give `--force` again",
    );
    run.stderr_contains(&format!(
        "To apply it: `partnerctl apply --plan {file} --force`"
    ));
    assert_eq!(dump(&sb, &token), live, "zero writes");
    apply(&sb, &token, &["--plan", &file, "--force"])
        .success()
        .stdout_contains("Apply complete: 5 done");
    assert_eq!(dump(&sb, &token).users.len(), 5);
}

#[test]
fn an_edited_plan_is_refused_though_its_digest_was_recomputed_the_old_way() {
    let sb = Sandbox::start();
    let token = sb.add_partner("Acme Partners", true);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plan.json");
    plan(&sb, &token)
        .args([&acme(), "-o", &path_str(&file)])
        .run()
        .success();
    let saved = read(&file);
    assert_eq!(saved["format_version"], "2");

    // The options edited, the old digest recomputed: refused by apply.
    let mut forced = saved.clone();
    forced["options"]["force"] = Value::Bool(true);
    forced["digest"] = Value::from(old_digest(&forced));
    write(&file, &forced);
    let run = apply(&sb, &token, &["--plan", &path_str(&file)]).code(1);
    run.stderr_contains("plan file digest mismatch");
    assert!(dump(&sb, &token).accounts.is_empty(), "zero writes");

    // What `show` renders, edited: refused by show.
    type Edit = fn(&mut Value);
    let edits: [(&str, Edit); 2] = [
        ("another partner name", |d| {
            d["context"]["partner"]["name"] = Value::from("Other Partners")
        }),
        ("an emptied access list", |d| {
            d["context"]["access"] = Value::Array(Vec::new())
        }),
    ];
    for (what, edit) in edits {
        let mut doc = saved.clone();
        edit(&mut doc);
        assert_ne!(doc, saved, "{what}");
        doc["digest"] = Value::from(old_digest(&doc));
        assert_eq!(
            doc["digest"],
            Value::from(old_digest(&saved)),
            "{what}: the old digest is blind to it"
        );
        write(&file, &doc);
        partnerctl()
            .arg("show")
            .arg(&file)
            .run()
            .code(1)
            .stderr_contains("plan file digest mismatch");
    }

    // A file of the previous format: plan again.
    let mut old = saved.clone();
    old["format_version"] = Value::from("1");
    write(&file, &old);
    let run = apply(&sb, &token, &["--plan", &path_str(&file)]).code(1);
    run.stderr_contains("plan file format 1 is not supported by this partnerctl (it reads format 2); re-run `partnerctl plan -o`");

    // Unedited: applied.
    write(&file, &saved);
    apply(&sb, &token, &["--plan", &path_str(&file)]).success();
}

/// `cmd` with `PARTNERCTL_PLAN_KEY`.
fn keyed(cmd: Cmd, key: &str) -> Cmd {
    cmd.env("PARTNERCTL_PLAN_KEY", key)
}

#[test]
fn with_a_key_a_plan_is_signed_and_only_a_plan_it_signed_applies() {
    const KEY: &str = "2f1c0e9b8a7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a3928170605f4e3";
    let sb = Sandbox::start();
    let token = sb.add_partner("Acme Partners", true);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plan.json");
    let f = path_str(&file);
    keyed(plan(&sb, &token), KEY)
        .args([&acme(), "-o", &f])
        .run()
        .success()
        .stderr_contains(", signed)");
    let signed = read(&file);
    assert!(
        signed["signature"]
            .as_str()
            .unwrap()
            .starts_with("hmac-sha256:"),
        "{signed}"
    );
    let refused = |run: Run, why: &str| {
        run.code(1).stderr_contains(why);
        assert!(dump(&sb, &token).accounts.is_empty(), "zero writes");
    };

    // Edited, with the digest recomputed over the whole file as partnerctl does.
    let mut doc: partnerctl::plan::SavedPlan = serde_json::from_value(signed.clone()).unwrap();
    doc.options.force = true;
    doc.digest = doc.content_digest();
    std::fs::write(&file, doc.to_json()).unwrap();
    refused(
        keyed(partnerctl(), KEY).args(["show", &f]).run(),
        "the plan's signature does not match PARTNERCTL_PLAN_KEY",
    );
    refused(
        keyed(with_target(partnerctl().arg("apply"), &sb, &token), KEY)
            .args(["--plan", &f])
            .run(),
        "the plan's signature does not match PARTNERCTL_PLAN_KEY",
    );
    // The signature removed.
    let mut unsigned = signed.clone();
    unsigned.as_object_mut().unwrap().remove("signature");
    write(&file, &unsigned);
    refused(
        keyed(with_target(partnerctl().arg("apply"), &sb, &token), KEY)
            .args(["--plan", &f])
            .run(),
        "the plan is not signed, and PARTNERCTL_PLAN_KEY is set",
    );

    write(&file, &signed);
    // Another key.
    refused(
        keyed(
            with_target(partnerctl().arg("apply"), &sb, &token),
            "another key",
        )
        .args(["--plan", &f])
        .run(),
        "the plan's signature does not match PARTNERCTL_PLAN_KEY",
    );
    // No key.
    refused(
        apply(&sb, &token, &["--plan", &f]),
        "is signed, and PARTNERCTL_PLAN_KEY is not set, so its signature cannot be checked",
    );
    // A key set but empty, as a CI secret that is not set.
    refused(
        keyed(with_target(partnerctl().arg("apply"), &sb, &token), "")
            .args(["--plan", &f])
            .run(),
        "PARTNERCTL_PLAN_KEY is set but empty",
    );
    // `show` without the key renders it, saying what it did not check.
    partnerctl()
        .args(["show", &f])
        .run()
        .success()
        .stderr_contains("its signature was not checked (PARTNERCTL_PLAN_KEY is not set)");

    // The key that signed it.
    keyed(with_target(partnerctl().arg("apply"), &sb, &token), KEY)
        .args(["--plan", &f])
        .run()
        .success()
        .stdout_contains("Apply complete: 24 done");
}

/// `plan -o` never saves over one of the configuration's own files (named directly, found in
/// a directory, or reached through a link), not even with `--overwrite`; it replaces a file
/// that is not a saved plan only with `--overwrite`, and a saved plan (or an empty file)
/// without. Each refusal leaves the file as it was; a saved plan is written through a
/// temporary file that does not remain.
#[test]
fn plan_o_never_replaces_a_configuration_file_and_asks_before_replacing_another() {
    use std::os::unix::fs::symlink;
    let sb = Sandbox::start();
    let token = sb.add_partner("Acme Partners", true);
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("acme");
    std::fs::create_dir_all(cfg.join("customers")).unwrap();
    for rel in [
        "partner.yaml",
        "customers/contoso.yaml",
        "customers/others.yaml",
    ] {
        std::fs::copy(root().join("examples/acme").join(rel), cfg.join(rel)).unwrap();
    }
    let contoso = cfg.join("customers/contoso.yaml");
    let original = std::fs::read_to_string(&contoso).unwrap();
    let link = dir.path().join("plan-link.json");
    symlink(&contoso, &link).unwrap();
    let cfg_s = path_str(&cfg);
    for (paths, out) in [
        (vec![cfg_s.clone()], contoso.clone()),
        (vec![cfg_s.clone()], link.clone()),
        (
            vec![path_str(&cfg.join("partner.yaml")), path_str(&contoso)],
            contoso.clone(),
        ),
    ] {
        for overwrite in [false, true] {
            let mut cmd = plan(&sb, &token).args(&paths).arg("-o").arg(&out);
            if overwrite {
                cmd = cmd.arg("--overwrite");
            }
            let run = cmd.run().code(1);
            run.stderr_contains(&format!(
                "{} is a file of the configuration being planned ({}); a plan is never saved over it, even with --overwrite. Nothing was planned: choose another -o",
                out.display(),
                contoso.display()
            ));
            assert_eq!(std::fs::read_to_string(&contoso).unwrap(), original);
        }
    }

    let notes = dir.path().join("notes.txt");
    std::fs::write(&notes, "my notes\n").unwrap();
    let notes_s = path_str(&notes);
    let run = plan(&sb, &token)
        .args([&cfg_s, "-o", &notes_s])
        .run()
        .code(1);
    run.stderr_contains(&format!(
        "{notes_s} exists and is not a saved plan; nothing was planned. Pass --overwrite to replace it, or choose another -o"
    ));
    assert_eq!(std::fs::read_to_string(&notes).unwrap(), "my notes\n");
    plan(&sb, &token)
        .args([&cfg_s, "-o", &notes_s, "--overwrite"])
        .run()
        .success();
    assert!(read(&notes)["format_version"].is_string());
    // A saved plan is replaced without asking; so is an empty file.
    plan(&sb, &token)
        .args([&cfg_s, "-o", &notes_s])
        .run()
        .success();
    let empty = dir.path().join("empty.json");
    std::fs::write(&empty, "").unwrap();
    plan(&sb, &token)
        .args([&cfg_s, "-o", &path_str(&empty)])
        .run()
        .success();
    partnerctl()
        .args(["show", &path_str(&empty)])
        .run()
        .success()
        .stdout_contains("customer.contoso");
    // Nothing remains of the temporary files the plans were written through.
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["acme", "empty.json", "notes.txt", "plan-link.json"]);
    assert_eq!(std::fs::read_to_string(&contoso).unwrap(), original);
}

/// The acme example in a new directory (keep it alive), each file's text changed by `edit`
/// (given its path relative to the example).
fn acme_edited(edit: impl Fn(&str, String) -> String) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let from = root().join("examples/acme");
    std::fs::create_dir_all(dir.path().join("customers")).unwrap();
    for f in [
        "partner.yaml",
        "customers/contoso.yaml",
        "customers/others.yaml",
    ] {
        let text = std::fs::read_to_string(from.join(f)).unwrap();
        let edited = edit(f, text.clone());
        std::fs::write(dir.path().join(f), edited).unwrap();
    }
    let cfg = path_str(dir.path());
    (dir, cfg)
}

/// The line of Northwind's second user in the acme example.
const NORTHWIND_IT: &str = "      - { email: it@northwind.example, name: Northwind IT }\n";

/// Acme with a new user in Northwind (an invitation), and with `also` changing the text of
/// `customers/others.yaml` further.
fn acme_with_a_new_northwind_user(also: fn(String) -> String) -> (tempfile::TempDir, String) {
    acme_edited(move |f, text| {
        if f != "customers/others.yaml" {
            return text;
        }
        assert!(text.contains(NORTHWIND_IT), "{text}");
        let text = text.replace(
            NORTHWIND_IT,
            &format!(
                "{NORTHWIND_IT}      - {{ email: new@northwind.example, name: New Person }}\n"
            ),
        );
        also(text)
    })
}

/// The live account with external key `key`, read through the API.
fn account(sb: &Sandbox, token: &str, key: &str) -> Value {
    dump(sb, token)
        .accounts
        .into_iter()
        .find(|a| a["external_key"] == key)
        .unwrap_or_else(|| panic!("no account {key}"))
}

/// Plans `cfg` (with `args`) against an estate where the configuration `applied` was applied
/// (its invitations pending), saves the plan, and returns the sandbox, its token and the plan
/// file (in `dir`).
fn saved_against_applied(
    applied: &str,
    cfg: &str,
    dir: &Path,
    args: &[&str],
) -> (Sandbox, String, String) {
    let sb = Sandbox::start();
    let token = sb.add_partner("Acme Partners", true);
    apply(&sb, &token, &[applied, "--auto-approve"]).success();
    let file = path_str(&dir.join("plan.json"));
    plan(&sb, &token)
        .arg(cfg)
        .args(args)
        .args(["-o", &file])
        .run()
        .success();
    (sb, token, file)
}

#[test]
fn an_unrelated_invitation_expiring_after_plan_o_does_not_stop_apply_plan_and_is_reported() {
    let (_cfg_dir, cfg) = acme_with_a_new_northwind_user(|t| t);
    let dir = tempfile::tempdir().unwrap();
    let (sb, token, file) = saved_against_applied(&acme(), &cfg, dir.path(), &[]);
    // Between review and merge, an invitation in another customer expires.
    sb.admin(&["users", "expire", "--email", "jane@contoso.example"])
        .success();

    let run = apply(&sb, &token, &["--plan", &file]).success();
    run.stdout_contains("Apply complete: 1 done");
    run.stdout_contains(
        "1 change is needed now that this plan did not include (customer.contoso.user[jane@contoso.example] (resend)); run `partnerctl plan` to review it.",
    );
    let users = dump(&sb, &token).users;
    let status = |email: &str| {
        let u = users.iter().find(|u| u["email"] == email);
        u.map(|u| u["status"].as_str().unwrap().to_string())
    };
    assert_eq!(status("new@northwind.example").as_deref(), Some("invited"));
    // Exactly the saved operations: the expired invitation is left for the next plan.
    assert_eq!(status("jane@contoso.example").as_deref(), Some("expired"));
}

#[test]
fn a_saved_operations_account_renamed_by_hand_stops_apply_plan_naming_the_account_and_field() {
    // The plan updates Fabrikam (its tier label) and invites a new user into Northwind.
    let (_cfg_dir, cfg) = acme_with_a_new_northwind_user(|t| {
        t.replace("labels: { tier: silver }", "labels: { tier: gold }")
    });
    let dir = tempfile::tempdir().unwrap();
    let (sb, token, file) = saved_against_applied(&acme(), &cfg, dir.path(), &[]);
    // Someone renames Fabrikam in the dashboard meanwhile.
    let fabrikam = account(&sb, &token, "fabrikam");
    let api = Api::new(&sb.url, &token);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(api.patch(
        &format!("/v1/accounts/{}", fabrikam["id"].as_str().unwrap()),
        serde_json::json!({"name": "Fabrikam (renamed by hand)"}),
        fabrikam["etag"].as_str(),
    ))
    .ok("Account");
    let before = dump(&sb, &token);

    let run = apply(&sb, &token, &["--plan", &file]).code(1);
    run.stderr_contains(&format!(
        "plan is stale: {file}: 1 of its 2 operations needs objects that changed since the plan was made:\n  - customer.fabrikam (update): name \"Fabrikam Inc\" → \"Fabrikam (renamed by hand)\"\nNothing was changed. Run `partnerctl plan -o` again and review the new plan."
    ));
    assert_eq!(dump(&sb, &token), before, "zero writes");
}

#[test]
fn an_account_deleted_by_hand_that_a_saved_operation_needs_stops_apply_plan() {
    let (_cfg_dir, cfg) = acme_with_a_new_northwind_user(|t| t);
    let dir = tempfile::tempdir().unwrap();
    let (sb, token, file) = saved_against_applied(&acme(), &cfg, dir.path(), &[]);
    // Northwind, which the saved invitation goes to, is deleted by hand.
    let northwind = account(&sb, &token, "northwind");
    let api = Api::new(&sb.url, &token);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let resp = rt.block_on(api.delete(
        &format!("/v1/accounts/{}", northwind["id"].as_str().unwrap()),
        northwind["etag"].as_str(),
    ));
    assert!(resp.status < 300, "{}", resp.status);
    let before = dump(&sb, &token);

    let run = apply(&sb, &token, &["--plan", &file]).code(1);
    run.stderr_contains(&format!(
        "plan is stale: {file}: its one operation needs objects that changed since the plan was made:\n  - customer.northwind.user[new@northwind.example] (invite): customer.northwind was deleted since the plan was made\nNothing was changed."
    ));
    assert_eq!(dump(&sb, &token), before, "zero writes");
}

#[test]
fn apply_plan_checks_the_guards_against_the_live_state_of_now() {
    // Twelve invitations (acme and two more at Fabrikam); revoking three of them is the 25 %
    // the deletion guard allows.
    let extra = "      - { email: x1@fabrikam.example, name: Extra One }\n      - { email: x2@fabrikam.example, name: Extra Two }\n";
    let ravi = "      - { email: ravi@fabrikam.example, name: Ravi Patel, role: admin }\n";
    let (_all_dir, all) = acme_edited(|_, text| text.replace(ravi, &format!("{ravi}{extra}")));
    let revoked = [
        "finance@contoso.example",
        "it@northwind.example",
        "x1@fabrikam.example",
    ];
    let (_cfg_dir, cfg) = acme_edited(|_, text| {
        text.replace(ravi, &format!("{ravi}{extra}"))
            .lines()
            .filter(|l| !revoked.iter().any(|r| l.contains(r)))
            .map(|l| format!("{l}\n"))
            .collect()
    });
    let dir = tempfile::tempdir().unwrap();
    let (sb, token, file) = saved_against_applied(&all, &cfg, dir.path(), &["--prune"]);
    assert_eq!(dump(&sb, &token).users.len(), 12);
    // Another invitation is revoked by hand meanwhile: three of eleven is over 25 %.
    let api = Api::new(&sb.url, &token);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let jane = account_user(&sb, &token, "jane@contoso.example");
    let resp = rt.block_on(api.delete(
        &format!("/v1/users/{}", jane["id"].as_str().unwrap()),
        jane["etag"].as_str(),
    ));
    assert!(resp.status < 300, "{}", resp.status);
    let before = dump(&sb, &token);
    assert_eq!(before.users.len(), 11);

    let run = apply(&sb, &token, &["--plan", &file]).code(1);
    run.stdout_contains("deleting 3 of 11 users (28%) exceeds --max-delete-percent 25");
    run.stderr_contains("the guards refuse the saved plan against the live state of now");
    assert_eq!(dump(&sb, &token), before, "zero writes");
}

/// The live user with `email`, read through the API.
fn account_user(sb: &Sandbox, token: &str, email: &str) -> Value {
    dump(sb, token)
        .users
        .into_iter()
        .find(|u| u["email"] == email)
        .unwrap_or_else(|| panic!("no user {email}"))
}
