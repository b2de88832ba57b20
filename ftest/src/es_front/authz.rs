//! Authorization: decides whether a principal may perform the [`Required`] action of a request, and words
//! the 403 the way ES does (`action [..] is unauthorized for API key id [..] of user [..] on indices [..], this
//! action is granted by the index privileges [..]`). Superusers skip all of it, including bulk parsing.

use serde_json::Value;

use super::actions::Required;
use super::auth::Principal;
use super::bulk::{self, BulkPlan};
use super::errors::EsError;
use super::privileges::{self, ClusterAction, IndexAction};
use super::roles::Permission;

/// The outcome of a successful check.
#[derive(Debug)]
pub(crate) enum Verdict {
    Allow,
    /// A bulk request some of whose items are forbidden: only the allowed ones may reach osmem.
    PartialBulk(BulkPlan),
}

pub(crate) fn authorize(
    principal: &Principal,
    required: &Required,
    body: &[u8],
) -> Result<Verdict, EsError> {
    let permission = principal.permission();
    if matches!(permission, Permission::Superuser) {
        return Ok(Verdict::Allow);
    }
    match required {
        Required::Authenticated => Ok(Verdict::Allow),
        Required::Cluster(action) if permission.grants_cluster(action) => Ok(Verdict::Allow),
        Required::Cluster(action) => Err(cluster_denial(principal, action)),
        Required::Indices { action, names } => check_indices(principal, &permission, action, names),
        Required::Bulk { default_index } => {
            bulk_verdict(principal, &permission, body, default_index.as_deref())
        }
        Required::AliasActions => alias_actions(principal, &permission, body),
    }
}

fn check_indices(
    principal: &Principal,
    permission: &Permission,
    action: &IndexAction,
    names: &[String],
) -> Result<Verdict, EsError> {
    let denied: Vec<&str> = names
        .iter()
        .map(String::as_str)
        .filter(|name| !permission.grants_index(action, name))
        .collect();
    if denied.is_empty() {
        Ok(Verdict::Allow)
    } else {
        Err(index_denial(principal, action, &denied))
    }
}

fn cluster_denial(principal: &Principal, action: &ClusterAction) -> EsError {
    EsError::forbidden(format!(
        "action [{}] is unauthorized for {}, this action is granted by the cluster privileges [{}]",
        action.name,
        principal.denial_subject(),
        action.granted_by.join(",")
    ))
}

fn index_denial(principal: &Principal, action: &IndexAction, indices: &[&str]) -> EsError {
    EsError::forbidden(format!(
        "action [{}] is unauthorized for {} on indices [{}], this action is granted by the index privileges [{}]",
        action.name,
        principal.denial_subject(),
        indices.join(","),
        action.granted_by.join(",")
    ))
}

/// ES first checks the composite `indices:data/write/bulk` against any index pattern (no pattern with a write
/// privilege → the whole request is 403), then each item against its own index.
fn bulk_verdict(
    principal: &Principal,
    permission: &Permission,
    body: &[u8],
    default_index: Option<&str>,
) -> Result<Verdict, EsError> {
    if !permission.grants_index_anywhere(&privileges::BULK) {
        return Err(EsError::forbidden(format!(
            "action [{}] is unauthorized for {}, this action is granted by the index privileges [{}]",
            privileges::BULK.name,
            principal.denial_subject(),
            privileges::BULK.granted_by.join(",")
        )));
    }
    let items = bulk::parse(body, default_index)?;
    let denials = items
        .iter()
        .map(|item| match item.index.as_deref() {
            // No target at all: osmem reports the missing index per item, as ES does.
            None => None,
            Some(index) if permission.grants_index(item.op.action(), index) => None,
            Some(index) => Some(index_denial(principal, item.op.action(), &[index])),
        })
        .collect();
    let plan = BulkPlan::with_denials(items, denials);
    if plan.all_forwarded() {
        Ok(Verdict::Allow)
    } else {
        Ok(Verdict::PartialBulk(plan))
    }
}

/// `POST /_aliases`: every index and alias named by an `add`/`remove` needs `indices:admin/aliases`, every
/// `remove_index` needs `indices:admin/delete`. A body that does not parse is left to osmem to reject.
fn alias_actions(
    principal: &Principal,
    permission: &Permission,
    body: &[u8],
) -> Result<Verdict, EsError> {
    let Ok(parsed) = serde_json::from_slice::<Value>(body) else {
        return Ok(Verdict::Allow);
    };
    let entries = parsed
        .get("actions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for entry in entries {
        let Some((kind, spec)) = entry.as_object().and_then(|o| o.iter().next()) else {
            continue;
        };
        let (action, fields): (&IndexAction, &[&str]) = match kind.as_str() {
            "remove_index" => (&privileges::DELETE_INDEX, &["index", "indices"]),
            _ => (
                &privileges::ALIASES,
                &["index", "indices", "alias", "aliases"],
            ),
        };
        let names: Vec<String> = fields.iter().flat_map(|f| names_in(spec.get(*f))).collect();
        check_indices(principal, permission, action, &names)?;
    }
    Ok(Verdict::Allow)
}

fn names_in(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::es_front::api_keys::KeyIdentity;
    use crate::es_front::roles::parse_role_descriptors;
    use serde_json::json;

    fn key(descriptors: Value) -> Principal {
        let roles = parse_role_descriptors(Some(&descriptors)).unwrap().unwrap();
        Principal::ApiKey(KeyIdentity {
            id: "KEY".into(),
            name: "k".into(),
            permission: Permission::Restricted(roles),
        })
    }

    fn writer() -> Principal {
        key(
            json!({"w": {"cluster": ["monitor"], "indices": [{"names": ["ok-*"], "privileges": ["write", "create_index"]}]}}),
        )
    }

    fn reason(err: EsError) -> String {
        err.body()["error"]["reason"].as_str().unwrap().to_string()
    }

    #[test]
    fn denials_are_worded_like_es() {
        let p = writer();
        let err = authorize(
            &p,
            &crate::es_front::actions::classify(&axum::http::Method::PUT, "/other", None),
            b"",
        )
        .unwrap_err();
        assert_eq!(
            reason(err),
            "action [indices:admin/create] is unauthorized for API key id [KEY] of user [elastic] on indices [other], this action is granted by the index privileges [create_index,manage,all]"
        );
        let err = authorize(&p, &Required::Cluster(privileges::API_KEY_CREATE), b"").unwrap_err();
        assert!(reason(err).ends_with("of user [elastic], this action is granted by the cluster privileges [manage_own_api_key,manage_api_key,manage_security,all]"));
        assert!(matches!(
            authorize(&p, &Required::Cluster(privileges::MAIN), b""),
            Ok(Verdict::Allow)
        ));
    }

    #[test]
    fn bulk_items_are_checked_one_by_one() {
        let p = writer();
        let body =
            b"{\"index\":{\"_index\":\"ok-1\"}}\n{}\n{\"index\":{\"_index\":\"nope\"}}\n{}\n";
        match authorize(
            &p,
            &Required::Bulk {
                default_index: None,
            },
            body,
        )
        .unwrap()
        {
            Verdict::PartialBulk(plan) => {
                assert!(matches!(
                    plan.fates[0],
                    crate::es_front::bulk::Fate::Forward(None)
                ));
                match &plan.fates[1] {
                    crate::es_front::bulk::Fate::Fail(err) => {
                        assert_eq!(err.status(), axum::http::StatusCode::FORBIDDEN)
                    }
                    other => panic!("the item on [nope] must be denied: {other:?}"),
                }
            }
            Verdict::Allow => panic!("the item on [nope] must be denied"),
        }
        let reader = key(json!({"r": {"indices": [{"names": ["*"], "privileges": ["read"]}]}}));
        let err = authorize(
            &reader,
            &Required::Bulk {
                default_index: None,
            },
            body,
        )
        .unwrap_err();
        assert!(reason(err).starts_with("action [indices:data/write/bulk] is unauthorized"));
    }

    #[test]
    fn alias_actions_need_manage_on_every_name() {
        let p = writer();
        let body =
            json!({"actions": [{"add": {"index": "ok-1", "alias": "ok-alias"}}]}).to_string();
        assert!(
            authorize(&p, &Required::AliasActions, body.as_bytes()).is_err(),
            "write does not grant aliases"
        );
        let admin = key(json!({"a": {"indices": [{"names": ["ok-*"], "privileges": ["manage"]}]}}));
        assert!(authorize(&admin, &Required::AliasActions, body.as_bytes()).is_ok());
    }
}
