//! `shm-clip-full`: the whole command line, which `shm-clip` execs for
//! everything but the common shapes of copy and paste.

fn main() -> std::process::ExitCode {
    shm_clip_cli::main()
}
