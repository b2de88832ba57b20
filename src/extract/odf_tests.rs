use std::io::Write;
use std::time::{Duration, Instant};

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use super::*;

const NS: &str = r#"xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" office:version="1.3""#;

fn limits() -> Limits {
    Limits::with_budget(Duration::from_secs(60))
}

fn odt(body: &str) -> Vec<u8> {
    let mut zip = ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let stored = SimpleFileOptions::default().compression_method(CompressionMethod::Stored);
    zip.start_file("mimetype", stored).unwrap();
    zip.write_all(b"application/vnd.oasis.opendocument.text")
        .unwrap();
    zip.start_file("content.xml", SimpleFileOptions::default())
        .unwrap();
    let content = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><office:document-content {NS}><office:automatic-styles/><office:body><office:text>{body}</office:text></office:body></office:document-content>"#
    );
    zip.write_all(content.as_bytes()).unwrap();
    zip.finish().unwrap().into_inner()
}

#[test]
fn paragraphs_spaces_tabs_breaks_tables() {
    let body = r#"
<text:h text:outline-level="1">Title</text:h>
<text:p text:style-name="P1">a<text:s text:c="3"/>b<text:tab/>c<text:line-break/>d &amp; e</text:p>
<text:p>  collapsed
    <text:span>spaces</text:span></text:p>
<text:list><text:list-item><text:p>item</text:p></text:list-item></text:list>
<table:table table:name="T"><table:table-column/>
<table:table-row><table:table-cell office:value-type="string"><text:p>x</text:p></table:table-cell><table:table-cell><text:p>y</text:p><text:p>z</text:p></table:table-cell></table:table-row>
<table:table-row><table:table-cell/><table:table-cell><text:p>w</text:p></table:table-cell></table:table-row>
</table:table>
<text:tracked-changes><text:changed-region><text:deletion><text:p>deleted</text:p></text:deletion></text:changed-region></text:tracked-changes>
<text:p>end</text:p>"#;
    let got = extract_odt(&odt(body), &limits()).unwrap();
    assert_eq!(
        got.text,
        "Title\na   b\tc\nd & e\ncollapsed spaces\nitem\nx\ty z\n\tw\nend\n"
    );
    assert!(got.notes.is_empty(), "{:?}", got.notes);
}

#[test]
fn huge_space_count_is_bounded() {
    let got = extract_odt(
        &odt(r#"<text:p>a<text:s text:c="4000000000"/>b</text:p>"#),
        &limits(),
    )
    .unwrap();
    assert_eq!(got.text.len(), 1 + MAX_SPACES_PER_RUN + 2);
}

#[test]
fn billion_laughs_does_not_expand() {
    let xml = r#"<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><office:document-content xmlns:office="o" xmlns:text="t"><office:body><office:text><text:p>x&c;y</text:p></office:text></office:body></office:document-content>"#;
    let mut zip = ZipWriter::new(std::io::Cursor::new(Vec::new()));
    zip.start_file("content.xml", SimpleFileOptions::default())
        .unwrap();
    zip.write_all(xml.as_bytes()).unwrap();
    let bytes = zip.finish().unwrap().into_inner();
    assert_eq!(extract_odt(&bytes, &limits()).unwrap().text, "xy\n");
}

#[test]
fn hostile_and_broken_input() {
    assert!(extract_odt(b"PK\x03\x04 truncated", &limits())
        .unwrap_err()
        .0
        .contains("not a readable zip"));
    let mut zip = ZipWriter::new(std::io::Cursor::new(Vec::new()));
    zip.start_file("styles.xml", SimpleFileOptions::default())
        .unwrap();
    let no_content = zip.finish().unwrap().into_inner();
    assert!(extract_odt(&no_content, &limits())
        .unwrap_err()
        .0
        .contains("content.xml"));

    let mut expired = limits();
    expired.deadline = Instant::now();
    let got = extract_odt(&odt("<text:p>late</text:p>"), &expired).unwrap();
    assert_eq!(got.text, "");
    assert!(got.notes.iter().any(|n| n.contains("time budget")));

    let mut small = limits();
    small.max_decompressed_bytes = 100;
    let skip = extract_odt(&odt(&"<text:p>long</text:p>".repeat(100)), &small).unwrap_err();
    assert!(skip.0.contains("decompressed size exceeds 100"), "{skip}");
}
