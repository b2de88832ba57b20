//! Microsoft identity platform tokens for Graph: app-only (client credentials with a secret, or a certificate's
//! signed client assertion) and delegated (the reference's resource-owner password grant). Tokens are cached per
//! kind and refreshed a little before they expire; a 401 from Graph invalidates the token it was sent with so the
//! next request fetches a fresh one (once — a second 401 is an error). Secrets and tokens are held in [`Secret`]
//! and never appear in errors or logs.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::Deserialize;
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::net::body::BodyError;
use crate::secret::Secret;

/// How the connector signs in (configuration key `auth_method`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    /// Username + password for the Teams-side calls, client secret for drive and calendar calls (the reference).
    Delegated,
    /// App-only with the client secret: every user's chats, no user account.
    AppSecret,
    /// App-only with a certificate: a client assertion JWT signed with the configured private key.
    AppCertificate,
}

impl AuthMethod {
    pub const VALUES: [&'static str; 3] = ["delegated", "app_secret", "app_certificate"];

    pub fn parse(value: &str) -> Option<AuthMethod> {
        match value.trim() {
            "" | "delegated" => Some(AuthMethod::Delegated),
            "app_secret" => Some(AuthMethod::AppSecret),
            "app_certificate" => Some(AuthMethod::AppCertificate),
            _ => None,
        }
    }

    pub fn app_only(self) -> bool {
        self != AuthMethod::Delegated
    }
}

/// Which token a request carries, or, handed to the Graph client, which one an endpoint asks for (the reference
/// calls the Teams endpoints with the user's token, drives and calendars with the app's); app-only sign-in has
/// only [`TokenKind::App`] (see [`TokenProvider::kind_for`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenKind {
    App,
    Delegated,
}

/// Delegated scopes the reference asks for (spec §10.2); MSAL adds these three itself.
const DELEGATED_SCOPES: &str =
    "User.Read.All TeamMember.Read.All ChannelMessage.Read.All Chat.Read Chat.ReadBasic \
                                Calendars.Read openid profile offline_access";
/// A token is replaced this long before Graph would start refusing it.
const REFRESH_MARGIN: Duration = Duration::from_secs(120);
const TOKEN_ATTEMPTS: usize = 3;
/// Largest token-endpoint reply read: a real one (a JWT and a few fields) is a few KiB.
pub const MAX_TOKEN_REPLY_BYTES: usize = 64 * 1024;

#[derive(Clone)]
pub struct Credentials {
    pub method: AuthMethod,
    pub tenant_id: String,
    pub client_id: String,
    pub client_secret: Secret,
    pub username: String,
    pub password: Secret,
    /// PEM private key (PKCS#8 or PKCS#1) and the certificate's SHA-1 thumbprint in hex, as Azure shows it.
    pub certificate: Option<(Secret, String)>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("method", &self.method)
            .field("tenant_id", &self.tenant_id)
            .field("client_id", &self.client_id)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AuthError {
    /// The identity platform refused the credentials (wrong secret, user, tenant, ...): not retried.
    #[error("Failed to authorize to Graph API. Please verify, that provided details are valid. Error: {0}")]
    Rejected(String),
    /// The token endpoint could not be reached or answered garbage after retries.
    #[error("Could not reach the Microsoft identity platform at {url}: {reason}")]
    Unavailable { url: String, reason: String },
    /// The identity platform's TLS certificate was rejected (not trusted, expired, wrong name): not retried.
    #[error("Could not reach the Microsoft identity platform at {url}: {reason}")]
    Untrusted { url: String, reason: String },
    /// Local configuration problem (certificate key unreadable, ...).
    #[error("{0}")]
    Config(String),
}

#[derive(Deserialize)]
struct TokenReply {
    access_token: Option<String>,
    expires_in: Option<serde_json::Value>,
    error: Option<String>,
    error_description: Option<String>,
}

struct Cached {
    token: Secret,
    valid_until: Instant,
}

/// Fetches and caches tokens. Cheap to share (`Arc`).
pub struct TokenProvider {
    http: reqwest::Client,
    credentials: Credentials,
    token_url: String,
    scope_app: String,
    app: Mutex<Option<Cached>>,
    delegated: Mutex<Option<Cached>>,
    signing_key: Option<jsonwebtoken::EncodingKey>,
    /// Token fetches so far (for metrics and tests).
    fetches: AtomicU64,
    retry_delay: Duration,
}

impl TokenProvider {
    /// `login_url` is the authority host (`https://login.microsoftonline.com`); `graph_resource` the Graph origin
    /// the app-only scope names (`https://graph.microsoft.com`).
    pub fn new(
        http: reqwest::Client,
        credentials: Credentials,
        login_url: &str,
        graph_resource: &str,
    ) -> Result<TokenProvider, AuthError> {
        let signing_key = match (&credentials.method, &credentials.certificate) {
            (AuthMethod::AppCertificate, Some((pem, _))) => Some(
                jsonwebtoken::EncodingKey::from_rsa_pem(pem.expose().as_bytes()).map_err(|e| {
                    AuthError::Config(format!(
                        "certificate_private_key is not a PEM RSA private key: {e}"
                    ))
                })?,
            ),
            (AuthMethod::AppCertificate, None) => {
                return Err(AuthError::Config(
                    "auth_method app_certificate needs certificate_private_key and certificate_thumbprint"
                        .into(),
                ))
            }
            _ => None,
        };
        Ok(TokenProvider {
            http,
            token_url: format!(
                "{}/{}/oauth2/v2.0/token",
                login_url.trim_end_matches('/'),
                credentials.tenant_id
            ),
            scope_app: format!("{}/.default", graph_resource.trim_end_matches('/')),
            credentials,
            app: Mutex::new(None),
            delegated: Mutex::new(None),
            signing_key,
            fetches: AtomicU64::new(0),
            retry_delay: Duration::from_secs(2),
        })
    }

    /// Shorter waits between failed token fetches (tests).
    pub fn with_retry_delay(mut self, delay: Duration) -> Self {
        self.retry_delay = delay;
        self
    }

    pub fn method(&self) -> AuthMethod {
        self.credentials.method
    }

    pub fn fetch_count(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    /// The kind of token a request carries: app-only everywhere in app-only modes; in delegated mode the one
    /// the endpoint asks for (the reference's split: drives and calendars app-only, the rest delegated).
    pub fn kind_for(&self, wanted: TokenKind) -> TokenKind {
        if self.credentials.method.app_only() {
            TokenKind::App
        } else {
            wanted
        }
    }

    /// A valid token of `kind`, from the cache or freshly fetched. Concurrent callers share one fetch.
    pub async fn token(&self, kind: TokenKind) -> Result<Secret, AuthError> {
        let slot = self.slot(kind);
        let mut cached = slot.lock().await;
        if let Some(c) = cached.as_ref() {
            if Instant::now() < c.valid_until {
                return Ok(c.token.clone());
            }
        }
        let fresh = self.fetch(kind).await?;
        let token = fresh.token.clone();
        *cached = Some(fresh);
        Ok(token)
    }

    /// Graph said 401 to `token`: drop it (unless another request already replaced it).
    pub async fn invalidate(&self, kind: TokenKind, token: &Secret) {
        let mut cached = self.slot(kind).lock().await;
        if cached.as_ref().is_some_and(|c| &c.token == token) {
            *cached = None;
        }
    }

    fn slot(&self, kind: TokenKind) -> &Mutex<Option<Cached>> {
        match kind {
            TokenKind::App => &self.app,
            TokenKind::Delegated => &self.delegated,
        }
    }

    async fn fetch(&self, kind: TokenKind) -> Result<Cached, AuthError> {
        let mut last = None;
        for attempt in 0..TOKEN_ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(self.retry_delay * (1 << (attempt - 1))).await;
            }
            let started = Instant::now();
            self.fetches.fetch_add(1, Ordering::Relaxed);
            match self.request(kind).await {
                Ok((token, lifetime)) => {
                    let usable = lifetime.saturating_sub(REFRESH_MARGIN.min(lifetime / 2));
                    return Ok(Cached {
                        token,
                        valid_until: started + usable,
                    });
                }
                Err(
                    e @ (AuthError::Rejected(_)
                    | AuthError::Config(_)
                    | AuthError::Untrusted { .. }),
                ) => return Err(e),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| AuthError::Unavailable {
            url: self.token_url.clone(),
            reason: "no attempt made".into(),
        }))
    }

    fn form(&self, kind: TokenKind) -> Result<Vec<(&'static str, String)>, AuthError> {
        let c = &self.credentials;
        let mut form = vec![("client_id", c.client_id.clone())];
        match kind {
            TokenKind::Delegated => {
                form.push(("grant_type", "password".into()));
                form.push(("scope", DELEGATED_SCOPES.into()));
                form.push(("username", c.username.clone()));
                form.push(("password", c.password.expose().to_string()));
                form.push(("client_secret", c.client_secret.expose().to_string()));
            }
            TokenKind::App => {
                form.push(("grant_type", "client_credentials".into()));
                form.push(("scope", self.scope_app.clone()));
                match (&self.signing_key, &c.certificate) {
                    (Some(key), Some((_, thumbprint))) => {
                        form.push((
                            "client_assertion_type",
                            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".into(),
                        ));
                        form.push(("client_assertion", self.assertion(key, thumbprint)?));
                    }
                    _ => form.push(("client_secret", c.client_secret.expose().to_string())),
                }
            }
        }
        Ok(form)
    }

    /// The client assertion: an RS256 JWT naming the certificate by its SHA-1 thumbprint (`x5t`), valid 10 minutes.
    fn assertion(
        &self,
        key: &jsonwebtoken::EncodingKey,
        thumbprint: &str,
    ) -> Result<String, AuthError> {
        let x5t = thumbprint_x5t(thumbprint)?;
        let now = chrono::Utc::now().timestamp();
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        header.x5t = Some(x5t);
        let claims = serde_json::json!({
            "aud": self.token_url,
            "iss": self.credentials.client_id,
            "sub": self.credentials.client_id,
            "jti": unique_id(),
            "nbf": now,
            "iat": now,
            "exp": now + 600,
        });
        jsonwebtoken::encode(&header, &claims, key)
            .map_err(|e| AuthError::Config(format!("cannot sign the client assertion: {e}")))
    }

    async fn request(&self, kind: TokenKind) -> Result<(Secret, Duration), AuthError> {
        let unavailable = |reason: String| AuthError::Unavailable {
            url: self.token_url.clone(),
            reason,
        };
        let response = self
            .http
            .post(&self.token_url)
            .form(&self.form(kind)?)
            .send()
            .await
            .map_err(|e| {
                let reason = super::graph::transport_reason(&e);
                if super::graph::is_certificate_failure(&e) {
                    AuthError::Untrusted {
                        url: self.token_url.clone(),
                        reason,
                    }
                } else {
                    unavailable(reason)
                }
            })?;
        let status = response.status();
        let body = crate::net::body::read_capped(response, MAX_TOKEN_REPLY_BYTES)
            .await
            .map_err(|e| match e {
                BodyError::Transport(e) => unavailable(super::graph::transport_reason(&e)),
                too_large @ BodyError::TooLarge { .. } => unavailable(too_large.to_string()),
            })?;
        let reply: Option<TokenReply> = serde_json::from_slice(&body).ok();
        match reply {
            Some(TokenReply {
                access_token: Some(token),
                expires_in,
                ..
            }) if status.is_success() && !token.is_empty() => {
                // Graph sends a number; some proxies send a string. Default per the reference: 3599 s.
                let secs = expires_in
                    .and_then(|v| v.as_u64().or_else(|| v.as_str()?.parse().ok()))
                    .unwrap_or(3599);
                // A token lives about an hour; an absurd lifetime from a misbehaving endpoint must not overflow the
                // expiry instant (and would keep a revoked token in use).
                Ok((
                    Secret::new(token),
                    Duration::from_secs(secs.min(MAX_TOKEN_LIFETIME_SECS)),
                ))
            }
            // 4xx with an OAuth error: the credentials are wrong. Not retried.
            Some(reply) if status.is_client_error() && status.as_u16() != 429 => {
                Err(AuthError::Rejected(
                    reply
                        .error_description
                        .or(reply.error)
                        .unwrap_or_else(|| format!("HTTP {status}")),
                ))
            }
            _ => Err(unavailable(format!("HTTP {status} without a token"))),
        }
    }
}

/// The longest token lifetime believed (a day); Entra ID issues tokens for 60–90 minutes.
const MAX_TOKEN_LIFETIME_SECS: u64 = 86_400;

/// `x5t` is the base64url of the certificate's SHA-1 digest; Azure shows that digest as 40 hex characters.
fn thumbprint_x5t(thumbprint: &str) -> Result<String, AuthError> {
    use base64::Engine;
    let hex: String = thumbprint
        .chars()
        .filter(|c| !c.is_whitespace() && *c != ':')
        .collect();
    let bytes = (0..hex.len())
        .step_by(2)
        .map(|i| {
            hex.get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        })
        .collect::<Option<Vec<u8>>>()
        .filter(|b| b.len() == 20)
        .ok_or_else(|| {
            AuthError::Config(
                "certificate_thumbprint must be the certificate's SHA-1 thumbprint: 40 hex digits"
                    .into(),
            )
        })?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// A process-unique id for JWT `jti`s: time, process and a counter, hex.
fn unique_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "{nanos:x}-{:x}-{:x}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_parse() {
        assert_eq!(AuthMethod::parse(""), Some(AuthMethod::Delegated));
        assert_eq!(AuthMethod::parse("app_secret"), Some(AuthMethod::AppSecret));
        assert_eq!(
            AuthMethod::parse(" app_certificate "),
            Some(AuthMethod::AppCertificate)
        );
        assert_eq!(AuthMethod::parse("kerberos"), None);
    }

    #[test]
    fn thumbprint_to_x5t() {
        let x5t =
            thumbprint_x5t("8C:4B:C0:6E:3D:6A:1B:21:72:2F:9E:97:90:A4:2F:C9:43:22:14:1B").unwrap();
        assert_eq!(x5t, "jEvAbj1qGyFyL56XkKQvyUMiFBs");
        assert!(thumbprint_x5t("abc").is_err());
        assert!(thumbprint_x5t(&"zz".repeat(20)).is_err());
    }

    #[test]
    fn credentials_debug_hides_secrets() {
        let c = Credentials {
            method: AuthMethod::Delegated,
            tenant_id: "t".into(),
            client_id: "c".into(),
            client_secret: Secret::new("s3cr3t-value"),
            username: "u".into(),
            password: Secret::new("pa55word"),
            certificate: Some((Secret::new("-----BEGIN KEY-----"), "ab".into())),
        };
        let shown = format!("{c:?}");
        assert!(!shown.contains("s3cr3t") && !shown.contains("pa55") && !shown.contains("BEGIN"));
    }

    #[tokio::test]
    async fn a_token_reply_over_the_cap_is_refused() {
        use crate::net::body::test_server::{chunked, serve};
        let token = "a".repeat(MAX_TOKEN_REPLY_BYTES);
        let reply = format!(r#"{{"access_token":"{token}","expires_in":3599}}"#);
        let host = serve(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked",
            chunked(reply.as_bytes()),
        )
        .await;
        let c = app_secret_credentials();
        let p = TokenProvider::new(reqwest::Client::new(), c, &host, "http://g")
            .unwrap()
            .with_retry_delay(Duration::from_millis(1));
        let e = p.token(TokenKind::App).await.unwrap_err();
        assert!(
            e.to_string()
                .contains(&format!("reply larger than {MAX_TOKEN_REPLY_BYTES} bytes")),
            "{e}"
        );
    }

    fn app_secret_credentials() -> Credentials {
        Credentials {
            method: AuthMethod::AppSecret,
            tenant_id: "t".into(),
            client_id: "c".into(),
            client_secret: Secret::new("s"),
            username: String::new(),
            password: Secret::new(""),
            certificate: None,
        }
    }

    /// An absurd `expires_in` (a misbehaving endpoint or proxy) is believed for a day at most: no overflow of the
    /// expiry instant, and the token is still cached.
    #[tokio::test]
    async fn an_absurd_token_lifetime_is_capped() {
        use crate::net::body::test_server::serve;
        let reply = format!(r#"{{"access_token":"tok","expires_in":{}}}"#, u64::MAX);
        let host = serve(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json",
            reply.into_bytes(),
        )
        .await;
        let c = app_secret_credentials();
        let p = TokenProvider::new(reqwest::Client::new(), c, &host, "http://g").unwrap();
        assert_eq!(p.token(TokenKind::App).await.unwrap().expose(), "tok");
        assert_eq!(p.token(TokenKind::App).await.unwrap().expose(), "tok");
        assert_eq!(p.fetches.load(Ordering::Relaxed), 1, "cached");
    }

    #[test]
    fn token_kind_split() {
        let mut c = Credentials {
            method: AuthMethod::Delegated,
            tenant_id: "t".into(),
            client_id: "c".into(),
            client_secret: Secret::new("s"),
            username: "u".into(),
            password: Secret::new("p"),
            certificate: None,
        };
        let p =
            TokenProvider::new(reqwest::Client::new(), c.clone(), "http://x", "http://g").unwrap();
        assert_eq!(p.kind_for(TokenKind::Delegated), TokenKind::Delegated);
        assert_eq!(p.kind_for(TokenKind::App), TokenKind::App);
        assert_eq!(p.token_url, "http://x/t/oauth2/v2.0/token");
        assert_eq!(p.scope_app, "http://g/.default");
        c.method = AuthMethod::AppSecret;
        let p =
            TokenProvider::new(reqwest::Client::new(), c.clone(), "http://x", "http://g").unwrap();
        assert_eq!(p.kind_for(TokenKind::Delegated), TokenKind::App);
        c.method = AuthMethod::AppCertificate;
        let err = TokenProvider::new(reqwest::Client::new(), c.clone(), "http://x", "http://g")
            .err()
            .unwrap();
        assert!(err.to_string().contains("certificate_private_key"));
        c.certificate = Some((Secret::new("not a pem"), "00".repeat(20)));
        let err = TokenProvider::new(reqwest::Client::new(), c, "http://x", "http://g")
            .err()
            .unwrap();
        assert!(
            err.to_string().contains("not a PEM RSA private key"),
            "{err}"
        );
    }
}
