//! The Connector API answered by the stand-in: connectors through `_connector*`, stored in the connector
//! system indices so that direct index access sees the same documents, with Elasticsearch's defaults,
//! state machine and error shapes.

mod common;

use common::connectors::*;
use common::{send, Es};
use reqwest::Method;
use serde_json::{json, Value};

#[tokio::test]
async fn connectors_are_created_with_es_defaults_listed_and_deleted() {
    let es = Es::start();
    let created = put_connector(
        &es,
        "teams-1",
        json!({"index_name": "search-teams", "name": "Teams", "service_type": "microsoft_teams", "language": "en"}),
    )
    .await;
    assert_eq!(created, json!({"id": "teams-1", "result": "created"}));

    let c = get_connector(&es, "teams-1").await;
    assert_eq!(c["id"], "teams-1");
    assert_eq!(c["index_name"], "search-teams");
    assert_eq!(c["status"], "created");
    assert_eq!(c["is_native"], false);
    assert_eq!(c["sync_now"], false);
    assert_eq!(c["deleted"], false);
    assert_eq!(c["configuration"], json!({}));
    assert_eq!(c["custom_scheduling"], json!({}));
    for kind in ["full", "incremental", "access_control"] {
        assert_eq!(
            c["scheduling"][kind],
            json!({"enabled": false, "interval": "0 0 0 * * ?"})
        );
    }
    let filtering = &c["filtering"][0];
    assert_eq!(filtering["domain"], "DEFAULT");
    for part in ["active", "draft"] {
        let rule = &filtering[part]["rules"][0];
        assert_eq!(rule["id"], "DEFAULT");
        assert_eq!(rule["field"], "_");
        assert_eq!(rule["rule"], "regex");
        assert_eq!(rule["value"], ".*");
        assert_eq!(rule["policy"], "include");
        assert_eq!(rule["order"], 0);
        assert!(is_es_timestamp(&rule["created_at"]), "{rule}");
        assert_eq!(filtering[part]["validation"]["state"], "valid");
        assert_eq!(filtering[part]["advanced_snippet"]["value"], json!({}));
    }
    for absent in [
        "last_seen",
        "error",
        "api_key_id",
        "features",
        "sync_cursor",
        "pipeline",
    ] {
        assert!(c.get(absent).is_none(), "{absent} should not be set: {c}");
    }

    // PUT on an existing id overwrites it with defaults again: 200 "updated".
    let (status, again) = put(
        &es,
        "/_connector/teams-1",
        json!({"index_name": "search-teams", "name": "Teams 2"}),
    )
    .await;
    assert_eq!((status, again["result"].clone()), (200, json!("updated")));
    assert!(get_connector(&es, "teams-1")
        .await
        .get("service_type")
        .is_none());

    let (status, posted) = send(
        es.elastic(Method::POST, "/_connector")
            .json(&json!({"index_name": "search-other", "service_type": "github"})),
    )
    .await;
    assert_eq!(status, 201, "{posted}");
    let generated = posted["id"].as_str().unwrap_or_default().to_string();
    assert!(!generated.is_empty());
    let (status, native) = put(
        &es,
        "/_connector/native-1",
        json!({"index_name": "content-x", "is_native": true}),
    )
    .await;
    assert_eq!(status, 201, "{native}");
    assert_eq!(
        get_connector(&es, "native-1").await["status"],
        "needs_configuration"
    );

    let (status, list) = send(es.elastic(Method::GET, "/_connector")).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["count"], 3);
    let ids: Vec<&str> = list["results"]
        .as_array()
        .map(|r| r.iter().filter_map(|c| c["id"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        ids,
        ["native-1", generated.as_str(), "teams-1"],
        "sorted by index_name"
    );
    let (_, github) = send(es.elastic(Method::GET, "/_connector?service_type=github,jira")).await;
    assert_eq!(github["count"], 1);
    assert_eq!(github["results"][0]["id"], generated);
    let (_, searched) = send(es.elastic(Method::GET, "/_connector?query=teams&size=5")).await;
    assert_eq!(searched["count"], 1);
    let (_, paged) = send(es.elastic(Method::GET, "/_connector?from=1&size=1")).await;
    assert_eq!(paged["count"], 3);
    assert_eq!(paged["results"].as_array().map(Vec::len), Some(1));

    // The content index is taken.
    let (status, taken) = put(
        &es,
        "/_connector/teams-2",
        json!({"index_name": "search-teams"}),
    )
    .await;
    assert_es_error(
        status,
        &taken,
        400,
        "status_exception",
        "Index name [search-teams] is used by another connector.",
    );

    // Soft delete: hidden from get and list unless asked for, and the index name is free again.
    let (status, deleted) = send(es.elastic(Method::DELETE, "/_connector/teams-1")).await;
    assert_eq!((status, deleted), (200, json!({"acknowledged": true})));
    let (status, gone) = send(es.elastic(Method::GET, "/_connector/teams-1")).await;
    assert_es_error(
        status,
        &gone,
        404,
        "resource_not_found_exception",
        "connector [teams-1] not found",
    );
    let (status, kept) =
        send(es.elastic(Method::GET, "/_connector/teams-1?include_deleted=true")).await;
    assert_eq!((status, kept["deleted"].clone()), (200, json!(true)));
    let (_, list) = send(es.elastic(Method::GET, "/_connector")).await;
    assert_eq!(list["count"], 2);
    let (_, list) = send(es.elastic(Method::GET, "/_connector?include_deleted")).await;
    assert_eq!(list["count"], 3);
    put_connector(&es, "teams-2", json!({"index_name": "search-teams"})).await;
    let (status, twice) = send(es.elastic(Method::DELETE, "/_connector/teams-1")).await;
    assert_eq!(status, 404, "soft-deleting twice: {twice}");

    // Hard delete removes the document.
    let (status, _) = send(es.elastic(Method::DELETE, "/_connector/teams-1?hard=true")).await;
    assert_eq!(status, 200);
    let (status, _) =
        send(es.elastic(Method::GET, "/_connector/teams-1?include_deleted=true")).await;
    assert_eq!(status, 404);
    let (status, missing) = send(es.elastic(Method::DELETE, "/_connector/nope?hard=true")).await;
    assert_es_error(
        status,
        &missing,
        404,
        "resource_not_found_exception",
        "connector [nope] not found",
    );
}

#[tokio::test]
async fn requests_are_validated_like_es() {
    let es = Es::start();
    let (status, body) = send(es.elastic(Method::GET, "/_connector/nope")).await;
    assert_es_error(
        status,
        &body,
        404,
        "resource_not_found_exception",
        "connector [nope] not found",
    );

    let (status, body) = put(
        &es,
        "/_connector/c1",
        json!({"index_name": "search-a", "colour": "red"}),
    )
    .await;
    assert_es_error(
        status,
        &body,
        400,
        "x_content_parse_exception",
        "[connector_put_request] unknown field [colour]",
    );
    let (status, body) = put(&es, "/_connector/c1", json!({"name": 5})).await;
    assert_es_error(
        status,
        &body,
        400,
        "x_content_parse_exception",
        "[connector_put_request] name doesn't support values of type: VALUE_NUMBER",
    );
    let (status, body) = put(&es, "/_connector/c1", json!({"index_name": "_bad"})).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["type"], "action_request_validation_exception");
    assert!(body["error"]["reason"]
        .as_str()
        .is_some_and(|r| r.starts_with("Validation Failed: 1: [_bad]")
            && r.contains("must not start with '_', '-', or '+'")));
    let (status, body) = put(
        &es,
        "/_connector/c1",
        json!({"index_name": "search-a", "is_native": true}),
    )
    .await;
    assert_es_error(
        status,
        &body,
        400,
        "action_request_validation_exception",
        "Validation Failed: 1: Index [search-a] is invalid. Index attached to an Elastic-managed connector must start with the prefix: [content-];",
    );

    put_connector(&es, "c1", json!({"index_name": "search-a"})).await;
    let (status, body) = send(
        es.elastic(Method::PUT, "/_connector/c1?refresh=true")
            .json(&json!({})),
    )
    .await;
    assert_es_error(
        status,
        &body,
        400,
        "illegal_argument_exception",
        "request [/_connector/c1] contains unrecognized parameter: [refresh]",
    );
    let (status, body) = send(es.elastic(Method::GET, "/_connector/c1/_status")).await;
    assert_eq!(status, 405, "{body}");
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|e| e.contains("allowed: [PUT]")),
        "{body}"
    );
    let (status, body) = put(&es, "/_connector/c1/_check_in", json!({"x": 1})).await;
    assert_es_error(
        status,
        &body,
        400,
        "illegal_argument_exception",
        "request [PUT /_connector/c1/_check_in] does not support having a body",
    );
    let (status, body) = send(es.elastic(Method::PUT, "/_connector/c1/_status")).await;
    assert_es_error(
        status,
        &body,
        400,
        "parse_exception",
        "request body is required",
    );
    let (status, body) = put(&es, "/_connector/c1/_status", json!({})).await;
    assert_es_error(
        status,
        &body,
        400,
        "action_request_validation_exception",
        "Validation Failed: 1: [status] cannot be [null].;",
    );
    let (status, body) = put(&es, "/_connector/c1/_status", json!({"status": "sleeping"})).await;
    assert_eq!(status, 400);
    assert_eq!(
        body["error"]["caused_by"]["reason"],
        "Unknown ConnectorStatus [sleeping]."
    );
    let (status, body) = put(&es, "/_connector/c1/_wrong", json!({})).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["type"], "illegal_argument_exception");
    let (status, body) = put(
        &es,
        "/_connector/missing/_status",
        json!({"status": "error"}),
    )
    .await;
    assert_es_error(
        status,
        &body,
        404,
        "resource_not_found_exception",
        "connector [missing] not found",
    );
    let (status, body) = send(es.elastic(Method::GET, "/_connector?from=-1")).await;
    assert_es_error(
        status,
        &body,
        400,
        "illegal_argument_exception",
        "Parameter [from] cannot be < 0",
    );
}

#[tokio::test]
async fn configuration_values_and_status_transitions() {
    let es = Es::start();
    put_connector(
        &es,
        "c1",
        json!({"index_name": "search-a", "service_type": "microsoft_teams"}),
    )
    .await;

    let (status, body) = put(
        &es,
        "/_connector/c1/_configuration",
        json!({"values": {"tenant_id": "t"}}),
    )
    .await;
    assert_es_error(
        status,
        &body,
        400,
        "status_exception",
        "Unknown [configuration] fields in the request payload: [tenant_id]. Remove them from request or register their schema first.",
    );
    let (status, body) = put(&es, "/_connector/c1/_configuration", json!({})).await;
    assert_es_error(
        status,
        &body,
        400,
        "action_request_validation_exception",
        "Validation Failed: 1: [configuration] and [values] cannot both be null.;",
    );
    let (status, body) = put(
        &es,
        "/_connector/c1/_configuration",
        json!({"configuration": {"x": {"label": "X", "display": "fancy"}}}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["error"]["caused_by"]["reason"],
        "Unknown ConfigurationDisplayType [fancy]."
    );

    let schema = json!({
        "tenant_id": {"label": "Tenant ID", "order": 1, "type": "str", "display": "text", "required": true, "value": ""},
        "secret": {"label": "Secret", "order": 2, "type": "str", "sensitive": true, "value": "", "tooltip": null}
    });
    let (status, body) = put(
        &es,
        "/_connector/c1/_configuration",
        json!({"configuration": schema}),
    )
    .await;
    assert_eq!((status, body), (200, json!({"result": "updated"})));
    let c = get_connector(&es, "c1").await;
    assert_eq!(
        c["status"], "configured",
        "created → configured by the configuration API"
    );
    assert_eq!(c["configuration"]["secret"]["sensitive"], true);
    assert_eq!(c["configuration"]["secret"]["required"], false);
    assert!(c["configuration"]["secret"].get("tooltip").is_none());
    assert_eq!(
        c["configuration"]["tenant_id"]["default_value"],
        Value::Null
    );

    let (status, _) = put(
        &es,
        "/_connector/c1/_configuration",
        json!({"values": {"tenant_id": "my-tenant"}}),
    )
    .await;
    assert_eq!(status, 200);
    let c = get_connector(&es, "c1").await;
    assert_eq!(c["configuration"]["tenant_id"]["value"], "my-tenant");
    assert_eq!(c["configuration"]["tenant_id"]["label"], "Tenant ID");
    assert_eq!(c["configuration"]["secret"]["value"], "");

    // A full configuration replaces the previous one.
    let (status, _) = put(
        &es,
        "/_connector/c1/_configuration",
        json!({"configuration": {"only": {"label": "Only", "value": 1}}}),
    )
    .await;
    assert_eq!(status, 200);
    let c = get_connector(&es, "c1").await;
    assert!(c["configuration"].get("tenant_id").is_none(), "{c}");
    assert_eq!(c["configuration"]["only"]["value"], 1);

    // Status rules: configured → connected → (not) needs_configuration; created → connected is refused.
    let (status, _) = put(
        &es,
        "/_connector/c1/_status",
        json!({"status": "connected"}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, body) = put(
        &es,
        "/_connector/c1/_status",
        json!({"status": "needs_configuration"}),
    )
    .await;
    assert_es_error(
        status,
        &body,
        400,
        "status_exception",
        "Invalid transition attempt from [connected] to [needs_configuration]. Such a status transition is not supported by the Connector Protocol.",
    );
    put_connector(&es, "c2", json!({"index_name": "search-b"})).await;
    let (status, body) = put(
        &es,
        "/_connector/c2/_status",
        json!({"status": "connected"}),
    )
    .await;
    assert_es_error(
        status,
        &body,
        400,
        "status_exception",
        "Invalid transition attempt from [created] to [connected]. Such a status transition is not supported by the Connector Protocol.",
    );
    for next in ["needs_configuration", "configured", "connected", "error"] {
        let (status, body) = put(&es, "/_connector/c2/_status", json!({"status": next})).await;
        assert_eq!(status, 200, "{next}: {body}");
    }

    // _error sets the error status; a null error means connected again.
    let (status, _) = put(
        &es,
        "/_connector/c1/_error",
        json!({"error": "token expired"}),
    )
    .await;
    assert_eq!(status, 200);
    let c = get_connector(&es, "c1").await;
    assert_eq!(
        (c["status"].clone(), c["error"].clone()),
        (json!("error"), json!("token expired"))
    );
    let (status, _) = put(&es, "/_connector/c1/_error", json!({"error": null})).await;
    assert_eq!(status, 200);
    let c = get_connector(&es, "c1").await;
    assert_eq!(
        (c["status"].clone(), c["error"].clone()),
        (json!("connected"), Value::Null)
    );

    // Other field updates.
    let (status, body) = put(
        &es,
        "/_connector/c1/_scheduling",
        json!({"scheduling": {"full": {"enabled": true, "interval": "0 */10 * * * ?"}}}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let pipeline = json!({"name": "my-pipeline", "extract_binary_content": true, "reduce_whitespace": false, "run_ml_inference": false});
    assert_eq!(
        put(
            &es,
            "/_connector/c1/_pipeline",
            json!({"pipeline": pipeline})
        )
        .await
        .0,
        200
    );
    assert_eq!(
        put(
            &es,
            "/_connector/c1/_name",
            json!({"name": "N", "description": "D"})
        )
        .await
        .0,
        200
    );
    assert_eq!(
        put(
            &es,
            "/_connector/c1/_service_type",
            json!({"service_type": "other"})
        )
        .await
        .0,
        200
    );
    let c = get_connector(&es, "c1").await;
    assert_eq!(
        c["scheduling"]["full"],
        json!({"enabled": true, "interval": "0 */10 * * * ?"})
    );
    assert_eq!(c["scheduling"]["incremental"]["enabled"], false);
    assert_eq!(c["pipeline"], pipeline);
    assert_eq!(
        (c["name"].clone(), c["description"].clone()),
        (json!("N"), json!("D"))
    );
    assert_eq!(c["service_type"], "other");
    assert_eq!(
        c["status"], "needs_configuration",
        "a new service type needs configuration"
    );
    let (status, body) = put(
        &es,
        "/_connector/c1/_index_name",
        json!({"index_name": "search-b"}),
    )
    .await;
    assert_es_error(
        status,
        &body,
        400,
        "status_exception",
        "Index name [search-b] is used by another connector.",
    );
}

#[tokio::test]
async fn filtering_draft_validation_and_activation() {
    let es = Es::start();
    put_connector(&es, "c1", json!({"index_name": "search-a"})).await;
    let rule = json!({"id": "exclude-bots", "field": "author", "rule": "equals", "value": "bot", "policy": "exclude", "order": 3});
    let (status, body) = put(&es, "/_connector/c1/_filtering", json!({"rules": [rule]})).await;
    assert_eq!((status, body), (200, json!({"result": "updated"})));
    let c = get_connector(&es, "c1").await;
    let draft = &c["filtering"][0]["draft"];
    assert_eq!(draft["rules"][0]["id"], "exclude-bots");
    assert_eq!(draft["rules"][1]["id"], "DEFAULT");
    assert_eq!(draft["rules"][1]["order"], 4, "default rule goes last");
    assert_eq!(
        draft["validation"],
        json!({"errors": [], "state": "edited"})
    );
    assert_eq!(c["filtering"][0]["active"]["rules"][0]["id"], "DEFAULT");

    let (status, body) = send(es.elastic(Method::PUT, "/_connector/c1/_filtering/_activate")).await;
    assert_es_error(
        status,
        &body,
        400,
        "status_exception",
        "Filtering draft needs to be validated by the connector service before activation. Current filtering draft validation state [edited] is not equal to [valid].",
    );
    let (status, body) = put(
        &es,
        "/_connector/c1/_filtering/_validation",
        json!({"validation": {"state": "valid", "errors": []}}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = send(es.elastic(Method::PUT, "/_connector/c1/_filtering/_activate")).await;
    assert_eq!(status, 200, "{body}");
    let c = get_connector(&es, "c1").await;
    let filtering = &c["filtering"][0];
    assert_eq!(filtering["active"], filtering["draft"]);
    assert_eq!(filtering["active"]["rules"][0]["id"], "exclude-bots");

    let (status, body) = put(&es, "/_connector/c1/_filtering", json!({"rules": [{"id": "x", "field": "f", "rule": "like", "value": "v", "policy": "include", "order": 1}]})).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["error"]["caused_by"]["reason"],
        "Unknown FilteringRuleCondition [like]."
    );
    let (status, body) = put(&es, "/_connector/c1/_filtering", json!({})).await;
    assert_es_error(
        status,
        &body,
        400,
        "action_request_validation_exception",
        "Validation Failed: 1: [advanced_snippet] and [rules] cannot be both [null].;",
    );
}

#[tokio::test]
async fn direct_index_access_sees_api_writes() {
    let es = Es::start();
    // Nothing exists yet: reads answer like ES on a cluster without the system indices.
    let (_, list) = send(es.elastic(Method::GET, "/_connector")).await;
    assert_eq!(list, json!({"count": 0, "results": []}));
    syncable(&es, "c1", "search-a").await;

    // The API created the system index with the built-in template.
    let (status, aliases) = send(es.elastic(Method::GET, "/.elastic-connectors-v1/_alias")).await;
    assert_eq!(status, 200, "{aliases}");
    assert_eq!(
        aliases[".elastic-connectors-v1"]["aliases"][".elastic-connectors"]["is_hidden"],
        true
    );

    let direct = |es: &Es| send(es.elastic(Method::GET, "/.elastic-connectors/_doc/c1"));
    let (status, doc) = direct(&es).await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(doc["_source"]["index_name"], "search-a");
    assert_eq!(doc["_source"]["status"], "created");
    assert!(
        doc["_source"].get("id").is_none(),
        "the id is not stored in the document"
    );
    let seq0 = doc["_seq_no"].as_i64().unwrap_or(-1);

    let (status, _) = send(es.elastic(Method::PUT, "/_connector/c1/_check_in")).await;
    assert_eq!(status, 200);
    let (_, doc) = direct(&es).await;
    let seq1 = doc["_seq_no"].as_i64().unwrap_or(-1);
    assert!(seq1 > seq0, "{seq0} → {seq1}");
    assert!(is_es_timestamp(&doc["_source"]["last_seen"]), "{doc}");

    let (status, _) = put(
        &es,
        "/_connector/c1/_configuration",
        json!({"configuration": {"k": {"label": "K"}}}),
    )
    .await;
    assert_eq!(status, 200);
    let (_, doc) = direct(&es).await;
    let seq2 = doc["_seq_no"].as_i64().unwrap_or(-1);
    assert!(seq2 > seq1, "{seq1} → {seq2}");
    assert_eq!(doc["_source"]["status"], "configured");

    // An OCC update by a direct client against the current coordinates works, and the API sees it.
    let term = doc["_primary_term"].as_i64().unwrap_or(0);
    let (status, body) = send(
        es.elastic(
            Method::POST,
            &format!("/.elastic-connectors/_update/c1?if_seq_no={seq2}&if_primary_term={term}&refresh=true"),
        )
        .json(&json!({"doc": {"status": "connected", "features": {"incremental_sync": {"enabled": true}}}})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let c = get_connector(&es, "c1").await;
    assert_eq!(c["status"], "connected");
    assert_eq!(c["features"]["incremental_sync"]["enabled"], true);
    // ... and a stale one fails after the API wrote again.
    assert_eq!(
        put(
            &es,
            "/_connector/c1/_status",
            json!({"status": "configured"})
        )
        .await
        .0,
        200
    );
    let (status, _) = send(
        es.elastic(
            Method::POST,
            &format!(
                "/.elastic-connectors/_update/c1?if_seq_no={}&if_primary_term={term}",
                seq2 + 1
            ),
        )
        .json(&json!({"doc": {"status": "error"}})),
    )
    .await;
    assert_eq!(status, 409);

    // Jobs are visible to the direct-mode pending-jobs query right away (writes refresh).
    let job = create_job(&es, json!({"id": "c1"})).await;
    let (status, hits) = send(
        es.elastic(
            Method::POST,
            "/.elastic-connectors-sync-jobs/_search?expand_wildcards=hidden",
        )
        .json(&json!({"query": {"bool": {"must": [
                {"terms": {"status": ["pending", "suspended"]}},
                {"terms": {"connector.id": ["c1"]}},
                {"terms": {"job_type": ["full", "incremental"]}}
            ]}}, "seq_no_primary_term": true})),
    )
    .await;
    assert_eq!(status, 200, "{hits}");
    assert_eq!(hits["hits"]["total"]["value"], 1);
    assert_eq!(hits["hits"]["hits"][0]["_id"], job);
}

#[tokio::test]
async fn connector_privileges_are_cluster_privileges() {
    let es = Es::start();
    let manager = es
        .standin
        .mint_api_key("manager", json!({"m": {"cluster": ["manage_connector"]}}))
        .await
        .expect("key");
    let monitor = es
        .standin
        .mint_api_key("monitor", json!({"r": {"cluster": ["monitor_connector"]}}))
        .await
        .expect("key");
    // No index privileges at all: the API still writes its system indices.
    let (status, body) = send(
        es.with_key(&manager, Method::PUT, "/_connector/c1")
            .json(&json!({"index_name": "search-a", "service_type": "s"})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let (status, _) = send(es.with_key(&monitor, Method::GET, "/_connector/c1")).await;
    assert_eq!(status, 200);
    let (status, body) = send(es.with_key(&monitor, Method::PUT, "/_connector/c1/_check_in")).await;
    assert_eq!(status, 403, "{body}");
    let (status, _) =
        send(es.with_key(&manager, Method::GET, "/.elastic-connectors/_doc/c1")).await;
    assert_eq!(status, 403, "direct reads still need index privileges");
}

#[tokio::test]
async fn field_updates_follow_es_rules() {
    let es = Es::start();
    put_connector(
        &es,
        "c1",
        json!({"index_name": "search-a", "service_type": "microsoft_teams"}),
    )
    .await;

    // _last_sync writes the given sync info and the cursor; statuses and dates are checked.
    let (status, body) = put(
        &es,
        "/_connector/c1/_last_sync",
        json!({
            "last_sync_status": "completed", "last_synced": "2024-05-01T10:20:30Z",
            "last_indexed_document_count": 42, "last_deleted_document_count": 1,
            "last_sync_error": null, "sync_cursor": {"delta": "x"}
        }),
    )
    .await;
    assert_eq!((status, body), (200, json!({"result": "updated"})));
    let c = get_connector(&es, "c1").await;
    assert_eq!(c["last_sync_status"], "completed");
    assert_eq!(c["last_synced"], "2024-05-01T10:20:30.000Z");
    assert_eq!(c["last_indexed_document_count"], 42);
    assert_eq!(c["sync_cursor"], json!({"delta": "x"}));
    assert!(
        c.get("last_sync_error").is_none(),
        "null fields are not written: {c}"
    );
    let (status, body) = put(
        &es,
        "/_connector/c1/_last_sync",
        json!({"last_sync_status": "done"}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["error"]["caused_by"]["reason"],
        "Unknown ConnectorSyncStatus [done]."
    );

    // _features keeps the known flags.
    let features = json!({"incremental_sync": {"enabled": true}, "sync_rules": {"basic": {"enabled": true}, "advanced": {"enabled": false}}});
    assert_eq!(
        put(
            &es,
            "/_connector/c1/_features",
            json!({"features": features})
        )
        .await
        .0,
        200
    );
    assert_eq!(get_connector(&es, "c1").await["features"], features);

    // _api_key_id needs at least one of the two ids.
    let (status, body) = put(
        &es,
        "/_connector/c1/_api_key_id",
        json!({"api_key_id": null}),
    )
    .await;
    assert_es_error(
        status,
        &body,
        400,
        "action_request_validation_exception",
        "Validation Failed: 1: [api_key_id] and [api_key_secret_id] cannot both be [null]. Please provide a value for at least one of them.;",
    );
    assert_eq!(
        put(
            &es,
            "/_connector/c1/_api_key_id",
            json!({"api_key_id": "key-1"})
        )
        .await
        .0,
        200
    );
    assert_eq!(get_connector(&es, "c1").await["api_key_id"], "key-1");

    // _native: an Elastic-managed connector needs a `content-` index; a connected one must reconnect.
    let (status, body) = put(&es, "/_connector/c1/_native", json!({"is_native": true})).await;
    assert_es_error(
        status,
        &body,
        400,
        "status_exception",
        "The index name [search-a] attached to the connector [c1] must start with the required prefix: [content-] to be Elastic-managed. Please update the attached index first to comply with this requirement.",
    );
    assert_eq!(
        put(
            &es,
            "/_connector/c1/_index_name",
            json!({"index_name": "content-a"})
        )
        .await
        .0,
        200
    );
    for next in ["needs_configuration", "configured", "connected"] {
        assert_eq!(
            put(&es, "/_connector/c1/_status", json!({"status": next}))
                .await
                .0,
            200
        );
    }
    assert_eq!(
        put(&es, "/_connector/c1/_native", json!({"is_native": true}))
            .await
            .0,
        200
    );
    let c = get_connector(&es, "c1").await;
    assert_eq!(
        (c["is_native"].clone(), c["status"].clone()),
        (json!(true), json!("configured"))
    );
    let (status, body) = put(
        &es,
        "/_connector/c1/_index_name",
        json!({"index_name": "search-b"}),
    )
    .await;
    assert_es_error(
        status,
        &body,
        400,
        "status_exception",
        "Index attached to an Elastic-managed connector must start with the prefix: [content-]. The index name in the payload [search-b] doesn't comply with this requirement.",
    );
    // Detaching the index is allowed.
    assert_eq!(
        put(
            &es,
            "/_connector/c1/_index_name",
            json!({"index_name": null})
        )
        .await
        .0,
        200
    );
    assert_eq!(get_connector(&es, "c1").await["index_name"], Value::Null);
    let (status, body) = put(&es, "/_connector/c1/_index_name", json!({})).await;
    assert_es_error(
        status,
        &body,
        400,
        "illegal_argument_exception",
        "Required [index_name]",
    );

    // Updates report "noop" when nothing changes, like a document update in ES.
    assert_eq!(
        put(
            &es,
            "/_connector/c1/_api_key_id",
            json!({"api_key_id": "key-1"})
        )
        .await,
        (200, json!({"result": "noop"}))
    );
}
