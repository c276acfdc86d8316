//! Files on servers (`/api/files/{server}/…`): listing, stat, mkdir, rename, delete, the
//! editor's save, and transfers streamed both ways in flat memory (native only: the console lets
//! the browser stream them itself).

use super::{query, Client};
use crate::error::ClientError;
use crate::transport::Method;
use gatehouse_shared::files::{FileEntry, FileListing, PathBody, RenameBody, TransferResult};
use serde::Serialize;

/// Which server and as whom a file operation runs.
#[derive(Debug, Clone, Copy)]
pub struct FileTarget<'a> {
    /// The server's name.
    pub server: &'a str,
    /// The run-as account; `None`: the caller's own.
    pub user: Option<&'a str>,
    /// The editor's load and save (scope `editor` instead of `webftp`).
    pub editor: bool,
}

impl FileTarget<'_> {
    fn url(&self, op: &str) -> String {
        format!("/api/files/{}/{op}", self.server)
    }

    fn query(&self, path: &str) -> Vec<(String, String)> {
        query(&[
            ("path", Some(path.to_owned())),
            ("user", self.user.map(str::to_owned)),
            ("editor", self.editor.then(|| "true".to_owned())),
        ])
    }
}

/// What a save checks before writing: that the file is still as it was loaded (else 409).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SaveCheck {
    /// Overwrite whatever is there.
    None,
    /// The version token the load (or the last save) reported.
    Version(String),
    /// The modification time, when the server reported no version.
    Mtime(i64),
}

impl SaveCheck {
    fn pair(&self) -> Option<(String, String)> {
        match self {
            SaveCheck::None => None,
            SaveCheck::Version(v) => Some(("if_version".to_owned(), v.clone())),
            SaveCheck::Mtime(m) => Some(("if_mtime".to_owned(), m.to_string())),
        }
    }
}

impl Client {
    /// `GET /api/files/{server}/stat`: one entry, a final symlink not followed.
    pub async fn file_stat(&self, t: FileTarget<'_>, path: &str) -> Result<FileEntry, ClientError> {
        self.get(&t.url("stat"), t.query(path)).await
    }

    /// `GET /api/files/{server}/list`: a directory's entries.
    pub async fn file_list(
        &self,
        t: FileTarget<'_>,
        path: &str,
    ) -> Result<FileListing, ClientError> {
        self.get(&t.url("list"), t.query(path)).await
    }

    /// `POST /api/files/{server}/mkdir`: one directory (its parent must exist).
    pub async fn file_mkdir(&self, t: FileTarget<'_>, path: &str) -> Result<(), ClientError> {
        let body = PathBody {
            path: path.to_owned(),
        };
        self.file_op(t, "mkdir", &body).await
    }

    /// `POST /api/files/{server}/rename`: moves `from` to `to` (an existing `to` is a 409
    /// `conflict` unless `overwrite`).
    pub async fn file_rename(
        &self,
        t: FileTarget<'_>,
        from: &str,
        to: &str,
        overwrite: bool,
    ) -> Result<(), ClientError> {
        let body = RenameBody {
            from: from.to_owned(),
            to: to.to_owned(),
            overwrite,
        };
        self.file_op(t, "rename", &body).await
    }

    /// `POST /api/files/{server}/delete`: a file, or a directory with everything in it.
    pub async fn file_delete(&self, t: FileTarget<'_>, path: &str) -> Result<(), ClientError> {
        let body = PathBody {
            path: path.to_owned(),
        };
        self.file_op(t, "delete", &body).await
    }

    /// POSTs a mkdir, rename or delete body; their `{ok: true}` answer carries nothing more.
    async fn file_op<B: Serialize>(
        &self,
        t: FileTarget<'_>,
        op: &str,
        body: &B,
    ) -> Result<(), ClientError> {
        let mut req = self.with_body(Method::Post, &t.url(op), body)?;
        req.query = query(&[("user", t.user.map(str::to_owned))]);
        self.send(req).await.map(drop)
    }

    /// `PUT /api/files/{server}/content?overwrite=true`: the editor's text, replacing the file
    /// if it passes `check`; the answer is the size and SHA-256 the agent stored.
    pub async fn file_save(
        &self,
        t: FileTarget<'_>,
        path: &str,
        text: &str,
        check: &SaveCheck,
    ) -> Result<TransferResult, ClientError> {
        let mut req = self.request(Method::Put, &t.url("content"));
        req.query = save_query(t, path, check);
        req.body = Some(text.as_bytes().to_vec());
        req.content_type = Some("application/octet-stream");
        self.call(req).await
    }

    /// `GET /api/websh/{id}/recording`: the terminal's asciicast v2 text.
    pub async fn websh_recording(&self, id: uuid::Uuid) -> Result<String, ClientError> {
        let r = self
            .send(self.request(Method::Get, &format!("/api/websh/{id}/recording")))
            .await?;
        String::from_utf8(r.body)
            .map_err(|_| ClientError::Decode("the recording is not UTF-8".into()))
    }
}

/// A save's query: the target's, `overwrite=true` and the check.
fn save_query(t: FileTarget<'_>, path: &str, check: &SaveCheck) -> Vec<(String, String)> {
    let mut q = t.query(path);
    q.push(("overwrite".to_owned(), "true".to_owned()));
    q.extend(check.pair());
    q
}

#[cfg(not(target_arch = "wasm32"))]
pub use native::{Download, Upload};

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use super::{query, Client, FileTarget};
    use crate::error::{ApiError, ClientError};
    use crate::transport::Method;
    use futures_util::Stream;
    use gatehouse_shared::files::TransferResult;

    /// The header with the file's modification time (seconds since the epoch).
    const MTIME_HEADER: &str = "x-file-mtime";
    /// The header with the file's version, for a later `if_version`.
    const VERSION_HEADER: &str = "x-file-version";

    /// A download under way: what the server said about the file, then its bytes.
    #[derive(Debug)]
    pub struct Download {
        /// The size promised (Content-Length).
        pub size: u64,
        /// The modification time, seconds since the epoch.
        pub mtime: Option<i64>,
        /// The version as opened (hand it back as `if_version` when saving).
        pub version: Option<String>,
        response: reqwest::Response,
    }

    impl Download {
        /// The next bytes; `None` at the end. A body cut short of its size (the gateway ends it
        /// so when the agent's SHA-256 does not match what it streamed) is an error.
        pub async fn chunk(&mut self) -> Result<Option<impl AsRef<[u8]> + use<>>, ClientError> {
            self.response
                .chunk()
                .await
                .map_err(crate::transport::network_error)
        }
    }

    /// How an upload writes its file.
    #[derive(Debug, Clone, Default)]
    pub struct Upload {
        /// Replace an existing file (else an existing one is a 409 `conflict`).
        pub overwrite: bool,
        /// Only write if the file is still at this version (the editor's check).
        pub if_version: Option<String>,
        /// Permission bits for the file (`-p`/`-r` keep the local ones).
        pub mode: Option<u32>,
        /// Modification time to set, seconds since the epoch (`-p`).
        pub mtime: Option<i64>,
    }

    impl Client {
        /// `GET /api/files/{server}/content`: the file, streamed.
        pub async fn download(
            &self,
            t: FileTarget<'_>,
            path: &str,
        ) -> Result<Download, ClientError> {
            let mut req = self.request(Method::Get, &t.url("content"));
            req.query = t.query(path);
            let response = self.transport.open(req).await?;
            let header = |name: &str| {
                response
                    .headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            };
            let size = response
                .content_length()
                .ok_or_else(|| ClientError::Decode("the download has no Content-Length".into()))?;
            Ok(Download {
                size,
                mtime: header(MTIME_HEADER).and_then(|m| m.parse().ok()),
                version: header(VERSION_HEADER),
                response,
            })
        }

        /// `PUT /api/files/{server}/content`: `body` streamed as it is produced; the server
        /// answers the size and SHA-256 the agent stored.
        pub async fn upload<S>(
            &self,
            t: FileTarget<'_>,
            path: &str,
            how: &Upload,
            body: S,
        ) -> Result<TransferResult, ClientError>
        where
            S: Stream<Item = std::io::Result<Vec<u8>>> + Send + 'static,
        {
            // Built as the PUT it is, so a browser sign-in's CSRF token goes with it.
            let mut req = self.request(Method::Put, &t.url("content"));
            req.query = t.query(path);
            req.query.extend(query(&[
                ("overwrite", Some(how.overwrite.to_string())),
                ("if_version", how.if_version.clone()),
                ("mode", how.mode.map(|m| m.to_string())),
                ("mtime", how.mtime.map(|m| m.to_string())),
            ]));
            let r = self
                .transport
                .put_stream(req, reqwest::Body::wrap_stream(body))
                .await?;
            if !(200..300).contains(&r.status) {
                return Err(ClientError::Api(Box::new(ApiError::from_response(
                    r.status,
                    r.retry_after,
                    &r.body,
                ))));
            }
            super::super::decode(&r.body)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn a_target_names_only_what_is_set() {
        let own = FileTarget {
            server: "web-01",
            user: None,
            editor: false,
        };
        assert_eq!(own.url("list"), "/api/files/web-01/list");
        assert_eq!(own.query("/etc"), pairs(&[("path", "/etc")]));
        let editor = FileTarget {
            user: Some("deploy"),
            editor: true,
            ..own
        };
        assert_eq!(
            editor.query("/a b"),
            pairs(&[("path", "/a b"), ("user", "deploy"), ("editor", "true")])
        );
    }

    #[test]
    fn a_save_checks_the_version_or_the_mtime_or_nothing() {
        let t = FileTarget {
            server: "web-01",
            user: None,
            editor: true,
        };
        let base = [("path", "/f"), ("editor", "true"), ("overwrite", "true")];
        assert_eq!(save_query(t, "/f", &SaveCheck::None), pairs(&base));
        let mut want = base.to_vec();
        want.push(("if_version", "v7"));
        assert_eq!(
            save_query(t, "/f", &SaveCheck::Version("v7".into())),
            pairs(&want)
        );
        want.pop();
        want.push(("if_mtime", "1700000000"));
        assert_eq!(
            save_query(t, "/f", &SaveCheck::Mtime(1_700_000_000)),
            pairs(&want)
        );
    }
}
