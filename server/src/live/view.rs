//! What observers see of a world: the snapshot state and the per-tick delta payloads, as JSON.
//!
//! Views read the world between ticks on the session's thread; they never change simulation state.

use std::collections::{BTreeMap, BTreeSet};

use aion_engine::Sim;
use aion_engine::bonds::Bond;
use aion_engine::emotion::Emotions;
use aion_engine::events::{Event, EventKind};
use aion_engine::goals::Goals;
use aion_engine::ids::{CharacterId, Name};
use aion_engine::memory::Memory;
use aion_engine::metrics::TickMetrics;
use aion_engine::mood::{Mood, MoodBaseline};
use aion_engine::needs::{Needs, SocialEnergy};
use aion_engine::personality::Personality;
use aion_engine::social::{Groups, Status};
use aion_engine::story::StoryArc;
use serde_json::{Value, json};

use crate::output::{EventWriter, hex};

/// Smallest change of a mood axis worth a graph delta (moods drift a little every tick).
pub const MOOD_STEP: f32 = 0.02;
/// Events of the recent feed a snapshot carries.
pub const SNAPSHOT_FEED: usize = 100;
/// Memories a character view lists (most recent first).
pub const CHARACTER_MEMORIES: usize = 12;

/// Rounds to 3 decimals (views, not simulation: keeps frames short).
fn r3(x: f32) -> f64 {
    (f64::from(x) * 1000.0).round() / 1000.0
}

/// A bond as `[from, to, affinity, trust, respect, attraction, familiarity]`.
pub fn bond_row(from: CharacterId, to: CharacterId, b: &Bond) -> Value {
    json!([from.0, to.0, r3(b.affinity), r3(b.trust), r3(b.respect), r3(b.attraction), r3(b.familiarity)])
}

/// Renders events as a JSON array (the same objects as `events.jsonl`).
pub fn events_json<'a>(events: impl IntoIterator<Item = &'a Event>, names: &[Name]) -> Value {
    let mut w = EventWriter::new(names);
    let mut buf = Vec::with_capacity(4096);
    buf.push(b'[');
    for (i, ev) in events.into_iter().enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        let start = buf.len();
        if w.write(&mut buf, ev).is_ok() && buf.last() == Some(&b'\n') {
            buf.pop();
        } else {
            buf.truncate(start);
        }
    }
    buf.push(b']');
    serde_json::from_slice(&buf).unwrap_or(Value::Array(Vec::new()))
}

/// Shrinks a feed for the wire: drops the dialogue `line` struct (its `text` is kept) and the
/// scenario keys (ids are in the snapshot), and rounds numbers to 3 decimals. About a third of a
/// 1,000-character world's feed bytes, which is what bounds how many observers a machine can serve.
pub fn compact_feed(feed: &mut Value) {
    fn round(v: &mut Value) {
        match v {
            Value::Number(n) if n.is_f64() => {
                if let Some(x) = n.as_f64() {
                    *v = json!((x * 1000.0).round() / 1000.0);
                }
            }
            Value::Array(a) => a.iter_mut().for_each(round),
            Value::Object(o) => o.values_mut().for_each(round),
            _ => {}
        }
    }
    for ev in feed.as_array_mut().into_iter().flatten() {
        if let Some(o) = ev.as_object_mut() {
            o.remove("initiator_key");
            o.remove("target_key");
            if let Some(kind) = o.get_mut("kind") {
                if let Some(inner) = kind.get_mut("interaction_resolved").and_then(Value::as_object_mut) {
                    inner.remove("line");
                }
                round(kind);
            }
        }
    }
}

/// Every character's identity, traits and mood.
pub fn characters(sim: &mut Sim) -> Value {
    let world = sim.world_mut();
    let mut rows: Vec<(CharacterId, Value)> = world
        .query::<(&CharacterId, &Name, &Personality, &Mood, &Status)>()
        .iter(world)
        .map(|(id, name, p, m, s)| {
            let t = p.traits();
            (
                *id,
                json!({
                    "id": id.0, "key": name.key, "name": name.display,
                    "personality": [r3(t[0]), r3(t[1]), r3(t[2]), r3(t[3]), r3(t[4])],
                    "mood": [r3(m.0.p), r3(m.0.a), r3(m.0.d)], "status": r3(s.0),
                }),
            )
        })
        .collect();
    rows.sort_by_key(|r| r.0);
    Value::Array(rows.into_iter().map(|r| r.1).collect())
}

/// Every directed relationship as a bond row.
pub fn relationships(sim: &Sim) -> Value {
    let g = sim.graph();
    let mut rows = Vec::with_capacity(g.n_relationships());
    for s in 0..g.n_characters() as u32 {
        for e in g.row(s) {
            let t = g.edges[e].partner;
            rows.push((g.slot_id[s as usize], g.slot_id[t as usize], g.bonds()[e]));
        }
    }
    rows.sort_by_key(|r| (r.0, r.1));
    Value::Array(rows.iter().map(|(a, b, bond)| bond_row(*a, *b, bond)).collect())
}

/// The world's alliances.
pub fn groups(sim: &mut Sim) -> Value {
    serde_json::to_value(&sim.world().resource::<Groups>().groups).unwrap_or(Value::Null)
}

/// Story arcs, newest update first (at most `limit`).
pub fn arcs(sim: &mut Sim, limit: usize) -> Value {
    let world = sim.world_mut();
    let mut all: Vec<&StoryArc> = world.query::<&StoryArc>().iter(world).collect();
    all.sort_by_key(|a| (std::cmp::Reverse(a.updated), a.id));
    Value::Array(all.into_iter().take(limit).map(arc_json).collect())
}

/// One arc, with its beats.
pub fn arc_json(a: &StoryArc) -> Value {
    serde_json::to_value(a).unwrap_or(Value::Null)
}

/// One character in full: traits, mood, emotions, needs, goals, memories, bonds, arcs.
pub fn character(sim: &mut Sim, id: CharacterId) -> Option<Value> {
    let names = sim.names();
    let g = sim.graph();
    let slot = g.slot_of(id)?;
    let entity = g.slot_entity[slot as usize];
    let bonds: Vec<Value> = g
        .row(slot)
        .map(|e| {
            let to = g.slot_id[g.edges[e].partner as usize];
            let mut row = bond_row(id, to, &g.bonds()[e]);
            if let Some(a) = row.as_array_mut() {
                a.push(json!(names.get(to.0 as usize).map(|n| n.display.as_str()).unwrap_or("?")));
            }
            row
        })
        .collect();
    let world = sim.world_mut();
    let e = world.get_entity(entity).ok()?;
    let name = e.get::<Name>()?;
    let p = e.get::<Personality>()?.traits();
    let mood = e.get::<Mood>()?.0;
    let base = e.get::<MoodBaseline>()?.0;
    let memories: Vec<Value> = e
        .get::<Memory>()
        .map(|m| {
            let mut items: Vec<_> = m.iter().collect();
            items.sort_by_key(|i| std::cmp::Reverse(i.tick));
            items.into_iter().take(CHARACTER_MEMORIES).filter_map(|i| serde_json::to_value(i).ok()).collect()
        })
        .unwrap_or_default();
    let detail = json!({
        "id": id.0, "key": name.key, "name": name.display,
        "personality": {"openness": r3(p[0]), "conscientiousness": r3(p[1]), "extraversion": r3(p[2]),
                        "agreeableness": r3(p[3]), "neuroticism": r3(p[4])},
        "mood": [r3(mood.p), r3(mood.a), r3(mood.d)],
        "baseline": [r3(base.p), r3(base.a), r3(base.d)],
        "emotions": e.get::<Emotions>().and_then(|x| serde_json::to_value(x).ok()),
        "needs": e.get::<Needs>().and_then(|x| serde_json::to_value(x).ok()),
        "energy": e.get::<SocialEnergy>().map(|x| r3(x.0)),
        "status": e.get::<Status>().map(|x| r3(x.0)),
        "goals": e.get::<Goals>().and_then(|x| serde_json::to_value(x).ok()),
        "memories": memories,
        "bonds": bonds,
    });
    let arcs: Vec<Value> = world
        .query::<&StoryArc>()
        .iter(world)
        .filter(|a| a.characters().contains(&id))
        .map(|a| json!({"id": a.id, "kind": a.kind, "stage": a.stage_name, "status": a.status, "updated": a.updated}))
        .collect();
    let mut detail = detail;
    detail["arcs"] = Value::Array(arcs);
    Some(detail)
}

/// One tick's metrics.
pub fn metrics_json(m: &TickMetrics) -> Value {
    json!({
        "tick": m.tick, "interactions": m.interactions,
        "mean_pleasure": m.mean_pleasure, "mean_arousal": m.mean_arousal, "mean_dominance": m.mean_dominance,
        "mean_affinity": m.mean_affinity, "mean_trust": m.mean_trust, "events": m.events,
        "world_hash": hex(m.world_hash),
    })
}

/// Remembers what observers were last told, to send only what changed.
#[derive(Debug, Default)]
pub struct Tracker {
    /// Mood last sent per character (by stable id).
    moods: BTreeMap<u32, [f32; 3]>,
    /// Groups last sent (as JSON text).
    groups: String,
}

impl Tracker {
    /// Starts from the world as a snapshot shows it.
    pub fn reset(&mut self, sim: &mut Sim) {
        self.moods.clear();
        let world = sim.world_mut();
        for (id, m) in world.query::<(&CharacterId, &Mood)>().iter(world) {
            self.moods.insert(id.0, [m.0.p, m.0.a, m.0.d]);
        }
        self.groups = groups(sim).to_string();
    }

    /// The graph delta of a tick: bonds of the pairs that interacted (both directions), moods that
    /// moved by at least [`MOOD_STEP`] on some axis, and the alliances when they changed.
    pub fn graph_delta(&mut self, sim: &mut Sim, events: &[Event]) -> Value {
        let mut pairs = BTreeSet::new();
        for ev in events {
            if let EventKind::InteractionResolved { initiator, target, .. } = &ev.kind {
                pairs.insert((*initiator, *target));
                pairs.insert((*target, *initiator));
            }
        }
        let g = sim.graph();
        let bonds: Vec<Value> = pairs
            .iter()
            .filter_map(|(a, b)| {
                let e = g.edge(g.slot_of(*a)?, g.slot_of(*b)?)?;
                Some(bond_row(*a, *b, &g.bonds()[e]))
            })
            .collect();
        let world = sim.world_mut();
        let mut moods = Vec::new();
        let mut all: Vec<(u32, [f32; 3])> =
            world.query::<(&CharacterId, &Mood)>().iter(world).map(|(id, m)| (id.0, [m.0.p, m.0.a, m.0.d])).collect();
        all.sort_by_key(|m| m.0);
        for (id, m) in all {
            let last = self.moods.entry(id).or_insert([f32::NAN; 3]);
            if (0..3).any(|k| last[k].is_nan() || (m[k] - last[k]).abs() >= MOOD_STEP) {
                *last = m;
                moods.push(json!([id, r3(m[0]), r3(m[1]), r3(m[2])]));
            }
        }
        let mut delta = json!({ "bonds": bonds, "moods": moods });
        let gr = groups(sim);
        let text = gr.to_string();
        if text != self.groups {
            self.groups = text;
            delta["groups"] = gr;
        }
        delta
    }
}

/// The arcs delta of a tick: each arc that advanced, in full.
pub fn arcs_delta(sim: &mut Sim, events: &[Event]) -> Option<Value> {
    let ids: BTreeSet<u64> = events
        .iter()
        .filter_map(|e| if let EventKind::ArcAdvanced { arc, .. } = &e.kind { Some(*arc) } else { None })
        .collect();
    if ids.is_empty() {
        return None;
    }
    let world = sim.world_mut();
    let mut arcs: Vec<&StoryArc> = world.query::<&StoryArc>().iter(world).filter(|a| ids.contains(&a.id)).collect();
    arcs.sort_by_key(|a| a.id);
    Some(Value::Array(arcs.into_iter().map(arc_json).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_compact_feed_keeps_what_the_page_shows_and_drops_the_rest() {
        let mut feed = json!([{
            "seq": 7, "tick": 3, "text": "Mara (softly): \"Hello.\"", "initiator_key": "mara", "target_key": "milo",
            "kind": {"interaction_resolved": {"initiator": 0, "target": 1, "action": "chat", "valence": 0.123_456_7,
                     "initiator_valence": -0.5, "line": {"template": 1, "tone": "calm"}, "about": null}}
        }, {"seq": 8, "tick": 3, "kind": {"avoided": {"character": 2, "target": 3}}}]);
        compact_feed(&mut feed);
        let ev = &feed[0];
        assert_eq!(ev["text"], "Mara (softly): \"Hello.\"");
        assert!(ev.get("initiator_key").is_none() && ev.get("target_key").is_none());
        let inner = &ev["kind"]["interaction_resolved"];
        assert!(inner.get("line").is_none());
        assert_eq!(inner["valence"], json!(0.123));
        assert_eq!((inner["initiator"].as_u64(), inner["target"].as_u64()), (Some(0), Some(1)));
        assert_eq!(feed[1]["kind"]["avoided"]["character"], 2);
    }
}
