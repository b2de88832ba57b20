//! The connector system indices as the Connector API sees them: thin calls to osmem's ordinary document APIs
//! (`_doc`, `_update`, `_search`, `_delete_by_query`) on the aliases `.elastic-connectors` and
//! `.elastic-connectors-sync-jobs`, so a client reading or writing those indices directly sees the same
//! documents, `_seq_no` and `_primary_term`. Every write uses `refresh=true`. Missing indices are created
//! with the built-in templates before the first document is written, as ES auto-creates its system indices.

use axum::body::Bytes;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use serde_json::{json, Map, Value};

use crate::es_front::errors::{EsError, FrontError};
use crate::es_front::proxy::{Upstream, UpstreamResponse};
use crate::es_front::templates;

pub(crate) const CONNECTORS: SystemIndex = SystemIndex {
    alias: ".elastic-connectors",
    concrete: ".elastic-connectors-v1",
};
pub(crate) const SYNC_JOBS: SystemIndex = SystemIndex {
    alias: ".elastic-connectors-sync-jobs",
    concrete: ".elastic-connectors-sync-jobs-v1",
};

/// One system index: the alias every call goes through and the concrete index behind it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SystemIndex {
    pub(crate) alias: &'static str,
    pub(crate) concrete: &'static str,
}

/// Why a Connector API call failed: an Elasticsearch error of our own, or an osmem answer that is passed on
/// unchanged (a version conflict, a mapping error) because ES would have surfaced the same engine error.
#[derive(Debug)]
pub(crate) enum ApiError {
    Es(EsError),
    Upstream(Box<UpstreamResponse>),
}

impl From<EsError> for ApiError {
    fn from(err: EsError) -> Self {
        ApiError::Es(err)
    }
}

impl From<FrontError> for ApiError {
    fn from(err: FrontError) -> Self {
        ApiError::Es(err.into_es_error())
    }
}

pub(crate) type ApiResult<T> = Result<T, ApiError>;

/// A stored document with its concurrency-control coordinates.
#[derive(Debug, Clone)]
pub(crate) struct Doc {
    pub(crate) source: Map<String, Value>,
    pub(crate) seq_no: i64,
    pub(crate) primary_term: i64,
}

/// Outcome of a lookup by id.
#[derive(Debug)]
pub(crate) enum Fetched {
    Found(Doc),
    Missing,
    IndexMissing,
}

/// Outcome of a partial update or delete.
#[derive(Debug)]
pub(crate) enum Written {
    /// `result` as osmem reports it: `updated`, `noop`, `deleted`, `created`.
    Done {
        result: String,
    },
    Missing,
    IndexMissing,
}

pub(crate) struct Store<'a> {
    upstream: &'a Upstream,
}

/// Percent-encodes a document id for a URL path segment.
fn encode(id: &str) -> String {
    id.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn error_type(response: &UpstreamResponse) -> Option<String> {
    serde_json::from_slice::<Value>(&response.body)
        .ok()?
        .pointer("/error/type")?
        .as_str()
        .map(str::to_string)
}

fn json_body(response: &UpstreamResponse) -> ApiResult<Value> {
    serde_json::from_slice(&response.body).map_err(|e| {
        ApiError::Es(
            FrontError::UpstreamBulk(format!("unreadable osmem answer: {e}")).into_es_error(),
        )
    })
}

fn str_field(value: &Value, field: &str) -> String {
    value
        .get(field)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

impl<'a> Store<'a> {
    pub(crate) fn new(upstream: &'a Upstream) -> Self {
        Store { upstream }
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> ApiResult<UpstreamResponse> {
        let mut headers = HeaderMap::new();
        let bytes = match body {
            Some(value) => {
                headers.insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                );
                Bytes::from(serde_json::to_vec(value).unwrap_or_default())
            }
            None => Bytes::new(),
        };
        Ok(self.upstream.send(method, path, &headers, bytes).await?)
    }

    /// Creates the concrete index (with the built-in template) when neither it nor the alias exists yet.
    pub(crate) async fn ensure(&self, index: SystemIndex) -> ApiResult<()> {
        let head = self
            .call(Method::HEAD, &format!("/{}", index.alias), None)
            .await?;
        if head.status == StatusCode::OK {
            return Ok(());
        }
        let body = templates::apply(index.concrete, b"")?
            .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
            .unwrap_or_else(|| json!({}));
        let created = self
            .call(Method::PUT, &format!("/{}", index.concrete), Some(&body))
            .await?;
        let raced = error_type(&created).as_deref() == Some("resource_already_exists_exception");
        if created.status.is_success() || raced {
            Ok(())
        } else {
            Err(ApiError::Upstream(Box::new(created)))
        }
    }

    pub(crate) async fn get(&self, index: SystemIndex, id: &str) -> ApiResult<Fetched> {
        let path = format!("/{}/_doc/{}", index.alias, encode(id));
        let response = self.call(Method::GET, &path, None).await?;
        if response.status == StatusCode::NOT_FOUND {
            return Ok(
                if error_type(&response).as_deref() == Some("index_not_found_exception") {
                    Fetched::IndexMissing
                } else {
                    Fetched::Missing
                },
            );
        }
        if !response.status.is_success() {
            return Err(ApiError::Upstream(Box::new(response)));
        }
        let value = json_body(&response)?;
        if value.get("found").and_then(Value::as_bool) != Some(true) {
            return Ok(Fetched::Missing);
        }
        Ok(Fetched::Found(Doc {
            source: value
                .get("_source")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default(),
            seq_no: value.get("_seq_no").and_then(Value::as_i64).unwrap_or(0),
            primary_term: value
                .get("_primary_term")
                .and_then(Value::as_i64)
                .unwrap_or(1),
        }))
    }

    /// Indexes a whole document (`PUT _doc/{id}`, or `POST _doc` for a generated id). With `occ`, only if the
    /// stored copy still has that `(_seq_no, _primary_term)`. Returns the id and `created`/`updated`.
    pub(crate) async fn index(
        &self,
        index: SystemIndex,
        id: Option<&str>,
        source: &Value,
        occ: Option<(i64, i64)>,
    ) -> ApiResult<(String, String)> {
        let mut path = match id {
            Some(id) => format!("/{}/_doc/{}?refresh=true", index.alias, encode(id)),
            None => format!("/{}/_doc?refresh=true", index.alias),
        };
        if let Some((seq_no, term)) = occ {
            path.push_str(&format!("&if_seq_no={seq_no}&if_primary_term={term}"));
        }
        let method = if id.is_some() {
            Method::PUT
        } else {
            Method::POST
        };
        let response = self.call(method, &path, Some(source)).await?;
        if !response.status.is_success() {
            return Err(ApiError::Upstream(Box::new(response)));
        }
        let value = json_body(&response)?;
        Ok((str_field(&value, "_id"), str_field(&value, "result")))
    }

    /// A partial update (`_update` with `doc`): objects merge, everything else is replaced, as in ES.
    pub(crate) async fn update(
        &self,
        index: SystemIndex,
        id: &str,
        doc: Value,
    ) -> ApiResult<Written> {
        let path = format!("/{}/_update/{}?refresh=true", index.alias, encode(id));
        let response = self
            .call(Method::POST, &path, Some(&json!({ "doc": doc })))
            .await?;
        self.written(response).await
    }

    pub(crate) async fn delete(&self, index: SystemIndex, id: &str) -> ApiResult<Written> {
        let path = format!("/{}/_doc/{}?refresh=true", index.alias, encode(id));
        let response = self.call(Method::DELETE, &path, None).await?;
        self.written(response).await
    }

    async fn written(&self, response: UpstreamResponse) -> ApiResult<Written> {
        match (response.status, error_type(&response).as_deref()) {
            (StatusCode::NOT_FOUND, Some("index_not_found_exception")) => {
                return Ok(Written::IndexMissing)
            }
            (StatusCode::NOT_FOUND, Some("document_missing_exception")) => {
                return Ok(Written::Missing)
            }
            _ => {}
        }
        let value = if response.status.is_success() || response.status == StatusCode::NOT_FOUND {
            json_body(&response)?
        } else {
            return Err(ApiError::Upstream(Box::new(response)));
        };
        let result = str_field(&value, "result");
        if result == "not_found" {
            return Ok(Written::Missing);
        }
        if !response.status.is_success() {
            return Err(ApiError::Upstream(Box::new(response)));
        }
        Ok(Written::Done { result })
    }

    /// Runs a search; `None` when the index does not exist.
    pub(crate) async fn search(
        &self,
        index: SystemIndex,
        body: &Value,
    ) -> ApiResult<Option<SearchPage>> {
        let path = format!("/{}/_search", index.alias);
        let response = self.call(Method::POST, &path, Some(body)).await?;
        if response.status == StatusCode::NOT_FOUND
            && error_type(&response).as_deref() == Some("index_not_found_exception")
        {
            return Ok(None);
        }
        if !response.status.is_success() {
            return Err(ApiError::Upstream(Box::new(response)));
        }
        let value = json_body(&response)?;
        let total = value
            .pointer("/hits/total/value")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        let hits = value
            .pointer("/hits/hits")
            .and_then(Value::as_array)
            .map(|hits| {
                hits.iter()
                    .map(|hit| {
                        (
                            str_field(hit, "_id"),
                            hit.get("_source")
                                .and_then(Value::as_object)
                                .cloned()
                                .unwrap_or_default(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(Some(SearchPage { total, hits }))
    }

    /// Deletes every document matching `query`; a missing index counts as nothing to delete.
    pub(crate) async fn delete_by_query(&self, index: SystemIndex, query: Value) -> ApiResult<()> {
        let path = format!("/{}/_delete_by_query?refresh=true", index.alias);
        let response = self
            .call(Method::POST, &path, Some(&json!({ "query": query })))
            .await?;
        if response.status.is_success()
            || error_type(&response).as_deref() == Some("index_not_found_exception")
        {
            Ok(())
        } else {
            Err(ApiError::Upstream(Box::new(response)))
        }
    }
}

/// One page of search hits: total count and `(id, source)` pairs.
#[derive(Debug, Default)]
pub(crate) struct SearchPage {
    pub(crate) total: u64,
    pub(crate) hits: Vec<(String, Map<String, Value>)>,
}

#[cfg(test)]
mod tests {
    use super::encode;

    #[test]
    fn ids_are_path_safe() {
        assert_eq!(encode("abc-1_2.x~"), "abc-1_2.x~");
        assert_eq!(encode("a/b c"), "a%2Fb%20c");
        assert_eq!(encode("é"), "%C3%A9");
    }
}
