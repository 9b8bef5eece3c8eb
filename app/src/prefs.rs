//! Preferences kept between runs with eframe's persistence: the theme and the
//! open view. eframe itself keeps the window size and egui the panel widths,
//! all in one file in the XDG data dir (see [`storage_file`]).

use serde::{Deserialize, Serialize};

/// The colour theme.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Theme {
    /// Follow the desktop's light or dark setting.
    #[default]
    System,
    Light,
    Dark,
}

impl Theme {
    pub const ALL: [Theme; 3] = [Theme::System, Theme::Light, Theme::Dark];

    pub fn label(self) -> &'static str {
        match self {
            Theme::System => "Follow the system",
            Theme::Light => "Light",
            Theme::Dark => "Dark",
        }
    }

    pub fn preference(self) -> eframe::egui::ThemePreference {
        match self {
            Theme::System => eframe::egui::ThemePreference::System,
            Theme::Light => eframe::egui::ThemePreference::Light,
            Theme::Dark => eframe::egui::ThemePreference::Dark,
        }
    }
}

/// What the central area shows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum View {
    /// The document (and the image view).
    #[default]
    Editor,
    /// The live view of the board's machinery.
    Inspector,
}

/// Everything this app keeps between runs, beside what eframe and egui keep.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Prefs {
    pub theme: Theme,
    pub view: View,
}

/// The file eframe keeps the window's state in:
/// `$XDG_DATA_HOME/shm-clip/window.ron` (usually `~/.local/share/...`).
pub fn storage_file() -> Option<std::path::PathBuf> {
    directories::ProjectDirs::from("", "", "shm-clip")
        .map(|dirs| dirs.data_dir().join("window.ron"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_follows_xdg_data_home() {
        // Read-only check of the rule, without touching the environment of
        // other tests: directories resolves XDG_DATA_HOME or ~/.local/share.
        let file = storage_file().expect("a home directory");
        assert!(file.ends_with("shm-clip/window.ron"), "{}", file.display());
        if let Some(data) = std::env::var_os("XDG_DATA_HOME").filter(|d| !d.is_empty()) {
            assert!(file.starts_with(data));
        }
    }

    #[test]
    fn prefs_round_trip_and_tolerate_old_files() {
        let prefs = Prefs {
            theme: Theme::Dark,
            view: View::Inspector,
        };
        let text = serde_json::to_string(&prefs).unwrap();
        assert_eq!(serde_json::from_str::<Prefs>(&text).unwrap(), prefs);
        assert_eq!(
            serde_json::from_str::<Prefs>("{}").unwrap(),
            Prefs::default()
        );
    }
}
