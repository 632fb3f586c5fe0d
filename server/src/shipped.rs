//! Scenarios and story patterns built into the binary, so `aion serve` works from any directory
//! with nothing but the executable.

/// Shipped scenarios: (name, TOML text).
pub const SCENARIOS: &[(&str, &str)] = &[
    ("harbor_town", include_str!("../../scenarios/harbor_town.toml")),
    ("summer_wedding", include_str!("../../scenarios/summer_wedding.toml")),
    ("manor_mystery", include_str!("../../scenarios/manor_mystery.toml")),
    ("village_500", include_str!("../../scenarios/village_500.toml")),
    ("market_town_1000", include_str!("../../scenarios/market_town_1000.toml")),
];

/// Shipped story patterns: (file name, text).
pub const PATTERNS: &[(&str, &str)] = &[
    ("alliance.toml", include_str!("../../scenarios/patterns/alliance.toml")),
    ("betrayal.toml", include_str!("../../scenarios/patterns/betrayal.toml")),
    ("feud.toml", include_str!("../../scenarios/patterns/feud.toml")),
    ("friendship.toml", include_str!("../../scenarios/patterns/friendship.toml")),
    ("heartbreak.toml", include_str!("../../scenarios/patterns/heartbreak.toml")),
    ("love_triangle.toml", include_str!("../../scenarios/patterns/love_triangle.toml")),
    ("mystery.toml", include_str!("../../scenarios/patterns/mystery.toml")),
    ("quest.toml", include_str!("../../scenarios/patterns/quest.toml")),
    ("reconciliation.toml", include_str!("../../scenarios/patterns/reconciliation.toml")),
    ("redemption.toml", include_str!("../../scenarios/patterns/redemption.toml")),
    ("rivalry.toml", include_str!("../../scenarios/patterns/rivalry.toml")),
    ("romance.toml", include_str!("../../scenarios/patterns/romance.toml")),
    ("trauma.toml", include_str!("../../scenarios/patterns/trauma.toml")),
];

/// A shipped scenario's text by name.
pub fn scenario(name: &str) -> Option<&'static str> {
    SCENARIOS.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

/// The shipped story patterns, parsed.
pub fn patterns() -> Result<Vec<aion_engine::plot::Pattern>, aion_engine::plot::LoadError> {
    PATTERNS.iter().map(|(file, text)| aion_engine::plot::parse(text, file)).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_shipped_scenario_and_pattern_parses() {
        for (name, text) in super::SCENARIOS {
            aion_engine::scenario::parse(text, name).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        assert_eq!(super::patterns().unwrap().len(), super::PATTERNS.len());
    }

    #[test]
    fn every_pattern_file_on_disk_is_shipped() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/patterns");
        for e in std::fs::read_dir(dir).unwrap() {
            let name = e.unwrap().file_name().into_string().unwrap();
            if name.ends_with(".toml") {
                assert!(super::PATTERNS.iter().any(|(n, _)| *n == name), "{name} is not in PATTERNS");
            }
        }
    }
}
