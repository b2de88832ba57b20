//! Hostile files for the tests and `make bench-extract`: small on disk, costly to parse without the work caps.
//! Generated on demand (never stored as fixtures) so the size of each bomb is a parameter. Not used by the service.

use std::io::Write;

use lopdf::{dictionary, Document, Object, Stream};

/// A one-page PDF whose (Flate-compressed) content stream shows a line of text, then repeats `q\n` until the
/// stream is `stream_bytes` long: ~8 KB on disk for 8 MiB of operators.
pub fn operator_bomb_pdf(stream_bytes: usize) -> std::io::Result<Vec<u8>> {
    let mut content = b"BT /F1 12 Tf 72 700 Td (Before the bomb) Tj ET\n".to_vec();
    while content.len() + 2 <= stream_bytes {
        content.extend_from_slice(b"q\n");
    }
    one_page_pdf(content)
}

/// A one-page PDF whose content stream is one operation with `stream_bytes / 2` operands (`0 0 0 … Tj`).
pub fn operand_bomb_pdf(stream_bytes: usize) -> std::io::Result<Vec<u8>> {
    let mut content = b"BT /F1 12 Tf 72 700 Td (Before the bomb) Tj\n".to_vec();
    let operands = stream_bytes.saturating_sub(content.len()) / 2;
    content.reserve(operands * 2 + 8);
    for _ in 0..operands {
        content.extend_from_slice(b"0 ");
    }
    content.extend_from_slice(b"Tj ET");
    one_page_pdf(content)
}

/// A one-page PDF whose content stream is `stream_bytes` of a comment (Flate makes it ~1/1000 of that on disk),
/// then a line of text.
pub fn stream_bomb_pdf(stream_bytes: usize) -> std::io::Result<Vec<u8>> {
    let mut content = vec![b'%'; stream_bytes];
    content.extend_from_slice(b"\nBT /F1 12 Tf 72 700 Td (After the bomb) Tj ET");
    one_page_pdf(content)
}

fn one_page_pdf(content: Vec<u8>) -> std::io::Result<Vec<u8>> {
    let mut doc = Document::with_version("1.5");
    let font = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica", "Encoding" => "WinAnsiEncoding",
    });
    let pages_id = doc.new_object_id();
    let content_id = doc.add_object(Stream::new(dictionary! {}, content));
    let page = doc.add_object(dictionary! {
        "Type" => "Page", "Parent" => pages_id, "Contents" => content_id,
        "Resources" => dictionary! { "Font" => dictionary! { "F1" => font } },
        "MediaBox" => vec![0.into(), 0.into(), 612.into(), 792.into()],
    });
    doc.objects.insert(
        pages_id,
        Object::Dictionary(
            dictionary! { "Type" => "Pages", "Kids" => vec![page.into()], "Count" => 1 },
        ),
    );
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog);
    doc.compress();
    let mut bytes = Vec::new();
    doc.save_to(&mut bytes)?;
    Ok(bytes)
}

/// An xlsx whose shared-string table has `strings` entries (`<si><t>s</t></si>`, 18 bytes each before
/// compression) and whose one sheet names the first and the last.
pub fn shared_string_bomb_xlsx(strings: usize) -> std::io::Result<Vec<u8>> {
    let ns = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
    let rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
    let mut table = String::with_capacity(strings * 18 + 64);
    table.push_str(&format!(r#"<sst xmlns="{ns}"><si><t>first</t></si>"#));
    for _ in 1..strings {
        table.push_str("<si><t>s</t></si>");
    }
    table.push_str("</sst>");
    let last = strings.saturating_sub(1);
    let parts = [
        ("xl/workbook.xml", format!(r#"<workbook xmlns="{ns}" xmlns:r="{rel}"><sheets><sheet name="Bomb" sheetId="1" r:id="rId1"/></sheets></workbook>"#)),
        ("xl/_rels/workbook.xml.rels", r#"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#.to_string()),
        ("xl/sharedStrings.xml", table),
        ("xl/worksheets/sheet1.xml", format!(r#"<worksheet xmlns="{ns}"><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>{last}</v></c></row></sheetData></worksheet>"#)),
    ];
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, body) in parts {
        zip.start_file(name, options)?;
        zip.write_all(body.as_bytes())?;
    }
    Ok(zip.finish()?.into_inner())
}
