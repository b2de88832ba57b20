//! The Entra ID side: `POST /{tenant}/oauth2/v2.0/token` (client credentials with a secret or a certificate
//! assertion, resource-owner password, refresh token) and the bearer-token check every `/v1.0` request
//! passes. Tokens are random opaque strings remembered with their kind (app-only or delegated) and expiry;
//! failures answer with AAD's error shape and AADSTS codes. Secrets and tokens are never logged.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use rsa::RsaPublicKey;
use serde_json::{json, Value};
use subtle::ConstantTimeEq;

use super::errors::{request_id, GraphError};
use super::jwt;

pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// Bound on remembered tokens; expired ones are dropped first when it is reached.
const MAX_TOKENS: usize = 100_000;

/// The one app registration and the one user who can sign in.
#[derive(Clone)]
pub struct Credentials {
    pub tenant: String,
    pub client_id: String,
    pub client_secret: String,
    pub username: String,
    pub password: String,
    pub token_lifetime: Duration,
    pub client_cert_key: Option<RsaPublicKey>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("tenant", &self.tenant)
            .field("client_id", &self.client_id)
            .field("client_secret", &"***")
            .field("username", &self.username)
            .field("password", &"***")
            .field("token_lifetime", &self.token_lifetime)
            .field("client_cert_key", &self.client_cert_key.is_some())
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenKind {
    App,
    Delegated { user_id: String },
}

/// Who is calling, put in the request's extensions by the bearer check.
#[derive(Debug, Clone)]
pub struct Caller {
    pub kind: TokenKind,
    pub app: String,
}

impl Caller {
    pub fn is_app(&self) -> bool {
        self.kind == TokenKind::App
    }
}

#[derive(Debug)]
struct Issued {
    caller: Caller,
    expires_at: Instant,
}

#[derive(Debug, Default)]
pub struct Tokens {
    access: HashMap<String, Issued>,
    refresh: HashMap<String, String>,
}

impl Tokens {
    fn issue(&mut self, caller: Caller, lifetime: Duration) -> String {
        if self.access.len() >= MAX_TOKENS {
            let now = Instant::now();
            self.access.retain(|_, t| t.expires_at > now);
            if self.access.len() >= MAX_TOKENS {
                self.access.clear();
            }
        }
        let token = random_token();
        self.access.insert(
            token.clone(),
            Issued {
                caller,
                expires_at: Instant::now() + lifetime,
            },
        );
        token
    }

    /// Makes every issued access token expired (a test hook: no need to wait out a lifetime).
    pub fn expire_all(&mut self) -> usize {
        let now = Instant::now();
        for t in self.access.values_mut() {
            t.expires_at = now;
        }
        self.access.len()
    }

    /// The caller behind `Authorization: Bearer <token>`, or Graph's 401.
    pub fn check(&self, headers: &HeaderMap) -> Result<Caller, GraphError> {
        let value = headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .trim();
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .map(str::trim)
            .unwrap_or_default();
        if token.is_empty() {
            return Err(GraphError::unauthorized("Access token is empty."));
        }
        match self.access.get(token) {
            None => Err(GraphError::unauthorized(
                "IDX14100: JWT is not well formed, there are no dots (.).\nThe token needs to be in JWS or JWE Compact Serialization Format.",
            )),
            Some(t) if t.expires_at <= Instant::now() => Err(GraphError::unauthorized(
                "Access token has expired or is not yet valid.",
            )),
            Some(t) => Ok(t.caller.clone()),
        }
    }
}

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    if getrandom::getrandom(&mut bytes).is_err() {
        // No OS randomness: fall back to the request-id generator (unique, if not secret).
        bytes[..16].copy_from_slice(&request_id().as_bytes()[..16]);
    }
    format!(
        "fx1.{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// An AAD error: status, OAuth `error`, AADSTS code and message.
#[derive(Debug)]
pub struct AadError {
    status: StatusCode,
    error: &'static str,
    code: u32,
    message: String,
    base: String,
}

impl IntoResponse for AadError {
    fn into_response(self) -> Response {
        let now = chrono::Utc::now().format("%Y-%m-%d %H:%M:%SZ").to_string();
        let trace = request_id();
        let correlation = request_id();
        let body = json!({
            "error": self.error,
            "error_description": format!(
                "AADSTS{}: {}\r\nTrace ID: {trace}\r\nCorrelation ID: {correlation}\r\nTimestamp: {now}",
                self.code, self.message
            ),
            "error_codes": [self.code],
            "timestamp": now,
            "trace_id": trace,
            "correlation_id": correlation,
            "error_uri": format!("{}/error?code={}", self.base, self.code),
        });
        (self.status, axum::Json(body)).into_response()
    }
}

/// The request as the token endpoint sees it.
pub struct TokenRequest<'a> {
    pub tenant: &'a str,
    /// Other names the tenant answers to (its GUID).
    pub tenant_aliases: &'a [String],
    /// Public base URL of the fixture, for the assertion audience and `error_uri`.
    pub base: &'a str,
    pub form: HashMap<String, String>,
}

/// What a successful grant yields.
#[derive(Debug)]
pub struct Grant {
    pub body: Value,
    pub kind: &'static str,
}

/// Runs the token endpoint. `user_id_of` maps the signed-in user's name to their directory id.
pub fn token(
    creds: &Credentials,
    tokens: &mut Tokens,
    req: TokenRequest<'_>,
    user_id_of: impl Fn(&str) -> Option<String>,
) -> Result<Grant, AadError> {
    let err = |status: StatusCode, error: &'static str, code: u32, message: String| AadError {
        status,
        error,
        code,
        message,
        base: req.base.to_string(),
    };
    let missing = |name: &str| {
        err(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900144,
            format!("The request body must contain the following parameter: '{name}'."),
        )
    };
    let known_tenant = req.tenant.eq_ignore_ascii_case(&creds.tenant)
        || req
            .tenant_aliases
            .iter()
            .any(|a| a.eq_ignore_ascii_case(req.tenant));
    if !known_tenant {
        return Err(err(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            90002,
            format!("Tenant '{}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.", req.tenant),
        ));
    }
    let field = |name: &str| {
        req.form
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    };
    let grant_type = field("grant_type").ok_or_else(|| missing("grant_type"))?;
    let client_id = field("client_id").ok_or_else(|| missing("client_id"))?;
    if client_id != creds.client_id {
        return Err(err(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            700016,
            format!("Application with identifier '{client_id}' was not found in the directory '{}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.", req.tenant),
        ));
    }
    if !matches!(
        grant_type,
        "client_credentials" | "password" | "refresh_token"
    ) {
        return Err(err(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            70003,
            format!("The app requested an unsupported grant type '{grant_type}'."),
        ));
    }
    // Client authentication: a certificate assertion or the secret.
    if let Some(assertion) = field("client_assertion") {
        if field("client_assertion_type") != Some(ASSERTION_TYPE) {
            return Err(err(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                50012,
                format!("Invalid client_assertion_type: expected '{ASSERTION_TYPE}'."),
            ));
        }
        let audiences = vec![
            format!("{}/{}/oauth2/v2.0/token", req.base, req.tenant),
            format!(
                "https://login.microsoftonline.com/{}/oauth2/v2.0/token",
                req.tenant
            ),
            format!(
                "https://login.microsoftonline.com/{}/oauth2/token",
                req.tenant
            ),
        ];
        let now = chrono::Utc::now().timestamp();
        jwt::check(
            assertion,
            client_id,
            &audiences,
            creds.client_cert_key.as_ref(),
            now,
        )
        .map_err(|jwt::Rejection(code, message)| {
            err(StatusCode::UNAUTHORIZED, "invalid_client", code, message)
        })?;
    } else if let Some(secret) = field("client_secret") {
        if !bool::from(secret.as_bytes().ct_eq(creds.client_secret.as_bytes())) {
            return Err(err(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                7000215,
                format!("Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{}'.", creds.client_id),
            ));
        }
    } else {
        return Err(err(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.".into(),
        ));
    }
    let lifetime = creds.token_lifetime.as_secs();
    let app = creds.client_id.clone();
    match grant_type {
        "client_credentials" => {
            let scope = field("scope").ok_or_else(|| missing("scope"))?;
            if !scope.split(' ').all(|s| s.ends_with("/.default")) {
                return Err(err(
                    StatusCode::BAD_REQUEST,
                    "invalid_scope",
                    1002012,
                    format!("The provided value for scope {scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."),
                ));
            }
            let token = tokens.issue(
                Caller {
                    kind: TokenKind::App,
                    app,
                },
                creds.token_lifetime,
            );
            Ok(Grant {
                body: json!({
                    "token_type": "Bearer",
                    "expires_in": lifetime,
                    "ext_expires_in": lifetime,
                    "access_token": token,
                }),
                kind: "app",
            })
        }
        "password" => {
            let username = field("username").ok_or_else(|| missing("username"))?;
            let password = field("password").ok_or_else(|| missing("password"))?;
            let Some(user_id) = user_id_of(username) else {
                return Err(err(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    50034,
                    format!("The user account {{EUII Hidden}} does not exist in the {} directory. To sign into this application, the account must be added to the directory.", req.tenant),
                ));
            };
            let right_user = username.eq_ignore_ascii_case(&creds.username);
            let right_password = bool::from(password.as_bytes().ct_eq(creds.password.as_bytes()));
            if !(right_user && right_password) {
                return Err(err(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    50126,
                    "Error validating credentials due to invalid username or password.".into(),
                ));
            }
            let scope = field("scope").unwrap_or("https://graph.microsoft.com/.default");
            Ok(delegated(
                tokens, creds, app, user_id, username, scope, req.tenant,
            ))
        }
        _ => {
            let refresh = field("refresh_token").ok_or_else(|| missing("refresh_token"))?;
            let Some(user_id) = tokens.refresh.get(refresh).cloned() else {
                return Err(err(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    9002313,
                    "Invalid request. Request is malformed or invalid.".into(),
                ));
            };
            let scope =
                field("scope").unwrap_or("https://graph.microsoft.com/.default offline_access");
            Ok(delegated(
                tokens,
                creds,
                app,
                user_id,
                &creds.username.clone(),
                scope,
                req.tenant,
            ))
        }
    }
}

fn delegated(
    tokens: &mut Tokens,
    creds: &Credentials,
    app: String,
    user_id: String,
    username: &str,
    scope: &str,
    tenant: &str,
) -> Grant {
    let lifetime = creds.token_lifetime.as_secs();
    let requested: Vec<&str> = scope.split(' ').filter(|s| !s.is_empty()).collect();
    let granted: Vec<&str> = requested
        .iter()
        .copied()
        .filter(|s| !matches!(*s, "openid" | "profile" | "offline_access"))
        .map(|s| s.rsplit('/').next().unwrap_or(s))
        .chain(["profile", "openid", "email"])
        .collect();
    let token = tokens.issue(
        Caller {
            kind: TokenKind::Delegated {
                user_id: user_id.clone(),
            },
            app: app.clone(),
        },
        creds.token_lifetime,
    );
    let mut body = json!({
        "token_type": "Bearer",
        "scope": granted.join(" "),
        "expires_in": lifetime,
        "ext_expires_in": lifetime,
        "access_token": token,
    });
    if requested.contains(&"offline_access") {
        let refresh = random_token();
        tokens.refresh.insert(refresh.clone(), user_id.clone());
        body["refresh_token"] = json!(refresh);
    }
    if requested.contains(&"openid") {
        body["id_token"] = json!(id_token(&app, &user_id, username, tenant));
    }
    Grant {
        body,
        kind: "delegated",
    }
}

/// An unsigned-looking ID token with the usual claims (the fixture never validates it).
fn id_token(app: &str, user_id: &str, username: &str, tenant: &str) -> String {
    let b64 = |v: Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let now = chrono::Utc::now().timestamp();
    format!(
        "{}.{}.{}",
        b64(json!({"typ": "JWT", "alg": "RS256", "kid": "fixture"})),
        b64(json!({
            "aud": app, "iss": format!("https://login.microsoftonline.com/{tenant}/v2.0"),
            "iat": now, "nbf": now, "exp": now + 3600, "oid": user_id, "preferred_username": username,
            "sub": user_id, "tid": tenant, "ver": "2.0",
        })),
        "c2lnbmF0dXJl"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_secrets() {
        let creds = Credentials {
            tenant: "t".into(),
            client_id: "c".into(),
            client_secret: "hunter2".into(),
            username: "u".into(),
            password: "pw-secret".into(),
            token_lifetime: Duration::from_secs(1),
            client_cert_key: None,
        };
        let text = format!("{creds:?}");
        assert!(
            !text.contains("hunter2") && !text.contains("pw-secret"),
            "{text}"
        );
    }

    #[test]
    fn missing_and_expired_tokens() {
        let mut tokens = Tokens::default();
        let mut headers = HeaderMap::new();
        assert_eq!(
            tokens.check(&headers).unwrap_err().message,
            "Access token is empty."
        );
        let t = tokens.issue(
            Caller {
                kind: TokenKind::App,
                app: "a".into(),
            },
            Duration::from_secs(60),
        );
        headers.insert("authorization", format!("Bearer {t}").parse().unwrap());
        assert!(tokens.check(&headers).is_ok());
        tokens.expire_all();
        assert_eq!(
            tokens.check(&headers).unwrap_err().message,
            "Access token has expired or is not yet valid."
        );
    }
}
