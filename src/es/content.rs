//! The connector's content index: make sure it exists (spec §9: `PUT /<index>` with no body, so the cluster's
//! templates and mappings apply; an existing index or alias is used as it is), and read which documents it holds
//! (`id` → `_timestamp`) for a full sync's change detection and deletions.

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};

use elasticsearch::http::Method;
use serde_json::{json, Value};

use super::{CreateOutcome, EsClient, EsError};
use crate::encode::path_segment;

/// Documents per scroll page.
const SCAN_PAGE: usize = 1000;
/// How long Elasticsearch keeps the scroll context between pages.
const SCROLL_KEEP_ALIVE: &str = "5m";

/// Creates the index if neither an index nor an alias has that name; `true` if it was created now.
pub async fn ensure_index(client: &EsClient, index: &str) -> Result<bool, EsError> {
    if client.index_exists(index).await? {
        return Ok(false);
    }
    Ok(client.create_index(index).await? == CreateOutcome::Created)
}

/// What the index holds: document id → fingerprint of its stored `_timestamp` (0 when it has none).
///
/// Memory: one boxed id string plus 8 bytes per document and the map's overhead (roughly 60–100 bytes per
/// document for typical ids), so a million documents cost on the order of 100 MiB. The fingerprint is a 64-bit
/// hash of the `_timestamp` string: "unchanged" means the source sends exactly the string stored earlier.
pub type ExistingDocs = HashMap<Box<str>, u64>;

pub fn timestamp_fingerprint(timestamp: Option<&str>) -> u64 {
    match timestamp {
        None => 0,
        Some(t) => {
            let mut h = DefaultHasher::new();
            t.hash(&mut h);
            // Keep 0 for "no timestamp".
            h.finish().max(1)
        }
    }
}

/// Reads every document's `_id` and `_timestamp` with a scroll (any index size; pages of 1 000). A missing index
/// holds nothing. Keyed on `_id`, the one thing a delete acts on: a `_source.id` that disagrees with it (a document
/// written by something else into a shared index) must neither hide a stale document nor aim a delete at another.
pub async fn scan_existing(client: &EsClient, index: &str) -> Result<ExistingDocs, EsError> {
    let mut existing = ExistingDocs::new();
    let body = json!({"size": SCAN_PAGE, "_source": ["_timestamp"], "sort": ["_doc"], "query": {"match_all": {}}});
    let path = format!("/{}/_search", path_segment(index));
    let first = match client
        .request(
            Method::Post,
            &path,
            &[
                ("scroll", SCROLL_KEEP_ALIVE),
                ("ignore_unavailable", "true"),
            ],
            Some(&body),
        )
        .await?
    {
        (200, page) => page,
        (404, _) => return Ok(existing),
        (status, body) => return Err(EsError::from_response(status, &body.to_string())),
    };
    let mut page = first;
    let mut scroll_id = page["_scroll_id"].as_str().map(str::to_string);
    loop {
        let hits = page["hits"]["hits"].as_array().cloned().unwrap_or_default();
        if hits.is_empty() {
            break;
        }
        for hit in &hits {
            if let Some(id) = hit["_id"].as_str() {
                let ts = hit["_source"]["_timestamp"].as_str();
                existing.insert(id.into(), timestamp_fingerprint(ts));
            }
        }
        let Some(sid) = scroll_id.clone() else { break };
        page = client
            .call(
                Method::Post,
                "/_search/scroll",
                &[],
                Some(&json!({"scroll": SCROLL_KEEP_ALIVE, "scroll_id": sid})),
            )
            .await?;
        scroll_id = page["_scroll_id"]
            .as_str()
            .map(str::to_string)
            .or(scroll_id);
    }
    if let Some(sid) = scroll_id {
        // Best effort: the context expires on its own.
        let _ = client
            .request(
                Method::Delete,
                "/_search/scroll",
                &[],
                Some(&json!({"scroll_id": [sid]})),
            )
            .await;
    }
    Ok(existing)
}

/// `_timestamp` of a document body as a string, if it has one.
pub fn body_timestamp(body: &serde_json::Map<String, Value>) -> Option<&str> {
    body.get("_timestamp").and_then(Value::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints() {
        assert_eq!(timestamp_fingerprint(None), 0);
        let a = timestamp_fingerprint(Some("2024-01-01T00:00:00Z"));
        assert_ne!(a, 0);
        assert_eq!(a, timestamp_fingerprint(Some("2024-01-01T00:00:00Z")));
        assert_ne!(a, timestamp_fingerprint(Some("2024-01-01T00:00:01Z")));
    }
}
