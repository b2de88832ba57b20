//! The user-facing documents stand on their own: every relative link resolves to a file in this repository, and
//! nothing points outside it (users have the repository, not the material it was developed from).

use std::path::{Path, PathBuf};

const DOCUMENTS: &[&str] = &[
    "README.md",
    "ARCHITECTURE.md",
    "ftest/README.md",
    "tests/corpus/README.md",
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The targets of `[text](target)` links, without `#fragment`s; web links and pure fragments are left out.
fn relative_links(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("](") {
        rest = &rest[start + 2..];
        let Some(end) = rest.find(')') else { break };
        let target = rest[..end].split('#').next().unwrap_or_default().trim();
        if !target.is_empty() && !target.contains("://") && !target.starts_with("mailto:") {
            out.push(target.to_string());
        }
        rest = &rest[end..];
    }
    out
}

#[test]
fn relative_links_stay_inside_the_repository_and_resolve() {
    let root = root().canonicalize().unwrap();
    for doc in DOCUMENTS {
        let path = root.join(doc);
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let dir = path.parent().unwrap_or(Path::new("."));
        for link in relative_links(&text) {
            let target = dir.join(&link);
            let resolved = target
                .canonicalize()
                .unwrap_or_else(|e| panic!("{doc}: link `{link}` does not resolve: {e}"));
            assert!(
                resolved.starts_with(&root),
                "{doc}: link `{link}` leaves the repository"
            );
        }
        assert!(
            !text.contains("../shared") && !text.contains("shared/spec"),
            "{doc} refers to material outside the repository"
        );
    }
}

#[test]
fn link_parsing() {
    assert_eq!(
        relative_links(
            "see [a](ARCHITECTURE.md#x), [b](https://e.example/y), [c](#local), [d](../up.md)"
        ),
        vec!["ARCHITECTURE.md".to_string(), "../up.md".to_string()]
    );
}
