//! Elasticsearch `_bulk` mechanics, with no knowledge of syncs: operations and their NDJSON encoding, the
//! request (`POST /_bulk?pipeline=<name>`), reading what happened to *each* item, and re-sending only the items
//! that can succeed on retry. An HTTP 200 is never taken as success: every item is read, and a response whose
//! item count does not match the request is an error.
//!
//! Retries happen at two levels. The whole request (transport failures, 429/5xx for the request) follows the
//! client's [`RetryPolicy`](super::RetryPolicy), as every Elasticsearch call does. Items that failed with 429 or
//! 5xx inside a successful response are re-sent, alone, with exponential backoff and jitter per
//! [`ItemRetryPolicy`] — this is what `bulk.max_retries` and `bulk.retry_interval` mean here (the reference
//! reads them but never uses them, spec §12.1). Other item failures (mapping errors, 4xx) are never retried.

use std::future::Future;
use std::ops::Range;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use bytes::{Bytes, BytesMut};
use serde_json::{Map, Value};

use super::{EsClient, EsError};
use crate::config::BulkConfig;
use crate::retry::Backoff;

/// Item retries never wait longer than this between rounds (unless `bulk.retry_interval` itself is longer).
const ITEM_RETRY_MAX_INTERVAL: Duration = Duration::from_secs(60);
/// Randomization factor of the item-retry delays: each is drawn from `[d × 0.7, d × 1.3]`.
const ITEM_RETRY_JITTER: f64 = 0.3;

/// One document operation of a `_bulk` request.
#[derive(Debug, Clone, PartialEq)]
pub enum BulkOp {
    /// Create or replace the document `id` with `body` (which must not contain `_id`).
    Index {
        id: String,
        body: Map<String, Value>,
    },
    Delete {
        id: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    Index,
    Delete,
}

impl OpKind {
    fn action(self) -> &'static str {
        match self {
            OpKind::Index => "index",
            OpKind::Delete => "delete",
        }
    }
}

impl BulkOp {
    pub fn id(&self) -> &str {
        match self {
            BulkOp::Index { id, .. } | BulkOp::Delete { id } => id,
        }
    }

    pub fn kind(&self) -> OpKind {
        match self {
            BulkOp::Index { .. } => OpKind::Index,
            BulkOp::Delete { .. } => OpKind::Delete,
        }
    }

    /// Serializes the operation once into its NDJSON lines; queue, batching, size caps and the request all work
    /// from the result.
    pub fn encode(self) -> EncodedOp {
        match self {
            BulkOp::Index { id, body } => {
                let has_attachment = body.contains_key("_attachment");
                let mut lines = action_line(OpKind::Index, &id);
                let start = lines.len();
                // Writing a `Map` into a `Vec` cannot fail.
                let _ = serde_json::to_writer(&mut lines, &body);
                let source_len = lines.len() - start;
                lines.push(b'\n');
                EncodedOp {
                    id,
                    kind: OpKind::Index,
                    lines: lines.into(),
                    source_len,
                    has_attachment,
                }
            }
            BulkOp::Delete { id } => EncodedOp {
                lines: action_line(OpKind::Delete, &id).into(),
                id,
                kind: OpKind::Delete,
                source_len: 0,
                has_attachment: false,
            },
        }
    }
}

/// `{"<action>":{"_id":<id>}}` and a newline. No `_index`: requests go to `/<index>/_bulk`, so an operation is
/// encoded before anyone knows which request carries it, and the index name is not repeated per line.
fn action_line(kind: OpKind, id: &str) -> Vec<u8> {
    format!(
        "{{\"{}\":{{\"_id\":{}}}}}\n",
        kind.action(),
        Value::from(id)
    )
    .into_bytes()
}

/// A [`BulkOp`] encoded as its NDJSON lines.
#[derive(Debug, Clone, PartialEq)]
pub struct EncodedOp {
    id: String,
    kind: OpKind,
    /// The action line and, for index ops, the source line; each ends with a newline.
    lines: Bytes,
    /// Bytes of the source line without its newline (0 for a delete).
    source_len: usize,
    has_attachment: bool,
}

impl EncodedOp {
    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn kind(&self) -> OpKind {
        self.kind
    }

    /// Bytes of the serialized body (0 for a delete): what `indexed_document_volume` adds up (spec §6.6).
    pub fn body_bytes(&self) -> usize {
        self.source_len
    }

    /// Whether the body has an `_attachment` field (binary content for the pipeline): such documents are
    /// exempt from the text size cap.
    pub fn has_attachment(&self) -> bool {
        self.has_attachment
    }

    /// Exact bytes of this operation's NDJSON lines: what the queue, batches and size caps count.
    pub fn size(&self) -> usize {
        self.lines.len()
    }
}

/// Builds an index operation whose `_attachment` is a file's bytes in base64, written straight into the
/// operation as the bytes arrive: the file is never held whole, nor its base64 as a separate string, and the
/// finished operation is the buffer the `_bulk` request sends.
pub struct AttachmentOp {
    id: String,
    lines: Vec<u8>,
    source_start: usize,
    /// 0–2 bytes left over from the last chunk (base64 encodes 3 bytes at a time).
    carry: [u8; 3],
    carry_len: usize,
    file_bytes: u64,
}

impl AttachmentOp {
    /// Starts the operation for `id` with the fields of `body` (which must not hold `_attachment`), sized for
    /// a file of `expected_file_bytes`.
    pub fn new(id: String, body: &Map<String, Value>, expected_file_bytes: u64) -> Self {
        let mut lines = action_line(OpKind::Index, &id);
        let source_start = lines.len();
        let fields = serde_json::to_vec(body).unwrap_or_else(|_| b"{}".to_vec());
        lines.reserve(Self::size_for(&id, fields.len(), expected_file_bytes) - source_start);
        // `{...}` → `{...,"_attachment":"`
        lines.extend_from_slice(&fields[..fields.len().saturating_sub(1)]);
        if fields.len() > 2 {
            lines.push(b',');
        }
        lines.extend_from_slice(b"\"_attachment\":\"");
        AttachmentOp {
            id,
            lines,
            source_start,
            carry: [0; 3],
            carry_len: 0,
            file_bytes: 0,
        }
    }

    /// The finished operation's size for a file of `file_bytes`, given the serialized fields' length.
    fn size_for(id: &str, fields_len: usize, file_bytes: u64) -> usize {
        let base64 = usize::try_from(file_bytes.div_ceil(3) * 4).unwrap_or(usize::MAX);
        // Action line (the id at most 6× longer once escaped), fields, `,"_attachment":"`, base64, `"}` + newline.
        24 + id.len() * 6 + fields_len + 17 + base64 + 3
    }

    /// An upper estimate of the finished operation for a file of `file_bytes` and the given fields.
    pub fn estimate(id: &str, body: &Map<String, Value>, file_bytes: u64) -> usize {
        let fields = serde_json::to_vec(body).map_or(2, |f| f.len());
        Self::size_for(id, fields, file_bytes)
    }

    /// Bytes of the file taken so far.
    pub fn file_bytes(&self) -> u64 {
        self.file_bytes
    }

    /// Bytes of the operation so far.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Appends the next bytes of the file.
    pub fn push(&mut self, mut chunk: &[u8]) {
        self.file_bytes += chunk.len() as u64;
        if self.carry_len > 0 {
            let take = (3 - self.carry_len).min(chunk.len());
            self.carry[self.carry_len..self.carry_len + take].copy_from_slice(&chunk[..take]);
            self.carry_len += take;
            chunk = &chunk[take..];
            if self.carry_len < 3 {
                return;
            }
            let carry = self.carry;
            self.append_base64(&carry);
            self.carry_len = 0;
        }
        let whole = chunk.len() / 3 * 3;
        self.append_base64(&chunk[..whole]);
        let rest = &chunk[whole..];
        self.carry[..rest.len()].copy_from_slice(rest);
        self.carry_len = rest.len();
    }

    fn append_base64(&mut self, input: &[u8]) {
        if input.is_empty() {
            return;
        }
        let start = self.lines.len();
        let n = base64::encoded_len(input.len(), true).unwrap_or(0);
        self.lines.resize(start + n, 0);
        // The slice is exactly the encoded length, so this cannot fail.
        let _ = STANDARD.encode_slice(input, &mut self.lines[start..]);
    }

    /// Closes the base64 string and the document.
    pub fn finish(mut self) -> EncodedOp {
        let carry = self.carry;
        let n = self.carry_len;
        self.append_base64(&carry[..n]);
        self.lines.extend_from_slice(b"\"}");
        let source_len = self.lines.len() - self.source_start;
        self.lines.push(b'\n');
        EncodedOp {
            id: self.id,
            kind: OpKind::Index,
            lines: self.lines.into(),
            source_len,
            has_attachment: true,
        }
    }
}

/// Operations grouped into one `_bulk` request: one NDJSON body (a single operation's own buffer, or the
/// operations copied once into one) and where each operation sits in it.
#[derive(Debug, Clone)]
pub struct Batch {
    body: Bytes,
    items: Vec<BatchItem>,
}

/// One operation of a [`Batch`].
#[derive(Debug, Clone, PartialEq)]
pub struct BatchItem {
    id: String,
    kind: OpKind,
    /// Its lines in the batch body.
    range: Range<usize>,
    source_len: usize,
}

impl BatchItem {
    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn kind(&self) -> OpKind {
        self.kind
    }

    /// See [`EncodedOp::body_bytes`].
    pub fn body_bytes(&self) -> usize {
        self.source_len
    }
}

impl Batch {
    /// Joins `ops` into one request body; a single operation's buffer is used as it is.
    pub fn from_ops(ops: Vec<EncodedOp>) -> Batch {
        let mut items = Vec::with_capacity(ops.len());
        let mut offset = 0;
        for op in &ops {
            items.push(BatchItem {
                id: op.id.clone(),
                kind: op.kind,
                range: offset..offset + op.lines.len(),
                source_len: op.source_len,
            });
            offset += op.lines.len();
        }
        let body = if let [op] = ops.as_slice() {
            op.lines.clone()
        } else {
            let mut body = BytesMut::with_capacity(offset);
            for op in ops {
                body.extend_from_slice(&op.lines);
            }
            body.freeze()
        };
        Batch { body, items }
    }

    pub fn items(&self) -> &[BatchItem] {
        &self.items
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Bytes of the request body.
    pub fn size(&self) -> usize {
        self.body.len()
    }

    /// The NDJSON body carrying the items at `indices` (all of them: the body itself, no copy).
    fn body_of(&self, indices: &[usize]) -> Bytes {
        if indices.len() == self.items.len() {
            return self.body.clone();
        }
        if let [i] = indices {
            return self.body.slice(self.items[*i].range.clone());
        }
        let mut body = BytesMut::new();
        for &i in indices {
            body.extend_from_slice(&self.body[self.items[i].range.clone()]);
        }
        body.freeze()
    }
}

/// What happened to one item.
#[derive(Debug, Clone, PartialEq)]
pub enum ItemOutcome {
    Created,
    Updated,
    Deleted,
    /// Success, but the ingest pipeline dropped the document (or nothing changed): counted as indexed and as
    /// dropped-by-pipeline (spec §6.5).
    Noop,
    /// A delete of a document that was not there. Counted as a successful delete: the end state is what was
    /// asked for, and the reference counts it the same way (its item has a `result` and no `error`).
    NotFound,
    Failed(ItemError),
    /// Never acknowledged: the request carrying it failed as a whole (see [`BulkOutcome::request_error`]).
    Unsent,
}

impl ItemOutcome {
    pub fn is_success(&self) -> bool {
        !matches!(self, ItemOutcome::Failed(_) | ItemOutcome::Unsent)
    }
}

/// A failed item, with what Elasticsearch said about it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("document `{id}`: HTTP {status} {error_type}: {reason}")]
pub struct ItemError {
    pub id: String,
    pub status: u16,
    /// `error.type`, e.g. `document_parsing_exception`.
    pub error_type: String,
    /// `error.reason`.
    pub reason: String,
}

impl ItemError {
    /// 429 (too many requests, a full write queue) and 5xx can succeed later; mapping errors and other 4xx cannot.
    pub fn is_retryable(&self) -> bool {
        self.status == 429 || (500..600).contains(&self.status)
    }
}

/// Reads a `_bulk` answer for `ops` (in request order). A non-2xx status, a body without `items`, or a count
/// or id that does not line up with the request is an error for the whole request.
pub fn parse_response(
    ops: &[&BatchItem],
    status: u16,
    body: &Value,
) -> Result<Vec<ItemOutcome>, EsError> {
    if !(200..300).contains(&status) {
        return Err(EsError::from_response(status, &body.to_string()));
    }
    let items = body
        .get("items")
        .and_then(Value::as_array)
        .ok_or_else(|| EsError::Decode("the bulk response has no `items`".into()))?;
    if items.len() != ops.len() {
        return Err(EsError::Decode(format!(
            "the bulk response has {} items for {} operations",
            items.len(),
            ops.len()
        )));
    }
    ops.iter()
        .zip(items)
        .map(|(op, item)| parse_item(op, item))
        .collect()
}

fn parse_item(op: &BatchItem, item: &Value) -> Result<ItemOutcome, EsError> {
    // Each item is `{"<action>": {...}}`.
    let data = item
        .as_object()
        .and_then(|o| o.values().next())
        .ok_or_else(|| EsError::Decode(format!("unreadable bulk item {item}")))?;
    if let Some(id) = data.get("_id").and_then(Value::as_str) {
        if id != op.id {
            return Err(EsError::Decode(format!(
                "bulk item for `{id}` where `{}` was expected (items out of order)",
                op.id
            )));
        }
    }
    let status = data
        .get("status")
        .and_then(Value::as_u64)
        .and_then(|s| u16::try_from(s).ok())
        .unwrap_or(0);
    let failed = |error_type: &str, reason: String| {
        ItemOutcome::Failed(ItemError {
            id: op.id.clone(),
            status,
            error_type: error_type.to_string(),
            reason,
        })
    };
    if let Some(error) = data.get("error") {
        let text = |key: &str| error.get(key).and_then(Value::as_str);
        let reason = text("reason")
            .map(str::to_string)
            .or_else(|| error.as_str().map(str::to_string))
            .unwrap_or_else(|| error.to_string());
        return Ok(failed(text("type").unwrap_or("error"), reason));
    }
    let result = data.get("result").and_then(Value::as_str).unwrap_or("");
    Ok(match (result, op.kind) {
        ("created", _) => ItemOutcome::Created,
        ("updated", _) => ItemOutcome::Updated,
        ("deleted", _) => ItemOutcome::Deleted,
        ("noop", _) => ItemOutcome::Noop,
        ("not_found", OpKind::Delete) => ItemOutcome::NotFound,
        (other, _) => failed(
            "unexpected_result",
            format!("unexpected bulk result `{other}`"),
        ),
    })
}

/// How items that failed with 429/5xx are re-sent.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ItemRetryPolicy {
    /// Re-sends after the first try; 0 never re-sends.
    pub max_retries: u32,
    /// First delay; each further one doubles, up to `max_interval`.
    pub initial: Duration,
    pub max_interval: Duration,
    pub jitter: f64,
}

impl ItemRetryPolicy {
    /// `bulk.max_retries` re-sends, starting `bulk.retry_interval` apart.
    pub fn from_config(cfg: &BulkConfig) -> Self {
        let initial = cfg.retry_interval.get();
        ItemRetryPolicy {
            max_retries: cfg.max_retries,
            initial,
            max_interval: initial.max(ITEM_RETRY_MAX_INTERVAL),
            jitter: ITEM_RETRY_JITTER,
        }
    }

    fn backoff(&self) -> Backoff {
        Backoff::with_jitter(self.initial, 2.0, self.max_interval, self.jitter)
    }
}

/// What became of a batch after item retries.
#[derive(Debug)]
pub struct BulkOutcome {
    /// One per op, in the order given. Items still failing after the last retry keep their last error.
    pub items: Vec<ItemOutcome>,
    /// A request that failed as a whole after the client's own retries (or whose answer was unreadable). Items
    /// it carried are [`ItemOutcome::Unsent`]; items settled by earlier rounds keep their outcome.
    pub request_error: Option<EsError>,
    /// Item re-sends made (an item re-sent twice counts twice).
    pub retried: u64,
}

/// Sends `batch` to `index` and re-sends only the items that failed with 429/5xx, per `policy`.
pub async fn send_with_item_retries(
    client: &EsClient,
    index: &str,
    pipeline: Option<&str>,
    batch: &Batch,
    policy: &ItemRetryPolicy,
) -> BulkOutcome {
    let query: Vec<(&str, &str)> = pipeline.map(|p| ("pipeline", p)).into_iter().collect();
    let query = query.as_slice();
    retry_items(batch.len(), policy, |indices: Vec<usize>| async move {
        let body = batch.body_of(&indices);
        let items: Vec<&BatchItem> = indices.iter().map(|&i| &batch.items[i]).collect();
        let (status, response) = client.bulk(index, query, body).await?;
        parse_response(&items, status, &response)
    })
    .await
}

/// The item-retry loop over `count` items, apart from HTTP so it can be tested with a scripted `send` (which
/// gets the indices of the items to send).
async fn retry_items<F, Fut>(count: usize, policy: &ItemRetryPolicy, mut send: F) -> BulkOutcome
where
    F: FnMut(Vec<usize>) -> Fut,
    Fut: Future<Output = Result<Vec<ItemOutcome>, EsError>>,
{
    let mut items = vec![ItemOutcome::Unsent; count];
    let mut pending: Vec<usize> = (0..count).collect();
    let mut backoff = policy.backoff();
    let mut retried = 0u64;
    let mut round = 0u32;
    while !pending.is_empty() {
        let results = match send(pending.clone()).await {
            Ok(results) => results,
            Err(e) => {
                for &i in &pending {
                    items[i] = ItemOutcome::Unsent;
                }
                return BulkOutcome {
                    items,
                    request_error: Some(e),
                    retried,
                };
            }
        };
        let mut again = Vec::new();
        for (&i, result) in pending.iter().zip(results) {
            let retry = matches!(&result, ItemOutcome::Failed(e) if e.is_retryable());
            if retry && round < policy.max_retries {
                again.push(i);
            }
            items[i] = result;
        }
        pending = again;
        if !pending.is_empty() {
            round += 1;
            retried += pending.len() as u64;
            let pause = backoff.next_delay();
            tracing::info!(
                items = pending.len(),
                round,
                "re-sending bulk items that failed with 429/5xx in {pause:?}"
            );
            tokio::time::sleep(pause).await;
        }
    }
    BulkOutcome {
        items,
        request_error: None,
        retried,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::sync::Mutex;
    use std::time::Instant;

    fn index_op(id: &str, body: Value) -> EncodedOp {
        let body = body.as_object().cloned().unwrap_or_default();
        BulkOp::Index {
            id: id.into(),
            body,
        }
        .encode()
    }

    fn delete_op(id: &str) -> EncodedOp {
        BulkOp::Delete { id: id.into() }.encode()
    }

    fn failed(id: &str, status: u16) -> ItemOutcome {
        ItemOutcome::Failed(ItemError {
            id: id.into(),
            status,
            error_type: "t".into(),
            reason: format!("r{status}"),
        })
    }

    #[test]
    fn ndjson_has_action_and_source_lines() {
        let ops = vec![index_op("a\"1", json!({"id": "a", "n": 1})), delete_op("b")];
        let batch = Batch::from_ops(ops);
        let body = String::from_utf8(batch.body.to_vec()).unwrap();
        assert_eq!(
            body,
            "{\"index\":{\"_id\":\"a\\\"1\"}}\n{\"id\":\"a\",\"n\":1}\n\
             {\"delete\":{\"_id\":\"b\"}}\n"
        );
        for line in body.lines() {
            serde_json::from_str::<Value>(line).unwrap();
        }
        assert_eq!(batch.size(), body.len());
        assert_eq!(&batch.body_of(&[1])[..], b"{\"delete\":{\"_id\":\"b\"}}\n");
    }

    #[test]
    fn sizes_and_attachment_flag() {
        let op = index_op("d", json!({"title": "x"}));
        assert_eq!(op.body_bytes(), r#"{"title":"x"}"#.len());
        assert!(!op.has_attachment());
        assert_eq!(op.size(), Batch::from_ops(vec![op.clone()]).size());
        assert!(index_op("d", json!({"_attachment": "QUJD"})).has_attachment());
        assert_eq!(delete_op("d").body_bytes(), 0);
        assert_eq!(BulkOp::Delete { id: "z".into() }.id(), "z");
    }

    #[test]
    fn a_single_operation_is_sent_from_its_own_buffer() {
        let op = index_op("big", json!({"t": "x".repeat(1000)}));
        let lines = op.lines.clone();
        let batch = Batch::from_ops(vec![op]);
        assert_eq!(batch.body.as_ptr(), lines.as_ptr(), "no copy");
        assert_eq!(batch.body_of(&[0]).as_ptr(), lines.as_ptr());
    }

    #[test]
    fn attachment_ops_stream_base64_in_any_chunking() {
        let file: Vec<u8> = (0..10_007u32).map(|i| (i * 7 + i / 13) as u8).collect();
        let fields = json!({"title": "report \"q3\"", "_timestamp": "t"});
        let fields = fields.as_object().cloned().unwrap();
        let mut expected = fields.clone();
        expected.insert("_attachment".into(), json!(STANDARD.encode(&file)));
        let expected = BulkOp::Index {
            id: "f\u{e9}".into(),
            body: expected,
        }
        .encode();
        for chunk in [1, 2, 3, 4, 5, 64, 4096, 20_000] {
            let mut op = AttachmentOp::new("f\u{e9}".into(), &fields, file.len() as u64);
            for part in file.chunks(chunk) {
                op.push(part);
            }
            assert_eq!(op.file_bytes(), file.len() as u64);
            let done = op.finish();
            // The same document (fields in another order) of the same size.
            let source = |op: &EncodedOp| -> Value {
                let line = op.lines.split(|b| *b == b'\n').nth(1).unwrap_or_default();
                serde_json::from_slice(line).unwrap_or_default()
            };
            assert!(source(&done) == source(&expected), "chunks of {chunk}");
            assert_eq!(
                (done.size(), done.body_bytes()),
                (expected.size(), expected.body_bytes())
            );
            assert_eq!((done.id(), done.has_attachment()), ("f\u{e9}", true));
            assert!(AttachmentOp::estimate("f\u{e9}", &fields, file.len() as u64) >= done.size());
        }
        // No other fields, and an empty file.
        let empty = Map::new();
        let op = AttachmentOp::new("e".into(), &empty, 0).finish();
        assert_eq!(
            &op.lines[..],
            b"{\"index\":{\"_id\":\"e\"}}\n{\"_attachment\":\"\"}\n"
        );
        assert!(op.has_attachment());
    }

    /// An outcome in one line, for compact assertions.
    fn short(outcome: &ItemOutcome) -> String {
        let ItemOutcome::Failed(e) = outcome else {
            return format!("{outcome:?}");
        };
        let retry = if e.is_retryable() { ", retryable" } else { "" };
        format!(
            "{} {} {}: {}{retry}",
            e.id, e.status, e.error_type, e.reason
        )
    }

    /// Index ops for plain names, delete ops for names starting with `-`.
    fn ops(names: &[&str]) -> Vec<EncodedOp> {
        let op = |n: &str| {
            n.strip_prefix('-')
                .map_or_else(|| index_op(n, json!({})), delete_op)
        };
        names.iter().map(|n| op(n)).collect()
    }

    #[test]
    fn mixed_response_is_read_item_by_item() {
        let ops = ops(&["c", "u", "n", "-d", "-gone", "busy", "bad", "odd", "down"]);
        let body = json!({"errors": true, "items": [
            {"index": {"_id": "c", "status": 201, "result": "created"}},
            {"index": {"_id": "u", "status": 200, "result": "updated"}},
            {"index": {"_id": "n", "status": 200, "result": "noop"}},
            {"delete": {"_id": "d", "status": 200, "result": "deleted"}},
            {"delete": {"_id": "gone", "status": 404, "result": "not_found"}},
            {"index": {"_id": "busy", "status": 429, "error": {"type": "es_rejected_execution_exception", "reason": "queue full"}}},
            {"index": {"_id": "bad", "status": 400, "error": {"type": "document_parsing_exception", "reason": "failed to parse field [n]"}}},
            {"index": {"_id": "odd", "status": 200, "result": "weird"}},
            {"index": {"_id": "down", "status": 503, "error": "unavailable"}}
        ]});
        let batch = Batch::from_ops(ops);
        let got = parse_response(&batch.items().iter().collect::<Vec<_>>(), 200, &body).unwrap();
        let expected = "Created Updated Noop Deleted NotFound"
            .split(' ')
            .map(str::to_string)
            .chain([
                "busy 429 es_rejected_execution_exception: queue full, retryable".into(),
                "bad 400 document_parsing_exception: failed to parse field [n]".into(),
                "odd 200 unexpected_result: unexpected bulk result `weird`".into(),
                "down 503 error: unavailable, retryable".into(),
            ]);
        assert_eq!(
            got.iter().map(short).collect::<Vec<_>>(),
            expected.collect::<Vec<_>>()
        );
        assert_eq!(got.iter().filter(|o| o.is_success()).count(), 5);
    }

    #[test]
    fn a_200_without_matching_items_is_an_error() {
        let batch = Batch::from_ops(ops(&["a", "b"]));
        let refs: Vec<&BatchItem> = batch.items().iter().collect();
        let one = json!({"errors": false, "items": [{"index": {"_id": "a", "result": "created"}}]});
        let e = parse_response(&refs, 200, &one).unwrap_err().to_string();
        assert!(e.contains("1 items for 2 operations"), "{e}");
        assert!(parse_response(&refs, 200, &json!({"took": 1})).is_err());
        assert!(parse_response(&refs, 200, &Value::String("<html>".into())).is_err());
        let swapped = json!({"items": [{"index": {"_id": "b", "result": "created"}},
                                       {"index": {"_id": "a", "result": "created"}}]});
        assert!(parse_response(&refs, 200, &swapped).is_err());
        let denied =
            json!({"error": {"type": "security_exception", "reason": "no"}, "status": 403});
        assert!(matches!(
            parse_response(&refs, 403, &denied),
            Err(EsError::Forbidden { .. })
        ));
    }

    fn policy(max_retries: u32) -> ItemRetryPolicy {
        ItemRetryPolicy {
            max_retries,
            initial: Duration::from_millis(20),
            max_interval: Duration::from_millis(40),
            jitter: 0.0,
        }
    }

    /// A scripted `_bulk`: `answer(id, attempt)` decides each item; every request's ids (and when it was made)
    /// are recorded.
    async fn run_scripted(
        ops: &[EncodedOp],
        max_retries: u32,
        answer: impl Fn(&str, usize) -> ItemOutcome,
    ) -> (BulkOutcome, Vec<(Vec<String>, Instant)>) {
        let calls = Mutex::new(Vec::new());
        let outcome = retry_items(ops.len(), &policy(max_retries), |batch| {
            let ids: Vec<String> = batch.iter().map(|&i| ops[i].id().to_string()).collect();
            let mut calls = crate::lock::lock(&calls);
            let attempt = calls.len();
            calls.push((ids.clone(), Instant::now()));
            let results = ids.iter().map(|id| answer(id, attempt)).collect();
            async move { Ok(results) }
        })
        .await;
        (outcome, calls.into_inner().unwrap())
    }

    #[tokio::test]
    async fn only_retryable_items_are_resent_with_backoff() {
        let ops = ops(&["ok", "busy", "bad"]);
        let (outcome, calls) = run_scripted(&ops, 5, |id, attempt| match (id, attempt) {
            ("ok", _) => ItemOutcome::Created,
            ("bad", _) => failed("bad", 400),
            ("busy", 0 | 1) => failed("busy", 429),
            _ => ItemOutcome::Created,
        })
        .await;
        let ids: Vec<&[String]> = calls.iter().map(|(ids, _)| ids.as_slice()).collect();
        assert_eq!(ids, [&["ok", "busy", "bad"][..], &["busy"], &["busy"]]);
        assert_eq!(
            outcome.items,
            [
                ItemOutcome::Created,
                ItemOutcome::Created,
                failed("bad", 400)
            ]
        );
        assert_eq!(
            (outcome.retried, outcome.request_error.is_none()),
            (2, true)
        );
        // At least 20 ms, then at least 40 ms apart: exponential, no jitter in this policy.
        assert!(calls[1].1 - calls[0].1 >= Duration::from_millis(20));
        assert!(calls[2].1 - calls[1].1 >= Duration::from_millis(40));
    }

    #[tokio::test]
    async fn retries_are_bounded_and_keep_the_last_reason() {
        let ops = ops(&["busy"]);
        let (outcome, calls) = run_scripted(&ops, 2, |id, _| failed(id, 503)).await;
        assert_eq!(calls.len(), 3);
        assert_eq!(outcome.items[0], failed("busy", 503));
        let (outcome, calls) = run_scripted(&ops, 0, |id, _| failed(id, 429)).await;
        assert_eq!((calls.len(), outcome.retried), (1, 0));
    }

    #[tokio::test]
    async fn a_failed_request_leaves_its_items_unsent() {
        let ops = ops(&["ok", "busy"]);
        let mut attempt = 0;
        let outcome = retry_items(ops.len(), &policy(3), |batch| {
            attempt += 1;
            let result = if attempt == 1 {
                Ok(vec![ItemOutcome::Created, failed("busy", 429)])
            } else {
                assert_eq!(batch.len(), 1);
                Err(EsError::Timeout { host: "h".into() })
            };
            async move { result }
        })
        .await;
        assert_eq!(outcome.items, [ItemOutcome::Created, ItemOutcome::Unsent]);
        assert!(matches!(
            outcome.request_error,
            Some(EsError::Timeout { .. })
        ));
        let empty = retry_items(0, &policy(3), |_| async { panic!("no request for no ops") }).await;
        assert!(empty.items.is_empty() && empty.request_error.is_none());
    }

    #[test]
    fn policy_from_config() {
        let p = ItemRetryPolicy::from_config(&BulkConfig::default());
        assert_eq!(
            (p.max_retries, p.initial, p.max_interval),
            (5, Duration::from_secs(10), ITEM_RETRY_MAX_INTERVAL)
        );
    }
}
