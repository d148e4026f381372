//! The connection to NATS: credentials from files, TLS, and retrying in the background, so a
//! node starts (and says it is unhealthy) while NATS is down.

use super::{ClusterConfig, ClusterError};

pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "haven".into())
}

pub async fn connect(
    config: &ClusterConfig,
    name: &str,
) -> Result<async_nats::Client, ClusterError> {
    let first_line = |path: &std::path::Path, key: &str| {
        std::fs::read_to_string(path)
            .map(|text| text.lines().next().unwrap_or("").trim_end().to_owned())
            .map_err(|e| {
                ClusterError::Config(format!("{key} {} cannot be read: {e}", path.display()))
            })
    };
    let mut options = async_nats::ConnectOptions::new()
        .name(format!("haven {name}"))
        .retry_on_initial_connect()
        .max_reconnects(None)
        .ping_interval(config.heartbeat() * 4)
        .connection_timeout(config.node_timeout());
    if !config.nats_password_file.as_os_str().is_empty() {
        let password = first_line(&config.nats_password_file, "cluster.nats_password_file")?;
        options = options.user_and_password(config.nats_user.clone(), password);
    } else if !config.nats_token_file.as_os_str().is_empty() {
        options = options.token(first_line(
            &config.nats_token_file,
            "cluster.nats_token_file",
        )?);
    }
    if config.nats_tls {
        options = options.require_tls(true);
    }
    if !config.nats_ca_file.as_os_str().is_empty() {
        options = options.add_root_certificates(config.nats_ca_file.clone());
    }
    let urls: Vec<async_nats::ServerAddr> = config
        .nats_url
        .split(',')
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(|u| {
            u.parse()
                .map_err(|_| ClusterError::Config("cluster.nats_url is not a NATS URL".into()))
        })
        .collect::<Result<_, _>>()?;
    options
        .connect(urls)
        .await
        .map_err(|e| ClusterError::Nats(e.to_string()))
}
