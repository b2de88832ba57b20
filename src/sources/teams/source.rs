//! The Teams [`Source`] and its factory: configuration values → credentials, Graph client and crawl.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures::stream::BoxStream;
use serde_json::{Map, Value};

use super::auth::{AuthError, AuthMethod, Credentials, TokenKind, TokenProvider};
use super::crawl;
use super::graph::{GraphClient, GraphError, GraphSettings, RateLimits, TenantSize};
use super::hosts::{check_endpoint, check_tenant_id, DownloadHosts, Endpoint};
use super::progress::PROGRESS_EVERY;
use super::{defaults, DEFAULT_GRAPH_URL, DEFAULT_LOGIN_URL, SERVICE_TYPE};
use crate::config::{AllowedHost, Config};
use crate::net::{Outbound, TrustError};
use crate::secret::Secret;
use crate::source::{
    ApiUsage, ErrorKind, Source, SourceError, SourceEvent, SourceFactory, SyncKind,
};

/// Builds Teams sources. `override_url` is the reference's `OVERRIDE_URL` test hook (spec §10.9): Graph paths,
/// the token authority and the app-only scope all move to that URL. `allowed_hosts` (`graph.allowed_hosts`) are
/// the hosts besides Microsoft's that a connector's `graph_url` / `login_url` may name and downloads may come from.
#[derive(Debug, Clone)]
pub struct TeamsFactory {
    pub override_url: Option<String>,
    pub allowed_hosts: Vec<AllowedHost>,
    pub graph: GraphSettings,
    pub concurrency: crawl::Concurrency,
    /// How often a running crawl logs its progress.
    pub progress_every: Duration,
    /// Files larger than this are indexed without content: `service.max_file_download_size` for the service.
    pub max_download_bytes: u64,
}

impl Default for TeamsFactory {
    fn default() -> Self {
        TeamsFactory {
            override_url: None,
            allowed_hosts: Vec::new(),
            graph: GraphSettings::default(),
            concurrency: crawl::Concurrency::default(),
            progress_every: PROGRESS_EVERY,
            max_download_bytes: defaults::MAX_DOWNLOAD_BYTES,
        }
    }
}

impl TeamsFactory {
    /// The factory the service runs: `OVERRIDE_URL` (loudly), `graph.allowed_hosts` and the download cap
    /// (`service.max_file_download_size`) from `config`, with Graph,
    /// sign-in and download connections trusting `graph.ca_certs` (read now, so a bad file stops the start) on
    /// top of `outbound`.
    pub fn for_service(config: &Config, outbound: &Outbound) -> Result<TeamsFactory, TrustError> {
        let mut factory = TeamsFactory {
            override_url: config.env.override_url.clone(),
            allowed_hosts: config.graph.allowed_hosts.clone(),
            max_download_bytes: config.service.max_file_download_size,
            ..TeamsFactory::default()
        };
        if let Some(url) = &factory.override_url {
            tracing::warn!(
                url = %url,
                "OVERRIDE_URL is set: Microsoft Graph and sign-in requests go to this URL instead of Microsoft's (test hook)"
            );
        }
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
            SourceError::configuration(format!(
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
            return Err(SourceError::configuration(format!(
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
        check_tenant_id(&text("tenant_id")).map_err(SourceError::configuration)?;
        let (graph_url, login_url, resource, download_hosts) = match &self.override_url {
            Some(url) => {
                // The operator's test hook serves everything, downloads included.
                let parsed = url::Url::parse(url).map_err(|e| {
                    SourceError::configuration(format!("OVERRIDE_URL is not a URL: {e}"))
                })?;
                let mut allowed = self.allowed_hosts.clone();
                allowed.extend(AllowedHost::parse(&parsed.origin().ascii_serialization()));
                let downloads = DownloadHosts::for_graph(&parsed, &allowed);
                (url.clone(), url.clone(), url.clone(), downloads)
            }
            None => {
                let graph_url = configured("graph_url", DEFAULT_GRAPH_URL);
                let graph = check_endpoint(Endpoint::Graph, &graph_url, &self.allowed_hosts)
                    .map_err(SourceError::configuration)?;
                let login_url = configured("login_url", DEFAULT_LOGIN_URL);
                check_endpoint(Endpoint::Login, &login_url, &self.allowed_hosts)
                    .map_err(SourceError::configuration)?;
                let resource = graph.origin().ascii_serialization();
                let downloads = DownloadHosts::for_graph(&graph, &self.allowed_hosts);
                (graph_url, login_url, resource, downloads)
            }
        };
        let size_text = text("tenant_size");
        let tenant_size = TenantSize::parse(&size_text).ok_or_else(|| {
            SourceError::configuration(format!(
                "Configuration field `tenant_size` (Tenant size) has an unknown value `{size_text}` (expected one of: {})",
                TenantSize::VALUES.join(", ")
            ))
        })?;
        let limits = RateLimits::parse(&text("rate_limits"))
            .map_err(|e| {
                SourceError::configuration(format!("Configuration field `rate_limits`: {e}"))
            })?
            .for_tenant(tenant_size);
        // A `list` field casts to an array of names; a plain string (the API, a test) is split on commas.
        let type_names: Vec<String> = match values.get("document_types") {
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
            _ => text("document_types")
                .split(',')
                .map(str::to_string)
                .collect(),
        };
        let types = crawl::DocTypes::parse(type_names.iter().map(String::as_str)).map_err(|e| {
            SourceError::configuration(format!("Configuration field `document_types`: {e}"))
        })?;
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
            download_hosts,
            ..self.graph.clone()
        };
        // Sign-in requests carry the secret or password in their body, which a 307 would re-send to wherever it
        // points: the token endpoint is never left.
        let http = settings
            .outbound
            .client_builder()
            .connect_timeout(settings.connect_timeout)
            .timeout(settings.request_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| {
                SourceError::configuration(format!("cannot build the HTTP client: {e}"))
            })?;
        let tokens = TokenProvider::new(http, credentials, &login_url, &resource)
            .map_err(SourceError::from)?;
        let graph = GraphClient::new(settings, Arc::new(tokens)).map_err(SourceError::from)?;
        Ok(TeamsSource {
            graph: Arc::new(graph),
            sign_in: method,
            concurrency: self.concurrency.clone(),
            progress_every: self.progress_every,
            types: Arc::new(types),
            max_download_bytes: self.max_download_bytes,
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
            return Err(SourceError::configuration(format!(
                "this service has no source for service type `{service_type}` (it runs `{SERVICE_TYPE}`)"
            )));
        }
        Ok(Box::new(self.build(values)?))
    }
}

pub struct TeamsSource {
    graph: Arc<GraphClient>,
    sign_in: AuthMethod,
    concurrency: crawl::Concurrency,
    progress_every: Duration,
    types: Arc<crawl::DocTypes>,
    max_download_bytes: u64,
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
        let path = if self.sign_in.app_only() {
            "/users?$top=1"
        } else {
            "/me"
        };
        self.graph
            .get_json(path, TokenKind::Delegated)
            .await
            .map(|_| ())
            .map_err(SourceError::from)
    }

    fn docs(
        &self,
        _kind: SyncKind,
        _cursor: Option<Value>,
    ) -> BoxStream<'_, Result<SourceEvent, SourceError>> {
        crawl::start(
            self.graph.clone(),
            self.sign_in,
            self.concurrency.clone(),
            self.progress_every,
            self.types.clone(),
            self.max_download_bytes,
        )
    }

    fn api_usage(&self) -> Option<Arc<ApiUsage>> {
        Some(self.graph.usage().clone())
    }
}

impl From<AuthError> for SourceError {
    fn from(e: AuthError) -> Self {
        let kind = match &e {
            AuthError::Rejected(_) => ErrorKind::Auth,
            AuthError::Unavailable { .. } => ErrorKind::Transient,
            AuthError::Untrusted { .. } => ErrorKind::Failed,
            AuthError::Config(_) => ErrorKind::Configuration,
        };
        SourceError::new(kind, e.to_string())
    }
}

/// Graph's failures as the engine sees them. `Failed` is what is left after the client's own retries.
impl From<GraphError> for SourceError {
    fn from(e: GraphError) -> Self {
        let kind = match &e {
            GraphError::Forbidden { .. } => ErrorKind::Permission,
            GraphError::NotFound { .. } => ErrorKind::NotFound,
            GraphError::Unauthorized { .. } => ErrorKind::Auth,
            GraphError::Auth(auth) => return SourceError::from(auth.clone()),
            GraphError::Failed { kind, .. } => *kind,
            GraphError::ForeignHost { .. } => ErrorKind::Failed,
        };
        SourceError::new(kind, e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::sources::teams::graph::EndpointClass;

    fn values(pairs: &[(&str, &str)]) -> Map<String, Value> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), json!(v)))
            .collect()
    }

    fn error(factory: &TeamsFactory, pairs: &[(&str, &str)]) -> String {
        factory
            .build(&values(pairs))
            .err()
            .expect("an error")
            .to_string()
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
        let mut bad = DELEGATED.to_vec();
        bad.push(("tenant_size", "huge"));
        assert_eq!(
            error(&f, &bad),
            "Configuration field `tenant_size` (Tenant size) has an unknown value `huge` (expected one of: \
             up_to_1000, up_to_5000, up_to_15000, up_to_50000, over_50000)"
        );
    }

    #[test]
    fn the_drives_pacer_starts_at_the_declared_tenant_sizes_budget() {
        let f = TeamsFactory::default();
        let drives = |pairs: &[(&str, &str)]| {
            let mut values_ = DELEGATED.to_vec();
            values_.extend_from_slice(pairs);
            let source = f.build(&values(&values_)).unwrap();
            source.graph().allowed_rate(EndpointClass::Drives)
        };
        assert!((drives(&[]) - 1250.0 / 60.0).abs() < 1e-9);
        assert!((drives(&[("tenant_size", "up_to_5000")]) - 2500.0 / 60.0).abs() < 1e-9);
        assert!((drives(&[("tenant_size", "over_50000")]) - 6250.0 / 60.0).abs() < 1e-9);
        // An explicit value wins over the tenant size.
        let fixed = drives(&[("tenant_size", "over_50000"), ("rate_limits", "drives=7")]);
        assert!((fixed - 7.0).abs() < 1e-9);
    }

    #[test]
    fn a_foreign_login_url_is_refused_naming_the_setting() {
        let f = TeamsFactory::default();
        let mut foreign = DELEGATED.to_vec();
        foreign.push(("login_url", "https://login.attacker.example"));
        let e = error(&f, &foreign);
        assert!(
            e.starts_with("Configuration field `login_url` names https://login.attacker.example,"),
            "{e}"
        );
        let mut foreign = DELEGATED.to_vec();
        foreign.push(("graph_url", "https://graph.attacker.example/v1.0"));
        assert!(error(&f, &foreign).starts_with("Configuration field `graph_url` names"));
        // National clouds need nothing from the operator.
        let mut us = DELEGATED.to_vec();
        us.extend([
            ("graph_url", "https://graph.microsoft.us/v1.0"),
            ("login_url", "https://login.microsoftonline.us"),
        ]);
        let source = f.build(&values(&us)).unwrap();
        assert_eq!(
            source.graph().url("/me"),
            "https://graph.microsoft.us/v1.0/me"
        );
    }

    #[test]
    fn the_operator_allow_list_admits_a_host() {
        let f = TeamsFactory {
            allowed_hosts: vec!["http://127.0.0.1:10971".parse().unwrap()],
            ..TeamsFactory::default()
        };
        let mut local = DELEGATED.to_vec();
        local.extend([
            ("graph_url", "http://127.0.0.1:10971/v1.0"),
            ("login_url", "http://127.0.0.1:10971"),
        ]);
        assert!(f.build(&values(&local)).is_ok());
        assert!(TeamsFactory::default().build(&values(&local)).is_err());
    }

    #[test]
    fn tenant_id_must_be_a_guid_or_domain_name() {
        let f = TeamsFactory::default();
        let mut bad = DELEGATED.to_vec();
        bad[0] = ("tenant_id", "evil.example/oauth2/x?");
        assert!(error(&f, &bad).starts_with("Configuration field `tenant_id` must be"));
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
        assert!(e.to_string().contains("`jira`"));
    }
}
