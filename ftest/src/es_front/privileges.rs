//! The stand-in's privilege model in one table: every Elasticsearch action the front distinguishes, with the
//! privileges that grant it, listed in the order ES prints them in a denial. Classification of requests into
//! these actions is `actions.rs`; evaluation against a key's roles is `roles.rs` / `authz.rs`.

/// A cluster-level action such as `cluster:monitor/main`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ClusterAction {
    pub(crate) name: &'static str,
    pub(crate) granted_by: &'static [&'static str],
}

/// An index-level action such as `indices:admin/create`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct IndexAction {
    pub(crate) name: &'static str,
    pub(crate) granted_by: &'static [&'static str],
}

const fn cluster(name: &'static str, granted_by: &'static [&'static str]) -> ClusterAction {
    ClusterAction { name, granted_by }
}

const fn index(name: &'static str, granted_by: &'static [&'static str]) -> IndexAction {
    IndexAction { name, granted_by }
}

const MONITOR: &[&str] = &["monitor", "manage", "all"];
const API_KEYS: &[&str] = &[
    "manage_own_api_key",
    "manage_api_key",
    "manage_security",
    "all",
];

pub(crate) const MAIN: ClusterAction = cluster("cluster:monitor/main", MONITOR);
pub(crate) const LICENSE_GET: ClusterAction = cluster("cluster:monitor/xpack/license/get", MONITOR);
pub(crate) const HEALTH: ClusterAction = cluster("cluster:monitor/health", MONITOR);
pub(crate) const CLUSTER_STATE: ClusterAction = cluster("cluster:monitor/state", MONITOR);
pub(crate) const NODES_INFO: ClusterAction = cluster("cluster:monitor/nodes/info", MONITOR);
pub(crate) const XPACK_INFO: ClusterAction = cluster("cluster:monitor/xpack/info", MONITOR);
pub(crate) const TASKS: ClusterAction = cluster("cluster:monitor/tasks/lists", MONITOR);
pub(crate) const CONNECTOR_READ: ClusterAction = cluster(
    "cluster:admin/xpack/connector/get",
    &["monitor_connector", "manage_connector", "manage", "all"],
);
pub(crate) const CONNECTOR_WRITE: ClusterAction = cluster(
    "cluster:admin/xpack/connector/put",
    &["manage_connector", "manage", "all"],
);
pub(crate) const API_KEY_CREATE: ClusterAction =
    cluster("cluster:admin/xpack/security/api_key/create", API_KEYS);
pub(crate) const API_KEY_GET: ClusterAction = cluster(
    "cluster:admin/xpack/security/api_key/get",
    &[
        "manage_own_api_key",
        "manage_api_key",
        "read_security",
        "manage_security",
        "all",
    ],
);
pub(crate) const API_KEY_INVALIDATE: ClusterAction =
    cluster("cluster:admin/xpack/security/api_key/invalidate", API_KEYS);
pub(crate) const SECURITY_OTHER: ClusterAction = cluster(
    "cluster:admin/xpack/security/*",
    &["manage_security", "all"],
);
pub(crate) const TEMPLATES_READ: ClusterAction = cluster(
    "indices:admin/index_template/get",
    &["manage_index_templates", "manage", "all"],
);
pub(crate) const TEMPLATES_WRITE: ClusterAction = cluster(
    "indices:admin/index_template/put",
    &["manage_index_templates", "manage", "all"],
);
pub(crate) const PIPELINE_READ: ClusterAction = cluster(
    "cluster:admin/ingest/pipeline/get",
    &[
        "read_pipeline",
        "manage_ingest_pipelines",
        "manage_pipeline",
        "manage",
        "all",
    ],
);
pub(crate) const PIPELINE_WRITE: ClusterAction = cluster(
    "cluster:admin/ingest/pipeline/put",
    &[
        "manage_ingest_pipelines",
        "manage_pipeline",
        "manage",
        "all",
    ],
);
pub(crate) const PIPELINE_DELETE: ClusterAction = cluster(
    "cluster:admin/ingest/pipeline/delete",
    &[
        "manage_ingest_pipelines",
        "manage_pipeline",
        "manage",
        "all",
    ],
);
pub(crate) const LICENSE_WRITE: ClusterAction =
    cluster("cluster:admin/xpack/license/put", &["manage", "all"]);
/// Any cluster endpoint the table does not name: only broad privileges grant it.
pub(crate) const UNCLASSIFIED_CLUSTER: ClusterAction =
    cluster("cluster:admin/*", &["manage", "all"]);

pub(crate) const CREATE_INDEX: IndexAction =
    index("indices:admin/create", &["create_index", "manage", "all"]);
pub(crate) const DELETE_INDEX: IndexAction =
    index("indices:admin/delete", &["delete_index", "manage", "all"]);
/// Real ES grants `indices:admin/get` through `view_index_metadata`; the stand-in also lets `read` through so a
/// read-only key can check that its index exists (documented in the README's gaps).
pub(crate) const GET_INDEX: IndexAction = index(
    "indices:admin/get",
    &["read", "view_index_metadata", "manage", "all"],
);
pub(crate) const GET_MAPPINGS: IndexAction = index(
    "indices:admin/mappings/get",
    &["view_index_metadata", "manage", "all"],
);
pub(crate) const PUT_MAPPING: IndexAction = index("indices:admin/mapping/put", &["manage", "all"]);
pub(crate) const GET_SETTINGS: IndexAction = index(
    "indices:monitor/settings/get",
    &["view_index_metadata", "monitor", "manage", "all"],
);
pub(crate) const UPDATE_SETTINGS: IndexAction =
    index("indices:admin/settings/update", &["manage", "all"]);
pub(crate) const GET_ALIASES: IndexAction = index(
    "indices:admin/aliases/get",
    &["view_index_metadata", "manage", "all"],
);
pub(crate) const ALIASES: IndexAction = index("indices:admin/aliases", &["manage", "all"]);
pub(crate) const REFRESH: IndexAction =
    index("indices:admin/refresh", &["maintenance", "manage", "all"]);
pub(crate) const INDICES_STATS: IndexAction =
    index("indices:monitor/stats", &["monitor", "manage", "all"]);
pub(crate) const GET_DOC: IndexAction = index("indices:data/read/get", &["read", "all"]);
pub(crate) const MGET: IndexAction = index("indices:data/read/mget", &["read", "all"]);
pub(crate) const SEARCH: IndexAction = index("indices:data/read/search", &["read", "all"]);
pub(crate) const MSEARCH: IndexAction = index("indices:data/read/msearch", &["read", "all"]);
pub(crate) const OPEN_PIT: IndexAction =
    index("indices:data/read/open_point_in_time", &["read", "all"]);
/// Indexing that may overwrite: `create_doc` does not grant it, as in ES.
pub(crate) const INDEX_DOC: IndexAction = index(
    "indices:data/write/index",
    &["create", "index", "write", "all"],
);
/// Indexing with `op_type=create` (or an auto-generated id).
pub(crate) const CREATE_DOC: IndexAction = index(
    "indices:data/write/index",
    &["create_doc", "create", "index", "write", "all"],
);
pub(crate) const UPDATE_DOC: IndexAction =
    index("indices:data/write/update", &["index", "write", "all"]);
pub(crate) const DELETE_DOC: IndexAction =
    index("indices:data/write/delete", &["delete", "write", "all"]);
pub(crate) const DELETE_BY_QUERY: IndexAction = index(
    "indices:data/write/delete/byquery",
    &["delete", "write", "all"],
);
pub(crate) const UPDATE_BY_QUERY: IndexAction = index(
    "indices:data/write/update/byquery",
    &["index", "write", "all"],
);
pub(crate) const BULK: IndexAction = index(
    "indices:data/write/bulk",
    &["create_doc", "create", "delete", "index", "write", "all"],
);
pub(crate) const UNCLASSIFIED_INDEX: IndexAction = index("indices:admin/*", &["manage", "all"]);
