//! `_bulk` items: parsing the NDJSON into items (operation, target index, id, item-level `pipeline`, byte
//! ranges of the action and source lines), and the [`BulkPlan`] that says what becomes of each item — sent to
//! osmem as written or rewritten (by a pipeline), or answered by the front itself (a 403 for a forbidden
//! item, an injected fault, a pipeline failure, a `noop` for a dropped document). The front's answers are
//! woven back into osmem's response in the original order, as ES reports per-item outcomes inside an HTTP 200.

use std::ops::Range;

use serde_json::{json, Map, Value};

use super::errors::{EsError, FrontError};
use super::privileges::{self, IndexAction};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BulkOp {
    Index,
    Create,
    Update,
    Delete,
}

impl BulkOp {
    fn parse(key: &str) -> Option<BulkOp> {
        match key {
            "index" => Some(BulkOp::Index),
            "create" => Some(BulkOp::Create),
            "update" => Some(BulkOp::Update),
            "delete" => Some(BulkOp::Delete),
            _ => None,
        }
    }

    pub(crate) fn key(self) -> &'static str {
        match self {
            BulkOp::Index => "index",
            BulkOp::Create => "create",
            BulkOp::Update => "update",
            BulkOp::Delete => "delete",
        }
    }

    /// The per-item action ES authorizes for this operation.
    pub(crate) fn action(self) -> &'static IndexAction {
        match self {
            BulkOp::Index => &privileges::INDEX_DOC,
            BulkOp::Create => &privileges::CREATE_DOC,
            BulkOp::Update => &privileges::UPDATE_DOC,
            BulkOp::Delete => &privileges::DELETE_DOC,
        }
    }
}

/// One bulk item: its action line and (except for deletes) its source line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BulkItem {
    pub(crate) op: BulkOp,
    /// The target: the action line's `_index`, else the path's index.
    pub(crate) index: Option<String>,
    pub(crate) id: Option<String>,
    /// The action line's `pipeline`, if any.
    pub(crate) pipeline: Option<String>,
    /// Byte range of the item's lines in the request body, trailing newline included when present.
    range: Range<usize>,
    /// The action line, without its newline.
    pub(crate) action: Range<usize>,
    /// The source line (absent for deletes), without its newline.
    pub(crate) source: Option<Range<usize>>,
}

/// Splits a bulk body into items. Malformed input gets the 400 ES gives rather than a guess at the targets,
/// because a guess could let a forbidden item through.
pub(crate) fn parse(body: &[u8], default_index: Option<&str>) -> Result<Vec<BulkItem>, EsError> {
    let mut lines = Lines {
        body,
        pos: 0,
        number: 0,
    };
    let mut items = Vec::new();
    while let Some((start, line, end)) = lines.next_non_blank() {
        let number = lines.number;
        let malformed = |why: &str| {
            EsError::illegal_argument(format!("Malformed action/metadata line [{number}], {why}"))
        };
        let action: Value =
            serde_json::from_slice(line).map_err(|_| malformed("expected START_OBJECT"))?;
        let (key, meta) = match action
            .as_object()
            .map(|o| o.iter().collect::<Vec<_>>())
            .as_deref()
        {
            Some([(key, meta)]) => ((*key).clone(), (*meta).clone()),
            _ => return Err(malformed("expected a single action object")),
        };
        let op = BulkOp::parse(&key).ok_or_else(|| {
            malformed(&format!(
                "expected one of [create, delete, index, update] but found [{key}]"
            ))
        })?;
        let index = meta
            .get("_index")
            .and_then(Value::as_str)
            .or(default_index)
            .map(str::to_string);
        let id = meta.get("_id").and_then(Value::as_str).map(str::to_string);
        let pipeline = meta
            .get("pipeline")
            .and_then(Value::as_str)
            .map(str::to_string);
        let mut item_end = end;
        let mut source = None;
        if op != BulkOp::Delete {
            match lines.next_non_blank() {
                Some((source_start, source_line, source_end)) => {
                    item_end = source_end;
                    source = Some(source_start..source_start + source_line.len());
                }
                None => {
                    return Err(EsError::illegal_argument(
                        "The bulk request must be terminated by a newline [\\n]".to_string(),
                    ))
                }
            }
        }
        items.push(BulkItem {
            op,
            index,
            id,
            pipeline,
            range: start..item_end,
            action: start..start + line.len(),
            source,
        });
    }
    if items.is_empty() {
        return Err(EsError::new(
            axum::http::StatusCode::BAD_REQUEST,
            "action_request_validation_exception",
            "Validation Failed: 1: no requests added;",
        ));
    }
    Ok(items)
}

struct Lines<'a> {
    body: &'a [u8],
    pos: usize,
    number: usize,
}

impl<'a> Lines<'a> {
    /// Next line with content: (start offset, line without newline, end offset after the newline).
    fn next_non_blank(&mut self) -> Option<(usize, &'a [u8], usize)> {
        while self.pos < self.body.len() {
            let start = self.pos;
            let rest = &self.body[start..];
            let (line, end) = match rest.iter().position(|&b| b == b'\n') {
                Some(nl) => (&rest[..nl], start + nl + 1),
                None => (rest, self.body.len()),
            };
            self.pos = end;
            self.number += 1;
            if line.iter().any(|b| !b.is_ascii_whitespace()) {
                return Some((start, line, end));
            }
        }
        None
    }
}

/// What becomes of one item.
#[derive(Debug)]
pub(crate) enum Fate {
    /// Sent to osmem: the item's own lines, or these replacement lines (newline-terminated).
    Forward(Option<Vec<u8>>),
    /// Answered by the front with this error.
    Fail(EsError),
    /// Dropped by a pipeline: answered `noop`, not indexed.
    Drop,
}

/// The items of one bulk request and what becomes of each.
#[derive(Debug)]
pub(crate) struct BulkPlan {
    pub(crate) items: Vec<BulkItem>,
    pub(crate) fates: Vec<Fate>,
}

impl BulkPlan {
    /// Every item goes to osmem as written.
    pub(crate) fn new(items: Vec<BulkItem>) -> Self {
        let fates = items.iter().map(|_| Fate::Forward(None)).collect();
        BulkPlan { items, fates }
    }

    /// Authorization's outcome: denied items fail, the others go to osmem.
    pub(crate) fn with_denials(items: Vec<BulkItem>, denials: Vec<Option<EsError>>) -> Self {
        let fates = denials
            .into_iter()
            .map(|denial| match denial {
                Some(err) => Fate::Fail(err),
                None => Fate::Forward(None),
            })
            .collect();
        BulkPlan { items, fates }
    }

    /// No item is answered by the front.
    pub(crate) fn all_forwarded(&self) -> bool {
        self.fates.iter().all(|f| matches!(f, Fate::Forward(_)))
    }

    pub(crate) fn any_forwarded(&self) -> bool {
        self.fates.iter().any(|f| matches!(f, Fate::Forward(_)))
    }

    /// The items still headed for osmem, with their index in the plan.
    pub(crate) fn forwarded(&self) -> impl Iterator<Item = (usize, &BulkItem)> + '_ {
        self.items
            .iter()
            .enumerate()
            .filter(|(i, _)| matches!(self.fates[*i], Fate::Forward(_)))
    }

    /// The request body for osmem: the forwarded items' lines (replacements where set), newline-terminated.
    pub(crate) fn forward_body(&self, body: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(body.len());
        for (item, fate) in self.items.iter().zip(&self.fates) {
            match fate {
                Fate::Forward(Some(lines)) => out.extend_from_slice(lines),
                Fate::Forward(None) => {
                    out.extend_from_slice(&body[item.range.clone()]);
                    if out.last() != Some(&b'\n') {
                        out.push(b'\n');
                    }
                }
                Fate::Fail(_) | Fate::Drop => {}
            }
        }
        out
    }

    /// Merges osmem's response for the forwarded items (`None` when nothing was sent) with the front's own
    /// answers. `ingest_took` is reported when pipelines ran, as ES does.
    pub(crate) fn weave(
        &self,
        upstream: Option<Value>,
        ingest_took: Option<u64>,
    ) -> Result<Value, FrontError> {
        let (took, upstream_errors, upstream_items) = match upstream {
            Some(resp) => {
                let took = resp.get("took").cloned().unwrap_or(json!(0));
                let errors = resp.get("errors").and_then(Value::as_bool).unwrap_or(false);
                let items = match resp.get("items") {
                    Some(Value::Array(items)) => items.clone(),
                    _ => return Err(FrontError::UpstreamBulk("no items array".to_string())),
                };
                (took, errors, items)
            }
            None => (json!(0), false, Vec::new()),
        };
        let expected = self.forwarded().count();
        if upstream_items.len() != expected {
            return Err(FrontError::UpstreamBulk(format!(
                "{} items for {expected} forwarded requests",
                upstream_items.len()
            )));
        }
        let mut upstream_items = upstream_items.into_iter();
        let mut merged = Vec::with_capacity(self.items.len());
        let mut failed = false;
        for (item, fate) in self.items.iter().zip(&self.fates) {
            match fate {
                Fate::Fail(err) => {
                    failed = true;
                    merged.push(failed_item(item, err));
                }
                Fate::Drop => merged.push(dropped_item(item)),
                Fate::Forward(_) => merged.push(upstream_items.next().unwrap_or(Value::Null)),
            }
        }
        let mut out = Map::new();
        out.insert("errors".into(), json!(upstream_errors || failed));
        out.insert("took".into(), took);
        if let Some(ms) = ingest_took {
            out.insert("ingest_took".into(), json!(ms));
        }
        out.insert("items".into(), Value::Array(merged));
        Ok(Value::Object(out))
    }
}

/// A per-item failure as ES writes it: `_index`, `_id`, `status`, `error`.
fn failed_item(item: &BulkItem, err: &EsError) -> Value {
    let mut result = Map::new();
    result.insert("_index".into(), json!(item.index));
    result.insert("_id".into(), json!(item.id));
    result.insert("status".into(), json!(err.status().as_u16()));
    result.insert("error".into(), err.exception_object());
    json!({ item.op.key(): Value::Object(result) })
}

/// ES's answer for a document a pipeline dropped (`BulkRequestModifier.markItemAsDropped`).
fn dropped_item(item: &BulkItem) -> Value {
    json!({ item.op.key(): {
        "_index": item.index,
        "_id": item.id,
        "_version": -3,
        "result": "noop",
        "_shards": {"total": 0, "successful": 0, "failed": 0},
        "status": 200
    }})
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &str = concat!(
        "{\"index\":{\"_index\":\"ok\",\"_id\":\"1\"}}\n{\"a\":1}\n",
        "\n",
        "{\"delete\":{\"_id\":\"2\"}}\n",
        "{\"update\":{\"_index\":\"no\",\"_id\":\"3\"}}\n{\"doc\":{\"b\":2}}"
    );

    #[test]
    fn parses_targets_and_ranges() {
        let items = parse(BODY.as_bytes(), Some("path-idx")).unwrap();
        let summary: Vec<_> = items
            .iter()
            .map(|i| (i.op, i.index.as_deref(), i.id.as_deref()))
            .collect();
        assert_eq!(
            summary,
            vec![
                (BulkOp::Index, Some("ok"), Some("1")),
                (BulkOp::Delete, Some("path-idx"), Some("2")),
                (BulkOp::Update, Some("no"), Some("3")),
            ]
        );
    }

    #[test]
    fn malformed_lines_are_rejected() {
        assert!(parse(b"not json\n", None).is_err());
        assert!(
            parse(b"{\"index\":{}}\n", None).is_err(),
            "source line missing"
        );
        assert!(parse(b"{\"upsert\":{}}\n{}\n", None).is_err());
        assert!(parse(b"\n\n", None).is_err());
    }

    #[test]
    fn denied_items_are_woven_back_in_order() {
        let items = parse(BODY.as_bytes(), Some("ok")).unwrap();
        let denials = vec![None, None, Some(EsError::forbidden("nope"))];
        let plan = BulkPlan::with_denials(items, denials);
        let allowed = String::from_utf8(plan.forward_body(BODY.as_bytes())).unwrap();
        assert_eq!(allowed, "{\"index\":{\"_index\":\"ok\",\"_id\":\"1\"}}\n{\"a\":1}\n{\"delete\":{\"_id\":\"2\"}}\n");
        let upstream = json!({"took": 3, "errors": false, "items": [
            {"index": {"_index": "ok", "_id": "1", "status": 201}},
            {"delete": {"_index": "ok", "_id": "2", "status": 404}}
        ]});
        let merged = plan.weave(Some(upstream), None).unwrap();
        assert_eq!(merged["errors"], true);
        assert_eq!(merged["items"][1]["delete"]["status"], 404);
        assert_eq!(merged["items"][2]["update"]["status"], 403);
        assert_eq!(
            merged["items"][2]["update"]["error"]["type"],
            "security_exception"
        );
        assert!(
            plan.weave(Some(json!({"items": []})), None).is_err(),
            "item count mismatch is an error"
        );
    }
}
