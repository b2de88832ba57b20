//! Basic sync rules (spec §8): [`validate`] checks a filter object (`{rules: [...], advanced_snippet: ...}`; the
//! scheduler validates an edited draft, the runner the job's active snapshot) and [`SyncRules`] applies the rules
//! of a valid filter to each document of a sync. Advanced rules: the Teams source has none, so
//! `advanced_snippet` is accepted and ignored here.
//!
//! Where this module deliberately differs from the reference (REF §12.12), all in [`SyncRules`] matching:
//! - **Bool fields.** The reference compared a bool with the string `"True"`/`"False"`, so `equals` never matched
//!   and `<`/`>` crashed. Here the rule value is read as `true`/`false`, ASCII case-insensitive and trimmed
//!   (`"true"`, `"True"`, `" FALSE "`), and compared as a bool (`false < true`). Nothing else is a bool — not
//!   `"1"`, `"0"`, `"yes"`: a value that is not clearly a bool makes the rule not match rather than guess.
//! - **Number fields with an unparsable rule value** (e.g. `> "abc"`). The reference fell back to a string and
//!   then `<`/`>` raised and failed the whole sync; here the rule simply does not match (for `equals` too,
//!   which is what the reference did for it).
//! - **Dates.** The reference only compared datetimes when a source yielded datetime objects, never for JSON
//!   strings. Here, when the document's string and the rule value both parse as ISO-8601 (RFC 3339 with an
//!   offset, a date-time without offset taken as UTC, or a bare `YYYY-MM-DD` taken as midnight UTC),
//!   `equals`/`<`/`>` compare the instants, so `2024-05-01T12:00:00+02:00` equals `2024-05-01T10:00:00Z`.
//! - **Other types** (null, arrays, objects) compare their compact JSON text with the rule value, instead of
//!   raising on `<`/`>`.
//! - **String forms.** `contains`/`starts_with`/`ends_with`/`regex` look at strings as they are and at every
//!   other value as compact JSON (`true`, `1.5`, `["a","b"]`, `null`), where the reference used Python's
//!   `str()` (`True`, `['a', 'b']`, `None`).
//! - `greater_than`/`less_than` are accepted as names of `>`/`<` (the reference rejected them).

mod engine;
mod validate;

pub use engine::SyncRules;
pub use validate::{describe, validate};
