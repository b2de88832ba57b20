//! The dotenv file (`ENV_FILE`, else `./.env`): `KEY=value` lines, optional `export `, `#` comments, values
//! optionally in single or double quotes. Values are taken literally — no `$` expansion inside the file (the
//! dotenvy crate expands `$VAR`, which would silently corrupt a password such as `s3cr$t`); interpolation happens
//! once, in config.yml.

/// A line that is not `KEY=value`.
#[derive(Debug, PartialEq)]
pub struct DotenvError {
    pub line: usize,
    pub message: String,
}

pub fn parse(text: &str) -> Result<Vec<(String, String)>, DotenvError> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line
            .strip_prefix("export ")
            .map(str::trim_start)
            .unwrap_or(line);
        let err = |message: &str| DotenvError {
            line: i + 1,
            message: message.into(),
        };
        let (key, value) = line
            .split_once('=')
            .ok_or_else(|| err("expected KEY=value"))?;
        let key = key.trim();
        let valid_key = !key.is_empty()
            && key
                .chars()
                .all(|c| c == '_' || c == '.' || c == '-' || c.is_ascii_alphanumeric())
            && !key.starts_with(|c: char| c.is_ascii_digit());
        if !valid_key {
            return Err(err(&format!("`{key}` is not a variable name")));
        }
        out.push((key.to_string(), unquote(value.trim()).map_err(err)?));
    }
    Ok(out)
}

fn unquote(value: &str) -> Result<String, &'static str> {
    for q in ['"', '\''] {
        if let Some(inner) = value.strip_prefix(q) {
            let end = inner.find(q).ok_or("unterminated quoted value")?;
            let rest = inner[end + 1..].trim();
            if !rest.is_empty() && !rest.starts_with('#') {
                return Err("unexpected text after the closing quote");
            }
            let inner = &inner[..end];
            return Ok(if q == '"' {
                inner.replace("\\n", "\n")
            } else {
                inner.to_string()
            });
        }
    }
    // Unquoted: an inline comment starts at ` #`.
    let value = match value.find(" #") {
        Some(i) => value[..i].trim_end(),
        None => value,
    };
    Ok(value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kv(text: &str) -> Vec<(String, String)> {
        parse(text).unwrap()
    }

    #[test]
    fn literal_values_and_quotes() {
        let got = kv("# comment\nA=s3cr$t\nexport B = \"two words\" # note\nC='$HOME ${X}'\nD=x # trailing\nE=\n\n");
        let want: Vec<(String, String)> = [
            ("A", "s3cr$t"),
            ("B", "two words"),
            ("C", "$HOME ${X}"),
            ("D", "x"),
            ("E", ""),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn errors_name_the_line() {
        assert_eq!(parse("A=1\nnot a pair\n").unwrap_err().line, 2);
        assert_eq!(parse("1A=x").unwrap_err().line, 1);
        assert!(parse("A=\"open")
            .unwrap_err()
            .message
            .contains("unterminated"));
    }
}
