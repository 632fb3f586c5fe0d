//! Pattern text to a validated [`Pattern`], reporting every problem with file, line, column and key.
//!
//! The same approach as `scenario::parse`: the TOML is parsed into spanned values and walked by hand.
//! A pattern is checked in two passes: first the stages, clauses and their `where` tables (which bind
//! variables), then `when` conditions and `unless` tests, which may only use variables that are
//! certainly bound at their point of the pattern.

use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use serde_spanned::Spanned;
use toml::de::{DeTable, DeValue};

use super::check::{Checker, Item, NAME_BYTES_MAX};
use super::expr::{self, Expr, Scope};
use super::fact::{FactKind, FieldType, Slot, Value};
use super::pattern::{
    ARC_KINDS, CLAUSES_MAX, Clause, FieldTest, Pattern, STAGE_CLAUSES_MAX, STAGES_MAX, Stage, Test, UNLESS_MAX,
    VARS_MAX, WITHIN_MAX, bound_sets, plan,
};
use super::{FORMAT, LoadError, PATTERN_FILES_MAX};
use crate::scenario::{Genre, Problem};

/// Largest pattern file accepted, in bytes.
const TEXT_BYTES_MAX: usize = 1 << 20;
/// Longest `when` condition, in bytes.
const CONDITION_BYTES_MAX: usize = 512;

const TOP_KEYS: &[&str] = &["format", "pattern", "stage"];
const PATTERN_KEYS: &[&str] = &["name", "kind", "genre", "vars", "description"];
const STAGE_KEYS: &[&str] =
    &["name", "within", "optional", "any", "once", "unless", "clause", "event", "where", "when"];
const CLAUSE_KEYS: &[&str] = &["name", "event", "where", "when", "within", "unless"];
const UNLESS_KEYS: &[&str] = &["event", "where", "when"];
const GENRES: &[(&str, Genre)] = &[
    ("drama", Genre::Drama),
    ("romance", Genre::Romance),
    ("mystery", Genre::Mystery),
    ("adventure", Genre::Adventure),
];

/// Reads and validates every `*.toml` file in `dir`, in file-name order. Every problem in every
/// file is reported, and pattern names must be unique across the directory.
pub fn load_dir(dir: &Path) -> Result<Vec<Pattern>, LoadError> {
    let io = |source| LoadError::Io { file: dir.display().to_string(), source };
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        if path.extension().is_some_and(|e| e == "toml") {
            paths.push(path);
        }
    }
    paths.sort();
    let mut problems = Vec::new();
    if paths.len() > PATTERN_FILES_MAX {
        let message = format!("{} pattern files; at most {PATTERN_FILES_MAX} are loaded", paths.len());
        problems.push(Problem { file: dir.display().to_string(), line: 0, column: 0, key: "files".into(), message });
    }
    let mut out: Vec<(Pattern, usize)> = Vec::new();
    for path in paths.iter().take(PATTERN_FILES_MAX) {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| LoadError::Io { file: file.clone(), source })?;
        match parse_located(&text, &file) {
            Ok((p, line)) => {
                if let Some((first, first_line)) = out.iter().find(|(q, _)| q.name == p.name) {
                    let message =
                        format!("duplicate pattern name {:?} (first in {}:{first_line})", p.name, first.source);
                    problems.push(Problem { file, line, column: 1, key: "pattern.name".into(), message });
                } else {
                    out.push((p, line));
                }
            }
            Err(ps) => problems.extend(ps),
        }
    }
    if problems.is_empty() { Ok(out.into_iter().map(|(p, _)| p).collect()) } else { Err(LoadError::Invalid(problems)) }
}

/// Reads and validates the pattern file at `path`.
pub fn load(path: &Path) -> Result<Pattern, LoadError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| LoadError::Io { file: file.clone(), source })?;
    parse(&text, &file)
}

/// Validates pattern `text`; `file` names it in problems and becomes [`Pattern::source`].
///
/// Returns [`LoadError::Invalid`] with every problem found, sorted by position; a TOML syntax error
/// is a single problem.
pub fn parse(text: &str, file: &str) -> Result<Pattern, LoadError> {
    parse_located(text, file).map(|(p, _)| p).map_err(LoadError::Invalid)
}

/// The pattern and the line of its name, or every problem.
fn parse_located(text: &str, file: &str) -> Result<(Pattern, usize), Vec<Problem>> {
    let mut cx = Checker::new(text, file);
    if text.len() > TEXT_BYTES_MAX {
        cx.report(0..0, "file", format!("{} bytes; a pattern may have at most {TEXT_BYTES_MAX}", text.len()));
        return Err(cx.problems);
    }
    let root = match DeTable::parse(text) {
        Ok(root) => root,
        Err(e) => {
            cx.report(e.span().unwrap_or(0..0), "syntax", e.message());
            return Err(cx.problems);
        }
    };
    let (pattern, line) = cx.pattern(&root);
    if cx.problems.is_empty() {
        Ok((pattern, line))
    } else {
        cx.problems.sort_by_key(|p| (p.line, p.column));
        Err(cx.problems)
    }
}

/// What a variable was used as so far.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum VarType {
    Unknown,
    Char,
    Group,
    /// Used only where a character or an alliance fits.
    Party,
}

/// Declared variables, their types by use, and which a `where` binds.
struct Vars {
    names: Vec<String>,
    types: Vec<VarType>,
    bound: u32,
}

/// A stage as read in the first pass.
struct RawStage<'t, 'i> {
    path: String,
    span: Range<usize>,
    table: &'t DeTable<'i>,
    stage: Stage,
    /// Clause tables and their key paths.
    clauses: Vec<(&'t DeTable<'i>, String, Range<usize>)>,
}

impl Checker<'_> {
    /// The whole pattern and the line of its name (meaningful only without problems).
    fn pattern(&mut self, root: &Spanned<DeTable<'_>>) -> (Pattern, usize) {
        let (top, span) = (root.get_ref(), root.span());
        self.unknown_keys(top, "", TOP_KEYS);
        match self.string(top, "", "format") {
            Some((f, _)) if f == FORMAT => {}
            Some((f, s)) => self.report(s, "format", format!("unsupported format {f:?}; expected {FORMAT:?}")),
            None if top.get("format").is_none() => self.missing(span.clone(), "", "format"),
            None => {}
        }
        let mut p = Pattern {
            name: String::new(),
            kind: String::new(),
            genres: Vec::new(),
            description: String::new(),
            source: self.file.to_owned(),
            vars: Vec::new(),
            stages: Vec::new(),
            clauses: Vec::new(),
            plan: Vec::new(),
        };
        let mut vars = Vars { names: Vec::new(), types: Vec::new(), bound: 0 };
        let mut line = 0;
        match self.table(top, "", "pattern") {
            Some((t, s)) => line = self.header(t, s, &mut p, &mut vars),
            None if top.get("pattern").is_none() => self.missing(span.clone(), "", "pattern"),
            None => {}
        }
        let raw = self.stages(top, span.clone());
        self.structure(&raw);
        self.clauses(&raw, &mut p, &mut vars);
        for (i, name) in vars.names.iter().enumerate() {
            if vars.bound & (1 << i) == 0 {
                let s = top.get("pattern").and_then(|t| t.get_ref().get("vars")).map_or(span.clone(), Spanned::span);
                self.report(s, "pattern.vars", format!("?{name} is declared but no clause's `where` binds it"));
            }
        }
        p.vars = vars.names.iter().map(|n| Arc::from(n.as_str())).collect();
        if self.problems.is_empty() {
            p.plan = plan(&p.stages, &p.clauses);
        }
        (p, line)
    }

    /// `[pattern]`; returns the line of the name.
    fn header(&mut self, t: &DeTable<'_>, span: Range<usize>, p: &mut Pattern, vars: &mut Vars) -> usize {
        let path = "pattern";
        self.unknown_keys(t, path, PATTERN_KEYS);
        let mut line = self.line_col(span.start).0;
        match self.string(t, path, "name") {
            Some((n, s)) => {
                line = self.line_col(s.start).0;
                self.check_name(n, s, "pattern.name");
                p.name = n.to_owned();
            }
            None if t.get("name").is_none() => self.missing(span.clone(), path, "name"),
            None => {}
        }
        match self.string(t, path, "kind") {
            Some((k, _)) if ARC_KINDS.contains(&k) => p.kind = k.to_owned(),
            Some((k, s)) => self.report(
                s,
                "pattern.kind",
                format!("unknown arc kind {k:?}; expected one of {}", ARC_KINDS.join(", ")),
            ),
            None if t.get("kind").is_none() => self.missing(span.clone(), path, "kind"),
            None => {}
        }
        p.genres = self.genres(t);
        p.description = self.string(t, path, "description").map(|(d, _)| d.to_owned()).unwrap_or_default();
        if t.get("vars").is_none() {
            self.missing(span, path, "vars");
        }
        for (name, s) in self.strings(t, path, "vars") {
            let bare = name.strip_prefix('?').unwrap_or(name);
            let key = format!("pattern.vars[{}]", vars.names.len());
            if !is_var_name(bare) {
                self.report(s, key, format!("variable {name:?} must be a lower-case letter then [a-z0-9_]"));
            } else if vars.names.iter().any(|n| n == bare) {
                self.report(s, key, format!("variable ?{bare} is declared twice"));
            } else if vars.names.len() == VARS_MAX {
                self.report(s, key, format!("more than {VARS_MAX} variables"));
            } else {
                vars.names.push(bare.to_owned());
                vars.types.push(VarType::Unknown);
            }
        }
        line
    }

    fn genres(&mut self, t: &DeTable<'_>) -> Vec<Genre> {
        let mut out = Vec::new();
        for (g, s) in self.strings(t, "pattern", "genre") {
            match GENRES.iter().find(|(n, _)| *n == g) {
                Some((_, genre)) if !out.contains(genre) => out.push(*genre),
                Some(_) => self.report(s, "pattern.genre", format!("genre {g:?} is listed twice")),
                None => {
                    let names: Vec<_> = GENRES.iter().map(|(n, _)| *n).collect();
                    self.report(
                        s,
                        "pattern.genre",
                        format!("unknown genre {g:?}; expected one of {}", names.join(", ")),
                    );
                }
            }
        }
        out
    }

    /// First pass over `[[stage]]`: names, flags, windows and clause tables.
    fn stages<'t, 'i>(&mut self, top: &'t DeTable<'i>, span: Range<usize>) -> Vec<RawStage<'t, 'i>> {
        let Some((list, list_span)) = self.array_of_tables(top, "stage") else {
            if top.get("stage").is_none() {
                self.report(span, "stage", "a pattern needs at least one [[stage]]");
            }
            return Vec::new();
        };
        if list.len() > STAGES_MAX {
            self.report(list_span, "stage", format!("{} stages; a pattern may have at most {STAGES_MAX}", list.len()));
        }
        let mut out: Vec<RawStage<'t, 'i>> = Vec::new();
        for (i, v) in list.iter().enumerate() {
            let path = format!("stage[{i}]");
            let Some(t) = self.expect_table(v, &path) else { continue };
            let raw = self.stage(t, v.span(), path);
            if let Some(first) = out.iter().find(|r| r.stage.name == raw.stage.name && !raw.stage.name.is_empty()) {
                let line = self.line_col(first.table.get("name").map_or(first.span.start, |n| n.span().start)).0;
                let s = t.get("name").map_or(v.span(), Spanned::span);
                self.report(s, format!("{}.name", raw.path), format!("duplicate stage name (first on line {line})"));
            }
            out.push(raw);
        }
        out
    }

    fn stage<'t, 'i>(&mut self, t: &'t DeTable<'i>, span: Range<usize>, path: String) -> RawStage<'t, 'i> {
        self.unknown_keys(t, &path, STAGE_KEYS);
        let name = match self.string(t, &path, "name") {
            Some((n, s)) => {
                self.check_name(n, s, &format!("{path}.name"));
                n.to_owned()
            }
            None => {
                if t.get("name").is_none() {
                    self.missing(span.clone(), &path, "name");
                }
                String::new()
            }
        };
        let within = self.uint(t, &path, "within", WITHIN_MAX);
        let optional = self.boolean(t, &path, "optional").unwrap_or(false);
        let any = self.boolean(t, &path, "any").unwrap_or(false);
        let once = self.boolean(t, &path, "once").unwrap_or(false);
        let clauses = self.stage_clauses(t, &span, &path);
        let stage = Stage { name, optional, any, within, once, beats: Vec::new(), clauses: 0..0 };
        RawStage { path, span, table: t, stage, clauses }
    }

    /// The clause tables of a stage: `[[stage.clause]]`, or the stage itself when it writes `event`.
    fn stage_clauses<'t, 'i>(
        &mut self,
        t: &'t DeTable<'i>,
        span: &Range<usize>,
        path: &str,
    ) -> Vec<(&'t DeTable<'i>, String, Range<usize>)> {
        let inline = t.get("event").is_some();
        let Some(list) = t.get("clause") else {
            if inline {
                return vec![(t, path.to_owned(), span.clone())];
            }
            self.report(span.clone(), format!("{path}.clause"), "a stage needs `event` or [[stage.clause]] entries");
            return Vec::new();
        };
        let key = format!("{path}.clause");
        for k in ["event", "where", "when"].into_iter().filter(|k| t.get(*k).is_some()) {
            let s = t.get_key_value(k).map_or(span.clone(), |(k, _)| k.span());
            self.report(
                s,
                format!("{path}.{k}"),
                "a stage with [[stage.clause]] entries keeps its clause keys in them",
            );
        }
        let Some(items) = list.get_ref().as_array() else {
            self.type_error(list, key, "an array of tables [[stage.clause]]");
            return Vec::new();
        };
        if items.is_empty() || items.len() > STAGE_CLAUSES_MAX {
            let m = format!("{} clauses; a stage has 1 to {STAGE_CLAUSES_MAX}", items.len());
            self.report(list.span(), key.clone(), m);
        }
        let mut out = Vec::new();
        for (i, v) in items.iter().enumerate() {
            let p = format!("{key}[{i}]");
            if let Some(ct) = self.expect_table(v, &p) {
                self.unknown_keys(ct, &p, CLAUSE_KEYS);
                out.push((ct, p, v.span()));
            }
        }
        out
    }

    /// Rules about the order of stages: the first stage has nothing before it; optional stages
    /// come last.
    fn structure(&mut self, raw: &[RawStage<'_, '_>]) {
        let Some(first) = raw.first() else { return };
        for key in ["within", "unless", "optional", "once"] {
            if let Some((k, _)) = first.table.get_key_value(key) {
                let m = format!("the first stage cannot have `{key}`: nothing comes before it");
                self.report(k.span(), format!("{}.{key}", first.path), m);
            }
        }
        // Clauses that open the pattern (the first, or every alternative of an `any` first stage).
        let n_opening = if first.stage.any { first.clauses.len() } else { 1 };
        for (t, p, _) in first.clauses.iter().take(n_opening).filter(|(_, p, _)| *p != first.path) {
            for key in ["within", "unless"] {
                if let Some((k, _)) = t.get_key_value(key) {
                    let m = format!("a clause that opens the pattern cannot have `{key}`: nothing comes before it");
                    self.report(k.span(), format!("{p}.{key}"), m);
                }
            }
        }
        let mut optional_seen: Option<&str> = None;
        for r in raw {
            match (r.stage.optional, optional_seen) {
                (true, None) => optional_seen = Some(&r.stage.name),
                (false, Some(o)) => {
                    let m = format!("a required stage cannot follow optional stage {o:?}");
                    self.report(r.span.clone(), format!("{}.optional", r.path), m);
                }
                _ => {}
            }
        }
        let n: usize = raw.iter().map(|r| r.clauses.len()).sum();
        if n > CLAUSES_MAX {
            self.report(raw[0].span.clone(), "stage", format!("{n} clauses; a pattern may have at most {CLAUSES_MAX}"));
        }
    }

    /// Both passes over the clauses: `event` and `where` of every clause, then conditions and
    /// `unless` tests once it is known which variables are bound where.
    fn clauses(&mut self, raw: &[RawStage<'_, '_>], p: &mut Pattern, vars: &mut Vars) {
        let mut known = Vec::new();
        for (s, r) in raw.iter().enumerate() {
            let mut stage = r.stage.clone();
            let start = p.clauses.len();
            for (i, (t, path, span)) in r.clauses.iter().enumerate() {
                let beat = self.beat(t, path, *path == r.path, &r.stage.name, (i, r.clauses.len()), &stage.beats);
                stage.beats.push(beat);
                let within = if *path == r.path { None } else { self.uint(t, path, "within", WITHIN_MAX) };
                let test = self.main_test(t, path, span.clone(), vars);
                known.push(test.is_some());
                let test = test.unwrap_or(Test { kind: FactKind::WorldStarted, fields: Vec::new(), when: Vec::new() });
                p.clauses.push(Clause { stage: s, test, within, unless: Vec::new() });
            }
            stage.clauses = start..p.clauses.len();
            p.stages.push(stage);
        }
        let (before, after) = bound_sets(&p.stages, &p.clauses);
        let mut c = 0;
        for r in raw {
            for (t, path, _) in &r.clauses {
                if !known[c] {
                    c += 1;
                    continue;
                }
                let kind = p.clauses[c].test.kind;
                p.clauses[c].test.when = self.when(t, path, kind, vars, after[c]);
                let mut unless = self.unless(t, path, vars, before[c]);
                if *path != r.path {
                    unless.extend(self.unless(r.table, &r.path, vars, before[c]));
                }
                if unless.len() > UNLESS_MAX {
                    self.report(
                        r.span.clone(),
                        format!("{path}.unless"),
                        format!("more than {UNLESS_MAX} unless tests"),
                    );
                }
                p.clauses[c].unless = unless;
                c += 1;
            }
        }
    }

    /// The name of clause `i` of `n` in a stage: its own `name`, else the stage's (numbered when the
    /// stage has several clauses). An inline clause's `name` is the stage's.
    fn beat(
        &mut self,
        t: &DeTable<'_>,
        path: &str,
        inline: bool,
        stage: &str,
        (i, n): (usize, usize),
        seen: &[String],
    ) -> String {
        if !inline && let Some((name, s)) = self.string(t, path, "name") {
            self.check_name(name, s.clone(), &format!("{path}.name"));
            if seen.iter().any(|b| b == name) {
                self.report(s, format!("{path}.name"), format!("duplicate beat name {name:?} in this stage"));
            }
            return name.to_owned();
        }
        if n > 1 { format!("{stage}_{}", i + 1) } else { stage.to_owned() }
    }

    /// `event` and `where` of a clause; `None` when the event is missing or unknown.
    fn main_test(&mut self, t: &DeTable<'_>, path: &str, span: Range<usize>, vars: &mut Vars) -> Option<Test> {
        let kind = self.event(t, path, span)?;
        let fields = match t.get("where") {
            Some(w) => self.where_(w, &format!("{path}.where"), kind, vars, None),
            None => Vec::new(),
        };
        let test = Test { kind, fields, when: Vec::new() };
        vars.bound |= test.vars();
        Some(test)
    }

    fn event(&mut self, t: &DeTable<'_>, path: &str, span: Range<usize>) -> Option<FactKind> {
        match self.string(t, path, "event") {
            Some((e, s)) => FactKind::from_name(e).or_else(|| {
                let names: Vec<_> = FactKind::ALL.iter().map(|k| k.name()).collect();
                self.report(
                    s,
                    format!("{path}.event"),
                    format!("unknown event {e:?}; expected one of {}", names.join(", ")),
                );
                None
            }),
            None => {
                if t.get("event").is_none() {
                    self.missing(span, path, "event");
                }
                None
            }
        }
    }

    /// A `where` table. `bound` is `Some(set)` in `unless` tests, which may only use variables
    /// already bound; `None` in clauses, which bind new ones.
    fn where_(
        &mut self,
        v: &Item<'_>,
        path: &str,
        kind: FactKind,
        vars: &mut Vars,
        bound: Option<u32>,
    ) -> Vec<FieldTest> {
        let Some(t) = self.expect_table(v, path) else { return Vec::new() };
        let mut out = Vec::new();
        for (k, val) in t.iter() {
            let key = format!("{path}.{}", k.get_ref());
            let Some(spec) = kind.field(k.get_ref()) else {
                let names: Vec<_> = kind.fields().iter().map(|f| f.name).collect();
                let m = format!("{} has no field {:?}; it has {}", kind.name(), k.get_ref(), names.join(", "));
                self.report(k.span(), key, m);
                continue;
            };
            out.extend(self.field_test(val, &key, spec.ty, spec.slot, vars, bound));
        }
        // Scalars first (they never branch), then set memberships.
        out.sort_by_key(|f| matches!(f, FieldTest::Member { .. }));
        out
    }

    /// One `where` entry: a variable, a name, a list of names or variables, or a flag.
    fn field_test(
        &mut self,
        v: &Item<'_>,
        key: &str,
        ty: FieldType,
        slot: Slot,
        vars: &mut Vars,
        bound: Option<u32>,
    ) -> Vec<FieldTest> {
        let items: Vec<&Item<'_>> = match v.get_ref() {
            DeValue::Array(a) if ty.is_set() || matches!(ty, FieldType::Sym(_)) => a.iter().collect(),
            DeValue::Array(_) => {
                self.report(
                    v.span(),
                    key,
                    format!("a list needs a name or set field; this field is {}", ty.describe()),
                );
                return Vec::new();
            }
            DeValue::Boolean(b) if ty == FieldType::Bool => {
                let Slot::Scalar(slot) = slot else { return Vec::new() };
                return vec![FieldTest::OneOf { slot, values: vec![Value::Bool(*b)] }];
            }
            DeValue::String(_) => vec![v],
            _ if matches!(ty, FieldType::Num) => {
                self.report(v.span(), key, "numbers are compared in `when`, e.g. when = [\"valence > 0\"]");
                return Vec::new();
            }
            other => {
                let m = format!("expected {}, found {}", expected_for(ty), other.type_str());
                self.report(v.span(), key, m);
                return Vec::new();
            }
        };
        if items.is_empty() {
            self.report(v.span(), key, "an empty list matches nothing");
        }
        let mut syms = Vec::new();
        let mut out = Vec::new();
        for item in items {
            let Some(s) = item.get_ref().as_str() else {
                self.type_error(item, key.to_owned(), "a string");
                continue;
            };
            if let Some(name) = s.strip_prefix('?') {
                if let Some(var) = self.var_use(name, ty, item.span(), key, vars, bound) {
                    out.push(match slot {
                        Slot::Scalar(slot) if !ty.is_set() => FieldTest::Var { slot, var },
                        _ => FieldTest::Member { slot, var },
                    });
                }
            } else if let FieldType::Sym(names) = ty {
                match names.iter().find(|n| **n == s) {
                    Some(n) => syms.push(Value::Sym(n)),
                    None => self.report(
                        item.span(),
                        key,
                        format!("unknown name {s:?}; expected one of {}", names.join(", ")),
                    ),
                }
            } else {
                self.report(item.span(), key, format!("expected a variable like \"?a\" for {}", ty.describe()));
            }
        }
        if let (Slot::Scalar(slot), false) = (slot, syms.is_empty()) {
            out.push(FieldTest::OneOf { slot, values: syms });
        }
        out
    }

    /// Checks a `?name` used for a field of type `ty` and returns its index.
    fn var_use(
        &mut self,
        name: &str,
        ty: FieldType,
        span: Range<usize>,
        key: &str,
        vars: &mut Vars,
        bound: Option<u32>,
    ) -> Option<u8> {
        let Some(i) = vars.names.iter().position(|n| n == name) else {
            self.report(span, key, format!("unknown variable ?{name}; declare it in [pattern] vars"));
            return None;
        };
        if !ty.takes_var() {
            self.report(
                span,
                key,
                format!("a variable cannot stand for {}; match it with a name or a flag", ty.describe()),
            );
            return None;
        }
        if bound.is_some_and(|b| b & (1 << i) == 0) {
            self.report(
                span,
                key,
                format!("?{name} is not bound before this `unless`; an `unless` cannot bind variables"),
            );
            return None;
        }
        let used = match ty {
            FieldType::Char | FieldType::Chars => VarType::Char,
            FieldType::Group => VarType::Group,
            _ => VarType::Party,
        };
        let had = vars.types[i];
        vars.types[i] = match (had, used) {
            (VarType::Unknown | VarType::Party, u) => u,
            (h, VarType::Party) => h,
            (h, u) if h == u => h,
            (h, _) => {
                let what = if h == VarType::Char { "a character" } else { "an alliance" };
                self.report(span, key, format!("?{name} is {what} elsewhere; here it would be {}", ty.describe()));
                h
            }
        };
        Some(i as u8)
    }

    /// `when`: a condition or a list of them, all of which must hold.
    fn when(&mut self, t: &DeTable<'_>, path: &str, kind: FactKind, vars: &Vars, bound: u32) -> Vec<Expr> {
        let key = format!("{path}.when");
        let Some(v) = t.get("when") else { return Vec::new() };
        let items: Vec<(&Item<'_>, String)> = match v.get_ref() {
            DeValue::Array(a) => a.iter().enumerate().map(|(i, x)| (x, format!("{key}[{i}]"))).collect(),
            _ => vec![(v, key)],
        };
        let var = |name: &str| -> Result<u8, String> {
            let i = vars
                .names
                .iter()
                .position(|n| n == name)
                .ok_or_else(|| format!("unknown variable ?{name}; declare it in [pattern] vars"))?;
            if bound & (1 << i) == 0 {
                return Err(format!("?{name} is not bound here; bind it in this clause's `where` or an earlier one"));
            }
            if vars.types[i] == VarType::Group {
                return Err(format!("?{name} is an alliance; bond, trait and mood take characters"));
            }
            Ok(i as u8)
        };
        let scope = Scope { kind, var: &var };
        let mut out = Vec::new();
        for (item, key) in items {
            let Some(s) = item.get_ref().as_str() else {
                self.type_error(item, key, "a condition string");
                continue;
            };
            if s.len() > CONDITION_BYTES_MAX {
                self.report(item.span(), key, format!("condition longer than {CONDITION_BYTES_MAX} bytes"));
                continue;
            }
            let (e, errors) = expr::parse(s, &scope);
            for err in errors {
                let at = self.offset_in_string(item.span(), s, err.offset);
                self.report(at..at, key.clone(), err.message);
            }
            out.extend(e);
        }
        out
    }

    /// `unless`: inline tables (or `[[...unless]]`) of `event`, `where`, `when`.
    fn unless(&mut self, t: &DeTable<'_>, path: &str, vars: &mut Vars, bound: u32) -> Vec<Test> {
        let Some(v) = t.get("unless") else { return Vec::new() };
        let key = format!("{path}.unless");
        let Some(items) = v.get_ref().as_array() else {
            self.type_error(v, key, "an array of tables like [{ event = \"...\", where = { ... } }]");
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let p = format!("{key}[{i}]");
            let Some(u) = self.expect_table(item, &p) else { continue };
            self.unknown_keys(u, &p, UNLESS_KEYS);
            let Some(kind) = self.event(u, &p, item.span()) else { continue };
            let fields = u.get("where").map(|w| self.where_(w, &format!("{p}.where"), kind, vars, Some(bound)));
            let when = self.when(u, &p, kind, vars, bound);
            out.push(Test { kind, fields: fields.unwrap_or_default(), when });
        }
        out
    }
}

fn expected_for(ty: FieldType) -> &'static str {
    match ty {
        FieldType::Bool => "true or false",
        FieldType::Sym(_) => "a name or a list of names",
        FieldType::Chars | FieldType::Parties => "a variable or a list of variables",
        _ => "a variable like \"?a\"",
    }
}

fn is_var_name(s: &str) -> bool {
    s.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
        && s.len() <= NAME_BYTES_MAX
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plot::fact::FieldType;

    fn problems(text: &str) -> Vec<Problem> {
        match parse(text, "t.toml") {
            Ok(_) => panic!("expected problems"),
            Err(LoadError::Invalid(p)) => p,
            Err(e) => panic!("unexpected error {e}"),
        }
    }

    /// `(line, key)` of each problem, for compact assertions.
    fn where_(text: &str) -> Vec<(usize, String)> {
        problems(text).into_iter().map(|p| (p.line, p.key)).collect()
    }

    const HEAD: &str =
        "format = \"aion.pattern/1\"\n[pattern]\nname = \"p\"\nkind = \"feud\"\nvars = [\"a\", \"b\", \"g\"]\n";

    #[test]
    fn a_valid_pattern_compiles_its_stages_and_plan() {
        let text = format!(
            "{HEAD}genre = \"drama\"\n\
             [[stage]]\nname = \"s0\"\nevent = \"alliance_formed\"\nwhere = {{ group = \"?g\", members = \"?a\" }}\n\
             [[stage]]\nname = \"s1\"\nwithin = 5\nonce = true\n\
             [[stage.clause]]\nevent = \"interaction_resolved\"\nwhere = {{ initiator = \"?a\", target = \"?b\" }}\n\
             when = \"valence > 0 and bond(?a, ?b).trust > 0\"\n\
             [[stage.clause]]\nname = \"last\"\nwithin = 2\nevent = \"conflict_escalated\"\nwhere = {{ a = \"?g\" }}\n\
             unless = [{{ event = \"avoided\", where = {{ character = \"?b\" }} }}]\n"
        );
        let p = parse(&text, "t.toml").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((p.name.as_str(), p.kind.as_str(), p.genres.as_slice()), ("p", "feud", &[Genre::Drama][..]));
        assert_eq!(p.stages.len(), 2);
        assert_eq!((p.stages[1].within, p.stages[1].once, p.stages[1].any), (Some(5), true, false));
        assert_eq!(p.stages[1].beats, ["s1_1", "last"]);
        assert_eq!((p.n_clauses(), p.clauses[2].within, p.clauses[2].unless.len()), (3, Some(2), 1));
        assert_eq!(p.clauses[1].test.when.len(), 1);
        // Memberships come after scalar constraints; ?g indexes the partials waiting after clause 0.
        assert!(matches!(p.clauses[0].test.fields[1], FieldTest::Member { .. }));
        let idx: Vec<_> = p.plan.iter().map(|q| (q.cands.clone(), q.boundary, q.index_var)).collect();
        assert_eq!(
            idx,
            [(vec![0], None, None), (vec![1], Some(0), Some(0)), (vec![2], None, Some(2)), (vec![], Some(1), None)]
        );
        assert_eq!(crate::plot::FactKind::ConflictEscalated.field("a").map(|f| f.ty), Some(FieldType::Party));
    }

    #[test]
    fn structure_mistakes_are_reported_with_their_keys() {
        let text = format!(
            "{HEAD}[[stage]]\nname = \"s0\"\noptional = true\nonce = true\n\
             [[stage.clause]]\nevent = \"avoided\"\nwithin = 3\nwhere = {{ character = \"?a\", target = \"?b\" }}\n\
             [[stage]]\nname = \"s1\"\noptional = true\nevent = \"alliance_formed\"\nwhere = {{ group = \"?g\" }}\n\
             [[stage]]\nname = \"s2\"\nevent = \"alliance_dissolved\"\nwhere = {{ group = \"?a\" }}\n\
             [[stage]]\nname = \"s3\"\nevent = \"avoided\"\nclause = []\n"
        );
        let got = where_(&text);
        assert_eq!(
            got,
            [
                (8, "stage[0].optional".to_owned()),
                (9, "stage[0].once".to_owned()),
                (12, "stage[0].clause[0].within".to_owned()),
                (19, "stage[2].optional".to_owned()),
                (22, "stage[2].where.group".to_owned()),
                (23, "stage[3].optional".to_owned()),
                (25, "stage[3].event".to_owned()),
                (26, "stage[3].clause".to_owned()),
            ]
        );
        let p = problems(&text);
        assert!(p[3].message.contains("cannot follow optional stage \"s0\""), "{}", p[3]);
        assert!(p[4].message.contains("?a is a character elsewhere"), "{}", p[4]);
    }

    #[test]
    fn where_values_are_checked_against_field_types() {
        let text = format!(
            "{HEAD}[[stage]]\nname = \"s0\"\nevent = \"interaction_resolved\"\n\
             where = {{ initiator = [\"?a\"], target = 3, valence = 0.5, action = \"?b\", accepted = \"yes\", parties = [] }}\n\
             [[stage]]\nname = \"s1\"\nevent = \"alliance_formed\"\n\
             where = {{ group = \"?g\", members = [\"?a\", \"friend\"], leader = \"?b\" }}\n"
        );
        let p = problems(&text);
        let got: Vec<_> = p.iter().map(|p| (p.line, p.column, p.key.as_str())).collect();
        assert_eq!(
            got,
            [
                (9, 23, "stage[0].where.initiator"),
                (9, 40, "stage[0].where.target"),
                (9, 53, "stage[0].where.valence"),
                (9, 67, "stage[0].where.action"),
                (9, 84, "stage[0].where.accepted"),
                (9, 101, "stage[0].where.parties"),
                (13, 42, "stage[1].where.members"),
            ]
        );
        assert!(p[2].message.contains("compared in `when`"), "{}", p[2]);
        assert!(p[3].message.contains("cannot stand for a name"), "{}", p[3]);
        assert!(p[6].message.contains("expected a variable"), "{}", p[6]);
    }

    #[test]
    fn conditions_point_at_the_offending_word() {
        let text = format!(
            "{HEAD}[[stage]]\nname = \"s0\"\nevent = \"interaction_resolved\"\nwhere = {{ initiator = \"?a\" }}\n\
             when = [\"valence > 0\", \"bond(?a, ?b).trust >\", \"trait(?g).openness > 0\"]\n\
             [[stage]]\nname = \"s1\"\nevent = \"alliance_formed\"\nwhere = {{ group = \"?g\", leader = \"?b\" }}\n\
             unless = [{{ event = \"avoided\", when = \"mood(?b).pleasure < 0\" }}]\n"
        );
        let p = problems(&text);
        let got: Vec<_> = p.iter().map(|p| (p.line, p.column, p.key.as_str())).collect();
        assert_eq!(
            got,
            [
                (10, 34, "stage[0].when[1]"),
                (10, 45, "stage[0].when[1]"),
                (10, 55, "stage[0].when[2]"),
                (15, 45, "stage[1].unless[0].when"),
            ]
        );
        assert!(p[0].message.contains("?b is not bound here"), "{}", p[0]);
        assert!(p[1].message.contains("found the end"), "{}", p[1]);
        assert!(p[3].message.contains("?b is not bound"), "{}", p[3]);
    }

    #[test]
    fn missing_keys_format_and_syntax() {
        let got = where_("format = \"aion.pattern/2\"\n[pattern]\nkind = 3\n[[stage]]\nwhere = {}\n");
        assert_eq!(
            got,
            [
                (1, "format".to_owned()),
                (2, "pattern.name".to_owned()),
                (2, "pattern.vars".to_owned()),
                (3, "pattern.kind".to_owned()),
                (4, "stage[0].name".to_owned()),
                (4, "stage[0].clause".to_owned()),
            ]
        );
        let keys: Vec<String> = where_("name = \"x\"\n").into_iter().map(|(_, k)| k).collect();
        assert_eq!(keys, ["name", "format", "pattern", "stage"]);
        let p = problems("format = \"aion.pattern/1\"\n[pattern]\nname = \"open\n");
        assert_eq!((p.len(), p[0].line, p[0].key.as_str()), (1, 3, "syntax"));
    }

    #[test]
    fn duplicate_names_across_files_are_reported() {
        let dir = std::env::temp_dir().join(format!("aion-patterns-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let text = format!(
            "{HEAD}[[stage]]\nname = \"s\"\nevent = \"alliance_formed\"\nwhere = {{ group = \"?g\", members = [\"?a\", \"?b\"] }}\n"
        );
        std::fs::write(dir.join("a.toml"), &text).unwrap();
        std::fs::write(dir.join("b.toml"), &text).unwrap();
        std::fs::write(dir.join("notes.md"), "ignored").unwrap();
        let e = load_dir(&dir).unwrap_err();
        std::fs::remove_dir_all(&dir).unwrap();
        let LoadError::Invalid(p) = e else { panic!("{e}") };
        assert_eq!(p.len(), 1);
        assert!(p[0].file.ends_with("b.toml") && p[0].line == 3, "{}", p[0]);
        assert!(p[0].message.contains("duplicate pattern name \"p\" (first in") && p[0].message.contains("a.toml:3)"));
        assert!(matches!(load_dir(Path::new("/nonexistent/aion")), Err(LoadError::Io { .. })));
    }

    #[test]
    fn every_shipped_pattern_loads() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/patterns");
        let patterns = load_dir(&dir).unwrap_or_else(|e| panic!("{e}"));
        let kinds: Vec<&str> = patterns.iter().map(|p| p.kind.as_str()).collect();
        for kind in [
            "friendship",
            "romance",
            "love_triangle",
            "rivalry",
            "feud",
            "betrayal",
            "redemption",
            "alliance",
            "mystery",
            "quest",
        ] {
            assert!(kinds.contains(&kind), "no {kind} pattern in {kinds:?}");
        }
        for p in &patterns {
            assert!(p.stages.len() >= 2 && !p.description.is_empty(), "{}", p.name);
        }
    }

    #[test]
    fn the_readme_says_what_the_parser_does() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/patterns/README.md");
        let readme = std::fs::read_to_string(path).unwrap();
        let blocks: Vec<&str> = readme.split("```toml\n").skip(1).map(|b| b.split("```").next().unwrap()).collect();
        let [example, broken] = blocks[..] else { panic!("expected two toml examples, found {}", blocks.len()) };
        let p = parse(example, "example.toml").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.stages.iter().map(|s| s.beats.len()).sum::<usize>(), p.n_clauses());
        let LoadError::Invalid(ps) = parse(broken, "broken.toml").unwrap_err() else { panic!("invalid") };
        for p in ps {
            assert!(readme.contains(&format!("  {p}\n")), "README lacks: {p}");
        }
        // The field table lists every field of every event kind.
        for kind in crate::plot::FactKind::ALL {
            let row = readme.lines().find(|l| l.starts_with(&format!("| `{}` |", kind.name())));
            let row = row.unwrap_or_else(|| panic!("README lacks a row for {}", kind.name()));
            for f in kind.fields() {
                assert!(row.contains(&format!("`{}`", f.name)), "README row of {} lacks {}", kind.name(), f.name);
            }
        }
    }

    proptest::proptest! {
        /// Arbitrary edits of a valid file never panic, and every problem points inside the text.
        #[test]
        fn mangled_text_never_panics(cut in 0usize..600, junk in "[a-z0-9=?\\[\\]{}\",.()<>\n -]{0,12}") {
            let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/patterns/betrayal.toml");
            let mut text = std::fs::read_to_string(path).unwrap();
            let at = (0..=cut.min(text.len())).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
            text.insert_str(at, &junk);
            if let Err(LoadError::Invalid(ps)) = parse(&text, "t") {
                let n_lines = text.lines().count().max(1);
                for p in ps {
                    proptest::prop_assert!(p.line >= 1 && p.line <= n_lines + 1 && p.column >= 1, "{}", p);
                }
            }
        }
    }
}
