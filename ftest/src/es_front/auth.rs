//! Authentication: turns the `Authorization` header into a [`Principal`] (the `elastic` superuser via Basic,
//! or an API key minted by the front) or a 401 shaped like the one ES sends. Credentials are never logged;
//! only the user name or key id appear in messages, as in ES.

use axum::http::{header, HeaderMap};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use subtle::ConstantTimeEq;

use super::api_keys::{ApiKeyStore, KeyIdentity};
use super::errors::EsError;
use super::roles::Permission;

/// The one realm user the stand-in knows, as on a fresh cluster.
pub(crate) const ELASTIC_USER: &str = "elastic";

/// Who is calling.
#[derive(Debug, Clone)]
pub(crate) enum Principal {
    Elastic,
    ApiKey(KeyIdentity),
}

impl Principal {
    pub(crate) fn permission(&self) -> Permission {
        match self {
            Principal::Elastic => Permission::Superuser,
            Principal::ApiKey(key) => key.permission.clone(),
        }
    }

    /// How ES names the subject in an authorization denial.
    pub(crate) fn denial_subject(&self) -> String {
        match self {
            Principal::Elastic => format!("user [{ELASTIC_USER}]"),
            Principal::ApiKey(key) => format!("API key id [{}] of user [{ELASTIC_USER}]", key.id),
        }
    }

    /// A log-safe label: the kind and key id, never a secret.
    pub(crate) fn log_label(&self) -> String {
        match self {
            Principal::Elastic => ELASTIC_USER.to_string(),
            Principal::ApiKey(key) => format!("api_key:{}", key.id),
        }
    }
}

/// Authenticates a request. `uri` is the request URI as ES quotes it in the failure reason.
pub(crate) fn authenticate(
    headers: &HeaderMap,
    uri: &str,
    password: &str,
    keys: &ApiKeyStore,
    now_ms: i64,
) -> Result<Principal, EsError> {
    let missing = || {
        EsError::unauthenticated(format!(
            "missing authentication credentials for REST request [{uri}]"
        ))
    };
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Err(missing());
    };
    let value = value.to_str().map_err(|_| missing())?;
    let (scheme, credentials) = value.trim().split_once(' ').unwrap_or((value, ""));
    let credentials = credentials.trim();
    if scheme.eq_ignore_ascii_case("basic") {
        basic(credentials, uri, password)
    } else if scheme.eq_ignore_ascii_case("apikey") {
        api_key(credentials, keys, now_ms)
    } else {
        // Bearer tokens, Negotiate, ...: no realm here handles them, so ES treats the request as
        // carrying no credentials it understands.
        Err(missing())
    }
}

fn basic(credentials: &str, uri: &str, password: &str) -> Result<Principal, EsError> {
    let decoded = STANDARD
        .decode(credentials)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok());
    let Some((user, given)) = decoded.as_deref().and_then(|d| d.split_once(':')) else {
        return Err(EsError::unauthenticated(format!(
            "missing authentication credentials for REST request [{uri}]"
        )));
    };
    let password_ok = bool::from(given.as_bytes().ct_eq(password.as_bytes()));
    if user == ELASTIC_USER && password_ok {
        Ok(Principal::Elastic)
    } else {
        Err(EsError::unauthenticated(format!(
            "unable to authenticate user [{user}] for REST request [{uri}]"
        )))
    }
}

fn api_key(credentials: &str, keys: &ApiKeyStore, now_ms: i64) -> Result<Principal, EsError> {
    let failed = |detail: String| {
        EsError::unauthenticated(
            "unable to authenticate with provided credentials and anonymous access is not allowed for this request",
        )
        .with_field("additional_unsuccessful_credentials", format!("API key: {detail}"))
    };
    let decoded = STANDARD
        .decode(credentials)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok());
    let Some((id, secret)) = decoded.as_deref().and_then(|d| d.split_once(':')) else {
        return Err(failed("invalid ApiKey value".to_string()));
    };
    keys.verify(id, secret, now_ms)
        .map(Principal::ApiKey)
        .map_err(|rejection| failed(rejection.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::es_front::api_keys::NewKey;
    use axum::http::HeaderValue;
    use serde_json::json;

    fn with_auth(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        h
    }

    fn basic_header(user: &str, pw: &str) -> HeaderMap {
        with_auth(&format!(
            "Basic {}",
            STANDARD.encode(format!("{user}:{pw}"))
        ))
    }

    #[test]
    fn basic_elastic_with_the_right_password() {
        let keys = ApiKeyStore::default();
        assert!(matches!(
            authenticate(&basic_header("elastic", "pw"), "/", "pw", &keys, 0),
            Ok(Principal::Elastic)
        ));
        let err =
            authenticate(&basic_header("elastic", "bad"), "/x?y=1", "pw", &keys, 0).unwrap_err();
        assert_eq!(
            err.body()["error"]["reason"],
            "unable to authenticate user [elastic] for REST request [/x?y=1]"
        );
        let err = authenticate(&basic_header("bob", "pw"), "/", "pw", &keys, 0).unwrap_err();
        assert_eq!(
            err.body()["error"]["reason"],
            "unable to authenticate user [bob] for REST request [/]"
        );
    }

    #[test]
    fn missing_credentials() {
        let err =
            authenticate(&HeaderMap::new(), "/", "pw", &ApiKeyStore::default(), 0).unwrap_err();
        assert_eq!(err.status(), 401);
        assert_eq!(
            err.body()["error"]["reason"],
            "missing authentication credentials for REST request [/]"
        );
    }

    #[test]
    fn api_keys_authenticate_and_report_why_not() {
        let keys = ApiKeyStore::default();
        let new = NewKey {
            name: "k".into(),
            expiration_ms: None,
            role_descriptors: json!({}),
            metadata: json!({}),
            permission: Permission::Superuser,
        };
        let minted = keys.mint(new, 0).unwrap();
        let ok = authenticate(
            &with_auth(&format!("ApiKey {}", minted.encoded)),
            "/",
            "pw",
            &keys,
            1,
        )
        .unwrap();
        assert!(matches!(ok, Principal::ApiKey(ref k) if k.id == minted.id));
        let forged = STANDARD.encode(format!("{}:wrong", minted.id));
        let err =
            authenticate(&with_auth(&format!("ApiKey {forged}")), "/", "pw", &keys, 1).unwrap_err();
        let reason = err.body()["error"]["additional_unsuccessful_credentials"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(
            reason,
            format!("API key: invalid credentials for API key [{}]", minted.id)
        );
    }
}
