//! The connector's content index: make sure it exists (spec §9: `PUT /<index>` with no body, so the cluster's
//! templates and mappings apply; an existing index or alias is used as it is), and read which documents it holds
//! (`_id` hash → `_timestamp` fingerprint) for a full sync's change detection, and which of them to delete.

use std::collections::hash_map::DefaultHasher;
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

/// What the index holds, compactly: per document a 64-bit hash of its `_id` and a 64-bit fingerprint of its
/// `_timestamp`, in one vector sorted by id hash — 16 bytes per document (a million documents: 16 MiB), whatever
/// the ids' length. The ids themselves are not kept: a full sync's deletes re-read them from the index (a second
/// scroll, only when something is left to delete) and delete each `_id` whose hash the source never listed.
///
/// Collisions (two ids with one hash; about one chance in 10^7 at a million documents) can only make the sync
/// do more, never delete the wrong document:
/// - two stored ids sharing a hash are marked ambiguous: a listed document with that hash is always reindexed;
/// - a listed id marks its hash seen, so a stale stored id with the same hash is kept, not deleted (it stays
///   until one of them changes); a listed document is never deleted, since its own hash is seen.
#[derive(Debug, Default)]
pub struct ExistingDocs {
    entries: Vec<Entry>,
    unseen: usize,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    id: u64,
    timestamp: u64,
}

/// An entry the source listed in this sync.
const SEEN: u64 = u64::MAX;
/// Two stored ids with one hash: no fingerprint matches it.
const AMBIGUOUS: u64 = u64::MAX - 1;

impl ExistingDocs {
    pub fn new() -> Self {
        Self::default()
    }

    /// From `(_id, _timestamp fingerprint)` pairs as the index answered them.
    fn from_pairs(mut entries: Vec<Entry>) -> Self {
        entries.sort_unstable_by_key(|e| e.id);
        entries.dedup_by(|later, kept| {
            let same = later.id == kept.id;
            if same {
                kept.timestamp = AMBIGUOUS;
            }
            same
        });
        entries.shrink_to_fit();
        let unseen = entries.len();
        ExistingDocs { entries, unseen }
    }

    /// Stored documents the source has not listed (yet).
    pub fn len(&self) -> usize {
        self.unseen
    }

    pub fn is_empty(&self) -> bool {
        self.unseen == 0
    }

    /// Marks `id` listed and answers its stored timestamp fingerprint; `None` when the index does not hold it or
    /// it was already listed in this sync.
    pub fn take(&mut self, id: &str) -> Option<u64> {
        let hash = id_hash(id);
        let i = self.entries.binary_search_by_key(&hash, |e| e.id).ok()?;
        let entry = &mut self.entries[i];
        if entry.timestamp == SEEN {
            return None;
        }
        let stored = entry.timestamp;
        entry.timestamp = SEEN;
        self.unseen -= 1;
        Some(stored)
    }

    /// Bytes held (for tests and benchmarks).
    pub fn heap_bytes(&self) -> usize {
        self.entries.capacity() * std::mem::size_of::<Entry>()
    }
}

/// The 64-bit hash ids are kept as (SipHash with fixed keys: the same id hashes the same within a sync).
fn id_hash(id: &str) -> u64 {
    let mut h = DefaultHasher::new();
    id.hash(&mut h);
    h.finish()
}

pub fn timestamp_fingerprint(timestamp: Option<&str>) -> u64 {
    match timestamp {
        None => 0,
        Some(t) => {
            let mut h = DefaultHasher::new();
            t.hash(&mut h);
            // 0 is "no timestamp"; the top two values are the map's markers.
            h.finish().clamp(1, AMBIGUOUS - 1)
        }
    }
}

/// Reads every document's `_id` and `_timestamp` with a scroll (any index size; pages of 1 000). A missing index
/// holds nothing. Keyed on `_id`, the one thing a delete acts on: a `_source.id` that disagrees with it (a document
/// written by something else into a shared index) must neither hide a stale document nor aim a delete at another.
pub async fn scan_existing(client: &EsClient, index: &str) -> Result<ExistingDocs, EsError> {
    let mut pairs = Vec::new();
    let mut scroll = Scroll::open(client, index, json!(["_timestamp"])).await?;
    while let Some(hits) = scroll.next_page().await? {
        for hit in &hits {
            if let Some(id) = hit["_id"].as_str() {
                let ts = hit["_source"]["_timestamp"].as_str();
                pairs.push(Entry {
                    id: id_hash(id),
                    timestamp: timestamp_fingerprint(ts),
                });
            }
        }
    }
    scroll.close().await;
    Ok(ExistingDocs::from_pairs(pairs))
}

/// The `_id`s of the documents in `existing` the source did not list, read again from the index page by page
/// (each is marked, so an id is answered once); `on_page` gets each page's ids to delete. Stops early once
/// nothing is left.
pub async fn take_unlisted<F, Fut, E>(
    client: &EsClient,
    index: &str,
    existing: &mut ExistingDocs,
    mut on_page: F,
) -> Result<(), E>
where
    F: FnMut(Vec<String>) -> Fut,
    Fut: std::future::Future<Output = Result<(), E>>,
    E: From<EsError>,
{
    if existing.is_empty() {
        return Ok(());
    }
    let mut scroll = Scroll::open(client, index, json!(false)).await?;
    let mut result = Ok(());
    while !existing.is_empty() {
        let hits = match scroll.next_page().await {
            Ok(Some(hits)) => hits,
            Ok(None) => break,
            Err(e) => {
                result = Err(e.into());
                break;
            }
        };
        let ids: Vec<String> = hits
            .iter()
            .filter_map(|hit| hit["_id"].as_str())
            .filter(|id| existing.take(id).is_some())
            .map(str::to_string)
            .collect();
        if !ids.is_empty() {
            if let Err(e) = on_page(ids).await {
                result = Err(e);
                break;
            }
        }
    }
    scroll.close().await;
    result
}

/// A scroll over every document of an index, in `_doc` order, with the given `_source` filter.
struct Scroll<'a> {
    client: &'a EsClient,
    /// The first page, answered by `open`; later pages come from the scroll API.
    first: Option<Vec<Value>>,
    scroll_id: Option<String>,
}

impl<'a> Scroll<'a> {
    async fn open(client: &'a EsClient, index: &str, source: Value) -> Result<Scroll<'a>, EsError> {
        let body = json!({"size": SCAN_PAGE, "_source": source, "sort": ["_doc"], "query": {"match_all": {}}});
        let path = format!("/{}/_search", path_segment(index));
        let query = [
            ("scroll", SCROLL_KEEP_ALIVE),
            ("ignore_unavailable", "true"),
        ];
        let page = match client
            .request(Method::Post, &path, &query, Some(&body))
            .await?
        {
            (200, page) => page,
            (404, _) => Value::Null,
            (status, body) => return Err(EsError::from_response(status, &body.to_string())),
        };
        Ok(Scroll {
            client,
            scroll_id: page["_scroll_id"].as_str().map(str::to_string),
            first: Some(hits(page)),
        })
    }

    /// The next page's hits; `None` at the end.
    async fn next_page(&mut self) -> Result<Option<Vec<Value>>, EsError> {
        let hits = match self.first.take() {
            Some(hits) => hits,
            None => {
                let Some(sid) = self.scroll_id.clone() else {
                    return Ok(None);
                };
                let page = self
                    .client
                    .call(
                        Method::Post,
                        "/_search/scroll",
                        &[],
                        Some(&json!({"scroll": SCROLL_KEEP_ALIVE, "scroll_id": sid})),
                    )
                    .await?;
                if let Some(sid) = page["_scroll_id"].as_str() {
                    self.scroll_id = Some(sid.to_string());
                }
                hits(page)
            }
        };
        Ok((!hits.is_empty()).then_some(hits))
    }

    /// Frees the scroll context (best effort: it expires on its own).
    async fn close(self) {
        if let Some(sid) = self.scroll_id {
            let _ = self
                .client
                .request(
                    Method::Delete,
                    "/_search/scroll",
                    &[],
                    Some(&json!({"scroll_id": [sid]})),
                )
                .await;
        }
    }
}

/// A search page's hits, taken out of it (no copy).
fn hits(mut page: Value) -> Vec<Value> {
    match page.pointer_mut("/hits/hits").map(Value::take) {
        Some(Value::Array(hits)) => hits,
        _ => Vec::new(),
    }
}

/// `_timestamp` of a document body as a string, if it has one.
pub fn body_timestamp(body: &serde_json::Map<String, Value>) -> Option<&str> {
    body.get("_timestamp").and_then(Value::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(ids: &[(&str, Option<&str>)]) -> ExistingDocs {
        ExistingDocs::from_pairs(
            ids.iter()
                .map(|(id, ts)| Entry {
                    id: id_hash(id),
                    timestamp: timestamp_fingerprint(*ts),
                })
                .collect(),
        )
    }

    #[test]
    fn a_listed_id_is_taken_once_and_counted_off() {
        let mut docs = stored(&[("a", Some("t1")), ("b", None), ("c", Some("t3"))]);
        assert_eq!(docs.len(), 3);
        assert_eq!(docs.take("a"), Some(timestamp_fingerprint(Some("t1"))));
        assert_eq!(docs.take("a"), None, "listed twice: the second is a create");
        assert_eq!(docs.take("b"), Some(0));
        assert_eq!(docs.take("zzz"), None, "not in the index");
        assert_eq!(docs.len(), 1);
        assert_eq!(docs.take("c"), Some(timestamp_fingerprint(Some("t3"))));
        assert!(docs.is_empty());
    }

    #[test]
    fn two_stored_ids_with_one_hash_are_always_reindexed() {
        // A collision made by hand: the same hash twice (as two ids of an alias's indices, or a real collision).
        let ts = timestamp_fingerprint(Some("t"));
        let mut docs = ExistingDocs::from_pairs(vec![
            Entry {
                id: id_hash("x"),
                timestamp: ts,
            },
            Entry {
                id: id_hash("x"),
                timestamp: ts,
            },
        ]);
        assert_eq!(docs.len(), 1);
        let taken = docs.take("x").unwrap();
        assert_ne!(taken, ts, "an ambiguous entry never reads as unchanged");
        assert!(docs.is_empty());
    }

    #[test]
    fn sixteen_bytes_per_stored_document() {
        let pairs: Vec<Entry> = (0..100_000)
            .map(|i| Entry {
                id: id_hash(&format!(
                    "a-rather-long-teams-message-id-{i}-with-a-chat-id-19:abc@thread.v2"
                )),
                timestamp: timestamp_fingerprint(Some("2026-01-01T00:00:00Z")),
            })
            .collect();
        let docs = ExistingDocs::from_pairs(pairs);
        assert_eq!(docs.len(), 100_000);
        assert_eq!(docs.heap_bytes(), 16 * 100_000);
    }

    #[test]
    fn a_fingerprint_is_never_a_marker() {
        for t in ["", "x", "2026-01-01T00:00:00Z"] {
            let fp = timestamp_fingerprint(Some(t));
            assert!(fp != 0 && fp != SEEN && fp != AMBIGUOUS, "{t}");
        }
    }

    #[test]
    fn fingerprints() {
        assert_eq!(timestamp_fingerprint(None), 0);
        let a = timestamp_fingerprint(Some("2024-01-01T00:00:00Z"));
        assert_ne!(a, 0);
        assert_eq!(a, timestamp_fingerprint(Some("2024-01-01T00:00:00Z")));
        assert_ne!(a, timestamp_fingerprint(Some("2024-01-01T00:00:01Z")));
    }
}
