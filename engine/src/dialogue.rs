//! Short dialogue lines for interactions.
//!
//! An event stores only a compact [`Line`] (template and tone), so resolving thousands of interactions
//! a tick allocates no strings; [`render`] turns it into text when someone reads it (the CLI's event
//! log, the observatory). The text reflects the action, the speaker's mood and how the listener took it.

use serde::{Deserialize, Serialize};

use crate::autonomy::Action;
use crate::bonds::Standing;
use crate::mood::Pad;
use crate::scenario::Genre;

/// A dialogue line in compact form: which template and which tone.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line {
    /// Template index within the action's list (taken modulo its length).
    pub template: u8,
    /// Speaker's tone at the time.
    pub tone: Tone,
    /// How the speaker stands toward the listener.
    pub rapport: Standing,
    /// The world's genre when it was said (colours small talk).
    pub genre: Genre,
}

/// The speaker's tone, from its mood.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tone {
    /// Pleasant and energetic.
    Cheerful,
    /// Pleasant and calm.
    #[default]
    Warm,
    /// Unpleasant and aroused.
    Tense,
    /// Unpleasant and low.
    Gloomy,
}

impl Tone {
    /// The tone a mood speaks in.
    pub fn of(mood: Pad) -> Self {
        match (mood.p >= 0.0, mood.a >= 0.0) {
            (true, true) => Self::Cheerful,
            (true, false) => Self::Warm,
            (false, true) => Self::Tense,
            (false, false) => Self::Gloomy,
        }
    }

    fn manner(self) -> &'static str {
        match self {
            Self::Cheerful => "brightly",
            Self::Warm => "softly",
            Self::Tense => "sharply",
            Self::Gloomy => "quietly",
        }
    }
}

/// Number of templates per action.
pub const TEMPLATES_PER_ACTION: u8 = 4;

fn template(action: Action, genre: Genre, i: u8) -> &'static str {
    let list: [&str; TEMPLATES_PER_ACTION as usize] = match (action, genre) {
        (Action::Chat, Genre::Romance) => [
            "Do you believe in love at first sight, {b}?",
            "The evening feels different with you here, {b}.",
            "Who are you dancing with tonight, {b}?",
            "Tell me something nobody knows about you, {b}.",
        ],
        (Action::Chat, Genre::Mystery) => [
            "Where were you last night, {b}?",
            "Did you notice the study door was open, {b}?",
            "Something is off in this house, {b}. Don't you feel it?",
            "Keep your voice down, {b}. The walls listen.",
        ],
        (Action::Chat, Genre::Adventure) => [
            "The road ahead looks rough, {b}. Are you ready?",
            "I heard the pass is closed, {b}.",
            "We'll need supplies before dawn, {b}.",
            "Ever wonder what lies past the ridge, {b}?",
        ],
        (action, _) => return base_template(action, i),
    };
    list[(i % TEMPLATES_PER_ACTION) as usize]
}

fn base_template(action: Action, i: u8) -> &'static str {
    let list: [&str; TEMPLATES_PER_ACTION as usize] = match action {
        Action::Chat => [
            "How have the days been treating you, {b}?",
            "Did you hear the news from the square, {b}?",
            "Sit with me a moment, {b}.",
            "I keep thinking about the weather, {b}. Strange, isn't it?",
        ],
        Action::Help => [
            "Let me carry that for you, {b}.",
            "I can fix that, {b}. Give me an hour.",
            "You don't have to do this alone, {b}.",
            "Here, {b}, take what you need.",
        ],
        Action::Compliment => [
            "You handled that beautifully, {b}.",
            "I wish I had your nerve, {b}.",
            "Everyone says you're the best at this, {b}, and they're right.",
            "That was kind of you, {b}.",
        ],
        Action::Insult => [
            "You're a fool, {b}, and everyone knows it.",
            "Nobody asked for your opinion, {b}.",
            "Stay out of my way, {b}.",
            "I've seen mules with better judgement, {b}.",
        ],
        Action::Confide => [
            "Can I tell you something, {b}? I'm scared.",
            "I've never told anyone this, {b}...",
            "Between us, {b}: I don't know what I'm doing.",
            "I trust you, {b}. There's something you should know.",
        ],
        Action::Gossip => [
            "Have you heard what people say about {c}, {b}?",
            "Between you and me, {b}, {c} is not what they seem.",
            "{b}, you should know something about {c}.",
            "Don't repeat this, {b}, but {c}...",
        ],
        Action::Apologize => [
            "I was wrong, {b}. I'm sorry.",
            "{b}, I owe you an apology.",
            "I've thought about what I did, {b}. Forgive me?",
            "I can't undo it, {b}, but I want to make it right.",
        ],
        Action::Betray => [
            "Everyone should know what {b} told me in confidence.",
            "I'm done covering for you, {b}.",
            "You trusted the wrong person, {b}.",
            "It's every one for themselves now, {b}.",
        ],
        Action::Ally => [
            "Stand with me, {b}, and I'll stand with you.",
            "We're stronger together, {b}.",
            "Whatever comes, {b}, you can count on me.",
            "Let's make it official, {b}: allies.",
        ],
        Action::Mediate => [
            "{b}, {c} isn't your enemy. Talk to them.",
            "This feud with {c} hurts everyone, {b}.",
            "Let me help you and {c} settle this, {b}.",
            "{b}, meet {c} halfway. For my sake.",
        ],
        Action::Threaten => [
            "Cross me again, {b}, and you'll regret it.",
            "Watch yourself, {b}.",
            "I know where you sleep, {b}.",
            "Last warning, {b}.",
        ],
        Action::Comfort => [
            "It's going to be all right, {b}.",
            "I'm here, {b}. Take your time.",
            "You're not alone in this, {b}.",
            "Come, {b}, sit. Tell me everything.",
        ],
        Action::Flirt => [
            "Has anyone told you your eyes are trouble, {b}?",
            "Walk with me tonight, {b}?",
            "I keep finding reasons to be near you, {b}.",
            "You're distracting, {b}. I like it.",
        ],
        Action::Confess => [
            "{b}, I love you. I have for a long time.",
            "I can't pretend anymore, {b}. It's you.",
            "Whatever you say next, {b}: I love you.",
            "{b}... I think I'm in love with you.",
        ],
        Action::Avoid | Action::Rest => ["...", "...", "...", "..."],
    };
    list[(i % TEMPLATES_PER_ACTION) as usize]
}

fn reaction(valence: f32) -> &'static str {
    match valence {
        v if v > 0.5 => "{b} beams.",
        v if v > 0.15 => "{b} smiles.",
        v if v > -0.15 => "{b} shrugs.",
        v if v > -0.5 => "{b} bristles.",
        _ => "{b} turns away, stung.",
    }
}

/// Renders a line: `Alice (brightly): "Let me carry that for you, Bob." Bob smiles.`
pub fn render(line: Line, action: Action, speaker: &str, listener: &str, valence: f32) -> String {
    render_about(line, action, speaker, listener, "them", valence)
}

/// Renders a line that mentions a third party (gossip subject, mediation's other side) as `{c}`.
pub fn render_about(line: Line, action: Action, speaker: &str, listener: &str, third: &str, valence: f32) -> String {
    let said = template(action, line.genre, line.template).replace("{b}", listener).replace("{c}", third);
    let react = reaction(valence).replace("{b}", listener);
    let to = match line.rapport {
        Standing::Friend => ", to a friend",
        Standing::Lover => ", to a beloved",
        Standing::Enemy => ", to an enemy",
        Standing::Neutral => "",
    };
    format!("{speaker} ({}{to}): \"{said}\" {react}", line.tone.manner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_name_both_people_and_reflect_the_reaction() {
        let l = Line {
            template: 1,
            tone: Tone::of(Pad::new(-0.5, 0.5, 0.0)),
            rapport: Standing::Enemy,
            genre: Genre::Drama,
        };
        let s = render(l, Action::Insult, "Mara", "Tomas", -0.7);
        assert!(s.starts_with("Mara (sharply, to an enemy): "), "{s}");
        assert!(s.contains("Tomas") && s.ends_with("stung."), "{s}");
    }

    #[test]
    fn small_talk_follows_the_genre() {
        let line = |genre| Line { template: 0, tone: Tone::Warm, rapport: Standing::Neutral, genre };
        let mystery = render(line(Genre::Mystery), Action::Chat, "A", "B", 0.2);
        let romance = render(line(Genre::Romance), Action::Chat, "A", "B", 0.2);
        assert_ne!(mystery, romance);
        assert!(mystery.contains("last night"), "{mystery}");
    }
}
