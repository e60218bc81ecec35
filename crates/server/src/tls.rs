//! TLS for a daemon reachable beyond loopback: the certificate chain and private key
//! from PEM files (`serve --tls-cert/--tls-key`), served with rustls (TLS 1.2 and
//! 1.3, HTTP/1.1 by ALPN).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

/// Where the certificate and its key are.
#[derive(Clone, Debug)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read the TLS certificate {}: {reason}", path.display())]
    Cert { path: PathBuf, reason: String },
    #[error("cannot read the TLS key {}: {reason}", path.display())]
    Key { path: PathBuf, reason: String },
    #[error("the TLS certificate {} and key {} do not go together: {reason}", cert.display(), key.display())]
    Mismatch { cert: PathBuf, key: PathBuf, reason: String },
}

impl TlsFiles {
    /// Reads both files and checks that the key is the certificate's.
    pub fn acceptor(&self) -> Result<TlsAcceptor, TlsError> {
        let certs = read_certs(&self.cert)?;
        let key = PrivateKeyDer::from_pem_file(&self.key).map_err(|e| TlsError::Key { path: self.key.clone(), reason: pem_reason(&e) })?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("ring supports the default protocol versions")
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .map_err(|e| TlsError::Mismatch { cert: self.cert.clone(), key: self.key.clone(), reason: e.to_string() })?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(TlsAcceptor::from(Arc::new(config)))
    }
}

fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let fail = |reason: String| TlsError::Cert { path: path.to_path_buf(), reason };
    let certs: Vec<_> = CertificateDer::pem_file_iter(path)
        .map_err(|e| fail(pem_reason(&e)))?
        .collect::<Result<_, _>>()
        .map_err(|e| fail(pem_reason(&e)))?;
    if certs.is_empty() {
        return Err(fail("it holds no PEM certificate".into()));
    }
    Ok(certs)
}

/// A PEM error in words (the file's own I/O error when that is what it was).
fn pem_reason(e: &rustls::pki_types::pem::Error) -> String {
    use rustls::pki_types::pem::Error;
    match e {
        Error::Io(io) => match io.kind() {
            std::io::ErrorKind::NotFound => "no such file".into(),
            std::io::ErrorKind::PermissionDenied => "permission denied".into(),
            _ => io.to_string(),
        },
        Error::NoItemsFound => "it holds no PEM private key".into(),
        _ => format!("not valid PEM ({e})"),
    }
}
