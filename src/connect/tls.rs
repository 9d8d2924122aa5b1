//! TLS with libpq's meaning for each `sslmode`, in pure Rust (rustls with the
//! ring provider), so the binary needs no system OpenSSL at run time.
//!
//! - `allow`, `prefer`, `require`: encrypted; the certificate is checked
//!   against the root certificate only when there is one (`sslrootcert`, or
//!   `~/.postgresql/root.crt`), and the host name is not checked.
//! - `verify-ca`: the certificate must chain to the root certificate.
//! - `verify-full`: that, and it must be issued for the host name.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::connect::conninfo::{Settings, SslMode};

/// The TLS connector for these settings, or why there cannot be one.
pub fn connector(settings: &Settings) -> Result<MakeRustlsConnect, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let roots = root_certificates(settings)?;
    let verifier = Verifier {
        chain: match roots {
            Some(roots) => Some(
                WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                    .build()
                    .map_err(|e| format!("cannot use the root certificates: {e}"))?,
            ),
            None => None,
        },
        check_name: settings.sslmode == SslMode::VerifyFull,
        provider: provider.clone(),
    };
    let versions: &[&rustls::SupportedProtocolVersion] = if settings.tls13_only {
        &[&rustls::version::TLS13]
    } else {
        rustls::DEFAULT_VERSIONS
    };
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .map_err(|e| format!("TLS setup failed: {e}"))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier));
    let config = match (&settings.sslcert, &settings.sslkey) {
        (Some(cert), Some(key)) => {
            let certs = CertificateDer::pem_file_iter(cert)
                .and_then(|i| i.collect::<Result<Vec<_>, _>>())
                .map_err(|e| format!("cannot read sslcert {}: {e}", cert.display()))?;
            let key = PrivateKeyDer::from_pem_file(key)
                .map_err(|e| format!("cannot read sslkey {}: {e}", key.display()))?;
            builder
                .with_client_auth_cert(certs, key)
                .map_err(|e| format!("cannot use sslcert and sslkey: {e}"))?
        }
        _ => builder.with_no_client_auth(),
    };
    Ok(MakeRustlsConnect::new(config))
}

/// The root certificates to check the server's certificate against: the
/// `sslrootcert` file, the system's (`sslrootcert=system`), or libpq's default
/// file when it exists. `None`: nothing to check against.
fn root_certificates(settings: &Settings) -> Result<Option<rustls::RootCertStore>, String> {
    let mut store = rustls::RootCertStore::empty();
    match settings.sslrootcert.as_deref() {
        Some("system") => {
            let found = rustls_native_certs::load_native_certs();
            for cert in found.certs {
                let _ = store.add(cert);
            }
            if store.is_empty() {
                return Err("sslrootcert=system: no trusted root certificates were found on this system".into());
            }
        }
        Some(path) if std::path::Path::new(path).exists() => {
            let certs = CertificateDer::pem_file_iter(path)
                .and_then(|i| i.collect::<Result<Vec<_>, _>>())
                .map_err(|e| format!("cannot read sslrootcert {path}: {e}"))?;
            for cert in certs {
                store
                    .add(cert)
                    .map_err(|e| format!("sslrootcert {path}: {e}"))?;
            }
            if store.is_empty() {
                return Err(format!("sslrootcert {path} holds no certificate"));
            }
        }
        Some(path) if settings.sslrootcert_given || settings.sslmode.verifies() => {
            let hint = if settings.sslmode.verifies() {
                format!(
                    "sslmode={} checks the server's certificate against it: give the CA's certificate with sslrootcert=<file>, \
                     or sslrootcert=system for the system's trusted roots, or use sslmode=require, which encrypts without checking",
                    settings.sslmode.as_str()
                )
            } else {
                "give an existing file, or leave sslrootcert out".to_string()
            };
            return Err(format!(
                "root certificate file \"{path}\" does not exist: {hint}"
            ));
        }
        Some(_) => return Ok(None),
        None if settings.sslmode.verifies() => {
            return Err(format!(
                "sslmode={} needs a root certificate (sslrootcert) and there is no home directory to find ~/.postgresql/root.crt in",
                settings.sslmode.as_str()
            ))
        }
        None => return Ok(None),
    }
    Ok(Some(store))
}

/// libpq's checks: the chain when there are root certificates, the host name
/// only for `verify-full`. The handshake's signatures are always verified.
#[derive(Debug)]
struct Verifier {
    chain: Option<Arc<WebPkiServerVerifier>>,
    check_name: bool,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(chain) = &self.chain else {
            return Ok(ServerCertVerified::assertion());
        };
        match chain.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now) {
            // The chain is checked before the name: a name error means the chain is good.
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) if !self.check_name => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// A certificate failure in words a person can act on, when `e` (or what
/// caused it) is one; `host` is the name the certificate was checked against.
pub fn certificate_problem(e: &(dyn std::error::Error + 'static), host: &str) -> Option<String> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        let rustls_error = err.downcast_ref::<rustls::Error>().or_else(|| {
            err.downcast_ref::<std::io::Error>()
                .and_then(|io| io.get_ref())
                .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        });
        if let Some(rustls::Error::InvalidCertificate(c)) = rustls_error {
            return Some(match c {
                CertificateError::NotValidForName
                | CertificateError::NotValidForNameContext { .. } => format!(
                    "the server's certificate is not issued for the host name \"{host}\" (sslmode=verify-full checks it)"
                ),
                CertificateError::UnknownIssuer | CertificateError::BadSignature => {
                    "the server's certificate is not trusted: it is not signed by the root certificate (sslrootcert)".to_string()
                }
                CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                    "the server's certificate has expired".to_string()
                }
                other => format!("the server's certificate was refused: {other:?}"),
            });
        }
        cur = err.source();
    }
    None
}
