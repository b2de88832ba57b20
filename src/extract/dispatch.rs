//! Choosing an extractor and running it safely: the extension allow-list (the reference's, spec §7) confirmed by
//! magic bytes, the input size cap, the off-runtime run with a time budget and panic containment, and the text
//! clean-up every result gets (U+FFFD stripped; whitespace reduced when the pipeline flag asks for it).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

use tokio::sync::Semaphore;

use super::{html, legacy, odf, ooxml, pdf, rtf, text, Extracted, Limits, Skip};

/// The reference's extractable extensions (lower-case, with the dot).
pub const EXTRACTABLE: &[&str] = &[
    ".txt",
    ".py",
    ".rst",
    ".html",
    ".markdown",
    ".json",
    ".xml",
    ".csv",
    ".md",
    ".ppt",
    ".rtf",
    ".docx",
    ".odt",
    ".xls",
    ".xlsx",
    ".rb",
    ".paper",
    ".sh",
    ".pptx",
    ".pdf",
    ".doc",
    ".aspx",
    ".xlsb",
    ".xlsm",
    ".tsv",
    ".svg",
    ".msg",
    ".potx",
    ".vsd",
    ".vsdx",
    ".vsdm",
];

/// Which extractor reads a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Pdf,
    Docx,
    Pptx,
    Xlsx,
    Odt,
    Html,
    Text,
    Rtf,
    Legacy,
}

/// Extractions running at once per engine (the service has one), whatever the number of syncs and download
/// slots: each holds its file, decompressed parts and text, so this is what bounds extraction memory.
pub const MAX_CONCURRENT_EXTRACTIONS: usize = 2;
/// How long past its own time budget an extraction may run before the caller stops waiting for it.
pub const HARD_LIMIT_GRACE: Duration = Duration::from_secs(15);

/// Settings of service-side extraction.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Larger files are not extracted (the caller should not even download them).
    pub max_input_bytes: usize,
    pub max_text_bytes: usize,
    pub max_decompressed_bytes: u64,
    /// The extractors' own deadline (`Limits::deadline`), checked inside their loops: past it they stop and keep
    /// what they have.
    pub time_budget: Duration,
    /// The caller's wall-clock limit for one extraction ([`run_bounded`]): a parser stuck in a library call never
    /// reaches a deadline check, so the caller gives up on it and frees its slots.
    pub hard_limit: Duration,
    /// Collapse whitespace runs to one space and trim (the `_reduce_whitespace` pipeline flag).
    pub reduce_whitespace: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            max_input_bytes: 10 * 1024 * 1024,
            max_text_bytes: 1024 * 1024,
            max_decompressed_bytes: 200 * 1024 * 1024,
            time_budget: Duration::from_secs(30),
            hard_limit: Duration::from_secs(30) + HARD_LIMIT_GRACE,
            reduce_whitespace: true,
        }
    }
}

/// The lower-cased extension with its dot, if any.
pub fn extension(filename: &str) -> Option<String> {
    let name = filename.rsplit(['/', '\\']).next().unwrap_or(filename);
    let dot = name.rfind('.')?;
    let ext = &name[dot..];
    (ext.len() > 1).then(|| ext.to_ascii_lowercase())
}

/// The family an allow-listed extension belongs to (`.paper`, `.xlsb`, `.potx`, `.vsdx`, `.vsdm` have none yet).
pub fn family(filename: &str) -> Result<Family, Skip> {
    let ext = extension(filename).ok_or_else(|| Skip("no file extension".into()))?;
    if !EXTRACTABLE.contains(&ext.as_str()) {
        return Err(Skip(format!("`{ext}` files are not extracted")));
    }
    let family = match ext.as_str() {
        ".pdf" => Family::Pdf,
        ".docx" => Family::Docx,
        ".pptx" => Family::Pptx,
        ".xlsx" | ".xlsm" => Family::Xlsx,
        ".odt" => Family::Odt,
        ".html" | ".aspx" | ".svg" | ".xml" => Family::Html,
        ".txt" | ".md" | ".markdown" | ".rst" | ".csv" | ".tsv" | ".json" | ".py" | ".rb"
        | ".sh" => Family::Text,
        ".rtf" => Family::Rtf,
        ".doc" | ".xls" | ".ppt" | ".msg" | ".vsd" => Family::Legacy,
        other => {
            return Err(Skip(format!(
                "`{other}` is on the allow-list but not supported by this build"
            )))
        }
    };
    Ok(family)
}

/// Whether the bytes look like the family the extension claims.
fn magic_matches(family: Family, bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(1024)];
    match family {
        Family::Pdf => head.windows(5).any(|w| w == b"%PDF-"),
        Family::Docx | Family::Pptx | Family::Xlsx | Family::Odt => {
            bytes.starts_with(b"PK\x03\x04")
        }
        Family::Legacy => bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]),
        Family::Rtf => {
            let trimmed = head
                .iter()
                .position(|b| !b.is_ascii_whitespace())
                .map_or(head, |i| &head[i..]);
            trimmed.starts_with(b"{\\rtf")
        }
        // Markup and text are recognised by their content; their extractors reject binary input themselves.
        Family::Html | Family::Text => true,
    }
}

/// Extracts the text of `filename`'s `bytes`, synchronously (call through [`run_bounded`] from async code).
pub fn extract(filename: &str, bytes: &[u8], settings: &Settings) -> Result<Extracted, Skip> {
    checked(filename, Buffer::Shared(bytes), settings)
}

/// [`extract`] over a buffer the extractor may change: a PDF's image data is then neither copied nor read
/// ([`pdf::extract_in_place`]). What a sync runs, over a download's spool file.
pub fn extract_in_place(
    filename: &str,
    bytes: &mut [u8],
    settings: &Settings,
) -> Result<Extracted, Skip> {
    checked(filename, Buffer::Owned(bytes), settings)
}

enum Buffer<'a> {
    Shared(&'a [u8]),
    Owned(&'a mut [u8]),
}

impl Buffer<'_> {
    fn bytes(&self) -> &[u8] {
        match self {
            Buffer::Shared(bytes) => bytes,
            Buffer::Owned(bytes) => bytes,
        }
    }
}

fn checked(filename: &str, buffer: Buffer<'_>, settings: &Settings) -> Result<Extracted, Skip> {
    let bytes = buffer.bytes();
    if bytes.len() > settings.max_input_bytes {
        return Err(Skip(format!(
            "file is {} bytes, over the {}-byte extraction limit",
            bytes.len(),
            settings.max_input_bytes
        )));
    }
    if bytes.is_empty() {
        return Err(Skip("empty file".into()));
    }
    let family = family(filename)?;
    if !magic_matches(family, bytes) {
        return Err(Skip(format!(
            "content does not match its `{}` extension",
            extension(filename).unwrap_or_default()
        )));
    }
    let limits = Limits {
        max_text_bytes: settings.max_text_bytes,
        max_decompressed_bytes: settings.max_decompressed_bytes,
        max_depth: 64,
        max_operations: pdf::MAX_OPERATIONS_TOTAL,
        deadline: std::time::Instant::now() + settings.time_budget,
    };
    let run = || match buffer {
        Buffer::Owned(bytes) if matches!(family, Family::Pdf) => {
            pdf::extract_in_place(bytes, &limits)
        }
        buffer => by_family(family, buffer.bytes(), &limits),
    };
    // A bug in an extractor must cost one file, not the sync.
    let mut extracted = catch_unwind(AssertUnwindSafe(run))
        .map_err(|_| Skip("the extractor failed on this file (internal error)".into()))??;
    extracted.text = clean(
        std::mem::take(&mut extracted.text),
        settings.reduce_whitespace,
    );
    Ok(extracted)
}

fn by_family(family: Family, bytes: &[u8], limits: &Limits) -> Result<Extracted, Skip> {
    match family {
        Family::Pdf => pdf::extract(bytes, limits),
        Family::Docx => ooxml::extract_docx(bytes, limits),
        Family::Pptx => ooxml::extract_pptx(bytes, limits),
        Family::Xlsx => ooxml::extract_xlsx(bytes, limits),
        Family::Odt => odf::extract_odt(bytes, limits),
        Family::Html => html::extract(bytes, limits),
        Family::Text => text::extract(bytes, limits),
        Family::Rtf => rtf::extract(bytes, limits),
        Family::Legacy => legacy::extract(bytes, limits),
    }
}

/// Runs `work` on the blocking pool once one of `slots` is free, and stops waiting for it after `hard_limit`.
///
/// A blocking thread cannot be killed: on timeout the thread is abandoned and runs on until the extractor's own
/// deadline check (`Limits::deadline`, inside every extractor loop) stops it, or its library call returns. The
/// slot is released on timeout all the same, so a stuck parser costs one file, never the download slot or the
/// sync; the price is that an abandoned thread and its memory live on beside the next extractions for a while.
pub async fn run_bounded<F>(
    slots: &Semaphore,
    hard_limit: Duration,
    work: F,
) -> Result<Extracted, Skip>
where
    F: FnOnce() -> Result<Extracted, Skip> + Send + 'static,
{
    let _slot = slots
        .acquire()
        .await
        .map_err(|_| Skip("extraction is shutting down".into()))?;
    let task = tokio::task::spawn_blocking(work);
    match tokio::time::timeout(hard_limit, task).await {
        Ok(joined) => joined.map_err(|e| Skip(format!("the extraction task failed: {e}")))?,
        Err(_) => Err(Skip(format!(
            "extraction did not finish within its hard limit of {:.1} s (thread abandoned)",
            hard_limit.as_secs_f64()
        ))),
    }
}

/// Strips U+FFFD and, when asked, collapses whitespace runs (Unicode `White_Space`, as `str::split_whitespace`)
/// to one space and trims (the ingest pipeline's `_reduce_whitespace` behaviour). Works in place: both steps only
/// shrink the text, so the write position never passes the read position and no second copy of a large text
/// exists.
pub fn clean(text: String, reduce_whitespace: bool) -> String {
    if !text.contains('\u{FFFD}') && !reduce_whitespace {
        return text;
    }
    let mut bytes = text.into_bytes();
    let (mut read, mut write) = (0, 0);
    let mut space_owed = false;
    while read < bytes.len() {
        let first = bytes[read];
        // ASCII needs no decoding (its Unicode White_Space is \t..\r and the space).
        let (width, ch) = if first < 0x80 {
            (1, char::from(first))
        } else {
            let width = utf8_width(first);
            let ch = std::str::from_utf8(&bytes[read..read + width])
                .ok()
                .and_then(|s| s.chars().next())
                .unwrap_or('\u{FFFD}');
            (width, ch)
        };
        if reduce_whitespace && ch.is_whitespace() {
            space_owed = true;
        } else if ch != '\u{FFFD}' {
            if space_owed && write > 0 {
                bytes[write] = b' ';
                write += 1;
            }
            space_owed = false;
            if width == 1 {
                bytes[write] = first;
            } else {
                bytes.copy_within(read..read + width, write);
            }
            write += width;
        }
        read += width;
    }
    bytes.truncate(write);
    // Only whole characters were moved, so the bytes are still UTF-8.
    String::from_utf8(bytes).unwrap_or_default()
}

/// Byte length of the UTF-8 sequence a leading byte starts (input is valid UTF-8, so continuation bytes are never
/// leading).
fn utf8_width(first: u8) -> usize {
    match first {
        0xF0.. => 4,
        0xE0.. => 3,
        0xC0.. => 2,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_and_families() {
        assert_eq!(extension("Report.PDF").as_deref(), Some(".pdf"));
        assert_eq!(extension("dir.v2/notes"), None);
        assert_eq!(extension("archive."), None);
        assert_eq!(family("a.xlsm"), Ok(Family::Xlsx));
        assert_eq!(family("a.ASPX"), Ok(Family::Html));
        assert!(family("a.exe").unwrap_err().0.contains("not extracted"));
        assert!(family("a.xlsb").unwrap_err().0.contains("not supported"));
        assert!(family("README").is_err());
    }

    #[test]
    fn caps_and_mismatches_are_skips() {
        let s = Settings {
            max_input_bytes: 10,
            ..Settings::default()
        };
        assert!(extract("a.txt", &[b'a'; 11], &s)
            .unwrap_err()
            .0
            .contains("over the 10-byte"));
        assert_eq!(extract("a.txt", b"", &s), Err(Skip("empty file".into())));
        let s = Settings::default();
        assert!(extract("a.pdf", b"hello, not a pdf", &s)
            .unwrap_err()
            .0
            .contains("does not match"));
        assert!(extract("a.docx", b"%PDF-1.7", &s)
            .unwrap_err()
            .0
            .contains("does not match"));
        assert!(extract("a.doc", b"PK\x03\x04", &s)
            .unwrap_err()
            .0
            .contains("does not match"));
    }

    #[test]
    fn ten_mib_plus_one_byte_is_refused_by_default() {
        let bytes = vec![b'a'; 10 * 1024 * 1024 + 1];
        let skip = extract("big.txt", &bytes, &Settings::default()).unwrap_err();
        assert!(
            skip.0.contains("10485761 bytes, over the 10485760-byte"),
            "{skip}"
        );
        assert!(extract("ok.txt", &bytes[1..], &Settings::default()).is_ok());
    }

    #[tokio::test]
    async fn a_stuck_extraction_times_out_and_frees_its_slot() {
        let slots = Semaphore::new(1);
        let (release, stuck) = std::sync::mpsc::channel::<()>();
        // Blocks until the test lets it go: a parser stuck in a library call that never checks its deadline.
        let skip = run_bounded(&slots, Duration::from_millis(50), move || {
            let _ = stuck.recv();
            Ok(Extracted::default())
        })
        .await
        .unwrap_err();
        assert!(skip.0.contains("hard limit of 0.1 s"), "{skip}");
        // The one slot is free again although the stuck thread still runs.
        assert_eq!(slots.available_permits(), 1);
        let done = run_bounded(&slots, Duration::from_secs(600), || {
            Ok(Extracted {
                text: "next file".into(),
                notes: Vec::new(),
            })
        })
        .await
        .unwrap();
        assert_eq!(done.text, "next file");
        let _ = release.send(());
    }

    #[tokio::test]
    async fn extractions_wait_for_a_slot() {
        let slots = Semaphore::new(1);
        let held = slots.acquire().await.unwrap();
        let waiting = run_bounded(
            &slots,
            Duration::from_secs(600),
            || Ok(Extracted::default()),
        );
        tokio::pin!(waiting);
        // Nothing runs while the only slot is taken.
        assert!(futures::poll!(waiting.as_mut()).is_pending());
        drop(held);
        assert!(waiting.await.is_ok());
    }

    #[test]
    fn cleaning() {
        let c = |s: &str, reduce| clean(s.to_string(), reduce);
        assert_eq!(c("  a \n\t b\u{FFFD}c  ", true), "a bc");
        assert_eq!(c("a \u{FFFD}\n b", false), "a \n b");
        assert_eq!(c("\u{FFFD}", true), "");
        assert_eq!(c("", true), "");
        // Multi-byte text and Unicode spaces (NBSP, ideographic space, line separator) survive the in-place moves.
        assert_eq!(
            c("\u{3000}日本\u{a0}\u{a0}語 é\u{2028}😀 ", true),
            "日本 語 é 😀"
        );
        assert_eq!(c("日\u{FFFD}本\u{FFFD}", false), "日本");
        // Same result as the obvious two-pass definition on a mixed sample.
        let sample = "  x\u{FFFD} \u{2003}y\t\u{FFFD}\nz\u{85}ü  ";
        let expected = sample
            .replace('\u{FFFD}', "")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        assert_eq!(c(sample, true), expected);
    }
}
