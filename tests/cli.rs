//! The `elastic-ingest` binary as a user runs it: help, version, the `list`/`config` actions, bad input → exit 2
//! with one clear line, SIGTERM during the wait for Elasticsearch → prompt, clean exit, no secret in the logs,
//! ECS lines with `--filebeat` (also for config errors and for a whole sync), and no colour codes unless a
//! terminal reads the log.

mod common;

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::ecs;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_elastic-ingest");

fn run(args: &[&str], cwd: &Path) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(cwd)
        .env_remove("ENV_FILE")
        .output()
        .expect("run elastic-ingest")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A local port with nothing listening on it.
fn dead_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn help_lists_the_reference_options() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(&["--help"], dir.path());
    assert!(o.status.success());
    let text = stdout(&o);
    for opt in [
        "--config-file",
        "--action",
        "--service-type",
        "--log-level",
        "--debug",
        "--filebeat",
        "--version",
    ] {
        assert!(text.contains(opt), "{opt} missing from help:\n{text}");
    }
    assert!(
        text.contains("sync_content") && text.contains("sync_access_control"),
        "{text}"
    );
}

#[test]
fn version_short_and_long() {
    let dir = tempfile::tempdir().unwrap();
    for flag in ["-v", "--version"] {
        let o = run(&[flag], dir.path());
        assert!(o.status.success(), "{flag}");
        assert!(
            stdout(&o).contains(env!("CARGO_PKG_VERSION")),
            "{flag}: {}",
            stdout(&o)
        );
    }
}

#[test]
fn config_action_prints_the_default_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(
        &["--action", "config", "--service-type", "microsoft_teams"],
        dir.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("JSON on stdout");
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    // The reference's five keys, then this service's optional sign-in, endpoint and rate-limit keys.
    assert_eq!(keys.len(), 14, "{keys:?}");
    for k in [
        "tenant_id",
        "client_id",
        "secret_value",
        "username",
        "password",
        "auth_method",
        "certificate_private_key",
        "certificate_thumbprint",
        "graph_url",
        "login_url",
        "rate_limits",
        "tenant_size",
    ] {
        assert!(keys.contains(&k), "{k}");
    }
    assert_eq!(v["secret_value"]["sensitive"], true);
    assert_eq!(v["tenant_id"]["label"], "Tenant ID");
}

#[test]
fn list_action_needs_no_config_file() {
    let dir = tempfile::tempdir().unwrap();
    // Any case, as the Python service accepts it.
    for action in ["list", "LIST", "List"] {
        let o = run(&["--action", action], dir.path());
        assert!(o.status.success(), "{action}: {}", stderr(&o));
        assert!(
            stdout(&o).contains("Microsoft Teams (microsoft_teams)"),
            "{}",
            stdout(&o)
        );
    }
}

#[test]
fn usage_errors_exit_2_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&[&str], &str)] = &[
        (&["--action", "config"], "--service-type"),
        (
            &["--action", "config", "--service-type", "sharepoint_online"],
            "unknown service type `sharepoint_online`",
        ),
        (
            &["--action", "list", "--action", "schedule"],
            "must be used alone",
        ),
        (
            &["--service-type", "microsoft_teams"],
            "only used with --action config",
        ),
    ];
    for (args, expected) in cases {
        let o = run(args, dir.path());
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let e = stderr(&o);
        assert!(e.contains(expected), "{args:?}: {e}");
        assert_eq!(e.trim().lines().count(), 1, "{args:?}: {e}");
    }
    for args in [&["--action", "dance"][..], &["--log-level", "loud"][..]] {
        let o = run(args, dir.path());
        assert_eq!(o.status.code(), Some(2), "{args:?}");
    }
}

#[test]
fn bad_config_files_exit_2_naming_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("elasticsearch:\n  host: [oops\n", "invalid YAML"),
        ("service:\n  idling: soon\n", "service.idling"),
        (
            "elasticsearch:\n  password: ${SURELY_NOT_SET_ANYWHERE}\n",
            "SURELY_NOT_SET_ANYWHERE",
        ),
        ("service:\n  idling: 1\n", "no connector configured"),
        (
            "connectors:\n  - connector_id: changeme\n    service_type: microsoft_teams\n",
            "changeme",
        ),
        (
            "connectors:\n  - connector_id: a\n    service_type: confluence\n",
            "unknown service type `confluence`",
        ),
    ];
    for (yaml, expected) in cases {
        let path = dir.path().join("config.yml");
        std::fs::write(&path, yaml).unwrap();
        let o = run(&["-c", path.to_str().unwrap()], dir.path());
        assert_eq!(o.status.code(), Some(2), "{yaml}: {}", stderr(&o));
        let e = stderr(&o);
        assert!(
            e.contains(expected) && e.contains("config.yml"),
            "{yaml}: {e}"
        );
        assert_eq!(e.trim().lines().count(), 1, "{yaml}: {e}");
    }
    let o = run(&["-c", "/nonexistent/config.yml"], dir.path());
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("/nonexistent/config.yml: cannot read"),
        "{}",
        stderr(&o)
    );
}

/// A config pointing at a port where nothing listens, waiting up to `max_wait` seconds.
fn unreachable_config(dir: &Path, max_wait: f64) -> std::path::PathBuf {
    let yaml = format!(
        "elasticsearch:\n  host: http://127.0.0.1:{}\n  password: Tr0ub4dor-pw-secret\n  api_key: \"\"\n  max_wait_duration: {max_wait}\n  initial_backoff_duration: 0.05\n\
         connectors:\n  - connector_id: c1\n    service_type: microsoft_teams\n    api_key: connector-key-secret\n",
        dead_port()
    );
    let path = dir.join("config.yml");
    std::fs::write(&path, yaml).unwrap();
    path
}

#[test]
fn unreachable_elasticsearch_fails_after_the_bounded_wait_without_leaking_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let path = unreachable_config(dir.path(), 0.3);
    let o = run(&["-c", path.to_str().unwrap(), "--debug"], dir.path());
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(
        e.contains("did not become available") && e.contains("connection refused"),
        "{e}"
    );
    for secret in ["Tr0ub4dor-pw-secret", "connector-key-secret"] {
        assert!(!e.contains(secret), "secret in logs: {e}");
    }
}

/// Every line of `log` checked against the ECS rules, expanded; panics naming the first bad line.
fn ecs_lines(log: &str) -> Vec<Value> {
    log.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| ecs::check_line(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

#[test]
fn the_ecs_rules_catch_what_they_are_for() {
    let ok = r#"{"@timestamp":"2024-01-01T00:00:00.000Z","log.level":"info","message":"m","ecs.version":"1.6.0","log":{"logger":"x"},"service":{"type":"t","version":"1"},"labels":{"a":"1"}}"#;
    assert!(ecs::check_line(ok).is_ok(), "{:?}", ecs::check_line(ok));
    // (what is replaced, by what, the error that names it)
    let broken = [
        (
            r#""log.level":"info""#,
            r#""log.level":"warn""#,
            "log.level",
        ),
        (r#","ecs.version":"1.6.0""#, "", "ecs.version"),
        (r#""labels":{"a":"1"}"#, r#""labels":{"a":1}"#, "labels.a"),
        (r#""labels":{"a":"1"}"#, r#""host":"h""#, "`host`"),
        (
            r#""labels":{"a":"1"}"#,
            r#""connector_id":"c""#,
            "`connector_id`",
        ),
        (r#""log":{"logger":"x"}"#, r#""log":"x""#, "both"),
    ];
    for (original, replacement, expected) in broken {
        let line = ok.replace(original, replacement);
        let e = ecs::check_line(&line).expect_err(&line);
        assert!(e.contains(expected), "{line}: {e}");
    }
}

#[test]
fn filebeat_lines_follow_the_ecs_rules() {
    let dir = tempfile::tempdir().unwrap();
    let path = unreachable_config(dir.path(), 0.3);
    let o = run(
        &["-c", path.to_str().unwrap(), "--filebeat", "--debug"],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(1));
    let lines = ecs_lines(&stderr(&o));
    let waiting = lines
        .iter()
        .find(|v| v["message"] == "Waiting for Elasticsearch")
        .unwrap_or_else(|| panic!("{lines:?}"));
    // `host` was a top-level string before: it collided with ECS's `host` object.
    assert!(ecs::path(waiting, "labels.host").is_some_and(Value::is_string));
    assert!(lines
        .iter()
        .any(|v| v["log"]["level"] == "warning" && v["labels"]["attempt"].is_string()));
    let last = lines.last().unwrap();
    assert_eq!(last["log"]["level"], "error", "{last}");
    assert!(last["message"]
        .as_str()
        .unwrap()
        .contains("did not become available"));
}

#[test]
fn config_errors_with_filebeat_are_one_ecs_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.yml");
    std::fs::write(&path, "service:\n  idling: soon\n").unwrap();
    let o = run(&["-c", path.to_str().unwrap(), "--filebeat"], dir.path());
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert_eq!(e.trim().lines().count(), 1, "{e}");
    let line = &ecs_lines(&e)[0];
    assert_eq!(line["log"]["level"], "error");
    let message = line["message"].as_str().unwrap();
    assert!(
        message.contains("config.yml") && message.contains("service.idling"),
        "{message}"
    );

    let o = run(&["--filebeat", "--log-level", "loud"], dir.path());
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert_eq!(e.trim().lines().count(), 1, "{e}");
    assert!(ecs_lines(&e)[0]["message"]
        .as_str()
        .unwrap()
        .contains("unknown log level `loud`"));
}

#[test]
fn logs_written_to_a_pipe_have_no_colour_codes() {
    let dir = tempfile::tempdir().unwrap();
    let path = unreachable_config(dir.path(), 0.1);
    let o = run(&["-c", path.to_str().unwrap()], dir.path());
    let e = stderr(&o);
    assert!(e.contains("Waiting for Elasticsearch"), "{e}");
    assert!(!e.contains("\x1b["), "escape codes in a piped log: {e:?}");
}

/// Runs the service with stderr on a pseudo-terminal (util-linux `script`), as a person at a terminal would.
fn run_on_a_terminal(config: &Path, no_color: Option<&str>) -> String {
    let mut command = Command::new("script");
    command
        .args([
            "-qec",
            &format!("'{BIN}' -c '{}'", config.display()),
            "/dev/null",
        ])
        .env_remove("NO_COLOR")
        .env_remove("ENV_FILE")
        .stdin(Stdio::null());
    if let Some(value) = no_color {
        command.env("NO_COLOR", value);
    }
    let o = command.output().expect("run `script` (util-linux)");
    stdout(&o)
}

#[test]
fn a_terminal_gets_colours_unless_no_color_is_set() {
    let dir = tempfile::tempdir().unwrap();
    let path = unreachable_config(dir.path(), 0.1);
    let coloured = run_on_a_terminal(&path, None);
    assert!(coloured.contains("Waiting for Elasticsearch"), "{coloured}");
    assert!(coloured.contains("\x1b["), "{coloured:?}");
    let plain = run_on_a_terminal(&path, Some("1"));
    assert!(plain.contains("Waiting for Elasticsearch"), "{plain}");
    assert!(!plain.contains("\x1b["), "{plain:?}");
}

#[test]
fn sigterm_during_the_wait_for_elasticsearch_exits_promptly() {
    let dir = tempfile::tempdir().unwrap();
    let path = unreachable_config(dir.path(), 240.0);
    let mut child = Command::new(BIN)
        .args(["-c", path.to_str().unwrap()])
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let err = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    // Wait until it is retrying (so the signal lands inside the wait, not before it started).
    let mut seen = Vec::new();
    loop {
        let line = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("service should log its retries");
        let retrying = line.contains("retrying in");
        seen.push(line);
        if retrying {
            break;
        }
    }
    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    // Bounded liveness check, not a timing assertion: a service stuck in its 240 s wait would never exit here.
    let mut status = None;
    for _ in 0..200 {
        if let Some(s) = child.try_wait().unwrap() {
            status = Some(s);
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let Some(status) = status else {
        let _ = child.kill();
        panic!("still running 10 s after SIGTERM; log: {seen:?}");
    };
    assert_eq!(status.code(), Some(0), "a requested stop is a clean exit");
    let rest: Vec<String> = rx.try_iter().collect();
    assert!(
        rest.iter().any(|l| l.contains("Stopped during preflight")),
        "{rest:?}"
    );
}

#[test]
fn extract_prints_text_or_one_skip_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("msg.html"),
        "<html><head><style>p{}</style></head><body><p>Hello &amp;\n <b>world</b></p><script>x()</script></body></html>",
    )
    .unwrap();
    let o = run(&["extract", "msg.html"], dir.path());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o).trim_end(), "Hello & world");

    std::fs::write(dir.path().join("fake.pdf"), "not a pdf").unwrap();
    let o = run(&["extract", "fake.pdf"], dir.path());
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.contains("skipped: content does not match its `.pdf` extension"),
        "{err}"
    );

    let o = run(&["extract", "missing.txt"], dir.path());
    assert_eq!(o.status.code(), Some(2));
}
