//! The filtering endpoints, as `ConnectorIndexService` implements them: `PUT _connector/{id}/_filtering` with
//! a whole `filtering` list (written as given, domain forced to `DEFAULT`) or with draft `rules` and/or
//! `advanced_snippet` (rules re-sorted with the default rule last, draft validation reset to `edited`),
//! `_filtering/_validation` (the connector service's verdict on the draft) and `_filtering/_activate` (the
//! draft becomes active, only when its validation state is `valid`). Like ES, the draft endpoints rewrite
//! `filtering` as the single DEFAULT entry.

use axum::http::StatusCode;
use serde_json::{json, Map, Value};

use super::body::{status_exception, validation, Fields};
use super::connectors::{load, updated};
use super::documents::{self, sort_rules};
use super::schema;
use super::store::{ApiResult, Store, CONNECTORS};
use crate::es_front::errors::EsError;

type Answer = ApiResult<(StatusCode, Value)>;

/// The first (DEFAULT) filtering entry of a loaded connector; ES assumes it exists.
fn first_filtering(source: &Map<String, Value>, id: &str) -> Result<Map<String, Value>, EsError> {
    source
        .get("filtering")
        .and_then(Value::as_array)
        .and_then(|list| list.first())
        .and_then(Value::as_object)
        .cloned()
        .ok_or_else(|| status_exception(format!("Connector [{id}] has no [filtering] to update.")))
}

pub(crate) async fn filtering(store: &Store<'_>, id: &str, f: Fields<'_>) -> Answer {
    let now = documents::now();
    let list = f.object_array("filtering")?;
    let rules = f.object_array("rules")?;
    let snippet = f.object("advanced_snippet")?;
    match (&list, rules.is_some() || snippet.is_some()) {
        (None, false) => {
            return Err(validation(&["[advanced_snippet] and [rules] cannot be both [null].".into()]).into())
        }
        (Some(_), true) => {
            return Err(validation(&[
                "If [filtering] is specified, [rules] and [advanced_snippet] should not be present in the request body."
                    .into(),
            ])
            .into())
        }
        _ => {}
    }
    if let Some(list) = list {
        let entries = list
            .into_iter()
            .map(|entry| schema::filtering_entry(entry, &now))
            .collect::<Result<Vec<_>, EsError>>()?;
        return updated(
            store
                .update(CONNECTORS, id, json!({"filtering": entries}))
                .await?,
            id,
        );
    }
    let rules = rules
        .map(|rules| {
            rules
                .into_iter()
                .map(|r| schema::filtering_rule(r, &now))
                .collect::<Result<Vec<_>, EsError>>()
        })
        .transpose()?;
    let snippet = snippet
        .map(|s| schema::advanced_snippet(s, &now))
        .transpose()?;
    let doc = load(store, id, false).await?;
    let mut entry = first_filtering(&doc.source, id)?;
    let draft = entry
        .get("draft")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let new_rules = match rules {
        Some(rules) => json!(sort_rules(rules, &now)),
        None => draft.get("rules").cloned().unwrap_or_else(|| json!([])),
    };
    let new_snippet = snippet.unwrap_or_else(|| {
        draft
            .get("advanced_snippet")
            .cloned()
            .unwrap_or(Value::Null)
    });
    entry.insert(
        "draft".into(),
        json!({
            "advanced_snippet": new_snippet,
            "rules": new_rules,
            "validation": {"errors": [], "state": "edited"}
        }),
    );
    updated(
        store
            .update(CONNECTORS, id, json!({"filtering": [entry]}))
            .await?,
        id,
    )
}

pub(crate) async fn filtering_validation(store: &Store<'_>, id: &str, f: Fields<'_>) -> Answer {
    f.require(&["validation"])?;
    let info = schema::validation_info(f.object("validation")?.unwrap_or(&Map::new()))?;
    let doc = load(store, id, false).await?;
    let mut entry = first_filtering(&doc.source, id)?;
    let mut draft = entry
        .get("draft")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    draft.insert("validation".into(), info);
    entry.insert("draft".into(), Value::Object(draft));
    updated(
        store
            .update(CONNECTORS, id, json!({"filtering": [entry]}))
            .await?,
        id,
    )
}

pub(crate) async fn activate_filtering(store: &Store<'_>, id: &str) -> Answer {
    let doc = load(store, id, false).await?;
    let mut entry = first_filtering(&doc.source, id)?;
    let draft = entry.get("draft").cloned().unwrap_or(Value::Null);
    let state = draft
        .pointer("/validation/state")
        .and_then(Value::as_str)
        .unwrap_or("null")
        .to_ascii_lowercase();
    if state != "valid" {
        return Err(status_exception(format!(
            "Filtering draft needs to be validated by the connector service before activation. Current filtering draft validation state [{state}] is not equal to [valid]."
        ))
        .into());
    }
    entry.insert("active".into(), draft);
    updated(
        store
            .update(CONNECTORS, id, json!({"filtering": [entry]}))
            .await?,
        id,
    )
}
