//! The limits a schedule applies, as the campaign and the command set them.

use super::{Pace, Window};

/// The limits a schedule applies.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    /// The account's pace; `None`: none (`Pacer::new` always sets one).
    pub global: Option<Pace>,
    /// Each recipient domain's pace; `None`: only the global pace.
    pub per_domain: Option<Pace>,
    /// The sending window, in each letter's zone; `None`: any time.
    pub window: Option<Window>,
    /// Whether a letter held by its window is waited for (`send --wait`,
    /// the estimate). Otherwise such letters are left while any other
    /// letter can go, and then reported ([`Hold::Window`]).
    pub wait_for_window: bool,
}
