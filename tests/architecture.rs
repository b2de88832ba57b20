//! The rules of ARCHITECTURE.md that a source scan can check: the code map names every file under `src/`, the
//! sync engine and the service loops never import a source, only `config/` reads the environment, and no file
//! is over 600 lines of non-test code. A failure names the files and the rule.

use std::fs;
use std::path::{Path, PathBuf};

const MAX_CODE_LINES: usize = 600;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every `.rs` file under `dir`, as paths relative to `src/` with `/` separators, sorted.
fn rust_files(dir: &Path) -> Vec<String> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let src = root().join("src");
    let mut found = Vec::new();
    walk(dir, &mut found);
    let mut files: Vec<String> = found
        .iter()
        .map(|p| {
            p.strip_prefix(&src)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/")
        })
        .collect();
    files.sort();
    files
}

/// Unit-test files: `tests.rs`, `*_tests.rs`.
fn is_test_file(rel: &str) -> bool {
    rel.ends_with("/tests.rs") || rel.ends_with("_tests.rs")
}

/// The code map's text: from `## Code map` to the next `## ` heading.
fn code_map_text(doc: &str) -> &str {
    let start = doc
        .find("\n## Code map")
        .expect("ARCHITECTURE.md has a `## Code map`");
    let rest = &doc[start + 1..];
    let end = rest[3..].find("\n## ").map_or(rest.len(), |i| i + 3);
    &rest[..end]
}

/// The code map's `### ` sections, as (directories or files named in the heading, section text).
fn code_map(doc: &str) -> Vec<(Vec<String>, String)> {
    let mut sections = Vec::new();
    for chunk in code_map_text(doc).split("\n### ").skip(1) {
        let (heading, body) = chunk.split_once('\n').unwrap_or((chunk, ""));
        let named = heading
            .split('`')
            .skip(1)
            .step_by(2)
            .filter_map(|s| s.strip_prefix("src/"))
            .map(str::to_string)
            .collect();
        sections.push((named, body.to_string()));
    }
    sections
}

/// Whether the code map names `rel`: its path from `src/` anywhere in the map, or its path below the directory
/// of the most specific section heading that holds it (a `mod.rs` is named by its folder, `graph/`).
fn named_in_map(rel: &str, map: &[(Vec<String>, String)], whole_map: &str) -> bool {
    if whole_map.contains(&format!("src/{rel}")) {
        return true;
    }
    let best = map
        .iter()
        .flat_map(|(named, body)| named.iter().map(move |n| (n, body)))
        .filter(|(n, _)| n.as_str() == rel || (n.ends_with('/') && rel.starts_with(n.as_str())))
        .max_by_key(|(n, _)| n.len());
    let Some((dir, body)) = best else {
        return false;
    };
    if dir.as_str() == rel {
        return true;
    }
    let below = &rel[dir.len()..];
    let name = match below.strip_suffix("mod.rs") {
        Some("") => return true,
        Some(folder) => folder.to_string(),
        None => below.to_string(),
    };
    let whole_name = |n: &String| *n == name || *n == rel || n.ends_with(&format!("/{rel}"));
    quoted(body).iter().any(whole_name) || nested_names(body).contains(&name)
}

/// Everything a text quotes between backticks.
fn quoted(text: &str) -> Vec<String> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

/// Nested bullets read as paths: under a bullet that starts with a folder (`` - `graph/` — … ``), an indented
/// `` `limits.rs` `` names `graph/limits.rs`.
fn nested_names(body: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut folder = String::new();
    for line in body.lines() {
        let quoted = quoted(line);
        if line.starts_with("- ") {
            folder = match quoted.first() {
                Some(q) if line.starts_with("- `") && q.ends_with('/') => q.clone(),
                _ => String::new(),
            };
        } else if line.starts_with(' ') && !folder.is_empty() {
            names.extend(quoted.iter().map(|q| format!("{folder}{q}")));
        }
    }
    names
}

#[test]
fn the_code_map_names_every_file_under_src() {
    let doc = fs::read_to_string(root().join("ARCHITECTURE.md")).unwrap();
    let map = code_map(&doc);
    let whole = code_map_text(&doc);
    let unnamed: Vec<String> = rust_files(&root().join("src"))
        .into_iter()
        .filter(|rel| !is_test_file(rel))
        .filter(|rel| !named_in_map(rel, &map, whole))
        .collect();
    assert!(
        unnamed.is_empty(),
        "ARCHITECTURE.md's code map does not name these files (name each under its folder's section): {unnamed:?}"
    );
}

/// Code lines of a file (comments stripped, its `#[cfg(test)]` tail left out) that mention `needle`.
fn code_mentions(rel: &str, needle: &str) -> Vec<String> {
    let text = fs::read_to_string(root().join("src").join(rel)).unwrap();
    text.lines()
        .take_while(|l| !l.starts_with("#[cfg(test)]"))
        .enumerate()
        .filter(|(_, line)| {
            let code = line.split("//").next().unwrap_or("");
            code.contains(needle)
        })
        .map(|(n, line)| format!("src/{rel}:{}: {}", n + 1, line.trim()))
        .collect()
}

/// The code lines under `src/<dir>` (for each of `dirs`, or all of `src/` when empty) that mention any of
/// `needles`, skipping files whose path starts with one of `except`.
fn mentions(dirs: &[&str], except: &[&str], needles: &[&str]) -> Vec<String> {
    let roots: Vec<PathBuf> = if dirs.is_empty() {
        vec![root().join("src")]
    } else {
        dirs.iter().map(|d| root().join("src").join(d)).collect()
    };
    roots
        .iter()
        .flat_map(|dir| rust_files(dir))
        .filter(|rel| !except.iter().any(|e| rel.starts_with(e)))
        .flat_map(|rel| {
            needles
                .iter()
                .flat_map(|needle| code_mentions(&rel, needle))
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn the_sync_engine_and_the_service_loops_never_import_a_source() {
    let offenders = mentions(
        &["sync", "service"],
        &[],
        &[
            "crate::sources",
            "super::sources",
            "elastic_ingest::sources",
        ],
    );
    assert!(
        offenders.is_empty(),
        "src/sync and src/service must reach sources only through crate::source (the registry main hands in):\n{}",
        offenders.join("\n")
    );
}

#[test]
fn sources_never_import_the_engine_or_the_loops() {
    let offenders = mentions(
        &["source", "sources"],
        &[],
        &["crate::sync", "crate::service", "crate::admin"],
    );
    assert!(
        offenders.is_empty(),
        "sources implement crate::source and know neither the engine nor the loops:\n{}",
        offenders.join("\n")
    );
}

#[test]
fn only_config_reads_the_environment() {
    let offenders = mentions(
        &[],
        &["config/"],
        &["env::var", "env::vars", "env::set_var"],
    );
    assert!(
        offenders.is_empty(),
        "only src/config/ reads environment variables:\n{}",
        offenders.join("\n")
    );
}

#[test]
fn no_file_has_more_than_600_lines_of_code_before_its_tests() {
    let long: Vec<String> = rust_files(&root().join("src"))
        .into_iter()
        .filter(|rel| !is_test_file(rel))
        .filter_map(|rel| {
            let text = fs::read_to_string(root().join("src").join(&rel)).unwrap();
            let code = text
                .lines()
                .take_while(|l| !l.starts_with("#[cfg(test)]"))
                .count();
            (code > MAX_CODE_LINES).then(|| format!("src/{rel}: {code} lines"))
        })
        .collect();
    assert!(
        long.is_empty(),
        "split these files by role (at most {MAX_CODE_LINES} lines before `#[cfg(test)]`): {long:?}"
    );
}

#[test]
fn the_checks_themselves_catch_what_they_look_for() {
    // A made-up map: a folder section naming one file, a nested folder bullet, and an entry point.
    let doc = "# A\n\n## Entry points\n\n- `src/main.rs` — the binary.\n\n## Code map\n\n### `src/net/`\n\
               `body.rs` reads bodies; `graph/` — the client: `graph/limits.rs`.\n\
               - `crawl/` — the crawl:\n  - `chats.rs` — chats.\n- `docs.rs` — documents; `model.rs`.\n\n\
               ### `src/pyvalue.rs`\nTruthiness.\n\n\
               ## Invariants\n\n`src/net/secret.rs` is not in the map part.\n";
    let map = code_map(doc);
    let whole = code_map_text(doc);
    let named = |rel: &str| named_in_map(rel, &map, whole);
    assert!(named("net/body.rs"));
    assert!(named("net/mod.rs"));
    assert!(named("net/graph/mod.rs"));
    assert!(named("net/graph/limits.rs"));
    assert!(
        named("net/crawl/chats.rs"),
        "a nested bullet under its folder"
    );
    assert!(named("net/crawl/mod.rs"));
    assert!(named("net/model.rs"));
    assert!(
        !named("net/crawl/model.rs"),
        "a bullet of its own ends the folder"
    );
    assert!(named("pyvalue.rs"));
    assert!(!named("net/proxy.rs"));
    assert!(!named("net/secret.rs"), "the invariants are not the map");
    assert!(!named("main.rs"), "entry points are outside the map");
    assert!(!named("clock.rs"));
}
