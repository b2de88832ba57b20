//! Random identifiers from the operating system's source: API key ids and secrets, the cluster uuid, the
//! license uid. Kept apart so every caller gets the same failure type when the source is unavailable.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use super::errors::FrontError;

pub(crate) fn bytes<const N: usize>() -> Result<[u8; N], FrontError> {
    let mut buf = [0u8; N];
    getrandom::getrandom(&mut buf).map_err(|e| FrontError::Random(e.to_string()))?;
    Ok(buf)
}

/// `N` random bytes as unpadded URL-safe base64 (the alphabet of ES ids).
pub(crate) fn token<const N: usize>() -> Result<String, FrontError> {
    Ok(URL_SAFE_NO_PAD.encode(bytes::<N>()?))
}

/// A random 8-4-4-4-12 hex identifier, the shape of a UUID.
pub(crate) fn uuid() -> Result<String, FrontError> {
    let hex: String = bytes::<16>()?.iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn shapes() {
        assert_eq!(super::token::<15>().unwrap().len(), 20);
        let u = super::uuid().unwrap();
        assert_eq!(u.len(), 36);
        assert_eq!(u.matches('-').count(), 4);
        assert_ne!(super::uuid().unwrap(), u);
    }
}
