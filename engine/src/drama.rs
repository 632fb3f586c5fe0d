//! The drama manager: steers a world toward a target tension curve (rising action to a climax at a
//! given tick, then falling) by nudging how strongly characters weigh conflict against kindness.
//!
//! Measured tension is the share of hostile interactions (insult, threaten, betray) among all
//! interactions, smoothed over ticks. Each tick the manager compares it with the curve's target and
//! moves a multiplier on hostile actions (and its inverse on reconciling ones) a small step toward
//! closing the gap; autonomy reads it next tick. Every [`NUDGE_EVENT_EVERY`] ticks its influence is
//! logged as a `DramaNudged` event, so a reader can see the director's hand.
//!
//! When nudging is not enough — the multiplier is at its bound in the direction the curve asks for
//! and measured tension has stayed more than [`INJECT_GAP`] from the target for [`INJECT_AFTER`]
//! ticks — the manager also injects interactions, in proportion to the gap (sized on the last
//! tick's interactions): insults between the coldest pairs when tension must rise, apologies from
//! the coldest when it must fall. Where nudges can follow the curve it injects nothing.
//!
//! It also develops story seeds: every [`DEVELOP_EVERY`] ticks it takes the best of the top
//! [`DEVELOP_SEEDS`] seeds whose next stage one interaction between two of its characters can
//! bring about ([`next_beat`], read from the pattern's stage clauses and the arc's role bindings)
//! and injects that interaction, again each tick for up to [`DEVELOP_TRIES`] ticks while the arc
//! has not moved (a feud takes several apologies); an arc that does not move is set aside.
//!
//! Injections are queued in the [`Director`] state and applied at the next tick boundary as
//! `inject` commands by the drama manager, so each is an `injected` event with `by = drama`.

use bevy_ecs::prelude::*;
use serde::{Deserialize, Serialize};

use crate::autonomy::{Action, N_ACTIONS};
use crate::director::Director;
use crate::events::{EventKind, EventLog, Party};
use crate::graph::SocialGraph;
use crate::ids::CharacterId;
use crate::interaction::ResolveScratch;
use crate::params::Params;
use crate::plot::{ClauseShape, FactKind, Pattern, Value};
use crate::social::Feuds;
use crate::story::{ArcStatus, Stories, StoryArc};
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
pub const INJECT_COOLDOWN: u64 = 1;
/// Share of the measured deficit of hostile (or reconciling) interactions injected in one tick.
pub const INJECT_GAIN: f32 = 1.0;
/// Ticks between developments of the top story seed.
pub const DEVELOP_EVERY: u64 = 25;
/// Ticks in a row a development's beat is injected while its arc has not moved.
pub const DEVELOP_TRIES: u32 = 12;
/// Arcs remembered as not developable.
pub const GAVE_UP_MAX: usize = 32;

/// The drama manager's state.
#[derive(Resource, Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Drama {
    /// Smoothed share of hostile interactions, in [0, 1].
    pub tension: f32,
    /// Multiplier on hostile actions (its inverse applies to reconciling ones).
    pub nudge: f32,
    /// Whether the manager injects events where nudges saturate and develops story seeds (on by
    /// default; off: nudges only).
    pub inject: bool,
    /// Consecutive ticks measured tension has been more than [`INJECT_GAP`] from the target.
    pub off_ticks: u32,
    /// Tick of the last injection (0: none yet).
    pub last_inject: u64,
    /// The story seed being developed: its arc id, the stage it was at, and how many more ticks
    /// its beat is injected if the arc has not moved (some events, such as an escalating feud,
    /// take several acts).
    pub developing: Option<(u64, usize, u32)>,
    /// Arcs whose development did not move them, most recent last (at most [`GAVE_UP_MAX`]):
    /// the manager picks other seeds.
    pub gave_up: Vec<u64>,
}

impl Default for Drama {
    fn default() -> Self {
        Self {
            tension: 0.0,
            nudge: 1.0,
            inject: true,
            off_ticks: 0,
            last_inject: 0,
            developing: None,
            gave_up: Vec::new(),
        }
    }
}

impl Drama {
    /// Digest for the world hash.
    pub fn digest(&self) -> u64 {
        crate::rng::mix64(
            self.tension.to_bits() as u64
                ^ (self.nudge.to_bits() as u64) << 32
                ^ crate::rng::mix64(u64::from(self.inject) ^ (self.off_ticks as u64) << 1 ^ self.last_inject << 34)
                ^ self.developing.map_or(0, |(arc, stage, left)| {
                    crate::rng::mix64(arc ^ (stage as u64) << 40 ^ u64::from(left) << 56)
                })
                ^ self.gave_up.iter().fold(0, |h, a| crate::rng::mix64(h ^ a)),
        )
    }
}

/// Most injections in one tick.
pub const INJECT_MAX: usize = 256;

/// Up to `k` relationships with the lowest affinity, at most one per source, as `(source,
/// target)` stable ids, coldest first (ties by edge index).
fn coldest_pairs(graph: &SocialGraph, k: usize) -> Vec<(CharacterId, CharacterId)> {
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

/// How many top story seeds the manager looks through for one it can develop.
pub const DEVELOP_SEEDS: usize = 8;

/// An interaction that makes an arc's next event happen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Beat {
    /// The event the next stage waits for.
    pub event: FactKind,
    /// Who acts.
    pub actor: CharacterId,
    /// What they do.
    pub action: Action,
    /// To whom.
    pub target: CharacterId,
}

/// The interaction that would take `arc` to its next stage.
///
/// The first clause of the pattern's next stage ([`Pattern::stage_clauses`]) that names two of
/// the arc's characters and that one interaction between them makes happen:
/// `interaction_resolved` (its first action; not when it needs the target to refuse),
/// `conflict_escalated` (a threat), `conflict_resolved` by apology (an apology),
/// `trust_broken` (the betrayer betrays) or `trust_repaired` (the betrayer apologizes). Other
/// events (a bond crossing a threshold, alliances, rumours) take more than one act and are not
/// injected.
pub fn next_beat(arc: &StoryArc, pattern: &Pattern) -> Option<Beat> {
    if pattern.name != arc.pattern || !matches!(arc.status, ArcStatus::Open | ArcStatus::Climaxed) {
        return None;
    }
    let role = |var: usize| {
        let name = pattern.vars.get(var)?;
        arc.roles.iter().find(|(v, _)| v.as_str() == &**name).and_then(|(_, p)| match p {
            Party::Character(c) => Some(*c),
            Party::Group(_) => None,
        })
    };
    let allows =
        |shape: &ClauseShape, field: &str, value: Value| shape.values(field).is_none_or(|v| v.contains(&value));
    pattern.stage_clauses(arc.stage + 1).iter().find_map(|shape| {
        // Who acts on whom: the clause's two named fields, or two required members of `parties`.
        let pair = |from: &str, to: &str| match (shape.var(from), shape.var(to)) {
            (Some(a), Some(b)) => Some((a, b)),
            _ => (shape.members.len() == 2).then(|| (shape.members[0], shape.members[1])),
        };
        let (a, action, b) = match shape.kind {
            FactKind::InteractionResolved if allows(shape, "accepted", Value::Bool(true)) => {
                let (a, b) = pair("initiator", "target")?;
                let named = shape.values("action")?.iter().find_map(|v| match v {
                    Value::Sym(n) => crate::director::from_name::<Action>(n),
                    _ => None,
                });
                (a, named?, b)
            }
            FactKind::ConflictEscalated => {
                let (a, b) = pair("a", "b")?;
                (a, Action::Threaten, b)
            }
            FactKind::ConflictResolved if allows(shape, "how", Value::Sym("apology")) => {
                let (a, b) = pair("a", "b")?;
                (a, Action::Apologize, b)
            }
            FactKind::TrustBroken => {
                let (victim, betrayer) = pair("victim", "betrayer")?;
                (betrayer, Action::Betray, victim)
            }
            FactKind::TrustRepaired => {
                let (victim, betrayer) = pair("victim", "betrayer")?;
                (betrayer, Action::Apologize, victim)
            }
            _ => return None,
        };
        let (actor, target) = (role(a)?, role(b)?);
        (actor != target).then_some(Beat { event: shape.kind, actor, action, target })
    })
}

/// The beat that would take arc `arc` to its next stage ([`next_beat`]), if its two characters
/// know each other and, for an escalation, their feud can still climb.
pub fn beat_for(stories: &Stories, graph: &SocialGraph, feuds: &Feuds, arc: &StoryArc) -> Option<Beat> {
    let pattern = stories.patterns().iter().find(|p| p.name == arc.pattern)?;
    let beat = next_beat(arc, pattern)?;
    let (a, b) = (beat.actor, beat.target);
    let known = graph.slot_of(a).zip(graph.slot_of(b)).is_some_and(|(s, t)| graph.edge(s, t).is_some());
    let at_top = || {
        feuds
            .get(Party::Character(a), Party::Character(b))
            .is_some_and(|f| f.level == crate::groups::ConflictLevel::OpenConflict)
    };
    (known && !(beat.event == FactKind::ConflictEscalated && at_top())).then_some(beat)
}

/// The best-ranked of the top [`DEVELOP_SEEDS`] story seeds whose next stage an interaction can
/// reach ([`beat_for`]): its arc id and the beat.
pub fn seed_to_develop(stories: &Stories, graph: &SocialGraph, feuds: &Feuds, skip: &[u64]) -> Option<(u64, Beat)> {
    stories
        .seeds(DEVELOP_SEEDS)
        .into_iter()
        .filter(|arc| !skip.contains(&arc.id))
        .find_map(|arc| Some((arc.id, beat_for(stories, graph, feuds, arc)?)))
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
    feuds: Res<Feuds>,
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
    // Injections only where nudges can do no more: the multiplier is at its bound in the direction
    // the curve asks for, and the gap has stayed wide for INJECT_AFTER ticks running.
    let saturated = if gap > 0.0 { drama.nudge >= NUDGE_MAX } else { drama.nudge <= NUDGE_MIN };
    drama.off_ticks = if gap.abs() > INJECT_GAP && saturated { drama.off_ticks.saturating_add(1) } else { 0 };
    let mut queue = |actor, action, target| {
        director.queued.push(crate::command::Command::Inject { actor, action, target });
    };
    if drama.off_ticks >= INJECT_AFTER && clock.tick >= drama.last_inject + INJECT_COOLDOWN {
        // In proportion to the gap, sized on this tick's interactions `n` with `h` hostile: rising,
        // `k` more insults bring the share `(h + k) / (n + k)` to the target; falling, `k`
        // apologies from the coldest (who would otherwise be the hostile ones) bring `(h - k) / n`
        // there. Rising, the coldest pairs quarrel; falling, the coldest make amends instead.
        let (n, h) = (resolve.n_interactions as f32, resolve.n_hostile as f32);
        let deficit = if gap > 0.0 { (goal * n - h) / (1.0 - goal).max(0.05) } else { h - goal * n };
        let k = ((INJECT_GAIN * deficit.max(0.0)).ceil() as usize).clamp(1, INJECT_MAX);
        let action = if gap > 0.0 { Action::Insult } else { Action::Apologize };
        for (a, b) in coldest_pairs(&graph, k) {
            queue(a, action, b);
        }
        drama.last_inject = clock.tick;
    }
    let Some(stories) = &stories else { return };
    // Go on with the seed being developed while its arc has not moved; every DEVELOP_EVERY ticks
    // pick the best seed that can be developed.
    let ongoing = drama.developing.take().and_then(|(id, stage, left)| {
        let arc = stories.arcs.get(&id).filter(|a| a.stage == stage)?;
        if left == 0 {
            if drama.gave_up.len() == GAVE_UP_MAX {
                drama.gave_up.remove(0);
            }
            drama.gave_up.push(id);
            return None;
        }
        Some((id, stage, left - 1, beat_for(stories, &graph, &feuds, arc)?))
    });
    let pick = ongoing.or_else(|| {
        let due = clock.tick.is_multiple_of(DEVELOP_EVERY);
        let (id, beat) = seed_to_develop(stories, &graph, &feuds, &drama.gave_up).filter(|_| due)?;
        Some((id, stories.arcs[&id].stage, DEVELOP_TRIES - 1, beat))
    });
    if let Some((id, stage, left, beat)) = pick {
        queue(beat.actor, beat.action, beat.target);
        drama.developing = Some((id, stage, left));
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
