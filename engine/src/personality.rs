//! Big Five personality (OCEAN) and the quantities derived from it.
//!
//! Traits are in [-1, 1] (ALMA's convention, Gebhard 2005). Personality is a parameter of every model
//! in the engine and is never changed by the tick itself; scenario events may change it.

use bevy_ecs::prelude::*;
use serde::{Deserialize, Serialize};

use crate::mood::Pad;

/// Big Five traits of a character, each in [-1, 1].
///
/// Written only at spawn (scenario load, snapshot load) or by director commands; read by every stage.
#[derive(Component, Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Personality {
    /// Openness to experience.
    pub openness: f32,
    /// Conscientiousness.
    pub conscientiousness: f32,
    /// Extraversion: drives sociability and expressiveness.
    pub extraversion: f32,
    /// Agreeableness: drives kindness and openness to others' emotions.
    pub agreeableness: f32,
    /// Neuroticism (our axis; Mehrabian's "stability" is its negation).
    pub neuroticism: f32,
}

impl Personality {
    /// The five traits in OCEAN order.
    pub fn traits(&self) -> [f32; 5] {
        [self.openness, self.conscientiousness, self.extraversion, self.agreeableness, self.neuroticism]
    }

    /// Baseline (resting) mood from personality, Mehrabian (1996) as used in ALMA (Gebhard 2005).
    ///
    /// Mehrabian's formulas use emotional *stability*; with neuroticism on our axis we use
    /// `stability = -neuroticism`, so a neurotic character rests at lower pleasure and higher arousal.
    pub fn baseline_mood(&self) -> Pad {
        let (o, c, e, a) = (self.openness, self.conscientiousness, self.extraversion, self.agreeableness);
        let stability = -self.neuroticism;
        Pad::new(
            0.21 * e + 0.59 * a + 0.19 * stability,
            0.15 * o + 0.30 * a - 0.57 * stability,
            0.25 * o + 0.17 * c + 0.60 * e - 0.32 * a,
        )
        .clamped()
    }

    /// How strongly this character shows its mood to others (ASCRIBE's epsilon), in [0, 1].
    pub fn expressiveness(&self) -> f32 {
        (0.5 + 0.4 * self.extraversion - 0.1 * self.conscientiousness).clamp(0.05, 1.0)
    }

    /// How open this character is to others' emotions (ASCRIBE's delta), in [0, 1].
    pub fn susceptibility(&self) -> f32 {
        (0.5 + 0.25 * self.agreeableness + 0.25 * self.neuroticism).clamp(0.05, 1.0)
    }
}

/// Compatibility of two personalities in [-1, 1]: similarity-attraction on O, C, A and
/// complementarity on dominance (interpersonal circumplex), as in MECHANICS.md.
///
/// `sim = 1 - (|dO| + |dC| + |dA|) / 6`, `comp = |D0_1 - D0_2| / 2`, `compat = 0.7 sim + 0.3 comp`
/// mapped from [0, 1] to [-1, 1].
pub fn compatibility(a: &Personality, b: &Personality) -> f32 {
    let sim = 1.0
        - ((a.openness - b.openness).abs()
            + (a.conscientiousness - b.conscientiousness).abs()
            + (a.agreeableness - b.agreeableness).abs())
            / 6.0;
    let comp = (a.baseline_mood().d - b.baseline_mood().d).abs() / 2.0;
    (2.0 * (0.7 * sim + 0.3 * comp) - 1.0).clamp(-1.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neurotic_characters_rest_less_pleased_and_more_aroused() {
        let calm = Personality { neuroticism: -0.8, ..Default::default() };
        let anxious = Personality { neuroticism: 0.8, ..Default::default() };
        assert!(anxious.baseline_mood().p < calm.baseline_mood().p);
        assert!(anxious.baseline_mood().a > calm.baseline_mood().a);
    }

    #[test]
    fn similar_people_are_more_compatible_than_opposites() {
        let a = Personality { openness: 0.8, conscientiousness: 0.6, agreeableness: 0.7, ..Default::default() };
        let opposite =
            Personality { openness: -0.8, conscientiousness: -0.6, agreeableness: -0.7, ..Default::default() };
        assert!(compatibility(&a, &a) > compatibility(&a, &opposite));
        assert!((-1.0..=1.0).contains(&compatibility(&a, &opposite)));
    }
}
