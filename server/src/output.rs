//! What `aion run` writes: event lines, metrics rows, crash-safe files, and the progress bar.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, IsTerminal, Write};
use std::path::Path;

use aion_engine::dialogue;
use aion_engine::events::{Event, EventKind};
use aion_engine::ids::{CharacterId, Name};
use aion_engine::metrics::TickMetrics;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;

/// Header of `metrics.csv`; [`metrics_row`] writes the fields in this order.
pub const METRICS_HEADER: &str =
    "tick,interactions,mean_pleasure,mean_arousal,mean_dominance,mean_affinity,mean_trust,events,world_hash";

/// Writes events as JSON lines and counts them by kind.
///
/// A line is the engine's [`Event`] as serde writes it (`{"seq", "tick", "kind": {"<kind>": {..}}}`),
/// plus, for an interaction, its dialogue rendered as `text` and both characters' scenario ids as
/// `initiator_key` and `target_key`, so the file reads without the scenario at hand.
pub struct EventWriter<'a> {
    /// Display names and keys by stable id.
    names: &'a [Name],
    /// The kind's JSON, reused across events to avoid an allocation per line.
    kind_json: Vec<u8>,
    /// Events written, by kind.
    pub counts: BTreeMap<String, u64>,
}

impl<'a> EventWriter<'a> {
    /// A writer that names characters from `names` (index = stable id).
    pub fn new(names: &'a [Name]) -> Self {
        Self { names, kind_json: Vec::with_capacity(256), counts: BTreeMap::new() }
    }

    /// Writes one event as one line.
    pub fn write(&mut self, out: &mut impl Write, ev: &Event) -> io::Result<()> {
        self.kind_json.clear();
        serde_json::to_writer(&mut self.kind_json, &ev.kind)?;
        let kind = kind_name(&self.kind_json);
        match self.counts.get_mut(kind) {
            Some(c) => *c += 1,
            None => {
                self.counts.insert(kind.to_owned(), 1);
            }
        }
        write!(out, "{{\"seq\":{},\"tick\":{},\"kind\":", ev.seq, ev.tick)?;
        out.write_all(&self.kind_json)?;
        if let EventKind::InteractionResolved { initiator, target, action, valence, line, about, .. } = &ev.kind {
            let (a, b) = (self.name(*initiator), self.name(*target));
            let text = match about {
                Some(c) => {
                    dialogue::render_about(*line, *action, &a.display, &b.display, &self.name(*c).display, *valence)
                }
                None => dialogue::render(*line, *action, &a.display, &b.display, *valence),
            };
            out.write_all(b",\"text\":")?;
            serde_json::to_writer(&mut *out, &text)?;
            out.write_all(b",\"initiator_key\":")?;
            serde_json::to_writer(&mut *out, &a.key)?;
            out.write_all(b",\"target_key\":")?;
            serde_json::to_writer(&mut *out, &b.key)?;
        }
        out.write_all(b"}\n")
    }

    /// A character's name; an id outside the table (which the engine never logs) gets a placeholder
    /// rather than a panic.
    fn name(&self, id: CharacterId) -> Cow<'a, Name> {
        match self.names.get(id.0 as usize) {
            Some(n) => Cow::Borrowed(n),
            None => {
                let key = format!("#{}", id.0);
                Cow::Owned(Name { display: key.clone(), key })
            }
        }
    }
}

/// Events rendered per parallel task by [`write_events`].
pub const EVENTS_PER_TASK: usize = 4096;

/// Writes `events` as JSON lines (see [`EventWriter`]) to `out` and adds them to `counts` by kind.
/// With a pool, chunks are rendered in parallel and written in order, so the file is the same.
pub fn write_events(
    out: &mut impl Write,
    events: &[&Event],
    names: &[Name],
    counts: &mut BTreeMap<String, u64>,
    pool: Option<&rayon::ThreadPool>,
) -> io::Result<()> {
    let render = |chunk: &[&Event]| -> io::Result<(Vec<u8>, BTreeMap<String, u64>)> {
        let mut w = EventWriter::new(names);
        let mut buf = Vec::with_capacity(chunk.len() * 256);
        for ev in chunk {
            w.write(&mut buf, ev)?;
        }
        Ok((buf, w.counts))
    };
    let parts: Vec<_> = match pool {
        Some(pool) if events.len() > EVENTS_PER_TASK => {
            pool.install(|| events.par_chunks(EVENTS_PER_TASK).map(render).collect::<io::Result<_>>())?
        }
        _ => events.chunks(EVENTS_PER_TASK).map(render).collect::<io::Result<_>>()?,
    };
    for (buf, part) in parts {
        out.write_all(&buf)?;
        for (kind, n) in part {
            *counts.entry(kind).or_default() += n;
        }
    }
    Ok(())
}

/// The variant name in a serialized event kind: `{"name":{..}}` or `"name"`.
fn kind_name(json: &[u8]) -> &str {
    let start = if json.first() == Some(&b'{') { 2 } else { 1 };
    let rest = json.get(start..).unwrap_or_default();
    let end = rest.iter().position(|&b| b == b'"').unwrap_or(rest.len());
    std::str::from_utf8(&rest[..end]).unwrap_or("unknown")
}

/// One row of `metrics.csv` (no newline), in [`METRICS_HEADER`] order, the hash as 16 hex digits.
pub fn metrics_row(m: &TickMetrics) -> String {
    format!(
        "{},{},{},{},{},{},{},{},{}",
        m.tick,
        m.interactions,
        m.mean_pleasure,
        m.mean_arousal,
        m.mean_dominance,
        m.mean_affinity,
        m.mean_trust,
        m.events,
        hex(m.world_hash)
    )
}

/// A hash as 16 lower-case hex digits.
pub fn hex(hash: u64) -> String {
    format!("{hash:016x}")
}

/// Writes `bytes` to `dir/name` so that a crash leaves either the old file or the new one, never a
/// torn one: write a temporary file in the same directory, flush it to disk, rename it over.
pub fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> io::Result<()> {
    let tmp = dir.join(format!(".{name}.tmp"));
    let result = (|| {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, dir.join(name))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp); // best effort: the error above is the one to report
    }
    result
}

/// A progress bar on stderr when stderr is a terminal; a hidden one (which draws nothing) otherwise,
/// so logs and pipes stay clean.
pub fn progress_bar(len: u64, unit: &str) -> ProgressBar {
    if !io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let style = ProgressStyle::with_template(&format!(
        "{{spinner}} [{{elapsed_precise}}] {{wide_bar}} {{pos}}/{{len}} {unit} ({{per_sec}}, eta {{eta}}) {{msg}}"
    ))
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr()).with_style(style)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aion_engine::autonomy::Action;
    use aion_engine::dialogue::{Line, Tone};

    fn names() -> Vec<Name> {
        ["ada", "bo"].iter().map(|k| Name { key: k.to_string(), display: k.to_uppercase() }).collect()
    }

    #[test]
    fn interaction_lines_carry_text_and_keys_and_parse_as_json() {
        let names = names();
        let mut w = EventWriter::new(&names);
        let ev = Event {
            seq: 7,
            tick: 3,
            kind: EventKind::InteractionResolved {
                initiator: CharacterId(0),
                target: CharacterId(1),
                action: Action::Help,
                valence: 0.6,
                initiator_valence: 0.2,
                line: Line { template: 0, tone: Tone::Warm, rapport: Default::default(), genre: Default::default() },
                about: None,
            },
        };
        let mut out = Vec::new();
        w.write(&mut out, &ev).unwrap();
        assert!(out.ends_with(b"}\n"));
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["seq"], 7);
        assert_eq!(v["kind"]["interaction_resolved"]["target"], 1);
        assert_eq!(v["text"], "ADA (softly): \"Let me carry that for you, BO.\" BO beams.");
        assert_eq!((v["initiator_key"].as_str(), v["target_key"].as_str()), (Some("ada"), Some("bo")));
        let back: Event = serde_json::from_value(v).unwrap();
        assert_eq!(back, ev, "extra fields do not stop the line from reading back as an Event");
        assert_eq!(w.counts.get("interaction_resolved"), Some(&1));
    }

    #[test]
    fn other_events_are_counted_by_kind_and_unknown_ids_do_not_panic() {
        let names = names();
        let mut w = EventWriter::new(&names);
        let mut out = Vec::new();
        let avoided = EventKind::Avoided { character: CharacterId(9), target: CharacterId(0) };
        for seq in 0..2 {
            w.write(&mut out, &Event { seq, tick: 1, kind: avoided.clone() }).unwrap();
        }
        assert_eq!(w.counts.get("avoided"), Some(&2));
        assert_eq!(kind_name(b"\"unit_kind\""), "unit_kind");
        assert_eq!(w.name(CharacterId(9)).key, "#9");
        assert_eq!(String::from_utf8(out).unwrap().lines().count(), 2);
    }

    #[test]
    fn parallel_rendering_writes_the_same_file_and_counts() {
        let names = names();
        let events: Vec<Event> = (0..3 * EVENTS_PER_TASK as u64 + 5)
            .map(|seq| {
                let kind = if seq % 3 == 0 {
                    EventKind::Avoided { character: CharacterId(0), target: CharacterId(1) }
                } else {
                    EventKind::InteractionResolved {
                        initiator: CharacterId((seq % 2) as u32),
                        target: CharacterId(1 - (seq % 2) as u32),
                        action: Action::Chat,
                        valence: 0.1,
                        initiator_valence: 0.0,
                        line: Line {
                            template: seq as u8,
                            tone: Tone::Gloomy,
                            rapport: Default::default(),
                            genre: Default::default(),
                        },
                        about: None,
                    }
                };
                Event { seq, tick: seq / 100, kind }
            })
            .collect();
        let refs: Vec<&Event> = events.iter().collect();
        let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
        let (mut a, mut b) = (Vec::new(), Vec::new());
        let (mut ca, mut cb) = (BTreeMap::new(), BTreeMap::new());
        write_events(&mut a, &refs, &names, &mut ca, None).unwrap();
        write_events(&mut b, &refs, &names, &mut cb, Some(&pool)).unwrap();
        assert_eq!(a, b);
        assert_eq!(ca, cb);
        assert_eq!(ca.values().sum::<u64>(), events.len() as u64);
        assert_eq!(a.iter().filter(|&&c| c == b'\n').count(), events.len());
    }

    #[test]
    fn metrics_rows_match_the_header() {
        let m = TickMetrics { tick: 4, world_hash: 0xab, ..Default::default() };
        let row = metrics_row(&m);
        assert_eq!(row.split(',').count(), METRICS_HEADER.split(',').count());
        assert!(row.starts_with("4,0,") && row.ends_with(",00000000000000ab"), "{row}");
    }

    #[test]
    fn atomic_writes_replace_whole_files_and_leave_no_temporary() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        write_atomic(dir, "a.bin", b"first").unwrap();
        write_atomic(dir, "a.bin", b"second").unwrap();
        assert_eq!(std::fs::read(dir.join("a.bin")).unwrap(), b"second");
        assert_eq!(std::fs::read_dir(dir).unwrap().count(), 1);
        assert!(write_atomic(&dir.join("missing"), "b.bin", b"x").is_err());
    }
}
