use std::time::{Duration, Instant};

use lopdf::{dictionary, Document, Object, ObjectId, Stream};

use super::syntax::CMap;
use super::*;

fn limits() -> Limits {
    Limits::with_budget(Duration::from_secs(30))
}

fn helvetica(doc: &mut Document) -> ObjectId {
    doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica", "Encoding" => "WinAnsiEncoding",
    })
}

fn stream(doc: &mut Document, dict: lopdf::Dictionary, content: &[u8]) -> ObjectId {
    doc.add_object(Stream::new(dict, content.to_vec()))
}

/// A document whose root page tree lists `pages` (content, resources) in order; returns its bytes.
fn build(doc: &mut Document, pages: Vec<(&[u8], lopdf::Dictionary)>) -> Vec<u8> {
    let pages_id = doc.new_object_id();
    let mut kids = Vec::new();
    for (content, resources) in pages {
        let content_id = stream(doc, dictionary! {}, content);
        let page = dictionary! {
            "Type" => "Page", "Parent" => pages_id, "Contents" => content_id, "Resources" => resources,
            "MediaBox" => vec![0.into(), 0.into(), 612.into(), 792.into()],
        };
        kids.push(Object::Reference(doc.add_object(page)));
    }
    let count = kids.len() as i64;
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => kids, "Count" => count }),
    );
    finish(doc, pages_id)
}

fn finish(doc: &mut Document, pages_id: ObjectId) -> Vec<u8> {
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog);
    doc.compress();
    let mut bytes = Vec::new();
    doc.save_to(&mut bytes).unwrap();
    bytes
}

fn two_page_helvetica() -> Vec<u8> {
    let mut doc = Document::with_version("1.5");
    let font = helvetica(&mut doc);
    let res = || dictionary! { "Font" => dictionary! { "F1" => font } };
    let page1: &[u8] = b"BT /F1 12 Tf 14 TL 72 700 Td (Hello) Tj ( World) Tj T* (Second line) Tj \
        0 -14 Td [(Kern)-300(gap)-20(ged)] TJ T* (caf\\351) Tj (quote line) ' ET";
    let page2: &[u8] = b"BT /F1 12 Tf 72 700 Td (Page two) Tj ET";
    build(&mut doc, vec![(page1, res()), (page2, res())])
}

#[test]
fn helvetica_two_pages_in_order() {
    let out = extract(&two_page_helvetica(), &limits()).unwrap();
    assert_eq!(
        out.text,
        "Hello World\nSecond line\nKern gapged\ncafé\nquote line\nPage two"
    );
    assert!(out.notes.is_empty(), "{:?}", out.notes);
}

const CMAP: &[u8] = b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n\
    1 begincodespacerange <0000> <FFFF> endcodespacerange\n\
    5 beginbfchar <0001> <0047> <0003> <00FC> <0004> <00DF> <0005> <0065> <0006> <0020> endbfchar\n\
    1 beginbfchar <0007> <2713> endbfchar\n\
    2 beginbfrange <0002> <0002> <0072> <0008> <0009> [<0041> <0042>] endbfrange\n\
    endcmap CMapName currentdict /CMap defineresource pop end end";

#[test]
fn type0_font_with_to_unicode() {
    let mut doc = Document::with_version("1.5");
    let to_unicode = stream(&mut doc, dictionary! {}, CMAP);
    let descendant = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "CIDFontType2", "BaseFont" => "Foo",
        "CIDSystemInfo" => dictionary! { "Registry" => Object::string_literal("Adobe"),
            "Ordering" => Object::string_literal("Identity"), "Supplement" => 0 },
    });
    let font = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type0", "BaseFont" => "Foo", "Encoding" => "Identity-H",
        "DescendantFonts" => vec![descendant.into()], "ToUnicode" => to_unicode,
    });
    let content: &[u8] =
        b"BT /F2 12 Tf 72 700 Td <0001000200030004000500060007> Tj 0 -14 Td <00080009> Tj ET";
    let bytes = build(
        &mut doc,
        vec![(
            content,
            dictionary! { "Font" => dictionary! { "F2" => font } },
        )],
    );
    let out = extract(&bytes, &limits()).unwrap();
    assert_eq!(out.text, "Grüße ✓\nAB");
}

/// A simple font whose /Encoding dictionary remaps codes with /Differences (common in subset Type1 fonts): codes 1
/// and 2 become the `fi` ligature and `eacute`, code 65 stays `A` from the base encoding.
#[test]
fn differences_encoding() {
    let mut doc = Document::with_version("1.5");
    let encoding = doc.add_object(dictionary! {
        "Type" => "Encoding", "BaseEncoding" => "WinAnsiEncoding",
        "Differences" => vec![1.into(), Object::Name(b"fi".to_vec()), Object::Name(b"eacute".to_vec())],
    });
    let font = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "ABCDEF+Minion", "Encoding" => encoding,
    });
    let res = dictionary! { "Font" => dictionary! { "F1" => font } };
    let bytes = build(
        &mut doc,
        vec![(b"BT /F1 12 Tf 72 700 Td (\\001le caf\\002 A) Tj ET", res)],
    );
    assert_eq!(
        extract(&bytes, &limits()).unwrap().text,
        "\u{FB01}le café A"
    );
}

#[test]
fn cmap_parser_ranges_and_lengths() {
    let cmap = CMap::parse(CMAP);
    assert_eq!(cmap.lens, vec![2]);
    assert_eq!(cmap.decode(&[0, 1, 0, 2, 0, 9, 0xff, 0xff]), "GrB");
    let one_byte = CMap::parse(b"1 beginbfrange <20> <7e> <0020> endbfrange");
    assert_eq!(one_byte.decode(b"Hi!"), "Hi!");
}

fn form(doc: &mut Document, font: ObjectId, content: &[u8], next: Option<ObjectId>) -> ObjectId {
    let mut resources = dictionary! { "Font" => dictionary! { "F1" => font } };
    if let Some(next) = next {
        resources.set("XObject", dictionary! { "X" => next });
    }
    let dict = dictionary! {
        "Type" => "XObject", "Subtype" => "Form", "BBox" => vec![0.into(), 0.into(), 100.into(), 100.into()],
        "Resources" => resources,
    };
    stream(doc, dict, content)
}

#[test]
fn form_xobject_text_is_included() {
    let mut doc = Document::with_version("1.5");
    let font = helvetica(&mut doc);
    let x = form(&mut doc, font, b"BT /F1 10 Tf 0 0 Td (In form) Tj ET", None);
    let content: &[u8] = b"BT /F1 12 Tf 72 700 Td (Before) Tj ET /X1 Do BT 72 700 Td (After) Tj ET";
    let res = dictionary! { "Font" => dictionary! { "F1" => font }, "XObject" => dictionary! { "X1" => x } };
    let out = extract(&build(&mut doc, vec![(content, res)]), &limits()).unwrap();
    assert_eq!(out.text, "Before\nIn form\nAfter");
}

#[test]
fn xobject_chain_beyond_max_depth_is_cut() {
    let mut doc = Document::with_version("1.5");
    let font = helvetica(&mut doc);
    let mut next = None;
    for level in (0..10).rev() {
        let content = format!("BT /F1 10 Tf 0 {level} Td (L{level}) Tj ET /X Do");
        next = Some(form(&mut doc, font, content.as_bytes(), next));
    }
    let res = dictionary! { "XObject" => dictionary! { "X" => next.unwrap() } };
    let bytes = build(&mut doc, vec![(b"/X Do".as_slice(), res)]);
    let limits = Limits {
        max_depth: 3,
        ..limits()
    };
    let out = extract(&bytes, &limits).unwrap();
    assert_eq!(out.text, "L0\nL1\nL2");
    assert!(
        out.notes.iter().any(|n| n.contains("deeper than 3")),
        "{:?}",
        out.notes
    );
}

#[test]
fn self_referencing_form_does_not_loop() {
    let mut doc = Document::with_version("1.5");
    let font = helvetica(&mut doc);
    let id = doc.new_object_id();
    let dict = dictionary! {
        "Type" => "XObject", "Subtype" => "Form",
        "Resources" => dictionary! { "Font" => dictionary! { "F1" => font }, "XObject" => dictionary! { "X" => id } },
    };
    doc.objects.insert(
        id,
        Object::Stream(Stream::new(
            dict,
            b"BT /F1 9 Tf (Loop) Tj ET /X Do".to_vec(),
        )),
    );
    let bytes = build(
        &mut doc,
        vec![(
            b"/X Do".as_slice(),
            dictionary! { "XObject" => dictionary! { "X" => id } },
        )],
    );
    let out = extract(&bytes, &limits()).unwrap();
    assert_eq!(out.text, "Loop");
    assert!(
        out.notes.iter().any(|n| n.contains("reference loop")),
        "{:?}",
        out.notes
    );
}

#[test]
fn page_tree_reference_loop() {
    let mut doc = Document::with_version("1.5");
    let font = helvetica(&mut doc);
    let (root, mid) = (doc.new_object_id(), doc.new_object_id());
    let res = dictionary! { "Font" => dictionary! { "F1" => font } };
    let c1 = stream(&mut doc, dictionary! {}, b"BT /F1 12 Tf (One) Tj ET");
    let c2 = stream(&mut doc, dictionary! {}, b"BT /F1 12 Tf (Two) Tj ET");
    let p1 = doc.add_object(dictionary! { "Type" => "Page", "Parent" => root, "Contents" => c1, "Resources" => res.clone() });
    let p2 = doc.add_object(dictionary! { "Type" => "Page", "Parent" => mid, "Contents" => c2 });
    doc.objects.insert(
        root,
        Object::Dictionary(
            dictionary! { "Type" => "Pages", "Kids" => vec![p1.into(), mid.into()], "Count" => 2,
            "Resources" => res },
        ),
    );
    // The inner node lists its own parent as a kid.
    doc.objects.insert(
        mid,
        Object::Dictionary(dictionary! { "Type" => "Pages", "Parent" => root, "Kids" => vec![root.into(), p2.into()], "Count" => 1 }),
    );
    let out = extract(&finish(&mut doc, root), &limits()).unwrap();
    assert_eq!(out.text, "One\nTwo");
    assert!(
        out.notes.iter().any(|n| n.contains("reference loop")),
        "{:?}",
        out.notes
    );
}

#[test]
fn image_only_pdf_gives_empty_text_and_note() {
    let mut doc = Document::with_version("1.5");
    let image = stream(
        &mut doc,
        dictionary! { "Type" => "XObject", "Subtype" => "Image", "Width" => 1, "Height" => 1,
        "ColorSpace" => "DeviceGray", "BitsPerComponent" => 8 },
        b"\x80",
    );
    let res = dictionary! { "XObject" => dictionary! { "Im1" => image } };
    let bytes = build(
        &mut doc,
        vec![(b"q 100 0 0 100 0 0 cm /Im1 Do Q".as_slice(), res)],
    );
    let out = extract(&bytes, &limits()).unwrap();
    assert_eq!(out.text, "");
    assert!(
        out.notes.iter().any(|n| n.contains("no text layer")),
        "{:?}",
        out.notes
    );
}

#[test]
fn text_cap_cuts_with_note() {
    let limits = Limits {
        max_text_bytes: 7,
        ..limits()
    };
    let out = extract(&two_page_helvetica(), &limits).unwrap();
    assert_eq!(out.text, "Hello W");
    assert_eq!(out.notes, vec!["text cut at 7 bytes".to_string()]);
}

#[test]
fn decompression_budget_stops_with_note() {
    let limits = Limits {
        max_decompressed_bytes: 10,
        ..limits()
    };
    let out = extract(&two_page_helvetica(), &limits).unwrap();
    assert!(
        out.notes.iter().any(|n| n.contains("decompression budget")),
        "{:?}",
        out.notes
    );
}

#[test]
fn expired_deadline_returns_note() {
    let limits = Limits {
        deadline: Instant::now(),
        ..limits()
    };
    let out = extract(&two_page_helvetica(), &limits).unwrap();
    assert_eq!(out.text, "");
    assert!(
        out.notes.iter().any(|n| n.contains("time budget")),
        "{:?}",
        out.notes
    );
}

#[test]
fn encrypted_without_password_is_skipped() {
    let mut doc = Document::with_version("1.5");
    let font = helvetica(&mut doc);
    let enc = doc.add_object(dictionary! {
        "Filter" => "Standard", "V" => 1, "R" => 2, "P" => -4, "Length" => 40,
        "O" => Object::string_literal(vec![7u8; 32]), "U" => Object::string_literal(vec![9u8; 32]),
    });
    doc.trailer.set("Encrypt", enc);
    let page: &[u8] = b"BT /F1 12 Tf (secret) Tj ET";
    let bytes = build(
        &mut doc,
        vec![(page, dictionary! { "Font" => dictionary! { "F1" => font } })],
    );
    assert_eq!(
        extract(&bytes, &limits()),
        Err(Skip("encrypted PDF".into()))
    );
}

fn assert_prompt_skip_or_note(bytes: &[u8]) {
    match extract(bytes, &limits()) {
        Err(Skip(reason)) => assert!(!reason.is_empty()),
        Ok(out) => assert!(!out.notes.is_empty(), "no note for hostile input: {out:?}"),
    }
}

#[test]
fn hostile_inputs_never_panic() {
    let good = two_page_helvetica();
    assert_eq!(
        extract(b"", &limits()),
        Err(Skip("malformed PDF: empty file".into()))
    );
    assert!(extract(&[0u8; 4096], &limits()).is_err());
    assert!(extract(b"this is not a pdf at all, just words", &limits()).is_err());
    for cut in [good.len() / 2, good.len() - 40, 16] {
        assert_prompt_skip_or_note(&good[..cut]);
    }
    let mut garbage = b"%PDF-1.4\n".to_vec();
    garbage.extend((0..20_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
    assert_prompt_skip_or_note(&garbage);
    let mut deep = b"%PDF-1.4\n1 0 obj\n".to_vec();
    deep.extend(std::iter::repeat_n(b'[', 100_000));
    assert_eq!(
        extract(&deep, &limits()),
        Err(Skip("malformed PDF: objects nested too deeply".into()))
    );
}

/// Hand-written PDF 1.5 (lopdf's writer never emits object streams): the page and its font live in a
/// Flate-compressed object stream, located through a cross-reference stream; the content stream is compressed too.
#[test]
fn compressed_object_stream() {
    let text = extract(&packed_pdf(b""), &limits()).unwrap().text;
    assert_eq!(text, ["Packed text"; 20].join(" "));
}

/// An object stream that inflates past the decompression budget is refused while lopdf loads it (before any of it
/// is held), with a skip naming the budget.
#[test]
fn object_stream_bomb_is_refused() {
    let bomb = packed_pdf(&vec![b' '; 8 << 20]);
    assert!(bomb.len() < 64 * 1024, "{} bytes", bomb.len());
    let small_budget = Limits {
        max_decompressed_bytes: 1 << 20,
        ..limits()
    };
    let skip = extract(&bomb, &small_budget).unwrap_err();
    assert!(skip.0.contains("1048576-byte budget"), "{skip}");
    // The same file within budget reads.
    assert!(extract(&bomb, &limits())
        .unwrap()
        .text
        .starts_with("Packed text"));
}

/// The PDF of `compressed_object_stream`, with `padding` appended inside its object stream.
fn packed_pdf(padding: &[u8]) -> Vec<u8> {
    let compress = |data: &[u8]| {
        let mut s = Stream::new(dictionary! {}, data.to_vec());
        s.compress().unwrap();
        assert!(s.dict.has(b"Filter"), "test data should be compressible");
        s.content
    };
    let font = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>";
    let page =
        b"<< /Type /Page /Parent 2 0 R /Contents 3 0 R /Resources << /Font << /F1 4 0 R >> >> >>";
    let header = format!("4 0 5 {} ", font.len() + 1);
    let mut objstm = header.clone().into_bytes();
    objstm.extend_from_slice(font);
    objstm.push(b'\n');
    objstm.extend_from_slice(page);
    objstm.extend_from_slice(padding);
    let objstm = compress(&objstm);
    let content = compress(&b"BT /F1 12 Tf 72 700 Td (Packed text) Tj ET\n".repeat(20));

    let mut out = b"%PDF-1.5\n".to_vec();
    let mut offsets = Vec::new();
    let mut object = |out: &mut Vec<u8>, dict: String, data: Option<&[u8]>| {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{dict}", offsets.len()).as_bytes());
        if let Some(data) = data {
            out.extend_from_slice(b"\nstream\n");
            out.extend_from_slice(data);
            out.extend_from_slice(b"\nendstream");
        }
        out.extend_from_slice(b"\nendobj\n");
    };
    object(&mut out, "<< /Type /Catalog /Pages 2 0 R >>".into(), None);
    object(
        &mut out,
        "<< /Type /Pages /Kids [5 0 R] /Count 1 >>".into(),
        None,
    );
    object(
        &mut out,
        format!("<< /Length {} /Filter /FlateDecode >>", content.len()),
        Some(&content),
    );
    let dict = |n: usize| {
        format!(
            "<< /Type /ObjStm /N 2 /First {} /Length {n} /Filter /FlateDecode >>",
            header.len()
        )
    };
    let objstm_offset = out.len();
    out.extend_from_slice(format!("6 0 obj\n{}\nstream\n", dict(objstm.len())).as_bytes());
    out.extend_from_slice(&objstm);
    out.extend_from_slice(b"\nendstream\nendobj\n");
    // Cross-reference stream, /W [1 4 2]: type 0 free, 1 offset+generation, 2 object-stream number+index.
    let xref = out.len();
    let mut entries = Vec::new();
    let mut entry = |kind: u8, field: u32, extra: u16| {
        entries.push(kind);
        entries.extend_from_slice(&field.to_be_bytes());
        entries.extend_from_slice(&extra.to_be_bytes());
    };
    entry(0, 0, 65535);
    for offset in &offsets {
        entry(1, *offset as u32, 0);
    }
    entry(2, 6, 0);
    entry(2, 6, 1);
    entry(1, objstm_offset as u32, 0);
    entry(1, xref as u32, 0);
    out.extend_from_slice(
        format!(
            "7 0 obj\n<< /Type /XRef /Size 8 /W [1 4 2] /Root 1 0 R /Length {} >>\nstream\n",
            entries.len()
        )
        .as_bytes(),
    );
    out.extend_from_slice(&entries);
    out.extend_from_slice(format!("\nendstream\nendobj\nstartxref\n{xref}\n%%EOF\n").as_bytes());
    out
}

#[test]
fn nesting_prescan() {
    assert!(!syntax_nesting_exceeds(b"<< /A [[[ ]]] >>", 4));
    assert!(syntax_nesting_exceeds(b"<< /A [[[[ ]]]] >>", 4));
    // Brackets inside strings, comments, hex strings and stream data are not syntax.
    assert!(!syntax_nesting_exceeds(
        b"([[[[[[) % [[[[[[\n <5b5b> [ ]",
        2
    ));
    let mut stream = b"1 0 obj << /Length 600 >>\nstream\n".to_vec();
    stream.extend(std::iter::repeat_n(b'[', 600));
    stream.extend_from_slice(b"\nendstream\nendobj\n");
    assert!(!syntax_nesting_exceeds(&stream, 8));
    // `endstream` must not open a new stream region that hides what follows.
    stream.extend_from_slice(b"2 0 obj [[[[[[[[[[ endobj");
    assert!(syntax_nesting_exceeds(&stream, 8));
}

fn encrypted(user_password: &str) -> Vec<u8> {
    let mut doc = Document::load_mem(&two_page_helvetica()).unwrap();
    doc.trailer.set(
        "ID",
        vec![
            Object::string_literal(vec![1u8; 16]),
            Object::string_literal(vec![1u8; 16]),
        ],
    );
    let version = lopdf::EncryptionVersion::V2 {
        document: &doc,
        owner_password: "owner",
        user_password,
        key_length: 128,
        permissions: lopdf::Permissions::all(),
    };
    let state = lopdf::EncryptionState::try_from(version).unwrap();
    doc.encrypt(&state).unwrap();
    let mut bytes = Vec::new();
    doc.save_to(&mut bytes).unwrap();
    assert!(bytes.windows(8).any(|w| w == b"/Encrypt"));
    bytes
}

#[test]
fn rc4_encrypted_with_user_password_is_skipped() {
    assert_eq!(
        extract(&encrypted("secret"), &limits()),
        Err(Skip("encrypted PDF".into()))
    );
}

#[test]
fn owner_password_only_pdf_is_read() {
    let out = extract(&encrypted(""), &limits()).unwrap();
    assert!(out.text.starts_with("Hello World\n"), "{out:?}");
    assert!(out.text.ends_with("Page two"), "{out:?}");
}

#[test]
fn operator_bomb_is_cut_at_the_per_stream_cap() {
    let bytes = crate::extract::hostile::operator_bomb_pdf(8 << 20).unwrap();
    assert!(
        bytes.len() < 64 * 1024,
        "the bomb is small: {}",
        bytes.len()
    );
    let out = extract(&bytes, &limits()).unwrap();
    assert_eq!(out.text, "Before the bomb");
    let cap = format!("cut at the cap of {MAX_OPERATIONS_PER_STREAM} operations per stream");
    assert!(
        out.notes.iter().any(|n| n.contains(&cap)),
        "{:?}",
        out.notes
    );
}

#[test]
fn forms_drawn_many_times_stop_at_the_document_operation_cap() {
    let mut doc = Document::with_version("1.5");
    let font = helvetica(&mut doc);
    // 200 operations in the form, drawn 25 times: 5 000, over a document cap of 4 000, while no single stream is
    // over its own cap. (The default cap is the same code path with a larger number.)
    let form = form(&mut doc, font, &b"q\n".repeat(200), None);
    let res = dictionary! { "Font" => dictionary! { "F1" => font }, "XObject" => dictionary! { "X0" => form } };
    let mut page = b"BT /F1 12 Tf 72 700 Td (Drawn) Tj ET\n".to_vec();
    page.extend_from_slice(&b"/X0 Do\n".repeat(25));
    let bytes = build(&mut doc, vec![(&page, res)]);
    let limits = Limits {
        max_operations: 4_000,
        ..limits()
    };
    let out = extract(&bytes, &limits).unwrap();
    assert_eq!(out.text, "Drawn");
    let cap = "operation cap of 4000 content operations per document";
    assert!(out.notes.iter().any(|n| n.contains(cap)), "{:?}", out.notes);
}

#[test]
fn operation_with_too_many_operands_is_refused_before_decoding() {
    let bytes = crate::extract::hostile::operand_bomb_pdf(1 << 20).unwrap();
    let out = extract(&bytes, &limits()).unwrap();
    assert_eq!(out.text, "");
    let cap = format!("an operation with more than {MAX_OPERANDS_PER_OPERATION} operands");
    assert!(
        out.notes.iter().any(|n| n.contains(&cap)),
        "{:?}",
        out.notes
    );
    assert!(
        !out.notes.iter().any(|n| n.contains("no text layer")),
        "{:?}",
        out.notes
    );
}

#[test]
fn operand_prescan_follows_the_content_grammar() {
    use super::syntax::operand_run_exceeds as exceeds;
    assert!(!exceeds(b"0 0 0 Tj 0 0 0 Tj", 3));
    assert!(exceeds(b"0 0 0 Tj 0 0 0 Tj", 2));
    // Array elements count; the brackets open one token.
    assert!(exceeds(b"[1 2 3] TJ", 3));
    // Strings, comments and inline image data are single tokens or nothing.
    assert!(!exceeds(b"(a b (c) \\) d e f) Tj", 1));
    assert!(!exceeds(b"% 1 2 3 4 5\n1 Tj", 1));
    assert!(!exceeds(b"<00 11 22 33> Tj", 1));
    assert!(!exceeds(b"BI /W 1 ID 0 0 0 0 0 0 EI Q", 2));
    // Keywords are operands, not operators.
    assert!(exceeds(b"true false null Tj", 2));
}

#[test]
fn a_stream_over_the_stream_cap_is_skipped_and_the_rest_read() {
    let mut doc = Document::with_version("1.5");
    let font = helvetica(&mut doc);
    let res = || dictionary! { "Font" => dictionary! { "F1" => font } };
    // Page 1: a comment of MAX_STREAM_BYTES + 1 bytes (compresses to a few KiB), then text.
    let mut big = vec![b'%'; MAX_STREAM_BYTES as usize + 1];
    big.extend_from_slice(b"\nBT /F1 12 Tf 72 700 Td (Lost) Tj ET");
    let page2: &[u8] = b"BT /F1 12 Tf 72 700 Td (Kept) Tj ET";
    let bytes = build(&mut doc, vec![(&big, res()), (page2, res())]);
    let out = extract(&bytes, &limits()).unwrap();
    assert_eq!(out.text, "Kept");
    let cap = format!("1 stream(s) over {MAX_STREAM_BYTES} bytes decompressed skipped");
    assert!(
        out.notes.iter().any(|n| n.contains(&cap)),
        "{:?}",
        out.notes
    );
}

/// A page of text drawing a `size`-byte image.
fn text_and_image(size: usize) -> Vec<u8> {
    let mut doc = Document::with_version("1.5");
    let font = helvetica(&mut doc);
    // Noise, so that compression leaves it its size.
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    let pixels: Vec<u8> = (0..size)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    let image = doc.add_object(Stream::new(
        dictionary! { "Type" => "XObject", "Subtype" => "Image", "Width" => size as i64, "Height" => 1,
        "ColorSpace" => "DeviceGray", "BitsPerComponent" => 8 },
        pixels,
    ));
    let res = dictionary! { "Font" => dictionary! { "F1" => font }, "XObject" => dictionary! { "Im1" => image } };
    let page: &[u8] = b"q 100 0 0 100 0 0 cm /Im1 Do Q BT /F1 12 Tf 72 700 Td (Caption) Tj ET";
    build(&mut doc, vec![(page, res)])
}

#[test]
fn image_data_is_not_loaded_but_the_image_is_counted() {
    let bytes = text_and_image(2_000_000);
    assert!(bytes.len() > 2_000_000);
    let doc = load(&bytes, &limits(), Some(drop_image_data)).unwrap();
    let held: usize = doc
        .objects
        .values()
        .filter_map(|o| o.as_stream().ok())
        .map(|s| s.content.len())
        .sum();
    assert!(held < 10_000, "{held} bytes of streams held");
    let out = extract(&bytes, &limits()).unwrap();
    assert_eq!(out.text, "Caption");
    assert!(
        out.notes.iter().any(|n| n.contains("1 image")),
        "{:?}",
        out.notes
    );
}

#[test]
fn a_page_tree_only_lopdf_repair_finds_is_still_read() {
    // The cross-reference entry of the page-tree root points at the catalog instead: the root is missing from a
    // load that trusts the table, which lopdf repairs by scanning the file only when it loads unfiltered.
    let mut doc = Document::load_mem(&two_page_helvetica()).unwrap();
    doc.reference_table.cross_reference_type = lopdf::xref::XrefType::CrossReferenceTable;
    let mut bytes = Vec::new();
    doc.save_to(&mut bytes).unwrap();
    let find = |needle: &str, from: usize| {
        from + bytes[from..]
            .windows(needle.len())
            .position(|w| w == needle.as_bytes())
            .unwrap()
    };
    let number_after = |key: &str| {
        let at = find(key, 0) + key.len();
        let digits: Vec<u8> = bytes[at..]
            .iter()
            .copied()
            .take_while(u8::is_ascii_digit)
            .collect();
        String::from_utf8(digits).unwrap().parse::<usize>().unwrap()
    };
    let (root, pages) = (number_after("/Root "), number_after("/Pages "));
    let catalog_at = find(&format!("\n{root} 0 obj"), 0) + 1;
    let entry = find("0000000000 65535 f", find("\nxref\n", 0)) + 20 * pages;
    bytes[entry..entry + 10].copy_from_slice(format!("{catalog_at:010}").as_bytes());
    let filtered = load(&bytes, &limits(), Some(drop_image_data)).unwrap();
    assert!(!page_tree_loaded(&filtered));
    let out = extract(&bytes, &limits()).unwrap();
    assert_eq!(
        out.text,
        "Hello World\nSecond line\nKern gapged\ncafé\nquote line\nPage two"
    );
}

#[path = "pdf_scan_tests.rs"]
mod scan;
