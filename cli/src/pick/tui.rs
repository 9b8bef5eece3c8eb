//! The built-in terminal picker, drawn with ratatui on crossterm.
//!
//! Type to filter (see [`super::filter`]), ↑/↓ (or Ctrl+P/Ctrl+N), PgUp/PgDn
//! and Home/End to move, Enter to choose, Esc or Ctrl+C to cancel. The
//! right-hand pane previews the highlighted entry.
//!
//! Start-up cost: the CLI is one static-pie binary and nothing of ratatui
//! runs before `pick` does, so the other commands pay only for a larger
//! file (text 3.86 → 4.32 MB). Measured on the release static-pie build with
//! `perf stat -r 200 shm-clip paste` (a 10-byte clip, 2 shared vCPUs, two
//! interleaved rounds each), before → after this picker: task-clock 0.93 /
//! 0.94 ms → 0.91 / 0.92 ms, 137 → 135 page faults, wall 1.57 / 2.01 ms →
//! 1.63 / 1.92 ms (±6 %, noise from the other builds on the machine).

use std::io;

use ratatui::crossterm::event::{self, Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use ratatui::layout::{Constraint, Layout, Position, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, List, ListItem, ListState, Padding, Paragraph, Wrap};
use ratatui::{Frame, Terminal};

use super::filter::{Haystack, filter};
use super::terminal::Session;
use crate::errors::CliError;
use crate::human;
use crate::menu::{Body, Item};

/// How many lines of a text entry the preview pane shows at most.
const PREVIEW_LINES: usize = 500;

/// Runs the picker; the chosen entry's seq, or `None` if cancelled.
pub fn pick(items: Vec<Item>) -> Result<Option<u64>, CliError> {
    let mut picker = Picker::new(items);
    let session = Session::start().map_err(CliError::Terminal)?;
    let mut terminal = Terminal::new(ratatui::backend::CrosstermBackend::new(io::stdout()))
        .map_err(CliError::Terminal)?;
    let chosen = loop {
        {
            let _frame = Session::draw_lock();
            terminal
                .draw(|frame| picker.draw(frame))
                .map_err(CliError::Terminal)?;
        }
        test_panic(&picker.query);
        let event = event::read().map_err(CliError::Terminal)?;
        if let Event::Key(key) = event
            && key.kind != KeyEventKind::Release
            && let Some(outcome) = picker.key(key)
        {
            break outcome;
        }
    };
    drop(terminal);
    drop(session);
    Ok(match chosen {
        Outcome::Chosen(seq) => Some(seq),
        Outcome::Cancelled => None,
    })
}

/// Test hook (debug builds only): panics once the query equals
/// `SHM_CLIP_TEST_PICK_PANIC`, to check that a panic restores the terminal.
fn test_panic(query: &str) {
    #[cfg(debug_assertions)]
    assert!(
        std::env::var("SHM_CLIP_TEST_PICK_PANIC")
            .ok()
            .is_none_or(|at| at != query),
        "test panic requested by SHM_CLIP_TEST_PICK_PANIC"
    );
    #[cfg(not(debug_assertions))]
    let _ = query;
}

/// How the picker ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    Chosen(u64),
    Cancelled,
}

/// One entry and what it is searched by.
struct Entry {
    item: Item,
    haystack: Haystack,
    /// `seq 12 · text/plain · 5 B · cli 1234 · 3s ago`
    about: String,
}

/// The picker's state: plain data, changed by keys, drawn by `draw`.
struct Picker {
    entries: Vec<Entry>,
    query: String,
    /// Indices into `entries` that match the query, best first.
    shown: Vec<usize>,
    list: ListState,
    /// Rows in the list at the last draw, for PgUp/PgDn.
    page: usize,
}

impl Picker {
    fn new(items: Vec<Item>) -> Picker {
        let entries: Vec<Entry> = items
            .into_iter()
            .map(|item| {
                let types: Vec<&str> = item.info.types.iter().map(|(m, _)| m.as_str()).collect();
                let text = match &item.body {
                    Body::Text { head, .. } => head.as_str(),
                    _ => "",
                };
                let origin = item.info.origin.to_string();
                let haystack = Haystack::new(text, &types, &origin);
                let about = format!(
                    "seq {} · {} · {} · {} · {} ago{}",
                    item.info.seq,
                    item.body.mime(),
                    human::size(item.info.total_size),
                    origin,
                    human::age(item.info.touched),
                    if item.info.pinned { " · pinned" } else { "" },
                );
                Entry {
                    item,
                    haystack,
                    about,
                }
            })
            .collect();
        let mut picker = Picker {
            shown: (0..entries.len()).collect(),
            entries,
            query: String::new(),
            list: ListState::default(),
            page: 10,
        };
        picker.list.select(Some(0));
        picker
    }

    /// Applies a key; `Some` ends the picker.
    fn key(&mut self, key: KeyEvent) -> Option<Outcome> {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Esc => return Some(Outcome::Cancelled),
            KeyCode::Char('c' | 'g') if ctrl => return Some(Outcome::Cancelled),
            KeyCode::Enter => {
                let at = self.list.selected()?;
                let &entry = self.shown.get(at)?;
                return Some(Outcome::Chosen(self.entries[entry].item.info.seq));
            }
            KeyCode::Up => self.move_by(-1),
            KeyCode::Char('p' | 'k') if ctrl => self.move_by(-1),
            KeyCode::Down => self.move_by(1),
            KeyCode::Char('n' | 'j') if ctrl => self.move_by(1),
            KeyCode::PageUp => self.move_by(-(self.page as isize)),
            KeyCode::PageDown => self.move_by(self.page as isize),
            KeyCode::Home => self.list.select(Some(0)),
            KeyCode::End => self.list.select(Some(self.shown.len().saturating_sub(1))),
            KeyCode::Backspace => {
                self.query.pop();
                self.refilter();
            }
            KeyCode::Char('u') if ctrl => {
                self.query.clear();
                self.refilter();
            }
            KeyCode::Char('w') if ctrl => {
                let kept = self.query.trim_end().rfind(' ').map_or(0, |at| at + 1);
                self.query.truncate(kept);
                self.refilter();
            }
            KeyCode::Char(c) if !ctrl && !key.modifiers.contains(KeyModifiers::ALT) => {
                self.query.push(c);
                self.refilter();
            }
            _ => {}
        }
        None
    }

    fn move_by(&mut self, delta: isize) {
        let last = self.shown.len().saturating_sub(1);
        let at = self.list.selected().unwrap_or(0);
        self.list
            .select(Some(at.saturating_add_signed(delta).min(last)));
    }

    fn refilter(&mut self) {
        self.shown = filter(self.entries.iter().map(|e| &e.haystack), &self.query);
        self.list.select(Some(0));
        *self.list.offset_mut() = 0;
    }

    fn highlighted(&self) -> Option<&Entry> {
        let at = self.list.selected()?;
        self.shown.get(at).map(|&i| &self.entries[i])
    }

    fn draw(&mut self, frame: &mut Frame<'_>) {
        let [query, body, status] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Min(3),
            Constraint::Length(1),
        ])
        .areas(frame.area());
        let [list_area, preview_area] =
            Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)])
                .areas(body);

        let prompt = "filter> ";
        frame.render_widget(
            Paragraph::new(Line::from(vec![
                Span::styled(prompt, Style::new().add_modifier(Modifier::BOLD)),
                Span::raw(self.query.as_str()),
            ])),
            query,
        );
        let typed = unicode_width::UnicodeWidthStr::width(self.query.as_str());
        frame.set_cursor_position(Position::new(
            (query.x + (prompt.len() + typed) as u16).min(query.right().saturating_sub(1)),
            query.y,
        ));

        self.draw_list(frame, list_area);
        self.draw_preview(frame, preview_area);

        let help = format!(
            "{}/{}  ↑↓ move · Enter select · Esc cancel",
            self.shown.len(),
            self.entries.len()
        );
        frame.render_widget(
            Paragraph::new(help).style(Style::new().add_modifier(Modifier::DIM)),
            status,
        );
    }

    fn draw_list(&mut self, frame: &mut Frame<'_>, area: Rect) {
        let block = Block::new().borders(Borders::RIGHT);
        let inner = block.inner(area);
        self.page = usize::from(inner.height.max(1));
        // Two columns for the highlight mark, one for the pin.
        let width = usize::from(inner.width).saturating_sub(4).max(8);
        let rows: Vec<ListItem<'_>> = self
            .shown
            .iter()
            .map(|&i| {
                let item = &self.entries[i].item;
                let pin = if item.info.pinned { "*" } else { " " };
                ListItem::new(format!("{pin}{}", item.body.line(width)))
            })
            .collect();
        let list = List::new(rows)
            .block(block)
            .highlight_symbol("> ")
            .highlight_style(Style::new().add_modifier(Modifier::REVERSED));
        frame.render_stateful_widget(list, area, &mut self.list);
    }

    fn draw_preview(&self, frame: &mut Frame<'_>, area: Rect) {
        let block = Block::new().title(" preview ").padding(Padding::left(1));
        let Some(entry) = self.highlighted() else {
            frame.render_widget(Paragraph::new("no match").block(block), area);
            return;
        };
        let mut lines = vec![
            Line::styled(
                entry.about.clone(),
                Style::new().add_modifier(Modifier::DIM),
            ),
            Line::raw(""),
        ];
        match &entry.item.body {
            Body::Text { head, .. } => lines.extend(
                head.lines()
                    .take(PREVIEW_LINES)
                    .map(|line| Line::raw(crate::menu::visible_line(line))),
            ),
            body => lines.push(Line::raw(body.line(usize::from(area.width)))),
        }
        frame.render_widget(
            Paragraph::new(lines)
                .block(block)
                .wrap(Wrap { trim: false }),
            area,
        );
    }
}
