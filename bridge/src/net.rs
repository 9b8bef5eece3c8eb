//! Connecting to the server(s): credentials, TLS, and reconnects with
//! backoff. A first attempt tells a refusal (bad credentials, TLS) apart
//! from a server that is down: the first stops the bridge with a clear
//! error, the second is normal, and the client keeps trying in the
//! background while local commits wait in the outbox.

use std::time::Duration;

use async_nats::{Client, ConnectErrorKind, ConnectOptions};

use crate::config::{Auth, Settings};
use crate::error::{Error, Result};

/// The longest wait between two reconnect attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// Exponential backoff from 50 ms up to [`MAX_BACKOFF`].
pub fn backoff(attempt: usize) -> Duration {
    let ms = 50u64.saturating_mul(1 << attempt.min(10));
    Duration::from_millis(ms).min(MAX_BACKOFF)
}

async fn options(settings: &Settings, retry: bool) -> Result<ConnectOptions> {
    let mut opts = ConnectOptions::new()
        .name(format!("shm-clip-bridge {}", settings.name))
        .connection_timeout(Duration::from_secs(3))
        // Short pings: a stopped or vanished server is noticed in seconds.
        .ping_interval(Duration::from_secs(2))
        .request_timeout(Some(Duration::from_secs(5)))
        .max_reconnects(None)
        .reconnect_delay_callback(backoff);
    if retry {
        opts = opts.retry_on_initial_connect();
    }
    opts = match &settings.auth {
        Auth::None => opts,
        Auth::UserPassword { user, password } => {
            opts.user_and_password(user.clone(), password.clone())
        }
        Auth::NkeySeedFile(path) => {
            let seed = std::fs::read_to_string(path).map_err(|e| Error::Config {
                path: settings.source.clone(),
                line: None,
                key: "bridge.nkey_seed_file".into(),
                message: format!("{}: {e}", path.display()),
            })?;
            opts.nkey(seed.trim().to_owned())
        }
        Auth::CredsFile(path) => opts
            .credentials_file(path)
            .await
            .map_err(|e| Error::Config {
                path: settings.source.clone(),
                line: None,
                key: "bridge.creds_file".into(),
                message: format!("{}: {e}", path.display()),
            })?,
    };
    if let Some(ca) = &settings.tls.ca_file {
        opts = opts.add_root_certificates(ca.clone()).require_tls(true);
    }
    if let Some((cert, key)) = &settings.tls.client {
        opts = opts.add_client_certificate(cert.clone(), key.clone());
    }
    Ok(opts)
}

/// Connects, or fails clearly if the server refuses us. A server that is
/// not reachable yet is not an error: the client connects when it can.
pub async fn connect(settings: &Settings) -> Result<Client> {
    let servers = settings.servers.join(", ");
    let addrs: Vec<async_nats::ServerAddr> = settings
        .servers
        .iter()
        .map(|s| {
            s.parse().map_err(|e| Error::Connect {
                servers: s.clone(),
                message: format!("not a server address: {e}"),
            })
        })
        .collect::<Result<_>>()?;
    match options(settings, false).await?.connect(addrs.clone()).await {
        Ok(client) => Ok(client),
        // A failed handshake comes back as an I/O error: it will not heal by retrying.
        Err(err) if err.kind() == ConnectErrorKind::Io && is_tls_failure(&err) => {
            Err(Error::Connect {
                servers,
                message: format!(
                    "TLS failed ({}): is tls_ca_file the CA that signed the server's certificate?",
                    chain(&err)
                ),
            })
        }
        Err(err) => match err.kind() {
            ConnectErrorKind::Io
            | ConnectErrorKind::TimedOut
            | ConnectErrorKind::Dns
            | ConnectErrorKind::MaxReconnects => {
                tracing::warn!(servers, error = %err, "no server reachable yet; retrying in the background (local commits wait in the outbox)");
                options(settings, true)
                    .await?
                    .connect(addrs)
                    .await
                    .map_err(|e| Error::Connect {
                        servers,
                        message: e.to_string(),
                    })
            }
            ConnectErrorKind::AuthorizationViolation | ConnectErrorKind::Authentication => {
                Err(Error::Connect {
                    servers,
                    message: format!("the server refused our credentials ({err})"),
                })
            }
            ConnectErrorKind::Tls => Err(Error::Connect {
                servers,
                message: format!(
                    "TLS failed ({err}): is tls_ca_file the CA that signed the server's certificate?"
                ),
            }),
            ConnectErrorKind::ServerParse => Err(Error::Connect {
                servers,
                message: err.to_string(),
            }),
        },
    }
}

/// The error and its sources, joined.
fn chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

fn is_tls_failure(err: &dyn std::error::Error) -> bool {
    let text = chain(err).to_ascii_lowercase();
    ["certificate", "handshake", "tls"]
        .iter()
        .any(|w| text.contains(w))
}
