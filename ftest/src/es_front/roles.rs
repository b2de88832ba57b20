//! Role descriptors of API keys and the permission they grant. Owns parsing/validating `role_descriptors`,
//! index-name pattern matching, and the question "does this permission grant this action (on this index)?".
//! Which privileges grant which action is declared with each action in `actions.rs`, not here.

use serde_json::Value;

use super::privileges::{ClusterAction, IndexAction};

/// What an authenticated principal may do.
#[derive(Debug, Clone)]
pub(crate) enum Permission {
    /// The `elastic` user, and API keys minted without role descriptors (they inherit their creator's roles).
    Superuser,
    /// The union of an API key's role descriptors.
    Restricted(Vec<RoleDescriptor>),
}

#[derive(Debug, Clone, Default)]
pub(crate) struct RoleDescriptor {
    cluster: Vec<String>,
    indices: Vec<IndexGroup>,
}

#[derive(Debug, Clone)]
struct IndexGroup {
    names: Vec<String>,
    privileges: Vec<String>,
}

/// Cluster privilege names real ES knows. Unknown names are rejected at key creation, as ES does, so a typo in a
/// test's role descriptor fails loudly instead of silently granting nothing.
const CLUSTER_PRIVILEGES: &[&str] = &[
    "all",
    "none",
    "monitor",
    "manage",
    "manage_api_key",
    "manage_own_api_key",
    "manage_security",
    "read_security",
    "manage_connector",
    "monitor_connector",
    "manage_index_templates",
    "manage_ingest_pipelines",
    "manage_pipeline",
    "read_pipeline",
    "manage_ilm",
    "read_ilm",
    "manage_slm",
    "read_slm",
    "manage_token",
    "grant_api_key",
    "cancel_task",
    "manage_enrich",
    "monitor_enrich",
    "manage_inference",
    "monitor_inference",
    "manage_ml",
    "monitor_ml",
    "manage_transform",
    "monitor_transform",
    "manage_search_application",
    "manage_search_query_rules",
    "manage_search_synonyms",
    "manage_behavioral_analytics",
    "monitor_snapshot",
    "create_snapshot",
    "manage_logstash_pipelines",
    "manage_service_account",
    "manage_user_profile",
    "manage_watcher",
    "monitor_watcher",
    "manage_ccr",
    "read_ccr",
    "manage_rollup",
    "monitor_rollup",
    "monitor_stats",
    "monitor_text_structure",
    "manage_autoscaling",
    "manage_data_frame_transforms",
    "monitor_data_frame_transforms",
    "manage_oidc",
    "manage_saml",
    "post_behavioral_analytics_event",
    "transport_client",
    "cross_cluster_search",
    "cross_cluster_replication",
];

const INDEX_PRIVILEGES: &[&str] = &[
    "all",
    "none",
    "read",
    "write",
    "index",
    "create",
    "create_doc",
    "delete",
    "delete_index",
    "create_index",
    "manage",
    "view_index_metadata",
    "monitor",
    "maintenance",
    "auto_configure",
    "read_cross_cluster",
    "manage_follow_index",
    "manage_leader_index",
    "manage_ilm",
    "manage_data_stream_lifecycle",
    "cross_cluster_replication",
    "cross_cluster_replication_internal",
    "read_failure_store",
    "manage_failure_store",
];

/// Parses a `role_descriptors` object. `Ok(None)` means "no descriptors" (absent, null or `{}`): the key then
/// has its creator's privileges. Errors carry the reason ES would give in a 400.
pub(crate) fn parse_role_descriptors(
    value: Option<&Value>,
) -> Result<Option<Vec<RoleDescriptor>>, String> {
    let map = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Object(map)) if map.is_empty() => return Ok(None),
        Some(Value::Object(map)) => map,
        Some(other) => {
            return Err(format!(
                "[role_descriptors] must be an object, found [{other}]"
            ))
        }
    };
    map.iter()
        .map(|(name, body)| parse_descriptor(name, body))
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

fn parse_descriptor(role: &str, body: &Value) -> Result<RoleDescriptor, String> {
    let obj = body
        .as_object()
        .ok_or_else(|| format!("failed to parse role [{role}]: expected an object"))?;
    let cluster = string_list(obj.get("cluster"), role, "cluster")?;
    for privilege in &cluster {
        if !CLUSTER_PRIVILEGES.contains(&privilege.as_str()) {
            return Err(format!(
                "unknown cluster privilege [{privilege}]. a privilege must be either one of the predefined cluster privilege names [{}] or a pattern over one of the available cluster actions",
                CLUSTER_PRIVILEGES.join(",")
            ));
        }
    }
    // ES accepts both spellings of the field.
    let groups = obj.get("indices").or_else(|| obj.get("index"));
    let mut indices = Vec::new();
    for group in groups.and_then(Value::as_array).into_iter().flatten() {
        let names = match group.get("names") {
            Some(Value::String(one)) => vec![one.clone()],
            other => string_list(other, role, "indices.names")?,
        };
        let privileges = string_list(group.get("privileges"), role, "indices.privileges")?;
        if names.is_empty() || privileges.is_empty() {
            return Err(format!(
                "failed to parse indices privileges for role [{role}]. missing names or privileges"
            ));
        }
        for privilege in &privileges {
            if !INDEX_PRIVILEGES.contains(&privilege.as_str()) {
                return Err(format!(
                    "unknown index privilege [{privilege}]. a privilege must be either one of the predefined fixed indices privileges [{}] or a pattern over one of the available index actions",
                    INDEX_PRIVILEGES.join(",")
                ));
            }
        }
        indices.push(IndexGroup { names, privileges });
    }
    Ok(RoleDescriptor { cluster, indices })
}

fn string_list(value: Option<&Value>, role: &str, field: &str) -> Result<Vec<String>, String> {
    match value {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| {
                item.as_str().map(str::to_string).ok_or_else(|| {
                    format!("failed to parse role [{role}]: [{field}] must contain strings")
                })
            })
            .collect(),
        Some(_) => Err(format!(
            "failed to parse role [{role}]: [{field}] must be an array of strings"
        )),
    }
}

impl RoleDescriptor {
    /// True when the descriptor grants nothing at all (ES requires this for keys derived from API keys).
    pub(crate) fn is_empty(&self) -> bool {
        self.cluster.iter().all(|p| p == "none")
            && self
                .indices
                .iter()
                .all(|g| g.privileges.iter().all(|p| p == "none"))
    }
}

impl Permission {
    pub(crate) fn grants_cluster(&self, action: &ClusterAction) -> bool {
        match self {
            Permission::Superuser => true,
            Permission::Restricted(roles) => roles
                .iter()
                .flat_map(|r| &r.cluster)
                .any(|p| action.granted_by.contains(&p.as_str())),
        }
    }

    pub(crate) fn grants_index(&self, action: &IndexAction, index: &str) -> bool {
        match self {
            Permission::Superuser => true,
            Permission::Restricted(roles) => roles.iter().flat_map(|r| &r.indices).any(|group| {
                group
                    .privileges
                    .iter()
                    .any(|p| action.granted_by.contains(&p.as_str()))
                    && group.names.iter().any(|pattern| glob_match(pattern, index))
            }),
        }
    }

    /// Whether any index pattern at all carries a privilege granting `action` — the check ES applies to
    /// composite requests such as `_bulk` before looking at the items.
    pub(crate) fn grants_index_anywhere(&self, action: &IndexAction) -> bool {
        match self {
            Permission::Superuser => true,
            Permission::Restricted(roles) => roles.iter().flat_map(|r| &r.indices).any(|g| {
                g.privileges
                    .iter()
                    .any(|p| action.granted_by.contains(&p.as_str()))
            }),
        }
    }
}

/// Glob matching with `*` (any run) and `?` (one char), the subset of ES index-pattern syntax tests use.
/// A request name that itself contains `*` is compared literally, so `logs-*` is covered by `logs-*` or `*`.
pub(crate) fn glob_match(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    let (mut pi, mut ni) = (0, 0);
    // Position of the last `*` in the pattern and the name index it was tried at, for backtracking.
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ni));
            pi += 1;
        } else if let Some((sp, sn)) = star {
            pi = sp + 1;
            ni = sn + 1;
            star = Some((sp, sn + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::es_front::privileges;
    use serde_json::json;

    #[test]
    fn glob_matches_like_index_patterns() {
        assert!(glob_match(".elastic-connectors*", ".elastic-connectors-v1"));
        assert!(glob_match(".elastic-connectors*", ".elastic-connectors"));
        assert!(glob_match("*", ".hidden"));
        assert!(glob_match("search-*-x", "search-a-b-x"));
        assert!(!glob_match("search-*", "other"));
        assert!(!glob_match("abc", "abcd"));
        assert!(glob_match("a?c", "abc"));
    }

    #[test]
    fn empty_descriptors_mean_inherit() {
        assert!(parse_role_descriptors(None).unwrap().is_none());
        assert!(parse_role_descriptors(Some(&json!({}))).unwrap().is_none());
    }

    #[test]
    fn unknown_privileges_are_rejected() {
        let err = parse_role_descriptors(Some(&json!({"r": {"cluster": ["monitr"]}}))).unwrap_err();
        assert!(
            err.starts_with("unknown cluster privilege [monitr]"),
            "{err}"
        );
        let err = parse_role_descriptors(Some(
            &json!({"r": {"indices": [{"names": ["a"], "privileges": ["reed"]}]}}),
        ))
        .unwrap_err();
        assert!(err.starts_with("unknown index privilege [reed]"), "{err}");
    }

    #[test]
    fn restricted_permission_grants_by_pattern_and_privilege() {
        let roles = parse_role_descriptors(Some(&json!({
            "r": {"cluster": ["monitor"], "index": [{"names": ["allowed-*"], "privileges": ["read"]}]}
        })))
        .unwrap()
        .unwrap();
        let perm = Permission::Restricted(roles);
        assert!(perm.grants_cluster(&privileges::MAIN));
        assert!(!perm.grants_cluster(&privileges::API_KEY_CREATE));
        assert!(perm.grants_index(&privileges::SEARCH, "allowed-1"));
        assert!(!perm.grants_index(&privileges::SEARCH, "other"));
        assert!(!perm.grants_index(&privileges::CREATE_INDEX, "allowed-1"));
        assert!(!perm.grants_index_anywhere(&privileges::BULK));
    }
}
