//! The Teams [`Source`] and its factory: configuration values → credentials, Graph client and crawl.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures::stream::BoxStream;
use serde_json::{Map, Value};

use super::auth::{AuthMethod, Credentials, TokenProvider};
use super::crawl;
use super::graph::{GraphClient, GraphSettings, RateLimits};
use super::progress::PROGRESS_EVERY;
use super::{DEFAULT_GRAPH_URL, DEFAULT_LOGIN_URL, SERVICE_TYPE};
use crate::config::Config;
use crate::net::{Outbound, TrustError};
use crate::secret::Secret;
use crate::sync::source::{ApiUsage, Source, SourceError, SourceEvent, SourceFactory, SyncKind};

/// Builds Teams sources. `override_url` is the reference's `OVERRIDE_URL` test hook (spec §10.9): Graph paths,
/// the token authority and the app-only scope all move to that URL.
#[derive(Debug, Clone)]
pub struct TeamsFactory {
    pub override_url: Option<String>,
    pub graph: GraphSettings,
    pub concurrency: crawl::Concurrency,
    /// How often a running crawl logs its progress.
    pub progress_every: Duration,
}

impl Default for TeamsFactory {
    fn default() -> Self {
        TeamsFactory {
            override_url: None,
            graph: GraphSettings::default(),
            concurrency: crawl::Concurrency::default(),
            progress_every: PROGRESS_EVERY,
        }
    }
}

impl TeamsFactory {
    /// Reads `OVERRIDE_URL` from the environment, loudly.
    pub fn from_env() -> TeamsFactory {
        let override_url = std::env::var("OVERRIDE_URL")
            .ok()
            .map(|u| u.trim().trim_end_matches('/').to_string())
            .filter(|u| !u.is_empty());
        if let Some(url) = &override_url {
            tracing::warn!(
                url = %url,
                "OVERRIDE_URL is set: Microsoft Graph and sign-in requests go to this URL instead of Microsoft's (test hook)"
            );
        }
        TeamsFactory {
            override_url,
            ..TeamsFactory::default()
        }
    }

    /// The factory the service runs: [`from_env`](Self::from_env), with Graph, sign-in and download connections
    /// trusting `graph.ca_certs` (read now, so a bad file stops the start) on top of `outbound`.
    pub fn for_service(config: &Config, outbound: &Outbound) -> Result<TeamsFactory, TrustError> {
        let mut factory = TeamsFactory::from_env();
        factory.graph.outbound = match &config.graph.ca_certs {
            Some(path) => outbound.with_ca_file(path, "graph.ca_certs")?,
            None => outbound.clone(),
        };
        Ok(factory)
    }

    pub fn build(&self, values: &Map<String, Value>) -> Result<TeamsSource, SourceError> {
        let text = |key: &str| -> String {
            match values.get(key) {
                Some(Value::String(s)) => s.trim().to_string(),
                Some(Value::Null) | None => String::new(),
                Some(other) => other.to_string(),
            }
        };
        let method_text = text("auth_method");
        let method = AuthMethod::parse(&method_text).ok_or_else(|| {
            SourceError(format!(
                "Configuration field `auth_method` has an unknown value `{method_text}` (expected one of: {})",
                AuthMethod::VALUES.join(", ")
            ))
        })?;
        let mut needed = vec![("tenant_id", "Tenant ID"), ("client_id", "Client ID")];
        match method {
            AuthMethod::Delegated => needed.extend([
                ("secret_value", "Secret value"),
                ("username", "Username"),
                ("password", "Password"),
            ]),
            AuthMethod::AppSecret => needed.push(("secret_value", "Secret value")),
            AuthMethod::AppCertificate => needed.extend([
                ("certificate_private_key", "Certificate private key (PEM)"),
                ("certificate_thumbprint", "Certificate thumbprint"),
            ]),
        }
        let missing: Vec<String> = needed
            .iter()
            .filter(|(key, _)| text(key).is_empty())
            .map(|(key, label)| format!("`{key}` ({label})"))
            .collect();
        if !missing.is_empty() {
            return Err(SourceError(format!(
                "Configuration field(s) {} must be set for authentication method `{}`",
                missing.join(", "),
                AuthMethod::VALUES[method as usize]
            )));
        }
        let configured = |key: &str, default: &str| {
            let v = text(key);
            if v.is_empty() {
                default.to_string()
            } else {
                v.trim_end_matches('/').to_string()
            }
        };
        let (graph_url, login_url, resource) = match &self.override_url {
            Some(url) => (url.clone(), url.clone(), url.clone()),
            None => {
                let graph_url = configured("graph_url", DEFAULT_GRAPH_URL);
                let resource = origin_of(&graph_url).ok_or_else(|| {
                    SourceError(format!(
                        "Configuration field `graph_url` is not an http(s) URL: `{graph_url}`"
                    ))
                })?;
                let login_url = configured("login_url", DEFAULT_LOGIN_URL);
                if origin_of(&login_url).is_none() {
                    return Err(SourceError(format!(
                        "Configuration field `login_url` is not an http(s) URL: `{login_url}`"
                    )));
                }
                (graph_url, login_url, resource)
            }
        };
        let limits = RateLimits::parse(&text("rate_limits"))
            .map_err(|e| SourceError(format!("Configuration field `rate_limits`: {e}")))?;
        let credentials = Credentials {
            method,
            tenant_id: text("tenant_id"),
            client_id: text("client_id"),
            client_secret: Secret::new(text("secret_value")),
            username: text("username"),
            password: Secret::new(text("password")),
            certificate: (method == AuthMethod::AppCertificate).then(|| {
                (
                    Secret::new(text("certificate_private_key")),
                    text("certificate_thumbprint"),
                )
            }),
        };
        let settings = GraphSettings {
            base_url: graph_url,
            limits,
            ..self.graph.clone()
        };
        let http = settings
            .outbound
            .client_builder()
            .connect_timeout(settings.connect_timeout)
            .timeout(settings.request_timeout)
            .build()
            .map_err(|e| SourceError(format!("cannot build the HTTP client: {e}")))?;
        let tokens = TokenProvider::new(http, credentials, &login_url, &resource)
            .map_err(|e| SourceError(e.to_string()))?;
        let graph =
            GraphClient::new(settings, Arc::new(tokens)).map_err(|e| SourceError(e.to_string()))?;
        Ok(TeamsSource {
            graph: Arc::new(graph),
            app_only: method.app_only(),
            concurrency: self.concurrency.clone(),
            progress_every: self.progress_every,
        })
    }
}

impl SourceFactory for TeamsFactory {
    fn create(
        &self,
        service_type: &str,
        values: &Map<String, Value>,
    ) -> Result<Box<dyn Source>, SourceError> {
        if service_type != SERVICE_TYPE {
            return Err(SourceError(format!(
                "this service has no source for service type `{service_type}` (it runs `{SERVICE_TYPE}`)"
            )));
        }
        Ok(Box::new(self.build(values)?))
    }
}

/// `https://graph.microsoft.com/v1.0` → `https://graph.microsoft.com` (the app-only scope's resource).
fn origin_of(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return None;
    }
    Some(parsed.origin().ascii_serialization())
}

pub struct TeamsSource {
    graph: Arc<GraphClient>,
    app_only: bool,
    concurrency: crawl::Concurrency,
    progress_every: Duration,
}

impl TeamsSource {
    pub fn graph(&self) -> &GraphClient {
        &self.graph
    }
}

#[async_trait]
impl Source for TeamsSource {
    /// Signs in and makes one cheap call (the reference swallowed ping failures; this one reports them).
    async fn ping(&self) -> Result<(), SourceError> {
        let path = if self.app_only {
            "/users?$top=1"
        } else {
            "/me"
        };
        self.graph
            .get_json(path, true)
            .await
            .map(|_| ())
            .map_err(|e| SourceError(e.to_string()))
    }

    fn docs(
        &self,
        _kind: SyncKind,
        _cursor: Option<Value>,
    ) -> BoxStream<'_, Result<SourceEvent, SourceError>> {
        crawl::start(
            self.graph.clone(),
            self.app_only,
            self.concurrency.clone(),
            self.progress_every,
        )
    }

    fn api_usage(&self) -> Option<Arc<ApiUsage>> {
        Some(self.graph.usage().clone())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn values(pairs: &[(&str, &str)]) -> Map<String, Value> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), json!(v)))
            .collect()
    }

    fn error(factory: &TeamsFactory, pairs: &[(&str, &str)]) -> String {
        factory.build(&values(pairs)).err().expect("an error").0
    }

    const DELEGATED: &[(&str, &str)] = &[
        ("tenant_id", "t"),
        ("client_id", "c"),
        ("secret_value", "s"),
        ("username", "u"),
        ("password", "p"),
    ];

    #[test]
    fn required_fields_depend_on_the_sign_in_method() {
        let f = TeamsFactory::default();
        assert!(f.build(&values(DELEGATED)).is_ok());
        let e = error(&f, &[("tenant_id", "t"), ("client_id", "c")]);
        assert_eq!(
            e,
            "Configuration field(s) `secret_value` (Secret value), `username` (Username), `password` (Password) \
             must be set for authentication method `delegated`"
        );
        let app = [
            ("tenant_id", "t"),
            ("client_id", "c"),
            ("auth_method", "app_secret"),
        ];
        assert!(error(&f, &app).contains("`secret_value`"));
        let mut with_secret = app.to_vec();
        with_secret.push(("secret_value", "s"));
        assert!(f.build(&values(&with_secret)).is_ok());
        let cert = [
            ("tenant_id", "t"),
            ("client_id", "c"),
            ("auth_method", "app_certificate"),
        ];
        assert!(error(&f, &cert).contains("`certificate_private_key`"));
        let unknown = [("auth_method", "kerberos")];
        assert!(error(&f, &unknown).contains("unknown value `kerberos`"));
    }

    #[test]
    fn urls_and_limits_are_checked() {
        let f = TeamsFactory::default();
        let mut bad = DELEGATED.to_vec();
        bad.push(("graph_url", "graph.example"));
        assert!(error(&f, &bad).contains("`graph_url` is not an http(s) URL"));
        let mut bad = DELEGATED.to_vec();
        bad.push(("login_url", "ftp://login"));
        assert!(error(&f, &bad).contains("`login_url`"));
        let mut bad = DELEGATED.to_vec();
        bad.push(("rate_limits", "teams=lots"));
        assert!(error(&f, &bad).starts_with("Configuration field `rate_limits`"));
        assert_eq!(
            origin_of("https://graph.microsoft.us/v1.0").as_deref(),
            Some("https://graph.microsoft.us")
        );
    }

    #[test]
    fn override_url_moves_graph_and_sign_in() {
        let f = TeamsFactory {
            override_url: Some("http://127.0.0.1:10971".into()),
            ..TeamsFactory::default()
        };
        let source = f.build(&values(DELEGATED)).unwrap();
        assert_eq!(source.graph().url("/me"), "http://127.0.0.1:10971/me");
    }

    #[test]
    fn wrong_service_type_is_refused() {
        let e = TeamsFactory::default()
            .create("jira", &values(DELEGATED))
            .err()
            .unwrap();
        assert!(e.0.contains("`jira`"));
    }
}
