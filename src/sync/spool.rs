//! A download's bytes on their way to the extractor (`crate::extract` itself does no I/O). In text mode a file is written, chunk by chunk as it arrives,
//! to an unnamed temporary file (`O_TMPFILE` in the system temporary directory, `TMPDIR`): it never has a name, so
//! nothing is left on disk even if the process is killed, and no other process can open it by path. The
//! extractor then reads it through a private mapping, so only the pages a parser touches are in memory — the
//! central directory and the XML parts of an Office file, the objects and content streams of a PDF, never its
//! image data — and the kernel may drop those again under pressure. Where no temporary file can be made (a
//! read-only file system), bytes are collected in memory as before, with one warning per process.

use std::sync::atomic::{AtomicBool, Ordering};

use tokio::io::AsyncWriteExt;

use crate::extract::Skip;

/// The bytes an extractor reads.
pub enum Input {
    Memory(Vec<u8>),
    /// A finished spool file (its whole length is the download).
    Spooled(std::fs::File),
}

impl Input {
    /// Runs `read` over the bytes, which it may change (a PDF's image lengths are rewritten in place): the vector
    /// itself, or a private copy-on-write mapping of the spool file, where a changed page is copied and nothing is
    /// written back.
    pub fn with_bytes<R>(self, read: impl FnOnce(&mut [u8]) -> R) -> Result<R, Skip> {
        match self {
            Input::Memory(mut bytes) => Ok(read(&mut bytes)),
            Input::Spooled(file) => {
                let len = file
                    .metadata()
                    .map_err(|e| Skip(format!("the downloaded file could not be read back: {e}")))?
                    .len();
                if len == 0 {
                    return Ok(read(&mut []));
                }
                // SAFETY: the file has no name and only this process holds it, so nothing changes it while it is
                // mapped; the mapping is private, so the parser's own writes stay in memory.
                let mut map = unsafe { memmap2::MmapOptions::new().map_copy(&file) }
                    .map_err(|e| Skip(format!("the downloaded file could not be mapped: {e}")))?;
                Ok(read(&mut map))
            }
        }
    }
}

/// Where a download's chunks go until the extractor takes them.
pub enum Collector {
    Disk { file: tokio::fs::File, len: u64 },
    Memory(Vec<u8>),
}

static MEMORY_FALLBACK_WARNED: AtomicBool = AtomicBool::new(false);

impl Collector {
    /// A spool file in the system temporary directory, or memory (with room for `size_hint` bytes) when none
    /// can be made there.
    pub fn new(size_hint: usize) -> Self {
        Self::in_dir(&std::env::temp_dir(), size_hint)
    }

    /// [`Collector::new`] with the spool file in `dir`.
    pub fn in_dir(dir: &std::path::Path, size_hint: usize) -> Self {
        match tempfile::tempfile_in(dir) {
            Ok(file) => Collector::Disk {
                file: tokio::fs::File::from_std(file),
                len: 0,
            },
            Err(e) => {
                if !MEMORY_FALLBACK_WARNED.swap(true, Ordering::Relaxed) {
                    tracing::warn!(
                        dir = %dir.display(),
                        "No temporary file could be made ({e}); downloads for text extraction are held in memory"
                    );
                }
                Collector::Memory(Vec::with_capacity(size_hint))
            }
        }
    }

    /// Bytes collected so far.
    pub fn len(&self) -> u64 {
        match self {
            Collector::Disk { len, .. } => *len,
            Collector::Memory(bytes) => bytes.len() as u64,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub async fn push(&mut self, chunk: &[u8]) -> std::io::Result<()> {
        match self {
            Collector::Disk { file, len } => {
                file.write_all(chunk).await?;
                *len += chunk.len() as u64;
                Ok(())
            }
            Collector::Memory(bytes) => {
                bytes.extend_from_slice(chunk);
                Ok(())
            }
        }
    }

    /// The collected bytes, every write finished (a write error surfaces here, not in the extractor).
    pub async fn finish(self) -> std::io::Result<Input> {
        match self {
            Collector::Disk { mut file, .. } => {
                file.flush().await?;
                Ok(Input::Spooled(file.into_std().await))
            }
            Collector::Memory(bytes) => Ok(Input::Memory(bytes)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_spooled_download_reads_back_whole_and_writable() {
        let mut collector = Collector::new(0);
        assert!(matches!(collector, Collector::Disk { .. }), "no spool file");
        let chunks: Vec<Vec<u8>> = (0..40u8).map(|i| vec![i; 70_000]).collect();
        for chunk in &chunks {
            collector.push(chunk).await.unwrap();
        }
        assert_eq!(collector.len(), 40 * 70_000);
        let input = collector.finish().await.unwrap();
        assert!(matches!(input, Input::Spooled(_)));
        let seen = input
            .with_bytes(|bytes| {
                let same = bytes == chunks.concat().as_slice();
                // Private: writing is allowed and changes nothing on disk.
                bytes[0] = 0xFF;
                same
            })
            .unwrap();
        assert!(seen);
    }

    #[tokio::test]
    async fn an_empty_spool_reads_as_no_bytes() {
        let input = Collector::new(0).finish().await.unwrap();
        assert_eq!(input.with_bytes(|bytes| bytes.len()).unwrap(), 0);
    }

    #[tokio::test]
    async fn without_a_usable_directory_bytes_are_kept_in_memory() {
        let mut collector = Collector::in_dir(std::path::Path::new("/nonexistent/spool"), 16);
        assert!(matches!(collector, Collector::Memory(_)));
        collector.push(b"abc").await.unwrap();
        collector.push(b"def").await.unwrap();
        let input = collector.finish().await.unwrap();
        assert_eq!(input.with_bytes(|b| b.to_vec()).unwrap(), b"abcdef");
    }

    #[test]
    fn memory_input_is_the_vector() {
        let input = Input::Memory(b"abc".to_vec());
        assert_eq!(input.with_bytes(|b| b.to_vec()).unwrap(), b"abc");
    }
}
