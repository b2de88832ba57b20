//! Checks a `client_assertion` the way Entra ID does for certificate credentials: an RS256 JWT whose
//! header names the certificate (`x5t`), whose `aud` is the token endpoint, `iss` = `sub` = client id,
//! with `jti`, `exp` in the future and `nbf` not in the future (5 minutes of clock skew allowed). With a
//! public key configured, the signature is verified too; without one only the structure and claims are.

use base64::Engine;
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::signature::Verifier;
use rsa::RsaPublicKey;
use serde_json::Value;
use sha2::Sha256;

const SKEW_SECS: i64 = 300;

/// Why an assertion was refused: (AADSTS code, message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection(pub u32, pub String);

fn decode_part(part: &str) -> Option<Value> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Parses a public key in PEM: `PUBLIC KEY` (SPKI) or `RSA PUBLIC KEY` (PKCS#1).
pub fn parse_public_key(pem: &str) -> Result<RsaPublicKey, String> {
    use rsa::pkcs1::DecodeRsaPublicKey;
    use rsa::pkcs8::DecodePublicKey;
    RsaPublicKey::from_public_key_pem(pem.trim())
        .or_else(|_| RsaPublicKey::from_pkcs1_pem(pem.trim()))
        .map_err(|e| format!("not an RSA public key in PEM (PUBLIC KEY or RSA PUBLIC KEY): {e}"))
}

/// Validates `assertion` for `client_id`; `audiences` are the token endpoint URLs accepted as `aud`.
pub fn check(
    assertion: &str,
    client_id: &str,
    audiences: &[String],
    key: Option<&RsaPublicKey>,
    now: i64,
) -> Result<(), Rejection> {
    let malformed = || Rejection(50027, "JWT token is invalid or malformed.".into());
    let parts: Vec<&str> = assertion.split('.').collect();
    if parts.len() != 3 {
        return Err(malformed());
    }
    let header = decode_part(parts[0]).ok_or_else(malformed)?;
    let claims = decode_part(parts[1]).ok_or_else(malformed)?;
    if header.get("alg").and_then(Value::as_str) != Some("RS256") {
        return Err(Rejection(
            5002738,
            "Invalid JWT token. 'alg' must be RS256 for client assertions.".into(),
        ));
    }
    let thumbprint = header
        .get("x5t")
        .or_else(|| header.get("x5t#S256"))
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty());
    if thumbprint.is_none() {
        return Err(Rejection(
            700027,
            "Client assertion contains an invalid signature. [Reason - The key was not found.]"
                .into(),
        ));
    }
    let aud_ok = match claims.get("aud") {
        Some(Value::String(a)) => audiences.iter().any(|x| same_url(x, a)),
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(Value::as_str)
            .any(|a| audiences.iter().any(|x| same_url(x, a))),
        _ => false,
    };
    if !aud_ok {
        return Err(Rejection(
            700023,
            "Client assertion audience claim does not match Realm issuer. Review the documentation at https://docs.microsoft.com/azure/active-directory/develop/active-directory-certificate-credentials .".into(),
        ));
    }
    let iss = claims.get("iss").and_then(Value::as_str);
    let sub = claims.get("sub").and_then(Value::as_str);
    if iss != Some(client_id) || sub != Some(client_id) {
        return Err(Rejection(
            700021,
            "Client assertion application identifier doesn't match 'client_id' parameter. Review the documentation at https://docs.microsoft.com/azure/active-directory/develop/active-directory-certificate-credentials .".into(),
        ));
    }
    if claims
        .get("jti")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        return Err(Rejection(
            700025,
            "Client assertion is missing the 'jti' claim.".into(),
        ));
    }
    let exp = claims.get("exp").and_then(Value::as_i64);
    let nbf = claims.get("nbf").and_then(Value::as_i64);
    let in_range =
        exp.is_some_and(|e| e + SKEW_SECS > now) && nbf.is_none_or(|n| n - SKEW_SECS <= now);
    if !in_range {
        return Err(Rejection(
            700024,
            format!(
                "Client assertion is not within its valid time range. Current time: {}, assertion valid from {}, expiry time of assertion {}.",
                iso(Some(now)), iso(nbf), iso(exp)
            ),
        ));
    }
    if let Some(key) = key {
        let signature = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(parts[2].trim_end_matches('='))
            .ok()
            .and_then(|b| Signature::try_from(b.as_slice()).ok())
            .ok_or_else(malformed)?;
        let verifier = VerifyingKey::<Sha256>::new(key.clone());
        let signed = format!("{}.{}", parts[0], parts[1]);
        if verifier.verify(signed.as_bytes(), &signature).is_err() {
            return Err(Rejection(
                700027,
                "Client assertion failed signature validation.".into(),
            ));
        }
    }
    Ok(())
}

fn same_url(a: &str, b: &str) -> bool {
    a.trim_end_matches('/')
        .eq_ignore_ascii_case(b.trim_end_matches('/'))
}

fn iso(secs: Option<i64>) -> String {
    secs.and_then(|s| chrono::DateTime::from_timestamp(s, 0))
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
        .unwrap_or_else(|| "(none)".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn b64(v: &Value) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    }

    fn assertion(header: Value, claims: Value) -> String {
        format!("{}.{}.c2ln", b64(&header), b64(&claims))
    }

    const AUD: &str = "http://127.0.0.1:1/t/oauth2/v2.0/token";

    fn good_claims(now: i64) -> Value {
        json!({"aud": AUD, "iss": "c", "sub": "c", "jti": "j", "nbf": now, "exp": now + 600})
    }

    #[test]
    fn structure_and_claims() {
        let now = 1_700_000_000;
        let header = json!({"alg": "RS256", "typ": "JWT", "x5t": "abc"});
        let auds = vec![AUD.to_string()];
        assert_eq!(
            check(
                &assertion(header.clone(), good_claims(now)),
                "c",
                &auds,
                None,
                now
            ),
            Ok(())
        );
        let mut expired = good_claims(now);
        expired["exp"] = json!(now - 1000);
        assert_eq!(
            check(&assertion(header.clone(), expired), "c", &auds, None, now)
                .unwrap_err()
                .0,
            700024
        );
        let mut wrong_aud = good_claims(now);
        wrong_aud["aud"] = json!("https://elsewhere/token");
        assert_eq!(
            check(&assertion(header.clone(), wrong_aud), "c", &auds, None, now)
                .unwrap_err()
                .0,
            700023
        );
        assert_eq!(
            check(
                &assertion(header.clone(), good_claims(now)),
                "other",
                &auds,
                None,
                now
            )
            .unwrap_err()
            .0,
            700021
        );
        let no_x5t = json!({"alg": "RS256"});
        assert_eq!(
            check(&assertion(no_x5t, good_claims(now)), "c", &auds, None, now)
                .unwrap_err()
                .0,
            700027
        );
        assert_eq!(
            check("not-a-jwt", "c", &auds, None, now).unwrap_err().0,
            50027
        );
    }
}
