//! Writes the man page of `shm-clip-app` for the Debian package, from the
//! clap definitions in `src/args.rs` (the same file the binary parses with),
//! into `target/<profile>/packaging/shm-clip-app/man/shm-clip-app.1.gz`,
//! where `cli/Cargo.toml`'s `[package.metadata.deb]` assets take it from.

use clap::CommandFactory;

#[path = "src/args.rs"]
mod args;
#[path = "../packaging/generated.rs"]
mod generated;

fn main() {
    generated::rerun_if_changed("src/args.rs");
    generated::rerun_if_changed("../packaging/generated.rs");
    let Some(dir) = generated::fresh_packaging_dir() else {
        return;
    };
    generated::man_pages(args::Args::command(), &dir.join("man"));
}
