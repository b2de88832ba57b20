//! `make bench-extract`: service-side text extraction on a generated corpus — a text-heavy PDF (lopdf writer,
//! compressed content streams), a docx, an xlsx, an HTML page and a plain-text file. Prints MB/s and ms per file
//! per format on one core (the extractors are single-threaded), the peak RSS while extracting a ~10 MiB file,
//! and the peak RSS while extracting each hostile file of `extract::hostile` (target: ≤ 64 MiB above the
//! baseline), then writes BENCHMARKS.md's extraction section.

mod support;

use std::io::Write;
use std::time::Instant;

use elastic_ingest::extract::{self, hostile, Settings};
use lopdf::{dictionary, Document, Object, Stream};

const SENTENCE: &str = "The quarterly planning meeting covered roadmap priorities, hiring, and the migration schedule. ";

/// A PDF of `pages` pages, each ~45 lines of Helvetica text, with compressed content streams.
fn pdf(pages: usize, compress: bool) -> Vec<u8> {
    let mut doc = Document::with_version("1.5");
    let font = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica", "Encoding" => "WinAnsiEncoding",
    });
    let pages_id = doc.new_object_id();
    let mut kids = Vec::new();
    for p in 0..pages {
        let mut content = String::from("BT /F1 10 Tf 12 TL 50 750 Td\n");
        for line in 0..45 {
            content.push_str(&format!(
                "(Page {p} line {line}: {}) Tj T*\n",
                SENTENCE.trim_end()
            ));
        }
        content.push_str("ET");
        let content_id = doc.add_object(Stream::new(dictionary! {}, content.into_bytes()));
        let page = dictionary! {
            "Type" => "Page", "Parent" => pages_id, "Contents" => content_id,
            "Resources" => dictionary! { "Font" => dictionary! { "F1" => font } },
            "MediaBox" => vec![0.into(), 0.into(), 612.into(), 792.into()],
        };
        kids.push(Object::Reference(doc.add_object(page)));
    }
    let count = kids.len() as i64;
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => kids, "Count" => count }),
    );
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog);
    if compress {
        doc.compress();
    }
    let mut bytes = Vec::new();
    doc.save_to(&mut bytes).expect("write pdf");
    bytes
}

fn zip_of(parts: &[(&str, String)]) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut out);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, body) in parts {
        zip.start_file(*name, options).expect("zip entry");
        zip.write_all(body.as_bytes()).expect("zip write");
    }
    zip.finish().expect("zip finish");
    out.into_inner()
}

const W: &str = "http://schemas.openxmlformats.org/wordprocessingml/2006/main";

fn docx(paragraphs: usize) -> Vec<u8> {
    let mut body = String::new();
    for i in 0..paragraphs {
        body.push_str(&format!(
            "<w:p><w:r><w:t>Paragraph {i}. {SENTENCE}{SENTENCE}</w:t></w:r></w:p>"
        ));
    }
    let document = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{W}"><w:body>{body}</w:body></w:document>"#
    );
    zip_of(&[
        ("[Content_Types].xml", r#"<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>"#.into()),
        ("word/document.xml", document),
    ])
}

fn xlsx(rows: usize) -> Vec<u8> {
    let ns = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
    let rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
    let mut strings = String::new();
    let mut sheet = String::new();
    for r in 0..rows {
        strings.push_str(&format!("<si><t>Item {r} {}</t></si>", SENTENCE.trim_end()));
        sheet.push_str(&format!(
            r#"<row r="{0}"><c r="A{0}" t="s"><v>{1}</v></c><c r="B{0}"><v>{2}</v></c></row>"#,
            r + 1,
            r,
            r * 7
        ));
    }
    zip_of(&[
        ("xl/workbook.xml", format!(r#"<workbook xmlns="{ns}" xmlns:r="{rel}"><sheets><sheet name="Data" sheetId="1" r:id="rId1"/></sheets></workbook>"#)),
        ("xl/_rels/workbook.xml.rels", r#"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#.into()),
        ("xl/sharedStrings.xml", format!(r#"<sst xmlns="{ns}">{strings}</sst>"#)),
        ("xl/worksheets/sheet1.xml", format!(r#"<worksheet xmlns="{ns}"><sheetData>{sheet}</sheetData></worksheet>"#)),
    ])
}

fn html(paragraphs: usize) -> Vec<u8> {
    let mut s =
        String::from("<html><head><title>Notes</title><style>p{color:red}</style></head><body>");
    for i in 0..paragraphs {
        s.push_str(&format!(
            "<div><p>Message {i}: <b>{SENTENCE}</b> &amp; more&nbsp;text.</p></div>"
        ));
    }
    s.push_str("<script>var x = 1;</script></body></html>");
    s.into_bytes()
}

fn text(bytes: usize) -> Vec<u8> {
    SENTENCE.repeat(bytes / SENTENCE.len() + 1).into_bytes()
}

struct Row {
    format: &'static str,
    size: usize,
    ms: f64,
    mb_s: f64,
    text_mb_s: f64,
}

fn measure(format: &'static str, name: &str, bytes: &[u8], rounds: usize) -> Row {
    let settings = Settings {
        max_text_bytes: 64 * 1024 * 1024,
        ..Settings::default()
    };
    let mut text_bytes = 0;
    let started = Instant::now();
    for _ in 0..rounds {
        let out =
            extract::extract(name, bytes, &settings).unwrap_or_else(|e| panic!("{format}: {e}"));
        text_bytes = out.text.len();
    }
    let secs = started.elapsed().as_secs_f64() / rounds as f64;
    Row {
        format,
        size: bytes.len(),
        ms: secs * 1000.0,
        mb_s: bytes.len() as f64 / 1_048_576.0 / secs,
        text_mb_s: text_bytes as f64 / 1_048_576.0 / secs,
    }
}

const CHILD_ENV: &str = "BENCH_EXTRACT_BIG";
/// The file name the child extracts as (its extension picks the extractor).
const CHILD_NAME_ENV: &str = "BENCH_EXTRACT_NAME";

/// Child mode: extract one file (`path:text cap`, 0 = default settings) and print ms, text bytes and the peak RSS
/// growth in KiB from the moment the file was read, then on a second line the extraction's notes or skip reason.
fn child(spec: &str) {
    let (path, cap) = spec.rsplit_once(':').expect("path:cap");
    let name = std::env::var(CHILD_NAME_ENV).unwrap_or_else(|_| "big.pdf".into());
    let bytes = std::fs::read(path).expect("read big pdf");
    let mut settings = Settings::default();
    if let Ok(cap @ 1..) = cap.parse::<usize>() {
        settings.max_text_bytes = cap;
    }
    let base = support::rss_kib();
    assert!(
        support::reset_peak_rss(),
        "kernel refused to reset the RSS watermark"
    );
    let started = Instant::now();
    let result = extract::extract(&name, &bytes, &settings);
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    let growth = support::peak_rss_kib().saturating_sub(base);
    let (text_len, outcome) = match &result {
        Ok(out) => (out.text.len(), out.notes.join("; ")),
        Err(skip) => (0, format!("skipped: {skip}")),
    };
    println!("{ms:.1} {text_len} {growth}\n{outcome}");
}

/// Runs the child on `bytes` extracted as `name` with a text cap (0 = default settings): ms, text bytes, peak RSS
/// growth in MiB, and the notes.
fn in_child(name: &str, bytes: &[u8], cap: usize) -> (f64, f64, f64, String) {
    let path = std::env::temp_dir().join(format!("bench-extract-{}-{name}", std::process::id()));
    std::fs::write(&path, bytes).expect("write bench file");
    let output = std::process::Command::new(std::env::current_exe().expect("bench path"))
        .env(CHILD_ENV, format!("{}:{cap}", path.display()))
        .env(CHILD_NAME_ENV, name)
        .output()
        .expect("run child");
    let _ = std::fs::remove_file(&path);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let mut lines = stdout.lines();
    let fields: Vec<f64> = lines
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|f| f.parse().ok())
        .collect();
    let [ms, text_len, growth_kib] = fields[..] else {
        panic!(
            "child failed: {stdout} {}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    let notes = lines.next().unwrap_or_default().to_string();
    (ms, text_len, growth_kib / 1024.0, notes)
}

fn main() {
    if let Ok(spec) = std::env::var(CHILD_ENV) {
        return child(&spec);
    }
    let corpus: Vec<(&'static str, &str, Vec<u8>)> = vec![
        ("PDF (compressed)", "report.pdf", pdf(200, true)),
        ("PDF (uncompressed)", "plain.pdf", pdf(200, false)),
        ("docx", "notes.docx", docx(5_000)),
        ("xlsx", "data.xlsx", xlsx(20_000)),
        ("HTML", "page.html", html(10_000)),
        ("text", "notes.txt", text(4 * 1024 * 1024)),
    ];
    let mut rows = Vec::new();
    for (format, name, bytes) in &corpus {
        let row = measure(format, name, bytes, 3);
        println!(
            "extract {:<18} {:>9} bytes: {:>8.1} ms/file, {:>7.1} MB/s in, {:>7.1} MB/s of text",
            row.format, row.size, row.ms, row.mb_s, row.text_mb_s
        );
        rows.push(row);
    }
    // Peak RSS growth while extracting a ~10 MiB PDF (the largest file the service downloads), measured in a
    // fresh child process that reads the file and then resets its watermark, so the growth is what extraction
    // itself costs. Once with the service's default settings (text capped at 1 MiB), once with the cap lifted so
    // every page is interpreted and all its text kept.
    drop(corpus);
    let big = pdf(1_500, false);
    let mut big_rows = Vec::new();
    for (label, cap) in [
        ("default settings (1 MiB text cap)", 0usize),
        ("text cap lifted", 64 << 20),
    ] {
        let (ms, text_len, growth_mib, _) = in_child("big.pdf", &big, cap);
        println!(
            "extract {}-byte PDF, {label}: {ms:.0} ms ({:.1} MB/s), {text_len} bytes of text, peak RSS growth {growth_mib:.1} MiB ({:.1} × the file)",
            big.len(),
            big.len() as f64 / 1_048_576.0 / (ms / 1000.0),
            growth_mib * 1_048_576.0 / big.len() as f64,
        );
        big_rows.push((label, ms, text_len, growth_mib));
    }
    // Hostile files (small on disk, costly to parse without the work caps), default settings, each in a fresh
    // process like the big PDF.
    let hostile_files: Vec<(&str, &str, Vec<u8>)> = vec![
        (
            "PDF, 8 MiB content stream of `q` operators",
            "operators.pdf",
            hostile::operator_bomb_pdf(8 << 20).expect("operator bomb"),
        ),
        (
            "PDF, one operation with 4 M operands",
            "operands.pdf",
            hostile::operand_bomb_pdf(8 << 20).expect("operand bomb"),
        ),
        (
            "PDF, 200 MiB content stream",
            "stream.pdf",
            hostile::stream_bomb_pdf(200 << 20).expect("stream bomb"),
        ),
        (
            "xlsx, 1.1 M shared strings",
            "strings.xlsx",
            hostile::shared_string_bomb_xlsx(1_100_000).expect("shared-string bomb"),
        ),
        (
            "xlsx, 190 MiB shared-string part",
            "part.xlsx",
            hostile::shared_string_bomb_xlsx(11_000_000).expect("part bomb"),
        ),
    ];
    let mut hostile_rows = Vec::new();
    for (label, name, bytes) in &hostile_files {
        let (ms, _, growth_mib, notes) = in_child(name, bytes, 0);
        println!(
            "extract hostile {label} ({} bytes): {ms:.0} ms, peak RSS growth {growth_mib:.1} MiB; {notes}",
            bytes.len()
        );
        hostile_rows.push((*label, bytes.len(), ms, growth_mib, notes));
    }
    let mut section = String::from(
        "## Text extraction (`make bench-extract`)\n\nGenerated corpus, one core, release build, mean of 3 runs. The generated files compress far better \
         than real ones (a 96 KB compressed PDF holds 1 MB of text), so input MB/s on compressed files understates \
         throughput; the uncompressed PDF and the text MB/s column show the parsing speed. \
         Targets: ≥ 20 MB/s for text-heavy PDFs, ≥ 50 MB/s for OOXML; peak RSS ≤ 4 × the file size.\n\n\
         | format | file bytes | ms / file | input MB/s | text MB/s |\n|---|---:|---:|---:|---:|\n",
    );
    for r in &rows {
        section.push_str(&format!(
            "| {} | {} | {:.1} | {:.1} | {:.1} |\n",
            r.format, r.size, r.ms, r.mb_s, r.text_mb_s
        ));
    }
    section.push_str(&format!(
        "\nA {}-byte PDF (1,500 pages of text), extracted in a fresh process; peak RSS growth is measured from the \
         moment the file is in memory:\n\n| settings | ms | input MB/s | text bytes | peak RSS growth | × file |\n|---|---:|---:|---:|---:|---:|\n",
        big.len()
    ));
    for (label, ms, text_len, growth_mib) in &big_rows {
        section.push_str(&format!(
            "| {label} | {ms:.0} | {:.1} | {text_len} | {growth_mib:.1} MiB | {:.1} |\n",
            big.len() as f64 / 1_048_576.0 / (ms / 1000.0),
            growth_mib * 1_048_576.0 / big.len() as f64,
        ));
    }
    section.push_str(
        "\nHostile files (`extract::hostile`), default settings, each in a fresh process; target: peak RSS growth \
         ≤ 64 MiB for any hostile file of ≤ 10 MiB:\n\n| file | file bytes | ms | peak RSS growth | outcome |\n|---|---:|---:|---:|---|\n",
    );
    for (label, size, ms, growth_mib, notes) in &hostile_rows {
        section.push_str(&format!(
            "| {label} | {size} | {ms:.0} | {growth_mib:.1} MiB | {} |\n",
            notes.replace('|', "\\|")
        ));
    }
    support::write_section("BENCHMARKS.md", "## Text extraction", &section);
}
