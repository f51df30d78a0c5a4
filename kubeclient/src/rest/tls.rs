//! Turns a [`TlsConfig`] into a rustls client configuration: the CA bundle (or the platform's
//! roots), the client certificate and key (RSA, ECDSA and PKCS#8 keys, Ed25519 included), and
//! `insecure-skip-tls-verify`. The transport adds ALPN (HTTP/2 first, then HTTP/1.1).
//!
//! As client-go, a CA together with `insecure` is refused, and a client certificate without its
//! key (or the reverse) is an error. A certificate whose key does not match is an error here
//! rather than a handshake failure later.

use std::sync::{Arc, RwLock};

use rustls::client::ResolvesClientCert;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::sign::CertifiedKey;
use rustls::{DigitallySignedStruct, SignatureScheme};
use secrecy::ExposeSecret;

use super::config::{ClientKey, Pem, TlsConfig};

/// Why TLS settings could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// A PEM file could not be read.
    #[error("reading {what} from {path}: {source}")]
    ReadFile {
        /// What the file should hold.
        what: &'static str,
        /// The file.
        path: std::path::PathBuf,
        /// Why it could not be read.
        source: std::io::Error,
    },
    /// PEM material held nothing usable.
    #[error("{what} ({origin}) holds no usable PEM data: {reason}")]
    BadPem {
        /// What it should hold.
        what: &'static str,
        /// Where it came from: a file path or "inline data".
        origin: String,
        /// What is wrong.
        reason: String,
    },
    /// A client certificate was given without a key, or a key without a certificate.
    #[error("a client certificate needs both a certificate and a key; only the {present} is set")]
    Incomplete {
        /// The half that is present.
        present: &'static str,
    },
    /// The client key does not belong to the client certificate, or is of an unsupported type.
    #[error("the client certificate ({cert}) and key ({key}) cannot be used together: {reason}")]
    ClientIdentity {
        /// Where the certificate came from.
        cert: String,
        /// Where the key came from.
        key: String,
        /// What rustls said.
        reason: String,
    },
    /// A CA bundle together with insecure-skip-tls-verify.
    #[error(
        "a certificate authority and insecure-skip-tls-verify cannot both be set (as in client-go)"
    )]
    CaWithInsecure,
    /// The platform's root certificates could not be loaded.
    #[error("loading the platform's root certificates: {0}")]
    PlatformRoots(String),
}

/// The crypto provider kubeclient uses: ring.
pub(crate) fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn origin(pem: &Pem) -> String {
    match pem {
        Pem::Data(_) => "inline data".to_string(),
        Pem::File(p) => p.display().to_string(),
    }
}

fn read(pem: &Pem, what: &'static str) -> Result<Vec<u8>, TlsError> {
    match pem {
        Pem::Data(d) => Ok(d.clone()),
        Pem::File(path) => std::fs::read(path).map_err(|source| TlsError::ReadFile {
            what,
            path: path.clone(),
            source,
        }),
    }
}

fn certificates(pem: &Pem, what: &'static str) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let bytes = read(pem, what)?;
    let bad = |reason: String| TlsError::BadPem {
        what,
        origin: origin(pem),
        reason,
    };
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(e.to_string()))?;
    if certs.is_empty() {
        return Err(bad("no CERTIFICATE block found".to_string()));
    }
    Ok(certs)
}

fn private_key(key: &ClientKey) -> Result<(PrivateKeyDer<'static>, String), TlsError> {
    const WHAT: &str = "client key";
    let (bytes, origin) = match key {
        ClientKey::Data(d) => (d.expose_secret().clone(), "inline data".to_string()),
        ClientKey::File(p) => (read(&Pem::File(p.clone()), WHAT)?, p.display().to_string()),
    };
    // The parser's error never quotes the key material; it says which block it wanted.
    let key = PrivateKeyDer::from_pem_slice(&bytes).map_err(|e| TlsError::BadPem {
        what: WHAT,
        origin: origin.clone(),
        reason: e.to_string(),
    })?;
    Ok((key, origin))
}

/// A client certificate that can change while connections are made: the one an exec plugin
/// printed last. Handshakes present whatever is current.
#[derive(Debug, Default)]
pub(crate) struct DynamicClientCert {
    current: RwLock<Option<Arc<CertifiedKey>>>,
}

impl DynamicClientCert {
    /// Makes `key` the certificate later handshakes present.
    pub(crate) fn set(&self, key: Arc<CertifiedKey>) {
        let mut current = self.current.write().unwrap_or_else(|e| e.into_inner());
        *current = Some(key);
    }
}

impl ResolvesClientCert for DynamicClientCert {
    fn resolve(&self, _hints: &[&[u8]], _schemes: &[SignatureScheme]) -> Option<Arc<CertifiedKey>> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn has_certs(&self) -> bool {
        true
    }
}

/// Parses a PEM certificate chain and key printed by `origin` (an exec plugin) into a key
/// rustls can present; checks that they belong together.
pub(crate) fn certified_key(
    cert_pem: &[u8],
    key_pem: &[u8],
    origin: &str,
) -> Result<CertifiedKey, TlsError> {
    let pem = Pem::Data(cert_pem.to_vec());
    let chain = certificates(&pem, "client certificate").map_err(|e| match e {
        TlsError::BadPem { what, reason, .. } => TlsError::BadPem {
            what,
            origin: origin.to_string(),
            reason,
        },
        other => other,
    })?;
    let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| TlsError::BadPem {
        what: "client key",
        origin: origin.to_string(),
        reason: e.to_string(),
    })?;
    CertifiedKey::from_der(chain, key, &provider()).map_err(|e| TlsError::ClientIdentity {
        cert: origin.to_string(),
        key: origin.to_string(),
        reason: e.to_string(),
    })
}

/// Builds the rustls configuration for `tls`.
pub fn client_config(tls: &TlsConfig) -> Result<rustls::ClientConfig, TlsError> {
    client_config_with(tls, None)
}

/// As [`client_config`]; without a client certificate in `tls`, handshakes present the one
/// `dynamic` holds at the time.
pub(crate) fn client_config_with(
    tls: &TlsConfig,
    dynamic: Option<Arc<DynamicClientCert>>,
) -> Result<rustls::ClientConfig, TlsError> {
    let provider = provider();
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::PlatformRoots(e.to_string()))?;
    let builder = if tls.insecure {
        if tls.ca.is_some() {
            return Err(TlsError::CaWithInsecure);
        }
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoServerVerification(provider)))
    } else {
        let mut roots = rustls::RootCertStore::empty();
        match &tls.ca {
            Some(ca) => {
                for cert in certificates(ca, "certificate authority")? {
                    roots.add(cert).map_err(|e| TlsError::BadPem {
                        what: "certificate authority",
                        origin: origin(ca),
                        reason: e.to_string(),
                    })?;
                }
            }
            None => {
                let loaded = rustls_native_certs::load_native_certs();
                if loaded.certs.is_empty() {
                    let errors: Vec<String> = loaded.errors.iter().map(|e| e.to_string()).collect();
                    return Err(TlsError::PlatformRoots(if errors.is_empty() {
                        "none found".to_string()
                    } else {
                        errors.join("; ")
                    }));
                }
                roots.add_parsable_certificates(loaded.certs);
            }
        }
        builder.with_root_certificates(roots)
    };
    let config = match (&tls.client_cert, &tls.client_key) {
        (None, None) => match dynamic {
            Some(dynamic) => builder.with_client_cert_resolver(dynamic),
            None => builder.with_no_client_auth(),
        },
        (Some(_), None) => {
            return Err(TlsError::Incomplete {
                present: "certificate",
            });
        }
        (None, Some(_)) => return Err(TlsError::Incomplete { present: "key" }),
        (Some(cert), Some(key)) => {
            let chain = certificates(cert, "client certificate")?;
            let (key, key_origin) = private_key(key)?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| TlsError::ClientIdentity {
                    cert: origin(cert),
                    key: key_origin,
                    reason: e.to_string(),
                })?
        }
    };
    // ALPN (h2, then http/1.1) is set by the connector that uses this configuration.
    Ok(config)
}

/// insecure-skip-tls-verify: any server certificate is accepted (handshake signatures are
/// still checked, as Go's `InsecureSkipVerify` does).
#[derive(Debug)]
struct NoServerVerification(Arc<CryptoProvider>);

impl ServerCertVerifier for NoServerVerification {
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
        rustls::crypto::verify_tls12_signature(
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
        rustls::crypto::verify_tls13_signature(
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
    use std::path::PathBuf;

    use secrecy::SecretBox;

    use super::*;

    fn fixture(name: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/pki")
            .join(name)
    }

    fn inline_key(name: &str) -> ClientKey {
        let bytes = std::fs::read(fixture(name)).expect("fixture key");
        ClientKey::Data(Arc::new(SecretBox::new(Box::new(bytes))))
    }

    fn with_identity(cert: &str, key: ClientKey) -> TlsConfig {
        TlsConfig {
            ca: Some(Pem::File(fixture("ca.crt"))),
            client_cert: Some(Pem::File(fixture(cert))),
            client_key: Some(key),
            ..TlsConfig::default()
        }
    }

    #[test]
    fn every_supported_key_encoding_builds_a_client_identity() {
        for (cert, key) in [
            ("rsa-pkcs8.crt", "rsa-pkcs8.key"),
            ("rsa-pkcs8.crt", "rsa-pkcs1.key"),
            ("ec-pkcs8.crt", "ec-pkcs8.key"),
            ("ec-pkcs8.crt", "ec-sec1.key"),
            ("ed25519.crt", "ed25519.key"),
        ] {
            let config = client_config(&with_identity(cert, inline_key(key)))
                .unwrap_or_else(|e| panic!("{cert} + {key}: {e}"));
            assert!(
                config.client_auth_cert_resolver.has_certs(),
                "{cert} + {key}"
            );
        }
        // The key may come from a file as well.
        let from_file = with_identity("ec-pkcs8.crt", ClientKey::File(fixture("ec-pkcs8.key")));
        client_config(&from_file).expect("key from a file");
    }

    #[test]
    fn mismatched_certificate_and_key_is_an_error_naming_both() {
        let err = client_config(&with_identity(
            "rsa-pkcs8.crt",
            ClientKey::File(fixture("ec-pkcs8.key")),
        ))
        .expect_err("mismatch");
        let text = err.to_string();
        assert!(matches!(err, TlsError::ClientIdentity { .. }), "{err:?}");
        assert!(
            text.contains("rsa-pkcs8.crt") && text.contains("ec-pkcs8.key"),
            "{text}"
        );
    }

    #[test]
    fn half_an_identity_or_garbage_is_an_error() {
        let mut only_cert = with_identity("ec-pkcs8.crt", inline_key("ec-pkcs8.key"));
        only_cert.client_key = None;
        assert!(matches!(
            client_config(&only_cert),
            Err(TlsError::Incomplete {
                present: "certificate"
            })
        ));

        let garbage = ClientKey::Data(Arc::new(SecretBox::new(Box::new(b"not a key".to_vec()))));
        let err = client_config(&with_identity("ec-pkcs8.crt", garbage)).expect_err("garbage key");
        assert!(
            matches!(
                err,
                TlsError::BadPem {
                    what: "client key",
                    ..
                }
            ),
            "{err:?}"
        );

        let bad_ca = TlsConfig {
            ca: Some(Pem::Data(b"-----BEGIN CERTIFICATE-----\nnope\n".to_vec())),
            ..TlsConfig::default()
        };
        assert!(matches!(
            client_config(&bad_ca),
            Err(TlsError::BadPem { .. })
        ));

        let missing = TlsConfig {
            ca: Some(Pem::File(fixture("missing.crt"))),
            ..TlsConfig::default()
        };
        let err = client_config(&missing).expect_err("missing CA file");
        assert!(err.to_string().contains("missing.crt"), "{err}");
    }

    #[test]
    fn key_material_never_appears_in_errors() {
        let key = std::fs::read_to_string(fixture("ec-sec1.key")).expect("fixture");
        let body_line = key.lines().nth(1).expect("a base64 line");
        // A key whose PEM body is damaged: the error must not quote it.
        let damaged = key.replace(body_line, &format!("{body_line}!!"));
        let bad = ClientKey::Data(Arc::new(SecretBox::new(Box::new(damaged.into_bytes()))));
        let err = client_config(&with_identity("ec-pkcs8.crt", bad)).expect_err("damaged key");
        let shown = format!("{err} {err:?}");
        assert!(!shown.contains(body_line), "{shown}");
    }

    #[test]
    fn ca_with_insecure_is_refused_and_insecure_alone_works() {
        let both = TlsConfig {
            ca: Some(Pem::File(fixture("ca.crt"))),
            insecure: true,
            ..TlsConfig::default()
        };
        assert!(matches!(
            client_config(&both),
            Err(TlsError::CaWithInsecure)
        ));
        let insecure = TlsConfig {
            insecure: true,
            ..TlsConfig::default()
        };
        client_config(&insecure).expect("insecure without a CA");
    }
}
