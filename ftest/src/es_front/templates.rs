//! The built-in connector system index templates. Real ES creates `.elastic-connectors-v1` and
//! `.elastic-connectors-sync-jobs-v1` from managed templates (hidden alias, hidden index, `dynamic: false`
//! mappings); osmem has no templates, so the front merges the same body into the create-index request.
//! The mappings follow ES's `elastic-connectors-mappings.json` and `elastic-connectors-sync-jobs-mappings.json`
//! (field types; `configuration`, `sync_cursor`, ... are plain objects, which `dynamic: false` leaves unindexed).

use serde_json::Value;

use super::errors::EsError;

const CONNECTORS_INDEX: &str = ".elastic-connectors-v1";
const SYNC_JOBS_INDEX: &str = ".elastic-connectors-sync-jobs-v1";
const CONNECTORS_TEMPLATE: &str = include_str!("templates/elastic-connectors.json");
const SYNC_JOBS_TEMPLATE: &str = include_str!("templates/elastic-connectors-sync-jobs.json");

/// The template body for a concrete index name, if ES has a built-in template for it.
fn template_for(index: &str) -> Option<&'static str> {
    match index {
        CONNECTORS_INDEX => Some(CONNECTORS_TEMPLATE),
        SYNC_JOBS_INDEX => Some(SYNC_JOBS_TEMPLATE),
        _ => None,
    }
}

/// For `PUT /<index>`: the body to send upstream when a template applies — the template with the request's own
/// aliases/settings/mappings merged over it, as a composable template would be. `Ok(None)` leaves the request
/// unchanged.
pub(crate) fn apply(index: &str, request_body: &[u8]) -> Result<Option<Vec<u8>>, EsError> {
    let Some(raw) = template_for(index) else {
        return Ok(None);
    };
    let mut merged: Value = serde_json::from_str(raw).map_err(|e| {
        EsError::illegal_argument(format!("built-in template for [{index}] is invalid: {e}"))
    })?;
    if request_body.iter().any(|b| !b.is_ascii_whitespace()) {
        let requested: Value = serde_json::from_slice(request_body).map_err(|e| {
            EsError::new(
                axum::http::StatusCode::BAD_REQUEST,
                "parse_exception",
                format!("request body is not JSON: {e}"),
            )
        })?;
        merge(&mut merged, requested);
    }
    serde_json::to_vec(&merged)
        .map(Some)
        .map_err(|e| EsError::illegal_argument(e.to_string()))
}

/// Deep merge of JSON objects; `overlay` wins on conflicts.
fn merge(base: &mut Value, overlay: Value) {
    match (base, overlay) {
        (Value::Object(base), Value::Object(overlay)) => {
            for (key, value) in overlay {
                match base.get_mut(&key) {
                    Some(existing) => merge(existing, value),
                    None => {
                        base.insert(key, value);
                    }
                }
            }
        }
        (base, overlay) => *base = overlay,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn connector_template_has_hidden_alias_and_strict_mappings() {
        let body: Value =
            serde_json::from_slice(&apply(CONNECTORS_INDEX, b"").unwrap().unwrap()).unwrap();
        assert_eq!(body["aliases"][".elastic-connectors"]["is_hidden"], true);
        assert_eq!(body["settings"]["index"]["hidden"], true);
        assert_eq!(body["mappings"]["dynamic"], "false");
        assert_eq!(
            body["mappings"]["properties"]["is_native"]["type"],
            "boolean"
        );
        assert_eq!(body["mappings"]["properties"]["last_seen"]["type"], "date");
    }

    #[test]
    fn sync_job_template_maps_connector_id_as_keyword() {
        let body: Value =
            serde_json::from_slice(&apply(SYNC_JOBS_INDEX, b" ").unwrap().unwrap()).unwrap();
        assert_eq!(
            body["aliases"][".elastic-connectors-sync-jobs"]["is_hidden"],
            true
        );
        assert_eq!(
            body["mappings"]["properties"]["connector"]["properties"]["id"]["type"],
            "keyword"
        );
    }

    #[test]
    fn request_body_overrides_the_template() {
        let request = json!({"settings": {"index": {"number_of_replicas": "0"}}}).to_string();
        let body: Value = serde_json::from_slice(
            &apply(CONNECTORS_INDEX, request.as_bytes())
                .unwrap()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(body["settings"]["index"]["number_of_replicas"], "0");
        assert_eq!(body["settings"]["index"]["hidden"], true);
    }

    #[test]
    fn other_indices_are_untouched() {
        assert!(apply("search-teams", b"").unwrap().is_none());
    }
}
