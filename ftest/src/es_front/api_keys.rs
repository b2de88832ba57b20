//! The in-memory API key store: minting (id, secret, encoded credential), verifying a presented credential,
//! listing without secrets, invalidating, and ES duration strings for `expiration`. Keys live as long as the
//! process, like osmem's data. Request/response JSON for the security endpoints lives in `security.rs`.

use std::collections::HashMap;
use std::sync::Mutex;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{json, Value};
use subtle::ConstantTimeEq;

use super::errors::FrontError;
use super::random;
use super::roles::Permission;

/// A key as stored. The secret is kept so it can be compared; it is never logged or listed.
#[derive(Debug, Clone)]
struct StoredKey {
    id: String,
    name: String,
    secret: String,
    created_ms: i64,
    expiration_ms: Option<i64>,
    invalidated_ms: Option<i64>,
    role_descriptors: Value,
    metadata: Value,
    permission: Permission,
}

/// What the create call returns: the only time the secret leaves the store.
#[derive(Debug, Clone)]
pub(crate) struct MintedKey {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) api_key: String,
    pub(crate) encoded: String,
    pub(crate) expiration_ms: Option<i64>,
}

/// An authenticated API key, as the authorization layer needs it.
#[derive(Debug, Clone)]
pub(crate) struct KeyIdentity {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) permission: Permission,
}

/// Why a presented key was refused; the text is what ES reports in `additional_unsuccessful_credentials`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum KeyRejection {
    #[error("unable to find apikey with id [{0}]")]
    Unknown(String),
    #[error("invalid credentials for API key [{0}]")]
    WrongSecret(String),
    #[error("api key [{0}] has been invalidated")]
    Invalidated(String),
    #[error("api key is expired")]
    Expired,
}

/// Which keys a list or invalidate call addresses. Empty selects every key.
#[derive(Debug, Default, Clone)]
pub(crate) struct KeySelector {
    pub(crate) ids: Vec<String>,
    pub(crate) name: Option<String>,
    pub(crate) active_only: bool,
}

#[derive(Debug, Default)]
pub(crate) struct Invalidation {
    pub(crate) invalidated: Vec<String>,
    pub(crate) previously_invalidated: Vec<String>,
}

pub(crate) struct NewKey {
    pub(crate) name: String,
    pub(crate) expiration_ms: Option<i64>,
    pub(crate) role_descriptors: Value,
    pub(crate) metadata: Value,
    pub(crate) permission: Permission,
}

#[derive(Debug, Default)]
pub(crate) struct ApiKeyStore {
    keys: Mutex<HashMap<String, StoredKey>>,
}

impl ApiKeyStore {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, StoredKey>> {
        // A panic while holding the lock cannot leave a half-written key (inserts are single calls), so a
        // poisoned map is still consistent.
        self.keys
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn mint(&self, new: NewKey, now_ms: i64) -> Result<MintedKey, FrontError> {
        // ES ids are 20 URL-safe characters and secrets 22; the same lengths keep log lines and headers
        // looking like the real thing.
        let id = random::token::<15>()?;
        let secret = random::token::<16>()?;
        let encoded = STANDARD.encode(format!("{id}:{secret}"));
        let stored = StoredKey {
            id: id.clone(),
            name: new.name.clone(),
            secret: secret.clone(),
            created_ms: now_ms,
            expiration_ms: new.expiration_ms,
            invalidated_ms: None,
            role_descriptors: new.role_descriptors,
            metadata: new.metadata,
            permission: new.permission,
        };
        self.lock().insert(id.clone(), stored);
        Ok(MintedKey {
            id,
            name: new.name,
            api_key: secret,
            encoded,
            expiration_ms: new.expiration_ms,
        })
    }

    pub(crate) fn verify(
        &self,
        id: &str,
        secret: &str,
        now_ms: i64,
    ) -> Result<KeyIdentity, KeyRejection> {
        let keys = self.lock();
        let key = keys
            .get(id)
            .ok_or_else(|| KeyRejection::Unknown(id.to_string()))?;
        if !bool::from(key.secret.as_bytes().ct_eq(secret.as_bytes())) {
            return Err(KeyRejection::WrongSecret(id.to_string()));
        }
        if key.invalidated_ms.is_some() {
            return Err(KeyRejection::Invalidated(id.to_string()));
        }
        if key.expiration_ms.is_some_and(|exp| exp <= now_ms) {
            return Err(KeyRejection::Expired);
        }
        Ok(KeyIdentity {
            id: key.id.clone(),
            name: key.name.clone(),
            permission: key.permission.clone(),
        })
    }

    /// The `api_keys` entries of `GET /_security/api_key`, oldest first, without secrets.
    pub(crate) fn list(&self, selector: &KeySelector, now_ms: i64) -> Vec<Value> {
        let keys = self.lock();
        let mut selected: Vec<&StoredKey> = keys
            .values()
            .filter(|k| selector.matches(k))
            .filter(|k| !selector.active_only || (k.invalidated_ms.is_none() && !k.expired(now_ms)))
            .collect();
        selected.sort_by(|a, b| {
            a.created_ms
                .cmp(&b.created_ms)
                .then_with(|| a.id.cmp(&b.id))
        });
        selected.into_iter().map(|k| k.describe(now_ms)).collect()
    }

    pub(crate) fn invalidate(&self, selector: &KeySelector, now_ms: i64) -> Invalidation {
        let mut keys = self.lock();
        let mut outcome = Invalidation::default();
        let mut ids: Vec<String> = keys
            .values()
            .filter(|k| selector.matches(k))
            .map(|k| k.id.clone())
            .collect();
        ids.sort();
        for id in ids {
            if let Some(key) = keys.get_mut(&id) {
                if key.invalidated_ms.is_some() {
                    outcome.previously_invalidated.push(id);
                } else {
                    key.invalidated_ms = Some(now_ms);
                    outcome.invalidated.push(id);
                }
            }
        }
        outcome
    }
}

impl KeySelector {
    fn matches(&self, key: &StoredKey) -> bool {
        let id_ok = self.ids.is_empty() || self.ids.iter().any(|id| id == &key.id);
        // ES accepts a trailing-wildcard name pattern here.
        let name_ok = self
            .name
            .as_deref()
            .is_none_or(|pattern| super::roles::glob_match(pattern, &key.name));
        id_ok && name_ok
    }
}

impl StoredKey {
    fn expired(&self, now_ms: i64) -> bool {
        self.expiration_ms.is_some_and(|exp| exp <= now_ms)
    }

    fn describe(&self, now_ms: i64) -> Value {
        let mut v = json!({
            "id": self.id,
            "name": self.name,
            "type": "rest",
            "creation": self.created_ms,
            "invalidated": self.invalidated_ms.is_some(),
            "username": "elastic",
            "realm": "reserved",
            "realm_type": "reserved",
            "metadata": self.metadata,
            "role_descriptors": self.role_descriptors,
        });
        if let Some(exp) = self.expiration_ms {
            v["expiration"] = json!(exp);
        }
        if let Some(at) = self.invalidated_ms {
            v["invalidation"] = json!(at);
        }
        if self.expired(now_ms) {
            v["expired"] = json!(true);
        }
        v
    }
}

/// Parses an ES time value (`1d`, `2h`, `30m`, `10s`, `500ms`, `100micros`, `100nanos`) into milliseconds.
/// The error is the reason ES gives for an unparseable value.
pub(crate) fn parse_duration_ms(setting: &str, value: &str) -> Result<i64, String> {
    let v = value.trim().to_ascii_lowercase();
    let unit_start = v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len());
    let (digits, unit) = v.split_at(unit_start);
    let failed = || {
        format!("failed to parse setting [{setting}] with value [{value}] as a time value: unit is missing or unrecognized")
    };
    let amount: i64 = digits.parse().map_err(|_| failed())?;
    let millis = match unit.trim() {
        "nanos" => amount / 1_000_000,
        "micros" => amount / 1_000,
        "ms" => amount,
        "s" => amount.saturating_mul(1_000),
        "m" => amount.saturating_mul(60_000),
        "h" => amount.saturating_mul(3_600_000),
        "d" => amount.saturating_mul(86_400_000),
        _ => return Err(failed()),
    };
    Ok(millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_key(name: &str, expiration_ms: Option<i64>) -> NewKey {
        NewKey {
            name: name.to_string(),
            expiration_ms,
            role_descriptors: json!({}),
            metadata: json!({}),
            permission: Permission::Superuser,
        }
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration_ms("expiration", "1d").unwrap(), 86_400_000);
        assert_eq!(parse_duration_ms("expiration", "2h").unwrap(), 7_200_000);
        assert_eq!(parse_duration_ms("expiration", "30m").unwrap(), 1_800_000);
        assert_eq!(parse_duration_ms("expiration", "10s").unwrap(), 10_000);
        assert_eq!(parse_duration_ms("expiration", "250ms").unwrap(), 250);
        assert!(parse_duration_ms("expiration", "10")
            .unwrap_err()
            .contains("unit is missing"));
        assert!(parse_duration_ms("expiration", "1y").is_err());
    }

    #[test]
    fn minted_key_verifies_until_invalidated() {
        let store = ApiKeyStore::default();
        let key = store.mint(new_key("k", None), 1_000).unwrap();
        assert_eq!(key.id.len(), 20);
        assert_eq!(key.api_key.len(), 22);
        let decoded = String::from_utf8(STANDARD.decode(&key.encoded).unwrap()).unwrap();
        assert_eq!(decoded, format!("{}:{}", key.id, key.api_key));
        assert!(store.verify(&key.id, &key.api_key, 2_000).is_ok());
        assert_eq!(
            store.verify(&key.id, "nope", 2_000).unwrap_err(),
            KeyRejection::WrongSecret(key.id.clone())
        );

        let selector = KeySelector {
            ids: vec![key.id.clone()],
            ..Default::default()
        };
        assert_eq!(
            store.invalidate(&selector, 3_000).invalidated,
            vec![key.id.clone()]
        );
        assert_eq!(
            store.invalidate(&selector, 3_000).previously_invalidated,
            vec![key.id.clone()]
        );
        assert_eq!(
            store.verify(&key.id, &key.api_key, 4_000).unwrap_err(),
            KeyRejection::Invalidated(key.id)
        );
    }

    #[test]
    fn expired_key_is_refused_and_listed_without_secret() {
        let store = ApiKeyStore::default();
        let key = store.mint(new_key("short", Some(1_500)), 1_000).unwrap();
        assert_eq!(
            store.verify(&key.id, &key.api_key, 1_500).unwrap_err(),
            KeyRejection::Expired
        );
        let listed = store.list(
            &KeySelector {
                name: Some("sh*".into()),
                ..Default::default()
            },
            2_000,
        );
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0]["expired"], true);
        assert!(!listed[0].to_string().contains(&key.api_key));
        assert!(store
            .list(
                &KeySelector {
                    active_only: true,
                    ..Default::default()
                },
                2_000
            )
            .is_empty());
    }
}
