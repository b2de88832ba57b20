//! The registry of data sources this binary implements, keyed by `service_type`. A new source is a new folder
//! here plus one entry in [`REGISTRY`].

pub mod teams;

use serde_json::Value;

use crate::es::configuration::SchemaMigration;

/// What the service needs to know about a source before it can run one.
pub struct SourceInfo {
    pub service_type: &'static str,
    pub display_name: &'static str,
    /// The "simple default configuration" written to a fresh connector (reference spec §3.1, §10.1).
    pub default_configuration: fn() -> Value,
    /// The `features` object written to its connectors.
    pub features: fn() -> Value,
    /// Schema changes this service made to fields the reference defines, applied to connectors it created.
    pub schema_migrations: fn() -> Vec<SchemaMigration>,
}

pub const REGISTRY: &[SourceInfo] = &[SourceInfo {
    service_type: teams::SERVICE_TYPE,
    display_name: teams::DISPLAY_NAME,
    default_configuration: teams::default_configuration,
    features: teams::features,
    schema_migrations: teams::schema_migrations,
}];

impl SourceInfo {
    /// Whether the source can run access-control syncs (document-level security), per its `features`.
    pub fn supports_access_control(&self) -> bool {
        (self.features)()["document_level_security"]["enabled"] == Value::Bool(true)
    }
}

pub fn service_types() -> Vec<&'static str> {
    REGISTRY.iter().map(|s| s.service_type).collect()
}

pub fn find(service_type: &str) -> Option<&'static SourceInfo> {
    REGISTRY.iter().find(|s| s.service_type == service_type)
}
