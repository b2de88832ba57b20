//! The cluster's identity as clients see it: `GET /` (name, uuid, version block) and `GET /_license`. Values
//! that real ES fixes at install time (cluster uuid, license uid, issue date) are fixed once per process.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::errors::FrontError;
use super::random;

pub(crate) const CLUSTER_NAME: &str = "es-standin";

/// Settings of the pretended cluster.
#[derive(Debug, Clone)]
pub(crate) struct ClusterIdentity {
    pub(crate) es_version: String,
    pub(crate) build_flavor: String,
    pub(crate) license_type: String,
    pub(crate) cluster_uuid: String,
    pub(crate) license_uid: String,
    pub(crate) license_issued: DateTime<Utc>,
}

impl ClusterIdentity {
    pub(crate) fn new(
        es_version: &str,
        build_flavor: &str,
        license_type: &str,
    ) -> Result<Self, FrontError> {
        Ok(ClusterIdentity {
            es_version: es_version.to_string(),
            build_flavor: build_flavor.to_string(),
            license_type: license_type.to_string(),
            cluster_uuid: random::token::<16>()?,
            license_uid: random::uuid()?,
            license_issued: Utc::now(),
        })
    }

    /// The major version clients negotiate compatibility against.
    pub(crate) fn major(&self) -> u8 {
        self.es_version
            .split('.')
            .next()
            .and_then(|m| m.parse().ok())
            .unwrap_or(9)
    }

    pub(crate) fn root(&self) -> Value {
        let major = self.major();
        // Wire/index compatibility follows ES's rule: last minor of the previous major, and its first release.
        let (lucene, wire, index) = match major {
            8 => ("9.12.0", "7.17.0", "7.0.0"),
            _ => ("10.3.1", "8.19.0", "8.0.0"),
        };
        json!({
            "name": CLUSTER_NAME,
            "cluster_name": CLUSTER_NAME,
            "cluster_uuid": self.cluster_uuid,
            "version": {
                "number": self.es_version,
                "build_flavor": self.build_flavor,
                "build_type": "docker",
                "build_hash": "5ec9c1e4b7a1d3f09c8e2b6a4f7d0c3e1b9a8f62",
                "build_date": "2026-01-15T10:00:00.000000000Z",
                "build_snapshot": false,
                "lucene_version": lucene,
                "minimum_wire_compatibility_version": wire,
                "minimum_index_compatibility_version": index
            },
            "tagline": "You Know, for Search"
        })
    }

    pub(crate) fn license(&self) -> Value {
        let issued_ms = self.license_issued.timestamp_millis();
        let mut license = json!({
            "status": "active",
            "uid": self.license_uid,
            "type": self.license_type,
            "issue_date": format_date(self.license_issued),
            "issue_date_in_millis": issued_ms,
            "max_nodes": 1000,
            "max_resource_units": null,
            "issued_to": CLUSTER_NAME,
            "issuer": "elasticsearch",
            "start_date_in_millis": -1
        });
        // A basic license never expires and ES omits the expiry fields; paid and trial licenses carry them.
        if self.license_type != "basic" {
            let expiry = self.license_issued + chrono::Duration::days(365);
            license["expiry_date"] = json!(format_date(expiry));
            license["expiry_date_in_millis"] = json!(expiry.timestamp_millis());
        }
        json!({ "license": license })
    }
}

fn format_date(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_reports_the_configured_version() {
        let id = ClusterIdentity::new("9.6.0", "default", "platinum").unwrap();
        let root = id.root();
        assert_eq!(root["version"]["number"], "9.6.0");
        assert_eq!(
            root["version"]["minimum_wire_compatibility_version"],
            "8.19.0"
        );
        assert_eq!(root["tagline"], "You Know, for Search");
        assert_eq!(id.major(), 9);
    }

    #[test]
    fn license_expiry_only_for_non_basic() {
        let platinum = ClusterIdentity::new("9.6.0", "default", "platinum")
            .unwrap()
            .license();
        assert_eq!(platinum["license"]["type"], "platinum");
        assert!(platinum["license"]["expiry_date_in_millis"].is_i64());
        assert_eq!(platinum["license"]["uid"].as_str().unwrap().len(), 36);
        let basic = ClusterIdentity::new("9.6.0", "default", "basic")
            .unwrap()
            .license();
        assert!(basic["license"].get("expiry_date").is_none());
    }
}
