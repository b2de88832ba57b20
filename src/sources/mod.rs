//! The data sources this binary implements, one folder each, and [`REGISTRY`], the list `main` hands to the
//! service. A new source is a new folder here (its configuration schema, features and factory in one
//! [`SourceInfo`](crate::source::SourceInfo) constant) plus one line in [`REGISTRY`]; nothing else names it.

pub mod teams;

#[cfg(test)]
mod echo;

use crate::source::Registry;

/// Every source of this binary, keyed by `service_type`.
pub const REGISTRY: Registry = Registry::new(&[
    teams::SOURCE,
    // A tiny source that exists only in the crate's unit tests, registered like any other (see `echo`).
    #[cfg(test)]
    echo::SOURCE,
]);
