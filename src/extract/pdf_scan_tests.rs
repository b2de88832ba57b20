//! The pre-scan: stream data skipped by its length, image lengths hidden from lopdf.

use super::syntax::{pre_scan, syntax_nesting_exceeds};
use super::*;

fn image_bytes(doc: &Document) -> usize {
    doc.objects
        .values()
        .filter_map(|o| o.as_stream().ok())
        .filter(|s| s.dict.get(b"Subtype").and_then(Object::as_name).ok() == Some(b"Image"))
        .map(|s| s.content.len())
        .sum()
}

#[test]
fn image_data_is_hidden_from_lopdf_and_the_text_is_unchanged() {
    let bytes = text_and_image(200_000);
    let scan = pre_scan(&bytes, MAX_SYNTAX_NESTING);
    assert!(!scan.too_deep);
    assert_eq!(scan.image_lengths.len(), 1, "{scan:?}");
    let digits = &bytes[scan.image_lengths[0].clone()];
    let length: usize = std::str::from_utf8(digits).unwrap().parse().unwrap();
    assert!(length >= 200_000, "{length}");

    let mut hidden = bytes.clone();
    syntax::hide_image_data(&mut hidden, &scan.image_lengths);
    assert_eq!(hidden.len(), bytes.len());
    // Even loading without the filter, lopdf no longer copies the image's data out of the file.
    let unfiltered = |b: &[u8]| image_bytes(&load(b, &limits(), None).unwrap());
    assert!(unfiltered(&bytes) >= 200_000);
    assert_eq!(unfiltered(&hidden), 0);

    let mut buffer = bytes.clone();
    let in_place = extract_in_place(&mut buffer, &limits()).unwrap();
    assert_eq!(in_place, extract(&bytes, &limits()).unwrap());
    assert_eq!(in_place.text, "Caption");
    assert!(
        in_place.notes.iter().any(|n| n.contains("1 image")),
        "{:?}",
        in_place.notes
    );
}

#[test]
fn stream_data_is_skipped_by_its_length() {
    // The data holds `endstream` and then brackets: searching for the keyword would misread them as syntax.
    let data = b"xx endstream [[[[[[[[[[[[ ";
    let object = |length: usize| {
        let mut out = format!("1 0 obj << /Length {length} >>\nstream\n").into_bytes();
        out.extend_from_slice(data);
        out.extend_from_slice(b"\nendstream\nendobj\n");
        out
    };
    assert!(!syntax_nesting_exceeds(&object(data.len()), 8));
    // A wrong length (no `endstream` where it points) falls back to the search.
    assert!(syntax_nesting_exceeds(&object(data.len() + 3), 8));
}

#[test]
fn only_direct_lengths_of_images_are_hidden() {
    let stream = |dict: &str| {
        let mut out = format!("1 0 obj << {dict} >>\nstream\n").into_bytes();
        out.extend_from_slice(&[0u8; 120]);
        out.extend_from_slice(b"\nendstream\nendobj\n");
        out
    };
    let found = |dict: &str| pre_scan(&stream(dict), 8).image_lengths.len();
    assert_eq!(
        found("/Type /XObject /Subtype /Image /Width 120 /Length 120"),
        1
    );
    assert_eq!(found("/Length 120 /Subtype/Image"), 1);
    // A reference, not a number.
    assert_eq!(found("/Subtype /Image /Length 2 0 R"), 0);
    // Not an image, or `/Image` in a nested dictionary.
    assert_eq!(found("/Subtype /Form /Length 120"), 0);
    assert_eq!(found("/Length 120 /DecodeParms << /Subtype /Image >>"), 0);
}
