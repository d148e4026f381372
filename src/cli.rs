//! The command line: `haven serve` (the default) and `haven staff add|list|disable|enable|
//! reset-password|set-role|revoke-sessions` (for the first admin, and when the web is down).

use std::{io::BufRead, path::PathBuf};

use clap::{Parser, Subcommand};

use crate::staff::Role;

#[derive(Debug, Parser)]
#[command(
    name = "haven",
    version,
    about = "Anonymous live chat for advocacy programs"
)]
pub struct Cli {
    /// A TOML file with the settings to change from config/default.toml.
    #[arg(long, global = true, env = "HAVEN_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (the default).
    Serve,
    /// Manage staff accounts.
    Staff {
        #[command(subcommand)]
        action: StaffAction,
    },
}

#[derive(Debug, Subcommand)]
pub enum StaffAction {
    /// Create an account. The password is read from the prompt, or from stdin when piped;
    /// never from the command line, where other users could see it.
    Add {
        /// Login name.
        username: String,
        #[arg(long, value_enum)]
        role: Role,
        /// The name chatters see (default "Advocate"). Use a first name or a pseudonym.
        #[arg(long, default_value = "Advocate")]
        display_name: String,
    },
    /// List accounts: user name, role, display name, state.
    List,
    /// Disable an account: it cannot log in and its sessions end (an open console closes
    /// within 30 seconds).
    Disable { username: String },
    /// Enable a disabled account again.
    Enable { username: String },
    /// Give an account a new temporary password (printed once; it must be changed at the next
    /// login). Its sessions end.
    ResetPassword { username: String },
    /// Change an account's role. Its sessions end.
    SetRole {
        username: String,
        #[arg(value_enum)]
        role: Role,
    },
    /// End every session of an account.
    RevokeSessions { username: String },
}

/// Reads a password from the terminal without echo, or one line from piped stdin.
pub fn read_password() -> std::io::Result<zeroize::Zeroizing<String>> {
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() {
        let first = zeroize::Zeroizing::new(rpassword::prompt_password("Password: ")?);
        let again = zeroize::Zeroizing::new(rpassword::prompt_password("Again: ")?);
        if *first != *again {
            return Err(std::io::Error::other("the passwords differ"));
        }
        Ok(first)
    } else {
        let mut line = zeroize::Zeroizing::new(String::new());
        std::io::stdin().lock().read_line(&mut line)?;
        let trimmed = line.trim_end_matches(['\r', '\n']).to_owned();
        Ok(zeroize::Zeroizing::new(trimmed))
    }
}
