//! The drama manager: steers a world toward a target tension curve (rising action to a climax at a
//! given tick, then falling) by nudging how strongly characters weigh conflict against kindness.
//!
//! Measured tension is the share of hostile interactions (insult, threaten, betray) among all
//! interactions, smoothed over ticks. Each tick the manager compares it with the curve's target and
//! moves a multiplier on hostile actions (and its inverse on reconciling ones) a small step toward
//! closing the gap; autonomy reads it next tick. Every [`NUDGE_EVENT_EVERY`] ticks its influence is
//! logged as a `DramaNudged` event, so a reader can see the director's hand.
//!
//! When nudging is not enough — measured tension stays more than [`INJECT_GAP`] from the target
//! for [`INJECT_AFTER`] ticks — the manager injects an interaction (at most one every
//! [`INJECT_COOLDOWN`] ticks): an insult between the coldest pair (the top story seed's cast
//! first) when tension must rise, an apology across the coldest pair when it must fall. Every
//! [`DEVELOP_EVERY`] ticks it develops the top story seed by injecting the next fitting beat for
//! its cast (romance: a confession; betrayal, feud, rivalry: an insult; anything else: a confidence).
//! Injections are queued in the [`Director`] state and applied at the next tick boundary as
//! `inject` commands by the drama manager, so each is an `injected` event with `by = drama`.

use bevy_ecs::prelude::*;
use serde::{Deserialize, Serialize};

use crate::autonomy::{Action, N_ACTIONS};
use crate::director::Director;
use crate::events::{EventKind, EventLog};
use crate::graph::SocialGraph;
use crate::interaction::ResolveScratch;
use crate::params::Params;
use crate::story::Stories;
use crate::world::TickClock;

/// Smoothing of measured tension per tick.
pub const TENSION_SMOOTHING: f32 = 0.1;
/// Step of the multiplier per tick, per unit of tension gap.
pub const NUDGE_RATE: f32 = 0.2;
/// Bounds of the multiplier.
pub const NUDGE_MIN: f32 = 0.2;
/// Upper bound of the multiplier.
pub const NUDGE_MAX: f32 = 5.0;
/// Ticks between `DramaNudged` events.
pub const NUDGE_EVENT_EVERY: u64 = 50;
/// Gap between measured and target tension beyond which the manager considers injecting.
pub const INJECT_GAP: f32 = 0.05;
/// Consecutive ticks beyond the gap before it injects.
pub const INJECT_AFTER: u32 = 5;
/// Fewest ticks between two injections.
pub const INJECT_COOLDOWN: u64 = 2;
/// Ticks between developments of the top story seed.
pub const DEVELOP_EVERY: u64 = 25;

/// The drama manager's state.
#[derive(Resource, Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Drama {
    /// Smoothed share of hostile interactions, in [0, 1].
    pub tension: f32,
    /// Multiplier on hostile actions (its inverse applies to reconciling ones).
    pub nudge: f32,
    /// Whether the manager injects events and develops story seeds (not only nudges); off by
    /// default: it does not yet track the curve better than nudges alone (see tests/drama.rs).
    pub inject: bool,
    /// Consecutive ticks measured tension has been more than [`INJECT_GAP`] from the target.
    pub off_ticks: u32,
    /// Tick of the last injection (0: none yet).
    pub last_inject: u64,
}

impl Default for Drama {
    fn default() -> Self {
        Self { tension: 0.0, nudge: 1.0, inject: false, off_ticks: 0, last_inject: 0 }
    }
}

impl Drama {
    /// Digest for the world hash.
    pub fn digest(&self) -> u64 {
        crate::rng::mix64(
            self.tension.to_bits() as u64
                ^ (self.nudge.to_bits() as u64) << 32
                ^ crate::rng::mix64(u64::from(self.inject) ^ (self.off_ticks as u64) << 1 ^ self.last_inject << 34),
        )
    }
}

/// Most injections in one tick.
pub const INJECT_MAX: usize = 64;

/// Up to `k` relationships with the lowest affinity, at most one per source, as `(source,
/// target)` stable ids, coldest first (ties by edge index).
fn coldest_pairs(graph: &SocialGraph, k: usize) -> Vec<(crate::ids::CharacterId, crate::ids::CharacterId)> {
    let mut edges: Vec<(f32, usize)> = (0..graph.n_relationships()).map(|e| (graph.bonds()[e].affinity, e)).collect();
    edges.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let mut used = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for (_, e) in edges {
        let s = graph.row_of(e);
        if used.insert(s) {
            out.push((graph.slot_id[s as usize], graph.slot_id[graph.edges[e].partner as usize]));
            if out.len() == k {
                break;
            }
        }
    }
    out
}

/// The relationship with the lowest affinity among `cast` (every character when `cast` is empty),
/// as `(source, target)` stable ids; ties go to the lowest edge index.
fn coldest_pair(
    graph: &SocialGraph,
    cast: &[crate::ids::CharacterId],
) -> Option<(crate::ids::CharacterId, crate::ids::CharacterId)> {
    let mut best: Option<(f32, usize)> = None;
    let mut consider = |e: usize| {
        let a = graph.bonds()[e].affinity;
        if best.is_none_or(|(b, _)| a < b) {
            best = Some((a, e));
        }
    };
    if cast.is_empty() {
        (0..graph.n_relationships()).for_each(&mut consider);
    } else {
        for a in cast {
            for b in cast {
                if let (Some(s), Some(t)) = (graph.slot_of(*a), graph.slot_of(*b))
                    && let Some(e) = graph.edge(s, t)
                {
                    consider(e);
                }
            }
        }
    }
    let (_, e) = best?;
    let s = graph.row_of(e);
    Some((graph.slot_id[s as usize], graph.slot_id[graph.edges[e].partner as usize]))
}

/// The beat that develops an arc of this kind.
fn next_beat(kind: &str) -> Action {
    match kind {
        k if k.contains("romance") || k.contains("love") => Action::Confess,
        k if k.contains("betray") || k.contains("feud") || k.contains("rival") || k.contains("revenge") => {
            Action::Threaten
        }
        _ => Action::Confide,
    }
}

/// Target tension at `tick` for a curve that rises from `base` to `peak` at `climax` and falls back
/// over the same span (a tent); `climax = 0` means a flat target of `peak`.
pub fn target(tick: u64, base: f32, peak: f32, climax: u64) -> f32 {
    if climax == 0 {
        return peak;
    }
    let x = tick as f32 / climax as f32;
    let rise = if x <= 1.0 { x } else { (2.0 - x).max(0.0) };
    base + (peak - base) * rise
}

/// Action weights the nudge implies.
pub fn weights(nudge: f32) -> [f32; N_ACTIONS] {
    let mut w = [1.0f32; N_ACTIONS];
    for a in [Action::Insult, Action::Threaten, Action::Betray] {
        w[a as usize] = nudge;
    }
    for a in [Action::Apologize, Action::Mediate, Action::Comfort] {
        w[a as usize] = 1.0 / nudge;
    }
    w
}

#[expect(clippy::too_many_arguments, reason = "a system's parameters are its declared data access")]
/// Direct stage: measure tension, move the nudge toward the target curve, log the influence.
pub fn direct_drama(
    clock: Res<TickClock>,
    params: Res<Params>,
    resolve: Res<ResolveScratch>,
    mut drama: ResMut<Drama>,
    mut log: ResMut<EventLog>,
    graph: Res<SocialGraph>,
    stories: Option<Res<Stories>>,
    mut director: ResMut<Director>,
) {
    if params.drama_peak < 0.0 {
        return;
    }
    let total = resolve.n_interactions.max(1) as f32;
    let share = resolve.n_hostile as f32 / total;
    drama.tension += TENSION_SMOOTHING * (share - drama.tension);
    let goal = target(clock.tick, params.drama_base, params.drama_peak, params.drama_climax);
    let step = (NUDGE_RATE * (goal - drama.tension)).exp();
    drama.nudge = (drama.nudge * step).clamp(NUDGE_MIN, NUDGE_MAX);
    if clock.tick.is_multiple_of(NUDGE_EVENT_EVERY) {
        let ev = EventKind::DramaNudged { tension: drama.tension, target: goal, nudge: drama.nudge };
        log.push(clock.tick, ev);
    }
    if !drama.inject {
        return;
    }
    let gap = goal - drama.tension;
    drama.off_ticks = if gap.abs() > INJECT_GAP { drama.off_ticks.saturating_add(1) } else { 0 };
    let seed = stories.as_ref().and_then(|s| s.seeds(1).first().map(|a| (a.kind.clone(), a.characters())));
    let cast = seed.as_ref().map_or(&[][..], |(_, c)| &c[..]);
    let mut queue = |actor, action, target| {
        director.queued.push(crate::command::Command::Inject { actor, action, target });
    };
    if drama.off_ticks >= INJECT_AFTER && clock.tick >= drama.last_inject + INJECT_COOLDOWN {
        // As many as the gap is a share of this tick's interactions: rising, the coldest pairs
        // (the top seed's cast first) fight; falling, the coldest make amends instead.
        let k = ((gap.abs() * resolve.n_interactions as f32).ceil() as usize).clamp(1, INJECT_MAX);
        let action = if gap > 0.0 { Action::Insult } else { Action::Apologize };
        let mut pairs: Vec<_> = if gap > 0.0 { coldest_pair(&graph, cast).into_iter().collect() } else { Vec::new() };
        for p in coldest_pairs(&graph, k) {
            if pairs.len() < k && !pairs.iter().any(|q: &(_, _)| q.0 == p.0) {
                pairs.push(p);
            }
        }
        for (a, b) in pairs {
            queue(a, action, b);
        }
        drama.last_inject = clock.tick;
    }
    if clock.tick.is_multiple_of(DEVELOP_EVERY)
        && let Some((kind, cast)) = &seed
        && let Some((a, b)) = coldest_pair(&graph, cast).filter(|_| cast.len() >= 2)
    {
        queue(a, next_beat(kind), b);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_curve_rises_to_the_climax_and_falls() {
        assert_eq!(target(0, 0.1, 0.5, 100), 0.1);
        assert!((target(100, 0.1, 0.5, 100) - 0.5).abs() < 1e-6);
        assert!(target(150, 0.1, 0.5, 100) < 0.5 && target(150, 0.1, 0.5, 100) > 0.1);
        assert_eq!(target(7, 0.0, 0.3, 0), 0.3);
    }
}
