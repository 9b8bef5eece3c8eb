//! Key combinations as the config writes them (`Super+Shift+V`,
//! `Shift+Insert`): parsed into modifiers and one X keysym. The keyboard's
//! own mapping turns them into keycodes and modifier masks later
//! ([`super::keyboard`]); nothing here hard-codes a keycode.

/// The modifiers a combination holds.
#[expect(
    clippy::struct_excessive_bools,
    reason = "four independent modifier keys, as the X modifier mask has"
)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Mods {
    pub shift: bool,
    pub ctrl: bool,
    pub alt: bool,
    pub super_: bool,
}

/// A parsed key combination.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Combo {
    pub mods: Mods,
    /// The X keysym of the key (lowercase for letters).
    pub keysym: u32,
    /// As the user wrote it, for messages.
    pub text: String,
}

/// Keysyms of the modifier keys (X11 `keysymdef.h`).
pub mod keysym {
    pub const SHIFT_L: u32 = 0xffe1;
    pub const CONTROL_L: u32 = 0xffe3;
    pub const META_L: u32 = 0xffe7;
    pub const META_R: u32 = 0xffe8;
    pub const ALT_L: u32 = 0xffe9;
    pub const ALT_R: u32 = 0xffea;
    pub const SUPER_L: u32 = 0xffeb;
    pub const SUPER_R: u32 = 0xffec;
    pub const NUM_LOCK: u32 = 0xff7f;
}

/// Named keys beyond letters, digits and F-keys.
const NAMED: &[(&str, u32)] = &[
    ("insert", 0xff63),
    ("ins", 0xff63),
    ("return", 0xff0d),
    ("enter", 0xff0d),
    ("space", 0x20),
    ("tab", 0xff09),
    ("escape", 0xff1b),
    ("esc", 0xff1b),
    ("delete", 0xffff),
    ("home", 0xff50),
    ("end", 0xff57),
    ("pageup", 0xff55),
    ("page_up", 0xff55),
    ("pagedown", 0xff56),
    ("page_down", 0xff56),
    ("print", 0xff61),
    ("pause", 0xff13),
    ("grave", 0x60),
    ("`", 0x60),
    ("comma", 0x2c),
    (",", 0x2c),
    ("period", 0x2e),
    (".", 0x2e),
    ("slash", 0x2f),
    ("/", 0x2f),
    ("semicolon", 0x3b),
    (";", 0x3b),
    ("minus", 0x2d),
    ("-", 0x2d),
    ("equal", 0x3d),
    ("=", 0x3d),
    ("backslash", 0x5c),
    ("\\", 0x5c),
];

/// Parses `Mod+Mod+Key`: modifiers Ctrl (Control), Shift, Alt, Super (Meta,
/// Win, Mod4), in any order and case; the key a letter, a digit, F1-F24 or
/// a name such as Insert, Space, Print.
pub fn parse(text: &str) -> Result<Combo, String> {
    let parts: Vec<&str> = text.split('+').map(str::trim).collect();
    let Some((key, mods_text)) = parts.split_last() else {
        return Err("is empty".into());
    };
    let mut mods = Mods::default();
    for m in mods_text {
        match m.to_ascii_lowercase().as_str() {
            "ctrl" | "control" => mods.ctrl = true,
            "shift" => mods.shift = true,
            "alt" | "mod1" => mods.alt = true,
            "super" | "meta" | "win" | "logo" | "mod4" => mods.super_ = true,
            "" => return Err(format!("{text:?} has an empty part")),
            _ => {
                return Err(format!(
                    "{m:?} is not a modifier (use Ctrl, Shift, Alt or Super)"
                ));
            }
        }
    }
    let keysym = key_keysym(key).ok_or_else(|| {
        format!("{key:?} is not a key name (use a letter, a digit, F1-F24, or Insert, Space, Print, ...)")
    })?;
    Ok(Combo {
        mods,
        keysym,
        text: text.trim().to_owned(),
    })
}

fn key_keysym(key: &str) -> Option<u32> {
    let lower = key.to_ascii_lowercase();
    let mut chars = lower.chars();
    if let (Some(c), None) = (chars.next(), chars.next())
        && (c.is_ascii_lowercase() || c.is_ascii_digit())
    {
        return Some(u32::from(c));
    }
    if let Some(n) = lower.strip_prefix('f').and_then(|n| n.parse::<u32>().ok())
        && (1..=24).contains(&n)
    {
        return Some(0xffbe + n - 1);
    }
    NAMED
        .iter()
        .find(|(name, _)| *name == lower)
        .map(|(_, k)| *k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combos_parse_and_mistakes_are_named() {
        let c = parse("Super+Shift+V").unwrap();
        assert!(c.mods.super_ && c.mods.shift && !c.mods.ctrl && !c.mods.alt);
        assert_eq!(c.keysym, u32::from('v'));
        assert_eq!(parse("ctrl+alt+h").unwrap().keysym, u32::from('h'));
        assert_eq!(parse("Shift+Insert").unwrap().keysym, 0xff63);
        assert_eq!(parse("F12").unwrap().keysym, 0xffc9);
        assert!(parse("Ctrl+Shift+V").unwrap().mods.ctrl);
        assert!(parse("Hyper+V").unwrap_err().contains("\"Hyper\""));
        assert!(parse("Ctrl+Banana").unwrap_err().contains("\"Banana\""));
        assert!(parse("Ctrl++").is_err());
        assert!(parse("").is_err());
    }
}
