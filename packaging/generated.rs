//! The build scripts' shared half: where the files generated for the Debian
//! package go, and how a man page is written there. Included with
//! `#[path]` by `cli/build.rs` and `app/build.rs`, so that both crates put
//! their files where `cli/Cargo.toml`'s `[package.metadata.deb]` assets
//! expect them.
//!
//! Why not `OUT_DIR`: its path holds a hash that an asset list cannot name.
//! cargo-deb resolves asset paths starting with `target/release/` to the
//! profile's directory of the target dir (`target/<profile>/`, or
//! `target/<triple>/<profile>/` with `--target`), which is `OUT_DIR`'s
//! great-grandparent: `<profile dir>/build/<package>-<hash>/out`.

use std::path::{Path, PathBuf};

/// `<profile dir>/packaging/<this package>/`, emptied, or `None` (after a
/// cargo warning) if `OUT_DIR` is not laid out as above, for example with a
/// `build-dir` outside the target dir: then no package can be built from
/// this build, but the build itself goes on.
pub fn fresh_packaging_dir() -> Option<PathBuf> {
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR")?);
    let profile_dir = out_dir
        .ancestors()
        .nth(3)
        .filter(|_| out_dir.ancestors().nth(2).and_then(Path::file_name) == Some("build".as_ref()));
    let Some(profile_dir) = profile_dir else {
        println!(
            "cargo::warning=OUT_DIR {} is not <profile dir>/build/<package>-<hash>/out; \
             not writing the man pages and completions for the Debian package",
            out_dir.display()
        );
        return None;
    };
    let package = std::env::var("CARGO_PKG_NAME").expect("cargo sets CARGO_PKG_NAME");
    let dir = profile_dir.join("packaging").join(package);
    // Emptied first, so that a removed subcommand's page does not linger.
    match std::fs::remove_dir_all(&dir) {
        Ok(()) => {}
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => panic!("removing {}: {err}", dir.display()),
    }
    Some(dir)
}

/// Writes `bytes` to `path`, creating its directory; a build script has no
/// better answer to a failed write than stopping with the path.
pub fn write(path: &Path, bytes: &[u8]) {
    let dir = path.parent().expect("a file in a directory");
    std::fs::create_dir_all(dir).unwrap_or_else(|err| panic!("creating {}: {err}", dir.display()));
    std::fs::write(path, bytes).unwrap_or_else(|err| panic!("writing {}: {err}", path.display()));
}

/// Writes `NAME.1.gz` for `cmd` and for every visible subcommand, as
/// `clap_mangen::generate_to` names them (`shm-clip-copy.1.gz`), gzipped as
/// Debian policy wants man pages. The gzip header holds no name and no time,
/// so the same definitions give the same bytes.
pub fn man_pages(cmd: clap::Command, dir: &Path) {
    fn each(cmd: clap::Command, dir: &Path) {
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()).cloned() {
            each(sub, dir);
        }
        let man = clap_mangen::Man::new(cmd);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        man.render(&mut gz).expect("rendering into memory");
        let page = gz.finish().expect("compressing in memory");
        write(&dir.join(format!("{}.gz", man.get_filename())), &page);
    }
    let mut cmd = cmd.disable_help_subcommand(true);
    cmd.build();
    each(cmd, dir);
}

/// Tells cargo to run the build script again when `path` changes.
pub fn rerun_if_changed(path: &str) {
    println!("cargo::rerun-if-changed={path}");
}
