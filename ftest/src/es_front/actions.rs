//! Maps a REST request (method + path + query) to what it requires: an Elasticsearch action from
//! `privileges.rs` on the cluster or on named indices, or a body-dependent check (bulk items, alias actions).
//! Evaluation lives in `authz.rs`.

use axum::http::Method;

use super::privileges::*;

/// What a request needs before it may run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Required {
    /// Any authenticated principal: `_authenticate`, scroll continuation and PIT close (ES ties those to the
    /// search that opened them).
    Authenticated,
    Cluster(ClusterAction),
    Indices {
        action: IndexAction,
        names: Vec<String>,
    },
    /// `_bulk`: each item is checked against its own target index; `default_index` comes from the path.
    Bulk {
        default_index: Option<String>,
    },
    /// `POST /_aliases`: the targets are in the body's `actions`.
    AliasActions,
}

/// Classifies a request. Index expressions are taken literally (wildcards are not expanded against the
/// existing indices), and a request without an index targets `*`.
pub(crate) fn classify(method: &Method, path: &str, query: Option<&str>) -> Required {
    let segments: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(percent_decode)
        .collect();
    let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
    match segs.split_first() {
        None => Required::Cluster(MAIN),
        Some((&"_all", rest)) => classify_index(method, vec!["*".to_string()], rest, query),
        Some((first, rest)) if first.starts_with('_') => classify_root(method, first, rest),
        Some((first, rest)) => classify_index(method, index_names(first), rest, query),
    }
}

fn is_read(method: &Method) -> bool {
    *method == Method::GET || *method == Method::HEAD
}

fn all_indices(action: IndexAction) -> Required {
    Required::Indices {
        action,
        names: vec!["*".to_string()],
    }
}

fn classify_root(method: &Method, first: &str, rest: &[&str]) -> Required {
    use Required::Cluster;
    match (first, rest) {
        ("_license", _) if is_read(method) => Cluster(LICENSE_GET),
        ("_license", _) => Cluster(LICENSE_WRITE),
        ("_security", ["_authenticate"]) => Required::Authenticated,
        ("_security", ["api_key", ..]) if is_read(method) => Cluster(API_KEY_GET),
        ("_security", ["api_key"]) if *method == Method::DELETE => Cluster(API_KEY_INVALIDATE),
        ("_security", ["api_key"]) => Cluster(API_KEY_CREATE),
        ("_security", _) => Cluster(SECURITY_OTHER),
        ("_cluster", ["health", ..]) => Cluster(HEALTH),
        ("_cluster", _) if is_read(method) => Cluster(CLUSTER_STATE),
        ("_cat", _) => Cluster(CLUSTER_STATE),
        ("_nodes", _) => Cluster(NODES_INFO),
        ("_xpack", _) => Cluster(XPACK_INFO),
        ("_tasks", _) if is_read(method) => Cluster(TASKS),
        ("_connector", _) if is_read(method) => Cluster(CONNECTOR_READ),
        ("_connector", _) => Cluster(CONNECTOR_WRITE),
        ("_index_template" | "_template" | "_component_template", _) if is_read(method) => {
            Cluster(TEMPLATES_READ)
        }
        ("_index_template" | "_template" | "_component_template", _) => Cluster(TEMPLATES_WRITE),
        ("_ingest", _) if is_read(method) => Cluster(PIPELINE_READ),
        ("_ingest", _) if *method == Method::DELETE => Cluster(PIPELINE_DELETE),
        ("_ingest", _) => Cluster(PIPELINE_WRITE),
        ("_search", ["scroll", ..]) => Required::Authenticated,
        ("_pit", _) if *method == Method::DELETE => Required::Authenticated,
        ("_search" | "_count", _) => all_indices(SEARCH),
        ("_msearch", _) => all_indices(MSEARCH),
        ("_mget", _) => all_indices(MGET),
        ("_bulk", _) => Required::Bulk {
            default_index: None,
        },
        ("_refresh" | "_flush", _) => all_indices(REFRESH),
        ("_aliases", _) if !is_read(method) => Required::AliasActions,
        ("_aliases", _) => all_indices(GET_ALIASES),
        ("_alias", [names, ..]) => Required::Indices {
            action: GET_ALIASES,
            names: index_names(names),
        },
        ("_alias", []) => all_indices(GET_ALIASES),
        ("_mapping", _) => all_indices(GET_MAPPINGS),
        ("_settings", _) => all_indices(GET_SETTINGS),
        ("_stats", _) => all_indices(INDICES_STATS),
        _ => Cluster(UNCLASSIFIED_CLUSTER),
    }
}

fn classify_index(
    method: &Method,
    names: Vec<String>,
    rest: &[&str],
    query: Option<&str>,
) -> Required {
    let action = match rest {
        [] if *method == Method::PUT => CREATE_INDEX,
        [] if *method == Method::DELETE => DELETE_INDEX,
        [] if is_read(method) => GET_INDEX,
        ["_doc"] => CREATE_DOC,
        ["_doc" | "_source", _] if is_read(method) => GET_DOC,
        ["_doc", _] if *method == Method::DELETE => DELETE_DOC,
        ["_doc", _] if query_has(query, "op_type", "create") => CREATE_DOC,
        ["_doc", _] => INDEX_DOC,
        ["_create", _] => CREATE_DOC,
        ["_update", _] => UPDATE_DOC,
        ["_search" | "_count" | "_explain" | "_validate" | "_field_caps" | "_terms_enum", ..] => {
            SEARCH
        }
        ["_msearch", ..] => MSEARCH,
        ["_mget"] => MGET,
        ["_pit"] => OPEN_PIT,
        ["_bulk"] => {
            return Required::Bulk {
                default_index: names.into_iter().next(),
            }
        }
        ["_refresh" | "_flush"] => REFRESH,
        ["_mapping" | "_mappings", ..] if is_read(method) => GET_MAPPINGS,
        ["_mapping" | "_mappings", ..] => PUT_MAPPING,
        ["_settings", ..] if is_read(method) => GET_SETTINGS,
        ["_settings", ..] => UPDATE_SETTINGS,
        ["_alias" | "_aliases", ..] if is_read(method) => GET_ALIASES,
        ["_alias" | "_aliases", aliases, ..] => {
            // Changing an alias needs the privilege on both the index and the alias name, as in ES.
            let mut all = names;
            all.extend(index_names(aliases));
            return Required::Indices {
                action: ALIASES,
                names: all,
            };
        }
        ["_delete_by_query"] => DELETE_BY_QUERY,
        ["_update_by_query"] => UPDATE_BY_QUERY,
        ["_stats", ..] => INDICES_STATS,
        _ => UNCLASSIFIED_INDEX,
    };
    Required::Indices { action, names }
}

/// Splits a comma-separated index expression; `_all` means every index.
fn index_names(expression: &str) -> Vec<String> {
    expression
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|s| {
            if s == "_all" {
                "*".to_string()
            } else {
                s.to_string()
            }
        })
        .collect()
}

fn query_has(query: Option<&str>, key: &str, value: &str) -> bool {
    query
        .unwrap_or("")
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .any(|(k, v)| k == key && percent_decode(v) == value)
}

/// Decodes `%XX` escapes (index names and ids may carry `%2A`, `%2C`, ...). Invalid escapes stay as written.
pub(crate) fn percent_decode(input: &str) -> String {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn root_and_cluster_endpoints() {
        assert_eq!(classify(&Method::GET, "/", None), Required::Cluster(MAIN));
        assert_eq!(classify(&Method::HEAD, "/", None), Required::Cluster(MAIN));
        assert_eq!(
            classify(&Method::GET, "/_license", None),
            Required::Cluster(LICENSE_GET)
        );
        assert_eq!(
            classify(&Method::GET, "/_cat/indices", Some("format=json")),
            Required::Cluster(CLUSTER_STATE)
        );
        assert_eq!(
            classify(&Method::GET, "/_security/_authenticate", None),
            Required::Authenticated
        );
        assert_eq!(
            classify(&Method::POST, "/_security/api_key", None),
            Required::Cluster(API_KEY_CREATE)
        );
        assert_eq!(
            classify(&Method::DELETE, "/_security/api_key", None),
            Required::Cluster(API_KEY_INVALIDATE)
        );
        assert_eq!(
            classify(&Method::PUT, "/_connector/abc", None),
            Required::Cluster(CONNECTOR_WRITE)
        );
        assert_eq!(
            classify(&Method::DELETE, "/_ingest/pipeline/p", None),
            Required::Cluster(PIPELINE_DELETE)
        );
        assert_eq!(
            classify(&Method::PUT, "/_ingest/pipeline/p", None),
            Required::Cluster(PIPELINE_WRITE)
        );
    }

    #[test]
    fn index_endpoints() {
        let idx = |action| Required::Indices {
            action,
            names: names(&["a", "b"]),
        };
        assert_eq!(classify(&Method::PUT, "/a,b", None), idx(CREATE_INDEX));
        assert_eq!(classify(&Method::HEAD, "/a,b", None), idx(GET_INDEX));
        assert_eq!(classify(&Method::PUT, "/a,b/_doc/1", None), idx(INDEX_DOC));
        assert_eq!(
            classify(&Method::PUT, "/a,b/_doc/1", Some("op_type=create")),
            idx(CREATE_DOC)
        );
        assert_eq!(
            classify(&Method::POST, "/a,b/_update/1", None),
            idx(UPDATE_DOC)
        );
        assert_eq!(classify(&Method::POST, "/a,b/_search", None), idx(SEARCH));
        assert_eq!(classify(&Method::POST, "/a,b/_refresh", None), idx(REFRESH));
        assert_eq!(
            classify(&Method::PUT, "/a/_alias/x", None),
            Required::Indices {
                action: ALIASES,
                names: names(&["a", "x"])
            }
        );
        assert_eq!(
            classify(&Method::POST, "/a/_bulk", None),
            Required::Bulk {
                default_index: Some("a".into())
            }
        );
        assert_eq!(
            classify(&Method::POST, "/_search/scroll", None),
            Required::Authenticated
        );
        assert_eq!(
            classify(&Method::POST, "/_search", None),
            all_indices(SEARCH)
        );
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("logs%2A"), "logs*");
        assert_eq!(percent_decode("a%2Cb"), "a,b");
        assert_eq!(percent_decode("bad%zz%"), "bad%zz%");
    }
}
