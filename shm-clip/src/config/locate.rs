//! Where in the text of `config.toml` an error is: its line and dotted key.

/// (the `[table]` above it plus the key before `=` on that line).
pub(super) fn locate(text: &str, at: usize) -> (Option<usize>, Option<String>) {
    let at = at.min(text.len());
    let line_no = text[..at].matches('\n').count();
    let mut table = String::new();
    let mut key = None;
    for (i, line) in text.lines().enumerate().take(line_no + 1) {
        let trimmed = line.trim();
        if let Some(header) = trimmed.strip_prefix('[') {
            header
                .trim_start_matches('[')
                .split(']')
                .next()
                .unwrap_or("")
                .trim()
                .clone_into(&mut table);
            if i == line_no {
                key = Some(table.clone());
            }
        } else if i == line_no
            && let Some((name, _)) = trimmed.split_once('=')
        {
            let name = name.trim().trim_matches('"');
            key = Some(if table.is_empty() {
                name.to_owned()
            } else {
                format!("{table}.{name}")
            });
        }
    }
    (Some(line_no + 1), key.filter(|k| !k.is_empty()))
}

/// The 1-based line where dotted `key` is set, if it is set in `text`.
pub(super) fn find_key(text: &str, key: &str) -> Option<usize> {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if line.contains('=')
            && let (_, Some(found)) = locate(text, offset)
            && found == key
        {
            return Some(text[..offset].matches('\n').count() + 1);
        }
        offset += line.len();
    }
    None
}
