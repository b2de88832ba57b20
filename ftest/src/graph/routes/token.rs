//! `POST /{tenant}/oauth2/v2.0/token` and the OIDC discovery document MSAL reads first.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use super::Shared;
use crate::graph::auth::{self, TokenRequest};

pub async fn token(
    State(s): State<Shared>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    s.counters()
        .request("token", "POST /{tenant}/oauth2/v2.0/token".to_string());
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    let grant_type = form.get("grant_type").cloned().unwrap_or_default();
    let base = s.base(&headers);
    let aliases = vec![s.data().tenant.id.clone()];
    let result = {
        let ds = s.data();
        let mut tokens = s.tokens();
        auth::token(
            &s.creds,
            &mut tokens,
            TokenRequest {
                tenant: &tenant,
                tenant_aliases: &aliases,
                base: &base,
                form,
            },
            |name| ds.user(name).map(|u| u.id.clone()),
        )
    };
    match result {
        Ok(grant) => {
            tracing::info!(grant_type = %grant_type, kind = grant.kind, "token issued");
            Json(grant.body).into_response()
        }
        Err(e) => {
            tracing::info!(grant_type = %grant_type, "token refused");
            e.into_response()
        }
    }
}

pub async fn openid_configuration(
    State(s): State<Shared>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
) -> Response {
    let base = s.base(&headers);
    Json(json!({
        "token_endpoint": format!("{base}/{tenant}/oauth2/v2.0/token"),
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": format!("{base}/{tenant}/discovery/v2.0/keys"),
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": format!("{base}/{tenant}/v2.0"),
        "authorization_endpoint": format!("{base}/{tenant}/oauth2/v2.0/authorize"),
        "tenant_region_scope": "NA",
    }))
    .into_response()
}
