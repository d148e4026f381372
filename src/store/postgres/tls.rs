//! TLS to PostgreSQL with rustls (already Haven's TLS library, ring provider): `disable`, or
//! `require` with the server verified against `store.postgres_ca_file` when one is given.

use std::sync::Arc;

use postgres::config::SslMode;
use rustls_pki_types::{pem::PemObject, CertificateDer, ServerName, UnixTime};
use tokio_postgres_rustls::MakeRustlsConnect;
use tokio_rustls::rustls::{
    self,
    client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier},
    crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider},
    DigitallySignedStruct, RootCertStore, SignatureScheme,
};

use crate::store::config::{PostgresTls, StoreConfig};

/// Sets the connection's TLS mode and returns the connector the pool uses.
pub(super) fn configure(
    pg: &mut postgres::Config,
    config: &StoreConfig,
) -> Result<MakeRustlsConnect, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?;
    let client = match config.postgres_tls {
        PostgresTls::Disable => {
            pg.ssl_mode(SslMode::Disable);
            // Never used: the connection does not ask for TLS.
            builder
                .with_root_certificates(RootCertStore::empty())
                .with_no_client_auth()
        }
        PostgresTls::Require if config.postgres_ca_file.as_os_str().is_empty() => {
            pg.ssl_mode(SslMode::Require);
            tracing::warn!(
                "store.postgres_tls = \"require\" without store.postgres_ca_file: the link to PostgreSQL is encrypted but the server is not authenticated"
            );
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(EncryptOnly(provider)))
                .with_no_client_auth()
        }
        PostgresTls::Require => {
            pg.ssl_mode(SslMode::Require);
            let path = &config.postgres_ca_file;
            let unreadable = |reason: String| {
                format!(
                    "store.postgres_ca_file {} cannot be used: {reason}",
                    path.display()
                )
            };
            let mut roots = RootCertStore::empty();
            let certs = CertificateDer::pem_file_iter(path)
                .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
                .map_err(|e| unreadable(e.to_string()))?;
            if certs.is_empty() {
                return Err(unreadable("no CERTIFICATE block in the file".into()));
            }
            for cert in certs {
                roots.add(cert).map_err(|e| unreadable(e.to_string()))?;
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        }
    };
    Ok(MakeRustlsConnect::new(client))
}

/// `require` without a CA: the handshake's signatures are checked (the session key belongs to
/// whoever holds the certificate's key), the certificate itself is not, as libpq's
/// `sslmode=require`.
#[derive(Debug)]
struct EncryptOnly(Arc<CryptoProvider>);

impl ServerCertVerifier for EncryptOnly {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::store::{
        config::{PostgresTls, StoreConfig},
        postgres::{scratch::ScratchDatabase, Postgres},
        StoreError,
    };

    const WAIT: Duration = Duration::from_secs(3);

    /// The server's certificate file when it speaks TLS; `None` (after a loud message, or a
    /// failure when `CI=true`) when it does not.
    fn server_certificate(scratch: &ScratchDatabase) -> Option<String> {
        let mut client = scratch.client().unwrap();
        let ssl: String = client.query_one("SHOW ssl", &[]).unwrap().get(0);
        let file: String = client.query_one("SHOW ssl_cert_file", &[]).unwrap().get(0);
        if ssl != "on" {
            let message = "the test PostgreSQL has ssl = off: TLS to PostgreSQL is not tested";
            assert!(
                std::env::var("CI").map_or(true, |v| v != "true"),
                "{message}"
            );
            let _ = std::io::Write::write_all(
                &mut std::io::stderr(),
                format!("\n!!!!! SKIPPED: {message}\n\n").as_bytes(),
            );
            return None;
        }
        Some(file)
    }

    fn encrypted(db: &Postgres) -> bool {
        db.run(|c| {
            Ok(c.query_one(
                "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
                &[],
            )?
            .try_get(0)?)
        })
        .unwrap()
    }

    fn with_tls(scratch: &ScratchDatabase, ca: &str, host: Option<&str>) -> StoreConfig {
        let mut config = scratch.store_config();
        config.postgres_tls = PostgresTls::Require;
        config.postgres_ca_file = ca.into();
        if let Some(host) = host {
            config.postgres_url = config.postgres_url.replace("127.0.0.1", host);
        }
        config
    }

    #[test]
    fn require_encrypts_and_a_ca_file_authenticates_the_server() {
        let Some(scratch) = ScratchDatabase::create() else {
            return;
        };
        let Some(certificate) = server_certificate(&scratch) else {
            return;
        };
        let plain = Postgres::connect(&scratch.store_config(), WAIT).unwrap();
        assert!(!encrypted(&plain));
        let unverified = Postgres::connect(&with_tls(&scratch, "", None), WAIT).unwrap();
        assert!(encrypted(&unverified));
        // Debian's certificate names localhost.
        let verified =
            Postgres::connect(&with_tls(&scratch, &certificate, Some("localhost")), WAIT).unwrap();
        assert!(encrypted(&verified));

        let dir = tempfile::tempdir().unwrap();
        let other_ca = dir.path().join("other-ca.pem");
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(vec!["localhost".into()]).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        std::fs::write(&other_ca, params.self_signed(&key).unwrap().pem()).unwrap();
        let refused = Postgres::connect(
            &with_tls(&scratch, other_ca.to_str().unwrap(), Some("localhost")),
            WAIT,
        );
        match refused {
            Err(StoreError::Connect { reason, .. }) => {
                assert!(reason.contains("TLS"), "{reason}")
            }
            other => panic!(
                "a server not signed by the CA is refused: {:?}",
                other.err()
            ),
        }
    }

    #[test]
    fn a_password_file_is_read_and_a_missing_one_is_named() {
        let Some(scratch) = ScratchDatabase::create() else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let mut config = scratch.store_config();
        config.postgres_password_file = dir.path().join("missing");
        match Postgres::connect(&config, WAIT) {
            Err(error @ StoreError::Connect { .. }) => {
                assert!(
                    error.to_string().contains("postgres_password_file"),
                    "{error}"
                )
            }
            other => panic!("refused: {:?}", other.err()),
        }
        // The test server trusts local connections: the password is sent, not needed.
        std::fs::write(&config.postgres_password_file, "not-needed-here\n").unwrap();
        Postgres::connect(&config, WAIT).unwrap();
    }
}
