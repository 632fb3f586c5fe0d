//! What an interaction does: appraisal of the outcome for both parties (OCC), the change of both
//! directed bonds and their histories, and the emotions and needs it moves.
//!
//! All pure functions of tick-start state and one random draw, so outcomes can be computed in
//! parallel; `interaction` applies them in a fixed order.

use crate::autonomy::Action;
use crate::bonds::{self, Bond};
use crate::dialogue::{Line, TEMPLATES_PER_ACTION, Tone};
use crate::emotion::{EmotionKind, N_EMOTIONS};
use crate::params::Params;
use crate::personality::Personality;

use crate::trust::{self, BetrayalKind, EdgeHistory};

/// One side of an interaction as the appraisal sees it.
#[derive(Clone, Copy, Debug, Default)]
pub struct Side {
    /// Personality.
    pub pers: Personality,
    /// Mood pleasure in [-1, 1].
    pub pleasure: f32,
    /// Mood arousal in [-1, 1].
    pub arousal: f32,
    /// Mood dominance in [-1, 1].
    pub dominance: f32,
    /// Visible distress in [0, 1].
    pub distress: f32,
}

/// The appraised result of one accepted interaction.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Outcome {
    /// Initiator slot.
    pub initiator: u32,
    /// Target slot.
    pub target: u32,
    /// Action.
    pub action: Action,
    /// How the target took it, in [-1, 1].
    pub valence: f32,
    /// How it felt to the initiator, in [-1, 1].
    pub initiator_valence: f32,
    /// Compatibility of the two personalities in [-1, 1].
    pub compat: f32,
    /// Whether a proposal (ally, confession, flirt, apology, mediation) was accepted.
    pub accepted: bool,
    /// What was said.
    pub line: Line,
}

/// What one tick's interactions do to one character, accumulated before it is applied.
#[derive(Clone, Copy, Debug, Default)]
pub struct Effect {
    /// Emotion impulses (combined with `1 - (1 - a)(1 - b)`).
    pub emotions: [f32; N_EMOTIONS],
    /// Share of current negative emotions soothed away (comfort), in [0, 1].
    pub soothe: f32,
    /// Social support received this tick (comfort from friends), in [0, 1]: speeds healing.
    pub support: f32,
    /// Change of the social need.
    pub social: f32,
    /// Change of the status need.
    pub status: f32,
    /// Change of the safety need.
    pub safety: f32,
    /// Change of the rest need.
    pub rest: f32,
    /// Change of social energy.
    pub energy: f32,
    /// Interactions taken part in this tick (initiated or received).
    pub n_interactions: u8,
    /// The action this character initiated and how it felt, for learning.
    pub learned: Option<(Action, f32)>,
}

impl Effect {
    /// Adds an emotion impulse.
    pub fn feel(&mut self, kind: EmotionKind, amount: f32) {
        let e = &mut self.emotions[kind as usize];
        *e = 1.0 - (1.0 - *e) * (1.0 - amount.clamp(0.0, 1.0));
    }
}

/// The two directed edges between the parties: the target's view of the initiator (`ti`) and the
/// initiator's view of the target (`it`).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Edges {
    /// Target -> initiator bond.
    pub ti: Bond,
    /// Target -> initiator history.
    pub ti_hist: EdgeHistory,
    /// Initiator -> target bond.
    pub it: Bond,
    /// Initiator -> target history.
    pub it_hist: EdgeHistory,
}

/// Appraises one interaction (pure): how the target takes it (valence), how it feels to the
/// initiator, whether a proposal was accepted, and the line said. `compat` is the cached
/// compatibility of the two; `r` is a uniform [0, 1) draw for noise, `variant` picks the template.
pub fn appraise(action: Action, init: &Side, target: &Side, e: &Edges, compat: f32, r: f32, variant: u8) -> Appraisal {
    use Action as A;
    let noise = (r - 0.5) * 0.3;
    let receptive = 0.5 * target.pleasure + 0.3 * e.ti.affinity + 0.2 * compat;
    let warm = |base: f32| base * (0.75 + 0.35 * receptive) + noise;
    let neurotic_hurt = 0.8 + 0.3 * target.pers.neuroticism.max(0.0);
    let (valence, accepted) = match action {
        A::Insult => ((-0.7 * neurotic_hurt + 0.5 * noise).min(-0.1), true),
        A::Threaten => ((-0.6 * neurotic_hurt * (1.0 - 0.3 * target.dominance) + 0.5 * noise).min(-0.1), true),
        A::Betray => ((-0.9 * neurotic_hurt + 0.3 * noise).min(-0.3), true),
        A::Help => (warm(0.6), true),
        A::Compliment => (warm(0.45), true),
        A::Confide if e.ti.trust < -0.2 => (warm(0.1), true),
        A::Confide => (warm(0.35), true),
        A::Gossip => (warm(0.2), true),
        A::Comfort => (warm(0.4 + 0.4 * target.distress), true),
        A::Apologize => {
            let open = 0.5 + 0.5 * target.pers.agreeableness - 0.5 * e.ti_hist.grudge;
            let ok = open + noise > 0.2;
            (if ok { warm(0.35) } else { -0.1 + noise }, ok)
        }
        A::Ally => {
            let ok = e.ti.affinity > 0.3 && e.ti.trust > 0.2;
            (if ok { warm(0.5) } else { 0.05 }, ok)
        }
        A::Mediate => {
            let ok = e.ti.respect + e.ti.affinity + noise > 0.2;
            (if ok { warm(0.25) } else { -0.15 }, ok)
        }
        A::Flirt => {
            let interest = e.ti.attraction + 0.3 * compat + 0.2 * target.pleasure + noise;
            (
                if interest > 0.0 { (0.3 + 0.5 * interest).min(1.0) } else { (-0.2 + 0.3 * interest).max(-0.6) },
                interest > 0.0,
            )
        }
        A::Confess => {
            let ok = e.ti.attraction > 0.35 && e.ti.affinity > 0.3;
            (if ok { 0.8 + noise.abs() * 0.5 } else { -0.2 + noise }, ok)
        }
        A::Chat | A::Avoid | A::Rest => (warm(0.25), true),
    };
    let valence = valence.clamp(-1.0, 1.0);
    let initiator_valence = match action {
        A::Insult | A::Threaten | A::Betray => 0.3 - 0.6 * init.pers.agreeableness,
        A::Confess | A::Flirt | A::Ally | A::Apologize | A::Mediate if !accepted => -0.3 - 0.3 * init.pers.neuroticism,
        _ => 0.6 * valence + 0.2 * compat,
    }
    .clamp(-1.0, 1.0);
    let tone = Tone::of(crate::mood::Pad::new(init.pleasure, init.arousal, init.dominance));
    let line =
        Line { template: variant % TEMPLATES_PER_ACTION, tone, rapport: e.it.standing(), genre: Default::default() };
    Appraisal { valence, initiator_valence, accepted, line }
}

/// What [`appraise`] found.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Appraisal {
    /// How the target took it, in [-1, 1].
    pub valence: f32,
    /// How it felt to the initiator, in [-1, 1].
    pub initiator_valence: f32,
    /// Whether a proposal was accepted.
    pub accepted: bool,
    /// What was said.
    pub line: Line,
}

/// What [`update_edges`] found beyond the new bonds.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct EdgeChange {
    /// The act was a betrayal of the target, and of which kind.
    pub betrayal: Option<BetrayalKind>,
    /// Severity of the betrayal in [0, 1].
    pub severity: f32,
    /// An apology brought forgiveness.
    pub forgiven: bool,
}

/// New edges after an outcome (pure), and whether it was a betrayal or brought forgiveness.
pub fn update_edges(o: &Outcome, mut e: Edges, p: &Params, tick: u64) -> (Edges, EdgeChange) {
    use Action as A;
    let v = o.valence;
    let mut change = EdgeChange::default();
    e.ti_hist.last_tick = tick;
    e.it_hist.last_tick = tick;
    if o.action.is_hostile() {
        let secret = o.action == A::Betray && e.it_hist.knows_secret;
        if let Some(kind) = trust::detect_betrayal(&e.ti, &e.ti_hist, secret) {
            let severity = (-v).clamp(0.3, 1.0);
            trust::betray(&mut e.ti, &mut e.ti_hist, severity);
            e.it_hist.allied = false;
            change.betrayal = Some(kind);
            change.severity = severity;
        }
        if secret {
            e.it_hist.knows_secret = false;
        }
        e.it_hist.guilt = (e.it_hist.guilt + 0.4 * (0.5 + 0.5 * o.compat.max(0.0))).min(1.0);
    }
    let weight = if v < 0.0 { 1.5 } else { 1.0 + 0.5 * o.compat };
    e.ti.affinity = bonds::nudge(e.ti.affinity, p.affinity_gain * v * weight);
    let trust_signal = match o.action {
        A::Help | A::Insult | A::Threaten => v,
        A::Confide | A::Comfort => 0.8 * v,
        A::Compliment | A::Ally => 0.3 * v,
        A::Betray | A::Apologize => 0.0,
        _ => 0.2 * v,
    };
    e.ti.trust = bonds::update_trust(e.ti.trust, trust_signal, p.trust_gain, p.trust_loss);
    e.ti.respect = match o.action {
        A::Help | A::Compliment | A::Mediate => bonds::nudge(e.ti.respect, 0.05 * v),
        A::Threaten if o.accepted => bonds::nudge(e.ti.respect, 0.02),
        A::Insult | A::Betray => bonds::nudge(e.ti.respect, -0.03),
        _ => e.ti.respect,
    };
    if o.action == A::Confide {
        e.ti_hist.knows_secret = true;
        e.it_hist.confided = true;
    }
    if o.action == A::Confess {
        e.it_hist.declared = true;
    }
    match o.action {
        A::Chat | A::Compliment | A::Confide if v > 0.0 => {
            e.ti.attraction = bonds::nudge(e.ti.attraction, 0.04 * v * (0.5 + 0.5 * o.compat));
        }
        A::Flirt if o.accepted => {
            e.ti.attraction = bonds::nudge(e.ti.attraction, 0.1 * v);
            e.it.attraction = bonds::nudge(e.it.attraction, 0.05 * v);
        }
        A::Flirt => e.it.attraction = bonds::nudge(e.it.attraction, -0.03),
        A::Confess if o.accepted => {
            e.ti.attraction = bonds::nudge(e.ti.attraction, 0.3);
            e.ti.affinity = bonds::nudge(e.ti.affinity, 0.2);
            e.it.affinity = bonds::nudge(e.it.affinity, 0.2);
        }
        A::Confess => e.it.attraction = bonds::nudge(e.it.attraction, -0.15),
        A::Apologize if o.accepted => {
            let sincerity = (0.5 + 0.5 * o.initiator_valence.abs()).min(1.0);
            change.forgiven = trust::repair(&mut e.ti, &mut e.ti_hist, sincerity);
            e.it_hist.guilt *= 0.4;
        }
        A::Ally if o.accepted => {
            e.ti_hist.allied = true;
            e.it_hist.allied = true;
            e.it.trust = bonds::update_trust(e.it.trust, 0.5, p.trust_gain, p.trust_loss);
        }
        _ => {}
    }
    e.ti.familiarity = bonds::familiarize(e.ti.familiarity, p.familiarity_gain);
    // Harming someone lowers one's own liking of them (derogation of the victim, Festinger's
    // dissonance); otherwise the initiator warms by how well the exchange went.
    let it_signal = if o.action.is_hostile() { -0.3 } else { 0.6 * o.initiator_valence };
    e.it.affinity = bonds::nudge(e.it.affinity, p.affinity_gain * it_signal);
    if o.action == A::Confide && v > 0.0 {
        e.it.trust = bonds::update_trust(e.it.trust, 0.5 * v, p.trust_gain, p.trust_loss);
    }
    e.it.familiarity = bonds::familiarize(e.it.familiarity, p.familiarity_gain);
    (e, change)
}

/// Emotions and need changes an outcome causes in both parties (pure): OCC appraisal with
/// personality scaling (neuroticism amplifies negative, extraversion and agreeableness positive
/// social emotions; MECHANICS.md).
pub fn feel_outcome(o: &Outcome, init: &Personality, target: &Personality, ei: &mut Effect, et: &mut Effect) {
    use Action as A;
    use EmotionKind as K;
    let v = o.valence;
    let neg_t = 1.0 + 0.5 * target.neuroticism;
    let pos_t = 1.0 + 0.25 * target.extraversion + 0.25 * target.agreeableness;
    if v >= 0.0 {
        et.feel(K::Joy, v * pos_t);
        let k = match o.action {
            A::Help | A::Comfort => K::Gratitude,
            A::Compliment => K::Pride,
            A::Apologize | A::Mediate => K::Relief,
            A::Ally => K::Hope,
            _ => K::Liking,
        };
        et.feel(k, 0.8 * v * pos_t);
        et.social += 0.15 * (0.5 + 0.5 * v);
        match o.action {
            A::Compliment => et.status += 0.1 * v,
            A::Comfort => {
                et.soothe = (et.soothe + 0.3 * v).min(1.0);
                et.support = (et.support + v).min(1.0);
            }
            A::Ally => et.safety += 0.1,
            _ => {}
        }
    } else {
        let hurt = -v * neg_t;
        et.feel(K::Distress, hurt);
        let anger = match o.action {
            A::Threaten => {
                et.feel(K::Fear, hurt * (0.7 - 0.3 * target.agreeableness.min(0.0)));
                0.4
            }
            A::Betray => 0.9,
            _ => 0.6,
        };
        et.feel(K::Anger, hurt * (anger - 0.3 * target.agreeableness));
        et.feel(K::Reproach, 0.5 * hurt);
        if target.neuroticism > 0.3 {
            et.feel(K::Shame, 0.3 * hurt);
        }
        et.safety -= 0.1 * -v;
        et.status -= 0.05 * -v;
    }
    let iv = o.initiator_valence;
    match o.action {
        A::Insult | A::Threaten | A::Betray if iv > 0.0 => ei.feel(K::Gloating, iv),
        A::Insult | A::Threaten | A::Betray => ei.feel(K::Remorse, -iv * (1.0 + 0.5 * init.neuroticism)),
        A::Confess | A::Flirt if !o.accepted => {
            ei.feel(K::Disappointment, -iv);
            ei.feel(K::Shame, -0.5 * iv);
        }
        A::Confess => ei.feel(K::Gratification, iv),
        A::Help | A::Comfort | A::Mediate if iv > 0.0 => {
            ei.feel(K::Pride, 0.5 * iv);
            ei.status += 0.03;
        }
        A::Apologize if o.accepted => ei.feel(K::Relief, 0.5 + 0.5 * iv.max(0.0)),
        _ if iv > 0.0 => ei.feel(K::Joy, iv * (1.0 + 0.25 * init.extraversion)),
        _ => ei.feel(K::Disappointment, -iv),
    }
    ei.social += 0.15 * (0.5 + 0.5 * iv.max(0.0));
}

/// Emotion a witness feels about an outcome to someone it has feelings for (OCC fortunes of
/// others): a liked target's misfortune brings pity, a disliked one's gloating; a liked target's good
/// fortune brings happy-for, a disliked one's resentment. Returns the emotion and its intensity.
pub fn witness_emotion(affinity_to_target: f32, valence: f32) -> (EmotionKind, f32) {
    let strength = (affinity_to_target.abs() * valence.abs()).min(1.0);
    let kind = match (affinity_to_target > 0.0, valence > 0.0) {
        (true, true) => EmotionKind::HappyFor,
        (true, false) => EmotionKind::Pity,
        (false, true) => EmotionKind::Resentment,
        (false, false) => EmotionKind::Gloating,
    };
    (kind, strength)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::personality::compatibility;

    fn outcome(action: Action, init: &Side, target: &Side, e: &Edges) -> Outcome {
        let compat = compatibility(&init.pers, &target.pers);
        let a = appraise(action, init, target, e, compat, 0.5, 0);
        let (valence, initiator_valence, accepted, line) = (a.valence, a.initiator_valence, a.accepted, a.line);
        Outcome { initiator: 0, target: 1, action, valence, initiator_valence, compat, accepted, line }
    }

    #[test]
    fn an_insult_hurts_the_target_and_lowers_its_affinity() {
        let (a, b, e) = (Side::default(), Side::default(), Edges::default());
        let o = outcome(Action::Insult, &a, &b, &e);
        assert!(o.valence < 0.0);
        let (e2, _) = update_edges(&o, e, &Params::default(), 1);
        assert!(e2.ti.affinity < 0.0 && e2.ti.trust < 0.0);
        let (mut ei, mut et) = (Effect::default(), Effect::default());
        feel_outcome(&o, &a.pers, &b.pers, &mut ei, &mut et);
        assert!(et.emotions[EmotionKind::Distress as usize] > 0.0 && et.emotions[EmotionKind::Anger as usize] > 0.0);
    }

    #[test]
    fn revealing_a_secret_is_a_betrayal_that_costs_trust() {
        let mut e = Edges::default();
        e.ti.trust = 0.2;
        e.it_hist.knows_secret = true;
        let o = outcome(Action::Betray, &Side::default(), &Side::default(), &e);
        let (e2, change) = update_edges(&o, e, &Params::default(), 1);
        assert_eq!(change.betrayal, Some(BetrayalKind::SecretRevealed));
        assert!(e2.ti.trust < e.ti.trust - 0.2);
        assert!(!e2.it_hist.knows_secret && e2.ti_hist.betrayals == 1);
    }

    #[test]
    fn confiding_hands_over_a_secret() {
        let o = outcome(Action::Confide, &Side::default(), &Side::default(), &Edges::default());
        let (e2, _) = update_edges(&o, Edges::default(), &Params::default(), 1);
        assert!(e2.ti_hist.knows_secret);
    }

    #[test]
    fn a_welcome_confession_makes_lovers_and_an_unwelcome_one_hurts() {
        let mut e = Edges::default();
        e.ti.attraction = 0.6;
        e.ti.affinity = 0.6;
        let yes = outcome(Action::Confess, &Side::default(), &Side::default(), &e);
        assert!(yes.accepted && yes.valence > 0.5);
        let no = outcome(Action::Confess, &Side::default(), &Side::default(), &Edges::default());
        assert!(!no.accepted && no.initiator_valence < 0.0);
    }

    #[test]
    fn comfort_soothes_and_supports() {
        let distressed = Side { distress: 0.9, ..Default::default() };
        let o = outcome(Action::Comfort, &Side::default(), &distressed, &Edges::default());
        let (mut ei, mut et) = (Effect::default(), Effect::default());
        feel_outcome(&o, &Personality::default(), &Personality::default(), &mut ei, &mut et);
        assert!(et.soothe > 0.0 && et.support > 0.0);
    }

    #[test]
    fn witnesses_feel_for_those_they_like() {
        assert_eq!(witness_emotion(0.8, -0.7).0, EmotionKind::Pity);
        assert_eq!(witness_emotion(-0.8, -0.7).0, EmotionKind::Gloating);
        assert_eq!(witness_emotion(0.8, 0.7).0, EmotionKind::HappyFor);
        assert_eq!(witness_emotion(-0.8, 0.7).0, EmotionKind::Resentment);
    }
}
