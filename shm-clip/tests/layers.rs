//! The library's layers are what ARCHITECTURE.md says, and the compiler's
//! view of them has no cycle: every `crate::` path in `shm-clip/src` (in
//! `use` lines and inline, resolving lib.rs's re-exports to the module that
//! defines the item) must be allowed by the "may use" column of the module
//! table, and the graph of those paths must be acyclic.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Item name → module, from lib.rs's `pub use module::{…}` lines.
fn reexports(lib: &str) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    for line in lib.lines() {
        let Some(rest) = line.trim().strip_prefix("pub use ") else {
            continue;
        };
        let Some((module, items)) = rest.trim_end_matches(';').split_once("::") else {
            continue;
        };
        for item in items.trim_matches(|c| c == '{' || c == '}').split(',') {
            let item = item.trim();
            if !item.is_empty() {
                map.insert(item.to_owned(), module.to_owned());
            }
        }
    }
    map
}

/// The first path segment of everything named after `crate::`.
fn crate_paths(text: &str) -> Vec<String> {
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + 7..];
        if let Some(group) = rest.strip_prefix('{') {
            let (mut depth, mut item, mut end) = (1, String::new(), group.len());
            for (k, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    _ => {}
                }
                if depth == 0 {
                    end = k;
                    break;
                }
                if c == ',' && depth == 1 {
                    out.push(ident(item.trim()));
                    item.clear();
                } else {
                    item.push(c);
                }
            }
            out.push(ident(item.trim()));
            rest = &group[end..];
        } else {
            out.push(ident(rest));
        }
    }
    out.retain(|s| !s.is_empty());
    out
}

/// Module → the modules its code names.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let lib = std::fs::read_to_string(src().join("lib.rs")).unwrap();
    let reexports = reexports(&lib);
    let mut files: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
    for entry in std::fs::read_dir(src()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            let inner = std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path());
            files.entry(name).or_default().extend(inner);
        } else if name != "lib" {
            files.entry(name).or_default().push(path);
        }
    }
    let modules: BTreeSet<String> = files.keys().cloned().collect();
    files
        .iter()
        .map(|(module, paths)| {
            let mut deps = BTreeSet::new();
            for path in paths {
                let text = std::fs::read_to_string(path).unwrap();
                let code: String = text
                    .lines()
                    .map(|l| l.split("//").next().unwrap_or(""))
                    .collect::<Vec<_>>()
                    .join("\n");
                for name in crate_paths(&code) {
                    let target = if modules.contains(&name) {
                        Some(name)
                    } else {
                        reexports.get(&name).cloned()
                    };
                    if let Some(t) = target.filter(|t| t != module) {
                        deps.insert(t);
                    }
                }
            }
            (module.clone(), deps)
        })
        .collect()
}

/// ARCHITECTURE.md's library table: module → what it may use. A row names
/// one module or several (`clip.rs`, `info.rs`, …), each in backticks.
fn allowed() -> BTreeMap<String, BTreeSet<String>> {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../ARCHITECTURE.md"))
            .unwrap();
    let ticked = |cell: &str| -> Vec<String> {
        cell.split('`')
            .skip(1)
            .step_by(2)
            .map(|m| m.trim_end_matches('/').trim_end_matches(".rs").to_owned())
            .collect()
    };
    let mut table = BTreeMap::new();
    let mut in_table = false;
    for line in doc.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if cells.len() >= 5 && cells[1] == "module" && cells[3] == "may use" {
            in_table = true;
            continue;
        }
        if in_table && !line.starts_with('|') {
            break;
        }
        if in_table && cells.len() >= 5 && !cells[1].starts_with("---") {
            let uses: BTreeSet<String> = ticked(cells[3]).into_iter().collect();
            for module in ticked(cells[1]) {
                table.insert(module, uses.clone());
            }
        }
    }
    assert!(
        !table.is_empty(),
        "ARCHITECTURE.md has no `| module | owns | may use |` table"
    );
    table
}

#[test]
fn every_module_uses_only_what_architecture_md_allows() {
    let allowed = allowed();
    for (module, deps) in graph() {
        let Some(may) = allowed.get(&module) else {
            panic!("ARCHITECTURE.md's layer table has no row for `{module}`");
        };
        let extra: Vec<&String> = deps.difference(may).collect();
        assert!(
            extra.is_empty(),
            "`{module}` uses {extra:?}, which ARCHITECTURE.md does not allow it (it may use {may:?})"
        );
    }
}

#[test]
fn the_module_graph_has_no_cycle() {
    let graph = graph();
    // Kahn: repeatedly remove modules that use nothing left.
    let mut left = graph.clone();
    while !left.is_empty() {
        let leaves: Vec<String> = left
            .iter()
            .filter(|(_, deps)| deps.iter().all(|d| !left.contains_key(d)))
            .map(|(m, _)| m.clone())
            .collect();
        assert!(
            !leaves.is_empty(),
            "the modules {:?} form a cycle",
            left.keys()
        );
        for leaf in leaves {
            left.remove(&leaf);
        }
    }
}

#[test]
fn the_parser_sees_nested_groups_and_inline_paths() {
    let paths = crate_paths("use crate::{a::{B, C}, D};\nlet x = crate::e::f();");
    assert_eq!(paths, ["a", "D", "e"]);
}
