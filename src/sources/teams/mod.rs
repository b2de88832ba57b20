//! The Microsoft Teams source. So far: its identity and configuration schema (spec §10.1); the Graph client,
//! crawl and documents arrive with the Teams source issue.

use serde_json::{json, Map, Value};

pub const SERVICE_TYPE: &str = "microsoft_teams";
pub const DISPLAY_NAME: &str = "Microsoft Teams";

/// `(key, label, order, sensitive)` of each configuration field, as the reference defines them.
const FIELDS: &[(&str, &str, u32, bool)] = &[
    ("tenant_id", "Tenant ID", 1, false),
    ("client_id", "Client ID", 2, false),
    ("secret_value", "Secret value", 3, true),
    ("username", "Username", 4, false),
    ("password", "Password", 5, true),
];

/// The feature flags written to a Teams connector (spec §3.1): basic sync rules and incremental syncs.
pub fn features() -> Value {
    json!({
        "sync_rules": {"basic": {"enabled": true}, "advanced": {"enabled": false}},
        "document_level_security": {"enabled": false},
        "incremental_sync": {"enabled": true},
        "native_connector_api_keys": {"enabled": false}
    })
}

/// The simple default configuration, every schema key filled as the reference's generator fills it.
pub fn default_configuration() -> Value {
    let mut map = Map::new();
    for (key, label, order, sensitive) in FIELDS {
        map.insert(
            key.to_string(),
            json!({
                "default_value": null,
                "depends_on": [],
                "display": "text",
                "label": label,
                "options": [],
                "order": order,
                "required": true,
                "sensitive": sensitive,
                "tooltip": null,
                "type": "str",
                "ui_restrictions": [],
                "validations": [],
                "value": "",
            }),
        );
    }
    Value::Object(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_configuration_matches_the_reference_schema() {
        let c = default_configuration();
        let obj = c.as_object().unwrap();
        assert_eq!(obj.len(), 5);
        assert_eq!(c["secret_value"]["sensitive"], true);
        assert_eq!(c["password"]["sensitive"], true);
        assert_eq!(c["tenant_id"]["sensitive"], false);
        assert_eq!(c["username"]["label"], "Username");
        assert_eq!(c["client_id"]["order"], 2);
        for field in obj.values() {
            assert_eq!(field["type"], "str");
            assert_eq!(field["display"], "text");
            assert_eq!(field["required"], true);
            assert_eq!(field["value"], "");
            assert!(field["default_value"].is_null() && field["tooltip"].is_null());
            for key in ["depends_on", "validations", "ui_restrictions", "options"] {
                assert_eq!(field[key], json!([]), "{key}");
            }
        }
    }
}
