//! elastic-ingest: the Elastic connector service for Microsoft Teams, in Rust. See ARCHITECTURE.md for the map.

pub mod admin;
pub mod alloc;
pub mod clock;
pub mod config;
pub mod cron;
pub mod encode;
pub mod es;
pub mod extract;
pub mod html_entities;
pub mod lock;
pub mod logging;
pub mod net;
pub mod pyvalue;
pub mod retry;
pub mod secret;
pub mod service;
pub mod source;
pub mod sources;
pub mod sync;

/// The connector-protocol generation this service speaks (the Python service release it replaces).
pub const PROTOCOL_VERSION: &str = "9.6.0";
