//! Writes the man pages and the shell completions of `shm-clip` for the
//! Debian package, from the clap definitions in `src/args.rs` (the same file
//! the binary parses with), into `target/<profile>/packaging/shm-clip-cli/`:
//! `man/*.1.gz` and `completions/` (bash, zsh, fish). `cargo deb -p
//! shm-clip-cli` then finds everything it packages, with nothing run before.

use clap::CommandFactory;

// Only the definitions are needed here; the binary uses the rest.
#[allow(dead_code)]
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
    for (shell, file) in [
        (clap_complete::Shell::Bash, "shm-clip.bash"),
        (clap_complete::Shell::Zsh, "_shm-clip"),
        (clap_complete::Shell::Fish, "shm-clip.fish"),
    ] {
        generated::write(
            &dir.join("completions").join(file),
            &args::completion_script(shell),
        );
    }
}
