//! Beliefs, hearsay, distortion and reputation.
//!
//! There is no global truth about anyone: each character holds [`Beliefs`] about third parties, learnt
//! from gossip. Its opinion of someone combines its own bond (weight 1) with hearsay (weight
//! [`HEARSAY_WEIGHT`] x confidence), as FIRE (Huynh, Jennings & Shadbolt 2006) and ReGreT (Sabater &
//! Sierra 2001) weigh direct experience above witness reports. Hearsay counts by the hearer's trust in the
//! teller, the teller's status and how many retellings it went through. Passing an opinion on may distort
//! it, less often when the teller is conscientious and the hearer knows the subject (Talk of the Town,
//! Ryan et al. 2015), and more often toward the negative (negativity bias). A character's reputation is
//! just the mean of what others believe of it ([`reputation`]).
//!
//! Everything here is pure: the systems that call it live elsewhere.

use bevy_ecs::prelude::*;
use serde::{Deserialize, Deserializer, Serialize};

use crate::ids::CharacterId;

/// Most third parties a character holds hearsay beliefs about.
///
/// 16 keeps a belief lookup to a short binary search and bounds what a snapshot stores per character;
/// people one knows directly are in the bonds, not here. When full, [`hear`] evicts the belief with the
/// lowest `confidence x recency` (recency = [`BELIEF_RECENCY_DECAY`] per tick since it was last heard;
/// ties: the lowest subject id), but only if the new belief's confidence is strictly higher; otherwise the
/// new hearsay is not stored.
pub const BELIEFS_MAX: usize = 16;

/// Weight of hearsay relative to direct experience (weight 1), below 1 as in FIRE's and ReGreT's
/// preference for one's own interactions over witness reports.
pub const HEARSAY_WEIGHT: f32 = 0.5;

/// How much the teller's status in [-1, 1] scales credibility: `1 + STATUS_WEIGHT x status` (status raises
/// the weight of one's gossip, MECHANICS.md "Groups, conflicts, hierarchy").
pub const STATUS_WEIGHT: f32 = 0.3;

/// Credibility kept per retelling the hearsay went through before the teller (`HOP_DECAY ^ hops`).
pub const HOP_DECAY: f32 = 0.8;

/// Hearsay that has been retold this many times before reaching the teller is ignored: it bounds how far
/// a rumour travels and keeps `hops` from saturating.
pub const HOPS_MAX: u8 = 6;

/// Recency factor per tick since a belief was last heard, for eviction; FIRE's recency weight
/// `exp(-dt / lambda)` (Huynh et al. 2006) in per-tick form.
pub const BELIEF_RECENCY_DECAY: f32 = 0.995;

/// A belief whose confidence falls below this (after contradictions) is forgotten.
pub const CONFIDENCE_FLOOR: f32 = 0.01;

/// Chance that a careless teller (conscientiousness -1) distorts what it passes on to a hearer who does not
/// know the subject at all. In the range of Talk of the Town's lying probabilities, 0.02-0.2 (Ryan et al.
/// 2015, testbed `config.py`), slightly above because distortion also covers honest mistakes.
pub const DISTORT_BASE: f32 = 0.25;

/// Factor a distortion that exaggerates multiplies the opinion by (then clamped to [-1, 1]).
pub const EXAGGERATION: f32 = 1.5;

/// Share of the opinion kept, with its sign reversed, by a distortion that flips it ("he was kind to her"
/// becomes "he was a bit rude to her").
pub const FLIP_KEEP: f32 = 0.5;

/// Chance that a distortion of a negative opinion exaggerates it (else it flips): bad news grows in the
/// telling. The split is ours; the bias is Baumeister et al. 2001 ("Bad is stronger than good") and the
/// prominence of negative gossip in Baumeister, Zhang & Vohs 2004 ("Gossip as cultural learning").
pub const EXAGGERATE_NEGATIVE: f32 = 0.8;

/// Chance that a distortion of a positive opinion exaggerates it (else it flips toward the negative).
pub const EXAGGERATE_POSITIVE: f32 = 0.5;

/// What a character believes about a third party from hearsay.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Belief {
    /// Whom the belief is about.
    pub subject: CharacterId,
    /// The opinion heard, in [-1, 1] (negative: the subject is bad news).
    pub opinion: f32,
    /// How sure the holder is, in [0, 1]: grows with corroboration, shrinks with contradiction, and sets the
    /// belief's weight against direct experience in [`opinion_of`].
    pub confidence: f32,
    /// Who told it last; for provenance and story sifting.
    pub source: CharacterId,
    /// When it was last heard.
    pub tick: u64,
    /// How many retellings separate the holder from first-hand experience, in the last report: 1 when the
    /// teller spoke from its own bond. Retelling passes it on as [`Told::hops`].
    pub hops: u8,
}

/// Hearsay beliefs of a character, at most [`BELIEFS_MAX`], sorted by subject, one per subject.
///
/// Written by the gossip interaction ([`hear`]); read when the character chooses what to gossip about and
/// when its opinion of a third party is needed ([`opinion_of`]). Kept in a snapshot.
#[derive(Component, Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Beliefs {
    /// Sorted by subject, unique, never longer than [`BELIEFS_MAX`] (checked on deserialisation too).
    #[serde(deserialize_with = "belief_entries")]
    entries: Vec<Belief>,
}

impl Beliefs {
    /// The belief about `subject`, if any.
    pub fn get(&self, subject: CharacterId) -> Option<&Belief> {
        self.entries.binary_search_by_key(&subject, |b| b.subject).ok().map(|i| &self.entries[i])
    }

    /// All beliefs, by subject.
    pub fn iter(&self) -> impl Iterator<Item = &Belief> {
        self.entries.iter()
    }

    /// Number of beliefs (at most [`BELIEFS_MAX`]).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no belief is held.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Forgetting: every confidence is multiplied by `keep` in [0, 1], and beliefs falling below
    /// [`CONFIDENCE_FLOOR`] are dropped (Talk of the Town lets belief strength decay x0.95 a day).
    pub fn fade(&mut self, keep: f32) {
        let keep = keep.clamp(0.0, 1.0);
        for b in &mut self.entries {
            b.confidence *= keep;
        }
        self.entries.retain(|b| b.confidence >= CONFIDENCE_FLOOR);
    }
}

/// One piece of gossip as the hearer receives it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Told {
    /// Whom it is about.
    pub subject: CharacterId,
    /// The opinion passed on (after [`distort`]), in [-1, 1].
    pub opinion: f32,
    /// Who tells it.
    pub teller: CharacterId,
    /// The hearer's trust in the teller, in [-1, 1].
    pub teller_trust: f32,
    /// The teller's status, in [-1, 1].
    pub teller_status: f32,
    /// Retellings before the teller: 0 when the teller speaks from its own bond, else its belief's `hops`.
    pub hops: u8,
}

/// The hearer's combined opinion of the subject ([`opinion_of`]; 0 when it has none) before and after
/// hearing, and how credible the gossip was.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HeardOutcome {
    /// Combined opinion before.
    pub before: f32,
    /// Combined opinion after.
    pub after: f32,
    /// [`credibility`] of the gossip, in [0, 1]; 0 when it was ignored.
    pub credibility: f32,
}

/// How much a piece of gossip counts, in [0, 1]:
/// `HEARSAY_WEIGHT x (trust + 1) / 2 x (1 + STATUS_WEIGHT x status) x HOP_DECAY ^ hops`; 0 from
/// [`HOPS_MAX`] retellings on, and when below [`CONFIDENCE_FLOOR`] (too faint to be remembered).
///
/// Trust is mapped to [0, 1] so that a stranger (trust 0) counts half, as Talk of the Town trusts an
/// overheard speaker at 0.5 (Ryan et al. 2015), and a fully distrusted teller not at all.
pub fn credibility(told: &Told) -> f32 {
    if told.hops >= HOPS_MAX {
        return 0.0;
    }
    let trust = ((finite(told.teller_trust) + 1.0) / 2.0).clamp(0.0, 1.0);
    let status = 1.0 + STATUS_WEIGHT * finite(told.teller_status).clamp(-1.0, 1.0);
    let c = (HEARSAY_WEIGHT * trust * status * HOP_DECAY.powi(i32::from(told.hops))).clamp(0.0, 1.0);
    if c < CONFIDENCE_FLOOR { 0.0 } else { c }
}

/// The hearer takes in a piece of gossip.
///
/// With `c` = [`credibility`]: an existing belief moves toward the told opinion, `opinion += c x (told -
/// opinion)`, and its confidence grows with agreement `g = 1 - |told - opinion|` in [-1, 1]
/// (`conf += c g (1 - conf)` when `g >= 0`, `conf += c g conf` when it contradicts); a new belief starts from
/// a neutral prior, at `opinion = c x told` and `conf = c`. The source, tick and hops are those of this
/// report. Ignored (before = after) when `c` is 0 or the beliefs are full of more confident ones.
/// `direct` is the hearer's own affinity toward the subject, if it has a bond; it only enters the reported
/// combined opinions.
pub fn hear(beliefs: &mut Beliefs, told: Told, direct: Option<f32>, now: u64) -> HeardOutcome {
    let subject = told.subject;
    let before = opinion_of(direct, beliefs.get(subject)).unwrap_or(0.0);
    let c = credibility(&told);
    if c <= 0.0 {
        return HeardOutcome { before, after: before, credibility: 0.0 };
    }
    let said = finite(told.opinion).clamp(-1.0, 1.0);
    let hops = told.hops.saturating_add(1);
    let entries = &mut beliefs.entries;
    match entries.binary_search_by_key(&subject, |b| b.subject) {
        Ok(i) => {
            let b = &mut entries[i];
            let agreement = 1.0 - (said - b.opinion).abs();
            let room = if agreement >= 0.0 { 1.0 - b.confidence } else { b.confidence };
            b.confidence = (b.confidence + c * agreement * room).clamp(0.0, 1.0);
            b.opinion = (b.opinion + c * (said - b.opinion)).clamp(-1.0, 1.0);
            (b.source, b.tick, b.hops) = (told.teller, now, hops);
            if b.confidence < CONFIDENCE_FLOOR {
                entries.remove(i);
            }
        }
        Err(i) => {
            let new = Belief { subject, opinion: c * said, confidence: c, source: told.teller, tick: now, hops };
            insert_bounded(entries, i, new, now);
        }
    }
    let after = opinion_of(direct, beliefs.get(subject)).unwrap_or(0.0);
    HeardOutcome { before, after, credibility: c }
}

/// A character's opinion of a third party: direct affinity with weight 1 and hearsay with weight
/// `HEARSAY_WEIGHT x confidence`, normalised (FIRE's weighted combination of interaction trust and witness
/// reputation, Huynh et al. 2006). `None` when it has neither.
pub fn opinion_of(direct: Option<f32>, belief: Option<&Belief>) -> Option<f32> {
    let (mut sum, mut weight) = (0.0f32, 0.0f32);
    if let Some(d) = direct {
        (sum, weight) = (finite(d).clamp(-1.0, 1.0), 1.0);
    }
    if let Some(b) = belief {
        let w = HEARSAY_WEIGHT * b.confidence.clamp(0.0, 1.0);
        sum += w * b.opinion.clamp(-1.0, 1.0);
        weight += w;
        if weight == 0.0 {
            return Some(b.opinion.clamp(-1.0, 1.0));
        }
    }
    (weight > 0.0).then(|| (sum / weight).clamp(-1.0, 1.0))
}

/// What the hearer actually receives when a teller passes on `opinion`, and whether it changed.
///
/// With draws `r`, `r2` uniform in [0, 1), the opinion mutates when
/// `r < DISTORT_BASE x (1 - 0.5 x (C + 1) / 2) x (1 - familiarity)`: a fully conscientious teller (C = 1)
/// distorts half as often as a careless one (C = -1), and a hearer who knows the subject well catches the
/// error (Talk of the Town: knowledge mutates in transit, Ryan et al. 2015). A mutation exaggerates
/// (`x EXAGGERATION`) when `r2` is below [`EXAGGERATE_NEGATIVE`] for a negative opinion or
/// [`EXAGGERATE_POSITIVE`] otherwise, and else flips it partially (`x -FLIP_KEEP`), so bad news tends to get
/// worse and good news often turns sour.
pub fn distort(opinion: f32, teller_conscientiousness: f32, hearer_familiarity: f32, r: f32, r2: f32) -> (f32, bool) {
    let opinion = finite(opinion).clamp(-1.0, 1.0);
    let care = (finite(teller_conscientiousness).clamp(-1.0, 1.0) + 1.0) / 2.0;
    let chance = DISTORT_BASE * (1.0 - 0.5 * care) * (1.0 - finite(hearer_familiarity).clamp(0.0, 1.0));
    if r >= chance {
        return (opinion, false);
    }
    let p_exaggerate = if opinion < 0.0 { EXAGGERATE_NEGATIVE } else { EXAGGERATE_POSITIVE };
    let out = if r2 < p_exaggerate { (opinion * EXAGGERATION).clamp(-1.0, 1.0) } else { -FLIP_KEEP * opinion };
    (out, out != opinion)
}

/// Chooses what to gossip about to `hearer`: candidates are `(subject, opinion, salience)` from the
/// teller's bonds and beliefs (salience >= 0, e.g. familiarity or recency). Picks at random with weights
/// `(|opinion| x salience)^2`, so the strongest, most salient opinions dominate, using the draw `r` in
/// [0, 1); the hearer is never chosen. `None` when no candidate has weight.
///
/// Deterministic for a given candidate order and `r`; the caller passes candidates in a fixed order
/// (e.g. by subject id), each subject once.
pub fn pick_subject(candidates: &[(CharacterId, f32, f32)], hearer: CharacterId, r: f32) -> Option<CharacterId> {
    let weight = |&(who, opinion, salience): &(CharacterId, f32, f32)| {
        if who == hearer {
            return 0.0;
        }
        let s = finite(opinion).abs().min(1.0) * finite(salience).max(0.0);
        s * s
    };
    let total: f32 = candidates.iter().map(weight).sum();
    if total <= 0.0 {
        return None;
    }
    let mut target = r.clamp(0.0, 1.0) * total;
    let mut last = None;
    for c in candidates {
        let w = weight(c);
        if w <= 0.0 {
            continue;
        }
        if target < w {
            return Some(c.0);
        }
        target -= w;
        last = Some(c.0);
    }
    // Rounding can leave `target` just above the last weight; it then belongs to the last candidate.
    last
}

/// A character's reputation: the mean of the opinions others hold of it (e.g. each other character's
/// [`opinion_of`]), `None` when nobody has one. There is no global truth score (MECHANICS.md); the caller
/// iterates in a fixed order so the float sum is reproducible.
pub fn reputation(opinions: impl IntoIterator<Item = f32>) -> Option<f32> {
    let (mut sum, mut n) = (0.0f64, 0u64);
    for o in opinions {
        sum += f64::from(finite(o).clamp(-1.0, 1.0));
        n += 1;
    }
    (n > 0).then(|| (sum / n as f64) as f32)
}

/// Inserts `new` at its sorted position `i`, evicting per the [`BELIEFS_MAX`] policy when full.
fn insert_bounded(entries: &mut Vec<Belief>, i: usize, new: Belief, now: u64) {
    if entries.len() < BELIEFS_MAX {
        entries.insert(i, new);
        return;
    }
    let score = |b: &Belief| b.confidence * BELIEF_RECENCY_DECAY.powf(now.saturating_sub(b.tick) as f32);
    let mut victim = 0;
    for (j, b) in entries.iter().enumerate() {
        if score(b) < score(&entries[victim]) {
            victim = j;
        }
    }
    if score(&new) <= score(&entries[victim]) {
        return;
    }
    entries.remove(victim);
    let at = if victim < i { i - 1 } else { i };
    entries.insert(at, new);
}

/// NaN and infinities become 0 so that one bad input cannot poison a belief.
fn finite(x: f32) -> f32 {
    if x.is_finite() { x } else { 0.0 }
}

fn belief_entries<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Belief>, D::Error> {
    let v = Vec::<Belief>::deserialize(d)?;
    if v.len() > BELIEFS_MAX {
        return Err(serde::de::Error::custom(format!("{} beliefs, at most {BELIEFS_MAX} allowed", v.len())));
    }
    if v.windows(2).any(|w| w[0].subject >= w[1].subject) {
        return Err(serde::de::Error::custom("beliefs must be sorted by subject, one per subject"));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{self, Purpose};

    const ANA: CharacterId = CharacterId(1);
    const BOB: CharacterId = CharacterId(2);
    const X: CharacterId = CharacterId(9);

    fn told(opinion: f32, teller_trust: f32) -> Told {
        Told { subject: X, opinion, teller: ANA, teller_trust, teller_status: 0.0, hops: 0 }
    }

    /// Share of `n` seeded draws for which `distort` mutates.
    fn distortion_rate(opinion: f32, c: f32, familiarity: f32, n: u64) -> f32 {
        let mut s = rng::stream(42, 0, 0, Purpose::Resolve);
        let hits = (0..n)
            .filter(|_| {
                let (r, r2) = (rng::unit_f32(&mut s), rng::unit_f32(&mut s));
                distort(opinion, c, familiarity, r, r2).1
            })
            .count();
        hits as f32 / n as f32
    }

    #[test]
    fn a_stranger_is_known_only_through_gossip() {
        let mut b = Beliefs::default();
        assert_eq!(opinion_of(None, b.get(X)), None);
        let first = hear(&mut b, told(-0.8, 0.5), None, 10);
        let heard = opinion_of(None, b.get(X)).unwrap();
        assert!(heard < 0.0 && heard > -0.8, "moves toward the teller's view without reaching it: {heard}");
        assert_eq!((first.before, first.after), (0.0, heard));
        for t in 11..40 {
            hear(&mut b, told(-0.8, 0.5), None, t);
        }
        let belief = b.get(X).unwrap();
        assert!((belief.opinion + 0.8).abs() < 0.01 && belief.confidence > 0.9, "corroboration: {belief:?}");
        assert_eq!((belief.source, belief.hops), (ANA, 1));
    }

    #[test]
    fn a_trusted_teller_moves_opinions_more_than_a_distrusted_one() {
        let (mut trusting, mut wary) = (Beliefs::default(), Beliefs::default());
        let a = hear(&mut trusting, told(-0.8, 0.9), Some(0.2), 1);
        let b = hear(&mut wary, told(-0.8, -0.6), Some(0.2), 1);
        assert!(a.before - a.after > b.before - b.after && b.before - b.after > 0.0, "{a:?} vs {b:?}");
        assert!(credibility(&Told { teller_status: 0.8, ..told(0.0, 0.0) }) > credibility(&told(0.0, 0.0)));
        assert_eq!(hear(&mut wary, told(0.9, -1.0), None, 2).credibility, 0.0);
    }

    #[test]
    fn direct_experience_outweighs_hearsay_of_equal_strength() {
        let rumour = Belief { subject: X, opinion: -0.6, confidence: 1.0, source: ANA, tick: 0, hops: 1 };
        assert!(opinion_of(Some(0.6), Some(&rumour)).unwrap() > 0.0);
        // However often a trusted friend repeats it.
        let mut b = Beliefs::default();
        for t in 0..100 {
            hear(&mut b, told(-0.6, 1.0), Some(0.6), t);
        }
        assert!(opinion_of(Some(0.6), b.get(X)).unwrap() > 0.0);
    }

    #[test]
    fn contradiction_lowers_confidence() {
        let mut b = Beliefs::default();
        for t in 0..5 {
            hear(&mut b, told(0.8, 0.5), None, t);
        }
        let sure = b.get(X).unwrap().confidence;
        hear(&mut b, Told { teller: BOB, ..told(-0.9, 0.5) }, None, 6);
        assert!(b.get(X).unwrap().confidence < sure);
        assert_eq!(b.get(X).unwrap().source, BOB);
    }

    #[test]
    fn rumours_weaken_with_every_retelling_and_stop_travelling() {
        let mut c = 1.0;
        for hops in 0..HOPS_MAX {
            let next = credibility(&Told { hops, ..told(0.5, 0.5) });
            assert!(next < c && next > 0.0);
            c = next;
        }
        assert_eq!(credibility(&Told { hops: HOPS_MAX, ..told(0.5, 0.5) }), 0.0);
    }

    #[test]
    fn distortion_is_rarer_for_conscientious_tellers_and_familiar_hearers() {
        let n = 40_000;
        let careless = distortion_rate(-0.5, -1.0, 0.0, n);
        let careful = distortion_rate(-0.5, 1.0, 0.0, n);
        let familiar = distortion_rate(-0.5, -1.0, 0.8, n);
        assert!((careless - DISTORT_BASE).abs() < 0.01, "{careless}");
        assert!((careful - DISTORT_BASE / 2.0).abs() < 0.01, "{careful}");
        assert!((familiar - DISTORT_BASE * 0.2).abs() < 0.01, "{familiar}");
        assert_eq!(distortion_rate(-0.5, -1.0, 1.0, 1000), 0.0);
    }

    #[test]
    fn distorted_gossip_drifts_negative() {
        let mut s = rng::stream(7, 0, 0, Purpose::Resolve);
        let (mut drift_bad, mut drift_good) = (0.0, 0.0);
        for _ in 0..20_000 {
            let r2 = rng::unit_f32(&mut s);
            drift_bad += distort(-0.4, 0.0, 0.0, 0.0, r2).0 + 0.4;
            drift_good += distort(0.4, 0.0, 0.0, 0.0, r2).0 - 0.4;
        }
        assert!(drift_bad < 0.0 && drift_good < 0.0, "{drift_bad} {drift_good}");
    }

    #[test]
    fn gossip_is_about_strong_salient_opinions_and_never_the_hearer() {
        let cands = [(ANA, 0.9, 1.0), (BOB, 0.95, 1.0), (X, 0.1, 0.5), (CharacterId(4), 0.0, 1.0)];
        let picks: Vec<_> = (0..1000).filter_map(|i| pick_subject(&cands, BOB, i as f32 / 1000.0)).collect();
        assert_eq!(picks.len(), 1000);
        let n_ana = picks.iter().filter(|&&p| p == ANA).count();
        assert!(n_ana > 980 && !picks.contains(&BOB) && !picks.contains(&CharacterId(4)), "{n_ana}");
        assert_eq!(pick_subject(&[(BOB, 1.0, 1.0)], BOB, 0.3), None);
        assert_eq!(pick_subject(&cands, BOB, 0.999_999_9), Some(X));
    }

    #[test]
    fn reputation_is_the_mean_of_what_others_believe() {
        assert!((reputation([0.5, -0.1, 0.2]).unwrap() - 0.2).abs() < 1e-6);
        assert_eq!(reputation(std::iter::empty()), None);
    }

    #[test]
    fn beliefs_stay_bounded_and_keep_the_most_confident() {
        let mut b = Beliefs::default();
        for s in 0..40 {
            let trust = if s % 2 == 0 { 1.0 } else { -0.5 };
            hear(&mut b, Told { subject: CharacterId(100 + s), ..told(0.7, trust) }, None, 5);
        }
        assert_eq!(b.len(), BELIEFS_MAX);
        assert!(b.iter().all(|x| x.subject.0 % 2 == 0), "the trusted teller's stories were kept");
        let json = serde_json::to_string(&b).unwrap();
        assert_eq!(serde_json::from_str::<Beliefs>(&json).unwrap(), b);
        let bad = json.replacen("\"subject\":100", "\"subject\":999", 1);
        assert!(serde_json::from_str::<Beliefs>(&bad).is_err(), "unsorted beliefs are rejected");
    }

    proptest::proptest! {
        #[test]
        fn hearing_keeps_beliefs_sorted_bounded_and_in_range(
            reports in proptest::collection::vec(
                (0u32..30, -1.0f32..=1.0, -1.0f32..=1.0, -1.0f32..=1.0, 0u8..8, proptest::option::of(-1.0f32..=1.0)),
                0..80,
            ),
        ) {
            let mut b = Beliefs::default();
            for (tick, (subject, opinion, trust, status, hops, direct)) in reports.into_iter().enumerate() {
                let told = Told { subject: CharacterId(subject), opinion, teller: ANA, teller_trust: trust, teller_status: status, hops };
                let out = hear(&mut b, told, direct, tick as u64);
                proptest::prop_assert!((-1.0..=1.0).contains(&out.before) && (-1.0..=1.0).contains(&out.after));
                proptest::prop_assert!(b.len() <= BELIEFS_MAX);
                proptest::prop_assert!(b.entries.windows(2).all(|w| w[0].subject < w[1].subject));
                for x in b.iter() {
                    proptest::prop_assert!((-1.0..=1.0).contains(&x.opinion) && (CONFIDENCE_FLOOR..=1.0).contains(&x.confidence));
                }
            }
        }

        #[test]
        fn a_combined_opinion_lies_between_its_sources(d in -1.0f32..=1.0, o in -1.0f32..=1.0, conf in 0.0f32..=1.0) {
            let belief = Belief { subject: X, opinion: o, confidence: conf, source: ANA, tick: 0, hops: 1 };
            let v = opinion_of(Some(d), Some(&belief)).unwrap();
            proptest::prop_assert!(v >= d.min(o) - 1e-6 && v <= d.max(o) + 1e-6);
            proptest::prop_assert!((v - d).abs() <= (v - o).abs() + 1e-6, "direct weighs at least as much");
        }

        #[test]
        fn distortion_stays_in_range(o in -1.0f32..=1.0, c in -1.0f32..=1.0, f in 0.0f32..=1.0, r in 0.0f32..1.0, r2 in 0.0f32..1.0) {
            let (out, mutated) = distort(o, c, f, r, r2);
            proptest::prop_assert!((-1.0..=1.0).contains(&out));
            proptest::prop_assert_eq!(mutated, out != o);
        }
    }
}
