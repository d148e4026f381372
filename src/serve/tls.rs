//! Haven's own TLS (rustls), for a program without a reverse proxy. The certificate and key are
//! read at start (a bad file refuses the start) and again on SIGHUP; a reload that fails keeps
//! the certificate in use and says why in the log, so a renewal mistake never takes chat down.

use std::{
    path::{Path, PathBuf},
    sync::{Arc, RwLock},
};

use rustls_pki_types::{pem::PemObject, CertificateDer, PrivateKeyDer};
use tokio_rustls::{rustls, TlsAcceptor};

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error(
        "server.tls_cert_file `{path}` could not be read as a PEM certificate chain: {reason}"
    )]
    Certificate { path: PathBuf, reason: String },
    #[error("server.tls_key_file `{path}` could not be read as a PEM private key: {reason}")]
    Key { path: PathBuf, reason: String },
    #[error("server.tls_key_file does not fit server.tls_cert_file: {0}")]
    Mismatch(String),
}

/// The acceptor in use; SIGHUP swaps in a new one for the connections that follow.
#[derive(Clone)]
pub struct Tls {
    cert: PathBuf,
    key: PathBuf,
    current: Arc<RwLock<TlsAcceptor>>,
}

impl Tls {
    pub fn load(cert: &str, key: &str) -> Result<Tls, TlsError> {
        let (cert, key) = (PathBuf::from(cert), PathBuf::from(key));
        let acceptor = acceptor(&cert, &key)?;
        Ok(Tls {
            cert,
            key,
            current: Arc::new(RwLock::new(acceptor)),
        })
    }

    pub fn acceptor(&self) -> TlsAcceptor {
        self.current
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Reads both files again; on failure the old certificate stays in use.
    pub fn reload(&self) -> Result<(), TlsError> {
        let fresh = acceptor(&self.cert, &self.key)?;
        *self
            .current
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = fresh;
        Ok(())
    }

    /// Reloads on every SIGHUP until `stop`.
    pub fn reload_on_hangup(self, stop: tokio_util::sync::CancellationToken) {
        use tokio::signal::unix::{signal, SignalKind};
        let Ok(mut hangups) = signal(SignalKind::hangup()) else {
            tracing::warn!(
                "SIGHUP cannot be watched: the TLS certificate is reloaded only at start"
            );
            return;
        };
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = stop.cancelled() => return,
                    got = hangups.recv() => if got.is_none() { return },
                }
                match self.reload() {
                    Ok(()) => tracing::info!("TLS certificate reloaded"),
                    Err(error) => {
                        tracing::error!(%error, "TLS certificate not reloaded; the previous one stays in use")
                    }
                }
            }
        });
    }
}

fn acceptor(cert_path: &Path, key_path: &Path) -> Result<TlsAcceptor, TlsError> {
    let chain = CertificateDer::pem_file_iter(cert_path)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|error| TlsError::Certificate {
            path: cert_path.to_owned(),
            reason: error.to_string(),
        })?;
    if chain.is_empty() {
        return Err(TlsError::Certificate {
            path: cert_path.to_owned(),
            reason: "no CERTIFICATE block in the file".into(),
        });
    }
    let key = PrivateKeyDer::from_pem_file(key_path).map_err(|error| TlsError::Key {
        path: key_path.to_owned(),
        reason: error.to_string(),
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| TlsError::Mismatch(error.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|error| TlsError::Mismatch(error.to_string()))?;
    // HTTP/1.1 only: WebSockets upgrade over it, and Haven's server speaks nothing else.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}
