//! Test hooks for bulk failures — not an Elasticsearch API, hence the `/_standin/` prefix, and only the
//! `elastic` user may call them. `POST /_standin/faults/bulk` arms a rule: `{"status": 429|503, "count": N}`
//! fails the next N matching items across requests, in order (429 `es_rejected_execution_exception`, 503
//! `unavailable_shards_exception`); `{"status": 400, "ids": [..], "reason"?, "type"?}` fails items with those
//! `_id`s every time (`document_parsing_exception`, or `mapper_parsing_exception` when asked). Optional `ops`
//! picks the operations a rule applies to (default: `index`/`create`/`delete` for count rules,
//! `index`/`create`/`update` for id rules). `GET /_standin/faults` shows the armed rules, `DELETE
//! /_standin/faults` clears them. Faulted items are never applied; they come back as per-item errors shaped
//! like ES's, inside the usual HTTP 200 bulk response.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;

use axum::http::{Method, StatusCode};
use serde_json::{json, Map, Value};

use super::bulk::{BulkItem, BulkOp, BulkPlan, Fate};
use super::errors::EsError;

const ALL_OPS: [BulkOp; 4] = [
    BulkOp::Index,
    BulkOp::Create,
    BulkOp::Update,
    BulkOp::Delete,
];
const COUNT_DEFAULT_OPS: [BulkOp; 3] = [BulkOp::Index, BulkOp::Create, BulkOp::Delete];
const ID_DEFAULT_OPS: [BulkOp; 3] = [BulkOp::Index, BulkOp::Create, BulkOp::Update];

#[derive(Debug, Clone)]
struct Rule {
    status: u16,
    kind: &'static str,
    reason: Option<String>,
    ops: Vec<BulkOp>,
}

#[derive(Debug, Clone)]
struct CountRule {
    rule: Rule,
    remaining: u64,
}

#[derive(Debug, Default)]
struct Faults {
    counted: VecDeque<CountRule>,
    by_id: BTreeMap<String, Rule>,
}

#[derive(Debug, Default)]
pub(crate) struct FaultStore {
    inner: Mutex<Faults>,
}

impl FaultStore {
    fn lock(&self) -> std::sync::MutexGuard<'_, Faults> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Fails the plan's still-forwarded items that an armed rule matches; count rules are used up in order.
    pub(crate) fn apply(&self, plan: &mut BulkPlan) {
        let mut guard = self.lock();
        let faults = &mut *guard;
        if faults.counted.is_empty() && faults.by_id.is_empty() {
            return;
        }
        for (item, fate) in plan.items.iter().zip(plan.fates.iter_mut()) {
            if !matches!(fate, Fate::Forward(_)) {
                continue;
            }
            let counted = faults
                .counted
                .iter_mut()
                .find(|c| c.rule.ops.contains(&item.op))
                .map(|c| {
                    c.remaining = c.remaining.saturating_sub(1);
                    c.rule.error(item)
                });
            if let Some(err) = counted {
                faults.counted.retain(|c| c.remaining > 0);
                *fate = Fate::Fail(err);
                continue;
            }
            let by_id = item.id.as_ref().and_then(|id| faults.by_id.get(id));
            if let Some(rule) = by_id.filter(|r| r.ops.contains(&item.op)) {
                *fate = Fate::Fail(rule.error(item));
            }
        }
    }

    /// Answers `/_standin/faults[/bulk]`.
    pub(crate) fn handle(
        &self,
        method: &Method,
        path: &str,
        body: &[u8],
    ) -> Result<(StatusCode, Value), EsError> {
        match (method, path.trim_end_matches('/')) {
            (&Method::POST | &Method::PUT, "/_standin/faults/bulk") => {
                let spec: Value = serde_json::from_slice(body)
                    .map_err(|e| EsError::illegal_argument(format!("fault spec is not JSON: {e}")))?;
                self.arm(&spec)?;
                Ok((StatusCode::OK, json!({"acknowledged": true, "faults": self.describe()})))
            }
            (&Method::GET, "/_standin/faults") => Ok((StatusCode::OK, self.describe())),
            (&Method::DELETE, "/_standin/faults") => {
                *self.lock() = Faults::default();
                Ok((StatusCode::OK, json!({"acknowledged": true})))
            }
            _ => Err(EsError::illegal_argument(format!(
                "no handler found for uri [{path}] and method [{method}] (es-standin test hooks: POST /_standin/faults/bulk, GET|DELETE /_standin/faults)"
            ))),
        }
    }

    fn arm(&self, spec: &Value) -> Result<(), EsError> {
        let bad = |why: &str| EsError::illegal_argument(format!("invalid bulk fault spec: {why}"));
        let Some(obj) = spec.as_object() else {
            return Err(bad("expected an object"));
        };
        let known = ["status", "count", "ids", "reason", "type", "ops"];
        if let Some(unknown) = obj.keys().find(|k| !known.contains(&k.as_str())) {
            return Err(bad(&format!("unknown field [{unknown}]")));
        }
        let status = obj
            .get("status")
            .and_then(Value::as_u64)
            .ok_or_else(|| bad("[status] must be 400, 429 or 503"))?;
        let kind = match (status, obj.get("type").and_then(Value::as_str)) {
            (429, None) => "es_rejected_execution_exception",
            (503, None) => "unavailable_shards_exception",
            (400, None | Some("document_parsing_exception")) => "document_parsing_exception",
            (400, Some("mapper_parsing_exception")) => "mapper_parsing_exception",
            (400 | 429 | 503, Some(other)) => {
                return Err(bad(&format!(
                    "[type] [{other}] is not supported for status [{status}]"
                )))
            }
            _ => return Err(bad("[status] must be 400, 429 or 503")),
        };
        let reason = match obj.get("reason") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => return Err(bad("[reason] must be a string")),
        };
        let ids = match obj.get("ids") {
            None => None,
            Some(Value::Array(items)) if !items.is_empty() => Some(
                items
                    .iter()
                    .map(|v| v.as_str().map(str::to_string))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| bad("[ids] must be strings"))?,
            ),
            Some(_) => return Err(bad("[ids] must be a non-empty array of strings")),
        };
        let count = match obj.get("count") {
            None => None,
            Some(v) => Some(
                v.as_u64()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| bad("[count] must be a positive integer"))?,
            ),
        };
        let ops = match obj.get("ops") {
            None => None,
            Some(Value::Array(items)) if !items.is_empty() => Some(
                items
                    .iter()
                    .map(|v| ALL_OPS.into_iter().find(|op| Some(op.key()) == v.as_str()))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| bad("[ops] entries must be index, create, update or delete"))?,
            ),
            Some(_) => return Err(bad("[ops] must be a non-empty array")),
        };
        let status = u16::try_from(status).unwrap_or(400);
        let mut faults = self.lock();
        match (count, ids) {
            (Some(remaining), None) => {
                let ops = ops.unwrap_or_else(|| COUNT_DEFAULT_OPS.to_vec());
                faults.counted.push_back(CountRule {
                    rule: Rule {
                        status,
                        kind,
                        reason,
                        ops,
                    },
                    remaining,
                });
            }
            (None, Some(ids)) => {
                let ops = ops.unwrap_or_else(|| ID_DEFAULT_OPS.to_vec());
                for id in ids {
                    faults.by_id.insert(
                        id,
                        Rule {
                            status,
                            kind,
                            reason: reason.clone(),
                            ops: ops.clone(),
                        },
                    );
                }
            }
            _ => return Err(bad("give exactly one of [count] and [ids]")),
        }
        Ok(())
    }

    fn describe(&self) -> Value {
        let faults = self.lock();
        let ops = |rule: &Rule| rule.ops.iter().map(|op| op.key()).collect::<Vec<_>>();
        let counted: Vec<Value> = faults
            .counted
            .iter()
            .map(|c| json!({"status": c.rule.status, "type": c.rule.kind, "remaining": c.remaining, "ops": ops(&c.rule)}))
            .collect();
        let by_id: Map<String, Value> = faults
            .by_id
            .iter()
            .map(|(id, r)| {
                (
                    id.clone(),
                    json!({"status": r.status, "type": r.kind, "ops": ops(r)}),
                )
            })
            .collect();
        json!({"bulk": {"counted": counted, "ids": by_id}})
    }
}

impl Rule {
    /// The per-item error ES would report.
    fn error(&self, item: &BulkItem) -> EsError {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::BAD_REQUEST);
        let index = item.index.clone().unwrap_or_default();
        let id = item.id.clone().unwrap_or_default();
        let default_reason = match self.status {
            429 => "rejected execution of coordinating operation [es-standin injected fault]".to_string(),
            503 => format!(
                "[{index}][0] primary shard is not active Timeout: [1m], request: [BulkShardRequest [[{index}][0]] containing [1] requests]"
            ),
            _ => format!("[1:1] failed to parse: es-standin injected fault for document with id '{id}'"),
        };
        let err = EsError::new(
            status,
            self.kind,
            self.reason.clone().unwrap_or(default_reason),
        );
        if self.status == 503 {
            err.with_field("index_uuid", "_na_")
                .with_field("shard", "0")
                .with_field("index", index)
        } else {
            err
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::es_front::bulk;

    const BODY: &[u8] = b"{\"index\":{\"_index\":\"i\",\"_id\":\"a\"}}\n{}\n{\"delete\":{\"_index\":\"i\",\"_id\":\"b\"}}\n{\"update\":{\"_index\":\"i\",\"_id\":\"c\"}}\n{\"doc\":{}}\n";

    fn statuses(plan: &BulkPlan) -> Vec<u16> {
        plan.fates
            .iter()
            .map(|f| match f {
                Fate::Fail(e) => e.status().as_u16(),
                _ => 0,
            })
            .collect()
    }

    fn plan() -> BulkPlan {
        BulkPlan::new(bulk::parse(BODY, None).unwrap())
    }

    #[test]
    fn counted_faults_are_used_up_across_requests() {
        let store = FaultStore::default();
        store
            .handle(
                &Method::POST,
                "/_standin/faults/bulk",
                br#"{"status":429,"count":3}"#,
            )
            .unwrap();
        let mut first = plan();
        store.apply(&mut first);
        assert_eq!(
            statuses(&first),
            vec![429, 429, 0],
            "updates are not counted by default"
        );
        let mut second = plan();
        store.apply(&mut second);
        assert_eq!(statuses(&second), vec![429, 0, 0]);
        let mut third = plan();
        store.apply(&mut third);
        assert_eq!(statuses(&third), vec![0, 0, 0]);
        match &first.fates[0] {
            Fate::Fail(e) => {
                assert_eq!(e.body()["error"]["type"], "es_rejected_execution_exception")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn id_faults_stay_until_cleared() {
        let store = FaultStore::default();
        store
            .handle(
                &Method::POST,
                "/_standin/faults/bulk",
                br#"{"status":400,"ids":["a","c"],"reason":"bad doc"}"#,
            )
            .unwrap();
        for _ in 0..2 {
            let mut p = plan();
            store.apply(&mut p);
            assert_eq!(statuses(&p), vec![400, 0, 400]);
        }
        store
            .handle(&Method::DELETE, "/_standin/faults", b"")
            .unwrap();
        let mut p = plan();
        store.apply(&mut p);
        assert_eq!(statuses(&p), vec![0, 0, 0]);
    }

    #[test]
    fn bad_specs_are_rejected() {
        let store = FaultStore::default();
        for spec in [
            r#"{"status":500,"count":1}"#,
            r#"{"status":429}"#,
            r#"{"status":429,"count":1,"ids":["a"]}"#,
            r#"{"status":429,"count":0}"#,
            r#"{"status":400,"ids":[]}"#,
            r#"{"status":429,"count":1,"extra":1}"#,
            r#"{"status":429,"count":1,"ops":["upsert"]}"#,
            "nope",
        ] {
            assert!(
                store
                    .handle(&Method::POST, "/_standin/faults/bulk", spec.as_bytes())
                    .is_err(),
                "{spec}"
            );
        }
        let (_, state) = store.handle(&Method::GET, "/_standin/faults", b"").unwrap();
        assert_eq!(state, json!({"bulk": {"counted": [], "ids": {}}}));
    }
}
