//! Episodic memory, recall, trauma and healing.
//!
//! Every character keeps a bounded list of what happened to it and with whom ([`Memory`]). Memories are
//! ranked by Generative Agents' retrieval score (Park et al. 2023): recency, importance and relevance with
//! equal weights. Meeting someone again recalls what one remembers of them ([`Memory::recall`]) and
//! re-triggers weakened emotions ([`retrigger`]).
//!
//! A strongly negative event also leaves a [`Trauma`]: it shifts the mood baseline (less pleasure, more
//! arousal, less dominance) and records a [`Trigger`] that re-evokes fear when its person or kind of event
//! comes back. Healing returns the baseline to the personality's at a rate raised by social support and by
//! low neuroticism (MECHANICS.md, "Memory, trauma, healing"; the survey's §2.11 synthesis).
//!
//! Everything here is pure: the systems that call it live elsewhere.

use bevy_ecs::prelude::*;
use serde::{Deserialize, Deserializer, Serialize};

use crate::autonomy::Action;
use crate::emotion::{EmotionKind, INTENSITY_FLOOR};
use crate::ids::CharacterId;
use crate::mood::Pad;

/// Most episodic memories a character keeps.
///
/// 32 is the example size in MECHANICS.md: enough for a few memories about each close relation, small
/// enough to scan linearly on every encounter. When full, [`Memory::remember`] evicts the least salient
/// memory (ties: the oldest), and only if the new one is more salient; otherwise the new one is dropped.
pub const MEMORY_MAX: usize = 32;

/// Recency factor per tick elapsed: Generative Agents' exponential decay of 0.995 per game hour
/// (Park et al. 2023), applied per tick.
pub const RECENCY_DECAY: f32 = 0.995;

/// Relevance of a memory about someone other than the person being recalled (1 when it is about them).
///
/// Low but not zero so that a very recent, intense memory of someone else can still outrank a faint one
/// about the cued person when ranking for eviction.
pub const RELEVANCE_OTHER: f32 = 0.2;

/// Share of a recollection's strength that comes back as emotion on meeting the person again.
///
/// Re-triggered emotions are weaker than the originals (the survey's §2.11: `s(t) x match`).
pub const RETRIGGER_GAIN: f32 = 0.3;

/// Negative intensity (`intensity x -valence`) above which an event traumatizes (MECHANICS.md).
pub const TRAUMA_THRESHOLD: f32 = 0.75;

/// Baseline pleasure lost per unit of traumatic intensity (MECHANICS.md: `P0 -= 0.2 x intensity`).
pub const TRAUMA_SHIFT_P: f32 = 0.2;

/// Baseline arousal gained per unit of traumatic intensity: trauma leaves one on edge.
pub const TRAUMA_SHIFT_A: f32 = 0.1;

/// Baseline dominance lost per unit of traumatic intensity: trauma leaves one feeling less in control.
pub const TRAUMA_SHIFT_D: f32 = 0.1;

/// Largest total baseline shift (Euclidean norm, PAD units) that accumulated traumas can cause.
///
/// Repeated traumas add up to this cap, then stop shifting further (the shift is scaled back onto the cap),
/// so a baseline never leaves the mood space's sensible interior.
pub const TRAUMA_SHIFT_MAX: f32 = 0.5;

/// Most triggers a trauma keeps.
///
/// When full, a new trigger replaces the weakest one (ties: the earliest recorded) if it is stronger;
/// otherwise it is dropped. A trigger for a `(who, kind)` already recorded is strengthened instead.
pub const TRIGGERS_MAX: usize = 8;

/// Share of a person trigger's strength that fires on the same kind of event caused by someone else
/// (fear generalises from the person to the situation).
pub const TRIGGER_GENERALIZATION: f32 = 0.5;

/// Triggers fading below this strength are dropped.
pub const TRIGGER_FLOOR: f32 = 0.01;

/// The trauma counts as healed once the baseline shift is shorter than this (PAD units).
pub const HEAL_EPSILON: f32 = 0.01;

/// Suggested per-tick healing rate without support, for a character of average neuroticism.
///
/// At 0.002 a trauma of full intensity heals in about 1,600 ticks alone and about 320 with full support
/// (one at the threshold: about 1,460 and 290).
pub const HEAL_BASE_RATE: f32 = 0.002;

/// What a memory is of, from the rememberer's point of view; `MemoryItem::other` is the other person.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MemoryKind {
    /// An ordinary interaction: `other` did this action to the rememberer, or the rememberer to `other`.
    Interaction(Action),
    /// `other` betrayed the rememberer.
    Betrayed,
    /// The rememberer betrayed `other`.
    Betrayer,
    /// One of the two confided in the other.
    Confided,
    /// `other` revealed a secret the rememberer had entrusted.
    SecretRevealed,
    /// `other` comforted the rememberer.
    Comforted,
    /// `other` threatened the rememberer.
    Threatened,
    /// The rememberer witnessed something done by or to `other`.
    Witnessed,
    /// The rememberer heard a rumour about `other` (the subject, not the teller).
    Rumor,
}

impl MemoryKind {
    /// Whether a negative memory of this kind is a threat to oneself, so that it comes back as fear rather
    /// than anger.
    pub const fn is_threat(self) -> bool {
        matches!(self, Self::Betrayed | Self::Threatened | Self::SecretRevealed)
    }
}

/// One remembered episode.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct MemoryItem {
    /// When it happened.
    pub tick: u64,
    /// Whom it is about; recall and triggers are keyed by it.
    pub other: CharacterId,
    /// What happened.
    pub kind: MemoryKind,
    /// How good or bad it was for the rememberer, in [-1, 1].
    pub valence: f32,
    /// How strongly it was felt, in [0, 1]: Generative Agents' "importance".
    pub intensity: f32,
}

/// Generative Agents' retrieval score (Park et al. 2023): the mean of recency, importance and relevance,
/// each in [0, 1], with equal weights.
///
/// - recency = `RECENCY_DECAY ^ (now - tick)` (1 for events at or after `now`);
/// - importance = `intensity`;
/// - relevance = 1 if the memory is about `about`, else [`RELEVANCE_OTHER`]; with no cue (`None`) every
///   memory is equally relevant and the score ranks by recency and importance alone.
pub fn salience(item: &MemoryItem, now: u64, about: Option<CharacterId>) -> f32 {
    let relevance = match about {
        Some(who) if who != item.other => RELEVANCE_OTHER,
        _ => 1.0,
    };
    (recency(item.tick, now) + item.intensity + relevance) / 3.0
}

/// Episodic memories of a character, at most [`MEMORY_MAX`], in the order they were stored.
///
/// Written by the systems that appraise interactions and events (Resolve); read when two characters meet
/// (recall) and by story sifting. Kept in a snapshot.
///
/// It keeps an order-independent digest of its items up to date as they change (wrapping sum of
/// per-item digests), so the world hash reads it in O(1) instead of rehashing 32 items every tick.
#[derive(Component, Clone, Debug, Default, Serialize, Deserialize)]
#[serde(from = "MemoryRepr", into = "MemoryRepr")]
pub struct Memory {
    /// The memories; never longer than [`MEMORY_MAX`] (checked on deserialisation too).
    items: Vec<MemoryItem>,
    /// Wrapping sum of [`item_digest`] over `items`; derived, so not serialised.
    digest: u64,
}

/// Serialised form of [`Memory`]: the items alone (the digest is recomputed on load).
#[derive(Serialize, Deserialize)]
struct MemoryRepr {
    #[serde(deserialize_with = "memory_items")]
    items: Vec<MemoryItem>,
}

impl From<MemoryRepr> for Memory {
    fn from(r: MemoryRepr) -> Self {
        let digest = r.items.iter().fold(0u64, |h, m| h.wrapping_add(item_digest(m)));
        Self { items: r.items, digest }
    }
}

impl From<Memory> for MemoryRepr {
    fn from(m: Memory) -> Self {
        Self { items: m.items }
    }
}

impl PartialEq for Memory {
    fn eq(&self, other: &Self) -> bool {
        self.items == other.items
    }
}

/// Digest of one memory item (every field, floats by bit pattern).
pub fn item_digest(m: &MemoryItem) -> u64 {
    let kind = match m.kind {
        MemoryKind::Interaction(a) => a as u64,
        MemoryKind::Betrayed => 100,
        MemoryKind::Betrayer => 101,
        MemoryKind::Confided => 102,
        MemoryKind::SecretRevealed => 103,
        MemoryKind::Comforted => 104,
        MemoryKind::Threatened => 105,
        MemoryKind::Witnessed => 106,
        MemoryKind::Rumor => 107,
    };
    let a = m.tick ^ (m.other.0 as u64) << 24 ^ kind << 56;
    let b = m.valence.to_bits() as u64 | (m.intensity.to_bits() as u64) << 32;
    crate::rng::mix64(a.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ b)
}

/// What a character remembers of one person, from [`Memory::recall`].
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Recall {
    /// Salience-weighted mean valence of the memories about that person, in [-1, 1]; 0 when none.
    pub valence: f32,
    /// How vivid the recollection is, in [0, 1]: `1 - prod(1 - intensity x recency)` over the memories,
    /// so several strong recent memories saturate toward 1 and old faint ones add little.
    pub weight: f32,
    /// Number of memories about that person.
    pub count: u32,
    /// Share in [0, 1] of the negative memories' salience that comes from threats ([`MemoryKind::is_threat`]);
    /// splits re-triggered negative emotion between fear and anger.
    pub threat: f32,
}

impl Memory {
    /// Stores a memory. Returns whether it was kept.
    ///
    /// Values are clamped into range first. When the memory is full, the least salient stored item (by
    /// [`salience`] with no cue; ties go to the oldest, then the earliest stored) is evicted, but only if
    /// the new item is strictly more salient; otherwise the new item is dropped.
    pub fn remember(&mut self, item: MemoryItem, now: u64) -> bool {
        let item = MemoryItem {
            valence: finite(item.valence).clamp(-1.0, 1.0),
            intensity: finite(item.intensity).clamp(0.0, 1.0),
            ..item
        };
        if self.items.len() < MEMORY_MAX {
            self.digest = self.digest.wrapping_add(item_digest(&item));
            self.items.push(item);
            return true;
        }
        let mut victim = 0;
        let mut victim_s = f32::INFINITY;
        for (i, m) in self.items.iter().enumerate() {
            let s = salience(m, now, None);
            if s < victim_s || (s == victim_s && m.tick < self.items[victim].tick) {
                (victim, victim_s) = (i, s);
            }
        }
        if salience(&item, now, None) <= victim_s {
            return false;
        }
        let gone = self.items.remove(victim);
        self.digest = self.digest.wrapping_sub(item_digest(&gone)).wrapping_add(item_digest(&item));
        self.items.push(item);
        true
    }

    /// Order-independent digest of the stored items, kept up to date in O(1) per change.
    pub fn digest(&self) -> u64 {
        self.digest
    }

    /// What this character remembers of `other` at `now`: valence weighted by [`salience`], vividness and
    /// count. All zero when there is no memory of them.
    pub fn recall(&self, other: CharacterId, now: u64) -> Recall {
        let (mut sum_s, mut sum_sv, mut keep, mut count) = (0.0f32, 0.0f32, 1.0f32, 0u32);
        let (mut neg_s, mut threat_s) = (0.0f32, 0.0f32);
        for m in self.items.iter().filter(|m| m.other == other) {
            let s = salience(m, now, Some(other));
            sum_s += s;
            sum_sv += s * m.valence;
            keep *= 1.0 - m.intensity * recency(m.tick, now);
            count += 1;
            if m.valence < 0.0 {
                neg_s += s;
                threat_s += if m.kind.is_threat() { s } else { 0.0 };
            }
        }
        if count == 0 {
            return Recall::default();
        }
        Recall {
            valence: (sum_sv / sum_s).clamp(-1.0, 1.0),
            weight: (1.0 - keep).clamp(0.0, 1.0),
            count,
            threat: if neg_s > 0.0 { threat_s / neg_s } else { 0.0 },
        }
    }

    /// The stored memories, in the order they were stored.
    pub fn iter(&self) -> impl Iterator<Item = &MemoryItem> {
        self.items.iter()
    }

    /// Number of stored memories (at most [`MEMORY_MAX`]).
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// Emotions re-evoked by meeting someone one remembers, each weaker than the originals.
///
/// The amount is `a = RETRIGGER_GAIN x weight x |valence|`. A good recollection brings back Liking (`a`)
/// and Joy (`a / 2`); a bad one brings back Disliking (`a`), Fear (`a x threat`) and Anger
/// (`a x (1 - threat)`). Amounts below [`INTENSITY_FLOOR`] are left out. Meant for `Emotions::feel`.
pub fn retrigger(recall: Recall) -> Vec<(EmotionKind, f32)> {
    let a = RETRIGGER_GAIN * recall.weight.clamp(0.0, 1.0) * recall.valence.abs().min(1.0);
    let out = if recall.valence > 0.0 {
        vec![(EmotionKind::Liking, a), (EmotionKind::Joy, 0.5 * a)]
    } else if recall.valence < 0.0 {
        let threat = recall.threat.clamp(0.0, 1.0);
        vec![(EmotionKind::Disliking, a), (EmotionKind::Fear, a * threat), (EmotionKind::Anger, a * (1.0 - threat))]
    } else {
        Vec::new()
    };
    out.into_iter().filter(|&(_, v)| v >= INTENSITY_FLOOR).collect()
}

/// A cue that re-evokes a trauma: a person, a kind of event, or both.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Trigger {
    /// The person who caused the trauma, if any; meeting them re-evokes it at full strength.
    pub who: Option<CharacterId>,
    /// The kind of event; the same kind caused by anyone re-evokes it (at [`TRIGGER_GENERALIZATION`] when
    /// `who` is set and differs).
    pub kind: MemoryKind,
    /// How strongly the cue re-evokes fear and distress, in [0, 1]; fades while healing.
    pub strength: f32,
}

/// Lasting effect of traumatic events on a character: an offset of the mood baseline and the cues that
/// re-evoke it.
///
/// Written by the systems that appraise events (on a traumatic event, [`traumatize`]) and by healing
/// (every tick, [`heal`]); read wherever the mood baseline is used ([`effective_baseline`]) and when a
/// cue is met ([`triggered`]). Kept in a snapshot.
#[derive(Component, Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Trauma {
    /// Current offset of the mood baseline (PAD units; norm at most [`TRAUMA_SHIFT_MAX`]); zero when healed.
    pub shift: Pad,
    /// Cues that re-evoke the trauma; at most [`TRIGGERS_MAX`] (checked on deserialisation too).
    #[serde(deserialize_with = "triggers")]
    pub triggers: Vec<Trigger>,
    /// How traumatised the character is, in [0, 1]: traumatic intensities combined as
    /// `1 - (1 - s)(1 - i)`, fading with healing at the same rate as the shift. For metrics and the director.
    pub severity: f32,
}

impl Trauma {
    /// Whether there is anything left to heal.
    pub fn is_active(&self) -> bool {
        self.shift != Pad::default() || !self.triggers.is_empty() || self.severity > 0.0
    }
}

/// What [`heal`] reports when a trauma has just fully healed.
#[derive(Clone, Debug, PartialEq)]
pub struct Healed {
    /// The triggers that no longer fire, for the `TraumaHealed` event (e.g. to name the people involved).
    pub released: Vec<Trigger>,
}

/// Records an event in `trauma` if it is traumatic. Returns the baseline shift it added, or `None` when the
/// event is not traumatic.
///
/// An event is traumatic when its negative intensity `intensity x max(0, -valence)` exceeds `threshold`
/// (normally [`TRAUMA_THRESHOLD`]). It then shifts the baseline by `(-TRAUMA_SHIFT_P, +TRAUMA_SHIFT_A,
/// -TRAUMA_SHIFT_D) x negative intensity` (MECHANICS.md: `P0 -= 0.2 x intensity`), with the total shift
/// capped at [`TRAUMA_SHIFT_MAX`], and records or strengthens the trigger `(who, kind)`.
pub fn traumatize(
    trauma: &mut Trauma,
    event_intensity: f32,
    valence: f32,
    who: Option<CharacterId>,
    kind: MemoryKind,
    threshold: f32,
) -> Option<Pad> {
    let neg = (finite(event_intensity).clamp(0.0, 1.0) * (-finite(valence)).clamp(0.0, 1.0)).min(1.0);
    if neg <= threshold {
        return None;
    }
    let before = trauma.shift;
    let mut shift = before.add_scaled(Pad::new(-TRAUMA_SHIFT_P, TRAUMA_SHIFT_A, -TRAUMA_SHIFT_D), neg);
    let norm = shift.norm();
    if norm > TRAUMA_SHIFT_MAX {
        shift = Pad::new(0.0, 0.0, 0.0).add_scaled(shift, TRAUMA_SHIFT_MAX / norm);
    }
    trauma.shift = shift;
    trauma.severity = 1.0 - (1.0 - trauma.severity.clamp(0.0, 1.0)) * (1.0 - neg);
    record_trigger(&mut trauma.triggers, Trigger { who, kind, strength: neg });
    Some(shift.minus(before))
}

/// How strongly meeting `who` in an event of `kind` re-evokes the trauma (fear and distress), or `None`.
///
/// The strongest matching trigger wins: a trigger for this person fires at its full strength; one without
/// a person fires at full strength on its kind; one for another person fires on its kind at
/// [`TRIGGER_GENERALIZATION`] of its strength.
pub fn triggered(trauma: &Trauma, who: Option<CharacterId>, kind: MemoryKind) -> Option<f32> {
    let mut best = 0.0f32;
    for t in &trauma.triggers {
        let factor = match t.who {
            Some(x) if who == Some(x) => 1.0,
            Some(_) if t.kind == kind => TRIGGER_GENERALIZATION,
            None if t.kind == kind => 1.0,
            _ => 0.0,
        };
        best = best.max(t.strength * factor);
    }
    (best >= TRIGGER_FLOOR).then_some(best)
}

/// One tick of healing. Returns `Some` on the tick the trauma becomes fully healed (shift shorter than
/// [`HEAL_EPSILON`]); the trauma is then reset to empty.
///
/// The shift, the triggers' strengths and the severity all decay toward zero by the factor `1 - rate`, with
/// `rate = base_rate x (1 + 4 x support) x (1 - 0.5 x max(N, 0))`: comfort from high-affinity characters
/// (`support` in [0, 1]) speeds healing up to five-fold and neuroticism `N` slows it up to two-fold
/// (MECHANICS.md; the neuroticism factor matches the slower decay of negative emotions in
/// [`crate::emotion::Emotions::decay`]). `base_rate` is normally [`HEAL_BASE_RATE`].
pub fn heal(trauma: &mut Trauma, support: f32, neuroticism: f32, base_rate: f32) -> Option<Healed> {
    if !trauma.is_active() {
        return None;
    }
    let rate =
        base_rate * (1.0 + 4.0 * finite(support).clamp(0.0, 1.0)) * (1.0 - 0.5 * finite(neuroticism).clamp(0.0, 1.0));
    let keep = 1.0 - rate.clamp(0.0, 1.0);
    trauma.shift = Pad::default().add_scaled(trauma.shift, keep);
    trauma.severity *= keep;
    for t in &mut trauma.triggers {
        t.strength *= keep;
    }
    if trauma.shift.norm() < HEAL_EPSILON {
        let released = std::mem::take(&mut trauma.triggers);
        *trauma = Trauma::default();
        return Some(Healed { released });
    }
    trauma.triggers.retain(|t| t.strength >= TRIGGER_FLOOR);
    None
}

/// The mood baseline a character actually returns to: its personality's, offset by its trauma, clamped.
pub fn effective_baseline(personality_baseline: Pad, trauma: &Trauma) -> Pad {
    personality_baseline.add_scaled(trauma.shift, 1.0).clamped()
}

fn recency(tick: u64, now: u64) -> f32 {
    // RECENCY_DECAY^dt as exp(dt ln RECENCY_DECAY): same value, a cheaper call than powf.
    (now.saturating_sub(tick) as f32 * RECENCY_DECAY.ln()).exp()
}

/// NaN and infinities become 0 so that one bad input cannot poison a whole memory.
fn finite(x: f32) -> f32 {
    if x.is_finite() { x } else { 0.0 }
}

fn record_trigger(triggers: &mut Vec<Trigger>, new: Trigger) {
    if let Some(t) = triggers.iter_mut().find(|t| t.who == new.who && t.kind == new.kind) {
        t.strength = t.strength.max(new.strength);
        return;
    }
    if triggers.len() < TRIGGERS_MAX {
        triggers.push(new);
        return;
    }
    let mut weakest = 0;
    for (i, t) in triggers.iter().enumerate() {
        if t.strength < triggers[weakest].strength {
            weakest = i;
        }
    }
    if new.strength > triggers[weakest].strength {
        triggers.remove(weakest);
        triggers.push(new);
    }
}

fn memory_items<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<MemoryItem>, D::Error> {
    bounded(d, MEMORY_MAX, "memory items")
}

fn triggers<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Trigger>, D::Error> {
    bounded(d, TRIGGERS_MAX, "trauma triggers")
}

fn bounded<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D, max: usize, what: &str) -> Result<Vec<T>, D::Error> {
    let v = Vec::<T>::deserialize(d)?;
    if v.len() > max {
        return Err(serde::de::Error::custom(format!("{} {what}, at most {max} allowed", v.len())));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOB: CharacterId = CharacterId(2);
    const EVE: CharacterId = CharacterId(5);

    fn item(tick: u64, other: CharacterId, kind: MemoryKind, valence: f32, intensity: f32) -> MemoryItem {
        MemoryItem { tick, other, kind, valence, intensity }
    }

    fn chat(tick: u64, other: CharacterId, valence: f32, intensity: f32) -> MemoryItem {
        item(tick, other, MemoryKind::Interaction(Action::Chat), valence, intensity)
    }

    /// Ticks until `heal` reports the trauma healed, or `None` within `limit`.
    fn ticks_to_heal(mut t: Trauma, support: f32, n: f32, limit: u32) -> Option<u32> {
        (1..=limit).find(|_| heal(&mut t, support, n, HEAL_BASE_RATE).is_some())
    }

    /// Ticks predicted by the model: the smallest k with `|shift| (1 - rate)^k < HEAL_EPSILON`.
    fn predicted_ticks(shift: f32, support: f32, n: f32) -> u32 {
        let rate = HEAL_BASE_RATE * (1.0 + 4.0 * support) * (1.0 - 0.5 * n.max(0.0));
        ((HEAL_EPSILON / shift).ln() / (1.0 - rate).ln()).ceil() as u32
    }

    fn betrayed_by(who: CharacterId) -> Trauma {
        let mut t = Trauma::default();
        traumatize(&mut t, 1.0, -1.0, Some(who), MemoryKind::Betrayed, TRAUMA_THRESHOLD).unwrap();
        t
    }

    #[test]
    fn the_most_salient_memories_survive_when_memory_is_full() {
        let mut m = Memory::default();
        for i in 0..MEMORY_MAX as u64 {
            assert!(m.remember(chat(i, CharacterId(10 + i as u32), 0.1, 0.1), i));
        }
        let now = 100;
        // A faint new memory does not push out an equally faint but older one if it is not more salient...
        assert!(!m.remember(chat(0, EVE, 0.1, 0.05), now));
        // ...but a vivid one evicts the least salient: the oldest of the equally faint ones.
        assert!(m.remember(item(now, BOB, MemoryKind::Betrayed, -1.0, 1.0), now));
        assert_eq!(m.len(), MEMORY_MAX);
        assert!(m.iter().all(|x| x.other != CharacterId(10)), "the oldest faint memory was evicted");
        assert!(m.iter().any(|x| x.kind == MemoryKind::Betrayed));
    }

    #[test]
    fn recall_weighs_recent_intense_memories_more() {
        // Equal and opposite valences: the plain mean is 0, so the sign shows which memory weighs more.
        let recall = |a: MemoryItem, b: MemoryItem| {
            let mut m = Memory::default();
            m.remember(a, 400);
            m.remember(b, 400);
            m.recall(BOB, 400)
        };
        let recent_bad = recall(chat(0, BOB, 0.8, 0.5), item(400, BOB, MemoryKind::Threatened, -0.8, 0.5));
        assert!(recent_bad.valence < 0.0, "recency: {recent_bad:?}");
        let intense_good = recall(chat(400, BOB, 0.8, 0.9), item(400, BOB, MemoryKind::Threatened, -0.8, 0.2));
        assert!(intense_good.valence > 0.0, "importance: {intense_good:?}");
        let both = recall(chat(0, BOB, 0.8, 0.2), item(400, BOB, MemoryKind::Threatened, -0.8, 0.9));
        assert!(both.valence < recent_bad.valence, "recent and intense: {both:?}");
        assert_eq!(both.count, 2);
        assert!(both.threat > 0.99);
        // The same memories long ago make a fainter recollection; nobody else is remembered.
        let mut m = Memory::default();
        m.remember(item(400, BOB, MemoryKind::Threatened, -0.8, 0.9), 400);
        assert!(m.recall(BOB, 2000).weight < m.recall(BOB, 400).weight);
        assert_eq!(m.recall(EVE, 400), Recall::default());
    }

    #[test]
    fn meeting_someone_again_retriggers_weakened_emotions_of_the_right_sign() {
        let mut m = Memory::default();
        m.remember(item(0, BOB, MemoryKind::Comforted, 0.9, 0.9), 0);
        m.remember(item(0, EVE, MemoryKind::Threatened, -0.9, 0.9), 0);
        let good = retrigger(m.recall(BOB, 1));
        let bad = retrigger(m.recall(EVE, 1));
        assert!(good.iter().all(|(k, _)| !k.is_negative()) && !good.is_empty());
        assert!(bad.iter().any(|&(k, _)| k == EmotionKind::Fear));
        assert!(bad.iter().chain(&good).all(|&(_, v)| v <= RETRIGGER_GAIN), "weaker than the originals");
        assert!(retrigger(Recall::default()).is_empty());
    }

    #[test]
    fn a_trauma_lowers_the_effective_baseline_pleasure() {
        let base = Pad::new(0.3, 0.0, 0.1);
        let t = betrayed_by(BOB);
        let eff = effective_baseline(base, &t);
        assert!((eff.p - (base.p - TRAUMA_SHIFT_P)).abs() < 1e-6, "{eff:?}");
        assert!(eff.a > base.a && eff.d < base.d);
        assert_eq!(effective_baseline(base, &Trauma::default()), base);
    }

    #[test]
    fn weak_events_do_not_traumatize() {
        let mut t = Trauma::default();
        assert_eq!(traumatize(&mut t, 0.7, -1.0, Some(BOB), MemoryKind::Threatened, TRAUMA_THRESHOLD), None);
        assert_eq!(traumatize(&mut t, 1.0, -0.5, Some(BOB), MemoryKind::Threatened, TRAUMA_THRESHOLD), None);
        assert_eq!(traumatize(&mut t, 1.0, 1.0, Some(BOB), MemoryKind::Threatened, TRAUMA_THRESHOLD), None);
        assert_eq!(t, Trauma::default());
    }

    #[test]
    fn repeated_traumas_accumulate_up_to_the_cap() {
        let mut t = Trauma::default();
        for i in 0..20 {
            traumatize(&mut t, 1.0, -1.0, Some(CharacterId(i)), MemoryKind::Threatened, TRAUMA_THRESHOLD);
        }
        assert!((t.shift.norm() - TRAUMA_SHIFT_MAX).abs() < 1e-5);
        assert_eq!(t.triggers.len(), TRIGGERS_MAX);
        assert!(t.severity > 0.99);
    }

    #[test]
    fn triggers_fire_for_the_person_and_more_weakly_for_the_kind() {
        let t = betrayed_by(BOB);
        let chat = MemoryKind::Interaction(Action::Chat);
        assert_eq!(triggered(&t, Some(BOB), chat), Some(1.0));
        assert_eq!(triggered(&t, Some(EVE), MemoryKind::Betrayed), Some(TRIGGER_GENERALIZATION));
        assert_eq!(triggered(&t, Some(EVE), chat), None);
    }

    #[test]
    fn support_heals_in_fewer_ticks_than_alone() {
        let t = betrayed_by(BOB);
        let s0 = t.shift.norm();
        let alone = ticks_to_heal(t.clone(), 0.0, 0.0, 100_000).unwrap();
        let supported = ticks_to_heal(t.clone(), 1.0, 0.0, 100_000).unwrap();
        assert!(alone.abs_diff(predicted_ticks(s0, 0.0, 0.0)) <= 1, "alone: {alone}");
        assert!(supported.abs_diff(predicted_ticks(s0, 1.0, 0.0)) <= 1, "supported: {supported}");
        assert_eq!((alone, supported), (1598, 319), "five-fold faster with full support");
    }

    #[test]
    fn neurotic_characters_heal_more_slowly() {
        let t = betrayed_by(BOB);
        let stable = ticks_to_heal(t.clone(), 0.3, -0.5, 100_000).unwrap();
        let neurotic = ticks_to_heal(t.clone(), 0.3, 1.0, 100_000).unwrap();
        assert_eq!((stable, neurotic), (726, 1453), "half the rate at N = 1");
    }

    #[test]
    fn healing_reports_once_and_releases_the_triggers() {
        let mut t = betrayed_by(BOB);
        let healed = (0..100_000).find_map(|_| heal(&mut t, 1.0, 0.0, HEAL_BASE_RATE)).unwrap();
        assert_eq!(healed.released.len(), 1);
        assert_eq!(healed.released[0].who, Some(BOB));
        assert_eq!(t, Trauma::default());
        assert_eq!(triggered(&t, Some(BOB), MemoryKind::Betrayed), None);
        assert_eq!(heal(&mut t, 1.0, 0.0, HEAL_BASE_RATE), None);
    }

    #[test]
    fn snapshots_reject_oversized_memories() {
        let items = vec![chat(0, BOB, 0.0, 0.0); MEMORY_MAX + 1];
        let json = serde_json::json!({ "items": items });
        assert!(serde_json::from_value::<Memory>(json).is_err());
        let mut m = Memory::default();
        m.remember(item(3, BOB, MemoryKind::Interaction(Action::Insult), -0.5, 0.4), 3);
        let back: Memory = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
        assert_eq!(back, m);
    }

    fn any_item() -> impl proptest::strategy::Strategy<Value = MemoryItem> {
        use proptest::prelude::*;
        (0u64..500, 0u32..6, 0usize..9, -1.0f32..=1.0, 0.0f32..=1.0).prop_map(|(tick, other, k, valence, intensity)| {
            let kinds = [
                MemoryKind::Interaction(Action::Chat),
                MemoryKind::Interaction(Action::Insult),
                MemoryKind::Betrayed,
                MemoryKind::Betrayer,
                MemoryKind::Confided,
                MemoryKind::SecretRevealed,
                MemoryKind::Comforted,
                MemoryKind::Threatened,
                MemoryKind::Rumor,
            ];
            item(tick, CharacterId(other), kinds[k], valence, intensity)
        })
    }

    proptest::proptest! {
        #[test]
        fn memory_never_exceeds_its_limit_and_keeps_the_most_salient(items in proptest::collection::vec(any_item(), 0..120)) {
            let mut m = Memory::default();
            let now = 500;
            for it in &items {
                m.remember(*it, now);
                proptest::prop_assert!(m.len() <= MEMORY_MAX);
            }
            proptest::prop_assert_eq!(m.len(), items.len().min(MEMORY_MAX));
            // Anything dropped is no more salient than anything kept (all scored at the same `now`).
            let kept_min = m.iter().map(|x| salience(x, now, None)).fold(f32::INFINITY, f32::min);
            for it in &items {
                if !m.iter().any(|x| x == it) {
                    proptest::prop_assert!(salience(it, now, None) <= kept_min + 1e-6);
                }
            }
        }

        #[test]
        fn recall_stays_in_range(items in proptest::collection::vec(any_item(), 0..40), who in 0u32..6) {
            let mut m = Memory::default();
            for it in &items {
                m.remember(*it, 500);
            }
            let r = m.recall(CharacterId(who), 500);
            proptest::prop_assert!((-1.0..=1.0).contains(&r.valence) && (0.0..=1.0).contains(&r.weight));
            proptest::prop_assert!((0.0..=1.0).contains(&r.threat));
            for (_, v) in retrigger(r) {
                proptest::prop_assert!((INTENSITY_FLOOR..=RETRIGGER_GAIN).contains(&v));
            }
        }

        #[test]
        fn trauma_shift_stays_bounded_and_healing_only_shrinks_it(
            events in proptest::collection::vec((0.0f32..=1.0, -1.0f32..=1.0, 0u32..12), 0..30),
            support in 0.0f32..=1.0,
            n in -1.0f32..=1.0,
        ) {
            let mut t = Trauma::default();
            for (i, v, who) in events {
                let before = t.shift.norm();
                let added = traumatize(&mut t, i, v, Some(CharacterId(who)), MemoryKind::Threatened, TRAUMA_THRESHOLD);
                proptest::prop_assert!(added.is_none() || t.shift.norm() >= before - 1e-6);
                proptest::prop_assert!(t.shift.norm() <= TRAUMA_SHIFT_MAX + 1e-5 && t.triggers.len() <= TRIGGERS_MAX);
                proptest::prop_assert!(t.shift.p <= 0.0 && t.shift.a >= 0.0 && t.shift.d <= 0.0);
            }
            for _ in 0..50 {
                let before = t.shift.norm();
                heal(&mut t, support, n, HEAL_BASE_RATE);
                proptest::prop_assert!(t.shift.norm() <= before);
            }
        }
    }
}
