//! Walking spanned TOML: typed access to keys, and problems with file, line, column and key.
//!
//! The same approach as `scenario::parse` (whose checker is private to it): every accessor reports
//! a wrong type at the value and returns `None`, so a caller goes on and finds the next problem.

use std::ops::Range;

use serde_spanned::Spanned;
use toml::de::{DeTable, DeValue};

use crate::scenario::Problem;

/// Longest pattern, stage or beat name, in bytes.
pub(super) const NAME_BYTES_MAX: usize = 64;

/// A spanned TOML value.
pub(super) type Item<'i> = Spanned<DeValue<'i>>;

/// Walks the spanned document and collects problems.
pub(super) struct Checker<'a> {
    pub file: &'a str,
    pub text: &'a str,
    /// Byte offset of the start of each line.
    line_starts: Vec<usize>,
    pub problems: Vec<Problem>,
}

impl<'a> Checker<'a> {
    pub(super) fn new(text: &'a str, file: &'a str) -> Self {
        let line_starts = std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect();
        Self { file, text, line_starts, problems: Vec::new() }
    }
}

impl Checker<'_> {
    pub(super) fn check_name(&mut self, name: &str, span: Range<usize>, key: &str) {
        if name.is_empty() || name.len() > NAME_BYTES_MAX || !name.bytes().all(is_name_byte) {
            self.report(span, key, format!("{name:?} must be 1 to {NAME_BYTES_MAX} characters of [a-z0-9_-]"));
        }
    }

    pub(super) fn unknown_keys(&mut self, t: &DeTable<'_>, path: &str, allowed: &[&str]) {
        for k in t.keys() {
            if !allowed.contains(&k.get_ref().as_ref()) {
                let m = format!("unknown key {:?}; expected one of {}", k.get_ref(), allowed.join(", "));
                self.report(k.span(), join(path, k.get_ref()), m);
            }
        }
    }

    pub(super) fn missing(&mut self, span: Range<usize>, path: &str, key: &str) {
        self.report(span, join(path, key), format!("missing required key {key:?}"));
    }

    pub(super) fn type_error(&mut self, v: &Item<'_>, key: String, expected: &str) {
        self.report(v.span(), key, format!("expected {expected}, found {}", v.get_ref().type_str()));
    }

    pub(super) fn string<'t>(&mut self, t: &'t DeTable<'_>, path: &str, key: &str) -> Option<(&'t str, Range<usize>)> {
        let v = t.get(key)?;
        match v.get_ref().as_str() {
            Some(s) => Some((s, v.span())),
            None => {
                self.type_error(v, join(path, key), "a string");
                None
            }
        }
    }

    /// A string or an array of strings (each with its span).
    pub(super) fn strings<'t>(&mut self, t: &'t DeTable<'_>, path: &str, key: &str) -> Vec<(&'t str, Range<usize>)> {
        let Some(v) = t.get(key) else { return Vec::new() };
        let items: Vec<&Item<'_>> = match v.get_ref() {
            DeValue::Array(a) => a.iter().collect(),
            _ => vec![v],
        };
        let mut out = Vec::new();
        for (i, item) in items.into_iter().enumerate() {
            match item.get_ref().as_str() {
                Some(s) => out.push((s, item.span())),
                None => self.type_error(item, format!("{}[{i}]", join(path, key)), "a string"),
            }
        }
        out
    }

    pub(super) fn boolean(&mut self, t: &DeTable<'_>, path: &str, key: &str) -> Option<bool> {
        let v = t.get(key)?;
        let b = v.get_ref().as_bool();
        if b.is_none() {
            self.type_error(v, join(path, key), "a boolean");
        }
        b
    }

    /// An integer in `0..=max`.
    pub(super) fn uint(&mut self, t: &DeTable<'_>, path: &str, key: &str, max: u64) -> Option<u64> {
        let v = t.get(key)?;
        let Some(i) = v.get_ref().as_integer() else {
            self.type_error(v, join(path, key), "an integer number of ticks");
            return None;
        };
        match u64::from_str_radix(i.as_str(), i.radix()) {
            Ok(n) if n <= max => Some(n),
            _ => {
                self.report(v.span(), join(path, key), format!("{i} is outside 0..={max}"));
                None
            }
        }
    }

    pub(super) fn table<'t, 'i>(
        &mut self,
        t: &'t DeTable<'i>,
        path: &str,
        key: &str,
    ) -> Option<(&'t DeTable<'i>, Range<usize>)> {
        let v = t.get(key)?;
        self.expect_table(v, &join(path, key)).map(|t| (t, v.span()))
    }

    pub(super) fn expect_table<'t, 'i>(&mut self, v: &'t Item<'i>, key: &str) -> Option<&'t DeTable<'i>> {
        let t = v.get_ref().as_table();
        if t.is_none() {
            self.type_error(v, key.to_owned(), "a table");
        }
        t
    }

    pub(super) fn array_of_tables<'t, 'i>(
        &mut self,
        top: &'t DeTable<'i>,
        key: &str,
    ) -> Option<(&'t [Item<'i>], Range<usize>)> {
        let (k, v) = top.get_key_value(key)?;
        match v.get_ref().as_array() {
            Some(a) => Some((&a[..], k.span())),
            None => {
                self.type_error(v, key.to_owned(), &format!("an array of tables [[{key}]]"));
                None
            }
        }
    }

    /// Byte offset in the file of byte `offset` of string value `s` written at `span`: exact for a
    /// plain quoted string, the string's start otherwise (escapes shift positions).
    pub(super) fn offset_in_string(&self, span: Range<usize>, s: &str, offset: usize) -> usize {
        let raw = self.text.get(span.clone()).unwrap_or("");
        let plain = raw.len() == s.len() + 2 && raw.get(1..raw.len() - 1) == Some(s);
        if plain { span.start + 1 + offset } else { span.start }
    }

    pub(super) fn report(&mut self, span: Range<usize>, key: impl Into<String>, message: impl Into<String>) {
        let (line, column) = self.line_col(span.start);
        self.problems.push(Problem {
            file: self.file.to_owned(),
            line,
            column,
            key: key.into(),
            message: message.into(),
        });
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub(super) fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|&s| s <= offset);
        let start = self.line_starts[line.saturating_sub(1)];
        let column = self.text.get(start..offset).map_or(offset - start, |s| s.chars().count());
        (line.max(1), column + 1)
    }
}

pub(super) fn join(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_owned() } else { format!("{path}.{key}") }
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-'
}
