//! Scenario text to a validated [`Scenario`].
//!
//! The TOML is parsed into spanned values (`toml::de::DeTable`) and walked by hand, so every problem
//! is collected (unknown keys, wrong types, missing keys, ranges, ids, limits) with its line, column
//! and key path, instead of stopping at the first one as a serde derive would.

use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;

use serde::Deserialize;
use serde::de::IntoDeserializer;
use serde_spanned::Spanned;
use toml::de::{DeTable, DeValue};

use super::{
    CHARACTERS_MAX, CharacterSpec, DEGREE_MAX, EXPERIMENT_METRICS, EXPERIMENT_RUNS_MAX, ExperimentSpec, FORMAT, Genre,
    LoadError, POPULATION_MAX, PopulationSpec, Problem, RelationshipSpec, Scenario, WorldSpec,
};
use crate::bonds::Bond;
use crate::director::{
    Expr, LoadError as DirectorLoadError, Names, Program, Runtime, ScriptSource, TimedEvent, Trigger,
};
use crate::ids::CharacterId;
use crate::mood::Pad;
use crate::params::Params;
use crate::personality::Personality;

/// Largest scenario file accepted, in bytes. Hand-written worlds are far smaller (10,000 characters
/// take about 2 MiB); big crowds come from `[population]`. Larger text is refused with one problem.
const TEXT_BYTES_MAX: usize = 64 << 20;
/// Longest character id, in bytes.
const ID_BYTES_MAX: usize = 64;
/// Longest tag, in bytes.
const TAG_BYTES_MAX: usize = 64;
/// Longest population id prefix, in bytes (leaves room for the index within [`ID_BYTES_MAX`]).
const PREFIX_BYTES_MAX: usize = 32;

const TOP_KEYS: &[&str] = &[
    "format",
    "world",
    "character",
    "relationship",
    "population",
    "params",
    "experiment",
    "event",
    "trigger",
    "director",
];
const EXPERIMENT_KEYS: &[&str] = &["repetitions", "ticks", "vary", "metrics", "stop_when"];
const EVENT_KEYS: &[&str] = &["name", "at", "every", "from", "until", "priority", "do"];
const TRIGGER_KEYS: &[&str] = &["name", "when", "once", "priority", "cooldown", "do"];
const DIRECTOR_KEYS: &[&str] = &["script", "inline"];
/// Most `[[event]]`s plus `[[trigger]]`s, and commands in one `do` list.
const DIRECTIONS_MAX: usize = 10_000;
/// Largest director script, in bytes.
const SCRIPT_BYTES_MAX: usize = 1 << 20;
const WORLD_KEYS: &[&str] = &["name", "seed", "genre", "description"];
const CHARACTER_KEYS: &[&str] = &["id", "name", "personality", "mood", "tags"];
const TRAIT_KEYS: [&str; 5] = ["openness", "conscientiousness", "extraversion", "agreeableness", "neuroticism"];
const MOOD_KEYS: [&str; 3] = ["pleasure", "arousal", "dominance"];
const BOND_KEYS: [&str; 5] = ["affinity", "trust", "respect", "attraction", "familiarity"];
const RELATIONSHIP_KEYS: &[&str] =
    &["from", "to", "affinity", "trust", "respect", "attraction", "familiarity", "mutual"];
const POPULATION_KEYS: &[&str] = &["count", "degree", "rewire", "spread", "id_prefix", "connect_named"];
const GENRES: &[(&str, Genre)] = &[
    ("drama", Genre::Drama),
    ("romance", Genre::Romance),
    ("mystery", Genre::Mystery),
    ("adventure", Genre::Adventure),
];

/// A spanned TOML value.
type Value<'i> = Spanned<DeValue<'i>>;

/// Reads and validates the scenario file at `path`. Every problem is reported, each with file, line,
/// column and key path; an unreadable file is [`LoadError::Io`].
pub fn load(path: &Path) -> Result<Scenario, LoadError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| LoadError::Io { file: file.clone(), source })?;
    parse(&text, &file)
}

/// Validates scenario `text`; `file` names it in problems and becomes [`Scenario::source`].
///
/// Returns [`LoadError::Invalid`] with every problem found, sorted by position; a TOML syntax error
/// is a single problem (the rest of the file cannot be trusted).
pub fn parse(text: &str, file: &str) -> Result<Scenario, LoadError> {
    parse_with(text, file, &|name| {
        let path = Path::new(file).parent().unwrap_or(Path::new("")).join(name);
        std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))
    })
}

/// Reads a director script named in a scenario (`[director] script = "NAME"`), or says why not.
pub type ScriptReader<'a> = &'a dyn Fn(&str) -> Result<String, String>;

/// Like [`parse`], but director scripts come from `scripts` instead of files beside `file`: a
/// server parsing an uploaded scenario must never let it name a file on the server's disk.
pub fn parse_with(text: &str, file: &str, scripts: ScriptReader<'_>) -> Result<Scenario, LoadError> {
    let mut cx = Checker::new(text, file);
    cx.scripts = Some(scripts);
    if text.len() > TEXT_BYTES_MAX {
        cx.report(0..0, "file", format!("{} bytes; a scenario may have at most {TEXT_BYTES_MAX}", text.len()));
        return Err(cx.into_error());
    }
    let root = match DeTable::parse(text) {
        Ok(root) => root,
        Err(e) => {
            cx.report(e.span().unwrap_or(0..0), "syntax", e.message());
            return Err(cx.into_error());
        }
    };
    let scenario = cx.scenario(&root);
    if cx.problems.is_empty() { Ok(scenario) } else { Err(cx.into_error()) }
}

/// Walks the spanned document and collects problems.
struct Checker<'a> {
    file: &'a str,
    text: &'a str,
    /// Byte offset of the start of each line.
    line_starts: Vec<usize>,
    problems: Vec<Problem>,
    /// Director commands to check once every name is known: (span, key, JSON).
    pending_commands: Vec<(Range<usize>, String, String)>,
    /// Where `[director] script` files come from.
    scripts: Option<ScriptReader<'a>>,
}

/// The characters a scenario's director may name: declared, generated, or spawned by a command.
struct Known<'c> {
    characters: &'c [CharacterSpec],
    population: Option<&'c PopulationSpec>,
}

impl Known<'_> {
    /// Whether `name` is a generated population id.
    fn generated(&self, name: &str) -> bool {
        self.population_index(name).is_some()
    }

    fn population_index(&self, name: &str) -> Option<u32> {
        let p = self.population?;
        let k: u32 = name.strip_prefix(p.id_prefix.as_str())?.parse().ok()?;
        (k < p.count && name == format!("{}{k}", p.id_prefix)).then_some(k)
    }

    /// Declared characters and the names spawned by the program's commands, with the ids they
    /// will have (spawned ones get placeholder ids past every other).
    fn all(&self, program: &Program) -> Names {
        let mut names: Names =
            self.characters.iter().enumerate().map(|(i, c)| (c.id.clone(), CharacterId(i as u32))).collect();
        let mut next = u32::MAX;
        let all_cmds =
            program.events.iter().flat_map(|e| &e.commands).chain(program.triggers.iter().flat_map(|t| &t.commands));
        for c in all_cmds {
            let Ok(v) = serde_json::from_str::<serde_json::Value>(c) else { continue };
            if let Some(n) = v.get("spawn").and_then(|s| s.get("name")).and_then(|n| n.as_str()) {
                names.entry(n.to_owned()).or_insert_with(|| {
                    next -= 1;
                    CharacterId(next)
                });
            }
            let mut strings = Vec::new();
            collect_strings(&v, &mut strings);
            let base = self.characters.len() as u32;
            for s in strings {
                if let Some(k) = self.population_index(&s) {
                    names.insert(s, CharacterId(base + k));
                }
            }
        }
        names
    }
}

fn collect_strings(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(a) => a.iter().for_each(|x| collect_strings(x, out)),
        serde_json::Value::Object(o) => o.values().for_each(|x| collect_strings(x, out)),
        _ => {}
    }
}

/// Declared character ids and the line of each declaration (for duplicate messages).
type Ids = HashMap<String, usize>;

impl<'a> Checker<'a> {
    fn new(text: &'a str, file: &'a str) -> Self {
        let line_starts = std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect();
        Self { file, text, line_starts, problems: Vec::new(), pending_commands: Vec::new(), scripts: None }
    }

    fn scenario(&mut self, root: &Spanned<DeTable<'_>>) -> Scenario {
        let (top, span) = (root.get_ref(), root.span());
        self.unknown_keys(top, "", TOP_KEYS);
        match self.string(top, "", "format") {
            Some((f, _)) if f == FORMAT => {}
            Some((f, s)) => self.report(s, "format", format!("unsupported format {f:?}; expected {FORMAT:?}")),
            None if top.get("format").is_none() => self.missing(span.clone(), "", "format"),
            None => {}
        }
        if top.get("world").is_none() {
            self.missing(span, "", "world");
        }
        let world = match self.table(top, "", "world") {
            Some((w, s)) => self.world(w, s),
            None => WorldSpec { name: String::new(), seed: 0, genre: Genre::Drama, description: String::new() },
        };
        let population = self.table(top, "", "population").map(|(t, s)| self.population(t, s));
        let prefix = population.as_ref().map(|p| p.id_prefix.as_str());
        let mut ids = HashMap::new();
        let characters = self.characters(top, prefix, &mut ids);
        let relationships = self.relationships(top, &ids);
        let params = top.get("params").map(|p| self.params(p)).unwrap_or_default();
        let experiment = self.table(top, "", "experiment").map(|(t, s)| self.experiment(t, s, &params));
        let names = Known { characters: &characters, population: population.as_ref() };
        let director = self.director(top, &names);
        if let Some(cond) = experiment.as_ref().and_then(|e| e.stop_when.as_ref()) {
            let (t, _) = self.table(top, "", "experiment").expect("parsed above");
            let span = t.get("stop_when").map_or(0..0, Spanned::span);
            self.condition(cond, span, "experiment.stop_when", &names, &director);
        }
        Scenario {
            source: self.file.to_owned(),
            world,
            characters,
            relationships,
            population,
            params,
            experiment,
            director,
        }
    }

    /// `[[event]]`, `[[trigger]]` and `[director]`.
    fn director(&mut self, top: &DeTable<'_>, names: &Known<'_>) -> Program {
        let mut program = Program::default();
        if let Some((list, span)) = self.array_of_tables(top, "event") {
            if list.len() > DIRECTIONS_MAX {
                self.report(span, "event", format!("{} events; at most {DIRECTIONS_MAX}", list.len()));
            }
            for (i, v) in list.iter().enumerate().take(DIRECTIONS_MAX) {
                let path = format!("event[{i}]");
                let Some(t) = self.expect_table(v, &path) else { continue };
                self.unknown_keys(t, &path, EVENT_KEYS);
                let name = self.string(t, &path, "name").map_or_else(|| path.clone(), |(s, _)| s.to_owned());
                let at = self.uint(t, &path, "at", u64::MAX);
                let every = self.uint(t, &path, "every", u64::MAX);
                if every == Some(0) {
                    self.report_at(t, &v.span(), &path, "every", "must be at least 1".into());
                }
                if at.is_some() == every.is_some() {
                    self.report(v.span(), path.clone(), "give exactly one of `at` and `every`");
                }
                let from = self.uint(t, &path, "from", u64::MAX);
                let until = self.uint(t, &path, "until", u64::MAX);
                let priority = self.int(t, &path, "priority").unwrap_or(0);
                let commands = self.commands(t, v.span(), &path);
                program.events.push(TimedEvent { name, at, every, from, until, priority, commands });
            }
        }
        let mut conds = Vec::new();
        if let Some((list, span)) = self.array_of_tables(top, "trigger") {
            if list.len() > DIRECTIONS_MAX {
                self.report(span, "trigger", format!("{} triggers; at most {DIRECTIONS_MAX}", list.len()));
            }
            for (i, v) in list.iter().enumerate().take(DIRECTIONS_MAX) {
                let path = format!("trigger[{i}]");
                let Some(t) = self.expect_table(v, &path) else { continue };
                self.unknown_keys(t, &path, TRIGGER_KEYS);
                let name = self.string(t, &path, "name").map_or_else(|| path.clone(), |(s, _)| s.to_owned());
                let when = match self.string(t, &path, "when") {
                    Some((w, s)) => {
                        conds.push((w.to_owned(), s, format!("{path}.when")));
                        w.to_owned()
                    }
                    None => {
                        if t.get("when").is_none() {
                            self.missing(v.span(), &path, "when");
                        }
                        String::new()
                    }
                };
                let once = self.boolean(t, &path, "once").unwrap_or(false);
                let priority = self.int(t, &path, "priority").unwrap_or(0);
                let cooldown = self.uint(t, &path, "cooldown", u64::MAX).unwrap_or(0);
                let commands = self.commands(t, v.span(), &path);
                program.triggers.push(Trigger { name, when, once, priority, cooldown, commands });
            }
        }
        if let Some((t, span)) = self.table(top, "", "director") {
            self.unknown_keys(t, "director", DIRECTOR_KEYS);
            let script = match (self.string(t, "director", "script"), self.string(t, "director", "inline")) {
                (Some(_), Some(_)) => {
                    self.report(span, "director", "give `script` (a file) or `inline`, not both");
                    None
                }
                (Some((file, s)), None) => {
                    let path = Path::new(self.file).parent().unwrap_or(Path::new("")).join(file);
                    let read = match self.scripts {
                        Some(r) => r(file),
                        None => Err("scripts cannot be read here".to_owned()),
                    };
                    match read {
                        Ok(text) if text.len() <= SCRIPT_BYTES_MAX => {
                            Some(ScriptSource { file: path.display().to_string(), first_line: 1, text })
                        }
                        Ok(text) => {
                            let m = format!("{} bytes; a script may have at most {SCRIPT_BYTES_MAX}", text.len());
                            self.report(s, "director.script", m);
                            None
                        }
                        Err(e) => {
                            self.report(s, "director.script", e);
                            None
                        }
                    }
                }
                (None, Some((text, s))) => {
                    // A multi-line string starts on the line after its opening quotes.
                    let first =
                        self.line_col(s.start).0 as u32 + u32::from(self.text[s.clone()].starts_with("\"\"\"\n"));
                    Some(ScriptSource { file: self.file.to_owned(), first_line: first, text: text.to_owned() })
                }
                (None, None) => None,
            };
            program.script = script;
        }
        for (w, s, key) in conds {
            self.condition(&w, s, &key, names, &program);
        }
        let all = names.all(&program);
        for (span, key, json) in std::mem::take(&mut self.pending_commands) {
            if let Err(m) = crate::director::resolve_command(&json, &all) {
                self.report(span, key, m);
            }
        }
        if self.problems.is_empty() {
            // Load the whole program as a world would: script syntax and top level, commands.
            if let Err(e) = Runtime::build(&program, names.all(&program)) {
                match e {
                    DirectorLoadError::Script { file, line, message } => {
                        self.problems.push(Problem {
                            file,
                            line: line as usize,
                            column: 0,
                            key: "director.script".into(),
                            message,
                        });
                    }
                    DirectorLoadError::Condition { name, message, .. } => {
                        self.report(0..0, format!("trigger {name:?}"), message);
                    }
                }
            }
        }
        program
    }

    /// A `do = [...]` list: each item a one-key table in the shape of a command, characters named
    /// by id; checked against the declared (and spawned) characters.
    fn commands(&mut self, t: &DeTable<'_>, span: Range<usize>, path: &str) -> Vec<String> {
        let Some(v) = t.get("do") else {
            self.missing(span, path, "do");
            return Vec::new();
        };
        let Some(items) = v.get_ref().as_array() else {
            self.type_error(v, join(path, "do"), "an array of command tables");
            return Vec::new();
        };
        if items.len() > DIRECTIONS_MAX {
            self.report(v.span(), join(path, "do"), format!("{} commands; at most {DIRECTIONS_MAX}", items.len()));
        }
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate().take(DIRECTIONS_MAX) {
            let key = format!("{path}.do[{i}]");
            match serde_json::Value::deserialize(item.clone().into_deserializer()) {
                Ok(json) => {
                    let text = json.to_string();
                    // Character names are checked once every spawn is known (see `director`).
                    out.push((item.span(), key, text));
                }
                Err(e) => self.report(e.span().unwrap_or(item.span()), key, e.message()),
            }
        }
        self.pending_commands.extend(out.iter().cloned());
        out.into_iter().map(|(_, _, t)| t).collect()
    }

    /// Checks a condition's syntax and the characters it names.
    fn condition(&mut self, text: &str, span: Range<usize>, key: &str, names: &Known<'_>, program: &Program) {
        match Expr::parse_condition(text) {
            Ok(e) => {
                let all = names.all(program);
                for n in e.names() {
                    if !all.contains_key(n) && !names.generated(n) {
                        self.report(span.clone(), key, format!("unknown character {n:?} in condition"));
                    }
                }
            }
            Err(e) => {
                // Point into the string: past the opening quote, then the condition's column.
                let at =
                    span.start + 1 + text.char_indices().nth(e.column.saturating_sub(1)).map_or(text.len(), |c| c.0);
                self.report(at..at, key, e.message);
            }
        }
    }

    /// `[experiment]`: repetitions, ticks, `vary` (each key a numeric `[params]` key, with a list of
    /// values or `{ first, step, last }`), `metrics`.
    fn experiment(&mut self, t: &DeTable<'_>, span: Range<usize>, base: &Params) -> ExperimentSpec {
        let p = "experiment";
        self.unknown_keys(t, p, EXPERIMENT_KEYS);
        let repetitions = self.uint(t, p, "repetitions", 1000).unwrap_or(1).max(1) as u32;
        let ticks = self.uint(t, p, "ticks", 10_000_000).unwrap_or(1000);
        let mut vary = Vec::new();
        if let Some((v, _)) = self.table(t, p, "vary") {
            for (k, val) in v.iter() {
                let key = format!("experiment.vary.{}", k.get_ref());
                let Some(values) = self.sweep_values(val, &key) else { continue };
                for x in &values {
                    if let Err(m) = with_param(base, k.get_ref(), *x) {
                        self.report(val.span(), key.clone(), m);
                        break;
                    }
                }
                vary.push((k.span().start, k.get_ref().to_string(), values));
            }
        }
        // Declaration order (the table itself iterates by key).
        vary.sort_by_key(|(at, _, _)| *at);
        let vary: Vec<(String, Vec<f64>)> = vary.into_iter().map(|(_, k, v)| (k, v)).collect();
        let runs = vary.iter().map(|(_, v)| v.len().max(1)).product::<usize>() * repetitions as usize;
        if runs > EXPERIMENT_RUNS_MAX {
            self.report(span.clone(), p, format!("{runs} runs; at most {EXPERIMENT_RUNS_MAX}"));
        }
        let mut metrics = Vec::new();
        match t.get("metrics") {
            None => metrics.extend(EXPERIMENT_METRICS.iter().map(|m| m.to_string())),
            Some(v) => match v.get_ref().as_array() {
                Some(items) => {
                    for (i, item) in items.iter().enumerate() {
                        match item.get_ref().as_str() {
                            Some(m) if EXPERIMENT_METRICS.contains(&m) => metrics.push(m.to_owned()),
                            _ => {
                                let m = format!("expected one of {}", EXPERIMENT_METRICS.join(", "));
                                self.report(item.span(), format!("experiment.metrics[{i}]"), m);
                            }
                        }
                    }
                }
                None => self.type_error(v, "experiment.metrics".into(), "an array of metric names"),
            },
        }
        let stop_when = self.string(t, p, "stop_when").map(|(s, _)| s.to_owned());
        ExperimentSpec { repetitions, ticks, vary, metrics, stop_when }
    }

    /// A sweep's values: an array of numbers, or `{ first, step, last }` (inclusive, at most 1,000).
    fn sweep_values(&mut self, v: &Value<'_>, key: &str) -> Option<Vec<f64>> {
        let num = |v: &Value<'_>| match v.get_ref() {
            DeValue::Float(f) => f.as_str().parse::<f64>().ok(),
            DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix()).ok().map(|i| i as f64),
            _ => None,
        };
        if let Some(items) = v.get_ref().as_array() {
            let values: Option<Vec<f64>> = items.iter().map(num).collect();
            if values.as_ref().is_none_or(|v| v.is_empty()) {
                self.report(v.span(), key.to_owned(), "expected a non-empty array of numbers");
            }
            return values.filter(|v| !v.is_empty());
        }
        if let Some(t) = v.get_ref().as_table() {
            let field = |k: &str| t.get(k).and_then(num);
            let (Some(first), Some(step), Some(last)) = (field("first"), field("step"), field("last")) else {
                self.report(v.span(), key.to_owned(), "expected { first, step, last } numbers");
                return None;
            };
            let n = if step > 0.0 && last >= first { ((last - first) / step + 1e-9).floor() as usize + 1 } else { 0 };
            if n == 0 || n > 1000 {
                self.report(v.span(), key.to_owned(), "first..=last by step must give 1 to 1,000 values");
                return None;
            }
            return Some((0..n).map(|i| first + step * i as f64).collect());
        }
        self.type_error(v, key.to_owned(), "an array of numbers or { first, step, last }");
        None
    }

    fn world(&mut self, t: &DeTable<'_>, span: Range<usize>) -> WorldSpec {
        let p = "world";
        self.unknown_keys(t, p, WORLD_KEYS);
        let name = self.string(t, p, "name").map(|(s, _)| s.to_owned());
        if name.is_none() && t.get("name").is_none() {
            self.missing(span, p, "name");
        }
        let seed = self.uint(t, p, "seed", u64::MAX).unwrap_or(0);
        let genre = match self.string(t, p, "genre") {
            None => Genre::Drama,
            Some((g, s)) => GENRES.iter().find(|(n, _)| *n == g).map(|(_, g)| *g).unwrap_or_else(|| {
                let names: Vec<_> = GENRES.iter().map(|(n, _)| *n).collect();
                self.report(s, "world.genre", format!("unknown genre {g:?}; expected one of {}", names.join(", ")));
                Genre::Drama
            }),
        };
        let description = self.string(t, p, "description").map(|(s, _)| s.to_owned()).unwrap_or_default();
        WorldSpec { name: name.unwrap_or_default(), seed, genre, description }
    }

    fn population(&mut self, t: &DeTable<'_>, span: Range<usize>) -> PopulationSpec {
        let p = "population";
        self.unknown_keys(t, p, POPULATION_KEYS);
        let count = self.uint(t, p, "count", u64::from(POPULATION_MAX));
        let degree = self.uint(t, p, "degree", u64::from(DEGREE_MAX));
        for key in ["count", "degree"] {
            if t.get(key).is_none() {
                self.missing(span.clone(), p, key);
            }
        }
        if let Some(c) = count.filter(|&c| c < 3) {
            self.report_at(t, &span, p, "count", format!("{c} is too small; a population needs at least 3"));
        }
        if let Some(d) = degree {
            let mut bad = |m: String| self.report_at(t, &span, p, "degree", m);
            if d % 2 == 1 {
                bad(format!("{d} must be even (each tie is mutual, degree/2 neighbours on each side)"));
            }
            if d < 2 {
                bad(format!("{d} must be at least 2"));
            }
            if let Some(c) = count.filter(|&c| d >= c) {
                bad(format!("{d} must be less than count ({c})"));
            }
        }
        let rewire = self.number(t, p, "rewire", 0.0, 1.0).unwrap_or(0.1);
        let spread = self.number(t, p, "spread", 0.0, 1.0).unwrap_or(0.35);
        let id_prefix = self.prefix(t, p);
        let connect_named = self.uint(t, p, "connect_named", u64::from(DEGREE_MAX)).unwrap_or(2);
        if let Some(c) = count.filter(|&c| connect_named > c) {
            self.report_at(t, &span, p, "connect_named", format!("{connect_named} is more than count ({c})"));
        }
        let narrow = |x: Option<u64>| x.and_then(|x| u32::try_from(x).ok()).unwrap_or(0);
        PopulationSpec {
            count: narrow(count),
            degree: narrow(degree),
            rewire,
            spread,
            id_prefix,
            connect_named: narrow(Some(connect_named)),
        }
    }

    fn prefix(&mut self, t: &DeTable<'_>, p: &str) -> String {
        let Some((prefix, s)) = self.string(t, p, "id_prefix") else {
            return "p".to_owned();
        };
        let ok = !prefix.is_empty() && prefix.len() <= PREFIX_BYTES_MAX && prefix.bytes().all(is_id_byte);
        if !ok {
            let m = format!("{prefix:?} must be 1 to {PREFIX_BYTES_MAX} characters of [a-z0-9_-]");
            self.report(s, "population.id_prefix", m);
        }
        prefix.to_owned()
    }

    fn characters(&mut self, top: &DeTable<'_>, prefix: Option<&str>, ids: &mut Ids) -> Vec<CharacterSpec> {
        let Some((list, span)) = self.array_of_tables(top, "character") else {
            return Vec::new();
        };
        if list.len() > CHARACTERS_MAX {
            let m = format!("{} characters declared; a scenario may declare at most {CHARACTERS_MAX}", list.len());
            self.report(span, "character", m);
        }
        let mut out = Vec::with_capacity(list.len());
        for (i, v) in list.iter().enumerate() {
            let path = format!("character[{i}]");
            let Some(t) = self.expect_table(v, &path) else {
                continue;
            };
            out.push(self.character(t, v.span(), &path, prefix, ids));
        }
        out
    }

    fn character(
        &mut self,
        t: &DeTable<'_>,
        span: Range<usize>,
        path: &str,
        prefix: Option<&str>,
        ids: &mut Ids,
    ) -> CharacterSpec {
        self.unknown_keys(t, path, CHARACTER_KEYS);
        let id = match self.string(t, path, "id") {
            Some((id, s)) => {
                self.check_id(id, s, &format!("{path}.id"), prefix, ids);
                id.to_owned()
            }
            None => {
                if t.get("id").is_none() {
                    self.missing(span, path, "id");
                }
                String::new()
            }
        };
        let name = self.string(t, path, "name").map_or_else(|| id.clone(), |(n, _)| n.to_owned());
        let personality = self.personality(t, path);
        let mood = self.mood(t, path, &personality);
        let tags = self.tags(t, path);
        CharacterSpec { id, name, personality, mood, tags }
    }

    fn check_id(&mut self, id: &str, span: Range<usize>, key: &str, prefix: Option<&str>, ids: &mut Ids) {
        if id.is_empty() || id.len() > ID_BYTES_MAX || !id.bytes().all(is_id_byte) {
            let m = format!("id {id:?} must be 1 to {ID_BYTES_MAX} characters of [a-z0-9_-]");
            self.report(span.clone(), key, m);
        }
        if let Some(prefix) = prefix {
            let digits = id.strip_prefix(prefix).filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()));
            if digits.is_some() {
                let m = format!("id {id:?} clashes with generated population ids ({prefix:?} followed by digits)");
                self.report(span.clone(), key, m);
            }
        }
        if let Some(first) = ids.get(id) {
            let m = format!("duplicate character id {id:?} (first declared on line {first})");
            self.report(span, key, m);
        } else {
            ids.insert(id.to_owned(), self.line_col(span.start).0);
        }
    }

    fn personality(&mut self, t: &DeTable<'_>, path: &str) -> Personality {
        let path = format!("{path}.personality");
        let Some(v) = t.get("personality") else {
            return Personality::default();
        };
        let Some(pt) = self.expect_table(v, &path) else {
            return Personality::default();
        };
        self.unknown_keys(pt, &path, &TRAIT_KEYS);
        let [o, c, e, a, n] = TRAIT_KEYS.map(|k| self.number(pt, &path, k, -1.0, 1.0).unwrap_or(0.0));
        Personality { openness: o, conscientiousness: c, extraversion: e, agreeableness: a, neuroticism: n }
    }

    /// The starting mood; axes not given take the personality baseline's value.
    fn mood(&mut self, t: &DeTable<'_>, path: &str, personality: &Personality) -> Option<Pad> {
        let path = format!("{path}.mood");
        let mt = self.expect_table(t.get("mood")?, &path)?;
        self.unknown_keys(mt, &path, &MOOD_KEYS);
        let base = personality.baseline_mood();
        let [p, a, d] = MOOD_KEYS.map(|k| self.number(mt, &path, k, -1.0, 1.0));
        Some(Pad::new(p.unwrap_or(base.p), a.unwrap_or(base.a), d.unwrap_or(base.d)))
    }

    fn tags(&mut self, t: &DeTable<'_>, path: &str) -> Vec<String> {
        let Some(v) = t.get("tags") else {
            return Vec::new();
        };
        let key = format!("{path}.tags");
        let Some(list) = v.get_ref().as_array() else {
            self.report(v.span(), &key, format!("expected an array of strings, found {}", v.get_ref().type_str()));
            return Vec::new();
        };
        let mut tags = Vec::with_capacity(list.len());
        for (i, tag) in list.iter().enumerate() {
            match tag.get_ref().as_str() {
                Some(s) if !s.is_empty() && s.len() <= TAG_BYTES_MAX => tags.push(s.to_owned()),
                Some(s) => self.report(
                    tag.span(),
                    format!("{key}[{i}]"),
                    format!("tag {s:?} must be 1 to {TAG_BYTES_MAX} bytes"),
                ),
                None => {
                    let m = format!("expected a string, found {}", tag.get_ref().type_str());
                    self.report(tag.span(), format!("{key}[{i}]"), m);
                }
            }
        }
        tags
    }

    fn relationships(&mut self, top: &DeTable<'_>, ids: &Ids) -> Vec<RelationshipSpec> {
        let Some((list, _)) = self.array_of_tables(top, "relationship") else {
            return Vec::new();
        };
        // (from, to) -> (line declared, declared through `mutual`).
        let mut seen: HashMap<(String, String), (usize, bool)> = HashMap::new();
        let mut out = Vec::with_capacity(list.len());
        for (i, v) in list.iter().enumerate() {
            let path = format!("relationship[{i}]");
            let Some(t) = self.expect_table(v, &path) else {
                continue;
            };
            let Some((spec, mutual)) = self.relationship(t, v.span(), &path, ids) else {
                continue;
            };
            let line = self.line_col(v.span().start).0;
            let mut directions = vec![(spec.from.clone(), spec.to.clone(), false)];
            if mutual {
                directions.push((spec.to.clone(), spec.from.clone(), true));
            }
            for (from, to, via_mutual) in directions {
                if let Some(&(first, first_mutual)) = seen.get(&(from.clone(), to.clone())) {
                    let how = if first_mutual { "as the reverse of a mutual relationship " } else { "" };
                    let via = if via_mutual { " (through mutual = true)" } else { "" };
                    let m = format!(
                        "duplicate relationship {from:?} -> {to:?}{via}; already declared {how}on line {first}"
                    );
                    self.report(v.span(), path.as_str(), m);
                } else {
                    seen.insert((from.clone(), to.clone()), (line, via_mutual));
                    out.push(RelationshipSpec { from, to, bond: spec.bond });
                }
            }
        }
        out
    }

    /// One relationship and its `mutual` flag; `None` when an end is missing or unknown.
    fn relationship(
        &mut self,
        t: &DeTable<'_>,
        span: Range<usize>,
        path: &str,
        ids: &Ids,
    ) -> Option<(RelationshipSpec, bool)> {
        self.unknown_keys(t, path, RELATIONSHIP_KEYS);
        let end = |cx: &mut Self, key: &str| match cx.string(t, path, key) {
            Some((id, _)) if ids.contains_key(id) => Some(id.to_owned()),
            Some((id, s)) => {
                cx.report(s, format!("{path}.{key}"), format!("unknown character {id:?}"));
                None
            }
            None => {
                if t.get(key).is_none() {
                    cx.missing(span.clone(), path, key);
                }
                None
            }
        };
        let (from, to) = (end(self, "from"), end(self, "to"));
        let mut bond = Bond::default();
        let dims =
            [&mut bond.affinity, &mut bond.trust, &mut bond.respect, &mut bond.attraction, &mut bond.familiarity];
        for (dim, key) in dims.into_iter().zip(BOND_KEYS) {
            let lo = if key == "familiarity" { 0.0 } else { -1.0 };
            if let Some(x) = self.number(t, path, key, lo, 1.0) {
                *dim = x;
            }
        }
        let mutual = self.boolean(t, path, "mutual").unwrap_or(false);
        let (from, to) = (from?, to?);
        if from == to {
            let key = format!("{path}.to");
            let s = t.get("to").map_or(span, Spanned::span);
            self.report(s, key, format!("self-relationship: {from:?} cannot have a relationship with itself"));
            return None;
        }
        Some((RelationshipSpec { from, to, bond }, mutual))
    }

    /// `[params]`: each key is checked alone so that every bad key is reported, then ranges.
    fn params(&mut self, v: &Value<'_>) -> Params {
        let Some(t) = self.expect_table(v, "params") else {
            return Params::default();
        };
        let mut ok = true;
        for (k, val) in t.iter() {
            let mut one = DeTable::new();
            one.insert(k.clone(), val.clone());
            let single = Spanned::new(v.span(), DeValue::Table(one));
            if let Err(e) = Params::deserialize(single.into_deserializer()) {
                ok = false;
                self.report(e.span().unwrap_or(k.span()), format!("params.{}", k.get_ref()), e.message());
            }
        }
        if !ok {
            return Params::default();
        }
        let params = match Params::deserialize(v.clone().into_deserializer()) {
            Ok(p) => p,
            Err(e) => {
                self.report(e.span().unwrap_or(v.span()), "params", e.message());
                return Params::default();
            }
        };
        for (name, message) in params.problems() {
            let s = t.get(name).map_or(v.span(), Spanned::span);
            self.report(s, format!("params.{name}"), message);
        }
        params
    }
}

/// `base` with parameter `key` set to `value`, or why that is not a valid parameter value.
pub fn with_param(base: &Params, key: &str, value: f64) -> Result<Params, String> {
    let mut v = serde_json::to_value(base).map_err(|e| e.to_string())?;
    let map = v.as_object_mut().ok_or("parameters are a table")?;
    let slot = map.get_mut(key).ok_or_else(|| format!("unknown parameter {key:?}"))?;
    *slot = match slot {
        serde_json::Value::Bool(_) => serde_json::Value::Bool(value != 0.0),
        serde_json::Value::Number(n) if n.is_u64() => serde_json::json!(value as u64),
        _ => serde_json::json!(value),
    };
    let p: Params = serde_json::from_value(v).map_err(|e| e.to_string())?;
    match p.problems().into_iter().find(|(k, _)| *k == key) {
        Some((_, m)) => Err(m),
        None => Ok(p),
    }
}

/// Typed access to keys, reporting wrong types and ranges.
impl Checker<'_> {
    fn unknown_keys(&mut self, t: &DeTable<'_>, path: &str, allowed: &[&str]) {
        for k in t.keys() {
            if !allowed.contains(&k.get_ref().as_ref()) {
                let m = format!("unknown key {:?}; expected one of {}", k.get_ref(), allowed.join(", "));
                self.report(k.span(), join(path, k.get_ref()), m);
            }
        }
    }

    fn missing(&mut self, span: Range<usize>, path: &str, key: &str) {
        self.report(span, join(path, key), format!("missing required key {key:?}"));
    }

    fn type_error(&mut self, v: &Value<'_>, key: String, expected: &str) {
        self.report(v.span(), key, format!("expected {expected}, found {}", v.get_ref().type_str()));
    }

    fn string<'t>(&mut self, t: &'t DeTable<'_>, path: &str, key: &str) -> Option<(&'t str, Range<usize>)> {
        let v = t.get(key)?;
        match v.get_ref().as_str() {
            Some(s) => Some((s, v.span())),
            None => {
                self.type_error(v, join(path, key), "a string");
                None
            }
        }
    }

    fn boolean(&mut self, t: &DeTable<'_>, path: &str, key: &str) -> Option<bool> {
        let v = t.get(key)?;
        let b = v.get_ref().as_bool();
        if b.is_none() {
            self.type_error(v, join(path, key), "a boolean");
        }
        b
    }

    /// A signed integer.
    fn int(&mut self, t: &DeTable<'_>, path: &str, key: &str) -> Option<i64> {
        let v = t.get(key)?;
        let Some(i) = v.get_ref().as_integer() else {
            self.type_error(v, join(path, key), "an integer");
            return None;
        };
        let n = i64::from_str_radix(i.as_str(), i.radix()).ok();
        if n.is_none() {
            self.report(v.span(), join(path, key), format!("{i} is not a 64-bit integer"));
        }
        n
    }

    /// An integer in `0..=max`.
    fn uint(&mut self, t: &DeTable<'_>, path: &str, key: &str, max: u64) -> Option<u64> {
        let v = t.get(key)?;
        let Some(i) = v.get_ref().as_integer() else {
            self.type_error(v, join(path, key), "an integer");
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

    /// A number (integer or float) in `[lo, hi]`.
    fn number(&mut self, t: &DeTable<'_>, path: &str, key: &str, lo: f32, hi: f32) -> Option<f32> {
        let v = t.get(key)?;
        let x = match v.get_ref() {
            DeValue::Float(f) => f.as_str().parse::<f64>().ok(),
            DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix()).ok().map(|i| i as f64),
            _ => {
                self.type_error(v, join(path, key), "a number");
                return None;
            }
        };
        match x {
            Some(x) if (f64::from(lo)..=f64::from(hi)).contains(&x) => Some(x as f32),
            _ => {
                let shown = &self.text[v.span()];
                self.report(v.span(), join(path, key), format!("{shown} is outside [{lo}, {hi}]"));
                None
            }
        }
    }

    /// A sub-table and its span (the header for `[key]`).
    fn table<'t, 'i>(&mut self, t: &'t DeTable<'i>, path: &str, key: &str) -> Option<(&'t DeTable<'i>, Range<usize>)> {
        let v = t.get(key)?;
        self.expect_table(v, &join(path, key)).map(|t| (t, v.span()))
    }

    fn expect_table<'t, 'i>(&mut self, v: &'t Value<'i>, key: &str) -> Option<&'t DeTable<'i>> {
        let t = v.get_ref().as_table();
        if t.is_none() {
            self.type_error(v, key.to_owned(), "a table");
        }
        t
    }

    /// `[[key]]` entries and the span of the key.
    fn array_of_tables<'t, 'i>(&mut self, top: &'t DeTable<'i>, key: &str) -> Option<(&'t [Value<'i>], Range<usize>)> {
        let (k, v) = top.get_key_value(key)?;
        match v.get_ref().as_array() {
            Some(a) => Some((&a[..], k.span())),
            None => {
                self.type_error(v, key.to_owned(), &format!("an array of tables [[{key}]]"));
                None
            }
        }
    }
}

/// Positions and the problem list.
impl Checker<'_> {
    fn report(&mut self, span: Range<usize>, key: impl Into<String>, message: impl Into<String>) {
        let (line, column) = self.line_col(span.start);
        self.problems.push(Problem {
            file: self.file.to_owned(),
            line,
            column,
            key: key.into(),
            message: message.into(),
        });
    }

    /// Reports at the value of `t[key]`, or at the table when the key is absent.
    fn report_at(&mut self, t: &DeTable<'_>, table: &Range<usize>, path: &str, key: &str, m: String) {
        let s = t.get(key).map_or(table.clone(), Spanned::span);
        self.report(s, join(path, key), m);
    }

    /// 1-based line and column (in characters) of a byte offset.
    fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|&s| s <= offset);
        let start = self.line_starts[line.saturating_sub(1)];
        let column = self.text.get(start..offset).map_or(offset - start, |s| s.chars().count());
        (line.max(1), column + 1)
    }

    fn into_error(mut self) -> LoadError {
        self.problems.sort_by_key(|p| (p.line, p.column));
        LoadError::Invalid(self.problems)
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_owned() } else { format!("{path}.{key}") }
}

fn is_id_byte(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-'
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(text: &str) -> Vec<Problem> {
        problems_in(text, "t.toml")
    }

    fn problems_in(text: &str, file: &str) -> Vec<Problem> {
        match parse(text, file) {
            Ok(_) => panic!("expected problems"),
            Err(LoadError::Invalid(p)) => p,
            Err(e) => panic!("unexpected error {e}"),
        }
    }

    /// `(line, key)` of each problem, for compact assertions.
    fn where_(text: &str) -> Vec<(usize, String)> {
        problems(text).into_iter().map(|p| (p.line, p.key)).collect()
    }

    const VALID: &str = r#"format = "aion.scenario/1"
[world]
name = "Test"
seed = 18446744073709551615
genre = "mystery"

[[character]]
id = "ann"
personality = { openness = 0.5, neuroticism = -1 }
mood = { pleasure = 0.25 }
tags = ["detective"]

[[character]]
id = "bob-2"
name = "Bob"
personality.extraversion = 0.75

[[relationship]]
from = "ann"
to = "bob-2"
trust = 0.5
familiarity = 1
mutual = true

[params]
trust_loss = 0.2
"#;

    #[test]
    fn a_valid_scenario_loads_with_defaults_filled_in() {
        let s = parse(VALID, "t.toml").unwrap();
        assert_eq!(s.source, "t.toml");
        assert_eq!(s.world.name, "Test");
        assert_eq!(s.world.seed, u64::MAX);
        assert_eq!(s.world.genre, Genre::Mystery);
        assert_eq!(s.world.description, "");
        let [ann, bob] = &s.characters[..] else { panic!("two characters") };
        assert_eq!((ann.id.as_str(), ann.name.as_str()), ("ann", "ann"));
        assert_eq!(ann.personality.openness, 0.5);
        assert_eq!(ann.personality.neuroticism, -1.0);
        assert_eq!(ann.personality.extraversion, 0.0);
        let base = ann.personality.baseline_mood();
        assert_eq!(ann.mood, Some(Pad::new(0.25, base.a, base.d)));
        assert_eq!(ann.tags, ["detective"]);
        assert_eq!((bob.name.as_str(), bob.personality.extraversion, bob.mood), ("Bob", 0.75, None));
        // mutual = true gives both directions with the same bond.
        assert_eq!(s.relationships.len(), 2);
        let bond = Bond { trust: 0.5, familiarity: 1.0, ..Bond::default() };
        assert_eq!((s.relationships[0].from.as_str(), s.relationships[0].to.as_str()), ("ann", "bob-2"));
        assert_eq!((s.relationships[1].from.as_str(), s.relationships[1].to.as_str()), ("bob-2", "ann"));
        assert!(s.relationships.iter().all(|r| r.bond == bond));
        assert_eq!(s.population, None);
        assert_eq!(s.params, Params { trust_loss: 0.2, ..Params::default() });
        // The validated scenario round-trips through serde unchanged.
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(serde_json::from_str::<Scenario>(&json).unwrap(), s);
    }

    #[test]
    fn every_mistake_is_reported_with_its_line_and_key() {
        let text = r#"format = "aion.scenario/1"
[world]
name = "Broken"
colour = "blue"

[[character]]
id = "ann"
personality = { openness = 1.5 }

[[character]]
id = "bob"

[[character]]
id = "ann"

[[relationship]]
from = "ann"
to = "bob"

[[relationship]]
from = "ann"
to = "zed"
"#;
        let p = problems(text);
        let got: Vec<_> = p.iter().map(|p| (p.line, p.key.as_str())).collect();
        assert_eq!(
            got,
            [
                (4, "world.colour"),
                (8, "character[0].personality.openness"),
                (14, "character[2].id"),
                (22, "relationship[1].to"),
            ]
        );
        assert!(p[0].message.contains("unknown key \"colour\""), "{}", p[0]);
        assert!(p[1].message.contains("1.5 is outside [-1, 1]"), "{}", p[1]);
        assert!(p[2].message.contains("duplicate character id \"ann\" (first declared on line 7)"), "{}", p[2]);
        assert!(p[3].message.contains("unknown character \"zed\""), "{}", p[3]);
        assert_eq!(p[1].column, 28);
        assert_eq!(p[3].to_string(), "t.toml:22:6: relationship[1].to: unknown character \"zed\"");
    }

    #[test]
    fn a_syntax_error_is_one_problem_with_its_position() {
        let p = problems("format = \"aion.scenario/1\"\n[world]\nname = \"open\nseed = 1\n");
        assert_eq!(p.len(), 1);
        assert_eq!((p[0].line, p[0].key.as_str()), (3, "syntax"));
        assert!(p[0].column > 0);
        let p = problems("[world]\nname = \"a\"\nname = \"b\"\n");
        assert_eq!((p.len(), p[0].line), (1, 3), "duplicate keys are syntax errors");
    }

    #[test]
    fn missing_keys_wrong_types_and_format_are_reported() {
        let text = "format = \"aion.scenario/2\"\n[[character]]\nname = 3\ntags = [\"a\", 1]\n\
                    mood = \"calm\"\n[[relationship]]\nfrom = \"x\"\nmutual = 1\n";
        let got = where_(text);
        assert_eq!(
            got,
            [
                (1, "world".to_owned()),
                (1, "format".to_owned()),
                (2, "character[0].id".to_owned()),
                (3, "character[0].name".to_owned()),
                (4, "character[0].tags[1]".to_owned()),
                (5, "character[0].mood".to_owned()),
                (6, "relationship[0].to".to_owned()),
                (7, "relationship[0].from".to_owned()),
                (8, "relationship[0].mutual".to_owned()),
            ]
        );
        let p = problems("format = 1\nworld = 2\ncharacter = { id = \"a\" }\n");
        let got: Vec<_> = p.iter().map(|p| (p.line, p.key.as_str(), p.message.as_str())).collect();
        assert_eq!(
            got,
            [
                (1, "format", "expected a string, found integer"),
                (2, "world", "expected a table, found integer"),
                (3, "character", "expected an array of tables [[character]], found table"),
            ]
        );
    }

    #[test]
    fn ids_relationships_and_genre_are_checked() {
        let text = r#"format = "aion.scenario/1"
[world]
name = "W"
genre = "comedy"
[[character]]
id = "Ann"
[[character]]
id = "p12"
[[character]]
id = "bob"
[[relationship]]
from = "bob"
to = "bob"
[[relationship]]
from = "Ann"
to = "bob"
mutual = true
[[relationship]]
from = "bob"
to = "Ann"
familiarity = -0.5
[population]
count = 10
degree = 4
"#;
        let p = problems(text);
        let got: Vec<_> = p.iter().map(|p| (p.line, p.key.as_str())).collect();
        assert_eq!(
            got,
            [
                (4, "world.genre"),
                (6, "character[0].id"),
                (8, "character[1].id"),
                (13, "relationship[0].to"),
                (18, "relationship[2]"),
                (21, "relationship[2].familiarity"),
            ]
        );
        assert!(p[1].message.contains("\"Ann\""), "{}", p[1]);
        assert!(p[2].message.contains("clashes with generated population ids"), "{}", p[2]);
        assert!(p[3].message.contains("self-relationship"), "{}", p[3]);
        assert!(p[4].message.contains("already declared as the reverse of a mutual relationship on line 14"));
    }

    #[test]
    fn population_limits_are_checked() {
        let head = "format = \"aion.scenario/1\"\n[world]\nname = \"W\"\n[population]\n";
        let keys =
            |body: &str| -> Vec<String> { problems(&format!("{head}{body}")).into_iter().map(|p| p.key).collect() };
        assert_eq!(keys("count = 10\ndegree = 3\n"), ["population.degree"]);
        assert_eq!(keys("count = 10\ndegree = 10\n"), ["population.degree"]);
        assert_eq!(keys("count = 10\ndegree = 0\n"), ["population.degree"]);
        assert_eq!(keys("count = 10\ndegree = 202\n"), ["population.degree"]);
        assert_eq!(keys("count = 2000001\ndegree = 4\n"), ["population.count"]);
        assert_eq!(keys("count = 2\ndegree = 2\n"), ["population.count", "population.degree"]);
        assert_eq!(keys("degree = 2\n"), ["population.count"]);
        assert_eq!(
            keys("count = 10\ndegree = 2\nrewire = 2\nspread = -1\nid_prefix = \"P\"\nconnect_named = 11\nx = 1\n"),
            [
                "population.rewire",
                "population.spread",
                "population.id_prefix",
                "population.connect_named",
                "population.x"
            ]
        );
        let ok = parse(&format!("{head}count = 3\ndegree = 2\n"), "t").unwrap();
        let pop = ok.population.unwrap();
        assert_eq!((pop.rewire, pop.spread, pop.id_prefix.as_str(), pop.connect_named), (0.1, 0.35, "p", 2));
    }

    #[test]
    fn params_report_every_bad_key() {
        let text = "format = \"aion.scenario/1\"\n[world]\nname = \"W\"\n[params]\ntrust_gain = \"x\"\n\
                    nonsense = 1\ncapacity_per_tick = 300\n";
        assert_eq!(
            where_(text),
            [
                (5, "params.trust_gain".to_owned()),
                (6, "params.nonsense".to_owned()),
                (7, "params.capacity_per_tick".to_owned())
            ]
        );
        let text = "format = \"aion.scenario/1\"\n[world]\nname = \"W\"\n[params]\ntrust_gain = 2.0\n";
        assert_eq!(where_(text), [(5, "params.trust_gain".to_owned())]);
    }

    #[test]
    fn too_many_characters_is_one_problem() {
        let mut text = String::from("format = \"aion.scenario/1\"\n[world]\nname = \"W\"\n");
        for i in 0..=CHARACTERS_MAX {
            text.push_str(&format!("[[character]]\nid = \"c{i}\"\n"));
        }
        assert_eq!(where_(&text), [(4, "character".to_owned())]);
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        let p = problems("format = \"aion.scenario/1\"\n[world]\nname = \"Ünïcödé\"\nseed = -1\n");
        assert_eq!((p[0].line, p[0].column, p[0].key.as_str()), (4, 8, "world.seed"));
        let p = problems("format = \"aion.scenario/1\"\n[world]\nname = \"é\" ; x = 1\n");
        assert_eq!((p[0].line, p[0].column), (3, 12));
    }

    #[test]
    fn every_shipped_scenario_is_valid() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
        let mut n = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "toml") {
                let s = load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                assert!(!s.world.name.is_empty());
                n += 1;
            }
        }
        assert!(n >= 5, "expected the shipped scenarios in {}", dir.display());
    }

    #[test]
    fn the_readme_examples_say_what_the_parser_does() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/README.md");
        let readme = std::fs::read_to_string(path).unwrap();
        let blocks: Vec<&str> = readme.split("```toml\n").skip(1).map(|b| b.split("```").next().unwrap()).collect();
        let [example, broken] = blocks[..] else { panic!("expected two toml examples, found {}", blocks.len()) };
        parse(example, "example.toml").unwrap();
        for p in problems_in(broken, "broken.toml") {
            assert!(readme.contains(&format!("  {p}\n")), "README lacks: {p}");
        }
    }

    proptest::proptest! {
        /// Arbitrary edits of a valid file never panic, and every problem points inside the text.
        #[test]
        fn mangled_text_never_panics(cut in 0usize..400, junk in "[a-z0-9=\\[\\]{}\",.\n -]{0,12}") {
            let mut text = VALID.to_owned();
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

    #[test]
    fn an_unreadable_file_is_an_io_error() {
        let e = load(Path::new("/nonexistent/aion/scenario.toml")).unwrap_err();
        assert!(matches!(e, LoadError::Io { .. }), "{e}");
    }
}
