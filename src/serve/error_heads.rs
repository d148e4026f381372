//! hyper answers a request it cannot parse (400) or whose headers are too large (431) by itself,
//! without calling Haven's router, so those answers would miss the security headers every other
//! response carries. hyper has no hook for them; this writer adds the headers to any response
//! head that leaves without them. Haven's own responses always carry `x-content-type-options`,
//! so they pass untouched, and after a `101 Switching Protocols` the stream is a WebSocket and
//! is never looked at again.

use std::{
    io,
    pin::Pin,
    task::{ready, Context, Poll},
};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The header lines to add, rendered once (`name: value\r\n` each).
pub type HeaderLines = std::sync::Arc<[u8]>;

pub struct SecureErrorHeads<T> {
    inner: T,
    lines: HeaderLines,
    upgraded: bool,
    /// A rewritten head being written, and the length of the caller's buffer it stands for.
    pending: Option<(Vec<u8>, usize, usize)>,
}

impl<T> SecureErrorHeads<T> {
    pub fn new(inner: T, lines: HeaderLines) -> Self {
        SecureErrorHeads {
            inner,
            lines,
            upgraded: false,
            pending: None,
        }
    }

    /// The head rewritten with the security headers, when `buf` starts a response that lacks
    /// them; `None` to write `buf` as it is.
    fn rewrite(&mut self, buf: &[u8]) -> Option<Vec<u8>> {
        if self.upgraded || !buf.starts_with(b"HTTP/1.1 ") {
            return None;
        }
        if buf.starts_with(b"HTTP/1.1 101") {
            self.upgraded = true;
            return None;
        }
        let head = &buf[..find(buf, b"\r\n\r\n").unwrap_or(buf.len())];
        let marker = b"\r\nx-content-type-options:";
        if head
            .windows(marker.len())
            .any(|w| w.eq_ignore_ascii_case(marker))
        {
            return None;
        }
        let status_end = find(buf, b"\r\n")? + 2;
        let mut out = Vec::with_capacity(buf.len() + self.lines.len());
        out.extend_from_slice(&buf[..status_end]);
        out.extend_from_slice(&self.lines);
        out.extend_from_slice(&buf[status_end..]);
        Some(out)
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

impl<T: AsyncWrite + Unpin> SecureErrorHeads<T> {
    /// Writes the rewritten head to the end; only then is the caller's buffer reported written,
    /// so hyper retries the same buffer while this is pending.
    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        while let Some((bytes, written, stands_for)) = &mut self.pending {
            if *written == bytes.len() {
                let done = *stands_for;
                self.pending = None;
                return Poll::Ready(Ok(done));
            }
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &bytes[*written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            *written += n;
        }
        unreachable!("called with a pending head")
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for SecureErrorHeads<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if this.pending.is_none() {
            match this.rewrite(buf) {
                Some(bytes) => this.pending = Some((bytes, 0, buf.len())),
                None => return Pin::new(&mut this.inner).poll_write(cx, buf),
            }
        }
        this.poll_pending(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let first = bufs.iter().find(|b| !b.is_empty()).map_or(&[][..], |b| b);
        let this = &mut *self;
        if this.pending.is_some() || (!this.upgraded && first.starts_with(b"HTTP/1.1 ")) {
            // A head goes alone, so that it can be looked at whole.
            return Pin::new(this).poll_write(cx, first);
        }
        Pin::new(&mut this.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for SecureErrorHeads<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn through(writes: &[&[u8]]) -> String {
        let (a, mut b) = tokio::io::duplex(64);
        let mut heads = SecureErrorHeads::new(a, HeaderLines::from(&b"x-a: 1\r\n"[..]));
        let writes: Vec<Vec<u8>> = writes.iter().map(|w| w.to_vec()).collect();
        let writer = tokio::spawn(async move {
            for w in writes {
                heads.write_all(&w).await.unwrap();
            }
            heads.shutdown().await.unwrap();
        });
        let mut out = String::new();
        b.read_to_string(&mut out).await.unwrap();
        writer.await.unwrap();
        out
    }

    #[tokio::test]
    async fn a_bare_error_head_gets_the_lines_after_its_status() {
        let out = through(&[
            b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\n\r\n",
        ])
        .await;
        assert_eq!(
            out,
            "HTTP/1.1 431 Request Header Fields Too Large\r\nx-a: 1\r\ncontent-length: 0\r\n\r\n"
        );
    }

    #[tokio::test]
    async fn havens_own_heads_and_websocket_bytes_pass_untouched() {
        let own = b"HTTP/1.1 200 OK\r\nX-Content-Type-Options: nosniff\r\n\r\nbody";
        assert_eq!(through(&[own]).await.as_bytes(), own);
        let upgraded: &[&[u8]] = &[
            b"HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\n\r\n",
            b"HTTP/1.1 400 looks like a head but is a frame\r\n\r\n",
        ];
        assert_eq!(
            through(upgraded).await,
            String::from_utf8(upgraded.concat()).unwrap()
        );
    }
}
