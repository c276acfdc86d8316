//! `gate edit [USER@]SERVER:PATH`: the file into a private local copy, `$VISUAL`/`$EDITOR` on
//! it, and back only when it changed here and not on the server meanwhile (the API's
//! `if_version`; `--force` saves anyway). A failed save keeps the copy and says where.

use super::cp::location::Remote;
use super::cp::staged::io_failure;
use super::cp::stream::{receive, send};
use crate::args::EditArgs;
use crate::context::Context;
use crate::exit::CliError;
use crate::progress::Progress;
use gatehouse_client::api::files::Upload;
use sha2::{Digest, Sha256};
use std::fs::{DirBuilder, OpenOptions};
use std::io::BufWriter;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub async fn run(ctx: &Context, args: EditArgs) -> Result<i32, CliError> {
    let mut remote = Remote::parse(&args.target)?;
    if remote.user.is_none() {
        remote.user = args.user;
    }
    let editor = editor_command()?;
    let client = ctx.client()?;
    let dir = private_dir()?;
    let copy = dir
        .path
        .join(super::cp::location::base_name(&remote.path).unwrap_or("file"));
    let loaded = {
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&copy)
            .map_err(|e| io_failure(&copy, "cannot create", e))?;
        let mut sink = BufWriter::new(file);
        receive(&client, &remote, true, &mut sink, &Progress::hidden()).await?
    };
    run_editor(&editor, &copy).await?;
    let now = hash_file(&copy)?;
    if now == loaded.sha256 {
        ctx.out.info("no changes: nothing saved");
        return Ok(0);
    }
    let how = Upload {
        overwrite: true,
        if_version: if args.force { None } else { loaded.version },
        ..Upload::default()
    };
    let file = std::fs::File::open(&copy).map_err(|e| io_failure(&copy, "cannot open", e))?;
    let progress = Arc::new(Progress::hidden());
    match send(&client, &remote, true, &how, file, progress).await {
        Ok(stored) => {
            ctx.out.info(&format!(
                "saved {} ({} bytes)",
                remote.display(),
                stored.size
            ));
            Ok(0)
        }
        Err(mut e) => {
            // The edit is the user's work: it stays, and the message says where.
            let kept = dir.keep();
            let hint = if e.error_code() == "conflict" && !args.force {
                " (it changed on the server since it was opened: compare, then `gate cp` your copy or edit again with --force)"
            } else {
                ""
            };
            let message = format!(
                "{}; your copy is kept at {}{hint}",
                e.message(),
                kept.join(copy.file_name().unwrap_or_default()).display()
            );
            e.envelope["message"] = message.into();
            e.envelope["local_copy"] = copy.display().to_string().into();
            Err(e)
        }
    }
}

/// `$VISUAL`, else `$EDITOR`, else `vi`, as words (no shell runs it).
fn editor_command() -> Result<Vec<String>, CliError> {
    let line = ["VISUAL", "EDITOR"]
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .find(|v| !v.trim().is_empty())
        .unwrap_or_else(|| "vi".into());
    let words = split_words(&line)
        .ok_or_else(|| CliError::usage(format!("cannot read the editor command {line:?}")))?;
    if words.is_empty() {
        return Err(CliError::usage("the editor command is empty"));
    }
    Ok(words)
}

/// Splits on whitespace, with `'…'` and `"…"` keeping spaces (no escapes, no expansion);
/// `None` for an unclosed quote.
pub fn split_words(line: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut quote: Option<char> = None;
    for c in line.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => word.get_or_insert_with(String::new).push(c),
            None if c == '\'' || c == '"' => {
                quote = Some(c);
                word.get_or_insert_with(String::new);
            }
            None if c.is_whitespace() => words.extend(word.take()),
            None => word.get_or_insert_with(String::new).push(c),
        }
    }
    if quote.is_some() {
        return None;
    }
    words.extend(word);
    Some(words)
}

/// Runs the editor on `file` with this terminal, and waits for it. Ctrl-C belongs to the
/// editor meanwhile (it reaches the whole foreground group): gate must not die under it and
/// leave the editor orphaned.
async fn run_editor(editor: &[String], file: &Path) -> Result<(), CliError> {
    let mut child = tokio::process::Command::new(&editor[0])
        .args(&editor[1..])
        .arg(file)
        .spawn()
        .map_err(|e| {
            CliError::failed(
                "editor_failed",
                format!("cannot start the editor {:?}: {e}", editor[0]),
            )
        })?;
    let status = loop {
        tokio::select! {
            status = child.wait() => break status?,
            _ = tokio::signal::ctrl_c() => continue,
        }
    };
    if !status.success() {
        return Err(CliError::failed(
            "editor_failed",
            format!("the editor exited with {status}: nothing was saved"),
        ));
    }
    Ok(())
}

fn hash_file(path: &Path) -> Result<String, CliError> {
    let mut file = std::fs::File::open(path).map_err(|e| io_failure(path, "cannot read", e))?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher).map_err(|e| io_failure(path, "cannot read", e))?;
    Ok(hex::encode(hasher.finalize()))
}

/// A folder only this user can enter, removed on drop unless kept.
struct PrivateDir {
    path: PathBuf,
    keep: bool,
}

impl PrivateDir {
    /// Keeps the folder (and the copy in it); its path.
    fn keep(mut self) -> PathBuf {
        self.keep = true;
        self.path.clone()
    }
}

impl Drop for PrivateDir {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

fn private_dir() -> Result<PrivateDir, CliError> {
    let tag = uuid::Uuid::new_v4().simple().to_string();
    let path = std::env::temp_dir().join(format!("gate-edit-{}", &tag[..12]));
    DirBuilder::new()
        .mode(0o700)
        .create(&path)
        .map_err(|e| io_failure(&path, "cannot create", e))?;
    Ok(PrivateDir { path, keep: false })
}

#[cfg(test)]
mod tests {
    use super::split_words;

    #[test]
    fn editor_commands_split_like_a_shell_without_one() {
        let words = |s: &str| split_words(s).unwrap();
        assert_eq!(words("vi"), ["vi"]);
        assert_eq!(words("  code  --wait "), ["code", "--wait"]);
        assert_eq!(
            words("'/opt/My Editor/bin/ed' -n \"a b\"c"),
            ["/opt/My Editor/bin/ed", "-n", "a bc"]
        );
        assert_eq!(words("ed ''"), ["ed", ""]);
        // No expansion of any kind: these are plain characters.
        assert_eq!(words("vi $HOME;rm"), ["vi", "$HOME;rm"]);
        assert_eq!(split_words("vi 'open"), None);
    }
}
