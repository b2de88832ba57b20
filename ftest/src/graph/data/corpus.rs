//! The real files drive items serve: every regular file of `--files-dir` (by default the repository's
//! `tests/corpus`), read once at start and served by some of the generated drive items. Small enough to hold
//! in memory; large files are generated on the fly instead (see `Content::Generated` and `synth`).

use std::path::Path;
use std::sync::Arc;

#[derive(Debug, Clone)]
pub struct CorpusFile {
    pub file_name: String,
    /// Lower-case extension without the dot, e.g. `docx`.
    pub extension: String,
    pub mime: String,
    pub bytes: Arc<[u8]>,
}

#[derive(Debug, Clone, Default)]
pub struct Corpus {
    pub files: Vec<CorpusFile>,
}

impl Corpus {
    /// Reads every non-hidden regular file in `dir`, sorted by name (so the data set is deterministic).
    pub fn load(dir: &Path) -> std::io::Result<Corpus> {
        let mut entries: Vec<_> = std::fs::read_dir(dir)?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.is_file())
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| !n.starts_with('.'))
            })
            .collect();
        entries.sort();
        let mut files = Vec::new();
        for path in entries {
            let bytes = std::fs::read(&path)?;
            let file_name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_string();
            let extension = path
                .extension()
                .and_then(|e| e.to_str())
                .unwrap_or_default()
                .to_lowercase();
            files.push(CorpusFile {
                mime: mime_for(&extension).to_string(),
                file_name,
                extension,
                bytes: bytes.into(),
            });
        }
        if files.is_empty() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("no files in {}", dir.display()),
            ));
        }
        Ok(Corpus { files })
    }

    /// A built-in one-file corpus, for unit tests that do not read the disk.
    pub fn builtin() -> Corpus {
        Corpus {
            files: vec![CorpusFile {
                file_name: "notes.txt".into(),
                extension: "txt".into(),
                mime: "text/plain".into(),
                bytes: Arc::from(&b"Fixture notes: quarterly planning, budget review.\n"[..]),
            }],
        }
    }
}

/// The MIME type OneDrive reports for an extension.
pub fn mime_for(extension: &str) -> &'static str {
    match extension {
        "pdf" => "application/pdf",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "pptx" => "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "odt" => "application/vnd.oasis.opendocument.text",
        "txt" | "py" => "text/plain",
        "csv" => "text/csv",
        "html" | "htm" => "text/html",
        "json" => "application/json",
        "mp4" => "video/mp4",
        "png" => "image/png",
        _ => "application/octet-stream",
    }
}
