//! Where `serve` listens: a TCP address, or a Unix socket (`unix:PATH`), the
//! way an application in front of it (the npm package's handler) reaches it
//! without opening a second port.

use std::path::{Path, PathBuf};

use tokio::io::{AsyncRead, AsyncWrite};

/// A listening socket: TCP, or a Unix socket whose file is removed when the
/// listener is dropped.
#[derive(Debug)]
pub enum Listener {
    /// `HOST:PORT`, e.g. `0.0.0.0:8080` or `127.0.0.1:0`.
    Tcp(tokio::net::TcpListener),
    /// `unix:PATH`: a socket file only its owner may connect to (mode 0600).
    #[cfg(unix)]
    Unix(tokio::net::UnixListener, UnixPath),
}

/// The file of a Unix listener, removed on drop.
#[derive(Debug)]
pub struct UnixPath(PathBuf);

impl Drop for UnixPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// One accepted connection, TCP or Unix.
pub trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

impl Listener {
    /// Bind `addr`: `unix:PATH` for a Unix socket, anything else as a TCP
    /// `HOST:PORT`. A Unix socket file left by a server that is gone is
    /// replaced; a path that exists and is not a socket, or a socket that a
    /// live server answers on, is an error (`AddrInUse`), as binding a TCP
    /// port in use is. Errors: whatever `bind(2)` reports.
    pub async fn bind(addr: &str) -> std::io::Result<Listener> {
        match addr.strip_prefix("unix:") {
            Some(path) => bind_unix(Path::new(path)).await,
            None => Ok(Listener::Tcp(tokio::net::TcpListener::bind(addr).await?)),
        }
    }

    /// The address as a person would give it back to `--listen`:
    /// `127.0.0.1:8080` or `unix:/run/reconcile.sock`.
    pub fn describe(&self) -> std::io::Result<String> {
        match self {
            Listener::Tcp(l) => Ok(l.local_addr()?.to_string()),
            #[cfg(unix)]
            Listener::Unix(_, path) => Ok(format!("unix:{}", path.0.display())),
        }
    }

    /// The next connection. Errors: as `accept(2)`.
    pub async fn accept(&self) -> std::io::Result<Box<dyn Stream>> {
        match self {
            Listener::Tcp(l) => Ok(Box::new(l.accept().await?.0)),
            #[cfg(unix)]
            Listener::Unix(l, _) => Ok(Box::new(l.accept().await?.0)),
        }
    }
}

#[cfg(unix)]
async fn bind_unix(path: &Path) -> std::io::Result<Listener> {
    use std::os::unix::fs::{FileTypeExt, PermissionsExt};
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        let in_use = || std::io::Error::new(std::io::ErrorKind::AddrInUse, "address in use");
        if !meta.file_type().is_socket() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                "the path exists and is not a socket",
            ));
        }
        if tokio::net::UnixStream::connect(path).await.is_ok() {
            return Err(in_use());
        }
        std::fs::remove_file(path)?;
    }
    let listener = tokio::net::UnixListener::bind(path)?;
    let owned = UnixPath(path.to_path_buf());
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    Ok(Listener::Unix(listener, owned))
}

#[cfg(not(unix))]
async fn bind_unix(_path: &Path) -> std::io::Result<Listener> {
    Err(std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        "Unix sockets are not supported on this platform",
    ))
}
