//! Bytes → text for documents whose content the service extracts itself. One file per format family (`pdf`,
//! `ooxml` (docx, pptx, xlsx/xlsm), `odf` (odt), `html` (html, aspx, svg, xml), `text`, `rtf`, `legacy` (OLE2,
//! best effort)); `dispatch` picks one by extension confirmed by magic bytes and runs it off the async runtime
//! with caps, a time budget and panic containment. This module holds what they share: the limits every extractor
//! honours and the result and skip types.

pub mod hostile;
pub mod html;
pub mod legacy;
pub mod odf;
pub mod ooxml;
pub mod pdf;
pub mod rtf;
pub mod text;

mod dispatch;
#[cfg(test)]
mod fuzz_tests;

use std::time::Instant;

pub use dispatch::{
    clean, extension, extract, extract_in_place, family, run_bounded, Family, Settings,
    EXTRACTABLE, HARD_LIMIT_GRACE, MAX_CONCURRENT_EXTRACTIONS,
};

/// Text an extraction keeps at most, by default (bytes).
pub const MAX_TEXT_BYTES: usize = 1024 * 1024;

/// Bounds every extractor honours.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Text beyond this many bytes is cut (at a char boundary) and a note says so.
    pub max_text_bytes: usize,
    /// Total bytes an extractor may decompress (zip members, PDF streams): zip bombs stop here.
    pub max_decompressed_bytes: u64,
    /// Nesting/recursion depth cap (PDF object graphs, XML nesting).
    pub max_depth: usize,
    /// Work cap: PDF content operations interpreted per document (`pdf::MAX_OPERATIONS_TOTAL` by default).
    pub max_operations: usize,
    /// Work stops when this instant passes; what was extracted so far is kept, with a note.
    pub deadline: Instant,
}

impl Limits {
    pub fn with_budget(budget: std::time::Duration) -> Self {
        Limits {
            max_text_bytes: MAX_TEXT_BYTES,
            max_decompressed_bytes: 200 * 1024 * 1024,
            max_depth: 64,
            max_operations: pdf::MAX_OPERATIONS_TOTAL,
            deadline: Instant::now() + budget,
        }
    }

    pub fn expired(&self) -> bool {
        Instant::now() >= self.deadline
    }
}

/// What an extractor produced.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Extracted {
    pub text: String,
    /// Things worth telling a human (cut at the text cap, time budget ran out, 3 images skipped, ...).
    pub notes: Vec<String>,
}

/// Why a file gave no text (unsupported, encrypted, malformed, over a cap). Shown to humans and logged.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct Skip(pub String);
