//! Mutation fuzzing in the test suite: seed files of every family, mutated deterministically (bit flips, byte
//! overwrites, truncations, splices, duplications), fed to the extractors directly — so a panic is a test failure
//! rather than being contained by `dispatch` — with tight limits. The budget is a fixed number of cases per seed.

use std::io::Write;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

use lopdf::{dictionary, Document, Object, Stream};

use super::{html, legacy, odf, ooxml, pdf, rtf, text, Limits};

const CASES_PER_SEED: usize = 1000;

fn limits() -> Limits {
    Limits {
        max_text_bytes: 64 * 1024,
        max_decompressed_bytes: 4 * 1024 * 1024,
        max_depth: 32,
        ..Limits::with_budget(Duration::from_secs(2))
    }
}

fn seed_pdf() -> Vec<u8> {
    let mut doc = Document::with_version("1.5");
    let font = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica", "Encoding" => "WinAnsiEncoding",
    });
    let pages_id = doc.new_object_id();
    let content = doc.add_object(Stream::new(
        dictionary! {},
        b"BT /F1 12 Tf 72 700 Td (Hello fuzz) Tj T* [(A)-200(B)] TJ ET".to_vec(),
    ));
    let page = doc.add_object(dictionary! {
        "Type" => "Page", "Parent" => pages_id, "Contents" => content,
        "Resources" => dictionary! { "Font" => dictionary! { "F1" => font } },
    });
    doc.objects.insert(
        pages_id,
        Object::Dictionary(
            dictionary! { "Type" => "Pages", "Kids" => vec![page.into()], "Count" => 1 },
        ),
    );
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog);
    let mut bytes = Vec::new();
    if doc.save_to(&mut bytes).is_err() {
        return Vec::new();
    }
    bytes
}

fn seed_zip(parts: &[(&str, &str)]) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut out);
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, body) in parts {
        if zip.start_file(*name, options).is_err() || zip.write_all(body.as_bytes()).is_err() {
            return Vec::new();
        }
    }
    let _ = zip.finish();
    out.into_inner()
}

/// xorshift64*: deterministic, so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(seed: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut b = seed.to_vec();
    for _ in 0..1 + rng.below(4) {
        if b.is_empty() {
            b.push(rng.next() as u8);
        }
        let at = rng.below(b.len());
        match rng.below(5) {
            0 => b[at] ^= 1 << rng.below(8),
            1 => b[at] = rng.next() as u8,
            2 => b.truncate(at),
            3 => {
                let from = rng.below(b.len());
                let len = rng.below(64).min(b.len() - from);
                let chunk: Vec<u8> = b[from..from + len].to_vec();
                b.splice(at..at, chunk);
            }
            _ => {
                let byte = *b"<>{}()[]\\/%&#;\"\x00".get(rng.below(16)).unwrap_or(&b'x');
                b.insert(at, byte);
            }
        }
    }
    b
}

type Extractor = fn(&[u8], &Limits) -> Result<super::Extracted, super::Skip>;

#[test]
fn mutated_files_never_panic() {
    let docx_xml = r#"<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>Hi</w:t></w:r></w:p><w:tbl><w:tr><w:tc><w:p><w:r><w:t>cell</w:t></w:r></w:p></w:tc></w:tr></w:tbl></w:body></w:document>"#;
    let odt_xml = r#"<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:text><text:p>A<text:s text:c="3"/>B<text:tab/>C</text:p></office:text></office:body></office:document-content>"#;
    let mut ole = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    ole.extend("Quarterly report".encode_utf16().flat_map(u16::to_le_bytes));
    let seeds: Vec<(&str, Extractor, Vec<u8>)> = vec![
        ("pdf", pdf::extract, seed_pdf()),
        ("docx", ooxml::extract_docx, seed_zip(&[("word/document.xml", docx_xml)])),
        ("pptx", ooxml::extract_pptx, seed_zip(&[("ppt/slides/slide1.xml", r#"<p:sld xmlns:p="p" xmlns:a="a"><a:p><a:r><a:t>Slide</a:t></a:r></a:p></p:sld>"#)])),
        ("xlsx", ooxml::extract_xlsx, seed_zip(&[("xl/sharedStrings.xml", r#"<sst><si><t>s</t></si></sst>"#), ("xl/worksheets/sheet1.xml", r#"<worksheet><sheetData><row><c t="s"><v>0</v></c><c><v>4</v></c></row></sheetData></worksheet>"#)])),
        ("odt", odf::extract_odt, seed_zip(&[("content.xml", odt_xml)])),
        ("html", html::extract, b"<html><head><title>T</title><script>x<y</script></head><body><p>a &amp; b<br>c</p><table><tr><td>1</td><td>2</td></tr></table></body></html>".to_vec()),
        ("text", text::extract, "caf\u{e9} na\u{ef}ve \u{20ac}\n".as_bytes().to_vec()),
        ("rtf", rtf::extract, br"{\rtf1\ansi{\fonttbl{\f0 Arial;}}\f0 Hello \b bold\b0 caf\'e9 \u8364? end\par}".to_vec()),
        ("legacy", legacy::extract, ole),
    ];
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for (name, extractor, seed) in seeds {
        assert!(!seed.is_empty(), "{name} seed");
        for case in 0..CASES_PER_SEED {
            let input = mutate(&seed, &mut rng);
            let outcome = catch_unwind(AssertUnwindSafe(|| extractor(&input, &limits())));
            assert!(
                outcome.is_ok(),
                "{name} extractor panicked on mutation case {case}: {input:?}"
            );
        }
    }
}
