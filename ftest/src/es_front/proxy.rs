//! Forwarding to osmem: builds the upstream request (method, path, query, body, the headers that are not the
//! front's business) and returns osmem's answer buffered. Authorization and compatibility media types are
//! stripped or rewritten here because osmem understands neither.

use std::time::Duration;

use axum::body::Bytes;
use axum::http::{header, HeaderMap, HeaderName, Method, StatusCode};

use super::errors::FrontError;
use super::media;

/// Upper bound for one upstream call; a large bulk on a loaded 2-core machine stays well under it, a hung
/// osmem does not hang the test forever.
const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(300);

/// Headers that describe one hop of the connection, not the request; forwarding them breaks framing.
const HOP_BY_HOP: [HeaderName; 8] = [
    header::CONNECTION,
    header::TRANSFER_ENCODING,
    header::TE,
    header::TRAILER,
    header::UPGRADE,
    header::PROXY_AUTHORIZATION,
    header::PROXY_AUTHENTICATE,
    header::CONTENT_LENGTH,
];

#[derive(Debug, Clone)]
pub(crate) struct Upstream {
    client: reqwest::Client,
    base: String,
}

/// osmem's answer, fully read.
#[derive(Debug)]
pub(crate) struct UpstreamResponse {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

impl Upstream {
    pub(crate) fn new(base: &str) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(UPSTREAM_TIMEOUT)
            // osmem is local; a proxy from the environment would only get in the way.
            .no_proxy()
            .build()?;
        Ok(Upstream {
            client,
            base: base.trim_end_matches('/').to_string(),
        })
    }

    pub(crate) async fn send(
        &self,
        method: Method,
        path_and_query: &str,
        headers: &HeaderMap,
        body: Bytes,
    ) -> Result<UpstreamResponse, FrontError> {
        let url = format!("{}{}", self.base, path_and_query);
        let response = self
            .client
            .request(method, url)
            .headers(upstream_headers(headers))
            .body(body)
            .send()
            .await?;
        let status = response.status();
        let headers = response_headers(response.headers());
        let body = response.bytes().await?;
        Ok(UpstreamResponse {
            status,
            headers,
            body,
        })
    }
}

/// The request headers osmem gets: no credentials (osmem has no security), no Host (reqwest sets osmem's),
/// no hop-by-hop headers, and plain JSON/NDJSON in place of the vendor types.
fn upstream_headers(incoming: &HeaderMap) -> HeaderMap {
    let mut headers = incoming.clone();
    headers.remove(header::AUTHORIZATION);
    headers.remove(header::HOST);
    headers.remove(header::EXPECT);
    for name in &HOP_BY_HOP {
        headers.remove(name);
    }
    media::rewrite_for_upstream(&mut headers);
    headers
}

/// osmem's response headers minus framing ones; the front re-frames the buffered body itself.
fn response_headers(upstream: &HeaderMap) -> HeaderMap {
    let mut headers = upstream.clone();
    for name in &HOP_BY_HOP {
        headers.remove(name);
    }
    headers
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn credentials_and_vendor_types_do_not_reach_osmem() {
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Basic ZWxhc3RpYzpjaGFuZ2VtZQ=="),
        );
        h.insert(header::HOST, HeaderValue::from_static("localhost:9200"));
        h.insert(header::CONTENT_LENGTH, HeaderValue::from_static("10"));
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/vnd.elasticsearch+json; compatible-with=9"),
        );
        h.insert("x-opaque-id", HeaderValue::from_static("abc"));
        let out = upstream_headers(&h);
        assert!(out.get(header::AUTHORIZATION).is_none());
        assert!(out.get(header::HOST).is_none());
        assert!(out.get(header::CONTENT_LENGTH).is_none());
        assert_eq!(out[header::CONTENT_TYPE], "application/json");
        assert_eq!(out["x-opaque-id"], "abc");
    }
}
