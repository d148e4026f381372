use anyhow::Context;
use clap::Parser;
use haven::{
    cli::{read_password, Cli, Command, StaffAction},
    store::Store,
    telemetry, Application, Config,
};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let config = Config::load(cli.config.as_deref())?;
    telemetry::init(&config.log);
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
        Command::Staff {
            action:
                StaffAction::Add {
                    username,
                    role,
                    display_name,
                },
        } => {
            let password = read_password().context("could not read the password")?;
            let store = Store::open(&config.server.data_dir)?;
            let staff = store.add_staff(&username, &display_name, role, &password)?;
            println!(
                "Created {} ({}) with id {}.",
                staff.username,
                role.as_str(),
                staff.id
            );
        }
    }
    Ok(())
}
