//! Loading rules end to end: a file on disk, an injected environment, the typed result or the one-line error.

use super::*;
use std::time::Duration;

struct Fixture {
    dir: tempfile::TempDir,
    vars: HashMap<String, String>,
}

impl Fixture {
    fn new() -> Self {
        Fixture {
            dir: tempfile::tempdir().unwrap(),
            vars: HashMap::new(),
        }
    }
    fn var(mut self, k: &str, v: &str) -> Self {
        self.vars.insert(k.into(), v.into());
        self
    }
    fn file(&self, name: &str, text: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    }
    fn load(&self, yaml: &str) -> Result<Config, ConfigError> {
        let path = self.file("config.yml", yaml);
        load_with(
            &path,
            &Environment {
                vars: self.vars.clone(),
                cwd: self.dir.path().into(),
            },
        )
    }
    fn error(&self, yaml: &str) -> String {
        let e = self.load(yaml).expect_err("expected a config error");
        let text = e.to_string();
        assert!(!text.contains('\n'), "error must be one line: {text}");
        text
    }
}

const KNOWN: &[&str] = &["microsoft_teams"];
const ONE: &str = "connectors:\n  - connector_id: abc\n    service_type: microsoft_teams\n";

#[test]
fn defaults_match_the_reference() {
    let c = Fixture::new().load("").unwrap();
    let es = &c.elasticsearch;
    assert_eq!(es.host, "http://localhost:9200");
    assert_eq!(
        (es.username.as_str(), es.password.expose()),
        ("elastic", "changeme")
    );
    assert!(es.api_key.is_none() && es.ssl && es.verify_certs && es.retry_on_timeout);
    assert_eq!(es.request_timeout.get(), Duration::from_secs(240));
    assert_eq!(es.max_wait_duration.get(), Duration::from_secs(240));
    assert_eq!(es.initial_backoff_duration.get(), Duration::from_secs(1));
    assert_eq!(es.backoff_multiplier, 2.0);
    assert_eq!(
        (es.max_retries, es.retry_interval.get()),
        (5, Duration::from_secs(10))
    );
    assert!(es.feature_use_connectors_api);
    let b = &es.bulk;
    assert_eq!(
        (
            b.queue_max_size,
            b.queue_max_mem_size,
            b.chunk_size,
            b.chunk_max_mem_size
        ),
        (1024, 25.0, 500, 3.0)
    );
    assert_eq!(
        (b.max_concurrency, b.concurrent_downloads, b.display_every),
        (5, 10, 100)
    );
    assert_eq!(b.queue_refresh_timeout.get(), Duration::from_secs(1300));
    assert_eq!(b.max_text_document_size, 3.0);
    let m = &b.error_monitor;
    assert_eq!(
        (
            m.enabled,
            m.max_total_errors,
            m.max_consecutive_errors,
            m.max_error_rate
        ),
        (true, 1000, 10, 0.15)
    );
    assert_eq!((m.error_window_size, m.error_queue_size), (100, 10));
    let s = &c.service;
    assert_eq!(
        (s.idling.get(), s.heartbeat.get()),
        (Duration::from_secs(30), Duration::from_secs(300))
    );
    assert_eq!(
        (s.preflight_max_attempts, s.preflight_idle.get()),
        (10, Duration::from_secs(30))
    );
    assert_eq!(
        (s.max_errors, s.max_errors_span.get()),
        (20, Duration::from_secs(600))
    );
    assert_eq!(
        (
            s.max_concurrent_content_syncs,
            s.max_concurrent_access_control_syncs,
            s.max_concurrent_scheduling_tasks
        ),
        (1, 1, 4)
    );
    assert_eq!(
        (s.max_file_download_size, s.job_cleanup_interval.get()),
        (10_485_760, Duration::from_secs(300))
    );
    assert!(!s.worker_mode && !s.fips_mode && s.service_types.is_empty() && s.log_level.is_none());
    assert!(c.extraction_service.is_none() && c.connectors.is_empty() && c.warnings.is_empty());
}

#[test]
fn nested_and_dotted_keys_merge_over_defaults() {
    let c = Fixture::new()
        .load("elasticsearch.bulk.chunk_size: 100\nelasticsearch:\n  host: https://es:9243\n  bulk:\n    max_concurrency: 2\nservice.idling: 0.5\n")
        .unwrap();
    assert_eq!(c.elasticsearch.host, "https://es:9243");
    assert_eq!(c.elasticsearch.bulk.chunk_size, 100);
    assert_eq!(c.elasticsearch.bulk.max_concurrency, 2);
    assert_eq!(
        c.elasticsearch.bulk.concurrent_downloads, 10,
        "sibling default kept"
    );
    assert_eq!(c.service.idling.get(), Duration::from_millis(500));
}

#[test]
fn extraction_service_defaults_fill_a_partial_section() {
    let c = Fixture::new()
        .load("extraction_service:\n  host: http://localhost:8090\n")
        .unwrap();
    let x = c.extraction_service.unwrap();
    assert_eq!(x.host.as_deref(), Some("http://localhost:8090"));
    assert_eq!(
        (x.timeout.get(), x.stream_chunk_size),
        (Duration::from_secs(30), 65536)
    );
}

#[test]
fn interpolation_from_env_and_dotenv() {
    let f = Fixture::new()
        .var("ES_HOST", "http://es.local:9200")
        .var("SHARED", "from-env");
    f.file(
        ".env",
        "ES_PASSWORD=s3cr$t\nSHARED=from-dotenv\nTIMEOUT=60\n",
    );
    let c = f
        .load("elasticsearch:\n  host: ${ES_HOST}\n  password: ${ES_PASSWORD}\n  username: $SHARED\n  request_timeout: ${TIMEOUT}\n  api_key: ${API_KEY|}\n")
        .unwrap();
    assert_eq!(c.elasticsearch.host, "http://es.local:9200");
    assert_eq!(c.elasticsearch.password.expose(), "s3cr$t");
    assert_eq!(
        c.elasticsearch.username, "from-env",
        "process environment wins over .env"
    );
    assert_eq!(
        c.elasticsearch.request_timeout.get(),
        Duration::from_secs(60)
    );
}

#[test]
fn env_file_variable_points_at_another_file() {
    let f = Fixture::new().var("ENV_FILE", "prod.env");
    f.file("prod.env", "CID=conn-1\n");
    let c = f
        .load("connectors:\n  - connector_id: $CID\n    service_type: microsoft_teams\n")
        .unwrap();
    assert_eq!(c.connectors[0].connector_id, "conn-1");
}

#[test]
fn malformed_env_file_names_file_and_line() {
    let f = Fixture::new();
    f.file(".env", "OK=1\nthis line is wrong\n");
    let e = f.error("");
    assert!(e.contains(".env") && e.contains("line 2"), "{e}");
}

#[test]
fn missing_env_file_named_by_env_file_is_an_error() {
    let e = Fixture::new().var("ENV_FILE", "nope.env").error("");
    assert!(e.contains("nope.env") && e.contains("env file"), "{e}");
}

#[test]
fn literal_dollars_and_comments_are_safe() {
    let c = Fixture::new()
        .load("# password: ${NOT_SET_ANYWHERE}\nelasticsearch:\n  password: \"pa$$w$1rd$\" # ${ALSO_NOT_SET}\n")
        .unwrap();
    assert_eq!(c.elasticsearch.password.expose(), "pa$w$1rd$");
}

#[test]
fn undefined_variable_is_an_error_naming_key_and_variable() {
    let e = Fixture::new().error("elasticsearch:\n  password: ${ES_PASSWORD}\n");
    assert!(
        e.contains("elasticsearch.password") && e.contains("ES_PASSWORD") && e.contains("$$"),
        "{e}"
    );
}

#[test]
fn strict_disable_keeps_undefined_references_with_a_warning() {
    let c = Fixture::new()
        .var("ENVYAML_STRICT_DISABLE", "1")
        .load("elasticsearch:\n  username: ${WHO}\n")
        .unwrap();
    assert_eq!(c.elasticsearch.username, "${WHO}");
    assert!(c.warnings.iter().any(|w| w.contains("WHO")));
}

#[test]
fn environment_variables_never_become_config_keys() {
    let c = Fixture::new()
        .var("connector_id", "leak")
        .var("service_type", "microsoft_teams")
        .load("")
        .unwrap();
    assert!(c.connectors.is_empty());
}

#[test]
fn malformed_yaml_reports_line_and_column() {
    let e = Fixture::new().error("elasticsearch:\n  host: [unclosed\nservice:\n  idling: 1\n");
    assert!(
        e.contains("config.yml:") && e.contains("invalid YAML"),
        "{e}"
    );
    let line: usize = e.split(':').nth(1).unwrap().parse().unwrap_or(0);
    assert!(line >= 2, "{e}");
}

#[test]
fn top_level_must_be_a_mapping() {
    let e = Fixture::new().error("- a\n- b\n");
    assert!(e.contains("top level must be a mapping"), "{e}");
}

#[test]
fn wrong_types_name_the_key_path() {
    let f = Fixture::new();
    let e = f.error("elasticsearch:\n  bulk:\n    chunk_size: lots\n");
    assert!(
        e.contains("elasticsearch.bulk.chunk_size") && e.contains("invalid type"),
        "{e}"
    );
    let e = f.error("service:\n  idling: soon\n");
    assert!(e.contains("service.idling") && e.contains("seconds"), "{e}");
    let e = f.error("service:\n  heartbeat: -5\n");
    assert!(
        e.contains("service.heartbeat") && e.contains("non-negative"),
        "{e}"
    );
    let e = f.error("connectors:\n  - connector_id: a\n    api_key: [1]\n");
    assert!(e.contains("connectors[0].api_key"), "{e}");
    let e = f.error("elasticsearch: 5\n");
    assert!(
        e.contains("elasticsearch") && e.contains("invalid type"),
        "{e}"
    );
}

#[test]
fn out_of_range_values_are_rejected() {
    let f = Fixture::new();
    for (yaml, key) in [
        (
            "elasticsearch.bulk.chunk_size: 0",
            "elasticsearch.bulk.chunk_size",
        ),
        (
            "elasticsearch.bulk.error_monitor.max_error_rate: 1.5",
            "max_error_rate",
        ),
        (
            "elasticsearch.bulk.max_text_document_size: -1",
            "max_text_document_size",
        ),
        ("elasticsearch.host: localhost:9200", "elasticsearch.host"),
        ("elasticsearch.host: ftp://x", "elasticsearch.host"),
        ("elasticsearch.log_level: chatty", "elasticsearch.log_level"),
        ("service.log_level: loud", "service.log_level"),
        ("service.idling: 0", "service.idling"),
        (
            "elasticsearch.backoff_multiplier: 0.5",
            "backoff_multiplier",
        ),
    ] {
        let e = f.error(yaml);
        assert!(e.contains(key), "{yaml}: {e}");
    }
}

#[test]
fn unknown_keys_are_warnings_with_their_path() {
    let c = Fixture::new()
        .load("elasticsearch:\n  hots: x\n  bulk:\n    chunk_sise: 1\nsurprise: 1\n")
        .unwrap();
    for key in [
        "elasticsearch.hots",
        "elasticsearch.bulk.chunk_sise",
        "surprise",
    ] {
        assert!(
            c.warnings
                .iter()
                .any(|w| w.starts_with(key) && w.contains("unknown")),
            "{key}: {:?}",
            c.warnings
        );
    }
}

#[test]
fn connectors_list_rules() {
    let c = Fixture::new()
        .load("connectors:\n  - service_type: microsoft_teams\n  - connector_id: 12345\n    service_type: microsoft_teams\n    api_key: k1\n  - connector_id: b\n    service_type: microsoft_teams\n  - connector_id: '12345'\n    service_type: microsoft_teams\n    api_key: k2\n")
        .unwrap();
    let ids: Vec<_> = c
        .connectors
        .iter()
        .map(|c| c.connector_id.as_str())
        .collect();
    assert_eq!(
        ids,
        ["b", "12345"],
        "missing id skipped, numeric id stringified, duplicate: last wins"
    );
    assert_eq!(c.connectors[1].api_key.as_ref().unwrap().expose(), "k2");
    assert!(c.warnings.iter().any(|w| w.contains("no connector_id")));
    assert!(c.warnings.iter().any(|w| w.contains("listed twice")));
}

#[test]
fn deprecated_single_connector_is_used_when_list_is_empty() {
    let c = Fixture::new()
        .load("connector_id: old\nservice_type: microsoft_teams\n")
        .unwrap();
    assert_eq!(
        c.connectors,
        vec![ConnectorConfig {
            connector_id: "old".into(),
            service_type: "microsoft_teams".into(),
            api_key: None
        }]
    );
}

#[test]
fn service_validation() {
    let f = Fixture::new();
    let mut c = f.load(ONE).unwrap();
    c.validate_for_service(KNOWN).unwrap();

    let mut c = f.load("").unwrap();
    let e = c.validate_for_service(KNOWN).unwrap_err().to_string();
    assert!(
        e.contains("connectors") && e.contains("no connector configured"),
        "{e}"
    );

    let mut c = f
        .load("connectors:\n  - connector_id: changeme\n    service_type: microsoft_teams\n")
        .unwrap();
    let e = c.validate_for_service(KNOWN).unwrap_err().to_string();
    assert!(
        e.contains("connectors[0].connector_id") && e.contains("changeme"),
        "{e}"
    );

    let mut c = f
        .load("connectors:\n  - connector_id: a\n    service_type: changeme\n")
        .unwrap();
    let e = c.validate_for_service(KNOWN).unwrap_err().to_string();
    assert!(
        e.contains("connectors[0].service_type") && e.contains("placeholder"),
        "{e}"
    );

    let mut c = f
        .load("connectors:\n  - connector_id: a\n    service_type: sharepoint_online\n")
        .unwrap();
    let e = c.validate_for_service(KNOWN).unwrap_err().to_string();
    assert!(
        e.contains("unknown service type `sharepoint_online`") && e.contains("microsoft_teams"),
        "{e}"
    );

    let mut c = f.load("service:\n  worker_mode: true\n").unwrap();
    let e = c.validate_for_service(KNOWN).unwrap_err().to_string();
    assert!(e.contains("service.service_types"), "{e}");

    let mut c = f
        .load("service:\n  worker_mode: true\n  service_types: [microsoft_teams]\n")
        .unwrap();
    c.validate_for_service(KNOWN).unwrap();

    let mut c = f
        .load(&format!(
            "{ONE}service:\n  service_types: [microsoft_teams]\n"
        ))
        .unwrap();
    c.validate_for_service(KNOWN).unwrap();
    assert!(c
        .warnings
        .iter()
        .any(|w| w.contains("worker_mode is false")));
}

#[test]
fn secrets_do_not_appear_in_debug_output() {
    let c = Fixture::new()
        .load("elasticsearch:\n  password: pw-123-secret\n  api_key: key-456-secret\nconnectors:\n  - connector_id: a\n    service_type: microsoft_teams\n    api_key: conn-789-secret\n")
        .unwrap();
    let dump = format!("{c:?}");
    for s in ["pw-123-secret", "key-456-secret", "conn-789-secret"] {
        assert!(!dump.contains(s), "{s} leaked");
    }
}

#[test]
fn version_mismatch_flag_values() {
    for (v, expected) in [
        ("true", true),
        ("1", true),
        ("YES", true),
        ("no", false),
        ("0", false),
    ] {
        let c = Fixture::new()
            .var("ALLOW_ES_VERSION_MISMATCH", v)
            .load("")
            .unwrap();
        assert_eq!(c.env.allow_es_version_mismatch, expected, "{v}");
    }
    assert!(
        !Fixture::new()
            .load("")
            .unwrap()
            .env
            .allow_es_version_mismatch
    );
}

#[test]
fn no_color_counts_only_when_not_empty() {
    for (v, expected) in [("1", true), ("false", true), ("", false)] {
        let c = Fixture::new().var("NO_COLOR", v).load("").unwrap();
        assert_eq!(c.env.no_color, expected, "{v:?}");
    }
    assert!(!Fixture::new().load("").unwrap().env.no_color);
}

#[test]
fn disabled_certificate_verification_is_one_warning_naming_the_key() {
    let unverified = |yaml: &str| {
        Fixture::new()
            .load(yaml)
            .unwrap()
            .warnings
            .iter()
            .filter(|w| w.starts_with("elasticsearch.verify_certs"))
            .count()
    };
    assert_eq!(
        unverified("elasticsearch:\n  host: https://es.example:9243\n  verify_certs: false\n"),
        1
    );
    // Where the key has no effect, it is not worth a warning.
    for yaml in [
        "elasticsearch:\n  host: http://es.example:9200\n  verify_certs: false\n",
        "elasticsearch:\n  host: https://es.example:9243\n  ssl: false\n  verify_certs: false\n",
        "elasticsearch:\n  host: https://es.example:9243\n",
    ] {
        assert_eq!(unverified(yaml), 0, "{yaml}");
    }
}

#[test]
fn graph_section_and_network_variables() {
    let c = Fixture::new()
        .var("https_proxy", "http://user:pw-proxy-secret@proxy.corp:3128")
        .var("NO_PROXY", "localhost,.corp")
        .var("SSL_CERT_FILE", "/etc/corp/bundle.pem")
        .load("graph:\n  ca_certs: /etc/corp/proxy-ca.pem\n")
        .unwrap();
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    assert_eq!(
        c.graph.ca_certs,
        Some(PathBuf::from("/etc/corp/proxy-ca.pem"))
    );
    let net = &c.env.network;
    assert!(net.proxy.https.is_some() && net.proxy.http.is_none());
    assert_eq!(net.proxy.no_proxy, "localhost,.corp");
    assert_eq!(
        net.cert_store.file,
        Some(PathBuf::from("/etc/corp/bundle.pem"))
    );
    assert!(!format!("{c:?}").contains("pw-proxy-secret"));
    assert_eq!(
        Fixture::new().load("").unwrap().graph,
        GraphConfig::default()
    );

    let e = Fixture::new()
        .var("HTTP_PROXY", "ftp://user:pw-proxy-secret@proxy")
        .error("");
    assert!(e.contains("HTTP_PROXY"), "{e}");
    assert!(!e.contains("pw-proxy-secret"), "{e}");
}

#[test]
fn graph_allowed_hosts_are_parsed_at_load() {
    let c = Fixture::new()
        .load("graph:\n  allowed_hosts: [gw.corp.example, 'http://127.0.0.1:41234']\n")
        .unwrap();
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    let hosts: Vec<String> = c
        .graph
        .allowed_hosts
        .iter()
        .map(|h| h.to_string())
        .collect();
    assert_eq!(hosts, ["gw.corp.example", "http://127.0.0.1:41234"]);
    assert!(Fixture::new()
        .load("")
        .unwrap()
        .graph
        .allowed_hosts
        .is_empty());
    let e = Fixture::new().error("graph.allowed_hosts:\n  - ok.example\n  - ftp://files.example\n");
    assert!(
        e.contains("graph.allowed_hosts[1]") && e.contains("the scheme must be https or http"),
        "{e}"
    );
}

#[test]
fn override_url_is_read_here_and_checked() {
    let c = Fixture::new()
        .var("OVERRIDE_URL", " http://127.0.0.1:10971/ ")
        .load("")
        .unwrap();
    assert_eq!(
        c.env.override_url.as_deref(),
        Some("http://127.0.0.1:10971")
    );
    assert_eq!(Fixture::new().load("").unwrap().env.override_url, None);
    for bad in ["localhost:8080", "ftp://host", "http://user:pw@host"] {
        let e = Fixture::new().var("OVERRIDE_URL", bad).error("");
        assert!(e.starts_with("environment variable OVERRIDE_URL: "), "{e}");
        assert!(!e.contains("pw"), "{e}");
    }
}

#[test]
fn unreadable_file_is_a_clear_error() {
    let e = load_with(
        Path::new("/nonexistent/config.yml"),
        &Environment::from_process(),
    )
    .unwrap_err()
    .to_string();
    assert!(e.starts_with("/nonexistent/config.yml: cannot read"), "{e}");
}

#[test]
fn example_file_shows_exactly_the_defaults() {
    let f = Fixture::new();
    let mut example = f.load(include_str!("../../config.yml.example")).unwrap();
    assert!(
        example.warnings.is_empty(),
        "example has unknown keys: {:?}",
        example.warnings
    );
    let defaults = f.load("").unwrap();
    let json = |v: &dyn erased::Ser| v.to_json();
    assert_eq!(
        json(&example.elasticsearch),
        json(&defaults.elasticsearch),
        "elasticsearch section differs from defaults"
    );
    let mut service = defaults.service.clone();
    service.log_level = Some("INFO".into());
    assert_eq!(
        json(&example.service),
        json(&service),
        "service section differs from defaults"
    );
    assert_eq!(example.graph, defaults.graph, "graph section differs");
    let e = example.validate_for_service(KNOWN).unwrap_err().to_string();
    assert!(
        e.contains("changeme"),
        "the example's placeholder must be rejected: {e}"
    );
}

mod erased {
    pub trait Ser {
        fn to_json(&self) -> serde_json::Value;
    }
    impl<T: serde::Serialize> Ser for T {
        fn to_json(&self) -> serde_json::Value {
            serde_json::to_value(self).unwrap()
        }
    }
}

#[test]
fn alias_bombs_are_rejected_not_expanded() {
    let mut yaml = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        let p = i - 1;
        yaml.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    let e = Fixture::new().error(&yaml);
    assert!(e.contains("invalid YAML"), "{e}");
}

#[test]
fn fips_mode_true_is_refused_naming_the_key() {
    let f = Fixture::new();
    let e = f.error("service:\n  fips_mode: true\n");
    assert!(e.contains("service.fips_mode") && e.contains("FIPS"), "{e}");
    assert!(f.load("service:\n  fips_mode: false\n").is_ok());
}

#[test]
fn extraction_streaming_settings_are_named_as_ignored() {
    let c = Fixture::new()
        .load("extraction_service:\n  host: http://localhost:8090\n  use_file_pointers: true\n  stream_chunk_size: 1024\n  shared_volume_dir: /data\n")
        .unwrap();
    for key in [
        "extraction_service.use_file_pointers",
        "extraction_service.stream_chunk_size",
        "extraction_service.shared_volume_dir",
    ] {
        assert!(
            c.warnings
                .iter()
                .any(|w| w.starts_with(key) && w.contains("no effect")),
            "{key}: {:?}",
            c.warnings
        );
    }
    let defaults = Fixture::new()
        .load("extraction_service:\n  host: http://localhost:8090\n")
        .unwrap();
    assert!(defaults.warnings.is_empty(), "{:?}", defaults.warnings);
}

#[test]
fn huge_numbers_are_refused_naming_the_key() {
    let f = Fixture::new();
    for (yaml, key) in [
        (
            "elasticsearch:\n  retry_interval: 1e300\n",
            "elasticsearch.retry_interval",
        ),
        (
            "elasticsearch:\n  request_timeout: 99999999999\n",
            "elasticsearch.request_timeout",
        ),
        ("service:\n  idling: 1e20\n", "service.idling"),
        (
            "elasticsearch:\n  max_retries: 4000000000\n",
            "elasticsearch.max_retries",
        ),
        (
            "elasticsearch:\n  backoff_multiplier: 1e300\n",
            "elasticsearch.backoff_multiplier",
        ),
        (
            "elasticsearch.bulk.queue_max_size: 18446744073709551615\n",
            "elasticsearch.bulk.queue_max_size",
        ),
        (
            "elasticsearch.bulk.queue_max_size: 0\n",
            "elasticsearch.bulk.queue_max_size",
        ),
        (
            "elasticsearch.bulk.chunk_size: 10000000000\n",
            "elasticsearch.bulk.chunk_size",
        ),
        (
            "elasticsearch.bulk.max_concurrency: 2305843009213693952\n",
            "elasticsearch.bulk.max_concurrency",
        ),
        (
            "elasticsearch.bulk.concurrent_downloads: 99999999\n",
            "elasticsearch.bulk.concurrent_downloads",
        ),
        (
            "elasticsearch.bulk.queue_max_mem_size: 1e12\n",
            "elasticsearch.bulk.queue_max_mem_size",
        ),
        (
            "elasticsearch.bulk.chunk_max_mem_size: -1\n",
            "elasticsearch.bulk.chunk_max_mem_size",
        ),
        (
            "elasticsearch.bulk.error_monitor.error_window_size: 18446744073709551615\n",
            "elasticsearch.bulk.error_monitor.error_window_size",
        ),
        (
            "elasticsearch.bulk.error_monitor.error_queue_size: 10000000000\n",
            "elasticsearch.bulk.error_monitor.error_queue_size",
        ),
        (
            "elasticsearch.bulk.error_monitor.max_error_rate: 2\n",
            "elasticsearch.bulk.error_monitor.max_error_rate",
        ),
        (
            "service:\n  max_concurrent_content_syncs: 9999999999\n",
            "service.max_concurrent_content_syncs",
        ),
        (
            "service:\n  max_file_download_size: 99999999999999\n",
            "service.max_file_download_size",
        ),
        (
            "elasticsearch.bulk.queue_refresh_timeout: 1e300\n",
            "elasticsearch.bulk.queue_refresh_timeout",
        ),
    ] {
        let e = f.error(yaml);
        assert!(e.contains(key), "{yaml}: {e}");
    }
    // The defaults and the documented example stay valid.
    assert!(f.load("").is_ok());
}
