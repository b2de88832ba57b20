//! PDFs written front to back: a few pages of text in Helvetica, and one large image XObject of random bytes
//! (an unfiltered greyscale scan) drawn on the first page. The image is the last object, so every offset the
//! cross-reference table needs is known before its bytes are written.

use axum::body::Bytes;

use super::super::super::rng::{mix, Rng};
use super::super::words;
use super::Part;

/// Image width in pixels (one byte each); the height follows from the size asked for.
const WIDTH: u64 = 1024;

pub fn exact_len(target: u64, seed: u64) -> u64 {
    let fixed = fixed_len(seed, 1);
    let height = (target.saturating_sub(fixed) / WIDTH).max(1);
    fixed_len(seed, height) + WIDTH * height
}

/// Bytes of a file with an image `height` pixels high, the image's bytes not counted.
fn fixed_len(seed: u64, height: u64) -> u64 {
    let (head, _, tail) = layout(seed, height);
    (head.len() + tail.len()) as u64
}

pub(super) fn parts(len: u64, seed: u64) -> Vec<Part> {
    // `len` came from `exact_len`: find the height that gives it (the fixed part differs only by a few digits).
    let guess = (len.saturating_sub(fixed_len(seed, 1)) / WIDTH).max(1);
    let height = (guess.saturating_sub(2)..=guess + 2)
        .map(|h| h.max(1))
        .find(|&h| fixed_len(seed, h) + WIDTH * h == len)
        .unwrap_or(guess);
    let (head, image, tail) = layout(seed, height);
    vec![
        Part::Fixed(Bytes::from(head)),
        Part::Random {
            offset: 0,
            len: image,
        },
        Part::Fixed(Bytes::from(tail)),
    ]
}

/// Everything before the image's bytes, their length, and everything after.
fn layout(seed: u64, height: u64) -> (Vec<u8>, u64, Vec<u8>) {
    let mut rng = Rng::new(mix(seed ^ 0x00AD_0BE0));
    let pages = rng.between(2, 4);
    let font = 3;
    let image_obj = 4 + 2 * pages;
    let mut out: Vec<u8> = b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = Vec::new();
    let object = |out: &mut Vec<u8>, offsets: &mut Vec<usize>, body: &[u8]| {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", offsets.len()).as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    };
    object(&mut out, &mut offsets, b"<< /Type /Catalog /Pages 2 0 R >>");
    let kids: Vec<String> = (0..pages).map(|p| format!("{} 0 R", 4 + 2 * p)).collect();
    object(
        &mut out,
        &mut offsets,
        format!(
            "<< /Type /Pages /Kids [{}] /Count {pages} >>",
            kids.join(" ")
        )
        .as_bytes(),
    );
    object(
        &mut out,
        &mut offsets,
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    );
    for p in 0..pages {
        object(
            &mut out,
            &mut offsets,
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 {font} 0 R >> \
                 /XObject << /Im1 {image_obj} 0 R >> >> /Contents {} 0 R >>",
                5 + 2 * p
            )
            .as_bytes(),
        );
        let mut content = String::from("BT /F1 11 Tf 14 TL 72 740 Td\n");
        if p == 0 {
            content.push_str(&format!(
                "({}) Tj T* T*\n",
                pdf_text(rng.pick_copy(words::TOPICS))
            ));
        }
        for _ in 0..rng.between(12, 30) {
            content.push_str(&format!(
                "({}) Tj T*\n",
                pdf_text(&words::sentence(&mut rng))
            ));
        }
        content.push_str("ET\n");
        if p == 0 {
            content.push_str("q 468 0 0 200 72 60 cm /Im1 Do Q\n");
        }
        object(
            &mut out,
            &mut offsets,
            format!(
                "<< /Length {} >>\nstream\n{content}endstream",
                content.len()
            )
            .as_bytes(),
        );
    }
    let image = WIDTH * height;
    offsets.push(out.len());
    out.extend_from_slice(
        format!(
            "{image_obj} 0 obj\n<< /Type /XObject /Subtype /Image /Width {WIDTH} /Height {height} \
             /ColorSpace /DeviceGray /BitsPerComponent 8 /Length {image} >>\nstream\n"
        )
        .as_bytes(),
    );
    let mut tail: Vec<u8> = b"\nendstream\nendobj\n".to_vec();
    let xref = out.len() as u64 + image + tail.len() as u64;
    tail.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", offsets.len() + 1).as_bytes(),
    );
    for o in &offsets {
        tail.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    tail.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            offsets.len() + 1
        )
        .as_bytes(),
    );
    (out, image, tail)
}

/// Text for a PDF string literal (WinAnsi: the generated words are ASCII; anything else becomes `?`).
fn pdf_text(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii() { c } else { '?' })
        .collect::<String>()
        .replace('\\', "\\\\")
        .replace('(', "\\(")
        .replace(')', "\\)")
}
