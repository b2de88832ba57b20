//! The Microsoft Teams source: configuration (spec §10.1, plus optional app-only and endpoint keys), the
//! [`Source`] the content engine runs, and its factory. `defaults` holds the source's default settings, `auth`
//! gets tokens, `graph` talks HTTP, `crawl` walks the tenant (and `progress` logs how far it got), `docs` shapes
//! the documents, `html_text` turns message bodies into text.

pub mod auth;
pub mod crawl;
pub mod defaults;
pub mod docs;
pub mod graph;
pub mod hosts;
pub mod html_text;
mod model;
pub mod progress;
mod source;

pub use source::{TeamsFactory, TeamsSource};

use std::sync::Arc;

use serde_json::{json, Map, Value};

use self::auth::AuthMethod;
use self::graph::TenantSize;
use crate::config::Config;
use crate::es::configuration::SchemaMigration;
use crate::net::Outbound;
use crate::source::{SourceError, SourceFactory, SourceInfo};

pub const SERVICE_TYPE: &str = "microsoft_teams";
pub const DISPLAY_NAME: &str = "Microsoft Teams";

/// The Teams source's registry entry.
pub const SOURCE: SourceInfo = SourceInfo {
    service_type: SERVICE_TYPE,
    display_name: DISPLAY_NAME,
    default_configuration,
    features,
    schema_migrations,
    factory: service_factory,
};

/// The factory the service runs (see [`TeamsFactory::for_service`]); a bad `graph.ca_certs` file stops the start.
fn service_factory(
    config: &Config,
    outbound: &Outbound,
) -> Result<Arc<dyn SourceFactory>, SourceError> {
    let factory = TeamsFactory::for_service(config, outbound)
        .map_err(|e| SourceError::configuration(e.to_string()))?;
    Ok(Arc::new(factory))
}

pub const DEFAULT_GRAPH_URL: &str = "https://graph.microsoft.com/v1.0";
pub const DEFAULT_LOGIN_URL: &str = "https://login.microsoftonline.com";

/// `(key, label, order, sensitive)` of each configuration field the reference defines.
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

fn field(label: &str, order: u32, sensitive: bool) -> Value {
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
    })
}

/// The default configuration: the reference's five fields exactly as its generator fills them (so connectors
/// created by either service look the same), then this service's optional additions: the sign-in method (default
/// `delegated`, the reference's), the certificate for app-only certificate sign-in, and advanced endpoint and
/// rate-limit settings. `secret_value` is not required in certificate mode; `username`/`password` only apply
/// in delegated mode.
pub fn default_configuration() -> Value {
    let mut map = Map::new();
    for (key, label, order, sensitive) in FIELDS {
        map.insert(key.to_string(), field(label, *order, *sensitive));
    }
    let delegated_only = json!([{"field": "auth_method", "value": "delegated"}]);
    let certificate_only = json!([{"field": "auth_method", "value": "app_certificate"}]);
    map["username"]["depends_on"] = delegated_only.clone();
    map["password"]["depends_on"] = delegated_only;
    map["secret_value"]["required"] = json!(false);
    map["secret_value"]["tooltip"] = json!(
        "Client secret of the app registration. Needed unless the app signs in with a certificate."
    );

    let mut auth = field("Authentication method", 6, false);
    auth["display"] = json!("dropdown");
    auth["default_value"] = json!("delegated");
    auth["value"] = json!("delegated");
    auth["options"] = json!([
        {"label": "Username and password (delegated, like the Python connector)", "value": "delegated"},
        {"label": "App-only with the client secret (all users' chats)", "value": "app_secret"},
        {"label": "App-only with a certificate (all users' chats)", "value": "app_certificate"},
    ]);
    auth["validations"] = json!([{"type": "included_in", "constraint": AuthMethod::VALUES}]);
    map.insert("auth_method".into(), auth);

    let mut key = field("Certificate private key (PEM)", 7, true);
    key["display"] = json!("textarea");
    key["depends_on"] = certificate_only.clone();
    key["tooltip"] =
        json!("The RSA private key of the certificate uploaded to the app registration, in PEM.");
    map.insert("certificate_private_key".into(), key);

    let mut thumbprint = field("Certificate thumbprint", 8, false);
    thumbprint["depends_on"] = certificate_only;
    thumbprint["tooltip"] =
        json!("The certificate's SHA-1 thumbprint as the Azure portal shows it (40 hex digits).");
    map.insert("certificate_thumbprint".into(), thumbprint);

    let rate_limits_tooltip = format!(
        "Per endpoint class: `chat_messages={},channel_messages={},teams={},outlook={},drives={},other={},per_channel={}` \
         (the defaults; drives follows the tenant size). A class set here keeps that rate (it only slows down when \
         Graph throttles); the others adapt. 0 = no limit.",
        defaults::CHAT_MESSAGES_RPS,
        defaults::CHANNEL_MESSAGES_RPS,
        defaults::TEAMS_RPS,
        defaults::OUTLOOK_RPS,
        defaults::DRIVES_RPS,
        defaults::OTHER_RPS,
        defaults::PER_TEAM_OR_CHANNEL_RPS,
    );
    for (key, label, order, default, tooltip) in [
        (
            "graph_url",
            "Microsoft Graph URL",
            9,
            DEFAULT_GRAPH_URL,
            "Change for national clouds.",
        ),
        (
            "login_url",
            "Microsoft identity platform URL",
            10,
            DEFAULT_LOGIN_URL,
            "Change for national clouds.",
        ),
        (
            "rate_limits",
            "Graph requests per second",
            11,
            "",
            &rate_limits_tooltip,
        ),
    ] {
        let mut f = field(label, order, false);
        f["required"] = json!(false);
        f["default_value"] = json!(default);
        f["value"] = json!(default);
        f["tooltip"] = json!(tooltip);
        f["ui_restrictions"] = json!(["advanced"]);
        map.insert(key.into(), f);
    }
    let mut size = field("Tenant size (Microsoft 365 licenses)", 14, false);
    size["display"] = json!("dropdown");
    size["required"] = json!(false);
    size["default_value"] = json!(TenantSize::default().value());
    size["value"] = json!(TenantSize::default().value());
    size["options"] = Value::Array(
        TenantSize::ALL
            .iter()
            .map(|s| json!({"label": s.label(), "value": s.value()}))
            .collect(),
    );
    size["validations"] = json!([{"type": "included_in", "constraint": TenantSize::VALUES}]);
    size["ui_restrictions"] = json!(["advanced"]);
    size["tooltip"] = json!(
        "SharePoint's request budget per app grows with the tenant's license count (1,250 resource units per minute \
         up to 1,000 licenses, then 2,500 / 3,750 / 5,000 / 6,250). File listings start at the budget of the size \
         chosen here and speed up while SharePoint does not throttle."
    );
    map.insert("tenant_size".into(), size);

    let mut types = field("Document types to sync", 13, false);
    types["type"] = json!("list");
    types["required"] = json!(false);
    types["default_value"] = json!("");
    types["ui_restrictions"] = json!(["advanced"]);
    types["tooltip"] = json!(format!(
        "Comma-separated; empty = all: {}. A type left out is not listed (its Graph permission is not needed) and its documents are removed by the next full sync.",
        docs::ALL_TYPES.join(", ")
    ));
    map.insert("document_types".into(), types);

    let mut accept = field("Accept a large deletion (one sync)", 12, false);
    accept["type"] = json!("bool");
    accept["display"] = json!("toggle");
    accept["required"] = json!(false);
    accept["default_value"] = json!(false);
    accept["value"] = json!(false);
    accept["ui_restrictions"] = json!(["advanced"]);
    accept["tooltip"] = json!("A full sync that would delete more than service.delete_guard_share of the index deletes nothing. Turn this on to let the next full sync delete anyway; it turns itself off after that sync.");
    map.insert(crate::source::ACCEPT_LARGE_DELETION.into(), accept);
    Value::Object(map)
}

/// Where this service's schema departs from the reference's for the reference's own five fields: every property
/// of [`default_configuration`] that differs from the reference's generated field becomes a migration, so a
/// connector created by the Python service can use certificate sign-in (no secret required, username and password
/// only for delegated sign-in) without anyone typing a dummy value.
pub fn schema_migrations() -> Vec<SchemaMigration> {
    let ours = default_configuration();
    let mut out = Vec::new();
    for (name, label, order, sensitive) in FIELDS {
        let reference = field(label, *order, *sensitive);
        let Some(reference) = reference.as_object() else {
            continue;
        };
        for (key, from) in reference {
            let to = &ours[*name][key];
            if key != "value" && to != from {
                out.push(SchemaMigration {
                    field: name.to_string(),
                    key: key.clone(),
                    from: from.clone(),
                    to: to.clone(),
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_cover_exactly_what_differs_from_the_reference() {
        let mut got: Vec<(String, String, Value, Value)> = schema_migrations()
            .into_iter()
            .map(|m| (m.field, m.key, m.from, m.to))
            .collect();
        got.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        let delegated = json!([{"field": "auth_method", "value": "delegated"}]);
        assert_eq!(
            got,
            vec![
                (
                    "password".into(),
                    "depends_on".into(),
                    json!([]),
                    delegated.clone()
                ),
                (
                    "secret_value".into(),
                    "required".into(),
                    json!(true),
                    json!(false)
                ),
                (
                    "secret_value".into(),
                    "tooltip".into(),
                    Value::Null,
                    default_configuration()["secret_value"]["tooltip"].clone()
                ),
                ("username".into(), "depends_on".into(), json!([]), delegated),
            ]
        );
    }

    #[test]
    fn the_rate_limits_tooltip_names_the_defaults() {
        assert_eq!(
            default_configuration()["rate_limits"]["tooltip"],
            "Per endpoint class: `chat_messages=20,channel_messages=20,teams=30,outlook=16,drives=20,other=30,per_channel=4` \
             (the defaults; drives follows the tenant size). A class set here keeps that rate (it only slows down when \
             Graph throttles); the others adapt. 0 = no limit."
        );
    }

    #[test]
    fn default_configuration_matches_the_reference_schema() {
        let c = default_configuration();
        let obj = c.as_object().unwrap();
        assert_eq!(obj.len(), 14);
        assert_eq!(c["secret_value"]["sensitive"], true);
        assert_eq!(c["password"]["sensitive"], true);
        assert_eq!(c["tenant_id"]["sensitive"], false);
        assert_eq!(c["username"]["label"], "Username");
        assert_eq!(c["client_id"]["order"], 2);
        for (key, field) in obj
            .iter()
            .filter(|(k, _)| ["tenant_id", "client_id"].contains(&k.as_str()))
        {
            assert_eq!(field["type"], "str", "{key}");
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
