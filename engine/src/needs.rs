//! Needs and social energy: the drives autonomy answers to.
//!
//! Needs decay each tick and are satisfied by actions (The Sims' motives; Dave Mark's utility curves
//! read them in `autonomy`). Energy is spent by interacting (introverts pay more) and restored by rest.

use bevy_ecs::prelude::*;
use serde::{Deserialize, Serialize};

use crate::exec::Parallelism;
use crate::params::Params;
use crate::personality::Personality;

/// Satisfaction of each need in [0, 1] (1 = fully satisfied).
///
/// Decayed by `decay_needs` (Needs); raised in Resolve by `apply_effects` from interaction outcomes.
#[derive(Component, Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Needs {
    /// Company and conversation.
    pub social: f32,
    /// Recovery; low when the character has been busy.
    pub rest: f32,
    /// Recognition by others.
    pub status: f32,
    /// Feeling safe among the people around.
    pub safety: f32,
}

impl Default for Needs {
    fn default() -> Self {
        Self { social: 0.7, rest: 0.8, status: 0.6, safety: 0.8 }
    }
}

/// Social energy in [0, 1]: interacting spends it, resting restores it.
///
/// Written in Resolve (`apply_effects`); read by autonomy.
#[derive(Component, Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct SocialEnergy(pub f32);

impl Default for SocialEnergy {
    fn default() -> Self {
        Self(0.8)
    }
}

/// One tick of need decay for a character of this personality.
///
/// Extraverts' social need decays faster (they crave company); neurotic characters feel less safe
/// and conscientious ones need recognition a little more. Rest recovers slowly on its own.
pub fn decay(needs: Needs, pers: &Personality, social_decay: f32) -> Needs {
    let e = 1.0 + 0.5 * pers.extraversion;
    Needs {
        social: (needs.social - social_decay * e).clamp(0.0, 1.0),
        rest: (needs.rest + 0.005).clamp(0.0, 1.0),
        status: (needs.status - 0.004 * (1.0 + 0.3 * pers.conscientiousness)).clamp(0.0, 1.0),
        safety: (needs.safety + 0.01 * (0.6 - needs.safety) - 0.003 * pers.neuroticism.max(0.0)).clamp(0.0, 1.0),
    }
}

/// Energy cost of one interaction: introverts pay up to twice the base cost, extraverts half.
pub fn interaction_cost(pers: &Personality, base: f32) -> f32 {
    base * (1.0 - 0.5 * pers.extraversion)
}

/// Needs stage: every character's needs decay.
pub fn decay_needs(params: Res<Params>, par: Res<Parallelism>, mut q: Query<(&mut Needs, &Personality)>) {
    let d = params.social_need_decay;
    let f = |(mut n, p): (Mut<Needs>, &Personality)| *n = decay(*n, p, d);
    if par.parallel(q.iter().len()) {
        crate::exec::par_each(q.iter_mut(), f);
    } else {
        q.iter_mut().for_each(f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extraverts_get_lonely_faster() {
        let ext = Personality { extraversion: 0.9, ..Default::default() };
        let int = Personality { extraversion: -0.9, ..Default::default() };
        let n = Needs::default();
        assert!(decay(n, &ext, 0.02).social < decay(n, &int, 0.02).social);
    }

    #[test]
    fn interacting_costs_introverts_more() {
        let ext = Personality { extraversion: 0.9, ..Default::default() };
        let int = Personality { extraversion: -0.9, ..Default::default() };
        assert!(interaction_cost(&int, 0.04) > interaction_cost(&ext, 0.04));
    }
}
