//! Building the Elasticsearch client from `elasticsearch.*` config (basic auth or API key, CA certificate,
//! certificate verification, timeout, extra headers, `X-elastic-product-origin: connectors`) and the outbound
//! rules (`net`: the OS certificate store, the proxy variables), and the few typed calls made so far. It speaks
//! plain `application/json`, which Elasticsearch 8.x and 9.x both accept.

use bytes::Bytes;
use elasticsearch::auth::Credentials;
use elasticsearch::cert::{Certificate, CertificateValidation};
use elasticsearch::http::headers::HeaderMap;
use elasticsearch::http::headers::{HeaderName, HeaderValue, CONTENT_TYPE, USER_AGENT};
use elasticsearch::http::request::JsonBody;
use elasticsearch::http::transport::{SingleNodeConnectionPool, TransportBuilder};
use elasticsearch::http::Method;
use elasticsearch::indices::{IndicesCreateParts, IndicesExistsParts};
use elasticsearch::Elasticsearch;
use serde::Deserialize;
use serde_json::Value;

use super::error::is_retryable_status;
use super::EsError;
use crate::config::ElasticsearchConfig;
use crate::net::Outbound;
use crate::secret::Secret;

/// Identifies this service to Elasticsearch (Kibana and the connector APIs key features off the origin header).
/// Largest successful reply read. Search and scroll pages are bounded by their `size`, so this is far above any
/// honest reply and only stops a misbehaving server or proxy from costing unbounded memory.
pub const MAX_REPLY_BYTES: u64 = 64 * 1024 * 1024;
/// Largest error reply read; only its reason is used, so the rest is cut.
pub const MAX_ERROR_REPLY_BYTES: u64 = 1024 * 1024;

const PRODUCT_ORIGIN: (&str, &str) = ("x-elastic-product-origin", "connectors");

#[derive(Clone)]
pub struct EsClient {
    inner: Elasticsearch,
    /// The host URL without any credentials, for messages.
    host: String,
    retry: RetryPolicy,
    /// `elasticsearch.retry_on_timeout`: whether a request that timed out is tried again.
    retry_on_timeout: bool,
}

/// Application-level retry of every protocol call (spec §4.5): up to `attempts` tries in all, sleeping
/// `interval × attempt` between them, only for failures that can succeed on retry ([`EsError::is_retryable`]).
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub attempts: u32,
    pub interval: std::time::Duration,
}

/// What `GET /` says about the cluster.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterInfo {
    pub number: String,
    pub build_flavor: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreateOutcome {
    Created,
    /// Someone else (another service instance, Kibana, a template) created it first.
    AlreadyExists,
}

impl std::fmt::Debug for EsClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EsClient")
            .field("host", &self.host)
            .finish()
    }
}

impl EsClient {
    /// A client with the global credentials (connector and job documents, preflight).
    pub fn new(cfg: &ElasticsearchConfig, outbound: &Outbound) -> Result<Self, EsError> {
        let credentials = match &cfg.api_key {
            Some(key) if !key.is_empty() => Credentials::EncodedApiKey(key.expose().to_string()),
            _ => Credentials::Basic(cfg.username.clone(), cfg.password.expose().to_string()),
        };
        Self::build(cfg, outbound, credentials)
    }

    /// A client for one connector's sync data path, authenticated with that connector's API key (spec §2.3).
    pub fn with_api_key(
        cfg: &ElasticsearchConfig,
        outbound: &Outbound,
        api_key: &Secret,
    ) -> Result<Self, EsError> {
        Self::build(
            cfg,
            outbound,
            Credentials::EncodedApiKey(api_key.expose().to_string()),
        )
    }

    fn build(
        cfg: &ElasticsearchConfig,
        outbound: &Outbound,
        credentials: Credentials,
    ) -> Result<Self, EsError> {
        let url = url::Url::parse(&cfg.host)
            .map_err(|e| EsError::Setup(format!("elasticsearch.host: {e}")))?;
        let host = redacted(&url);
        let mut builder = TransportBuilder::new(SingleNodeConnectionPool::new(url.clone()))
            .auth(credentials)
            .timeout(cfg.request_timeout.get())
            .enable_meta_header(false)
            .header(
                HeaderName::from_static(PRODUCT_ORIGIN.0),
                HeaderValue::from_static(PRODUCT_ORIGIN.1),
            )
            .header(USER_AGENT, user_agent());
        for (name, value) in &cfg.headers {
            let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                EsError::Setup(format!(
                    "elasticsearch.headers: `{name}` is not a valid header name"
                ))
            })?;
            let value = HeaderValue::from_str(value).map_err(|_| {
                EsError::Setup(format!(
                    "elasticsearch.headers.{name}: not a valid header value"
                ))
            })?;
            builder = builder.header(name, value);
        }
        builder = builder.cert_validation(cert_validation(cfg, outbound)?);
        // The library would read the proxy variables itself; the decision is ours (one host, so made once).
        builder = match outbound.proxy_for(&url) {
            Some(proxy) => builder.proxy(proxy.clone(), None, None),
            None => builder.disable_proxy(),
        };
        let transport = builder
            .build()
            .map_err(|e| EsError::Setup(format!("cannot build the Elasticsearch client: {e}")))?;
        Ok(EsClient {
            inner: Elasticsearch::new(transport),
            host,
            retry: RetryPolicy {
                attempts: cfg.max_retries.max(1),
                interval: cfg.retry_interval.get(),
            },
            retry_on_timeout: cfg.retry_on_timeout,
        })
    }

    pub fn host(&self) -> &str {
        &self.host
    }

    /// Whether `failure` is worth another try: it can heal, and it is not a timeout the config says to give up on.
    fn retries(&self, failure: &EsError) -> bool {
        failure.is_retryable()
            && (self.retry_on_timeout || !matches!(failure, EsError::Timeout { .. }))
    }

    /// The same client with another retry policy (tests use a zero interval).
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Sends one JSON request with the retry policy and returns the HTTP status and parsed body of the final
    /// answer. Non-2xx answers that are not worth retrying come back as `Ok` so callers can read 404/409.
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Result<(u16, Value), EsError> {
        let mut attempt = 1;
        loop {
            let result = self.request_once(method, path, query, body).await;
            let failure = match result {
                Ok((status, body)) if !is_retryable_status(status) => return Ok((status, body)),
                Ok((status, body)) => EsError::from_response(status, &body.to_string()),
                Err(e) => e,
            };
            if !self.retries(&failure) || attempt >= self.retry.attempts {
                return Err(failure);
            }
            let pause = self.retry.interval * attempt;
            tracing::warn!(
                ?method, path, attempt, error = %failure,
                "Elasticsearch call failed; retrying in {pause:?}"
            );
            tokio::time::sleep(pause).await;
            attempt += 1;
        }
    }

    /// [`request`](Self::request) that also requires a 2xx answer.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Result<Value, EsError> {
        match self.request(method, path, query, body).await? {
            (status, body) if (200..300).contains(&status) => Ok(body),
            (status, body) => Err(EsError::from_response(status, &body.to_string())),
        }
    }

    async fn request_once(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Result<(u16, Value), EsError> {
        let query = (!query.is_empty()).then_some(query);
        let response = self
            .inner
            .send(
                method,
                path,
                HeaderMap::new(),
                query,
                body.map(|b| JsonBody::new(b.clone())),
                None,
            )
            .await
            .map_err(|e| self.transport_error(&e))?;
        let (status, text) = self.status_and_body(response).await?;
        let body = if text.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Ok((status, body))
    }

    /// `POST /<index>/_bulk` with an NDJSON body (`application/x-ndjson`), under the same retry policy as
    /// [`request`](Self::request): transport failures and retryable statuses of the *whole* request are retried,
    /// other non-2xx answers come back as `Ok`. What each item did is the caller's to read (see `es::bulk`).
    /// The body is sent from the buffer given (`Bytes` is shared, not copied), also on retries.
    pub async fn bulk(
        &self,
        index: &str,
        query: &[(&str, &str)],
        ndjson: Bytes,
    ) -> Result<(u16, Value), EsError> {
        let path = format!("/{}/_bulk", crate::encode::path_segment(index));
        let mut headers = HeaderMap::new();
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/x-ndjson"),
        );
        let query = (!query.is_empty()).then_some(query);
        let mut attempt = 1;
        loop {
            let failure = match self
                .inner
                .send(
                    Method::Post,
                    &path,
                    headers.clone(),
                    query,
                    Some(ndjson.clone()),
                    None,
                )
                .await
            {
                Ok(response) => match self.status_and_body(response).await {
                    Ok((status, text)) if !is_retryable_status(status) => {
                        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
                        return Ok((status, body));
                    }
                    Ok((status, text)) => EsError::from_response(status, &text),
                    Err(e) => e,
                },
                Err(e) => self.transport_error(&e),
            };
            if !self.retries(&failure) || attempt >= self.retry.attempts {
                return Err(failure);
            }
            let pause = self.retry.interval * attempt;
            tracing::warn!(attempt, error = %failure, "bulk request failed; retrying in {pause:?}");
            tokio::time::sleep(pause).await;
            attempt += 1;
        }
    }

    /// `GET /`.
    pub async fn info(&self) -> Result<ClusterInfo, EsError> {
        #[derive(Deserialize)]
        struct Info {
            version: Version,
        }
        #[derive(Deserialize)]
        struct Version {
            number: String,
            build_flavor: Option<String>,
        }
        let response = self
            .inner
            .info()
            .send()
            .await
            .map_err(|e| self.transport_error(&e))?;
        let body = self.checked_body(response).await?;
        let info: Info =
            serde_json::from_str(&body).map_err(|e| EsError::Decode(format!("GET /: {e}")))?;
        Ok(ClusterInfo {
            number: info.version.number,
            build_flavor: info.version.build_flavor,
        })
    }

    /// `HEAD /<index>`: whether an index (or alias) exists.
    pub async fn index_exists(&self, index: &str) -> Result<bool, EsError> {
        let response = self
            .inner
            .indices()
            .exists(IndicesExistsParts::Index(&[index]))
            .send()
            .await
            .map_err(|e| self.transport_error(&e))?;
        match response.status_code().as_u16() {
            200 => Ok(true),
            404 => Ok(false),
            status => Err(EsError::from_response(status, &head_reason(status, index))),
        }
    }

    /// `PUT /<index>` with no body, so the cluster's own templates apply (as the reference does).
    pub async fn create_index(&self, index: &str) -> Result<CreateOutcome, EsError> {
        let response = self
            .inner
            .indices()
            .create(IndicesCreateParts::Index(index))
            .send()
            .await
            .map_err(|e| self.transport_error(&e))?;
        let (status, body) = self.status_and_body(response).await?;
        if (200..300).contains(&status) {
            return Ok(CreateOutcome::Created);
        }
        if status == 400 && body.contains("resource_already_exists_exception") {
            return Ok(CreateOutcome::AlreadyExists);
        }
        Err(EsError::from_response(status, &body))
    }

    async fn checked_body(
        &self,
        response: elasticsearch::http::response::Response,
    ) -> Result<String, EsError> {
        match self.status_and_body(response).await? {
            (status, body) if (200..300).contains(&status) => Ok(body),
            (status, body) => Err(EsError::from_response(status, &body)),
        }
    }

    /// The status and body of a reply, read only up to [`MAX_REPLY_BYTES`] (2xx) or [`MAX_ERROR_REPLY_BYTES`]
    /// (an error body is only read for its reason, so a longer one is cut, not refused).
    async fn status_and_body(
        &self,
        response: elasticsearch::http::response::Response,
    ) -> Result<(u16, String), EsError> {
        let status = response.status_code().as_u16();
        let success = (200..300).contains(&status);
        let limit = if success {
            MAX_REPLY_BYTES
        } else {
            MAX_ERROR_REPLY_BYTES
        };
        // The client library reads a body only whole (its response type does not expose chunks), so the cap is
        // enforced before reading from the declared length — Elasticsearch declares it on every reply it does not
        // stream — and again on what was read, for a reply that declared none.
        if let Some(size) = response.content_length().filter(|&size| size > limit) {
            return if success {
                Err(EsError::ReplyTooLarge { size, limit })
            } else {
                Ok((status, format!("an error reply of {size} bytes (not read)")))
            };
        }
        let bytes = response
            .bytes()
            .await
            .map_err(|e| self.transport_error(&e))?;
        let size = bytes.len() as u64;
        if size > limit {
            if success {
                return Err(EsError::ReplyTooLarge { size, limit });
            }
            let cut = usize::try_from(limit).unwrap_or(usize::MAX);
            return Ok((
                status,
                String::from_utf8_lossy(&bytes[..cut.min(bytes.len())]).into_owned(),
            ));
        }
        Ok((status, String::from_utf8_lossy(&bytes).into_owned()))
    }

    fn transport_error(&self, e: &elasticsearch::Error) -> EsError {
        EsError::from_transport(e, &self.host)
    }
}

/// The bundled roots plus the OS store, plus `ca_certs`; or no verification. `ssl: false` keeps the reference's
/// meaning — `verify_certs` and `ca_certs` are ignored — but an https:// host is still verified.
fn cert_validation(
    cfg: &ElasticsearchConfig,
    outbound: &Outbound,
) -> Result<CertificateValidation, EsError> {
    if cfg.ssl && !cfg.verify_certs {
        return Ok(CertificateValidation::None);
    }
    let trusted = match &cfg.ca_certs {
        Some(path) if cfg.ssl => outbound
            .with_ca_file(path, "elasticsearch.ca_certs")
            .map_err(|e| EsError::Setup(e.to_string()))?,
        _ => outbound.clone(),
    };
    let mut roots: Option<Certificate> = None;
    for der in trusted.roots() {
        let cert = Certificate::from_der(der)
            .map_err(|e| EsError::Setup(format!("cannot use a trusted certificate: {e}")))?;
        match &mut roots {
            Some(all) => all.append(cert),
            None => roots = Some(cert),
        }
    }
    // `Full` adds these to the bundled roots; with none to add, the bundled roots alone.
    Ok(roots.map_or(CertificateValidation::Default, CertificateValidation::Full))
}

/// A HEAD response has no body; say what the status means for an existence check.
fn head_reason(status: u16, index: &str) -> String {
    match status {
        401 => format!("HEAD /{index} was not authenticated"),
        403 => format!("not allowed to check whether index [{index}] exists (needs view_index_metadata, manage or all on it)"),
        _ => format!("HEAD /{index} answered {status}"),
    }
}

/// The URL as it may appear in logs: scheme, host and port, never user info.
fn redacted(url: &url::Url) -> String {
    let mut u = url.clone();
    let _ = u.set_username("");
    let _ = u.set_password(None);
    u.to_string().trim_end_matches('/').to_string()
}

fn user_agent() -> HeaderValue {
    let ua = format!(
        "elastic-ingest-rs/{} (connectors protocol {})",
        env!("CARGO_PKG_VERSION"),
        crate::PROTOCOL_VERSION
    );
    HeaderValue::from_str(&ua).unwrap_or(HeaderValue::from_static("elastic-ingest-rs"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::body::test_server::{chunked, serve};

    #[test]
    fn redacts_user_info() {
        let u = url::Url::parse("https://elastic:hunter2@es.example:9243/").unwrap();
        assert_eq!(redacted(&u), "https://es.example:9243");
    }

    #[test]
    fn missing_ca_file_is_a_setup_error_naming_the_key() {
        let cfg = ElasticsearchConfig {
            ca_certs: Some("/nonexistent/ca.pem".into()),
            ..Default::default()
        };
        let e = EsClient::new(&cfg, &Outbound::default())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("elasticsearch.ca_certs") && e.contains("/nonexistent/ca.pem"),
            "{e}"
        );
    }

    fn client(host: String) -> EsClient {
        let cfg = ElasticsearchConfig {
            host,
            ..Default::default()
        };
        EsClient::new(&cfg, &Outbound::default()).unwrap()
    }

    #[tokio::test]
    async fn a_reply_declared_over_the_cap_is_refused_unread() {
        // Declares 64 MiB + 1 and sends none of it: the client must refuse on the header alone.
        let host = serve(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 67108865",
            Vec::new(),
        )
        .await;
        let e = client(host).info().await.unwrap_err();
        assert!(
            matches!(
                e,
                EsError::ReplyTooLarge {
                    size: 67_108_865,
                    limit: MAX_REPLY_BYTES
                }
            ),
            "{e}"
        );
        assert!(!e.is_retryable());
    }

    #[tokio::test]
    async fn an_undeclared_error_body_over_its_cap_is_cut() {
        let chunk = chunked(&vec![b'e'; MAX_ERROR_REPLY_BYTES as usize + 10]);
        let host = serve(
            "HTTP/1.1 500 Internal Server Error\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked",
            chunk,
        )
        .await;
        let client = client(host);
        let response = client
            .inner
            .send(
                Method::Get,
                "/",
                HeaderMap::new(),
                Option::<&()>::None,
                Option::<&[u8]>::None,
                None,
            )
            .await
            .unwrap();
        let (status, body) = client.status_and_body(response).await.unwrap();
        assert_eq!(status, 500);
        assert_eq!(body.len() as u64, MAX_ERROR_REPLY_BYTES);
    }

    #[test]
    fn debug_shows_no_credentials() {
        let cfg = ElasticsearchConfig {
            password: Secret::new("pw-xyz"),
            ..Default::default()
        };
        let c = EsClient::new(&cfg, &Outbound::default()).unwrap();
        assert!(!format!("{c:?}").contains("pw-xyz"));
    }
}
