use std::io::{Read, Write};
use std::time::{Duration, Instant};

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use super::*;

const W: &str = r#"xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships""#;
const P: &str = r#"xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main""#;
const S: &str = r#"xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships""#;
const RELS: &str = r#"xmlns="http://schemas.openxmlformats.org/package/2006/relationships""#;

fn limits() -> Limits {
    Limits::with_budget(Duration::from_secs(60))
}

fn zip_of(parts: &[(&str, String)]) -> Vec<u8> {
    let mut zip = ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, body) in parts {
        zip.start_file(*name, SimpleFileOptions::default()).unwrap();
        zip.write_all(body.as_bytes()).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

fn docx_body(body: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document {W}><w:body>{body}<w:sectPr/></w:body></w:document>"#
    )
}

fn run(text: &str) -> String {
    format!(r#"<w:p><w:r><w:t xml:space="preserve">{text}</w:t></w:r></w:p>"#)
}

fn sample_docx() -> Vec<u8> {
    let body = r#"
<w:p><w:pPr><w:tabs><w:tab w:val="left" w:pos="720"/></w:tabs></w:pPr><w:r><w:t>Hello</w:t></w:r><w:r><w:tab/><w:t xml:space="preserve">world &amp; all</w:t></w:r></w:p>
<w:p><w:r><w:t>Line one</w:t><w:br/><w:t>Line two</w:t></w:r></w:p>
<w:tbl><w:tblGrid><w:gridCol w:w="100"/></w:tblGrid>
<w:tr><w:tc><w:p><w:r><w:t>A1</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>B1</w:t></w:r></w:p><w:p><w:r><w:t>more</w:t></w:r></w:p></w:tc></w:tr>
<w:tr><w:tc><w:p/></w:tc><w:tc><w:p><w:r><w:t>B2</w:t></w:r></w:p></w:tc></w:tr></w:tbl>
<w:p><w:r><w:t>After</w:t></w:r></w:p>"#;
    zip_of(&[
        ("[Content_Types].xml", "<Types/>".into()),
        ("word/document.xml", docx_body(body)),
        (
            "word/footer1.xml",
            format!("<w:ftr {W}>{}</w:ftr>", run("Footer text")),
        ),
        (
            "word/header2.xml",
            format!("<w:hdr {W}>{}</w:hdr>", run("Second header")),
        ),
        (
            "word/header1.xml",
            format!("<w:hdr {W}>{}</w:hdr>", run("First header")),
        ),
    ])
}

#[test]
fn docx_paragraphs_tables_headers_footers() {
    let got = extract_docx(&sample_docx(), &limits()).unwrap();
    assert_eq!(
        got.text,
        "Hello\tworld & all\nLine one\nLine two\nA1\tB1 more\n\tB2\nAfter\nFirst header\nSecond header\nFooter text\n"
    );
    assert!(got.notes.is_empty(), "{:?}", got.notes);
}

fn slide(texts: &[&str]) -> String {
    let paras: String = texts
        .iter()
        .map(|t| format!("<a:p><a:r><a:rPr lang=\"en-US\"/><a:t>{t}</a:t></a:r></a:p>"))
        .collect();
    format!(
        r#"<p:sld {P}><p:cSld><p:spTree><p:sp><p:txBody><a:bodyPr/>{paras}</p:txBody></p:sp></p:spTree></p:cSld></p:sld>"#
    )
}

fn notes(text: &str) -> String {
    format!(
        r#"<p:notes {P}><p:cSld><p:spTree><p:sp><p:txBody><a:p><a:r><a:t>{text}</a:t></a:r></a:p></p:txBody></p:sp><p:sp><p:txBody><a:p><a:fld id="{{1}}" type="slidenum"><a:t>7</a:t></a:fld></a:p></p:txBody></p:sp></p:spTree></p:cSld></p:notes>"#
    )
}

#[test]
fn pptx_numeric_slide_order_and_notes() {
    let rels2 = format!(
        r#"<Relationships {RELS}><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/notesSlide" Target="../notesSlides/notesSlide5.xml"/></Relationships>"#
    );
    let bytes = zip_of(&[
        ("ppt/slides/slide10.xml", slide(&["Ten"])),
        ("ppt/slides/slide1.xml", slide(&["One", "first slide"])),
        ("ppt/slides/slide2.xml", slide(&["Two"])),
        ("ppt/slides/_rels/slide2.xml.rels", rels2),
        ("ppt/notesSlides/notesSlide1.xml", notes("Note for one")),
        ("ppt/notesSlides/notesSlide5.xml", notes("Note for two")),
    ]);
    let got = extract_pptx(&bytes, &limits()).unwrap();
    assert_eq!(
        got.text,
        "One\nfirst slide\nNote for one\n\nTwo\nNote for two\n\nTen\n"
    );
}

#[test]
fn pptx_without_slides_is_skipped() {
    let bytes = zip_of(&[("ppt/presentation.xml", "<p:presentation/>".into())]);
    assert!(extract_pptx(&bytes, &limits())
        .unwrap_err()
        .0
        .contains("slide"));
}

#[test]
fn xlsx_shared_inline_numbers_and_sheet_names() {
    let workbook = format!(
        r#"<workbook {S}><sheets><sheet name="Budget" sheetId="1" r:id="rId1"/><sheet name="Notes &amp; more" sheetId="2" r:id="rId2"/></sheets></workbook>"#
    );
    let rels = format!(
        r#"<Relationships {RELS}><Relationship Id="rId2" Type="x/worksheet" Target="/xl/worksheets/sheet7.xml"/><Relationship Id="rId1" Type="x/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#
    );
    let shared = format!(
        r#"<sst {S} count="3" uniqueCount="3"><si><t>Item</t></si><si><r><t>Co</t></r><r><rPr><b/></rPr><t>st</t></r></si><si><t>hello</t><rPh sb="0" eb="1"><t>ignored</t></rPh></si></sst>"#
    );
    let sheet1 = format!(
        r#"<worksheet {S}><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row><row r="2"><c r="A2" t="inlineStr"><is><t>Paper</t></is></c><c r="B2"><v>12.50</v></c></row><row r="3"><c r="A3" s="1"/><c r="B3"><f>SUM(B2)</f><v>12.5</v></c></row><row r="4"/></sheetData></worksheet>"#
    );
    let sheet7 = format!(
        r#"<worksheet {S}><sheetData><row r="1"><c r="A1" t="s"><v>2</v></c></row></sheetData></worksheet>"#
    );
    let bytes = zip_of(&[
        ("xl/workbook.xml", workbook),
        ("xl/_rels/workbook.xml.rels", rels),
        ("xl/sharedStrings.xml", shared),
        ("xl/worksheets/sheet1.xml", sheet1),
        ("xl/worksheets/sheet7.xml", sheet7),
    ]);
    let got = extract_xlsx(&bytes, &limits()).unwrap();
    assert_eq!(
        got.text,
        "Budget\nItem\tCost\nPaper\t12.50\n12.5\nNotes & more\nhello\n"
    );
}

/// 300 MB of zeros in one deflated member, written in 1 MB chunks so the test never holds it uncompressed.
fn zip_bomb() -> Vec<u8> {
    let mut zip = ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .compression_level(Some(1));
    zip.start_file("word/document.xml", options).unwrap();
    let chunk = vec![0u8; 1024 * 1024];
    for _ in 0..300 {
        zip.write_all(&chunk).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

#[test]
fn zip_bomb_single_member_is_cut_at_the_part_cap() {
    let bytes = zip_bomb();
    assert!(
        bytes.len() < 2 * 1024 * 1024,
        "bomb is {} bytes compressed",
        bytes.len()
    );
    // Only the first MAX_PART_BYTES are decompressed (the part is zeros, so no text), whatever follows.
    let out = extract_docx(&bytes, &limits()).unwrap();
    let cap = format!("only the first {MAX_PART_BYTES} bytes read");
    assert!(
        out.notes.iter().any(|n| n.contains(&cap)),
        "{:?}",
        out.notes
    );
}

#[test]
fn counting_reader_stops_at_budget_whatever_the_header_says() {
    let endless = std::io::repeat(0).take(50 * 1024 * 1024);
    let (result, used) = read_capped(endless, 1024 * 1024, &limits());
    assert!(matches!(result, Err(PartError::Budget)));
    assert!(used <= 1024 * 1024 + 64 * 1024, "read {used} bytes");
}

#[test]
fn budget_is_shared_across_members() {
    let big = "x".repeat(100_000);
    let header = format!("<w:hdr {W}>{}</w:hdr>", run(&big));
    let mut parts = vec![("word/document.xml", docx_body(&run("body")))];
    let names = [
        "word/header1.xml",
        "word/header2.xml",
        "word/header3.xml",
        "word/header4.xml",
    ];
    parts.extend(names.iter().map(|n| (*n, header.clone())));
    let mut limits = limits();
    limits.max_decompressed_bytes = 250_000;
    let got = extract_docx(&zip_of(&parts), &limits).unwrap();
    assert!(got.text.starts_with("body\n"));
    assert_eq!(got.text.matches(&big).count(), 2);
    assert!(
        got.notes
            .iter()
            .any(|n| n.contains("header3.xml skipped: decompressed size exceeds")),
        "{:?}",
        got.notes
    );
}

#[test]
fn too_many_entries_is_skipped() {
    let mut zip = ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(CompressionMethod::Stored);
    for i in 0..20_000 {
        zip.start_file(format!("f{i}"), options).unwrap();
    }
    let bytes = zip.finish().unwrap().into_inner();
    let skip = extract_xlsx(&bytes, &limits()).unwrap_err();
    assert!(skip.0.contains("20000 entries"), "{skip}");
}

#[test]
fn billion_laughs_does_not_expand() {
    let mut doctype = String::from(r#"<!DOCTYPE lolz [<!ENTITY lol "lol">"#);
    for i in 1..10 {
        let prev = if i == 1 {
            "lol".to_string()
        } else {
            format!("lol{}", i - 1)
        };
        doctype.push_str(&format!(
            r#"<!ENTITY lol{i} "{}">"#,
            format!("&{prev};").repeat(10)
        ));
    }
    doctype.push_str("]>");
    let xml = format!(
        r#"<?xml version="1.0"?>{doctype}<w:document {W}><w:body>{}</w:body></w:document>"#,
        run("a&lol9;b")
    );
    let got = extract_docx(&zip_of(&[("word/document.xml", xml)]), &limits()).unwrap();
    assert_eq!(got.text, "ab\n");
}

#[test]
fn truncated_and_non_zip_input_is_skipped() {
    let bytes = sample_docx();
    let truncated = bytes.get(..bytes.len() / 2).unwrap();
    assert!(extract_docx(truncated, &limits())
        .unwrap_err()
        .0
        .contains("not a readable zip"));
    assert!(extract_docx(b"%PDF-1.7 not a zip", &limits())
        .unwrap_err()
        .0
        .contains("not a readable zip"));
    assert!(extract_pptx(b"", &limits()).is_err());
}

#[test]
fn missing_main_part_is_skipped() {
    let bytes = zip_of(&[("word/styles.xml", "<w:styles/>".into())]);
    assert!(extract_docx(&bytes, &limits())
        .unwrap_err()
        .0
        .contains("word/document.xml"));
    assert!(extract_xlsx(&bytes, &limits())
        .unwrap_err()
        .0
        .contains("xl/workbook.xml"));
}

#[test]
fn expired_deadline_keeps_nothing_with_a_note() {
    let mut limits = limits();
    limits.deadline = Instant::now();
    let got = extract_docx(&sample_docx(), &limits).unwrap();
    assert_eq!(got.text, "");
    assert!(
        got.notes.iter().any(|n| n.contains("time budget")),
        "{:?}",
        got.notes
    );
}

#[test]
fn text_cap_cuts_at_char_boundary_with_note() {
    let mut limits = limits();
    limits.max_text_bytes = 4;
    let bytes = zip_of(&[("word/document.xml", docx_body(&run("abcé and more")))]);
    let got = extract_docx(&bytes, &limits).unwrap();
    assert_eq!(got.text, "abc");
    assert_eq!(got.notes, vec!["text cut at 4 bytes".to_string()]);
}

#[test]
fn deep_nesting_stops_with_note() {
    let mut limits = limits();
    limits.max_depth = 16;
    let deep = format!("{}{}", "<w:sdt>".repeat(40), "</w:sdt>".repeat(40));
    let bytes = zip_of(&[(
        "word/document.xml",
        docx_body(&format!("{}{deep}", run("kept"))),
    )]);
    let got = extract_docx(&bytes, &limits).unwrap();
    assert_eq!(got.text, "kept\n");
    assert!(
        got.notes
            .iter()
            .any(|n| n.contains("nested deeper than 16")),
        "{:?}",
        got.notes
    );
}

#[test]
fn malformed_xml_keeps_text_so_far() {
    let xml = format!("<w:document {W}><w:body>{}<w:p><w:r></w:p>", run("kept"));
    let got = extract_docx(&zip_of(&[("word/document.xml", xml)]), &limits()).unwrap();
    assert_eq!(got.text, "kept\n");
    assert!(
        got.notes.iter().any(|n| n.contains("malformed XML")),
        "{:?}",
        got.notes
    );
}

#[test]
fn numbered_parts_sort_by_number_and_paths_resolve() {
    let names: Vec<String> = [
        "a/s10.xml",
        "a/s2.xml",
        "a/s1.xml",
        "a/sx.xml",
        "a/s.xml",
        "a/s3.xml.rels",
    ]
    .map(String::from)
    .to_vec();
    assert_eq!(
        numbered(&names, "a/s", ".xml"),
        vec!["a/s1.xml", "a/s2.xml", "a/s10.xml"]
    );
    assert_eq!(
        resolve("ppt/slides", "../notesSlides/n1.xml"),
        "ppt/notesSlides/n1.xml"
    );
    assert_eq!(
        resolve("xl", "/xl/worksheets/sheet1.xml"),
        "xl/worksheets/sheet1.xml"
    );
    assert_eq!(resolve("xl", "../../../../x.xml"), "x.xml");
}

#[test]
fn zip_bomb_with_lying_size_header_stops_at_budget() {
    let mut bytes = zip_bomb();
    // Declare 1000 uncompressed bytes in both the local header and the central directory entry.
    let lie = 1000u32.to_le_bytes();
    let central = bytes.windows(4).rposition(|w| w == b"PK\x01\x02").unwrap();
    bytes.splice(22..26, lie);
    bytes.splice(central + 24..central + 28, lie);
    let mut limits = limits();
    limits.max_decompressed_bytes = 10 * 1024 * 1024;
    let skip = extract_docx(&bytes, &limits).unwrap_err();
    assert!(
        skip.0.contains("decompressed size exceeds 10485760"),
        "{skip}"
    );
}

#[test]
fn shared_string_count_is_capped() {
    let bytes = crate::extract::hostile::shared_string_bomb_xlsx(MAX_SHARED_STRINGS + 10).unwrap();
    let got = extract_xlsx(&bytes, &limits()).unwrap();
    // The first string is kept; the last is past the cap, so its cell is empty.
    assert_eq!(got.text, "Bomb\nfirst\t\n");
    let cap = format!("more than {MAX_SHARED_STRINGS} shared strings");
    assert!(
        got.notes.iter().any(|n| n.contains(&cap)),
        "{:?}",
        got.notes
    );
}

#[test]
fn shared_string_bytes_are_capped() {
    let big = "x".repeat(MAX_SHARED_STRING_BYTES / 2 + 1);
    let shared = format!(
        r#"<sst {S}><si><t>small</t></si><si><t>{big}</t></si><si><t>{big}</t></si></sst>"#
    );
    let workbook = format!(
        r#"<workbook {S}><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>"#
    );
    let sheet = format!(
        r#"<worksheet {S}><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>2</v></c></row></sheetData></worksheet>"#
    );
    let bytes = zip_of(&[
        ("xl/workbook.xml", workbook),
        ("xl/sharedStrings.xml", shared),
        ("xl/worksheets/sheet1.xml", sheet),
    ]);
    let got = extract_xlsx(&bytes, &limits()).unwrap();
    assert_eq!(got.text, "S\nsmall\t\n");
    let cap = format!("shared strings past {MAX_SHARED_STRING_BYTES} bytes of text");
    assert!(
        got.notes.iter().any(|n| n.contains(&cap)),
        "{:?}",
        got.notes
    );
}
