//! Autonomy: every character scores candidate actions and picks one with its own random stream.
//!
//! Utility AI as in The Sims and Dave Mark's Infinite Axis Utility System: an action's score is the
//! product of considerations (needs, personality, mood, bond with the target, energy), each passed
//! through a simple response curve; the character picks among its top `k` actions by weighted random
//! (weights = score squared), so behaviour is characterful but not robotic.

use bevy_ecs::prelude::*;
use serde::{Deserialize, Serialize};

use crate::bonds::Bond;
use crate::emotion::Emotions;
use crate::exec::Parallelism;
use crate::graph::{NONE, SocialGraph};
use crate::ids::{CharacterId, Slot};
use crate::mood::{Mood, Pad};
use crate::needs::{Needs, SocialEnergy};
use crate::params::Params;
use crate::personality::Personality;
use crate::rng::{self, Purpose};
use crate::world::{TickClock, WorldInfo};

/// What a character can do in a tick.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum Action {
    /// Small talk: satisfies the social need, builds familiarity.
    Chat,
    /// Practical help: raises the target's affinity and trust, costs energy.
    Help,
    /// Praise: pleases the target, raises respect.
    Compliment,
    /// An insult: hurts the target, lowers its affinity and trust toward the insulter.
    Insult,
    /// Sharing something personal: builds trust if the listener trusts back.
    Confide,
    /// Keeping away from a disliked or feared character (solo).
    Avoid,
    /// Recovering energy (solo).
    #[default]
    Rest,
}

impl Action {
    /// Every action, in index order.
    pub const ALL: [Action; 7] =
        [Self::Chat, Self::Help, Self::Compliment, Self::Insult, Self::Confide, Self::Avoid, Self::Rest];

    /// Whether the action engages the target (needs its capacity) rather than being done alone.
    pub const fn is_interaction(self) -> bool {
        !matches!(self, Self::Avoid | Self::Rest)
    }
}

/// What a character decided to do this tick.
///
/// Written by `choose_actions` (Decide); read by `resolve_interactions` (Resolve).
#[derive(Component, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Intent {
    /// The chosen action.
    pub action: Action,
    /// Slot of the target, or [`NONE`] for solo actions without one.
    pub target: u32,
}

impl Default for Intent {
    fn default() -> Self {
        Self { action: Action::Rest, target: NONE }
    }
}

/// A character's own state as autonomy sees it.
#[derive(Clone, Copy, Debug)]
pub struct SelfView {
    /// Personality.
    pub pers: Personality,
    /// Current mood.
    pub mood: Pad,
    /// Needs.
    pub needs: Needs,
    /// Social energy in [0, 1].
    pub energy: f32,
    /// Sum of negative emotion intensities.
    pub negative_load: f32,
}

/// Warmth toward a partner in (0, 1.5]: who a character seeks out for friendly actions.
pub fn warmth(b: &Bond) -> f32 {
    (0.15 + 0.5 * b.affinity + 0.25 * b.familiarity + 0.2 * b.trust + 0.1 * b.attraction).clamp(0.01, 1.5)
}

/// Hostility toward a partner in [0, 1.5]: who a character insults or avoids.
pub fn hostility(b: &Bond) -> f32 {
    ((-b.affinity).max(0.0) + 0.5 * (-b.trust).max(0.0)).min(1.5)
}

/// Scores every action for a character whose warm candidate has bond `warm` and whose most hostile
/// candidate has bond `cold` (`None` when it has no relationships). Pure; unit-tested.
pub fn score_actions(me: &SelfView, warm: Option<&Bond>, cold: Option<&Bond>) -> [f32; 7] {
    let p = &me.pers;
    let lonely = 0.2 + 0.8 * (1.0 - me.needs.social);
    let tired = 1.0 - me.energy;
    let mut s = [0.0f32; 7];
    if let Some(w) = warm {
        let closeness = 0.3 + 0.7 * warmth(w).min(1.0);
        s[Action::Chat as usize] = lonely * (0.6 + 0.4 * p.extraversion) * me.energy * closeness;
        s[Action::Help as usize] = (0.55 + 0.45 * p.agreeableness)
            * (0.5 + 0.3 * p.conscientiousness)
            * me.energy
            * (0.2 + 0.8 * w.affinity.max(0.0));
        s[Action::Compliment as usize] =
            (0.5 + 0.5 * p.agreeableness) * (0.5 + 0.5 * me.mood.p) * closeness * (0.4 + 0.6 * me.energy);
        s[Action::Confide as usize] = (0.2 + 0.8 * w.trust.max(0.0))
            * (0.4 + 0.3 * p.neuroticism + 0.3 * me.negative_load.min(1.0))
            * w.familiarity;
    }
    if let Some(c) = cold {
        let h = hostility(c);
        let anger = (0.5 - 0.5 * me.mood.p + 0.3 * me.mood.a + 0.2 * me.mood.d).clamp(0.0, 1.0);
        s[Action::Insult as usize] = h * (0.5 - 0.5 * p.agreeableness) * (0.3 + 0.7 * anger) * me.energy.max(0.3);
        s[Action::Avoid as usize] = h * (0.4 + 0.6 * (1.0 - me.needs.safety)) * (0.5 + 0.5 * p.neuroticism);
    }
    s[Action::Rest as usize] = 0.05 + tired * (0.3 + 0.7 * (1.0 - me.needs.rest)) * (1.0 - 0.3 * p.extraversion);
    s.map(|x| x.max(0.0))
}

/// Picks among the `k` best scores by weighted random (weights = score squared); ties in rank go to
/// the lower action index. Returns the action index.
pub fn pick(scores: &[f32; 7], k: usize, r: f32) -> usize {
    // Selection of the k best (k <= 7): cheaper than sorting seven items.
    let k = k.clamp(1, 7);
    let mut top = [0usize; 7];
    let mut taken = [false; 7];
    for slot in top.iter_mut().take(k) {
        let mut best = usize::MAX;
        for i in 0..7 {
            if !taken[i] && (best == usize::MAX || scores[i] > scores[best]) {
                best = i;
            }
        }
        taken[best] = true;
        *slot = best;
    }
    let top = &top[..k];
    let total: f32 = top.iter().map(|&i| scores[i] * scores[i]).sum();
    if total <= 0.0 {
        return Action::Rest as usize;
    }
    let mut x = r * total;
    for &i in top {
        x -= scores[i] * scores[i];
        if x < 0.0 {
            return i;
        }
    }
    top[top.len() - 1]
}

/// Chooses one character's intent from its row of the graph. `draw` yields uniform [0, 1) numbers.
pub fn decide(me: &SelfView, graph: &SocialGraph, slot: u32, top_k: usize, mut draw: impl FnMut() -> f32) -> Intent {
    let row = graph.row(slot);
    if row.is_empty() {
        return Intent { action: Action::Rest, target: NONE };
    }
    let bonds = &graph.bonds()[row.clone()];
    let appeal = &graph.appeal[row.clone()];
    let (mut total, mut cold, mut cold_h) = (0.0f32, 0usize, 0.0f32);
    for (i, &[w, h]) in appeal.iter().enumerate() {
        total += w;
        if h > cold_h {
            (cold, cold_h) = (i, h);
        }
    }
    let mut x = draw() * total;
    let mut warm = bonds.len() - 1;
    for (i, &[w, _]) in appeal.iter().enumerate() {
        x -= w;
        if x < 0.0 {
            warm = i;
            break;
        }
    }
    let cold_bond = (cold_h > 0.0).then(|| &bonds[cold]);
    let scores = score_actions(me, Some(&bonds[warm]), cold_bond);
    let action = Action::ALL[pick(&scores, top_k, draw())];
    let target = match action {
        Action::Insult | Action::Avoid => graph.edges[row.start + cold].partner,
        Action::Rest => NONE,
        _ => graph.edges[row.start + warm].partner,
    };
    Intent { action, target }
}

/// Query data autonomy reads (and the intent it writes) for each character.
type DecideData = (
    &'static CharacterId,
    &'static Slot,
    &'static Personality,
    &'static Mood,
    &'static Needs,
    &'static SocialEnergy,
    &'static Emotions,
    &'static mut Intent,
);

/// Query data autonomy reads for each character.
type DecideItem<'a> =
    (&'a CharacterId, &'a Slot, &'a Personality, &'a Mood, &'a Needs, &'a SocialEnergy, &'a Emotions, Mut<'a, Intent>);

/// Decide stage: every character chooses an action and a target.
pub fn choose_actions(
    clock: Res<TickClock>,
    info: Res<WorldInfo>,
    params: Res<Params>,
    par: Res<Parallelism>,
    graph: Res<SocialGraph>,
    mut q: Query<DecideData>,
) {
    let (seed, tick, k) = (info.seed, clock.tick, params.autonomy_top_k as usize);
    let g = &*graph;
    let f = |(id, slot, pers, mood, needs, energy, emo, mut intent): DecideItem| {
        let me =
            SelfView { pers: *pers, mood: mood.0, needs: *needs, energy: energy.0, negative_load: emo.negative_load() };
        let mut r = rng::stream(seed, tick, id.0 as u64, Purpose::Decide);
        *intent = decide(&me, g, slot.0, k, || rng::unit_f32(&mut r));
    };
    if par.parallel(q.iter().len()) {
        q.par_iter_mut().for_each(f);
    } else {
        q.iter_mut().for_each(f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn me(pers: Personality) -> SelfView {
        SelfView { pers, mood: Pad::default(), needs: Needs::default(), energy: 0.8, negative_load: 0.0 }
    }

    #[test]
    fn agreeable_characters_prefer_kindness_and_disagreeable_ones_insults() {
        let enemy = Bond { affinity: -0.8, trust: -0.5, ..Default::default() };
        let friend = Bond { affinity: 0.6, trust: 0.5, familiarity: 0.6, ..Default::default() };
        let kind =
            score_actions(&me(Personality { agreeableness: 0.9, ..Default::default() }), Some(&friend), Some(&enemy));
        let nasty =
            score_actions(&me(Personality { agreeableness: -0.9, ..Default::default() }), Some(&friend), Some(&enemy));
        assert!(kind[Action::Help as usize] > nasty[Action::Help as usize]);
        assert!(nasty[Action::Insult as usize] > kind[Action::Insult as usize]);
    }

    #[test]
    fn exhausted_characters_rest() {
        let mut tired = me(Personality::default());
        tired.energy = 0.05;
        tired.needs.rest = 0.1;
        let s = score_actions(&tired, Some(&Bond::default()), None);
        assert_eq!(pick(&s, 1, 0.5), Action::Rest as usize);
    }

    #[test]
    fn pick_only_chooses_among_the_top_k() {
        let s = [0.9, 0.1, 0.8, 0.0, 0.0, 0.0, 0.05];
        for i in 0..100 {
            let a = pick(&s, 2, i as f32 / 100.0);
            assert!(a == 0 || a == 2);
        }
    }
}
