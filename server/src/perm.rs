//! The permission matrix: what each session role may do. Every REST route and WebSocket message
//! asks [`allowed`] before it acts; tests/server_perms.rs walks the whole matrix.

use aion_engine::command::Command;
use aion_engine::user::Role;

/// Something a user may try in a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Act {
    /// Watch: the observatory stream and every REST read.
    View,
    /// Write in the session chat.
    Chat,
    /// Take over, steer and let go of a character (`possess` for oneself, `act`, `release`).
    Play,
    /// Any other engine command (inject, set mood/bond/genre, spawn, ...).
    Direct,
    /// Pause, resume, step, change the tick rate, save a snapshot.
    Control,
    /// Fork the session into a new one.
    Fork,
    /// Invite someone with the given role.
    Invite(Role),
    /// Change members' roles or remove members.
    ManageMembers,
    /// Delete the session.
    Delete,
}

/// Whether `role` may do `act`.
pub fn allowed(role: Role, act: Act) -> bool {
    use Role::*;
    match act {
        Act::View | Act::Chat => true,
        Act::Play => role >= Player,
        Act::Direct | Act::Control | Act::Fork => role >= Director,
        // A director invites players and observers; only the owner makes directors or owners.
        Act::Invite(r) => role == Owner || (role == Director && r <= Player),
        Act::ManageMembers | Act::Delete => role == Owner,
    }
}

/// What a command needs: playing commands are open to players (the session thread then checks
/// that the character is theirs), everything else needs a director.
pub fn needs(command: &Command) -> Act {
    match command {
        Command::Possess { .. } | Command::Release { .. } | Command::Act { .. } => Act::Play,
        _ => Act::Direct,
    }
}

/// Parses a role name.
pub fn parse_role(s: &str) -> Option<Role> {
    Some(match s {
        "owner" => Role::Owner,
        "director" => Role::Director,
        "player" => Role::Player,
        "observer" => Role::Observer,
        _ => return None,
    })
}

/// A role's name.
pub fn role_name(r: Role) -> &'static str {
    match r {
        Role::Owner => "owner",
        Role::Director => "director",
        Role::Player => "player",
        Role::Observer => "observer",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_matrix_grows_with_the_role() {
        let acts = [
            Act::View,
            Act::Chat,
            Act::Play,
            Act::Direct,
            Act::Control,
            Act::Fork,
            Act::Invite(Role::Observer),
            Act::Invite(Role::Director),
            Act::ManageMembers,
            Act::Delete,
        ];
        let expect = |r: Role| -> Vec<bool> {
            match r {
                Role::Observer => vec![true, true, false, false, false, false, false, false, false, false],
                Role::Player => vec![true, true, true, false, false, false, false, false, false, false],
                Role::Director => vec![true, true, true, true, true, true, true, false, false, false],
                Role::Owner => vec![true; 10],
            }
        };
        for r in [Role::Observer, Role::Player, Role::Director, Role::Owner] {
            let got: Vec<bool> = acts.iter().map(|a| allowed(r, *a)).collect();
            assert_eq!(got, expect(r), "{r:?}");
            assert_eq!(parse_role(role_name(r)), Some(r));
        }
    }
}
