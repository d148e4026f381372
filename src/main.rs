use anyhow::{bail, Context};
use clap::Parser;
use haven::{
    admin,
    cli::{read_password, Cli, Command, StaffAction},
    store::{audit::AuditEntry, StaffChange, Store},
    telemetry, Application, Config,
};

/// Every heap block is zeroed when it is freed, so a purged chat's text, a resume token or a
/// password does not linger in freed memory until something else happens to overwrite it.
/// Underneath, jemalloc, which hands freed pages back to the system (`haven::memory`).
#[global_allocator]
static ALLOCATOR: zeroizing_alloc::ZeroAlloc<tikv_jemallocator::Jemalloc> =
    zeroizing_alloc::ZeroAlloc(tikv_jemallocator::Jemalloc);

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let config = Config::load(cli.config.as_deref())?;
    telemetry::init(&config.log);
    haven::memory::return_freed_pages_in_background();
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let app = Application::build(config).await?;
            let shutdown = app.shutdown_handle();
            tokio::spawn(async move {
                haven::startup::shutdown_signal().await;
                shutdown.trigger();
            });
            app.run_until_stopped().await.context("server failed")?;
        }
        Command::Staff { action } => {
            let store = Store::connect(
                &config.store,
                &config.server.data_dir,
                std::time::Duration::from_millis(config.server.store_wait_ms),
            )?;
            staff(&store, action)?;
        }
    }
    Ok(())
}

/// The `haven staff …` verbs, straight on the store. Changes are audited as done from the
/// command line (no staff id).
fn staff(store: &Store, action: StaffAction) -> anyhow::Result<()> {
    let find = |username: &str| -> anyhow::Result<uuid::Uuid> {
        match store.account_by_username(username)? {
            Some(account) => Ok(account.staff.id),
            None => bail!("no staff member is called `{username}`"),
        }
    };
    let audit = |action: &str, target: uuid::Uuid, detail: Option<String>| {
        store.append_audit(&[AuditEntry {
            at: haven::auth::Clock::default().now(),
            actor: None,
            action: action.to_owned(),
            target: Some(target.to_string()),
            attempted_username: None,
            detail: Some(detail.unwrap_or_else(|| "cli".to_owned())),
        }])
    };
    let change = |username: &str, change: StaffChange, action: &str| -> anyhow::Result<()> {
        let id = find(username)?;
        admin::keeps_an_admin(store, id, &change)?;
        store.change_staff(id, &change)?;
        audit(action, id, None)?;
        Ok(())
    };
    match action {
        StaffAction::Add {
            username,
            role,
            display_name,
        } => {
            let password = read_password().context("could not read the password")?;
            let staff = store.add_staff(&username, &display_name, role, &password)?;
            audit("staff_added", staff.id, None)?;
            println!(
                "Created {} ({}) with id {}.",
                staff.username,
                role.as_str(),
                staff.id
            );
        }
        StaffAction::List => {
            for a in store.list_staff()? {
                println!(
                    "{}\t{}\t{}\t{}{}",
                    a.staff.username,
                    a.staff.role.as_str(),
                    a.staff.display_name,
                    if a.disabled { "disabled" } else { "enabled" },
                    if a.must_change_password {
                        ", must change password"
                    } else {
                        ""
                    }
                );
            }
        }
        StaffAction::Disable { username } => {
            change(&username, StaffChange::Disabled(true), "staff_disabled")?;
            println!("Disabled {username}; their sessions have ended.");
        }
        StaffAction::Enable { username } => {
            change(&username, StaffChange::Disabled(false), "staff_enabled")?;
            println!("Enabled {username}.");
        }
        StaffAction::ResetPassword { username } => {
            let password = admin::temporary_password();
            change(
                &username,
                StaffChange::Password {
                    password: password.clone(),
                    temporary: true,
                },
                "password_reset",
            )?;
            println!("Temporary password for {username} (must be changed at the next login):");
            println!("{password}");
        }
        StaffAction::SetRole { username, role } => {
            change(&username, StaffChange::Role(role), "role_changed")?;
            println!(
                "{username} is now {}; their sessions have ended.",
                role.as_str()
            );
        }
        StaffAction::RevokeSessions { username } => {
            let id = find(&username)?;
            let ended = store.delete_sessions_of(id)?;
            audit("sessions_revoked", id, None)?;
            println!("Ended {ended} session(s) of {username}.");
        }
    }
    Ok(())
}
