//! `shm-clip`: copy and paste, and the rest through `shm-clip-full`
//! (`shm_clip_cli::front` says why there are two binaries).

fn main() -> std::process::ExitCode {
    shm_clip_cli::front::main()
}
