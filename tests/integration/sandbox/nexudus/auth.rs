//! Signing in: the form-encoded password grant (JSON refused, wrong passwords refused), bearer
//! tokens, HTTP Basic, and a login with two-factor authentication.

use partnerctl::wire::nexudus::{Page, Reseller, TokenResponse};
use serde_json::json;

use crate::support::Sandbox;
use crate::support::nexudus::{Auth, LOGIN, Nx, PASSWORD};

#[tokio::test]
async fn the_token_grant_takes_a_form_and_refuses_json_and_wrong_passwords() {
    let sb = Sandbox::nexudus(&[]);
    let (_, partner_token) = sb.nexudus_partner_token("Acme", LOGIN);
    let anon = Nx::new(&sb.url, Auth::None);
    let grant = |user: &'static str, pw: &'static str| {
        [
            ("grant_type", "password"),
            ("username", user),
            ("password", pw),
        ]
    };
    let t: TokenResponse = serde_json::from_value(
        anon.token_form(&grant("OPS@acme.example", PASSWORD))
            .await
            .ok(),
    )
    .unwrap();
    assert_eq!(t.token_type, "bearer");
    assert_eq!(
        t.expires_in, 604,
        "a week (604,799 s) divided by the time scale"
    );
    let bearer = Nx::new(&sb.url, Auth::Bearer(t.access_token));
    let page: Page<Reseller> =
        serde_json::from_value(bearer.get("/api/sys/resellers").await.ok()).unwrap();
    assert_eq!(page.records.len(), 1);
    assert_eq!(page.records[0].name, "Acme");

    let json_grant = anon
        .post(
            "/api/token",
            json!({"grant_type": "password", "username": LOGIN, "password": PASSWORD}),
        )
        .await;
    assert_eq!(json_grant.status, 400);
    assert_eq!(json_grant.body["error"], "unsupported_grant_type");
    for (form, error) in [
        (grant(LOGIN, "wrong").to_vec(), "invalid_grant"),
        (
            grant("who@acme.example", PASSWORD).to_vec(),
            "invalid_grant",
        ),
        (
            vec![("username", LOGIN), ("password", PASSWORD)],
            "invalid_request",
        ),
        (
            vec![("grant_type", "password"), ("username", LOGIN)],
            "invalid_request",
        ),
        (
            vec![("grant_type", "client_credentials")],
            "unsupported_grant_type",
        ),
    ] {
        let r = anon.token_form(&form).await;
        assert_eq!(
            (r.status, r.body["error"].as_str()),
            (400, Some(error)),
            "{form:?}"
        );
    }

    // The partner's API token works as a bearer token too (same store, same partner).
    let same = Nx::new(&sb.url, Auth::Bearer(partner_token));
    same.get("/api/sys/resellers").await.ok();
}

#[tokio::test]
async fn every_other_request_needs_bearer_or_basic() {
    let sb = Sandbox::nexudus(&[]);
    let basic = sb.nexudus_partner("Acme", LOGIN);
    let page = basic.get("/api/sys/businesses").await.ok();
    assert_eq!(page["TotalItems"], 1, "the reseller's own business: {page}");
    for auth in [
        Auth::None,
        Auth::Bearer("psk_unknown".into()),
        Auth::Basic(LOGIN.into(), "wrong".into()),
        Auth::Basic("who@acme.example".into(), PASSWORD.into()),
    ] {
        let r = Nx::new(&sb.url, auth.clone())
            .get("/api/sys/businesses")
            .await
            .refused(401);
        assert_eq!(r["Status"], 401, "{auth:?}");
        let w = Nx::new(&sb.url, auth.clone())
            .post(
                "/api/sys/users",
                json!({"FullName": "A", "Email": "a@x.example"}),
            )
            .await;
        assert_eq!(w.status, 401, "{auth:?}");
    }
    assert!(
        basic.list_all("/api/sys/users", 10).await.is_empty(),
        "refused writes wrote nothing"
    );
}

#[tokio::test]
async fn a_login_with_two_factors_needs_a_totp_and_cannot_use_basic() {
    let sb = Sandbox::nexudus(&[]);
    sb.admin(&[
        "partner",
        "add",
        "--name",
        "Acme",
        "--login",
        LOGIN,
        "--password",
        PASSWORD,
        "--totp",
    ])
    .success();
    let anon = Nx::new(&sb.url, Auth::None);
    let with = |totp: &'static str| {
        [
            ("grant_type", "password"),
            ("username", LOGIN),
            ("password", PASSWORD),
            ("totp", totp),
        ]
    };
    let without = anon
        .token_form(&[
            ("grant_type", "password"),
            ("username", LOGIN),
            ("password", PASSWORD),
        ])
        .await;
    assert_eq!(
        (without.status, without.body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    assert_eq!(anon.token_form(&with("12345")).await.status, 400);
    assert_eq!(anon.token_form(&with("12a456")).await.status, 400);
    let t = anon.token_form(&with("482910")).await.ok();
    let bearer = Nx::new(
        &sb.url,
        Auth::Bearer(t["access_token"].as_str().unwrap().into()),
    );
    bearer.get("/api/sys/resellers").await.ok();
    let basic = Nx::new(&sb.url, Auth::Basic(LOGIN.into(), PASSWORD.into()));
    basic.get("/api/sys/resellers").await.refused(401);
}
