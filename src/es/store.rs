//! Direct reads and writes of connector and job documents through their aliases (spec §4.2): get with the OCC
//! token, partial update (optionally conditional on that token), paged search. Both protocol modes use these;
//! only the five operations of [`super::protocol`] differ between them.

use std::future::Future;

use elasticsearch::http::Method;
use serde_json::{json, Value};

use super::connector::{Connector, ConnectorDoc};
use super::job::{JobDoc, SyncJob};
use super::{EsClient, EsError, CONNECTORS_ALIAS, JOBS_ALIAS};
use crate::encode::path_segment;

/// Page size of every search, as the reference pages.
const PAGE_SIZE: usize = 100;
/// `from + size` beyond this is rejected by Elasticsearch (`index.max_result_window`).
const MAX_RESULT_WINDOW: usize = 10_000;
/// How often an OCC-protected read-modify-write is re-run after losing a race (spec §4.2).
pub const OCC_ATTEMPTS: u32 = 3;

#[derive(Debug, Clone)]
pub struct Store {
    client: EsClient,
}

/// A document with its id and OCC token, before typing.
struct Hit {
    id: String,
    seq_no: Option<i64>,
    primary_term: Option<i64>,
    source: Value,
}

impl Hit {
    fn from_json(v: &Value) -> Option<Hit> {
        Some(Hit {
            id: v["_id"].as_str()?.to_string(),
            seq_no: v["_seq_no"].as_i64(),
            primary_term: v["_primary_term"].as_i64(),
            source: v["_source"].clone(),
        })
    }

    fn into_connector(self) -> Connector {
        let doc: ConnectorDoc = serde_json::from_value(self.source).unwrap_or_else(|e| {
            tracing::warn!(connector_id = %self.id, "Unreadable connector document ({e}); treating it as empty");
            ConnectorDoc::default()
        });
        Connector {
            id: self.id,
            seq_no: self.seq_no,
            primary_term: self.primary_term,
            doc,
        }
    }

    fn into_job(self) -> SyncJob {
        let doc: JobDoc = serde_json::from_value(self.source).unwrap_or_else(|e| {
            tracing::warn!(job_id = %self.id, "Unreadable sync job document ({e}); treating it as empty");
            JobDoc::default()
        });
        SyncJob {
            id: self.id,
            seq_no: self.seq_no,
            primary_term: self.primary_term,
            doc,
        }
    }
}

/// OCC token of a loaded document, for conditional updates.
#[derive(Debug, Clone, Copy)]
pub struct Occ {
    pub seq_no: i64,
    pub primary_term: i64,
}

impl Connector {
    pub fn occ(&self) -> Option<Occ> {
        Some(Occ {
            seq_no: self.seq_no?,
            primary_term: self.primary_term?,
        })
    }
}

impl SyncJob {
    pub fn occ(&self) -> Option<Occ> {
        Some(Occ {
            seq_no: self.seq_no?,
            primary_term: self.primary_term?,
        })
    }
}

impl Store {
    pub fn new(client: EsClient) -> Self {
        Store { client }
    }

    pub fn client(&self) -> &EsClient {
        &self.client
    }

    async fn get(&self, alias: &str, id: &str) -> Result<Option<Hit>, EsError> {
        let path = format!("/{alias}/_doc/{}", path_segment(id));
        match self.client.request(Method::Get, &path, &[], None).await? {
            (200, body) => Ok(Hit::from_json(&body)),
            (404, _) => Ok(None),
            (status, body) => Err(EsError::from_response(status, &body.to_string())),
        }
    }

    pub async fn get_connector(&self, id: &str) -> Result<Option<Connector>, EsError> {
        Ok(self
            .get(CONNECTORS_ALIAS, id)
            .await?
            .map(Hit::into_connector))
    }

    pub async fn get_job(&self, id: &str) -> Result<Option<SyncJob>, EsError> {
        Ok(self.get(JOBS_ALIAS, id).await?.map(Hit::into_job))
    }

    /// `POST /<alias>/_update/<id>` with `{"doc": doc}`, conditional on `occ` when given. A lost race is an
    /// error for which [`EsError::is_conflict`] holds.
    async fn update(
        &self,
        alias: &str,
        id: &str,
        doc: Value,
        occ: Option<Occ>,
    ) -> Result<(), EsError> {
        let path = format!("/{alias}/_update/{}", path_segment(id));
        let (seq, term) = occ
            .map(|o| (o.seq_no.to_string(), o.primary_term.to_string()))
            .unzip();
        let mut query = Vec::new();
        if let (Some(seq), Some(term)) = (&seq, &term) {
            query.push(("if_seq_no", seq.as_str()));
            query.push(("if_primary_term", term.as_str()));
        }
        self.client
            .call(Method::Post, &path, &query, Some(&json!({ "doc": doc })))
            .await
            .map(drop)
    }

    pub async fn update_connector(
        &self,
        id: &str,
        doc: Value,
        occ: Option<Occ>,
    ) -> Result<(), EsError> {
        self.update(CONNECTORS_ALIAS, id, doc, occ).await
    }

    pub async fn update_job(&self, id: &str, doc: Value) -> Result<(), EsError> {
        self.update(JOBS_ALIAS, id, doc, None).await
    }

    pub async fn update_job_if(
        &self,
        id: &str,
        doc: Value,
        occ: Option<Occ>,
    ) -> Result<(), EsError> {
        self.update(JOBS_ALIAS, id, doc, occ).await
    }

    /// Indexes a new job document with a generated id.
    pub async fn create_job_doc(&self, body: &Value) -> Result<String, EsError> {
        let response = self
            .client
            .call(
                Method::Post,
                &format!("/{JOBS_ALIAS}/_doc"),
                &[],
                Some(body),
            )
            .await?;
        response["_id"].as_str().map(str::to_string).ok_or_else(|| {
            EsError::Decode(format!(
                "no _id in the answer to creating a job: {response}"
            ))
        })
    }

    /// Every hit of `query`, paged `PAGE_SIZE` at a time (at most 10 000, the result window).
    async fn search(
        &self,
        alias: &str,
        query: Value,
        sort: Option<Value>,
    ) -> Result<Vec<Hit>, EsError> {
        self.search_upto(alias, query, sort, MAX_RESULT_WINDOW)
            .await
    }

    /// The first `limit` hits of `query` (in `sort` order).
    async fn search_upto(
        &self,
        alias: &str,
        query: Value,
        sort: Option<Value>,
        limit: usize,
    ) -> Result<Vec<Hit>, EsError> {
        let path = format!("/{alias}/_search");
        let mut hits = Vec::new();
        loop {
            let size = PAGE_SIZE.min(limit.saturating_sub(hits.len()));
            let mut body = json!({
                "query": query, "from": hits.len(), "size": size, "seq_no_primary_term": true,
            });
            if let Some(sort) = &sort {
                body["sort"] = sort.clone();
            }
            let response = match self
                .client
                .request(
                    Method::Post,
                    &path,
                    &[("expand_wildcards", "hidden")],
                    Some(&body),
                )
                .await?
            {
                (200, body) => body,
                // The system indices are created by preflight; if someone deleted them, there is nothing.
                (404, body) if body["error"]["type"] == "index_not_found_exception" => {
                    return Ok(hits)
                }
                (status, body) => return Err(EsError::from_response(status, &body.to_string())),
            };
            let page: Vec<Hit> = response["hits"]["hits"]
                .as_array()
                .map(|a| a.iter().filter_map(Hit::from_json).collect())
                .unwrap_or_default();
            let total = response["hits"]["total"]["value"].as_u64().unwrap_or(0) as usize;
            let got = page.len();
            hits.extend(page);
            if got == 0 || hits.len() >= total.min(limit).min(MAX_RESULT_WINDOW) {
                return Ok(hits);
            }
        }
    }

    pub async fn search_connectors(&self, query: Value) -> Result<Vec<Connector>, EsError> {
        let hits = self.search(CONNECTORS_ALIAS, query, None).await?;
        Ok(hits.into_iter().map(Hit::into_connector).collect())
    }

    pub async fn search_jobs(
        &self,
        query: Value,
        sort: Option<Value>,
    ) -> Result<Vec<SyncJob>, EsError> {
        let hits = self.search(JOBS_ALIAS, query, sort).await?;
        Ok(hits.into_iter().map(Hit::into_job).collect())
    }

    /// The `limit` most recently created jobs matching `query`.
    pub async fn latest_jobs(&self, query: Value, limit: usize) -> Result<Vec<SyncJob>, EsError> {
        let sort = json!([{"created_at": "desc"}]);
        let hits = self
            .search_upto(JOBS_ALIAS, query, Some(sort), limit)
            .await?;
        Ok(hits.into_iter().map(Hit::into_job).collect())
    }
}

impl Store {
    /// `POST /<index>/_refresh` then `POST /<index>/_count`; 0 when the index does not exist.
    pub async fn count_documents(&self, index: &str, refresh: bool) -> Result<u64, EsError> {
        let index = path_segment(index);
        let q = [("ignore_unavailable", "true")];
        if refresh {
            self.client
                .call(Method::Post, &format!("/{index}/_refresh"), &q, None)
                .await?;
        }
        let body = self
            .client
            .call(Method::Post, &format!("/{index}/_count"), &q, None)
            .await?;
        Ok(body["count"].as_u64().unwrap_or(0))
    }
}

/// Runs a read-modify-write `op` again when it loses an OCC race, up to [`OCC_ATTEMPTS`] times in all.
pub async fn occ_retry<T, F, Fut>(mut op: F) -> Result<T, EsError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, EsError>>,
{
    let mut attempt = 1;
    loop {
        match op().await {
            Err(e) if e.is_conflict() && attempt < OCC_ATTEMPTS => attempt += 1,
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn occ_retry_reruns_conflicts_only_three_times() {
        let mut calls = 0;
        let r: Result<(), EsError> = occ_retry(|| {
            calls += 1;
            async {
                Err(EsError::Http {
                    status: 409,
                    reason: "conflict".into(),
                })
            }
        })
        .await;
        assert!(r.unwrap_err().is_conflict());
        assert_eq!(calls, 3);
        let mut calls = 0;
        let r: Result<(), EsError> = occ_retry(|| {
            calls += 1;
            async {
                Err(EsError::Http {
                    status: 400,
                    reason: "bad".into(),
                })
            }
        })
        .await;
        assert!(r.is_err());
        assert_eq!(calls, 1);
    }
}
