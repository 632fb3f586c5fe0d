//! Per-tick aggregates and the world hash.
//!
//! Both are computed in the Measure stage. Float sums run over dense, slot-ordered buffers in a fixed
//! order (never in thread-completion order); the hash combines per-character and per-chunk digests
//! with wrapping addition, which is order-independent, so neither depends on thread count.

use std::sync::atomic::{AtomicU64, Ordering};

use bevy_ecs::prelude::*;
use serde::{Deserialize, Serialize};

use crate::command::Control;
use crate::drama::Drama;
use crate::emotion::Emotions;
use crate::events::EventLog;
use crate::exec::{Parallelism, SlotWriter};
use crate::goals::Goals;
use crate::gossip::Beliefs;
use crate::graph::SocialGraph;
use crate::ids::{CharacterId, Slot};
use crate::interaction::ResolveScratch;
use crate::learning::Preferences;
use crate::memory::{self, Memory, MemoryItem, Trauma};
use crate::mood::{Mood, MoodBaseline, Pad};
use crate::needs::{Needs, SocialEnergy};
use crate::personality::Personality;
use crate::rng::mix64;
use crate::social::{Feuds, Groups, Status};
use crate::story::Stories;
use crate::world::{TickClock, WorldInfo};

/// Aggregates of the last tick (one row of `metrics.csv`).
#[derive(Resource, Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TickMetrics {
    /// Tick these figures describe.
    pub tick: u64,
    /// Interactions resolved.
    pub interactions: u32,
    /// Mean pleasure.
    pub mean_pleasure: f64,
    /// Mean arousal.
    pub mean_arousal: f64,
    /// Mean dominance.
    pub mean_dominance: f64,
    /// Mean affinity over all directed relationships.
    pub mean_affinity: f64,
    /// Mean trust over all directed relationships.
    pub mean_trust: f64,
    /// Events logged during the tick.
    pub events: u64,
    /// World hash after the tick.
    pub world_hash: u64,
}

/// Scratch for Measure: moods by slot and the event counter at the start of the tick.
#[derive(Resource, Default, Debug)]
pub struct MeasureScratch {
    /// Moods by slot.
    pub moods: Vec<Pad>,
    /// Visible distress by slot (negative emotion load clamped to [0, 1]).
    pub distress: Vec<f32>,
    /// `EventLog::next_seq` after the previous tick.
    pub seq_at_tick_start: u64,
}

/// Digest of one character's simulation state (every float by its bit pattern).
pub fn character_digest(
    id: CharacterId,
    pers: &Personality,
    mood: &Mood,
    base: &MoodBaseline,
    emo: &Emotions,
    needs: &Needs,
    energy: &SocialEnergy,
) -> u64 {
    let mut v = [0.0f32; 40];
    v[..5].copy_from_slice(&pers.traits());
    v[5..8].copy_from_slice(&mood.0.to_array());
    v[8..11].copy_from_slice(&base.0.to_array());
    v[11..31].copy_from_slice(&emo.intensity);
    v[31..36].copy_from_slice(&[needs.social, needs.rest, needs.status, needs.safety, energy.0]);
    // Four independent lanes keep the multiplies from waiting on each other.
    const K: [u64; 4] = [0x9e37_79b9_7f4a_7c15, 0xc2b2_ae3d_27d4_eb4f, 0x1656_67b1_9e37_79f9, 0xff51_afd7_ed55_8ccd];
    let mut lanes = [id.0 as u64, 1, 2, 3];
    for chunk in v.chunks_exact(8) {
        for l in 0..4 {
            let word = chunk[2 * l].to_bits() as u64 | (chunk[2 * l + 1].to_bits() as u64) << 32;
            lanes[l] = (lanes[l] ^ word).wrapping_mul(K[l]).rotate_left(31);
        }
    }
    mix64(lanes[0] ^ lanes[1].rotate_left(16) ^ lanes[2].rotate_left(32) ^ lanes[3].rotate_left(48))
}

/// How distressed a character looks to others, in [0, 1]: its negative emotions, or an unhappy
/// mood (a lowered baseline after trauma shows even when no emotion is active).
pub fn visible_distress(emo: &Emotions, mood: &Mood) -> f32 {
    (emo.negative_load() + (-mood.0.p).max(0.0)).min(1.0)
}

/// Digest of a character's slowly changing state (memory, beliefs, trauma, status), recomputed in
/// Measure only when one of them changed.
#[derive(Component, Clone, Copy, Debug, Default, PartialEq)]
pub struct SlowDigest(pub u64);

/// Digest of who controls a character.
pub fn control_digest(c: &Control) -> u64 {
    let act = |a: Option<(crate::autonomy::Action, Option<CharacterId>)>| {
        a.map_or(u64::MAX, |(x, t)| (x as u64) << 40 ^ t.map_or(u64::MAX >> 24, |t| t.0 as u64))
    };
    let level = c.level as u64;
    mix64(
        level
            ^ c.possessed_by.unwrap_or(u64::MAX).rotate_left(8)
            ^ act(c.queued).rotate_left(3)
            ^ act(c.suggestion).rotate_left(29),
    )
}

/// Digest of a character's goals.
pub fn goals_digest(goals: &Goals) -> u64 {
    goals.list.iter().fold(0x3c6e_f372_fe94_f82b, |h, g| {
        let target = g.target.map_or(u64::MAX, |t| t.0 as u64);
        mix64(h ^ (g.kind as u64) << 56 ^ target << 8 ^ (g.priority.to_bits() as u64) << 20 ^ g.since)
    }) ^ crate::plans::digest(&goals.plan)
        ^ mix64(goals.lead_best.0.to_bits() as u64 ^ goals.lead_best.1 << 32 ^ goals.lead_rest_until.rotate_left(16))
        ^ crate::autonomy::reaction_digest(&goals.react)
}

/// Digest of memory, beliefs, trauma and status.
pub fn slow_digest(mem: &Memory, beliefs: &Beliefs, trauma: &Trauma, status: &Status) -> u64 {
    let f = |x: f32| x.to_bits() as u64;
    let mut h = mix64(f(status.0) ^ 0x2545_f491_4f6c_dd1d);
    h = mix64(h ^ mem.digest() ^ (mem.len() as u64) << 58);
    for b in beliefs.iter() {
        h = mix64(h ^ b.subject.0 as u64 ^ (b.source.0 as u64) << 32 ^ (b.hops as u64) << 60);
        h = mix64(h ^ f(b.opinion) ^ f(b.confidence) << 32 ^ b.tick.rotate_left(13));
    }
    h = mix64(h ^ f(trauma.shift.p) ^ f(trauma.shift.a) << 32);
    h = mix64(h ^ f(trauma.shift.d) ^ f(trauma.severity) << 32);
    for t in &trauma.triggers {
        let probe = MemoryItem {
            tick: 0,
            other: t.who.unwrap_or(CharacterId(u32::MAX)),
            kind: t.kind,
            valence: 0.0,
            intensity: t.strength,
        };
        h = mix64(h ^ memory::item_digest(&probe));
    }
    h
}

type MeasureData = (
    (
        &'static Slot,
        &'static CharacterId,
        &'static Personality,
        &'static Mood,
        &'static MoodBaseline,
        &'static Emotions,
        &'static Needs,
        &'static SocialEnergy,
    ),
    (
        Ref<'static, Memory>,
        Ref<'static, Beliefs>,
        Ref<'static, Trauma>,
        Ref<'static, Status>,
        &'static mut SlowDigest,
        &'static Preferences,
        Ref<'static, Goals>,
        Ref<'static, Control>,
    ),
);

type MeasureItem<'a> = (
    (&'a Slot, &'a CharacterId, &'a Personality, &'a Mood, &'a MoodBaseline, &'a Emotions, &'a Needs, &'a SocialEnergy),
    (
        Ref<'a, Memory>,
        Ref<'a, Beliefs>,
        Ref<'a, Trauma>,
        Ref<'a, Status>,
        Mut<'a, SlowDigest>,
        &'a Preferences,
        Ref<'a, Goals>,
        Ref<'a, Control>,
    ),
);

/// Measure stage, part 1: aggregates and the world hash.
#[expect(clippy::too_many_arguments, reason = "a system's parameters are its declared data access")]
pub fn measure_world(
    clock: Res<TickClock>,
    par: Res<Parallelism>,
    graph: Res<SocialGraph>,
    log: Res<EventLog>,
    resolve: Res<ResolveScratch>,
    mut scratch: ResMut<MeasureScratch>,
    mut metrics: ResMut<TickMetrics>,
    feuds: Res<Feuds>,
    groups: Res<Groups>,
    stories: Option<Res<Stories>>,
    info: Res<WorldInfo>,
    drama: Res<Drama>,
    director: Res<crate::director::Director>,
    mut q: Query<MeasureData>,
) {
    let n = graph.n_characters();
    let parallel = par.parallel(n);
    scratch.moods.resize(n, Pad::default());
    scratch.distress.resize(n, 0.0);
    let acc = AtomicU64::new(0);
    {
        let s = &mut *scratch;
        let (moods, distress) = (SlotWriter::new(&mut s.moods), SlotWriter::new(&mut s.distress));
        let f = |(
            (slot, id, pers, mood, base, emo, needs, energy),
            (mem, beliefs, trauma, status, mut slow, prefs, goals, control),
        ): MeasureItem| {
            if mem.is_changed()
                || beliefs.is_changed()
                || trauma.is_changed()
                || status.is_changed()
                || goals.is_changed()
            {
                slow.0 =
                    slow_digest(&mem, &beliefs, &trauma, &status) ^ goals_digest(&goals) ^ control_digest(&control);
            }
            // SAFETY: each character writes only its own, unique slot.
            unsafe {
                moods.write(slot.0 as usize, mood.0);
                distress.write(slot.0 as usize, visible_distress(emo, mood));
            }
            let learned = prefs.weight.iter().fold(prefs.expectation.to_bits() as u64, |h, w| {
                (h ^ w.to_bits() as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(23)
            });
            let d = character_digest(*id, pers, mood, base, emo, needs, energy) ^ slow.0.rotate_left(7) ^ learned;
            acc.fetch_add(mix64(d), Ordering::Relaxed);
        };
        if parallel {
            crate::exec::par_each(q.iter_mut(), f);
        } else {
            q.iter_mut().for_each(f);
        }
    }
    let (mut sp, mut sa, mut sd) = (0.0f64, 0.0f64, 0.0f64);
    for m in &scratch.moods {
        sp += m.p as f64;
        sa += m.a as f64;
        sd += m.d as f64;
    }
    let (mean_affinity, mean_trust) = graph.mean_affinity_trust();
    let nc = n.max(1) as f64;
    let hash = mix64(
        mix64(
            clock.tick
                ^ log.next_seq().rotate_left(32)
                ^ feuds.digest()
                ^ groups.digest().rotate_left(29)
                ^ stories.map_or(0, |s| s.digest()).rotate_left(43)
                ^ mix64(info.seed ^ info.genre as u64)
                ^ drama.digest()
                ^ director.digest().rotate_left(11),
        ) ^ acc.load(Ordering::Relaxed).wrapping_add(graph.digest()),
    );
    *metrics = TickMetrics {
        tick: clock.tick,
        interactions: resolve.n_interactions,
        mean_pleasure: sp / nc,
        mean_arousal: sa / nc,
        mean_dominance: sd / nc,
        mean_affinity,
        mean_trust,
        events: log.next_seq() - scratch.seq_at_tick_start,
        world_hash: hash,
    };
}

/// Measure stage, part 2: remember where this tick's events end.
pub fn count_events(log: Res<EventLog>, mut scratch: ResMut<MeasureScratch>) {
    scratch.seq_at_tick_start = log.next_seq();
}
