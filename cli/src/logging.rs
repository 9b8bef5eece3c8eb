//! Logs go to stderr, filtered by `RUST_LOG` (default `warn`). Clip contents
//! are never logged, only sizes, types and seqs.
//!
//! Without `RUST_LOG` only warnings and errors are shown, and a run almost
//! never has one. Building tracing-subscriber's registry up front (its span
//! slab, the filter, the formatter) cost every `shm-clip paste` about 5 % of
//! its page faults for nothing (BENCHMARKS.md, "The CLI as it ships"). So
//! without `RUST_LOG` a [`OnFirstUse`] stands in: it answers the level
//! checks itself and builds the subscriber on the first warning: the same
//! formatter as with `RUST_LOG=warn`, so it prints exactly as before.

use std::io::IsTerminal;
use std::sync::OnceLock;

use tracing::level_filters::LevelFilter;
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Dispatch, Event, Metadata, Subscriber};
use tracing_core::span::Current;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::util::SubscriberInitExt;

/// The filter when `RUST_LOG` does not parse, and the level shown without it.
const DEFAULT_FILTER: &str = "warn";
const DEFAULT_LEVEL: LevelFilter = LevelFilter::WARN;

/// Installs the global subscriber (and the `log` bridge, as before).
pub fn init() {
    if std::env::var_os(EnvFilter::DEFAULT_ENV).is_some() {
        // A filter that does not parse falls back to the default, as ever.
        let filter =
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .with_ansi(std::io::stderr().is_terminal())
            .init();
    } else {
        init_default();
    }
}

/// Installs the subscriber for a run without `RUST_LOG`. `shm-clip`
/// (front.rs) calls only this, and hands command lines with `RUST_LOG` to
/// `shm-clip-full`: `EnvFilter` brings the regex crates, a tenth of the
/// relocations a static-pie start applies.
pub fn init_default() {
    OnFirstUse::default().init();
}

/// The subscriber without `RUST_LOG`: warnings and errors on stderr, in
/// colour on a terminal. The same formatter as with `RUST_LOG`; only the
/// filter differs, and `DEFAULT_LEVEL` lets through what `DEFAULT_FILTER`
/// does.
fn default_subscriber() -> Dispatch {
    Dispatch::new(
        tracing_subscriber::fmt()
            .with_max_level(DEFAULT_LEVEL)
            .with_writer(std::io::stderr)
            .with_ansi(std::io::stderr().is_terminal())
            .finish(),
    )
}

/// Filters at [`DEFAULT_LEVEL`] by itself, and hands everything it lets
/// through to the real subscriber, built when first needed.
#[derive(Debug, Default)]
struct OnFirstUse {
    real: OnceLock<Dispatch>,
}

impl OnFirstUse {
    fn real(&self) -> &Dispatch {
        self.real.get_or_init(default_subscriber)
    }

    fn shown(metadata: &Metadata<'_>) -> bool {
        DEFAULT_LEVEL >= *metadata.level()
    }
}

impl Subscriber for OnFirstUse {
    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        if Self::shown(metadata) {
            Interest::always()
        } else {
            Interest::never()
        }
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(DEFAULT_LEVEL)
    }

    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        Self::shown(metadata)
    }

    fn new_span(&self, span: &Attributes<'_>) -> Id {
        self.real().new_span(span)
    }

    fn event(&self, event: &Event<'_>) {
        let real = self.real();
        if real.enabled(event.metadata()) {
            real.event(event);
        }
    }

    // Every span id came from the real subscriber (`new_span` built it), so
    // the calls about spans below find it built whenever they carry one.

    fn record(&self, span: &Id, values: &Record<'_>) {
        if let Some(real) = self.real.get() {
            real.record(span, values);
        }
    }

    fn record_follows_from(&self, span: &Id, follows: &Id) {
        if let Some(real) = self.real.get() {
            real.record_follows_from(span, follows);
        }
    }

    fn enter(&self, span: &Id) {
        if let Some(real) = self.real.get() {
            real.enter(span);
        }
    }

    fn exit(&self, span: &Id) {
        if let Some(real) = self.real.get() {
            real.exit(span);
        }
    }

    fn clone_span(&self, id: &Id) -> Id {
        match self.real.get() {
            Some(real) => real.clone_span(id),
            None => id.clone(),
        }
    }

    fn try_close(&self, id: Id) -> bool {
        self.real.get().is_some_and(|real| real.try_close(id))
    }

    fn current_span(&self) -> Current {
        self.real
            .get()
            .map_or_else(Current::none, Dispatch::current_span)
    }
}
