//! Connector sync jobs through `_connector/_sync_job*`: the connector snapshot taken at creation, claim,
//! stats, check-in, error and cancel with the sync job state machine, listing and deletion.

mod common;

use common::connectors::*;
use common::{send, Es};
use reqwest::Method;
use serde_json::{json, Value};

#[tokio::test]
async fn sync_jobs_snapshot_the_connector() {
    let es = Es::start();
    syncable(&es, "c1", "search-teams").await;
    let schema = json!({"tenant_id": {"label": "Tenant", "value": "t-1", "type": "str"}});
    assert_eq!(
        put(
            &es,
            "/_connector/c1/_configuration",
            json!({"configuration": schema})
        )
        .await
        .0,
        200
    );
    let pipeline = json!({"name": "search-default-ingestion", "extract_binary_content": true, "reduce_whitespace": true, "run_ml_inference": true});
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
    let connector = get_connector(&es, "c1").await;

    let id = create_job(&es, json!({"id": "c1"})).await;
    let job = get_job(&es, &id).await;
    assert_eq!(job["id"], id);
    assert_eq!(job["status"], "pending");
    assert_eq!(job["job_type"], "full");
    assert_eq!(job["trigger_method"], "on_demand");
    for counter in [
        "indexed_document_count",
        "indexed_document_volume",
        "deleted_document_count",
        "total_document_count",
    ] {
        assert_eq!(job[counter], 0, "{counter}");
    }
    assert_eq!(job["metadata"], json!({}));
    assert!(is_es_timestamp(&job["created_at"]), "{job}");
    assert_eq!(job["created_at"], job["last_seen"]);
    for absent in [
        "started_at",
        "worker_hostname",
        "error",
        "completed_at",
        "canceled_at",
    ] {
        assert!(job.get(absent).is_none(), "{absent}: {job}");
    }
    let snapshot = &job["connector"];
    assert_eq!(snapshot["id"], "c1");
    assert_eq!(snapshot["index_name"], "search-teams");
    assert_eq!(snapshot["language"], "en");
    assert_eq!(snapshot["service_type"], "microsoft_teams");
    assert_eq!(snapshot["pipeline"], pipeline);
    assert_eq!(snapshot["configuration"], connector["configuration"]);
    assert_eq!(snapshot["filtering"], connector["filtering"][0]["active"]);
    assert!(snapshot.get("sync_cursor").is_none());

    let acl = create_job(
        &es,
        json!({"id": "c1", "job_type": "access_control", "trigger_method": "scheduled"}),
    )
    .await;
    let acl = get_job(&es, &acl).await;
    assert_eq!(
        acl["connector"]["index_name"],
        ".search-acl-filter-search-teams"
    );
    assert_eq!(acl["trigger_method"], "scheduled");

    let (status, body) = send(
        es.elastic(Method::POST, "/_connector/_sync_job")
            .json(&json!({"id": "nope"})),
    )
    .await;
    assert_es_error(
        status,
        &body,
        404,
        "resource_not_found_exception",
        "Connector with id 'nope' does not exist.",
    );
    put_connector(&es, "detached", json!({"service_type": "microsoft_teams"})).await;
    let (status, body) = send(
        es.elastic(Method::POST, "/_connector/_sync_job")
            .json(&json!({"id": "detached"})),
    )
    .await;
    assert_es_error(
        status,
        &body,
        400,
        "status_exception",
        "Cannot start a sync for connector [detached] with no index attached. Set the [index_name] property for the connector to enable syncing data.",
    );
    let (status, body) = send(
        es.elastic(Method::POST, "/_connector/_sync_job")
            .json(&json!({"id": "c1", "job_type": "partial"})),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["error"]["caused_by"]["reason"],
        "Unknown ConnectorSyncJobType [partial]."
    );
    let (status, body) = send(
        es.elastic(Method::POST, "/_connector/_sync_job")
            .json(&json!({"job_type": "full"})),
    )
    .await;
    assert_es_error(
        status,
        &body,
        400,
        "illegal_argument_exception",
        "Required [id]",
    );
    let (status, body) = send(es.elastic(Method::GET, "/_connector/_sync_job/nope")).await;
    assert_es_error(status, &body, 404, "resource_not_found_exception", "nope");
}

#[tokio::test]
async fn claim_stats_check_in_and_error() {
    let es = Es::start();
    syncable(&es, "c1", "search-a").await;
    let id = create_job(&es, json!({"id": "c1", "job_type": "incremental"})).await;
    let path = |action: &str| format!("/_connector/_sync_job/{id}/{action}");

    let (status, body) = put(&es, &path("_claim"), json!({"sync_cursor": {}})).await;
    assert_es_error(
        status,
        &body,
        400,
        "illegal_argument_exception",
        "Required [worker_hostname]",
    );
    let (status, body) = put(&es, &path("_error"), json!({"error": "too early"})).await;
    assert_es_error(
        status,
        &body,
        400,
        "status_exception",
        "Invalid transition attempt from [pending] to [error]. Such a ConnectorSyncStatus transition is not supported by the Connector Protocol.",
    );

    let cursor = json!({"teams": {"delta": "abc"}});
    let (status, body) = put(
        &es,
        &path("_claim"),
        json!({"worker_hostname": "host-1", "sync_cursor": cursor}),
    )
    .await;
    assert_eq!((status, body), (200, json!({"result": "updated"})));
    let job = get_job(&es, &id).await;
    assert_eq!(job["status"], "in_progress");
    assert_eq!(job["worker_hostname"], "host-1");
    assert_eq!(job["connector"]["sync_cursor"], cursor);
    assert_eq!(
        job["connector"]["index_name"], "search-a",
        "the rest of the snapshot is kept"
    );
    assert!(is_es_timestamp(&job["started_at"]), "{job}");
    assert_eq!(job["started_at"], job["last_seen"]);

    let (status, body) = put(&es, &path("_claim"), json!({"worker_hostname": "host-2"})).await;
    assert_es_error(
        status,
        &body,
        400,
        "status_exception",
        "Invalid transition attempt from [in_progress] to [in_progress]. Such a ConnectorSyncStatus transition is not supported by the Connector Protocol.",
    );
    assert_eq!(get_job(&es, &id).await["worker_hostname"], "host-1");

    let stats = json!({
        "deleted_document_count": 2, "indexed_document_count": 10, "indexed_document_volume": 3,
        "total_document_count": 8, "metadata": {"pages": 4}, "last_seen": "2020-01-01T00:00:00Z"
    });
    let (status, body) = put(&es, &path("_stats"), stats).await;
    assert_eq!(status, 200, "{body}");
    let job = get_job(&es, &id).await;
    assert_eq!(job["indexed_document_count"], 10);
    assert_eq!(job["deleted_document_count"], 2);
    assert_eq!(job["indexed_document_volume"], 3);
    assert_eq!(job["total_document_count"], 8);
    assert_eq!(job["metadata"], json!({"pages": 4}));
    assert_eq!(job["last_seen"], "2020-01-01T00:00:00.000Z");

    let (status, body) = put(
        &es,
        &path("_stats"),
        json!({"deleted_document_count": -1, "indexed_document_count": 1, "indexed_document_volume": -5}),
    )
    .await;
    assert_es_error(
        status,
        &body,
        400,
        "action_request_validation_exception",
        "Validation Failed: 1: [deleted_document_count] cannot be negative.;2: [indexed_document_volume] cannot be negative.;",
    );
    let (status, body) = put(&es, &path("_stats"), json!({"indexed_document_count": 1})).await;
    assert_es_error(
        status,
        &body,
        400,
        "illegal_argument_exception",
        "Required [deleted_document_count, indexed_document_volume]",
    );

    // Stats without last_seen and check-in both move last_seen to now.
    let (status, _) = send(es.elastic(Method::PUT, &path("_check_in"))).await;
    assert_eq!(status, 200);
    let job = get_job(&es, &id).await;
    assert!(
        job["last_seen"].as_str().is_some_and(|s| s > "2021"),
        "{job}"
    );
    let (status, body) =
        send(es.elastic(Method::PUT, "/_connector/_sync_job/nope/_check_in")).await;
    assert_es_error(
        status,
        &body,
        404,
        "resource_not_found_exception",
        "connector sync job [nope] not found",
    );

    let (status, _) = put(&es, &path("_error"), json!({"error": "Graph said 403"})).await;
    assert_eq!(status, 200);
    let job = get_job(&es, &id).await;
    assert_eq!(
        (job["status"].clone(), job["error"].clone()),
        (json!("error"), json!("Graph said 403"))
    );
    let (status, body) = put(&es, &path("_error"), json!({"error": ""})).await;
    assert_es_error(
        status,
        &body,
        400,
        "action_request_validation_exception",
        "Validation Failed: 1: [error] of the connector sync job cannot be null or empty;",
    );
}

#[tokio::test]
async fn cancel_depends_on_the_job_status() {
    let es = Es::start();
    syncable(&es, "c1", "search-a").await;
    let pending = create_job(&es, json!({"id": "c1"})).await;
    let (status, body) = send(es.elastic(
        Method::PUT,
        &format!("/_connector/_sync_job/{pending}/_cancel"),
    ))
    .await;
    assert_eq!((status, body), (200, json!({"result": "updated"})));
    let job = get_job(&es, &pending).await;
    assert_eq!(job["status"], "canceled");
    for field in ["cancelation_requested_at", "canceled_at", "completed_at"] {
        assert!(is_es_timestamp(&job[field]), "{field}: {job}");
    }

    let running = create_job(&es, json!({"id": "c1"})).await;
    let (status, _) = put(
        &es,
        &format!("/_connector/_sync_job/{running}/_claim"),
        json!({"worker_hostname": "h"}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = send(es.elastic(
        Method::PUT,
        &format!("/_connector/_sync_job/{running}/_cancel"),
    ))
    .await;
    assert_eq!(status, 200);
    let job = get_job(&es, &running).await;
    assert_eq!(job["status"], "canceling");
    assert!(is_es_timestamp(&job["cancelation_requested_at"]), "{job}");
    assert!(job.get("canceled_at").is_none(), "{job}");

    let (status, body) = send(es.elastic(
        Method::PUT,
        &format!("/_connector/_sync_job/{pending}/_cancel"),
    ))
    .await;
    assert_es_error(
        status,
        &body,
        400,
        "status_exception",
        "Invalid transition attempt from [canceled] to [canceling]. Such a ConnectorSyncStatus transition is not supported by the Connector Protocol.",
    );
    let (status, body) = send(es.elastic(Method::PUT, "/_connector/_sync_job/nope/_cancel")).await;
    assert_es_error(status, &body, 404, "resource_not_found_exception", "nope");
}

#[tokio::test]
async fn sync_jobs_are_listed_filtered_and_deleted() {
    let es = Es::start();
    syncable(&es, "c1", "search-a").await;
    syncable(&es, "c2", "search-b").await;
    let full = create_job(&es, json!({"id": "c1", "job_type": "full"})).await;
    let incremental = create_job(&es, json!({"id": "c1", "job_type": "incremental"})).await;
    let acl = create_job(&es, json!({"id": "c1", "job_type": "access_control"})).await;
    let other = create_job(&es, json!({"id": "c2"})).await;
    let (status, _) = put(
        &es,
        &format!("/_connector/_sync_job/{incremental}/_claim"),
        json!({"worker_hostname": "h"}),
    )
    .await;
    assert_eq!(status, 200);

    let ids = |v: &Value| -> Vec<String> {
        let mut ids: Vec<String> = v["results"]
            .as_array()
            .map(|r| {
                r.iter()
                    .filter_map(|j| j["id"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        ids.sort();
        ids
    };
    let sorted = |mut v: Vec<&String>| {
        v.sort();
        v.into_iter().cloned().collect::<Vec<String>>()
    };
    let (status, all) = send(es.elastic(Method::GET, "/_connector/_sync_job")).await;
    assert_eq!(status, 200, "{all}");
    assert_eq!(all["count"], 4);
    let (_, c1) = send(es.elastic(
        Method::GET,
        "/_connector/_sync_job?connector_id=c1&job_type=full,incremental",
    ))
    .await;
    assert_eq!(ids(&c1), sorted(vec![&full, &incremental]));
    let (_, pending) = send(es.elastic(
        Method::GET,
        "/_connector/_sync_job?connector_id=c1&status=pending",
    ))
    .await;
    assert_eq!(ids(&pending), sorted(vec![&full, &acl]));
    let (_, one) = send(es.elastic(Method::GET, "/_connector/_sync_job?size=1")).await;
    assert_eq!(
        (
            one["count"].clone(),
            one["results"].as_array().map(Vec::len)
        ),
        (json!(4), Some(1))
    );
    let (status, body) =
        send(es.elastic(Method::GET, "/_connector/_sync_job?status=sleeping")).await;
    assert_es_error(
        status,
        &body,
        400,
        "illegal_argument_exception",
        "Unknown ConnectorSyncStatus [sleeping].",
    );

    let (status, body) =
        send(es.elastic(Method::DELETE, &format!("/_connector/_sync_job/{other}"))).await;
    assert_eq!((status, body), (200, json!({"acknowledged": true})));
    let (status, _) =
        send(es.elastic(Method::GET, &format!("/_connector/_sync_job/{other}"))).await;
    assert_eq!(status, 404);

    // Deleting the connector with delete_sync_jobs removes its jobs.
    let (status, _) =
        send(es.elastic(Method::DELETE, "/_connector/c1?delete_sync_jobs=true")).await;
    assert_eq!(status, 200);
    let (_, left) = send(es.elastic(Method::GET, "/_connector/_sync_job")).await;
    assert_eq!(left["count"], 0, "{left}");
}
