//! The `/_security` endpoints the front answers itself: `_authenticate`, and create / get / invalidate API key.
//! Owns the request and response JSON of those endpoints; the key store itself is `api_keys.rs`.

use axum::http::{Method, StatusCode};
use serde_json::{json, Map, Value};

use super::api_keys::{parse_duration_ms, ApiKeyStore, KeySelector, NewKey};
use super::auth::{Principal, ELASTIC_USER};
use super::errors::{EsError, FrontError};
use super::roles::{parse_role_descriptors, Permission};

/// Answers a `/_security/...` request, or `None` when the path is not one the front implements.
pub(crate) fn handle(
    method: &Method,
    path: &str,
    query: Option<&str>,
    body: &[u8],
    principal: &Principal,
    keys: &ApiKeyStore,
    now_ms: i64,
) -> Option<Result<Value, EsError>> {
    let path = path.trim_end_matches('/');
    match (method, path) {
        (&Method::GET, "/_security/_authenticate") => Some(Ok(authenticate(principal))),
        (&Method::POST | &Method::PUT, "/_security/api_key") => {
            Some(create(principal, body, keys, now_ms))
        }
        (&Method::GET, "/_security/api_key") => Some(Ok(list(query, keys, now_ms))),
        (&Method::DELETE, "/_security/api_key") => Some(invalidate(body, keys, now_ms)),
        _ => None,
    }
}

fn authenticate(principal: &Principal) -> Value {
    let mut body = json!({
        "username": ELASTIC_USER,
        "roles": ["superuser"],
        "full_name": null,
        "email": null,
        "metadata": { "_reserved": true },
        "enabled": true,
        "authentication_realm": { "name": "reserved", "type": "reserved" },
        "lookup_realm": { "name": "reserved", "type": "reserved" },
        "authentication_type": "realm"
    });
    if let Principal::ApiKey(key) = principal {
        // An API key's roles are its own descriptors, which ES does not list here.
        body["roles"] = json!([]);
        body["authentication_realm"] = json!({ "name": "_es_api_key", "type": "_es_api_key" });
        body["lookup_realm"] = json!({ "name": "_es_api_key", "type": "_es_api_key" });
        body["authentication_type"] = json!("api_key");
        body["api_key"] = json!({ "id": key.id, "name": key.name, "managed_by": "elasticsearch", "internal": false });
    }
    body
}

fn validation_error(message: &str) -> EsError {
    EsError::new(
        StatusCode::BAD_REQUEST,
        "action_request_validation_exception",
        format!("Validation Failed: 1: {message};"),
    )
}

fn parse_body(body: &[u8]) -> Result<Map<String, Value>, EsError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(EsError::new(
            StatusCode::BAD_REQUEST,
            "parse_exception",
            "request body is required to be a JSON object",
        )),
    }
}

fn create(
    principal: &Principal,
    body: &[u8],
    keys: &ApiKeyStore,
    now_ms: i64,
) -> Result<Value, EsError> {
    let request = parse_body(body)?;
    let name = match request.get("name") {
        Some(Value::String(name)) if !name.trim().is_empty() => name.clone(),
        _ => return Err(validation_error("api key name is required")),
    };
    let expiration_ms = match request.get("expiration") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => Some(
            now_ms
                + parse_duration_ms("expiration", text)
                    .map_err(|e| EsError::new(StatusCode::BAD_REQUEST, "parse_exception", e))?,
        ),
        Some(other) => {
            return Err(EsError::illegal_argument(format!(
                "[expiration] must be a time value, found [{other}]"
            )))
        }
    };
    let raw_descriptors = request
        .get("role_descriptors")
        .cloned()
        .unwrap_or_else(|| json!({}));
    let descriptors =
        parse_role_descriptors(Some(&raw_descriptors)).map_err(EsError::illegal_argument)?;
    let permission = match (principal, descriptors) {
        // ES lets an API key mint only "derived" keys that grant nothing.
        (Principal::ApiKey(_), Some(roles)) if roles.iter().all(|r| r.is_empty()) => Permission::Restricted(roles),
        (Principal::ApiKey(_), _) => {
            return Err(EsError::illegal_argument(
                "creating derived api keys requires an explicit role descriptor that is empty (has no privileges)",
            ))
        }
        (Principal::Elastic, None) => Permission::Superuser,
        (Principal::Elastic, Some(roles)) => Permission::Restricted(roles),
    };
    let metadata = request
        .get("metadata")
        .cloned()
        .unwrap_or_else(|| json!({}));
    let new = NewKey {
        name,
        expiration_ms,
        role_descriptors: raw_descriptors,
        metadata,
        permission,
    };
    let minted = keys.mint(new, now_ms).map_err(FrontError::into_es_error)?;
    let mut response = json!({
        "id": minted.id,
        "name": minted.name,
        "api_key": minted.api_key,
        "encoded": minted.encoded,
    });
    if let Some(exp) = minted.expiration_ms {
        response["expiration"] = json!(exp);
    }
    Ok(response)
}

fn list(query: Option<&str>, keys: &ApiKeyStore, now_ms: i64) -> Value {
    let mut selector = KeySelector::default();
    for (key, value) in url::form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        match key.as_ref() {
            "id" => selector.ids.push(value.into_owned()),
            "name" => selector.name = Some(value.into_owned()),
            "active_only" => selector.active_only = value == "true",
            // owner / username / realm_name: every key here belongs to `elastic` in the reserved realm.
            _ => {}
        }
    }
    json!({ "api_keys": keys.list(&selector, now_ms) })
}

fn invalidate(body: &[u8], keys: &ApiKeyStore, now_ms: i64) -> Result<Value, EsError> {
    let request = parse_body(body)?;
    let mut selector = KeySelector::default();
    if let Some(ids) = request.get("ids").and_then(Value::as_array) {
        selector
            .ids
            .extend(ids.iter().filter_map(Value::as_str).map(str::to_string));
    }
    if let Some(id) = request.get("id").and_then(Value::as_str) {
        selector.ids.push(id.to_string());
    }
    selector.name = request
        .get("name")
        .and_then(Value::as_str)
        .map(str::to_string);
    let whole_owner = request
        .get("owner")
        .and_then(Value::as_bool)
        .unwrap_or(false)
        || request.get("username").is_some()
        || request.get("realm_name").is_some();
    if selector.ids.is_empty() && selector.name.is_none() && !whole_owner {
        return Err(validation_error(
            "One of [api key id(s), api key name, username, realm name] must be specified if [owner] flag is false",
        ));
    }
    let outcome = keys.invalidate(&selector, now_ms);
    Ok(json!({
        "invalidated_api_keys": outcome.invalidated,
        "previously_invalidated_api_keys": outcome.previously_invalidated,
        "error_count": 0
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(
        method: Method,
        path: &str,
        body: Value,
        principal: &Principal,
        keys: &ApiKeyStore,
    ) -> Result<Value, EsError> {
        handle(
            &method,
            path,
            None,
            body.to_string().as_bytes(),
            principal,
            keys,
            1_000,
        )
        .expect("handled")
    }

    #[test]
    fn create_returns_secret_once_and_list_hides_it() {
        let keys = ApiKeyStore::default();
        let created = call(
            Method::POST,
            "/_security/api_key",
            json!({"name": "k", "expiration": "1d"}),
            &Principal::Elastic,
            &keys,
        )
        .unwrap();
        assert_eq!(created["expiration"], 1_000 + 86_400_000);
        let listed = list(Some("name=k"), &keys, 2_000);
        assert_eq!(listed["api_keys"][0]["id"], created["id"]);
        assert!(!listed
            .to_string()
            .contains(created["api_key"].as_str().unwrap()));
    }

    #[test]
    fn create_validates_name_and_expiration() {
        let keys = ApiKeyStore::default();
        let err = call(
            Method::POST,
            "/_security/api_key",
            json!({}),
            &Principal::Elastic,
            &keys,
        )
        .unwrap_err();
        assert_eq!(
            err.body()["error"]["type"],
            "action_request_validation_exception"
        );
        let err = call(
            Method::POST,
            "/_security/api_key",
            json!({"name": "k", "expiration": "1y"}),
            &Principal::Elastic,
            &keys,
        )
        .unwrap_err();
        assert_eq!(err.body()["error"]["type"], "parse_exception");
    }

    #[test]
    fn invalidate_needs_a_selector() {
        let keys = ApiKeyStore::default();
        assert!(call(
            Method::DELETE,
            "/_security/api_key",
            json!({}),
            &Principal::Elastic,
            &keys
        )
        .is_err());
        let out = call(
            Method::DELETE,
            "/_security/api_key",
            json!({"ids": ["missing"]}),
            &Principal::Elastic,
            &keys,
        )
        .unwrap();
        assert_eq!(out["invalidated_api_keys"], json!([]));
        assert_eq!(out["error_count"], 0);
    }

    #[test]
    fn unknown_security_paths_are_not_handled() {
        let keys = ApiKeyStore::default();
        assert!(handle(
            &Method::GET,
            "/_security/user",
            None,
            b"",
            &Principal::Elastic,
            &keys,
            0
        )
        .is_none());
    }
}
