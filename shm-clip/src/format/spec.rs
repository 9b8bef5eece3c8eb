//! LAYOUT.md and the code cannot drift: every field table in the document is
//! compared, row by row, with the `#[repr(C)]` struct it describes (name,
//! offset and size, in order, covering the whole struct), and each table's
//! "(N bytes)" title with the struct's size.

use std::mem::{offset_of, size_of};

use super::header::Header;
use super::index::IndexSlot;
use super::message::Message;
use super::record::{RecordHeader, RepDesc};
use super::removal_log::RemovalSlot;
use super::subscriber::SubscriberSlot;

/// One field of a struct, as the code lays it out.
#[derive(Debug, PartialEq, Eq)]
struct Field {
    name: String,
    offset: usize,
    size: usize,
}

fn size_of_field<T, F>(_: fn(&T) -> &F) -> usize {
    size_of::<F>()
}

macro_rules! fields {
    ($t:ty { $($f:ident),* $(,)? }) => {
        vec![$(Field {
            name: stringify!($f).to_owned(),
            offset: offset_of!($t, $f),
            size: size_of_field(|s: &$t| &s.$f),
        }),*]
    };
}

/// Every documented structure: the start of its table's title in LAYOUT.md,
/// its fields and its size.
#[allow(
    clippy::too_many_lines,
    reason = "one list, one entry per structure, as rustfmt lays it out"
)]
fn structures() -> Vec<(&'static str, Vec<Field>, usize)> {
    vec![
        (
            "## Header",
            fields!(Header {
                magic,
                version,
                header_size,
                abi_tag,
                pidns_dev,
                pidns_ino,
                creator_uid,
                reserved0,
                segment_size,
                sub_offset,
                sub_slots,
                sub_slot_size,
                index_offset,
                index_slots,
                index_slot_size,
                arena_offset,
                arena_size,
                removals_offset,
                removal_slots,
                buckets,
                buckets_offset,
                node_id,
                created_ns,
                reserved2,
                mutex,
                seq,
                lock_acquisitions,
                lock_contended,
                lock_recoveries,
                last_pid,
                last_kind,
                last_ns,
                sub_generation,
                current,
                free_head,
                ring_first,
                ring_last,
                ring_head,
                removed_total,
                write_gen,
                reserved1,
            }),
            size_of::<Header>(),
        ),
        (
            "## Subscriber slot",
            fields!(SubscriberSlot {
                state,
                pid,
                start_time,
                kind,
                name_len,
                registered_ns,
                label,
                name,
            }),
            size_of::<SubscriberSlot>(),
        ),
        (
            "## History index slot",
            fields!(IndexSlot {
                state,
                flags,
                seq,
                order,
                created_ns,
                touched_ns,
                offset,
                len,
                content_hash,
                total_size,
                origin_pid,
                origin_kind,
                rep_count,
                label_len,
                label,
                clip_id,
                origin_node,
                meta_check,
                ring_prev,
                ring_next,
                hash_next,
                reserved,
                reserved2,
            }),
            size_of::<IndexSlot>(),
        ),
        (
            "## Removal log entry",
            fields!(RemovalSlot {
                seq,
                kind,
                reserved,
                clip_id
            }),
            size_of::<RemovalSlot>(),
        ),
        (
            "RecordHeader",
            fields!(RecordHeader {
                magic,
                rep_count,
                reserved
            }),
            size_of::<RecordHeader>(),
        ),
        (
            "RepDesc",
            fields!(RepDesc {
                mime_len,
                reserved,
                data_len,
                checksum,
                reserved2
            }),
            size_of::<RepDesc>(),
        ),
        (
            "## Mailbox message",
            fields!(Message {
                seq,
                committed_ns,
                origin_pid,
                origin_kind,
                change,
                reserved
            }),
            size_of::<Message>(),
        ),
    ]
}

/// A field table of the document: its title line and its rows.
struct Table {
    title: String,
    rows: Vec<Field>,
}

/// Every `| offset | size | field | …` table, with the nearest line above
/// it that is a heading or names a structure (`RepDesc (32 bytes each):`).
fn tables(doc: &str) -> Vec<Table> {
    let mut out = Vec::new();
    let mut title = String::new();
    let mut lines = doc.lines().peekable();
    while let Some(line) = lines.next() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if cells.len() > 4 && cells[1] == "offset" && cells[2] == "size" && cells[3] == "field" {
            lines.next(); // the |---| row
            let mut rows = Vec::new();
            while let Some(row) = lines.next_if(|l| l.starts_with('|')) {
                let c: Vec<&str> = row.split('|').map(str::trim).collect();
                rows.push(Field {
                    name: c[3].to_owned(),
                    offset: c[1].parse().unwrap_or_else(|_| panic!("offset in {row}")),
                    size: c[2].parse().unwrap_or_else(|_| panic!("size in {row}")),
                });
            }
            out.push(Table {
                title: title.clone(),
                rows,
            });
        } else if line.starts_with("## ") || is_struct_title(line) {
            title = line.to_owned();
        }
    }
    out
}

/// `RepDesc (32 bytes each):`: a structure named inside a section.
fn is_struct_title(line: &str) -> bool {
    line.split_once(" (")
        .is_some_and(|(name, rest)| !name.contains(' ') && rest.contains(" bytes"))
}

/// The "N" of "(N bytes" in a title.
fn stated_size(title: &str) -> Option<usize> {
    let words: Vec<&str> = title.split_whitespace().collect();
    words.windows(2).find_map(|w| {
        w[1].starts_with("bytes")
            .then(|| w[0].trim_start_matches('(').parse().ok())
            .flatten()
    })
}

#[test]
fn layout_md_matches_the_code_field_for_field() {
    let doc = include_str!("../../LAYOUT.md");
    let tables = tables(doc);
    for (title, fields, size) in structures() {
        let matching: Vec<&Table> = tables
            .iter()
            .filter(|t| t.title.starts_with(title))
            .collect();
        assert_eq!(
            matching.len(),
            1,
            "LAYOUT.md needs exactly one table under {title:?}"
        );
        let table = matching[0];
        assert_eq!(
            table.rows, fields,
            "LAYOUT.md's {title:?} table and the struct disagree"
        );
        // The fields cover the struct: no field left out of the list, no padding.
        let covered: usize = fields.iter().map(|f| f.size).sum();
        assert_eq!(covered, size, "{title}: fields do not cover the struct");
        assert_eq!(
            stated_size(&table.title),
            Some(size),
            "{title}: the size in {:?}",
            table.title
        );
    }
    // Every field table of the document is one of the structures.
    for table in &tables {
        assert!(
            structures()
                .iter()
                .any(|(t, _, _)| table.title.starts_with(t)),
            "LAYOUT.md table under {:?} describes no struct of the code",
            table.title
        );
    }
}

#[test]
fn layout_md_states_this_version() {
    let doc = include_str!("../../LAYOUT.md");
    let first = doc.lines().next().unwrap_or_default();
    assert_eq!(
        first,
        format!(
            "# Segment layout (LAYOUT_VERSION {})",
            super::LAYOUT_VERSION
        )
    );
    assert!(
        doc.contains(&format!("- **{}** (", super::LAYOUT_VERSION)),
        "LAYOUT.md's changelog has no entry for version {}",
        super::LAYOUT_VERSION
    );
}
