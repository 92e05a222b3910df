"""Background worker: delivery tracking, AlimTalk fallback, retention, template sync."""
