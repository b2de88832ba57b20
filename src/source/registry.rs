//! The registry: the data sources a binary runs, keyed by `service_type`. Each source describes itself with one
//! [`SourceInfo`] (a `const` in its own folder); `sources::REGISTRY` lists them and `main` hands that list to the
//! service, so neither the service loops nor the sync engine name a source.

use std::sync::Arc;

use serde_json::{Map, Value};

use super::{ErrorKind, Source, SourceError, SourceFactory};
use crate::config::Config;
use crate::es::configuration::SchemaMigration;
use crate::net::Outbound;

/// Builds a source's factory once per service run, from config.yml and the service's outbound settings.
pub type BuildFactory = fn(&Config, &Outbound) -> Result<Arc<dyn SourceFactory>, SourceError>;

/// What the service needs to know about a source before it can run one.
#[derive(Clone, Copy)]
pub struct SourceInfo {
    pub service_type: &'static str,
    pub display_name: &'static str,
    /// The "simple default configuration" written to a fresh connector (configuration fields with their
    /// labels, types, defaults and display rules, as Kibana renders them).
    pub default_configuration: fn() -> Value,
    /// The `features` object written to its connectors.
    pub features: fn() -> Value,
    /// Schema changes this service made to fields the reference defines, applied to connectors it created.
    pub schema_migrations: fn() -> Vec<SchemaMigration>,
    /// Builds the source's factory once per service run, from config.yml and the service's outbound settings
    /// (the only things a source reads besides a connector's configuration values).
    pub factory: BuildFactory,
}

impl std::fmt::Debug for SourceInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SourceInfo")
            .field("service_type", &self.service_type)
            .finish_non_exhaustive()
    }
}

impl SourceInfo {
    /// Whether the source can run access-control syncs (document-level security), per its `features`.
    pub fn supports_access_control(&self) -> bool {
        (self.features)()["document_level_security"]["enabled"] == Value::Bool(true)
    }

    /// The default configuration as a map (empty if a source's function returned something else).
    pub fn defaults(&self) -> Map<String, Value> {
        match (self.default_configuration)() {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }
}

/// The sources of one binary.
#[derive(Debug, Clone, Copy)]
pub struct Registry(&'static [SourceInfo]);

impl Registry {
    pub const fn new(sources: &'static [SourceInfo]) -> Self {
        Registry(sources)
    }

    pub fn iter(&self) -> impl Iterator<Item = &'static SourceInfo> {
        self.0.iter()
    }

    pub fn find(&self, service_type: &str) -> Option<&'static SourceInfo> {
        self.0.iter().find(|s| s.service_type == service_type)
    }

    pub fn service_types(&self) -> Vec<&'static str> {
        self.0.iter().map(|s| s.service_type).collect()
    }

    /// Every source's factory for this service run, behind one [`SourceFactory`] that picks by service type.
    pub fn factories(
        &self,
        config: &Config,
        outbound: &Outbound,
    ) -> Result<Factories, SourceError> {
        let mut built = Vec::with_capacity(self.0.len());
        for info in self.0 {
            let factory = (info.factory)(config, outbound)
                .map_err(|e| e.context(format_args!("source `{}`", info.service_type)))?;
            built.push((info.service_type, factory));
        }
        Ok(Factories(built))
    }
}

/// The factories of a [`Registry`], built: creates a source of whichever service type a job names.
pub struct Factories(Vec<(&'static str, Arc<dyn SourceFactory>)>);

impl SourceFactory for Factories {
    fn create(
        &self,
        service_type: &str,
        values: &Map<String, Value>,
    ) -> Result<Box<dyn Source>, SourceError> {
        let Some((_, factory)) = self.0.iter().find(|(t, _)| *t == service_type) else {
            let known: Vec<&str> = self.0.iter().map(|(t, _)| *t).collect();
            return Err(SourceError::new(
                ErrorKind::Configuration,
                format!(
                    "unknown service type `{service_type}` (this service implements: {})",
                    known.join(", ")
                ),
            ));
        };
        factory.create(service_type, values)
    }
}
