//! The workspace's settings (superusers change them).

use super::Client;
use crate::error::ClientError;
use gatehouse_shared::settings::{Settings, SettingsPatch};

impl Client {
    /// `GET /api/settings`.
    pub async fn settings(&self) -> Result<Settings, ClientError> {
        self.get("/api/settings", Vec::new()).await
    }

    /// `PATCH /api/settings`: only the settings given change.
    pub async fn update_settings(&self, patch: &SettingsPatch) -> Result<Settings, ClientError> {
        self.patch("/api/settings", patch).await
    }
}
