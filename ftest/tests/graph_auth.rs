//! The token endpoint and bearer tokens: client-credentials with a secret and with a certificate
//! assertion (structure only, and with signature verification), password and refresh-token grants, AAD's
//! error bodies and AADSTS codes, and Graph's 401s for missing, unknown and expired tokens.

mod graph_support;

use std::time::Duration;

use base64::Engine;
use ftest::graph::data::DataSize;
use ftest::{GraphFixture, GraphOptions};
use graph_support::{get, start, start_with};
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs1v15::SigningKey;
use rsa::signature::{SignatureEncoding, Signer};
use rsa::RsaPrivateKey;
use serde_json::{json, Value};
use sha2::Sha256;

/// A throw-away 1024-bit key made for this test only (small so debug-build signing stays fast).
const TEST_PRIVATE_KEY: &str = "-----BEGIN RSA PRIVATE KEY-----\nMIICXAIBAAKBgQDLRMdLXbZ68QgideRtuD7FuiWdILOS68tQaIXM4JqiwzKAdU2l\ncpiT6YqYUJPXYChjz2mZ7m9Nf1cMwIGKsFOxfDgKEEJXHGxGuXTeULLBy4Sth5Lc\ndpylupUYXNWKIFWPxt+SM4p293gXNUYi5Y6b5rgTuAiNyaSYmDy0NOtg2wIDAQAB\nAoGAB+ZVZH1w4RhK+6PfS9BUSDTyz0d9EyGs1iQpxwuXlunFJa7pZJuuiFkUNNU0\n2bL3/uEJtpzIoJdpV6qHnk86AWL9BbI3tJeEK18VTUH7fAox2NY+L3Xa7knwkifT\n3rnBAUV4WY7MX6zgqG+0FV3ZxYwuz+MPyFF8Ev1gSLypW4kCQQD/j8tUusgSdLm8\nwolfyjKP2CAP14ORy8fCBTAZeYxCkxMStN2v08Xpvbm+H+RXp6qFgf80OLVExs3o\nst+g2Jl1AkEAy54GUnSuk7Czwjt+hhd+4dRARESsnWoHy9le7QSxamaeOfv3CZmy\nb325zFR422G6AMkerdvEsQ0vWhO4I7F3DwJBAMUup436h8Blu6G+38u+8QA3m5Vd\njbCCcOBsrE4bkHMVk5PNZXbyiTPuJVBivwY64cEdKlGap5InalxvF0i9lrkCQEPa\n1aCE4ei16jHAQdnN2qrHYONfP2b1/sMgHVI/TiB3MiOApEK+xYgCDfjZ7ayuVJ4O\nZ/roUhPuoOkTyTmb2mECQGtY//+laTTUqkyAnHtoyunlP/U5RIEe2CTmisl8wgMo\nX8A7ud8jkuN1aDzh3oJGE9gFsNyb4lmplE6J7eY18g0=\n-----END RSA PRIVATE KEY-----";
const TEST_PUBLIC_KEY: &str = "-----BEGIN PUBLIC KEY-----\nMIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDLRMdLXbZ68QgideRtuD7FuiWd\nILOS68tQaIXM4JqiwzKAdU2lcpiT6YqYUJPXYChjz2mZ7m9Nf1cMwIGKsFOxfDgK\nEEJXHGxGuXTeULLBy4Sth5LcdpylupUYXNWKIFWPxt+SM4p293gXNUYi5Y6b5rgT\nuAiNyaSYmDy0NOtg2wIDAQAB\n-----END PUBLIC KEY-----";
const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

async fn post_token(fixture: &GraphFixture, tenant: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let url = format!("{}/{tenant}/oauth2/v2.0/token", fixture.login_url());
    let response = reqwest::Client::new()
        .post(url)
        .form(form)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn secret_form<'a>(fixture: &'a GraphFixture, secret: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("grant_type", "client_credentials"),
        ("client_id", &fixture.options.client_id),
        ("client_secret", secret),
        ("scope", "https://graph.microsoft.com/.default"),
    ]
}

fn assert_aad_error(
    status: u16,
    body: &Value,
    want_status: u16,
    error: &str,
    code: u64,
    text: &str,
) {
    assert_eq!(status, want_status, "{body}");
    assert_eq!(body["error"], error, "{body}");
    assert_eq!(body["error_codes"], json!([code]), "{body}");
    let description = body["error_description"].as_str().unwrap_or_default();
    assert!(
        description.starts_with(&format!("AADSTS{code}: {text}")),
        "{description}"
    );
    assert!(
        description.contains("Trace ID: ") && description.contains("Correlation ID: "),
        "{description}"
    );
}

#[tokio::test]
async fn client_secret_grant_and_its_errors() {
    let fixture = start(DataSize::Small, 1);
    let (status, body) = post_token(
        &fixture,
        "fixture-tenant",
        &secret_form(&fixture, "fixture-secret"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3599);
    assert_eq!(body["ext_expires_in"], 3599);
    let token = body["access_token"].as_str().unwrap();
    let users = get(&format!("{}/users", fixture.graph_url()), Some(token)).await;
    assert_eq!(users.status, 200, "{}", users.text);

    let (status, body) =
        post_token(&fixture, "fixture-tenant", &secret_form(&fixture, "wrong")).await;
    assert_aad_error(
        status,
        &body,
        401,
        "invalid_client",
        7000215,
        "Invalid client secret provided.",
    );
    assert!(
        !body.to_string().contains("fixture-secret"),
        "the secret leaks: {body}"
    );

    let (status, body) = post_token(
        &fixture,
        "other-tenant",
        &secret_form(&fixture, "fixture-secret"),
    )
    .await;
    assert_aad_error(
        status,
        &body,
        400,
        "invalid_request",
        90002,
        "Tenant 'other-tenant' not found.",
    );

    let mut form = secret_form(&fixture, "fixture-secret");
    form[1].1 = "someone-else";
    let (status, body) = post_token(&fixture, "fixture-tenant", &form).await;
    assert_aad_error(
        status,
        &body,
        400,
        "unauthorized_client",
        700016,
        "Application with identifier 'someone-else' was not found",
    );

    let mut form = secret_form(&fixture, "fixture-secret");
    form[3].1 = "User.Read.All";
    let (status, body) = post_token(&fixture, "fixture-tenant", &form).await;
    assert_aad_error(
        status,
        &body,
        400,
        "invalid_scope",
        1002012,
        "The provided value for scope User.Read.All is not valid.",
    );

    let mut form = secret_form(&fixture, "fixture-secret");
    form.pop();
    let (status, body) = post_token(&fixture, "fixture-tenant", &form).await;
    assert_aad_error(
        status,
        &body,
        400,
        "invalid_request",
        900144,
        "The request body must contain the following parameter: 'scope'.",
    );

    let mut form = secret_form(&fixture, "fixture-secret");
    form[0].1 = "authorization_code";
    let (status, body) = post_token(&fixture, "fixture-tenant", &form).await;
    assert_aad_error(
        status,
        &body,
        400,
        "unsupported_grant_type",
        70003,
        "The app requested an unsupported grant type",
    );

    // The tenant's GUID works as well as its name.
    let guid = fixture.info().await.unwrap()["tenant_guid"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, _) = post_token(&fixture, &guid, &secret_form(&fixture, "fixture-secret")).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn password_and_refresh_grants() {
    let fixture = start(DataSize::Small, 1);
    let form = |password: &'static str, username: &'static str| {
        vec![
            ("grant_type", "password"),
            ("client_id", "fixture-client"),
            ("client_secret", "fixture-secret"),
            ("username", username),
            ("password", password),
            (
                "scope",
                "User.Read.All Chat.Read openid profile offline_access",
            ),
        ]
    };
    let (status, body) = post_token(
        &fixture,
        "fixture-tenant",
        &form("fixture-password", "adele@fixture.test"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert!(
        body["scope"].as_str().unwrap().contains("Chat.Read"),
        "{body}"
    );
    assert!(
        body["id_token"].is_string() && body["refresh_token"].is_string(),
        "{body}"
    );
    let me = get(
        &format!("{}/me", fixture.graph_url()),
        body["access_token"].as_str(),
    )
    .await;
    assert_eq!(me.status, 200);
    assert_eq!(me.json()["userPrincipalName"], "adele@fixture.test");
    assert!(me.json()["mail"].is_string());

    let refresh = body["refresh_token"].as_str().unwrap();
    let (status, refreshed) = post_token(
        &fixture,
        "fixture-tenant",
        &[
            ("grant_type", "refresh_token"),
            ("client_id", "fixture-client"),
            ("client_secret", "fixture-secret"),
            ("refresh_token", refresh),
        ],
    )
    .await;
    assert_eq!(status, 200, "{refreshed}");
    let me = get(
        &format!("{}/me", fixture.graph_url()),
        refreshed["access_token"].as_str(),
    )
    .await;
    assert_eq!(me.status, 200);

    let (status, body) = post_token(
        &fixture,
        "fixture-tenant",
        &form("nope", "adele@fixture.test"),
    )
    .await;
    assert_aad_error(
        status,
        &body,
        400,
        "invalid_grant",
        50126,
        "Error validating credentials due to invalid username or password.",
    );
    let (status, body) = post_token(
        &fixture,
        "fixture-tenant",
        &form("fixture-password", "ghost@fixture.test"),
    )
    .await;
    assert_aad_error(
        status,
        &body,
        400,
        "invalid_grant",
        50034,
        "The user account {EUII Hidden} does not exist",
    );
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn assertion(aud: &str, client: &str, exp_offset: i64, key: Option<&RsaPrivateKey>) -> String {
    let now = chrono::Utc::now().timestamp();
    let header = json!({"alg": "RS256", "typ": "JWT", "x5t": "hOBcHZi846VCHSJbFAs26Go9VTQ"});
    let claims = json!({
        "aud": aud, "iss": client, "sub": client, "jti": format!("jti-{now}"),
        "nbf": now, "exp": now + exp_offset,
    });
    let signed = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let signature = match key {
        Some(key) => SigningKey::<Sha256>::new(key.clone())
            .sign(signed.as_bytes())
            .to_vec(),
        None => b"not-a-signature".to_vec(),
    };
    format!("{signed}.{}", b64(&signature))
}

async fn assertion_grant(fixture: &GraphFixture, jwt: &str) -> (u16, Value) {
    post_token(
        fixture,
        "fixture-tenant",
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "fixture-client"),
            ("client_assertion_type", ASSERTION_TYPE),
            ("client_assertion", jwt),
            ("scope", "https://graph.microsoft.com/.default"),
        ],
    )
    .await
}

#[tokio::test]
async fn certificate_assertions_structure_claims_and_signature() {
    // Without a configured key: structure and claims only.
    let fixture = start(DataSize::Small, 1);
    let aud = fixture.token_url();
    let (status, body) =
        assertion_grant(&fixture, &assertion(&aud, "fixture-client", 600, None)).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) =
        assertion_grant(&fixture, &assertion(&aud, "fixture-client", -3600, None)).await;
    assert_aad_error(
        status,
        &body,
        401,
        "invalid_client",
        700024,
        "Client assertion is not within its valid time range.",
    );
    let (status, body) = assertion_grant(
        &fixture,
        &assertion("https://elsewhere/token", "fixture-client", 600, None),
    )
    .await;
    assert_aad_error(
        status,
        &body,
        401,
        "invalid_client",
        700023,
        "Client assertion audience claim does not match",
    );
    let (status, body) =
        assertion_grant(&fixture, &assertion(&aud, "other-client", 600, None)).await;
    assert_aad_error(
        status,
        &body,
        401,
        "invalid_client",
        700021,
        "Client assertion application identifier doesn't match",
    );
    let (status, body) = assertion_grant(&fixture, "garbage").await;
    assert_aad_error(
        status,
        &body,
        401,
        "invalid_client",
        50027,
        "JWT token is invalid or malformed.",
    );

    // With the public key: the signature must verify.
    let dir = std::env::temp_dir().join(format!("graph-fixture-key-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let key_path = dir.join("public.pem");
    std::fs::write(&key_path, TEST_PUBLIC_KEY).unwrap();
    let fixture = start_with(GraphOptions {
        client_cert_public_key: Some(key_path),
        ..GraphOptions::default()
    });
    let key = RsaPrivateKey::from_pkcs1_pem(TEST_PRIVATE_KEY).unwrap();
    let aud = fixture.token_url();
    let (status, body) = assertion_grant(
        &fixture,
        &assertion(&aud, "fixture-client", 600, Some(&key)),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) =
        assertion_grant(&fixture, &assertion(&aud, "fixture-client", 600, None)).await;
    assert_aad_error(
        status,
        &body,
        401,
        "invalid_client",
        700027,
        "Client assertion failed signature validation.",
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn graph_refuses_missing_unknown_and_expired_tokens() {
    let fixture = start_with(GraphOptions {
        token_lifetime_secs: 1,
        ..GraphOptions::default()
    });
    let url = format!("{}/users", fixture.graph_url());
    let none = get(&url, None).await;
    assert_eq!(none.status, 401);
    assert_eq!(none.json()["error"]["code"], "InvalidAuthenticationToken");
    assert_eq!(none.json()["error"]["message"], "Access token is empty.");
    assert!(none.json()["error"]["innerError"]["request-id"].is_string());
    assert!(none.headers.contains_key("www-authenticate"));
    let unknown = get(&url, Some("not-a-token")).await;
    assert_eq!(unknown.status, 401);

    let token = fixture.app_token().await.unwrap();
    assert_eq!(get(&url, Some(&token)).await.status, 200);
    // The only real wait in the suite: a one-second token lifetime running out.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let expired = get(&url, Some(&token)).await;
    assert_eq!(expired.status, 401);
    assert_eq!(
        expired.json()["error"]["message"],
        "Access token has expired or is not yet valid."
    );
    // Downloads need no token at all.
    let counts = fixture.requests().await.unwrap();
    assert!(counts["unauthorized"].as_u64().unwrap() >= 3, "{counts}");
}

#[tokio::test]
async fn expire_hook_and_token_kinds() {
    let fixture = start(DataSize::Small, 1);
    let g = fixture.graph_url();
    let app = fixture.app_token().await.unwrap();
    let delegated = fixture.delegated_token().await.unwrap();
    let me = get(&format!("{g}/me"), Some(&app)).await;
    assert_eq!(me.status, 400);
    assert_eq!(
        me.json()["error"]["message"],
        "/me request is only valid with delegated authentication flow."
    );
    let chats = get(&format!("{g}/chats"), Some(&app)).await;
    assert_eq!(chats.status, 400, "{}", chats.text);
    assert_eq!(
        get(&format!("{g}/chats"), Some(&delegated)).await.status,
        200
    );

    // A delegated token reads only its own calendar.
    let users = get(&format!("{g}/users?$top=999"), Some(&app)).await.json();
    let me_id = get(&format!("{g}/me"), Some(&delegated)).await.json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let other = users["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["mail"].is_string() && u["id"] != me_id.as_str())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let events = get(&format!("{g}/users/{other}/events"), Some(&delegated)).await;
    assert_eq!(events.status, 403);
    assert_eq!(events.json()["error"]["code"], "ErrorAccessDenied");
    assert_eq!(
        get(&format!("{g}/users/{other}/events"), Some(&app))
            .await
            .status,
        200
    );

    fixture.expire_tokens().await.unwrap();
    let after = get(&format!("{g}/users"), Some(&app)).await;
    assert_eq!(after.status, 401);
    assert_eq!(
        after.json()["error"]["message"],
        "Access token has expired or is not yet valid."
    );
}
