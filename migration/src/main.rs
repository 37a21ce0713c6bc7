//! `cargo run -p migration -- up` (or `down`, `status`, `fresh`…): sea-orm-cli's migrator front end.
//! It reads `DATABASE_URL` from the environment or `.env`.

#[tokio::main]
async fn main() {
    sea_orm_migration::cli::run_cli(migration::Migrator).await;
}
