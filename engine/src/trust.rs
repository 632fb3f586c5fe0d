//! Trust, betrayal and repair.
//!
//! Trust moves asymmetrically (Slovic 1993: negative events weigh more than positive ones; see
//! [`crate::bonds::update_trust`]). On top of that, a **betrayal** — a harmful act by someone the
//! victim trusted (trust > [`BETRAYAL_TRUST`]), harm to an ally, or revealing a confided secret —
//! costs `(trust + 1) b severity`, leaves a grudge that decays slowly, and remembers the trust it
//! destroyed. **Repair** (apology, amends) restores `r (peak - trust)` per act with `r << a_pos`,
//! capped below the pre-betrayal peak, and every further betrayal lowers that cap: trust can be
//! rebuilt, never fully, and memory of the betrayal stays.

use serde::{Deserialize, Serialize};

use crate::bonds::Bond;

/// Trust above which a harmful act counts as a betrayal.
pub const BETRAYAL_TRUST: f32 = 0.4;
/// Betrayal cost factor `b`.
pub const BETRAYAL_COST: f32 = 0.6;
/// Repair rate `r` per apology (much smaller than a favour's trust gain factor on its own scale).
pub const REPAIR_RATE: f32 = 0.12;
/// How far below the pre-betrayal peak each betrayal lowers the repair cap.
pub const CAP_DROP_PER_BETRAYAL: f32 = 0.15;
/// Grudge decay per tick (a grudge halves in about 350 ticks).
pub const GRUDGE_DECAY: f32 = 0.002;
/// Grudge below which a betrayal counts as forgiven.
pub const FORGIVEN_GRUDGE: f32 = 0.1;

/// The short history of a directed relationship: what trust and harm have done to it.
///
/// Lives beside the bond in the graph index (written through `SocialGraph::set_edge`) and in the
/// relationship entity's `BondHistory` component after a sync.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EdgeHistory {
    /// Times the target betrayed the source.
    pub betrayals: u8,
    /// Source's trust in the target just before the last betrayal.
    pub trust_peak: f32,
    /// Resentment for betrayals, in [0, 1]; decays slowly, lowered by apologies.
    pub grudge: f32,
    /// Source's guilt toward the target (harm it did), in [0, 1]: what moves it to apologise.
    pub guilt: f32,
    /// The source knows a secret the target confided.
    pub knows_secret: bool,
    /// Source and target have sworn an alliance.
    pub allied: bool,
    /// Source has confided a secret to the target.
    pub confided: bool,
    /// Source has declared its love to the target.
    pub declared: bool,
    /// Last tick the two interacted (0 = never).
    pub last_tick: u64,
}

/// Why a harmful act counts as a betrayal, if it does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BetrayalKind {
    /// Harm by someone the victim trusted.
    BrokenTrust,
    /// Harm to a sworn ally.
    BrokenAlliance,
    /// A confided secret revealed.
    SecretRevealed,
}

/// Whether a harmful act against `victim_view` (the victim's bond and history toward the actor) is
/// a betrayal. `secret` is true when the act reveals a confidence.
pub fn detect_betrayal(victim_bond: &Bond, victim_hist: &EdgeHistory, secret: bool) -> Option<BetrayalKind> {
    if secret {
        Some(BetrayalKind::SecretRevealed)
    } else if victim_hist.allied {
        Some(BetrayalKind::BrokenAlliance)
    } else if victim_bond.trust > BETRAYAL_TRUST {
        Some(BetrayalKind::BrokenTrust)
    } else {
        None
    }
}

/// Applies a betrayal of `severity` in [0, 1] to the victim's bond and history:
/// `trust -= (trust + 1) b severity`, the peak and the betrayal are remembered, the grudge grows
/// and any alliance is broken.
pub fn betray(bond: &mut Bond, hist: &mut EdgeHistory, severity: f32) {
    let before = bond.trust;
    if hist.betrayals == 0 {
        hist.trust_peak = before;
    }
    bond.trust = (bond.trust - (bond.trust + 1.0) * BETRAYAL_COST * severity).clamp(-1.0, 1.0);
    bond.affinity = (bond.affinity - 0.5 * severity * (1.0 + bond.affinity)).clamp(-1.0, 1.0);
    hist.betrayals = hist.betrayals.saturating_add(1);
    hist.grudge = (hist.grudge + severity * (1.0 - hist.grudge)).min(1.0);
    hist.allied = false;
}

/// The most trust repair can restore after the betrayals recorded in `hist`.
pub fn repair_cap(hist: &EdgeHistory) -> f32 {
    hist.trust_peak - CAP_DROP_PER_BETRAYAL * hist.betrayals as f32
}

/// Applies an apology or amends of `sincerity` in [0, 1]: `trust += r sincerity (peak - trust)`,
/// never above the cap; the grudge falls. Returns true when the grudge drops below
/// [`FORGIVEN_GRUDGE`] with this act (forgiveness).
pub fn repair(bond: &mut Bond, hist: &mut EdgeHistory, sincerity: f32) -> bool {
    let was_resentful = hist.grudge >= FORGIVEN_GRUDGE;
    if hist.betrayals > 0 {
        let cap = repair_cap(hist);
        if bond.trust < cap {
            bond.trust = (bond.trust + REPAIR_RATE * sincerity * (hist.trust_peak - bond.trust)).min(cap);
        }
    } else {
        bond.trust = (bond.trust + 0.5 * REPAIR_RATE * sincerity * (1.0 - bond.trust)).min(1.0);
    }
    hist.grudge *= 1.0 - 0.3 * sincerity;
    was_resentful && hist.grudge < FORGIVEN_GRUDGE
}

/// One tick of grudge and guilt fading.
pub fn fade(hist: &mut EdgeHistory) {
    hist.grudge *= 1.0 - GRUDGE_DECAY;
    hist.guilt *= 1.0 - 2.0 * GRUDGE_DECAY;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bonds::update_trust;

    #[test]
    fn one_betrayal_outweighs_one_favour_of_equal_size() {
        let start = Bond { trust: 0.5, ..Default::default() };
        let favour = update_trust(start.trust, 0.6, 0.04, 0.12) - start.trust;
        let (mut b, mut h) = (start, EdgeHistory::default());
        betray(&mut b, &mut h, 0.6);
        assert!(start.trust - b.trust > 5.0 * favour, "lost {} vs gained {favour}", start.trust - b.trust);
    }

    #[test]
    fn repair_is_slower_than_breakage_and_never_complete() {
        let (mut b, mut h) = (Bond { trust: 0.7, ..Default::default() }, EdgeHistory::default());
        betray(&mut b, &mut h, 0.8);
        let low = b.trust;
        let mut apologies = 0;
        while b.trust < repair_cap(&h) - 1e-3 && apologies < 1000 {
            repair(&mut b, &mut h, 1.0);
            apologies += 1;
        }
        assert!(apologies > 10, "repaired in {apologies} apologies");
        assert!(b.trust < 0.7 && b.trust > low);
        assert!(h.betrayals == 1);
    }

    #[test]
    fn repeated_betrayal_lowers_the_cap() {
        let (mut b, mut h) = (Bond { trust: 0.8, ..Default::default() }, EdgeHistory::default());
        betray(&mut b, &mut h, 0.5);
        let cap1 = repair_cap(&h);
        for _ in 0..200 {
            repair(&mut b, &mut h, 1.0);
        }
        betray(&mut b, &mut h, 0.5);
        assert!(repair_cap(&h) < cap1);
    }

    #[test]
    fn only_trusted_harm_is_betrayal() {
        let h = EdgeHistory::default();
        assert_eq!(detect_betrayal(&Bond { trust: 0.1, ..Default::default() }, &h, false), None);
        assert_eq!(
            detect_betrayal(&Bond { trust: 0.6, ..Default::default() }, &h, false),
            Some(BetrayalKind::BrokenTrust)
        );
        assert_eq!(detect_betrayal(&Bond::default(), &h, true), Some(BetrayalKind::SecretRevealed));
    }

    #[test]
    fn apologies_bring_forgiveness() {
        let (mut b, mut h) = (Bond { trust: 0.6, ..Default::default() }, EdgeHistory::default());
        betray(&mut b, &mut h, 0.7);
        let forgiven = (0..50).any(|_| repair(&mut b, &mut h, 0.8));
        assert!(forgiven);
    }
}
