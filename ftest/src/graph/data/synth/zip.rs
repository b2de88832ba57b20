//! Office files as zip archives written front to back: small XML parts (the text, stored with their CRC-32),
//! then one large stored image of random bytes whose CRC-32 is only known once it is written — so its local
//! header sets the data-descriptor flag and the CRC and sizes follow the data (as streaming zip writers do),
//! and the central directory at the end has them all.

use axum::body::Bytes;

use super::super::super::rng::{mix, Rng};
use super::super::words::{self, escape};
use super::{Part, Synth};

/// 2024-03-01 12:00 in MS-DOS form.
const DOS_TIME: u16 = 12 << 11;
const DOS_DATE: u16 = ((2024 - 1980) << 9) | (3 << 5) | 1;
/// The smallest image a file gets.
const MIN_MEDIA: u64 = 1024;
/// General-purpose flag bit 3: CRC and sizes are in a data descriptor after the data.
const DATA_DESCRIPTOR: u16 = 1 << 3;

pub fn exact_len(kind: Synth, target: u64, seed: u64) -> u64 {
    layout(kind, target, seed).1
}

pub(super) fn parts(kind: Synth, len: u64, seed: u64) -> Vec<Part> {
    layout(kind, len, seed).0
}

struct Entry {
    name: String,
    crc: u32,
    size: u32,
    offset: u32,
    flags: u16,
}

/// The parts of the archive closest to `target` bytes, and its exact length.
fn layout(kind: Synth, target: u64, seed: u64) -> (Vec<Part>, u64) {
    let (members, media) = members(kind, seed);
    let mut parts = Vec::new();
    let mut entries = Vec::new();
    let mut offset = 0u64;
    for (name, data) in members {
        let crc = crc32(data.as_bytes());
        let size = data.len() as u32;
        let mut bytes = local_header(&name, 0, crc, size);
        bytes.extend_from_slice(data.as_bytes());
        entries.push(Entry {
            name,
            crc,
            size,
            offset: offset as u32,
            flags: 0,
        });
        offset += bytes.len() as u64;
        parts.push(Part::Fixed(Bytes::from(bytes)));
    }
    let header = local_header(&media, DATA_DESCRIPTOR, 0, 0);
    let media_offset = offset;
    offset += header.len() as u64;
    let central_len: u64 = entries
        .iter()
        .map(|e| 46 + e.name.len() as u64)
        .sum::<u64>()
        + 46
        + media.len() as u64;
    let fixed = offset + 16 + central_len + 22;
    let media_len = target.saturating_sub(fixed).max(MIN_MEDIA);
    parts.push(Part::Fixed(Bytes::from(header)));
    parts.push(Part::Random {
        offset: 0,
        len: media_len,
    });
    let total = fixed + media_len;
    parts.push(Part::AfterCrc(Box::new(move |crc| {
        let size = media_len as u32;
        let mut out = Vec::with_capacity((16 + central_len + 22) as usize);
        put32(&mut out, 0x0807_4b50);
        put32(&mut out, crc);
        put32(&mut out, size);
        put32(&mut out, size);
        let directory_offset = (media_offset + header_len(&media) + media_len + 16) as u32;
        entries.push(Entry {
            name: media,
            crc,
            size,
            offset: media_offset as u32,
            flags: DATA_DESCRIPTOR,
        });
        for e in &entries {
            central_header(&mut out, e);
        }
        put32(&mut out, 0x0605_4b50);
        put16(&mut out, 0);
        put16(&mut out, 0);
        put16(&mut out, entries.len() as u16);
        put16(&mut out, entries.len() as u16);
        put32(&mut out, central_len as u32);
        put32(&mut out, directory_offset);
        put16(&mut out, 0);
        out
    })));
    (parts, total)
}

fn header_len(name: &str) -> u64 {
    30 + name.len() as u64
}

fn local_header(name: &str, flags: u16, crc: u32, size: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(30 + name.len());
    put32(&mut out, 0x0403_4b50);
    put16(&mut out, 20);
    put16(&mut out, flags);
    put16(&mut out, 0); // stored
    put16(&mut out, DOS_TIME);
    put16(&mut out, DOS_DATE);
    put32(&mut out, crc);
    put32(&mut out, size);
    put32(&mut out, size);
    put16(&mut out, name.len() as u16);
    put16(&mut out, 0);
    out.extend_from_slice(name.as_bytes());
    out
}

fn central_header(out: &mut Vec<u8>, e: &Entry) {
    put32(out, 0x0201_4b50);
    put16(out, 20);
    put16(out, 20);
    put16(out, e.flags);
    put16(out, 0);
    put16(out, DOS_TIME);
    put16(out, DOS_DATE);
    put32(out, e.crc);
    put32(out, e.size);
    put32(out, e.size);
    put16(out, e.name.len() as u16);
    put16(out, 0);
    put16(out, 0);
    put16(out, 0);
    put16(out, 0);
    put32(out, 0);
    put32(out, e.offset);
    out.extend_from_slice(e.name.as_bytes());
}

fn put16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// The small parts of a document (name, XML) and the name of its image.
fn members(kind: Synth, seed: u64) -> (Vec<(String, String)>, String) {
    let mut rng = Rng::new(mix(seed ^ 0x0FF1_CE00));
    let rels = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">";
    if kind == Synth::Pptx {
        let slides = rng.between(3, 8);
        let mut types = String::from(CONTENT_TYPES_HEAD);
        types.push_str("<Override PartName=\"/ppt/presentation.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml\"/>");
        let mut list = String::new();
        let mut out = Vec::new();
        for n in 1..=slides {
            types.push_str(&format!("<Override PartName=\"/ppt/slides/slide{n}.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.presentationml.slide+xml\"/>"));
            list.push_str(&format!("<p:sldId id=\"{}\" r:id=\"rId{n}\"/>", 255 + n));
            let title = escape(rng.pick_copy(words::TOPICS));
            let mut body = String::new();
            for _ in 0..rng.between(2, 5) {
                body.push_str(&format!(
                    "<a:p><a:r><a:t>{}</a:t></a:r></a:p>",
                    escape(&words::sentence(&mut rng))
                ));
            }
            out.push((
                format!("ppt/slides/slide{n}.xml"),
                format!("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<p:sld xmlns:a=\"http://schemas.openxmlformats.org/drawingml/2006/main\" xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\" xmlns:p=\"http://schemas.openxmlformats.org/presentationml/2006/main\"><p:cSld><p:spTree><p:sp><p:txBody><a:p><a:r><a:t>{title}</a:t></a:r></a:p></p:txBody></p:sp><p:sp><p:txBody>{body}</p:txBody></p:sp><p:pic><p:blipFill><a:blip r:embed=\"rIdImg\"/></p:blipFill></p:pic></p:spTree></p:cSld></p:sld>"),
            ));
        }
        types.push_str("</Types>");
        let mut all = vec![
            ("[Content_Types].xml".to_string(), types),
            ("_rels/.rels".to_string(), format!("{rels}<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument\" Target=\"ppt/presentation.xml\"/></Relationships>")),
            ("ppt/presentation.xml".to_string(), format!("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<p:presentation xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\" xmlns:p=\"http://schemas.openxmlformats.org/presentationml/2006/main\"><p:sldIdLst>{list}</p:sldIdLst></p:presentation>")),
        ];
        all.extend(out);
        (all, "ppt/media/image1.png".to_string())
    } else {
        let mut body = String::new();
        body.push_str(&format!(
            "<w:p><w:pPr><w:pStyle w:val=\"Title\"/></w:pPr><w:r><w:t>{}</w:t></w:r></w:p>",
            escape(rng.pick_copy(words::TOPICS))
        ));
        for _ in 0..rng.between(8, 40) {
            let sentences = rng.between(1, 4);
            body.push_str(&format!(
                "<w:p><w:r><w:t xml:space=\"preserve\">{}</w:t></w:r></w:p>",
                escape(&words::paragraph(&mut rng, sentences))
            ));
        }
        body.push_str("<w:p><w:r><w:drawing><a:graphic xmlns:a=\"http://schemas.openxmlformats.org/drawingml/2006/main\"><a:graphicData><a:blip r:embed=\"rId2\"/></a:graphicData></a:graphic></w:drawing></w:r></w:p>");
        let types = format!("{CONTENT_TYPES_HEAD}<Override PartName=\"/word/document.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml\"/></Types>");
        (
            vec![
                ("[Content_Types].xml".to_string(), types),
                ("_rels/.rels".to_string(), format!("{rels}<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument\" Target=\"word/document.xml\"/></Relationships>")),
                ("word/document.xml".to_string(), format!("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\" xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\"><w:body>{body}</w:body></w:document>")),
                ("word/_rels/document.xml.rels".to_string(), format!("{rels}<Relationship Id=\"rId2\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/image\" Target=\"media/image1.png\"/></Relationships>")),
            ],
            "word/media/image1.png".to_string(),
        )
    }
}

const CONTENT_TYPES_HEAD: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\"><Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/><Default Extension=\"xml\" ContentType=\"application/xml\"/><Default Extension=\"png\" ContentType=\"image/png\"/>";

/// CRC-32 (IEEE, as zip uses), slice-by-8: the fixture checksums every generated image it serves.
pub struct Crc32(u32);

static TABLES: [[u32; 256]; 8] = tables();

const fn tables() -> [[u32; 256]; 8] {
    let mut t = [[0u32; 256]; 8];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        t[0][i] = c;
        i += 1;
    }
    let mut s = 1;
    while s < 8 {
        let mut i = 0;
        while i < 256 {
            let prev = t[s - 1][i];
            t[s][i] = (prev >> 8) ^ t[0][(prev & 0xFF) as usize];
            i += 1;
        }
        s += 1;
    }
    t
}

impl Crc32 {
    pub fn new() -> Crc32 {
        Crc32(0xFFFF_FFFF)
    }

    pub fn update(&mut self, bytes: &[u8]) {
        let mut crc = self.0;
        let mut blocks = bytes.chunks_exact(8);
        for b in &mut blocks {
            let lo = crc ^ u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
            let hi = u32::from_le_bytes([b[4], b[5], b[6], b[7]]);
            crc = TABLES[7][(lo & 0xFF) as usize]
                ^ TABLES[6][((lo >> 8) & 0xFF) as usize]
                ^ TABLES[5][((lo >> 16) & 0xFF) as usize]
                ^ TABLES[4][(lo >> 24) as usize]
                ^ TABLES[3][(hi & 0xFF) as usize]
                ^ TABLES[2][((hi >> 8) & 0xFF) as usize]
                ^ TABLES[1][((hi >> 16) & 0xFF) as usize]
                ^ TABLES[0][(hi >> 24) as usize];
        }
        for &b in blocks.remainder() {
            crc = TABLES[0][((crc ^ u32::from(b)) & 0xFF) as usize] ^ (crc >> 8);
        }
        self.0 = crc;
    }

    pub fn value(&self) -> u32 {
        !self.0
    }
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut c = Crc32::new();
    c.update(bytes);
    c.value()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        let mut split = Crc32::new();
        split.update(b"1234");
        split.update(b"56789");
        assert_eq!(split.value(), 0xCBF4_3926);
    }
}
