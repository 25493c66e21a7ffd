//! The manage gate end to end, against a real sandbox speaking the partner API: a partner that
//! is not manageable, or a customer that does not let its partner manage it, refuses at plan
//! time any change inside the customer and its deletion (exit 1, nothing written), and the API
//! refuses the same writes sent directly.

use serde_json::{Value, json};

use crate::support::cli::{Cmd, partnerctl};
use crate::support::{Api, Sandbox};

const PARTNER: &str = "version: 1\npartner: { name: Acme Partners }\ncustomers:\n";

const CONTOSO: &str = "  - key: contoso
    name: Contoso Ltd
    contact: { name: Jane Doe, email: jane@contoso.example }
    country: FR
    timezone: Europe/Paris
";

const CONTOSO_USERS: &str = "    users:
      - { email: jane@contoso.example, name: Jane Doe, role: admin }
";

const FABRIKAM: &str = "  - key: fabrikam
    name: Fabrikam Inc
    contact: { name: Ravi Patel, email: ravi@fabrikam.example }
    country: GB
    timezone: Europe/London
";

/// A configuration of `customers` in a new temporary directory.
fn config(customers: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let text = format!("{PARTNER}{}", customers.concat());
    std::fs::write(dir.path().join("partner.yaml"), text).unwrap();
    dir
}

/// `partnerctl SUBCOMMAND DIR` against `sb` with `token`.
fn run(sb: &Sandbox, token: &str, subcommand: &str, dir: &tempfile::TempDir) -> Cmd {
    partnerctl()
        .arg(subcommand)
        .arg(dir.path())
        .env("PARTNERCTL_ENDPOINT", &sb.url)
        .env("PARTNERCTL_TOKEN", token)
        .env("NO_COLOR", "1")
}

fn set_manageable(sb: &Sandbox, name: &str, to: &str) {
    sb.admin(&[
        "accounts",
        "set-manageable",
        "--name",
        name,
        "--manageable",
        to,
    ])
    .success();
}

/// The live accounts' names and users' emails, sorted.
async fn state(api: &Api) -> (Vec<String>, Vec<String>) {
    let field = |items: Vec<Value>, name: &str| {
        let mut v: Vec<String> = items
            .iter()
            .map(|i| i[name].as_str().unwrap().to_string())
            .collect();
        v.sort();
        v
    };
    (
        field(
            api.list_all("/v1/accounts", "AccountPage", 100).await,
            "name",
        ),
        field(api.list_all("/v1/users", "UserPage", 100).await, "email"),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_partner_that_is_not_manageable_cannot_prune_a_customer() {
    let sb = Sandbox::start();
    let token = sb.add_partner("Acme Partners", false);
    let api = Api::new(&sb.url, &token);
    // Creating customers is allowed.
    let both = config(&[CONTOSO, FABRIKAM]);
    run(&sb, &token, "apply", &both)
        .arg("--auto-approve")
        .run()
        .success();
    let before = state(&api).await;
    assert_eq!(before.0, ["Contoso Ltd", "Fabrikam Inc"]);

    let one = config(&[CONTOSO]);
    let refused = run(&sb, &token, "apply", &one)
        .args(["--auto-approve", "--prune", "--prune-accounts"])
        .run()
        .code(1);
    refused.stdout_contains(
        "partner `Acme Partners` is not manageable (support level `none`): 1 change(s) inside customers cannot be made (deleting a customer is one), e.g. customer.fabrikam;",
    );
    assert_eq!(state(&api).await, before, "nothing was written");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_customer_that_may_not_be_managed_refuses_changes_inside_it_until_it_allows_them() {
    let sb = Sandbox::start();
    let token = sb.add_partner("Acme Partners", true);
    let api = Api::new(&sb.url, &token);
    run(
        &sb,
        &token,
        "apply",
        &config(&[CONTOSO, CONTOSO_USERS, FABRIKAM]),
    )
    .arg("--auto-approve")
    .run()
    .success();
    set_manageable(&sb, "Contoso Ltd", "false");
    let before = state(&api).await;

    let new_user = "      - { email: new@contoso.example, name: New }\n";
    let more = config(&[CONTOSO, CONTOSO_USERS, new_user, FABRIKAM]);
    let refusal = "customer \"Contoso Ltd\" may not be managed by the partner (the vendor's \"manage\" permission for it is off): 1 change(s) to it or inside it cannot be made (deleting it is one), e.g. customer.contoso.user[new@contoso.example];";
    run(&sb, &token, "plan", &more)
        .run()
        .code(1)
        .stdout_contains(refusal);
    run(&sb, &token, "apply", &more)
        .arg("--auto-approve")
        .run()
        .code(1)
        .stdout_contains(refusal);
    assert_eq!(state(&api).await, before, "nothing was written");

    // The API refuses the same write sent directly, naming the customer.
    let accounts = api.list_all("/v1/accounts", "AccountPage", 100).await;
    let contoso = accounts
        .iter()
        .find(|a| a["name"] == "Contoso Ltd")
        .unwrap();
    assert_eq!(contoso["manageable"], false);
    let invite = format!("/v1/accounts/{}/users", contoso["id"].as_str().unwrap());
    let body = json!({"email": "new@contoso.example", "name": "New"});
    let problem = api
        .post(&invite, body.clone())
        .await
        .err(403, "management-disabled");
    let detail = problem["detail"].as_str().unwrap();
    assert!(detail.contains("customer \"Contoso Ltd\""), "{detail}");
    assert_eq!(state(&api).await, before, "nothing was written");

    // The customer allows it again: the change applies.
    set_manageable(&sb, "Contoso Ltd", "true");
    run(&sb, &token, "apply", &more)
        .arg("--auto-approve")
        .run()
        .success()
        .stdout_contains("1 done, 0 failed, 0 skipped");
    assert!(
        state(&api)
            .await
            .1
            .contains(&"new@contoso.example".to_string())
    );
}
