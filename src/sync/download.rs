//! A document's file content, from a source's [`Download`] to the finished bulk operation, under the memory
//! budget ([`super::memory`]) and with one copy of the file at most:
//! - **pipeline mode** (`_attachment` for the ingest pipeline): each chunk is base64-encoded straight into the
//!   operation's buffer ([`AttachmentOp`]), which is the buffer the `_bulk` request later sends; the file itself
//!   is never held;
//! - **text mode** (extraction in the service): the bytes are written as they arrive to an unnamed temporary
//!   file ([`super::spool`]), which the extractor maps and reads only where it parses; the file is gone
//!   when the extractor returns, and the operation carries only the text.
//!
//! Before a download starts, the engine reserves what it will cost for the listed size ([`expected_bytes`]).
//! When the answer announces a larger size (listings lie), the reservation is given back and taken again at the
//! larger size before any byte is read; an unknown size counts as the cap. Reading stops at `max_bytes` whatever
//! was announced: the document is then indexed without content. A failed download costs the document its
//! content, never the document.

use futures::StreamExt;
use serde_json::{Map, Value};
use tokio::sync::Semaphore;

use super::memory::Reservation;
use super::queue::{QueueError, QueueSender};
use super::spool::Collector;
use crate::es::bulk::{AttachmentOp, BulkOp, EncodedOp};
use crate::source::{Attachment, Download};

/// Where a document's file content goes (spec §7): base64 `_attachment` for the ingest pipeline's attachment
/// processor, text extracted here into `body`, or nowhere (downloads are never run).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Extraction {
    Pipeline,
    Local,
    Off,
}

/// What one download needs besides the document.
pub(super) struct ContentSettings<'a> {
    pub extraction: Extraction,
    /// `service.max_file_download_size`: bytes read at most.
    pub max_bytes: u64,
    /// Service-side extractions running at once.
    pub extractions: &'a Semaphore,
}

/// Bytes a document with a file of `file_bytes` costs until it is indexed: in pipeline mode the operation with
/// the file in base64 (4/3 of it); in text mode, where the file waits on disk, what extraction may bring into
/// memory — the mapped pages the parser reads (the whole file at worst), as much again for its working memory
/// (the extraction bench measures 1–2× the file for PDF and Office files held in memory) and the text (at most
/// the extractor's text cap) — plus, in both, the document's other fields and the HTTP client's read buffer
/// while the body streams in. Text mode's figure is an upper bound: a PDF's image data, most of a scan, is never
/// read.
pub(super) fn expected_bytes(
    extraction: Extraction,
    id: &str,
    body: &Map<String, Value>,
    file_bytes: u64,
) -> usize {
    let content = match extraction {
        Extraction::Pipeline => AttachmentOp::estimate(id, body, file_bytes),
        Extraction::Local | Extraction::Off => {
            let file = usize::try_from(file_bytes).unwrap_or(usize::MAX);
            AttachmentOp::estimate(id, body, 0)
                .saturating_add(file.saturating_mul(2))
                .saturating_add(crate::extract::MAX_TEXT_BYTES)
        }
    };
    content.saturating_add(HTTP_READ_BUFFER)
}

/// What a download's connection holds besides the body read so far: hyper's HTTP/1 read buffer starts at 8 KiB
/// and grows, while a fast body streams in, to about 400 KiB (8 KiB + 100 × 4 KiB), where it stays until the
/// response ends. Ten concurrent downloads hold 4 MiB this way, so the budget counts it; the reservation shrinks
/// to the finished operation once the body is read.
const HTTP_READ_BUFFER: usize = 8 * 1024 + 100 * 4096;

/// The finished operation for a document with a download, the budget bytes it holds, and whether the download
/// went well. Fails only when the queue does (the sink stopped, or the budget stayed spent past
/// `queue_refresh_timeout`).
pub(super) async fn with_content(
    mut body: Map<String, Value>,
    id: String,
    download: Download,
    mut held: Reservation,
    tx: &QueueSender,
    settings: &ContentSettings<'_>,
) -> Result<(EncodedOp, Reservation, bool), QueueError> {
    body.remove("_attachment");
    let reduce_whitespace = body.get("_reduce_whitespace") == Some(&Value::Bool(true));
    // Only the pipeline's attachment processor reads it; either way it is not a field of the document.
    body.remove("_original_filename");
    let metadata_only = |body: Map<String, Value>, id: String| BulkOp::Index { id, body }.encode();
    let attachment = match download.fetch.await {
        Ok(Some(attachment)) => attachment,
        Ok(None) => return Ok((metadata_only(body, id), held, true)),
        Err(e) => {
            tracing::warn!(%id, "Download failed; indexing metadata only: {e}");
            return Ok((metadata_only(body, id), held, false));
        }
    };
    let announced = attachment.size;
    if announced.is_some_and(|size| size > settings.max_bytes) {
        tracing::warn!(%id, filename = %attachment.filename, size = announced, "Content too large; indexing metadata only");
        return Ok((metadata_only(body, id), held, true));
    }
    let need = expected_bytes(
        settings.extraction,
        &id,
        &body,
        announced.unwrap_or(settings.max_bytes),
    );
    if need > held.bytes() {
        // Wait holding nothing, so two growing downloads can never each hold what the other waits for.
        drop(held);
        held = tx.reserve(need).await?;
    }
    let result = match settings.extraction {
        Extraction::Pipeline => base64_op(&id, &body, attachment, settings.max_bytes).await,
        Extraction::Local | Extraction::Off => {
            text_op(&id, &mut body, attachment, reduce_whitespace, settings).await
        }
    };
    Ok(match result {
        Read::Done(op) => (op, held, true),
        Read::TooLarge(filename) => {
            tracing::warn!(%id, %filename, limit = settings.max_bytes, "Content too large; indexing metadata only");
            (metadata_only(body, id), held, true)
        }
        Read::Failed(reason) => {
            tracing::warn!(%id, "Download failed; indexing metadata only: {reason}");
            (metadata_only(body, id), held, false)
        }
    })
}

enum Read {
    Done(EncodedOp),
    /// More bytes arrived than the cap allows (the file's name).
    TooLarge(String),
    Failed(String),
}

async fn base64_op(
    id: &str,
    body: &Map<String, Value>,
    mut attachment: Attachment,
    max_bytes: u64,
) -> Read {
    let expected = attachment.size.unwrap_or(0);
    let mut op = AttachmentOp::new(id.to_string(), body, expected);
    while let Some(chunk) = attachment.body.next().await {
        match chunk {
            Ok(chunk) if op.file_bytes() + chunk.len() as u64 > max_bytes => {
                return Read::TooLarge(attachment.filename)
            }
            Ok(chunk) => op.push(&chunk),
            Err(e) => return Read::Failed(e.to_string()),
        }
    }
    tracing::debug!(%id, filename = %attachment.filename, size = op.file_bytes(), "Downloaded content");
    Read::Done(op.finish())
}

async fn text_op(
    id: &str,
    body: &mut Map<String, Value>,
    mut attachment: Attachment,
    reduce_whitespace: bool,
    settings: &ContentSettings<'_>,
) -> Read {
    let filename = std::mem::take(&mut attachment.filename);
    let cap = usize::try_from(settings.max_bytes).unwrap_or(usize::MAX);
    let mut collector = Collector::new(attachment.size.map_or(0, |s| s.min(cap as u64) as usize));
    while let Some(chunk) = attachment.body.next().await {
        match chunk {
            Ok(chunk) if collector.len() + chunk.len() as u64 > settings.max_bytes => {
                return Read::TooLarge(filename)
            }
            Ok(chunk) => {
                if let Err(e) = collector.push(&chunk).await {
                    return Read::Failed(format!("writing the download to disk failed: {e}"));
                }
            }
            Err(e) => return Read::Failed(e.to_string()),
        }
    }
    tracing::debug!(%id, %filename, size = collector.len(), "Downloaded content");
    let input = match collector.finish().await {
        Ok(input) => input,
        Err(e) => return Read::Failed(format!("writing the download to disk failed: {e}")),
    };
    let extraction = crate::extract::Settings {
        max_input_bytes: cap,
        reduce_whitespace,
        ..Default::default()
    };
    // Waits for an extraction slot while holding the download slot (so downloads do not run ahead of extraction
    // and pile files up); `hard_limit` frees both even if the parser is stuck. The spool file moves into the
    // extraction; it and its mapping are gone when the extraction returns.
    let hard_limit = extraction.hard_limit;
    let name = filename.clone();
    let extracted = crate::extract::run_bounded(settings.extractions, hard_limit, move || {
        input.with_bytes(|bytes| crate::extract::extract_in_place(&name, bytes, &extraction))?
    })
    .await;
    match extracted {
        Ok(extracted) => {
            for note in &extracted.notes {
                tracing::debug!(%id, %filename, "Extraction: {note}");
            }
            body.insert("body".into(), Value::String(extracted.text));
        }
        Err(skip) => tracing::info!(%id, %filename, "No text extracted: {skip}"),
    }
    Read::Done(
        BulkOp::Index {
            id: id.to_string(),
            body: std::mem::take(body),
        }
        .encode(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_download_reserves_the_connection_read_buffer() {
        let body = Map::new();
        for extraction in [Extraction::Pipeline, Extraction::Local] {
            // Even an empty file holds a connection's read buffer while it streams in.
            assert!(expected_bytes(extraction, "id", &body, 0) >= 400 * 1024);
        }
        // Pipeline: base64 of the file (4/3) plus the buffer.
        let file = 3_000_000;
        assert!(expected_bytes(Extraction::Pipeline, "id", &body, file) >= 4_000_000 + 400 * 1024);
        // Text: the file twice, the text cap, the buffer.
        assert!(
            expected_bytes(Extraction::Local, "id", &body, file)
                >= 6_000_000 + crate::extract::MAX_TEXT_BYTES + 400 * 1024
        );
    }
}
